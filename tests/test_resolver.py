"""The resolver (spy-linker): a module that imports another package's SPy
modules finds them among the installed distributions (their spy-abi.json),
checks their runtime ABI, and says clearly what is wrong. Compile stage,
plus one program run through `hatch-spy run` with the distribution on
PYTHONPATH."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import spy_abi
from conftest import hatch_spy_cli
from hatch_spy.compiler import SpyCompileError, check_modules
from hatch_spy.compiler.loader import ModuleFinder, load_program
from spy_linker import LinkError, Resolver, check_acyclic
from spy_runtime import ABI_VERSION

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
    # the project's link mode, from its hook table, and HATCH_SPY_LINK over it
    (project / "pyproject.toml").write_text('[tool.hatch.build.hooks.spy]\nlink = "dynamic"\n')
    proc = hatch_spy_cli("deps", str(project), env={"PYTHONPATH": str(site)})
    assert proc.stdout == f"spygeo 1.2.0 {site} dynamic (geo.shapes)\n"
    proc = hatch_spy_cli(
        "deps", str(project), env={"PYTHONPATH": str(site), "HATCH_SPY_LINK": "static"}
    )
    assert proc.stdout == f"spygeo 1.2.0 {site} static (geo.shapes)\n"


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


def install_built_against(site: Path, name: str, *deps: str) -> None:
    """Distribution `name` 1.0 in `site`, recorded as built against `deps`."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    abi = spy_abi.AbiFile(
        name=name,
        version="1.0",
        runtime_abi=ABI_VERSION,
        modules=(),
        artifacts=(),
        toolchain=spy_abi.Toolchain("0.1.0", "0.0", ()),
        dependencies=tuple(spy_abi.Dependency(d, "0.9", ">=0.9,<0.10", "dynamic") for d in deps),
    )
    (info / "spy-abi.json").write_text(spy_abi.to_json(abi))


def test_a_cycle_between_packages_is_refused_naming_it(tmp_path: Path) -> None:
    """spyapp builds on spyb, built against spyc, built against spyapp."""
    site = tmp_path / "site"
    install_built_against(site, "spyb", "spyc")
    install_built_against(site, "spyc", "spy_app")
    install_built_against(site, "spyd")
    resolver = Resolver([site])
    providers = {p.name: p for p in resolver.providers}
    with pytest.raises(LinkError) as info:
        check_acyclic("spy-app", [providers["spyd"], providers["spyb"]], resolver)
    assert str(info.value) == (
        "the SPy packages spy-app -> spyb -> spyc -> spy-app depend on each other in a cycle "
        f"(spyc 1.0 in {site} was built against spy_app 0.9): move what they share into a "
        "package that depends on neither"
    )
    check_acyclic("spyother", [providers["spyb"], providers["spyd"]], resolver)
