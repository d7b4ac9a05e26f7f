"""Build time of a large package: 50 modules, about 9,000 lines, each module
using the one before it. Times a full build (libspy already compiled, the
package's units not), then the rebuild after changing one line of one
module, each split into its stages: the front end (load and check every
module), writing the C units (one per module, cgen.build_units), and zig
compiling the changed units (all at once, on every core) and linking the
native extension and the wasm module.

    python bench/big_package.py [--modules N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hatch_spy.compiler import check_modules, compiling
from hatch_spy.compiler.cext import write_extension
from hatch_spy.compiler.cgen import write_wasm_library
from hatch_spy.compiler.loader import installed_finder, load_program
from hatch_spy.toolchain import Toolchain, get_target

T = TypeVar("T")

MODULE = '''"""Module {k} of the benchmark package."""
{imports}

@struct
class P{k}:
    x: f64
    y: f64
    n: i32


def make{k}(x: f64, n: i32) -> P{k}:
    return P{k}(x, x * 2.0, n)


def norm{k}(p: P{k}) -> f64:
    return p.x * p.x + p.y * p.y + f64(p.n)
'''

FUNC = """

def f{k}_{j}(n: i32, s: f64) -> f64:
    total = s
    i = 0
    while i < n:
        if i % {m} == 0:
            total = total + f64(i) * {c}.5
        elif i % 3 == 1:
            total = total - {base}(f64(i), i)
        else:
            total = total * 0.5 + 1.0
        i = i + 1
    for j in range(n):
        total = total + f64(j % {m})
    return total
"""

TEXT = """

def label{k}(n: i32) -> str:
    out = "m{k}:"
    for i in range(n):
        out = out + str(i % 10)
    return out
"""


def module_source(k: int, funcs: int) -> str:
    imports = f"from big.m{k - 1} import norm{k - 1}, make{k - 1}" if k else ""
    src = MODULE.format(k=k, imports=imports)
    base = f"_prev{k}" if k else f"_own{k}"
    if k:
        src += (
            f"\n\ndef _prev{k}(x: f64, i: i32) -> f64:\n    return norm{k - 1}(make{k - 1}(x, i))\n"
        )
    else:
        src += f"\n\ndef _own{k}(x: f64, i: i32) -> f64:\n    return x + f64(i)\n"
    for j in range(funcs):
        src += FUNC.format(k=k, j=j, m=j + 2, c=j, base=base)
    return src + TEXT.format(k=k)


def write_package(root: Path, modules: int, funcs: int) -> list[str]:
    (root / "big").mkdir(parents=True)
    (root / "big" / "__init__.py").write_text("")
    for k in range(modules):
        (root / "big" / f"m{k}.spy").write_text(module_source(k, funcs))
    return [f"big.m{k}" for k in range(modules)]


def timed(what: str, times: dict[str, float], fn: Callable[[], T]) -> T:
    t0 = time.perf_counter()
    result = fn()
    times[what] = time.perf_counter() - t0
    return result


def build(root: Path, names: list[str], tc: Toolchain) -> dict[str, float]:
    times: dict[str, float] = {}
    finder = installed_finder(root, [])
    with compiling():
        modules = timed(
            "front end", times, lambda: check_modules(load_program(names, finder), set(names))
        )
        native_c = timed("C (native)", times, lambda: write_extension(modules))
        wasm_c = timed("C (wasm)", times, lambda: write_wasm_library(modules))
    include = Path(__import__("sysconfig").get_paths()["include"])
    timed("zig native", times, lambda: tc.build_extension(native_c, include))
    timed("zig wasm", times, lambda: tc.build_wasm_library(wasm_c))
    return times


def report(title: str, times: dict[str, float]) -> None:
    total = sum(times.values())
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
    print(f"{title:28s} {total:6.1f} s  ({parts})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--funcs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        names = write_package(tmp / "src", args.modules, args.funcs)
        lines = sum(
            len((tmp / "src" / "big" / f"m{k}.spy").read_text().splitlines())
            for k in range(args.modules)
        )
        tc = Toolchain(cache_dir=tmp / "cache")
        for target in ("native", "wasm"):
            tc.runtime(get_target(target))  # libspy compiled before timing
        print(f"a package of {args.modules} modules, {lines:,} lines")
        report("full build", build(tmp / "src", names, tc))
        report("rebuild, nothing changed", build(tmp / "src", names, tc))
        middle = tmp / "src" / "big" / f"m{args.modules // 2}.spy"
        text = middle.read_text()
        middle.write_text(text.replace("total * 0.5 + 1.0", "total * 0.5 + 2.0", 1))
        report("rebuild, one line changed", build(tmp / "src", names, tc))


if __name__ == "__main__":
    main()
