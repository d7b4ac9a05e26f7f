"""The resolver (spy-linker): a module that imports another package's SPy
modules finds them among the installed distributions (their spy-abi.json),
checks their runtime ABI, and says clearly what is wrong. Compile stage,
plus one program run through `hatch-spy run` with the distribution on
PYTHONPATH."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

import spy_abi
from conftest import hatch_spy_cli
from hatch_spy.compiler import SpyCompileError, check_modules
from hatch_spy.compiler.loader import ModuleFinder, load_program
from spy_linker import Resolver
from spy_runtime import ABI_VERSION
from wheelkit import SAMPLES, build_wheel, installed_env

GEO = """
@struct
class Box:
    w: f64
    h: f64

def area(b: Box) -> f64:
    return b.w * b.h

def square(s: f64) -> Box:
    return Box(s, s)
"""


def install_fake(
    site: Path, runtime_abi: tuple[int, int] = ABI_VERSION, abi_text: str | None = None
) -> None:
    """A distribution `spygeo` 1.2.0 as pip leaves it in `site`: its .spy
    source and a dist-info with METADATA and spy-abi.json."""
    (site / "geo").mkdir(parents=True)
    (site / "geo" / "shapes.spy").write_text(textwrap.dedent(GEO))
    info = site / "spygeo-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spygeo\nVersion: 1.2.0\n")
    abi = spy_abi.AbiFile(
        name="spygeo",
        version="1.2.0",
        runtime_abi=runtime_abi,
        modules=(spy_abi.Module("geo.shapes", "geo/shapes.spy", ()),),
        artifacts=(),
        toolchain=spy_abi.Toolchain("0.1.0", "0.0", ()),
    )
    (info / "spy-abi.json").write_text(abi_text if abi_text is not None else spy_abi.to_json(abi))


USER = """
from geo.shapes import Box, area, square

def main() -> None:
    print(area(square(3.0)), area(Box(2.0, 5.0)))
"""


def load(tmp_path: Path, source: str, site: Path) -> ModuleFinder:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "main.spy").write_text(textwrap.dedent(source))
    finder = ModuleFinder((tmp_path / "app",), Resolver([site]))
    check_modules(load_program(["main"], finder))
    return finder


def test_an_import_finds_the_installed_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake(site)
    finder = load(tmp_path, USER, site)
    provider = finder.used["geo.shapes"]
    assert (provider.name, provider.version, provider.root) == ("spygeo", "1.2.0", site)
    # `from pkg import module` too
    finder = load(
        tmp_path,
        "from geo import shapes\n\ndef main() -> None:\n    print(shapes.area(shapes.square(2.0)))\n",
        site,
    )
    assert "geo.shapes" in finder.used


def test_a_missing_dependency_names_the_import_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with pytest.raises(SpyCompileError) as info:
        load(tmp_path, USER, site)
    err = info.value
    assert (err.loc.line, err.loc.col) == (2, 0)
    assert "no module named 'geo.shapes'" in err.message
    assert "the SPy modules of 0 installed distributions" in err.message


@pytest.mark.parametrize(
    "runtime_abi", [(ABI_VERSION[0] + 1, 0), (ABI_VERSION[0], ABI_VERSION[1] + 1)]
)
def test_an_incompatible_runtime_abi_is_refused(
    tmp_path: Path, runtime_abi: tuple[int, int]
) -> None:
    site = tmp_path / "site"
    install_fake(site, runtime_abi)
    with pytest.raises(SpyCompileError) as info:
        load(tmp_path, USER, site)
    major, minor = runtime_abi
    assert info.value.loc.line == 2
    assert info.value.message.startswith(
        f"spygeo 1.2.0 in {site} was built for SPy runtime ABI {major}.{minor}, which this build "
        f"(runtime ABI {ABI_VERSION[0]}.{ABI_VERSION[1]}) cannot use"
    )


def test_an_unreadable_spy_abi_json_names_the_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake(site, abi_text=json.dumps({"format_version": 99}))
    with pytest.raises(SpyCompileError) as info:
        load(tmp_path, USER, site)
    assert info.value.message.startswith(f"spygeo 1.2.0 in {site}: its spy-abi.json is unusable")


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_hatch_spy_run_links_an_installed_distribution(tmp_path: Path, target: str) -> None:
    """The installed package's code is compiled into the program (static linking)."""
    site = tmp_path / "site"
    install_fake(site)
    (tmp_path / "main.spy").write_text(textwrap.dedent(USER))
    proc = hatch_spy_cli(
        "run", str(tmp_path / "main.spy"), "--target", target, env={"PYTHONPATH": str(site)}
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "9.0 10.0\n", "")


def test_a_package_builds_on_an_installed_spy_package(
    tmp_path_factory: pytest.TempPathFactory, local_wheels: Path
) -> None:
    """sample-packages/scene imports spyvecmath's `vecmath.vec`: it builds in
    an environment where spyvecmath is installed (its build-system.requires),
    and its wheel runs on both backends where spyvecmath is not (the code it
    uses is linked in)."""
    vecmath_wheel = build_wheel(SAMPLES / "vecmath", tmp_path_factory.mktemp("vecmath-dist"))
    builder = installed_env(
        tmp_path_factory, "builder", local_wheels, "hatch-spy", "build", str(vecmath_wheel)
    )
    dist = tmp_path_factory.mktemp("scene-dist")
    build = f"""
        import subprocess, sys
        proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                               "-o", {str(dist)!r}, {str(SAMPLES / "scene")!r}],
                              capture_output=True, text=True)
        print(proc.stdout + proc.stderr)
        sys.exit(proc.returncode)
        """
    # a range that leaves out the version installed is refused, before any wheel
    refused = builder.run_script(
        build, env={"HATCH_SPY_DEPENDENCY_RANGES": "spyvecmath >=0.2"}, check=False
    )
    assert refused.returncode != 0 and not list(dist.glob("*.whl"))
    assert "dependency-ranges: spyvecmath>=0.2 excludes 0.1.0, the version this build uses" in (
        refused.stdout
    )
    builder.run_script(build)
    (scene_wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(scene_wheel) as whl:
        data = json.loads(whl.read("spyscene-0.1.0.dist-info/spy-abi.json"))
        metadata = whl.read("spyscene-0.1.0.dist-info/METADATA").decode()
    with zipfile.ZipFile(vecmath_wheel) as whl:
        text = whl.read("spyvecmath-0.1.0.dist-info/spy-abi.json").decode()
    vec = spy_abi.from_json(text).module("vecmath.vec")
    norm = None if vec is None else vec.function("norm")
    assert norm is not None
    # what scene was built against and uses of it, recorded (format 5)
    jsonschema.validate(data, json.loads(spy_abi.schema_path(5).read_text()))
    assert data["dependencies"] == {
        "spyvecmath": {
            "version": "0.1.0",
            "requirement": ">=0.1.0,<0.2",
            "link": "static",
            "symbols": {
                "vecmath.vec.norm": norm.signature_hash,
                "vecmath.vec::Vec3": spy_abi.struct_hash(norm.params[0].type),
            },
        }
    }
    assert "Requires-Dist: spyvecmath<0.2,>=0.1.0" in metadata or (
        "Requires-Dist: spyvecmath>=0.1.0,<0.2" in metadata
    )
    user = installed_env(
        tmp_path_factory,
        "scene-user",
        local_wheels,
        str(scene_wheel),
        str(vecmath_wheel),
        "spy-runtime[wasm]",
    )
    # linked statically: scene runs with spyvecmath gone
    user.run_script(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'spyvecmath'], check=True)"
    )
    for backend in ("native", "wasm"):
        out = user.run_script(
            """
            import importlib.util
            import scene.paths as p
            print(p.path_length([0.0, 3.0, 3.0], [0.0, 4.0, 4.0], [0.0, 0.0, 2.0]),
                  importlib.util.find_spec("vecmath") is None)
            """,
            env={"SPY_BACKEND": backend},
        ).stdout
        assert out == "7.0 True\n"


def test_hatch_spy_deps_prints_what_a_project_resolves_to(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake(site)
    project = tmp_path / "proj"
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "app" / "main.spy").write_text(textwrap.dedent(USER))
    (project / "src" / "app" / "plain.spy").write_text("def one() -> i32:\n    return 1\n")
    proc = hatch_spy_cli("deps", str(project), env={"PYTHONPATH": str(site)})
    assert (proc.returncode, proc.stdout) == (0, f"spygeo 1.2.0 {site} static (geo.shapes)\n")
    alone = hatch_spy_cli("deps", str(project / "src" / "app" / "plain.spy"))
    assert (alone.returncode, alone.stdout) == (0, "")
    missing = hatch_spy_cli("deps", str(project))
    assert missing.returncode == 1
    assert "no module named 'geo.shapes'" in missing.stderr


def test_a_name_the_installed_module_lacks_names_the_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_fake(site)
    with pytest.raises(SpyCompileError) as info:
        load(tmp_path, "from geo.shapes import Box, circle\n", site)
    err = info.value
    assert (err.loc.line, err.loc.col) == (1, 28)
    assert err.message == (
        f"module 'geo.shapes' (of spygeo 1.2.0 in {site}) has no attribute 'circle'"
    )
