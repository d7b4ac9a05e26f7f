"""The product's main job: build wheels of SPy packages, check them with the
real tools, install them into fresh virtual environments and call them on
both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

import spy_abi
import spy_runtime
from spy_runtime import ABI_VERSION
from wheelkit import (
    SAMPLES,
    Venv,
    build_wheel,
    installed_env,
    make_venv,
    memory_meters,
    run,
    try_build,
)

HELLO = SAMPLES / "hello"
ABI = "{}.{}".format(*ABI_VERSION)
NATIVE_TAG = "cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="native wheels are Linux-only so far"
)


@pytest.fixture(scope="session")
def hello_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(HELLO, tmp_path_factory.mktemp("hello-wheel"))


@pytest.fixture(scope="session")
def hello_wasm_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(
        HELLO, tmp_path_factory.mktemp("hello-wasm-wheel"), env={"HATCH_SPY_TARGETS": "wasm"}
    )


@pytest.fixture(scope="session")
def full_env(
    tmp_path_factory: pytest.TempPathFactory, hello_wheel: Path, local_wheels: Path
) -> Venv:
    """hello with spy-runtime[wasm]: both backends available."""
    return installed_env(
        tmp_path_factory, "full", local_wheels, str(hello_wheel), "spy-runtime[wasm]"
    )


@pytest.fixture(scope="session")
def native_only_env(
    tmp_path_factory: pytest.TempPathFactory, hello_wheel: Path, local_wheels: Path
) -> Venv:
    """hello as its wheel requires it: no wasmtime."""
    return installed_env(tmp_path_factory, "native", local_wheels, str(hello_wheel))


@pytest.fixture(scope="session")
def wasm_only_env(
    tmp_path_factory: pytest.TempPathFactory, hello_wasm_wheel: Path, local_wheels: Path
) -> Venv:
    return installed_env(tmp_path_factory, "wasm", local_wheels, str(hello_wasm_wheel))


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return sorted(zf.namelist())


def wheel_text(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(name).decode()


# ---- the wheel ----------------------------------------------------------------


def test_default_wheel_is_abi3_manylinux_with_everything_inside(hello_wheel: Path) -> None:
    assert hello_wheel.name == f"hello_spy-0.1.0-{NATIVE_TAG}.whl"
    assert wheel_names(hello_wheel) == sorted(
        [
            "hello/__init__.py",
            "hello/core.spy",
            "hello/core.py",
            "hello/core.pyi",
            "hello/py.typed",
            "hello/_spy.wasm",
            "hello/_spy_native.abi3.so",
            "hello_spy-0.1.0.dist-info/METADATA",
            "hello_spy-0.1.0.dist-info/RECORD",
            "hello_spy-0.1.0.dist-info/WHEEL",
            "hello_spy-0.1.0.dist-info/spy-abi.json",
        ]
    )
    wheel_meta = wheel_text(hello_wheel, "hello_spy-0.1.0.dist-info/WHEEL")
    assert "Root-Is-Purelib: false" in wheel_meta
    metadata = wheel_text(hello_wheel, "hello_spy-0.1.0.dist-info/METADATA")
    assert (
        f"Requires-Dist: spy-runtime<1,>={ABI}" in metadata
        or f"Requires-Dist: spy-runtime>={ABI},<1" in metadata
    )
    assert "wasmtime" not in metadata


def test_wasm_only_wheel_is_portable_and_requires_the_wasm_extra(hello_wasm_wheel: Path) -> None:
    assert hello_wasm_wheel.name == "hello_spy-0.1.0-py3-none-any.whl"
    names = wheel_names(hello_wasm_wheel)
    assert "hello/_spy.wasm" in names
    assert not any(n.endswith(".so") for n in names)
    metadata = wheel_text(hello_wasm_wheel, "hello_spy-0.1.0.dist-info/METADATA")
    assert any(
        line.startswith("Requires-Dist: spy-runtime[wasm]") and ABI in line and "<1" in line
        for line in metadata.splitlines()
    )
    assert "Root-Is-Purelib: true" in wheel_text(
        hello_wasm_wheel, "hello_spy-0.1.0.dist-info/WHEEL"
    )


@pytest.mark.parametrize("checker", ["auditwheel", "abi3audit", "check-wheel-contents", "twine"])
def test_real_checkers_pass(hello_wheel: Path, hello_wasm_wheel: Path, checker: str) -> None:
    bindir = Path(sys.executable).parent
    if checker == "auditwheel":
        out = run([str(bindir / "auditwheel"), "show", str(hello_wheel)]).stdout
        assert 'consistent with the following platform tag:\n"manylinux_2_17_x86_64"' in " ".join(
            out.split(" ")
        )
    elif checker == "abi3audit":
        out = run([str(bindir / "abi3audit"), "--strict", "--report", str(hello_wheel)]).stdout
        (result,) = json.loads(out)["specs"][str(hello_wheel)]["wheel"]
        assert result["result"]["is_abi3"] and result["result"]["non_abi3_symbols"] == []
        assert result["result"]["computed"] == "3.10"
    elif checker == "check-wheel-contents":
        for wheel in (hello_wheel, hello_wasm_wheel):
            run([str(bindir / "check-wheel-contents"), str(wheel)])
    else:
        run([str(bindir / "twine"), "check", "--strict", str(hello_wheel), str(hello_wasm_wheel)])


def test_spy_abi_json_follows_its_schema(hello_wheel: Path) -> None:
    text = wheel_text(hello_wheel, "hello_spy-0.1.0.dist-info/spy-abi.json")
    schema = json.loads(spy_abi.schema_path().read_text())
    jsonschema.validate(json.loads(text), schema)
    abi = spy_abi.from_json(text)
    assert (abi.name, abi.version, abi.runtime_abi) == ("hello-spy", "0.1.0", ABI_VERSION)
    (core,) = abi.modules
    assert core.name == "hello.core" and core.source == "hello/core.spy"
    add = next(f for f in core.functions if f.name == "add")
    assert [(p.name, p.type.name) for p in add.params] == [("x", "i32"), ("y", "i32")]
    assert add.returns.name == "i32"
    assert add.symbols == {"native": "spy_hello$core$add", "wasm": "spy_hello$core$add"}
    assert "_helper" not in {f.name for f in core.functions}
    assert {a.target for a in abi.artifacts} == {"native", "wasm"}
    with zipfile.ZipFile(hello_wheel) as zf:
        import hashlib

        for art in abi.artifacts:
            assert hashlib.sha256(zf.read(art.path)).hexdigest() == art.sha256
    assert abi.toolchain.zig and abi.toolchain.hatch_spy == "0.1.0"


def test_builds_are_byte_identical(tmp_path: Path) -> None:
    # independent compile caches, so the compiler's output is compared too
    wheels = [
        build_wheel(
            HELLO,
            tmp_path / f"out{i}",
            env={
                "SOURCE_DATE_EPOCH": "1700000000",
                "HATCH_SPY_CACHE_DIR": str(tmp_path / f"cache{i}"),
            },
        )
        for i in (1, 2)
    ]
    assert wheels[0].read_bytes() == wheels[1].read_bytes()


def test_sdist_carries_the_sources_and_builds_the_same_wheel(tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    run([sys.executable, "-m", "build", "--no-isolation", "-o", str(tmp_path), str(HELLO)], env=env)
    (sdist,) = tmp_path.glob("*.tar.gz")
    import tarfile

    with tarfile.open(sdist) as tf:
        assert any(n.endswith("src/hello/core.spy") for n in tf.getnames())
    (from_sdist,) = tmp_path.glob("*.whl")  # python -m build makes the wheel from the sdist
    direct = build_wheel(HELLO, tmp_path / "direct", env=env)
    assert from_sdist.read_bytes() == direct.read_bytes()


# ---- installed, on both backends ------------------------------------------------

BEHAVIOUR = """
import hello, hello.core
results = [hello.core.__spy_backend__]
def attempt(f, *args, **kwargs):
    try:
        results.append(repr(f(*args, **kwargs)))
    except Exception as e:
        results.append(f"{type(e).__name__}: {e} @ {getattr(e, 'spy_file', '')}:{getattr(e, 'spy_line', '')}")
attempt(hello.add, 2, 3)
attempt(hello.add, x=-7, y=3)
attempt(hello.add, 2147483647, 1)
attempt(hello.fib, 90)
attempt(hello.greet, "wörld")
attempt(hello.clamp, 5, 0.0, 1.5)
attempt(hello.mean_of_squares, 4)
attempt(hello.safe_div, 7, -2)
attempt(hello.safe_div, 1, 0)
attempt(hello.greet, "")
attempt(hello.clamp, 0.0, 2.0, 1.0)
attempt(hello.add, "1", 2)
attempt(hello.add, 1.0, 2)
attempt(hello.add, 2**31, 0)
attempt(hello.add, -2**31 - 1, 0)
attempt(hello.add, 1)
attempt(hello.add, 1, 2, 3)
attempt(hello.add, 1, y=2, x=3)
attempt(hello.add, 1, z=3)
attempt(hello.clamp, "x", 0.0, 1.0)
attempt(hello.greet, 5)
attempt(hello.add, True, 1)
attempt(hello.add, 3, 4)  # still usable after panics
print("\\n".join(results))
"""

EXPECTED = [
    "5",
    "-4",
    "-2147483648",
    "2880067194370816120",
    "'Hello, wörld!'",
    "1.5",
    "7.5",
    "-4",
    "ZeroDivisionError: safe_div() needs a non-zero divisor @ hello/core.spy:24",
    "ValueError: name must not be empty @ hello/core.spy:30",
    "AssertionError: lo must not exceed hi @ hello/core.spy:35",
    "TypeError: add() argument 'x' must be int, not str @ :",
    "TypeError: add() argument 'x' must be int, not float @ :",
    "OverflowError: add() argument 'x' is out of range for i32: 2147483648 @ :",
    "OverflowError: add() argument 'x' is out of range for i32: -2147483649 @ :",
    "TypeError: add() missing 1 required positional argument: 'y' @ :",
    "TypeError: add() takes 2 positional arguments but 3 were given @ :",
    "TypeError: add() got multiple values for argument 'x' @ :",
    "TypeError: add() got an unexpected keyword argument 'z' @ :",
    "TypeError: clamp() argument 'x' must be float, not str @ :",
    "TypeError: greet() argument 'name' must be str, not int @ :",
    "2",
    "7",
]


@pytest.mark.parametrize("backend", ["native", "wasm"])
def test_installed_wheel_behaves_the_same_on_both_backends(full_env: Venv, backend: str) -> None:
    out = full_env.run_script(BEHAVIOUR, env={"SPY_BACKEND": backend}).stdout.splitlines()
    assert out == [backend, *EXPECTED]


def test_auto_backend_prefers_native(full_env: Venv) -> None:
    out = full_env.run_script(
        "import hello.core; print(hello.core.__spy_backend__)", env={"SPY_BACKEND": "auto"}
    )
    assert out.stdout.strip() == "native"


def test_wasm_only_wheel_runs_on_wasm_and_refuses_native(wasm_only_env: Venv) -> None:
    out = wasm_only_env.run_script(BEHAVIOUR).stdout.splitlines()
    assert out == ["wasm", *EXPECTED]
    proc = wasm_only_env.run_script("import hello", env={"SPY_BACKEND": "native"}, check=False)
    assert proc.returncode == 1
    assert (
        "ImportError: hello.core: SPY_BACKEND=native, but this installation of hello-spy has no native "
        "extension; install a hello-spy wheel built for this platform, or use SPY_BACKEND=wasm"
    ) in proc.stderr


def test_wasm_backend_without_wasmtime_says_how_to_get_it(native_only_env: Venv) -> None:
    assert native_only_env.run_script("import hello; print(hello.add(1, 2))").stdout == "3\n"
    proc = native_only_env.run_script("import hello", env={"SPY_BACKEND": "wasm"}, check=False)
    assert (
        "ImportError: hello.core runs on the wasm backend here, which needs wasmtime: pip install 'spy-runtime[wasm]'"
        in proc.stderr
    )


def test_bad_backend_name_is_an_import_error(full_env: Venv) -> None:
    proc = full_env.run_script("import hello", env={"SPY_BACKEND": "gpu"}, check=False)
    assert "ImportError: SPY_BACKEND must be one of auto, native, wasm, not 'gpu'" in proc.stderr


def test_panic_traceback_shows_the_spy_source_line(full_env: Venv) -> None:
    for backend in ("native", "wasm"):
        proc = full_env.run_script(
            "import hello\nhello.safe_div(1, 0)", env={"SPY_BACKEND": backend}, check=False
        )
        tail = proc.stderr.splitlines()[-3:]
        assert tail[0].endswith('hello/core.spy", line 24, in <module>')
        assert tail[1].strip() == 'raise ZeroDivisionError("safe_div() needs a non-zero divisor")'
        assert tail[2] == "ZeroDivisionError: safe_div() needs a non-zero divisor"


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_damaged_artifact_is_refused(full_env: Venv, target: str) -> None:
    name = "_spy_native.abi3.so" if target == "native" else "_spy.wasm"
    path = full_env.site_packages() / "hello" / name
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\0")
        proc = full_env.run_script("import hello", env={"SPY_BACKEND": target}, check=False)
        assert (
            f"ImportError: {path} does not match its sha256 in hello-spy's spy-abi.json"
            in proc.stderr
        )
        assert "reinstall hello-spy" in proc.stderr
    finally:
        path.write_bytes(original)


def test_incompatible_runtime_abi_is_refused(full_env: Venv) -> None:
    (dist_info,) = full_env.site_packages().glob("hello_spy-*.dist-info")
    path = dist_info / "spy-abi.json"
    original = path.read_text()
    try:
        path.write_text(original.replace(f'"runtime_abi": "{ABI}"', '"runtime_abi": "1.0"'))
        proc = full_env.run_script("import hello", check=False)
        assert (
            f"was compiled for SPy runtime ABI 1.0, but the installed spy-runtime "
            f"{spy_runtime.__version__} provides ABI {ABI}" in proc.stderr
        )
        assert "install 'spy-runtime>=1.0,<2'" in proc.stderr
    finally:
        path.write_text(original)


def test_format_1_metadata_still_loads(full_env: Venv) -> None:
    """A wheel built before structs (spy-abi.json format 1) imports and runs:
    a scalar-only document of format 2 differs from format 1 only in its
    version number, hashes included."""
    (dist_info,) = full_env.site_packages().glob("hello_spy-*.dist-info")
    path = dist_info / "spy-abi.json"
    original = path.read_text()
    try:
        path.write_text(original.replace('"format_version": 2', '"format_version": 1'))
        assert spy_abi.from_json(path.read_text()).format_version == 1
        for backend in ("native", "wasm"):
            proc = full_env.run_script(
                "import hello; print(hello.add(2, 3))", env={"SPY_BACKEND": backend}
            )
            assert proc.stdout == "5\n"
    finally:
        path.write_text(original)


def test_stubs_let_mypy_check_callers(full_env: Venv, tmp_path: Path) -> None:
    caller = tmp_path / "caller.py"
    caller.write_text(
        "import hello.core\n\nx: int = hello.core.add(1, 2)\ny: str = hello.core.add(1, 2)\nhello.core.greet(3)\n"
    )
    proc = run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            full_env.python,
            "--no-incremental",
            str(caller),
        ],
        check=False,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, proc.stdout
    assert "caller.py:4:" in errors[0] and "caller.py:5:" in errors[1]


def test_ctrl_c_interrupts_a_long_wasm_call(full_env: Venv) -> None:
    script = """
    import sys, time, hello
    hello.add(1, 2)
    print("ready", flush=True)
    try:
        hello.collatz_total(10**12)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print("still works:", hello.add(2, 3), flush=True)
    """
    import textwrap

    proc = subprocess.Popen(
        [full_env.python, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SPY_BACKEND": "wasm"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert out == "interrupted\nstill works: 5\n", err
    assert proc.returncode == 0


def test_pip_install_of_the_project_folder_with_build_isolation(
    tmp_path: Path, local_wheels: Path
) -> None:
    # the isolated build environment gets hatchling from the index and
    # hatch-spy (with spy-runtime, spy-abi, spy-linker) from our local wheels
    env = make_venv(tmp_path / "venv")
    env.pip_install(str(HELLO), find_links=local_wheels)
    out = env.run_script("import hello; print(hello.greet('pip'), hello.core.__spy_backend__)")
    assert out.stdout == "Hello, pip! native\n"


# ---- every frontend gives the same wheel ------------------------------------------


def test_uv_build_gives_the_same_wheel(tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000", "VIRTUAL_ENV": sys.prefix}
    uv = str(Path(sys.executable).parent / "uv")
    run(
        [uv, "build", "--wheel", "--no-build-isolation", "-o", str(tmp_path / "uv"), str(HELLO)],
        env=env,
    )
    (by_uv,) = (tmp_path / "uv").glob("*.whl")
    reference = build_wheel(HELLO, tmp_path / "ref", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert by_uv.name == reference.name
    assert by_uv.read_bytes() == reference.read_bytes()


def test_hatch_build_gives_the_same_wheel(tmp_path: Path, local_wheels: Path) -> None:
    # hatch makes its own build environment; our distributions come from local wheels
    env = {
        "SOURCE_DATE_EPOCH": "1700000000",
        "UV_FIND_LINKS": str(local_wheels),
        "PIP_FIND_LINKS": str(local_wheels),
        "HATCH_DATA_DIR": str(tmp_path / "hatch-data"),
    }
    hatch = str(Path(sys.executable).parent / "hatch")
    run([hatch, "build", "-t", "wheel", str(tmp_path / "hatch")], env=env, cwd=HELLO)
    (by_hatch,) = (tmp_path / "hatch").glob("*.whl")
    reference = build_wheel(HELLO, tmp_path / "ref", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert by_hatch.read_bytes() == reference.read_bytes()


# ---- a package laid out differently -------------------------------------------------

GEOM = {
    "pyproject.toml": """\
        [build-system]
        requires = ["hatchling", "hatch-spy"]
        build-backend = "hatchling.build"

        [project]
        name = "geom-tools"
        version = "2.3.0"
        description = "Geometry helpers"
        readme = "README.md"
        requires-python = ">=3.10"

        [tool.hatch.build.targets.wheel]
        packages = ["geomtools"]

        [tool.hatch.build.targets.wheel.hooks.spy]
        opt-level = "3"
        """,
    "README.md": "# geom-tools\n\nGeometry helpers written in SPy.\n",
    "geomtools/__init__.py": '"""Geometry."""\n\nfrom geomtools.shapes import area, perimeter\n\n__all__ = ["area", "perimeter"]\n',
    "geomtools/pure.py": "def double(x: float) -> float:\n    return 2 * x\n",
    "geomtools/shapes.spy": """\
        from .util.numeric import sq, check_positive

        def area(w: f64, h: f64) -> f64:
            check_positive(w)
            check_positive(h)
            return w * h

        def perimeter(w: f64, h: f64) -> f64:
            return 2.0 * (w + h)

        def diag2(w: f64, h: f64) -> f64:
            return sq(w) + sq(h)
        """,
    "geomtools/util/__init__.py": "",
    "geomtools/util/numeric.spy": """\
        def sq(x: f64) -> f64:
            return x * x

        def check_positive(x: f64) -> None:
            if x <= 0.0:
                raise ValueError("expected a positive length, got " + str(x))

        def checked_index(i: i64, n: i64) -> i64:
            if i < 0 or i >= n:
                raise IndexError("index " + str(i) + " out of range")
            return i
        """,
}

GEOM_SCRIPT = """
import geomtools, geomtools.pure
from geomtools.util import numeric
from geomtools import shapes
out = [geomtools.area(2.0, 3.5), geomtools.perimeter(1, 2), shapes.diag2(3.0, 4.0), numeric.sq(1.5), geomtools.pure.double(4.0), numeric.checked_index(3, 5)]
for f, args in [(geomtools.area, (-1.0, 2.0)), (numeric.checked_index, (7, 5)), (shapes.area, ("a", 1.0))]:
    try:
        f(*args)
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}")
print(out)
"""


def write_project(root: Path, files: dict[str, str]) -> Path:
    import textwrap

    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_differently_laid_out_package_builds_checks_installs_and_runs(
    tmp_path: Path, local_wheels: Path
) -> None:
    project = write_project(tmp_path / "geom", GEOM)
    wheel = build_wheel(project, tmp_path / "dist")
    assert wheel.name == f"geom_tools-2.3.0-{NATIVE_TAG}.whl"
    names = wheel_names(wheel)
    for expected in (
        "geomtools/pure.py",
        "geomtools/shapes.spy",
        "geomtools/shapes.py",
        "geomtools/shapes.pyi",
        "geomtools/util/numeric.spy",
        "geomtools/util/numeric.py",
        "geomtools/util/numeric.pyi",
        "geomtools/_spy_native.abi3.so",
        "geomtools/_spy.wasm",
        "geom_tools-2.3.0.dist-info/spy-abi.json",
    ):
        assert expected in names
    bindir = Path(sys.executable).parent
    run([str(bindir / "auditwheel"), "show", str(wheel)])
    run([str(bindir / "abi3audit"), "--strict", str(wheel)])
    run([str(bindir / "check-wheel-contents"), str(wheel)])
    run([str(bindir / "twine"), "check", "--strict", str(wheel)])
    abi = spy_abi.from_json(wheel_text(wheel, "geom_tools-2.3.0.dist-info/spy-abi.json"))
    assert [m.name for m in abi.modules] == ["geomtools.shapes", "geomtools.util.numeric"]
    assert "-O3" in abi.toolchain.flags
    env = make_venv(tmp_path / "venv")
    env.pip_install(str(wheel), "spy-runtime[wasm]", find_links=local_wheels)
    outputs = {
        b: env.run_script(GEOM_SCRIPT, env={"SPY_BACKEND": b}).stdout for b in ("native", "wasm")
    }
    assert outputs["native"] == outputs["wasm"]
    assert outputs["native"].strip() == str(
        [
            7.0,
            6.0,
            25.0,
            2.25,
            8.0,
            3,
            "ValueError: expected a positive length, got -1.0",
            "IndexError: index 7 out of range",
            "TypeError: area() argument 'w' must be float, not str",
        ]
    )


def test_compile_error_fails_the_build_cleanly(tmp_path: Path) -> None:
    files = dict(GEOM)
    files["geomtools/shapes.spy"] = "def area(w: f64, h: f64) -> f64:\n    return w * undefined\n"
    project = write_project(tmp_path / "bad", files)
    out = tmp_path / "dist"
    proc = try_build(project, out)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "geomtools/shapes.spy:2:16: error: name 'undefined' is not defined" in text
    assert "    return w * undefined\n" in text and "               ^" in text
    assert "Traceback" not in text
    assert not out.exists() or list(out.glob("*.whl")) == []


# What each frontend prints after the backend's own output (docs/architecture.md).
FRONTEND_TAILS = {
    "build": "ERROR Backend subprocess exited when trying to invoke build_wheel",
    "pip": "note: This error originates from a subprocess",
    "uv": "The build backend returned an error",
    "hatch": None,  # nothing: the error is the last thing printed
}


def frontend_build(
    frontend: str, project: Path, out: Path, local_wheels: Path
) -> subprocess.CompletedProcess[str]:
    bindir = Path(sys.executable).parent
    if frontend == "build":
        return try_build(project, out)
    if frontend == "pip":
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps"]
        return run([*cmd, "-w", str(out), str(project)], check=False)
    if frontend == "uv":
        cmd = [str(bindir / "uv"), "build", "--wheel", "--no-build-isolation", "-o", str(out)]
        return run([*cmd, str(project)], env={"VIRTUAL_ENV": sys.prefix}, check=False)
    env = {
        "UV_FIND_LINKS": str(local_wheels),
        "PIP_FIND_LINKS": str(local_wheels),
        "HATCH_DATA_DIR": str(out.parent / "hatch-data"),
    }
    return run(
        [str(bindir / "hatch"), "build", "-t", "wheel", str(out)], env=env, cwd=project, check=False
    )


@pytest.mark.parametrize("frontend", sorted(FRONTEND_TAILS))
def test_compile_error_is_the_last_thing_each_frontend_shows(
    tmp_path: Path, frontend: str, request: pytest.FixtureRequest
) -> None:
    files = dict(GEOM)
    files["geomtools/shapes.spy"] = "def area(w: f64, h: f64) -> f64:\n    return w * nope\n"
    project = write_project(tmp_path / "bad", files)
    local_wheels = request.getfixturevalue("local_wheels") if frontend == "hatch" else tmp_path
    proc = frontend_build(frontend, project, tmp_path / "dist", local_wheels)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text
    error = "geomtools/shapes.spy:2:16: error: name 'nope' is not defined"
    assert error in text, text
    after = text[text.index(error) :]
    tail = FRONTEND_TAILS[frontend]
    if tail is None:
        assert after.rstrip().endswith("^"), text
    else:
        # between our error and the frontend's own closing words: nothing of ours
        assert tail in after and "hatch" not in after.split(tail)[0].lower(), text


def test_init_spy_is_a_clear_build_error(tmp_path: Path) -> None:
    files = dict(GEOM)
    files["geomtools/__init__.py"] = ""
    files["geomtools/util/__init__.spy"] = "def f() -> i32:\n    return 1\n"
    del files["geomtools/util/__init__.py"]
    project = write_project(tmp_path / "init", files)
    proc = try_build(project, tmp_path / "dist")
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text
    assert (
        "hatch-spy: error: geomtools/util/__init__.spy: a .spy file cannot be a package's "
        "__init__; put the functions in a module such as geomtools/util/core.spy" in text
    ), text


def test_bad_hook_option_is_a_clear_error(tmp_path: Path) -> None:
    files = dict(GEOM)
    files["pyproject.toml"] = GEOM["pyproject.toml"].replace('opt-level = "3"', 'targets = ["gpu"]')
    project = write_project(tmp_path / "badopt", files)
    proc = try_build(project, tmp_path / "d")
    assert proc.returncode != 0
    assert (
        "targets must be a non-empty list of native and wasm, got ['gpu']"
        in proc.stdout + proc.stderr
    )
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("backend", ["native", "wasm"])
def test_editable_install(tmp_path: Path, local_wheels: Path, backend: str) -> None:
    # pip install -e with build isolation: Python sources from the project tree,
    # compiled modules from hatch-spy's build folder, through the import hook
    env = make_venv(tmp_path / "venv")
    env.pip_install("-e", str(HELLO), "spy-runtime[wasm]", find_links=local_wheels)
    script = """
    import hello, hello.core
    print(hello.__file__, hello.core.__spy_backend__, hello.greet("editable"), hello.add(2, 3))
    """
    out = env.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    assert out == [
        str(HELLO / "src" / "hello" / "__init__.py"),
        backend,
        "Hello,",
        "editable!",
        "5",
    ]
    assert not (HELLO / "src" / "hello" / "core.py").exists()  # the tree gets no generated files


@pytest.mark.parametrize("backend", ["native", "wasm"])
def test_print_in_compiled_code_goes_to_sys_stdout(full_env: Venv, backend: str) -> None:
    script = """
    import contextlib, io, hello
    print("python before")
    hello.report("x", 0.5)
    print("python after")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        hello.report("captured", 2.0)
    print(repr(buf.getvalue()))
    """
    out = full_env.run_script(script, env={"SPY_BACKEND": backend}).stdout
    assert out.splitlines() == ["python before", "x = 0.5", "python after", "'captured = 2.0\\n'"]


@pytest.mark.parametrize("backend", ["native", "wasm"])
def test_strings_made_during_calls_are_freed(full_env: Venv, backend: str) -> None:
    # each call makes temporaries (argument copy, two concatenations): they are
    # freed when the next call starts, so memory stays flat
    script = memory_meters("hello") + textwrap.dedent(
        """
        import hello, hello.core
        for _ in range(2000):
            hello.greet("warm up")
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(200000):
            hello.greet("world")
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, full_env.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0  # wasm linear memory: exact
    assert grown_mb < 8  # leaking, this grew by about 28 MB


@pytest.mark.parametrize("backend", ["native", "wasm"])
def test_str_global_keeps_its_value_across_calls(full_env: Venv, backend: str) -> None:
    script = """
    import hello
    names = ["ann", "bob" * 50, "cy"]
    print([hello.remember(n) for n in names], hello.greet("x" * 100)[:9], hello.remember("z"))
    """
    out = full_env.run_script(script, env={"SPY_BACKEND": backend}).stdout.strip()
    assert out == str(["nobody", "ann", "bob" * 50]) + " Hello, xx cy"


@pytest.mark.parametrize("how", ["pyproject", "env"])
def test_search_paths_find_imported_modules_outside_the_package(
    tmp_path: Path, local_wheels: Path, how: str
) -> None:
    files = dict(GEOM)
    files["shared/units.spy"] = "def inches(cm: f64) -> f64:\n    return cm / 2.54\n"
    files["geomtools/shapes.spy"] = textwrap.dedent(GEOM["geomtools/shapes.spy"]) + (
        "\nimport units\n\ndef area_in(w: f64, h: f64) -> f64:\n    return units.inches(w) * units.inches(h)\n"
    )
    env: dict[str, str] = {}
    if how == "pyproject":
        files["pyproject.toml"] = GEOM["pyproject.toml"].replace(
            'opt-level = "3"', 'search-paths = ["shared"]'
        )
    else:
        env["HATCH_SPY_SEARCH_PATHS"] = "shared"
    project = write_project(tmp_path / "geom", files)
    proc = try_build(project, tmp_path / "dist", env=env)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    abi = spy_abi.from_json(wheel_text(wheel, "geom_tools-2.3.0.dist-info/spy-abi.json"))
    assert [m.name for m in abi.modules] == ["geomtools.shapes", "geomtools.util.numeric"]
    venv = make_venv(tmp_path / "venv")
    venv.pip_install(str(wheel), find_links=local_wheels)
    out = venv.run_script("from geomtools import shapes; print(shapes.area_in(2.54, 5.08))")
    assert out.stdout.strip() == "2.0"


def test_the_runtime_abi_is_one_fact_in_python_and_in_spy_h() -> None:
    """spy_runtime.ABI_VERSION and libspy's SPY_RUNTIME_ABI_* must agree (they
    had drifted: 0.2 in Python, 0.1 in spy.h)."""
    import re

    import spy_runtime

    header = (spy_runtime.libspy_dir() / "include" / "spy.h").read_text()
    found = dict(re.findall(r"#define SPY_RUNTIME_ABI_(MAJOR|MINOR) (\d+)", header))
    assert (int(found["MAJOR"]), int(found["MINOR"])) == ABI_VERSION
