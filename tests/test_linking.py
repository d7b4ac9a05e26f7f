"""Dynamic linking at the compile stage (no zig): which functions of an
installed SPy package a package built with link = "dynamic" calls in the
package's binary, what it records of them, what its extension's C declares,
and the errors for code whose copy would not behave as the original."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import spy_abi
from hatch_spy.compiler import SpyCompileError, check_modules, ir
from hatch_spy.compiler.cext import Exports, write_extension
from hatch_spy.compiler.effects import analyze
from hatch_spy.compiler.linking import (
    Linking,
    check_wasm_copy,
    dynamic_linking,
)
from hatch_spy.compiler.loader import ModuleFinder, load_program
from hatch_spy.compiler.mutation import written_params
from hatch_spy.dependencies import used_symbols
from hatch_spy.package import abi_functions
from spy_linker import Resolver
from spy_runtime import ABI_VERSION

GEO = """
from __spy__ import force_inline

@struct
class Box:
    w: f64
    h: f64

    def grow(self, k: f64) -> Box:
        return Box(self.w * k, self.h * k)

    def noted(self) -> Box:
        _log.append(self.w)
        return self

var _log: list[f64] = []
var counter: i32 = 0

def area(b: Box) -> f64:
    return b.w * b.h

def twice_area(b: Box) -> f64:
    return area(b) * 2.0

def count() -> i32:
    counter = counter + 1
    return counter

def _helper(x: f64) -> f64:
    return x + 1.0

@force_inline
def half(x: f64) -> f64:
    return x * 0.5

def unused(x: f64) -> f64:
    return x

def scaled[T](x: T) -> T:
    return x + _helper(1.0)
"""


def install_provider(site: Path, source: str = GEO) -> None:
    """spygeo 1.2.0 as pip leaves it in `site`: geo/shapes.spy and a
    spy-abi.json whose exports are what hatch-spy would record."""
    (site / "geo").mkdir(parents=True)
    (site / "geo" / "shapes.spy").write_text(textwrap.dedent(source))
    modules = check_modules(load_program(["geo.shapes"], ModuleFinder((site,))), {"geo.shapes"})
    (shapes,) = [m for m in modules if m.name == "geo.shapes"]
    written = written_params(modules)
    box = next(t for t in shapes.structs if t.name == "Box")
    abi = spy_abi.AbiFile(
        name="spygeo",
        version="1.2.0",
        runtime_abi=ABI_VERSION,
        modules=(
            spy_abi.Module(
                "geo.shapes", "geo/shapes.spy", abi_functions(shapes, ["native"], written), (box,)
            ),
        ),
        artifacts=(),
        toolchain=spy_abi.Toolchain("0.1.0", "0.0", ()),
    )
    info = site / "spygeo-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spygeo\nVersion: 1.2.0\n")
    (info / "spy-abi.json").write_text(spy_abi.to_json(abi))


def compile_user(tmp_path: Path, source: str) -> tuple[list[ir.ModuleIR], ModuleFinder]:
    site = tmp_path / "site"
    if not site.exists():
        install_provider(site)
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "main.spy").write_text(textwrap.dedent(source))
    finder = ModuleFinder((tmp_path / "app",), Resolver([site]))
    modules = check_modules(load_program(["main"], finder), {"main"})
    return modules, finder


def link(tmp_path: Path, source: str) -> tuple[list[ir.ModuleIR], Linking]:
    modules, finder = compile_user(tmp_path, source)
    return modules, dynamic_linking(modules, {"main"}, finder.used, {"spygeo": ">=1.2.0,<2"})


def provider_hash(tmp_path: Path, name: str) -> str:
    text = (tmp_path / "site" / "spygeo-1.2.0.dist-info" / "spy-abi.json").read_text()
    module = spy_abi.from_json(text).module("geo.shapes")
    fn = None if module is None else module.function(name)
    assert fn is not None
    return fn.signature_hash


USER = """
from geo.shapes import Box, area, twice_area, scaled, half

def user(w: f64) -> f64:
    b = Box(w, 2.0).grow(2.0)
    return area(b) + twice_area(b) + scaled[f64](w) + half(w)
"""


def test_the_exported_functions_the_code_reaches_are_linked(tmp_path: Path) -> None:
    """area and twice_area are called in spygeo's binary, with the hashes its
    spy-abi.json has; the method grow, the generic's specialization (and the
    private helper it calls) and the @force_inline half are compiled in;
    unused is not linked."""
    _, linking = link(tmp_path, USER)
    assert [(x.symbol, x.dist, x.version, x.requirement) for x in linking.links] == [
        ("geo.shapes.area", "spygeo", "1.2.0", ">=1.2.0,<2"),
        ("geo.shapes.twice_area", "spygeo", "1.2.0", ">=1.2.0,<2"),
    ]
    assert [x.signature_hash for x in linking.links] == [
        provider_hash(tmp_path, "area"),
        provider_hash(tmp_path, "twice_area"),
    ]
    assert linking.links[0].extension == "geo._spy_native"
    assert linking.modules == {"geo.shapes"}


def test_the_extension_calls_linked_functions_through_pointers(tmp_path: Path) -> None:
    modules, linking = link(tmp_path, USER)
    units = write_extension(modules, Exports("spyuser", "0.3.0", {}), linking)
    c = "\n".join(units)
    pointer = "double (*spy_geo$shapes$area)(spy_geo$shapes$Box$$struct);"
    assert f'__attribute__((visibility("hidden"))) {pointer}' in c
    assert "double spy_geo$shapes$area(spy_geo$shapes$Box$$struct v_b)" not in c
    assert (
        '{"geo._spy_native", "spygeo", "1.2.0", ">=1.2.0,<2", "geo.shapes.area", '
        f'"{provider_hash(tmp_path, "area")}", (void **)&spy_geo$shapes$area}},'
    ) in c
    assert "if (spy_py_link(spy_links, 2, &spy_api) < 0) goto fail;" in c
    # the provider's init (its `var` globals) is its binary's, never run again here
    init = units[0].split("static void spy_unit_init(void)")[1].split("}")[0]
    assert "__spy_init__" not in init
    # @force_inline: compiled in, to be inlined
    assert "static inline __attribute__((always_inline)) double spy_geo$shapes$half(" in c
    # compiled with static links, the function is compiled in
    static = "\n".join(write_extension(modules, Exports("spyuser", "0.3.0", {})))
    assert "double spy_geo$shapes$area(spy_geo$shapes$Box$$struct v_b)" in static
    assert "spy_links[1] = {" in static and "spy_py_link(spy_links, 0, &spy_api)" in static


def test_an_extension_publishes_its_public_functions(tmp_path: Path) -> None:
    modules, _ = compile_user(tmp_path, "def f(x: i32) -> i32:\n    return x\n")
    main = next(m for m in modules if m.name == "main")
    hashes = {("main", "f"): "sha256:abc"}
    c = "\n".join(write_extension([main], Exports("spyuser", "0.3.0", hashes)))
    assert '{"main.f", "sha256:abc", (void *)spy_main$f},' in c
    assert '"spyuser", "0.3.0", 1, spy_api_entries};' in c


def test_a_linked_function_is_taken_to_do_everything(tmp_path: Path) -> None:
    """Its body is the installed binary's, which a compatible release may
    change: the callers set up for panics, polls, temporaries, collections
    and globals, whatever the source says area does (nothing of that)."""
    modules, linking = link(tmp_path, USER)
    effects = analyze(modules, linking.keys)
    plain = analyze(modules)
    for key in (("geo.shapes", "area"), ("main", "user")):
        sets = (effects.panics, effects.polls, effects.allocates, effects.collects)
        assert all(key in s for s in sets), key
        assert key in effects.str_globals
    assert ("main", "user") not in plain.polls and ("geo.shapes", "area") not in plain.panics


def test_recorded_symbols_are_what_the_code_uses(tmp_path: Path) -> None:
    """twice_area's call of area happens in spygeo's binary: a package that
    calls only twice_area does not depend on area's signature."""
    modules, finder = compile_user(
        tmp_path,
        "from geo.shapes import Box, twice_area\n\n"
        "def user(w: f64) -> f64:\n    return twice_area(Box(w, 1.0))\n",
    )
    from hatch_spy.compiler.linking import reachable

    symbols = used_symbols(reachable(modules, {"main"}, finder.used), finder.used)
    assert set(symbols["spygeo"]) == {"geo.shapes.twice_area", "geo.shapes::Box"}


def test_compiled_in_code_may_not_use_the_dependencys_globals(tmp_path: Path) -> None:
    """A method of Box is compiled into the user, and it appends to spygeo's
    `var` global: that copy would not be spygeo's."""
    with pytest.raises(SpyCompileError) as info:
        link(
            tmp_path,
            "from geo.shapes import Box\n\n"
            "def user(w: f64) -> f64:\n    return Box(w, 1.0).noted().w\n",
        )
    err = info.value
    assert err.message.startswith(
        "geo.shapes.Box.noted uses `var` global geo.shapes._log of spygeo, and with "
        'link = "dynamic" this package compiles it'
    )
    assert (Path(err.loc.filename).name, err.loc.line) == ("shapes.spy", 13)


def test_the_wasm_copy_may_not_use_the_dependencys_globals(tmp_path: Path) -> None:
    """count is linked natively (its global is spygeo's), but on wasm the
    code is still a copy: refused until wasm links dynamically too; code
    that keeps no state is fine."""
    modules, finder = compile_user(
        tmp_path, "from geo.shapes import count\n\ndef user() -> i32:\n    return count()\n"
    )
    with pytest.raises(SpyCompileError) as info:
        check_wasm_copy(modules, {"main"}, finder.used)
    assert info.value.message.startswith(
        "main.user calls geo.shapes.count of spygeo, which uses its `var` global "
        'geo.shapes.counter, and on the wasm target link = "dynamic" still compiles the code of '
        "spygeo"
    )
    assert (info.value.loc.line, info.value.loc.col) == (4, 11)
    stateless, finder = compile_user(tmp_path, USER)
    check_wasm_copy(stateless, {"main"}, finder.used)
