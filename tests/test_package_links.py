"""Packages built on SPy packages, end to end: sample-packages/geometry uses
spyvecmath's Vec3 and functions. Its wheel is built with link = "static" and
with link = "dynamic" in an environment where spyvecmath's wheel is
installed; both are installed from local wheels into fresh environments and
called on both backends. Then spyvecmath is replaced by releases that add a
function (geometry still works), that change a signature geometry uses in a
patch release, or a struct in a breaking one (geometry's import is refused,
on both backends, naming both packages, the symbol and the versions)."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

import spy_abi
from wheelkit import SAMPLES, Venv, build_wheel, installed_env

BUILD = """
import subprocess, sys
proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                       "-o", {out!r}, {project!r}], capture_output=True, text=True)
print(proc.stdout + proc.stderr)
sys.exit(proc.returncode)
"""


def build_in(env: Venv, project: Path, out: Path, variables: dict[str, str] | None = None) -> Path:
    """Build `project`'s wheel with the hatch-spy and SPy packages of `env`."""
    out.mkdir(parents=True, exist_ok=True)
    env.run_script(BUILD.format(out=str(out), project=str(project)), env=variables)
    (wheel,) = out.glob("*.whl")
    return wheel


def vecmath_release(tmp: Path, version: str, edit: dict[str, tuple[str, str]]) -> Path:
    """A copy of sample-packages/vecmath at `version`, with `edit` applied:
    file -> (old text, new text)."""
    project = tmp / f"vecmath-{version}"
    shutil.copytree(SAMPLES / "vecmath", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('version = "0.1.0"', f'version = "{version}"')
    )
    for name, (old, new) in edit.items():
        path = project / "src" / "vecmath" / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return project


RELEASES: dict[str, dict[str, tuple[str, str]]] = {
    # adds a function: compatible
    "0.1.1": {
        "vec.spy": (
            "def dot(",
            "def lerp(a: Vec3, b: Vec3, t: f64) -> Vec3:\n    return a + (b - a) * t\n\n\ndef dot(",
        )
    },
    # a patch release that (wrongly) changes a signature geometry uses
    "0.1.2": {
        "vec.spy": ("def describe(a: Vec3) -> str:", 'def describe(a: Vec3, tag: str = "") -> str:')
    },
    # a breaking release: Vec3's fields in another order
    "0.2.0": {"vec.spy": ("    x: f64\n    y: f64\n", "    y: f64\n    x: f64\n")},
    # compatible, and portable only (built for wasm)
    "0.1.3": {},
}

GEOMETRY_CHECK = """
import geometry.shapes as g
Vec3 = g.Vec3
print(g.path_length([0.0, 3.0, 3.0], [0.0, 4.0, 4.0], [0.0, 0.0, 2.0]))
print(g.heading(Vec3(0.0, 0.0, 0.0), Vec3(0.0, 2.0, 0.0)))
print(g.label(Vec3(1.0, 2.0, 3.0)))
print(g.middle([Vec3(0.0, 0.0, 0.0), Vec3(2.0, 2.0, 2.0)]))
try:
    g.heading(Vec3(1.0, 1.0, 1.0), Vec3(1.0, 1.0, 1.0))
except ValueError as e:
    print("ValueError:", e)
print(g.tour([Vec3(0.0, 0.0, 0.0), Vec3(3.0, 4.0, 0.0), Vec3(3.0, 4.0, 12.0)]))
print(g.spin(1000))
"""

GEOMETRY_OUT = """\
7.0
Vec3(x=0.0, y=1.0, z=0.0)
at Vec3(1.0, 2.0, 3.0)
Vec3(x=1.0, y=1.0, z=1.0)
ValueError: cannot normalize a zero vector
at Vec3(0.0, 0.0, 0.0) -> at Vec3(3.0, 4.0, 0.0): 5.0
at Vec3(3.0, 4.0, 0.0) -> at Vec3(3.0, 4.0, 12.0): 12.0
17.0
499519.4405772429
"""

BACKENDS = ("native", "wasm")


class Built:
    """The wheels these tests share: spyvecmath's releases, geometry in both
    link modes, and the environment they were built in."""

    def __init__(self, factory: pytest.TempPathFactory, local_wheels: Path) -> None:
        self.factory = factory
        self.local_wheels = local_wheels
        tmp = factory.mktemp("links")
        self.vecmath = {"0.1.0": build_wheel(SAMPLES / "vecmath", tmp / "vecmath-0.1.0-dist")}
        self.builder = installed_env(
            factory, "builder", local_wheels, "hatch-spy", "build", str(self.vecmath["0.1.0"])
        )
        self.geometry = {
            link: build_in(
                self.builder,
                SAMPLES / "geometry",
                tmp / f"geometry-{link}",
                {"HATCH_SPY_LINK": link},
            )
            for link in ("static", "dynamic")
        }
        for version, edit in RELEASES.items():
            # native only: geometry's wasm backend has its own copy of vecmath's code
            self.vecmath[version] = build_in(
                self.builder,
                vecmath_release(tmp, version, edit),
                tmp / f"vecmath-{version}-dist",
                {"HATCH_SPY_TARGETS": "wasm" if version == "0.1.3" else "native"},
            )

    def user_env(self, name: str, link: str) -> Venv:
        return installed_env(
            self.factory,
            name,
            self.local_wheels,
            str(self.geometry[link]),
            str(self.vecmath["0.1.0"]),
            "spy-runtime[wasm]",
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, local_wheels: Path) -> Built:
    return Built(tmp_path_factory, local_wheels)


def run_on(env: Venv, code: str, backend: str, check: bool = True) -> tuple[int, str, str]:
    proc = env.run_script(code, env={"SPY_BACKEND": backend}, check=check)
    return proc.returncode, proc.stdout, proc.stderr


def abi_json(wheel: Path) -> dict[str, object]:
    name, version = wheel.name.split("-")[:2]
    with zipfile.ZipFile(wheel) as whl:
        data: dict[str, object] = json.loads(whl.read(f"{name}-{version}.dist-info/spy-abi.json"))
        return data


def test_static_links_compile_the_dependency_in(built: Built) -> None:
    """The static wheel records what geometry uses of spyvecmath and runs,
    on both backends, with spyvecmath uninstalled."""
    data = abi_json(built.geometry["static"])
    jsonschema.validate(data, json.loads(spy_abi.schema_path(5).read_text()))
    with zipfile.ZipFile(built.vecmath["0.1.0"]) as whl:
        vecmath = spy_abi.from_json(whl.read("spyvecmath-0.1.0.dist-info/spy-abi.json").decode())
    vec = vecmath.module("vecmath.vec")
    assert vec is not None
    norm = vec.function("norm")
    assert norm is not None
    symbols = {
        f"vecmath.vec.{name}": fn.signature_hash
        for name in ("centroid", "describe", "norm", "normalize")
        if (fn := vec.function(name)) is not None
    }
    symbols["vecmath.vec::Vec3"] = spy_abi.struct_hash(norm.params[0].type)
    kernels = vecmath.module("vecmath.kernels")
    list_norm = None if kernels is None else kernels.function("norm")
    assert list_norm is not None
    symbols["vecmath.kernels.norm"] = list_norm.signature_hash
    assert data["dependencies"] == {
        "spyvecmath": {
            "version": "0.1.0",
            "requirement": ">=0.1.0,<0.2",
            "link": "static",
            "symbols": symbols,
        }
    }
    with zipfile.ZipFile(built.geometry["static"]) as whl:
        metadata = whl.read("spygeometry-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: spyvecmath<0.2,>=0.1.0" in metadata or (
        "Requires-Dist: spyvecmath>=0.1.0,<0.2" in metadata
    )
    user = built.user_env("static-user", "static")
    user.run_script(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'spyvecmath'], check=True)"
    )
    for backend in BACKENDS:
        assert run_on(user, GEOMETRY_CHECK, backend) == (0, GEOMETRY_OUT, "")


def test_a_range_that_excludes_the_installed_version_is_refused(
    built: Built, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    proc = built.builder.run_script(
        BUILD.format(out=str(out), project=str(SAMPLES / "geometry")),
        env={"HATCH_SPY_DEPENDENCY_RANGES": "spyvecmath >=0.2"},
        check=False,
    )
    assert proc.returncode != 0 and not list(out.glob("*.whl"))
    assert "dependency-ranges: spyvecmath>=0.2 excludes 0.1.0, the version this build uses" in (
        proc.stdout
    )


def refusal(symbol: str, installed: str, what: str) -> str:
    return (
        f"ImportError: spygeometry 0.1.0 cannot use the installed spyvecmath {installed}: it was "
        f"built against spyvecmath 0.1.0 and uses its {symbol}, and {installed} {what}. Rebuild "
        f"spygeometry against spyvecmath {installed}, or install 'spyvecmath==0.1.0' (the "
        "version it was built against)"
    )


def test_extensions_export_nothing_but_their_init(built: Built) -> None:
    """Packages reach each other through capsules: no extension exports a
    symbol of libspy or of the package's code, which another extension
    loaded with it could bind to by name."""
    for wheel in (built.geometry["static"], built.geometry["dynamic"], built.vecmath["0.1.0"]):
        with zipfile.ZipFile(wheel) as whl:
            (name,) = [n for n in whl.namelist() if n.endswith(".abi3.so")]
            path = built.factory.mktemp("so") / "ext.so"
            path.write_bytes(whl.read(name))
        table = subprocess.run(
            ["nm", "-D", "--defined-only", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert [line.split()[-1] for line in table.splitlines()] == ["PyInit__spy_native"]


def test_dynamic_links_call_the_installed_dependency(built: Built) -> None:
    """The dynamic wheel calls spyvecmath's binary natively, shares its Vec3
    class, gives what the static one gives on both backends, and is checked
    at import against what is installed."""
    data = abi_json(built.geometry["dynamic"])
    deps = data["dependencies"]
    assert isinstance(deps, dict) and deps["spyvecmath"]["link"] == "dynamic"
    user = built.user_env("dynamic-user", "dynamic")
    for backend in BACKENDS:
        assert run_on(user, GEOMETRY_CHECK, backend) == (0, GEOMETRY_OUT, "")
    shared = "import geometry.shapes as g, vecmath.vec as v\nprint(g.Vec3 is v.Vec3)\n"
    assert run_on(user, shared, "native")[1] == "True\n"

    def install(version: str) -> None:
        user.pip_install(
            "--no-deps",
            "--force-reinstall",
            str(built.vecmath[version]),
            find_links=built.local_wheels,
        )

    # a release that adds a function: still compatible
    install("0.1.1")
    for backend in BACKENDS:
        assert run_on(user, GEOMETRY_CHECK, backend) == (0, GEOMETRY_OUT, "")
    # a signature geometry uses changed (in a patch release): refused at import
    install("0.1.2")
    for backend in BACKENDS:
        rc, out, err = run_on(user, GEOMETRY_CHECK, backend, check=False)
        assert rc == 1 and out == ""
        assert err.strip().splitlines()[-1] == refusal(
            "vecmath.vec.describe", "0.1.2", "changed it"
        )
    # the binary is checked too: the metadata of 0.1.0 over the binary of 0.1.2
    site = user.site_packages()
    info = site / "spyvecmath-0.1.2.dist-info" / "spy-abi.json"
    abi = json.loads(
        zipfile.ZipFile(built.vecmath["0.1.0"]).read("spyvecmath-0.1.0.dist-info/spy-abi.json")
    )
    abi["version"] = "0.1.2"
    info.write_text(json.dumps(abi))
    rc, out, err = run_on(user, GEOMETRY_CHECK, "native", check=False)
    assert rc == 1
    assert err.strip().splitlines()[-1] == refusal("vecmath.vec.describe", "0.1.2", "changed it")
    # a breaking release that changes Vec3: every function taking it changed
    install("0.2.0")
    for backend in BACKENDS:
        rc, out, err = run_on(user, GEOMETRY_CHECK, backend, check=False)
        assert rc == 1
        assert err.strip().splitlines()[-1] == refusal(
            "vecmath.vec.centroid", "0.2.0", "changed it"
        )
    # and none installed
    user.run_script(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'spyvecmath'], check=True)"
    )
    for backend in BACKENDS:
        rc, out, err = run_on(user, GEOMETRY_CHECK, backend, check=False)
        assert rc == 1
        assert err.strip().splitlines()[-1] == (
            "ImportError: spygeometry 0.1.0 links spyvecmath dynamically (built against 0.1.0), "
            "which is not installed: pip install 'spyvecmath>=0.1.0,<0.2'"
        )
    install("0.1.0")


THREADS = """
import sys, threading
import geometry.shapes as g, vecmath.vec as v
from vecmath.vec import Vec3
pts = [Vec3(float(i), 1.0, 0.0) for i in range(40)]
want_spin, want_label = g.spin(30000), ["at " + v.describe(p) for p in pts]
errors = []

def work(k):
    for i in range(30):
        if g.spin(30000) != want_spin:
            errors.append("spin")
        if g.label(pts[(k + i) % 40]) != want_label[(k + i) % 40]:
            errors.append("label")
        if v.norm(Vec3(3.0, 4.0, 0.0)) != 5.0:
            errors.append("norm")
        try:
            g.heading(pts[k], pts[k])
            errors.append("no ValueError")
        except ValueError as e:
            if str(e) != "cannot normalize a zero vector":
                errors.append(str(e))

threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_dynamic_calls_from_many_threads(built: Built) -> None:
    """Eight threads call geometry (which calls spyvecmath's binary) and
    spyvecmath directly at once: each thread's state is the one runtime's,
    whichever extension it enters first; panics of spyvecmath's code reach
    each thread's caller."""
    user = built.user_env("threads-user", "dynamic")
    for backend in BACKENDS:
        assert run_on(user, THREADS, backend) == (0, "[]\n", "")


CALLBACK = """
import sys
import geometry.shapes as g, vecmath.vec as v
from vecmath.vec import Vec3

class Echo:
    # Python code during geometry's call (natively; on wasm the output comes
    # when the call returns): each write calls both packages again
    def __init__(self):
        self.text, self.calls = "", []
    def write(self, s):
        self.text += s
        self.calls.append((g.label(Vec3(1.0, 0.0, 0.0)), v.describe(Vec3(0.0, 0.0, 2.0))))
        return len(s)
    def flush(self):
        pass

echo = Echo()
sys.stdout = echo
total = g.tour([Vec3(float(i), 0.0, 0.0) for i in range(4)])
sys.stdout = sys.__stdout__
print(total)
print(echo.text, end="")
print(set(echo.calls))
"""

CALLBACK_OUT = """\
3.0
at Vec3(0.0, 0.0, 0.0) -> at Vec3(1.0, 0.0, 0.0): 1.0
at Vec3(1.0, 0.0, 0.0) -> at Vec3(2.0, 0.0, 0.0): 1.0
at Vec3(2.0, 0.0, 0.0) -> at Vec3(3.0, 0.0, 0.0): 1.0
{('at Vec3(1.0, 0.0, 0.0)', 'Vec3(0.0, 0.0, 2.0)')}
"""


def test_python_code_during_a_dynamic_call_calls_both_packages(built: Built) -> None:
    user = built.user_env("callback-user", "dynamic")
    for backend in BACKENDS:
        assert run_on(user, CALLBACK, backend) == (0, CALLBACK_OUT, "")


PLACES = """
from vecmath.vec import Vec3
from vecmath.registry import remember, places
from geometry.shapes import label


def mark(name: str, x: f64) -> i32:
    return remember(name, Vec3(x, 0.0, 0.0))


def count() -> i32:
    return places()


def where(x: f64) -> str:
    return label(Vec3(x, 0.0, 0.0))
"""

PLACES_CHECK = """
import places.marks as m, vecmath.registry as reg
from vecmath.vec import Vec3
print(m.mark("a", 1.0), m.mark("b", 2.0), reg.places(), m.count())
print(reg.remember("c", Vec3(3.0, 0.0, 0.0)), m.count(), reg.recall("a"))
print(m.where(5.0))
"""


def places_project(tmp: Path) -> Path:
    project = tmp / "places"
    (project / "src" / "places").mkdir(parents=True)
    (project / "src" / "places" / "__init__.py").write_text("")
    (project / "src" / "places" / "marks.spy").write_text(textwrap.dedent(PLACES))
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["hatchling", "hatch-spy", "spyvecmath", "spygeometry"]
            build-backend = "hatchling.build"

            [project]
            name = "spyplaces"
            version = "1.0.0"
            requires-python = ">=3.10"

            [tool.hatch.build.targets.wheel]
            packages = ["src/places"]

            [tool.hatch.build.hooks.spy]
            link = "dynamic"
            targets = ["native"]
            """
        )
    )
    return project


def test_a_diamond_shares_one_copy_of_the_lowest_package(built: Built, tmp_path: Path) -> None:
    """places uses spyvecmath's registry (a `var` global) and geometry, which
    uses spyvecmath too: linked dynamically, the registry places fills is the
    one Python sees in spyvecmath, and geometry's calls reach the same
    spyvecmath. On wasm that copy could not be shared yet: the build says so."""
    builder = installed_env(
        built.factory,
        "diamond-builder",
        built.local_wheels,
        "hatch-spy",
        "build",
        str(built.vecmath["0.1.0"]),
        str(built.geometry["dynamic"]),
    )
    project = places_project(tmp_path)
    wheel = build_in(builder, project, tmp_path / "dist")
    user = installed_env(
        built.factory,
        "diamond-user",
        built.local_wheels,
        str(wheel),
        str(built.geometry["dynamic"]),
        str(built.vecmath["0.1.0"]),
    )
    assert run_on(user, PLACES_CHECK, "native") == (
        0,
        "1 2 2 2\n3 3 Vec3(x=1.0, y=0.0, z=0.0)\nat Vec3(5.0, 0.0, 0.0)\n",
        "",
    )
    refused = builder.run_script(
        BUILD.format(out=str(tmp_path / "wasm-dist"), project=str(project)),
        env={"HATCH_SPY_TARGETS": "native,wasm"},
        check=False,
    )
    assert refused.returncode != 0 and not list((tmp_path / "wasm-dist").glob("*.whl"))
    assert (
        "marks.spy:8:12: error: places.marks.mark calls vecmath.registry.remember of spyvecmath, "
        "which uses its `var` global vecmath.registry._places, and on the wasm target "
        'link = "dynamic" still compiles' in refused.stdout
    )


def test_a_dependency_without_native_build_runs_on_wasm(built: Built) -> None:
    """With spyvecmath installed from its portable wheel, geometry's native
    extension could not load spyvecmath's: the loader picks the wasm backend
    for geometry too, and asking for native says why it fails."""
    user = built.user_env("portable-user", "dynamic")
    user.pip_install(
        "--no-deps", "--force-reinstall", str(built.vecmath["0.1.3"]), find_links=built.local_wheels
    )
    auto = user.run_script(
        "import geometry.shapes as g\nprint(g.__spy_backend__)\n" + GEOMETRY_CHECK
    )
    assert (auto.stdout, auto.stderr) == ("wasm\n" + GEOMETRY_OUT, "")
    rc, _, err = run_on(user, GEOMETRY_CHECK, "native", check=False)
    assert rc == 1
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "ImportError: spygeometry 0.1.0 links spyvecmath dynamically, but its native extension "
            "vecmath._spy_native does not load (No module named 'vecmath._spy_native'): install "
            "'spyvecmath>=0.1.0,<0.2' built for this platform"
        )
    )
