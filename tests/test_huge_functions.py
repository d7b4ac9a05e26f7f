"""Huge functions: their statements are outlined into chunk functions over a
frame struct (cgen.CHUNK_NODES), which keeps the C compiler's time linear.
Every way of leaving a run (return, break, continue, a panic) and every kind
of local (parameter, str, loop variable) must behave as in the plain function:
the program's output is compared with CPython running the same source."""

from __future__ import annotations

import contextlib
import io
import textwrap
from pathlib import Path

import pytest

from conftest import TARGETS
from hatch_spy.compiler import compile_program_to_c
from hatch_spy.runner import run_native, run_wasm
from hatch_spy.toolchain import Toolchain, get_target


def steps(n: int, seed: int, indent: str, var: str = "x") -> str:
    """n statements that scramble `var`, each a handful of IR nodes."""
    return "".join(
        f"{indent}{var} = ({var} * {3 + (seed + i) % 5} + {(seed * 7 + i) % 11}) % 1000003\n"
        for i in range(n)
    )


def huge_program() -> str:
    g = (
        "def g(n: i32, s: str) -> i32:\n"
        "    x: i32 = n\n"
        "    t: str = s\n"
        "    total: i32 = 0\n"
        + steps(400, 1, "    ")
        + "    x = x // (n - 77)\n"  # a panic inside a chunk, for n == 77
        + steps(300, 8, "    ")
        + "    if n % 3 == 0:\n"  # can return: stays, its body is chunked
        + steps(600, 2, "        ")
        + "        if x % 2 == 0:\n            return x\n"
        + "    for i in range(40):\n"  # leaves only its own loop: one chunk
        + "        x = x + i\n"
        + steps(500, 3, "        ")
        + "        if x % 7 == 3:\n            break\n"
        + "        if x % 5 == 1:\n            continue\n"
        + "        t = t + '.'\n"
        + "    while total < 9:\n"  # can return: its body is chunked
        + "        total = total + 1\n"
        + steps(600, 4, "        ")
        + "        if x % 17 == 2:\n            break\n"  # in a run: must not be outlined
        + steps(10, 6, "        ")
        + "        if x % 3 == 1:\n            continue\n"
        + steps(600, 7, "        ")
        + "        if x % 13 == total:\n            return x + total\n"
        + steps(700, 5, "    ")
        + "    t = t + str(x)\n"
        + "    print(t)\n"
        + "    return x\n"
    )
    main = "def main() -> None:\n" + "".join(
        f"    print(g({n}, 'r{n}'))\n" for n in (1, 2, 3, 4, 6, 9, 12, 77)
    )
    return g + "\n" + main


def cpython_output(source: str) -> tuple[str, str]:
    """What CPython prints for the same program, and the error it stops with."""
    out = io.StringIO()
    namespace: dict[str, object] = {"i32": int}
    error = ""
    with contextlib.redirect_stdout(out):
        exec(source, namespace)
        try:
            namespace["main"]()  # type: ignore[operator]
        except ZeroDivisionError as e:
            error = f"ZeroDivisionError: {e}"
    return out.getvalue(), error


@pytest.mark.parametrize("target", TARGETS)
def test_a_huge_function_behaves_as_in_python(
    tmp_path: Path, toolchain: Toolchain, target: str
) -> None:
    source = huge_program()
    path = tmp_path / "main.spy"
    path.write_text(source, encoding="utf-8")
    c_source = compile_program_to_c(path)
    assert "__attribute__((optnone, noinline)) static int32_t spy_main$g(" in c_source
    assert c_source.count("spy_main$g$$chunk") >= 2 * 8  # definitions and calls
    built = toolchain.build_executable(c_source, get_target(target))
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    runner = run_wasm if target == "wasm" else run_native
    code = runner(built, "main.spy", [], stdout=out, stderr=err)
    expected_out, expected_error = cpython_output(source)
    assert out.read_text("utf-8") == expected_out
    assert code == 1
    stderr = err.read_text("utf-8")
    assert stderr.splitlines()[-1] == expected_error
    panic_line = next(
        i for i, line in enumerate(source.splitlines(), 1) if "x = x // (n - 77)" in line
    )
    assert f"line {panic_line}" in stderr, textwrap.shorten(stderr, 300)
