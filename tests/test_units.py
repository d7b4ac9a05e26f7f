"""A package's library is compiled as one C unit per module plus a main
unit, each cached on its own: a change to one module recompiles one unit.
Small functions are copied into the units that call them (so the C compiler
still inlines them there); the others are called through one shared entry.
The C writer's part runs without zig; the last test compiles."""

from __future__ import annotations

import sysconfig
import textwrap
from pathlib import Path

from hatch_spy.compiler import check_modules, compiling, ir
from hatch_spy.compiler.cext import write_extension
from hatch_spy.compiler.cgen import write_wasm_library
from hatch_spy.compiler.loader import ModuleFinder, load_program
from hatch_spy.toolchain import Toolchain

BIG_BODY = "\n".join(f"                total = total + f64(i % {k + 2}) * {k}.5" for k in range(30))

SOURCES = {
    "a": f"""
        def small(x: f64) -> f64:
            return x * 2.0

        def big(n: i32) -> f64:
            total = 0.0
            for i in range(n):
{BIG_BODY}
            return total

        def _only_here(n: i32) -> f64:
            return big(n) + big(n + 1)

        def api(n: i32) -> f64:
            return _only_here(n)
        """,
    "b": """
        from pkg.a import small, big

        def use(n: i32) -> f64:
            return small(f64(n)) + big(n)
        """,
    "c": """
        def other(n: i32) -> i32:
            return n + 1
        """,
}


def write(root: Path, sources: dict[str, str]) -> list[str]:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        (root / "pkg" / f"{name}.spy").write_text(textwrap.dedent(src))
    return [f"pkg.{name}" for name in sources]


def compile_units(root: Path, sources: dict[str, str]) -> list[ir.ModuleIR]:
    names = write(root, sources)
    with compiling():
        return check_modules(load_program(names, ModuleFinder((root,))), set(names))


def unit_of(units: list[str], definition: str) -> list[int]:
    return [k for k, text in enumerate(units) if definition in text]


def test_one_unit_per_module_and_a_main_unit(tmp_path: Path) -> None:
    units = write_extension(compile_units(tmp_path, SOURCES))
    assert "PyInit__spy_native" in units[0]
    # each module's functions are defined in exactly one unit (copies aside)
    for definition in ("$a$big(int32_t v_n) {", "$b$use(int32_t v_n) {", "$c$other(int32_t v_n) {"):
        assert len(unit_of(units[1:], "spy_pkg" + definition)) == 1, definition
    (b_unit,) = [u for u in units[1:] if "spy_pkg$b$use(int32_t v_n) {" in u]
    (a_unit,) = [u for u in units[1:] if "spy_pkg$a$big(int32_t v_n) {" in u]
    # the small function is copied into b's unit, static, so clang inlines it there
    assert "static double spy_pkg$a$small(double v_x) {" in b_unit
    # the big one is called through its entry, defined once, in a's unit
    assert "#define spy_pkg$a$big spy_pkg$a$big$$u" in b_unit
    assert "spy_pkg$a$big(int32_t v_n) {" not in b_unit
    assert "static double spy_pkg$a$big(int32_t v_n) {" in a_unit
    assert '__attribute__((visibility("hidden"))) double spy_pkg$a$big$$u(int32_t v_n) {' in a_unit
    # what no other unit calls has no entry: static, inlined and dropped where clang likes
    assert "spy_pkg$a$_only_here$$u" not in "\n".join(units)
    # the wasm library is split the same way
    wasm = write_wasm_library(compile_units(tmp_path / "wasm", SOURCES))
    assert len(wasm) == len(units)


def test_a_change_to_one_module_changes_its_unit_alone(tmp_path: Path) -> None:
    """The units are the cache keys of the objects: editing b leaves the
    units of a and c, and the main one, as they were."""
    before = write_extension(compile_units(tmp_path / "1", SOURCES))
    edited = dict(SOURCES, b=SOURCES["b"].replace("+ big(n)", "- big(n)"))
    after = write_extension(compile_units(tmp_path / "2", edited))
    assert len(before) == len(after)
    changed = [k for k, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
    (b_index,) = unit_of(before, "spy_pkg$b$use(int32_t v_n) {")
    assert changed == [b_index]
    # a small function copied into b is b's text too: editing it changes a and b
    edited = dict(SOURCES, a=SOURCES["a"].replace("x * 2.0", "x * 3.0"))
    after = write_extension(compile_units(tmp_path / "3", edited))
    changed = [k for k, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
    (a_index,) = unit_of(before, "spy_pkg$a$big(int32_t v_n) {")
    assert changed == sorted([a_index, b_index])


def test_a_rebuild_compiles_the_changed_unit_only(tmp_path: Path) -> None:
    tc = Toolchain(cache_dir=tmp_path / "cache")
    include = Path(sysconfig.get_paths()["include"])
    objects = tmp_path / "cache" / "objects"
    units = write_extension(compile_units(tmp_path / "1", SOURCES))
    first = tc.build_extension(units, include)
    count = len(list(objects.iterdir()))
    assert count == len(units)  # main, a, b, c and the standard library's modules
    edited = dict(SOURCES, b=SOURCES["b"].replace("+ big(n)", "- big(n)"))
    second = tc.build_extension(write_extension(compile_units(tmp_path / "2", edited)), include)
    assert len(list(objects.iterdir())) == count + 1 and first != second
    # and the same text again is served from the cache, linked output included
    again = tc.build_extension(write_extension(compile_units(tmp_path / "3", edited)), include)
    assert again == second and len(list(objects.iterdir())) == count + 1
