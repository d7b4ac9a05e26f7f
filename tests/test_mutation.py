"""Which array arguments a function may write (compiler/mutation.py): a
read-only buffer is refused for those, and on wasm only those are copied
back. Over-approximate but never under: every way of writing is caught.
Compile stage only: no zig."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hatch_spy.compiler import check_modules
from hatch_spy.compiler.loader import ModuleFinder, load_program
from hatch_spy.compiler.mutation import written_params

SOURCE = """
from array import array
from unsafe import gc_ptr, ptr_copy

def reads(a: array[f64, 1]) -> f64:
    s = 0.0
    for x in a:
        s = s + x
    return s

def reads_rows(m: array[f64, 2]) -> f64:
    s = 0.0
    for row in m:
        s = s + row[0]
    return s

def writes(a: array[f64, 1]) -> None:
    a[0] = 1.0

def writes_second(a: array[f64, 1], b: array[f64, 1]) -> None:
    b[0] = a[0]

def writes_a_row(m: array[f64, 2]) -> None:
    for row in m:
        row[0] = 2.0

def writes_through_a_local(a: array[f64, 1]) -> None:
    b = a
    c = b
    c[0] = 3.0

def writes_through_a_helper(a: array[f64, 1], b: array[f64, 1]) -> None:
    _set(b)

def _set(x: array[f64, 1]) -> None:
    x[0] = 4.0

def fresh_result(a: array[f64, 1]) -> array[f64, 1]:
    out = array[f64, 1](len(a))
    for i in range(len(a)):
        out[i] = a[i] * 2.0
    return out

def recursive(a: array[f64, 1], n: i32) -> None:
    if n > 0:
        recursive(a, n - 1)
    else:
        a[0] = 0.0

def via_tuple(a: array[f64, 1]) -> None:
    t = (a, 1)
    x, y = t
    x[0] = 5.0

def copies_into(dst: gc_ptr[f64], src: gc_ptr[f64]) -> None:
    ptr_copy(dst, src, 1)
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[int]]:
    path: Path = tmp_path_factory.mktemp("mutation")
    (path / "m.spy").write_text(textwrap.dedent(SOURCE))
    modules = check_modules(load_program(["m"], ModuleFinder((path,))))
    found = written_params(modules)
    return {f.name: sorted(found.get((f.module, f.name), ())) for f in modules[-1].funcs.values()}


@pytest.mark.parametrize(
    ("func", "params"),
    [
        ("reads", []),
        ("reads_rows", []),
        ("writes", [0]),
        ("writes_second", [1]),
        ("writes_a_row", [0]),
        ("writes_through_a_local", [0]),
        ("writes_through_a_helper", [1]),
        ("fresh_result", []),
        ("recursive", [0]),
        ("via_tuple", [0]),
        ("copies_into", [0]),
    ],
)
def test_written_parameters(written: dict[str, list[int]], func: str, params: list[int]) -> None:
    assert written[func] == params
