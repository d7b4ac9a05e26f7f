"""SPy's `array` module (the standard library's array.spy): zero-filled
arrays of 1 to 3 dimensions, multi-index get and set with NumPy's bounds
rules and message, iteration (rows of a 2-D array are views sharing its
items), on both targets, normally and with a collection at every safe point."""

from __future__ import annotations

import pytest

from conftest import SpyRunner

PROGRAM = """
from array import array

def total(a: array[f64, 1]) -> f64:
    s = 0.0
    for x in a:
        s = s + x
    return s

def main() -> None:
    a = array[f64, 1](5)
    print(a[0], a[4], len(a), a.shape)
    for i in range(5):
        a[i] = f64(i) * 1.5
    print(a[0], a[-1], total(a))
    m = array[i32, 2](3, 4)
    for i in range(3):
        for j in range(4):
            m[i, j] = i * 10 + j
    print(len(m), m[2, 3], m[-1, -4], m.shape)
    for row in m:
        row[0] = row[0] + 100
        t = 0
        for v in row:
            t = t + v
        print(len(row), row.shape, t)
    print(m[0, 0], m[1, 0], m[2, 0])
    c = array[u8, 3](2, 3, 4)
    c[1, 2, 3] = u8(7)
    c[0, 0, 0] = u8(255)
    for plane in c:
        print(plane.shape, plane[2, 3], plane[0, 0])
    words = [array[i64, 1](2), array[i64, 1](3)]
    words[1][2] = i64(-9)
    print(len(words[0]), words[1][2])
"""


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_arrays(spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool) -> None:
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    rows = [[i * 10 + j for j in range(4)] for i in range(3)]
    assert spy.output(PROGRAM).splitlines() == [
        "0.0 0.0 5 (5,)",
        f"0.0 6.0 {sum(i * 1.5 for i in range(5))}",
        "3 23 20 (3, 4)",
        *(f"4 (4,) {sum(r) + 100}" for r in rows),
        "100 110 120",
        "(3, 4) 0 255",
        "(3, 4) 7 0",
        "2 -9",
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "a = array[i32, 1](3)\n    print(a[3])",
            "index 3 is out of bounds for axis 0 with size 3",
        ),
        ("a = array[i32, 1](3)\n    a[-4] = 1", "index -4 is out of bounds for axis 0 with size 3"),
        (
            "a = array[f32, 2](2, 5)\n    print(a[1, 5])",
            "index 5 is out of bounds for axis 1 with size 5",
        ),
        (
            "a = array[i8, 3](1, 1, 1)\n    print(a[0, 0, 1])",
            "index 1 is out of bounds for axis 2 with size 1",
        ),
        ("a = array[i32, 1](-1)", "negative dimensions are not allowed"),
    ],
)
def test_array_errors_are_numpys(spy: SpyRunner, body: str, error: str) -> None:
    result = spy.run(f"from array import array\n\ndef main() -> None:\n    {body}\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].split(": ", 1)[1] == error


def test_four_dimensions_are_a_compile_error(checker: SpyRunner) -> None:
    err = checker.compile_error(
        "from array import array\n\ndef main() -> None:\n    a = array[i32, 4](1, 1, 1, 1)\n"
    )
    assert "array supports 1 to 3 dimensions" in err.message


FROM_BUFFER = """
from array import array
from unsafe import gc_alloc

def main() -> None:
    buf = gc_alloc[i32](12)
    for i in range(12):
        buf[i] = i
    m = array[i32, 2].from_buffer(buf, 3, 4)
    m[0, 0] = 100
    print(m[2, 3], m.shape, buf[0])
    v = array[i32, 1].from_buffer(buf, 5)
    print(len(v), v[4])
    c = array[i32, 3].from_buffer(buf, 2, 3, 2)
    print(c[1, 2, 1])
    array[i32, 2].from_buffer(buf, 4, 4)
"""


def test_from_buffer_shares_items_and_checks_the_size(spy: SpyRunner) -> None:
    """from_buffer views the block (writes show through); a shape larger than
    the block is a ValueError, never an item read past its end."""
    result = spy.run(FROM_BUFFER)
    assert result.stdout.splitlines() == ["11 (3, 4) 100", "5 4", "11"]
    assert result.stderr.splitlines()[-1].endswith(
        "ValueError: the view reaches past its buffer of 12 items"
    )
