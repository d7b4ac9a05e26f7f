"""SPy's `unsafe` module on both targets: gc_alloc'd blocks, checked item and
field access through gc_ptr, and the memory functions; out-of-bounds and
overlapping uses are panics, never a crash."""

from __future__ import annotations

import pytest

from conftest import SpyRunner

HEADER = """
from unsafe import gc_alloc, gc_ptr, ptr_copy, ptr_copy_slice, ptr_move_slice
from unsafe import ptr_setbytes, ptr_setbytes_slice, ptr_cmp, ptr_cmp_slice

@struct
class Cell:
    value: i32
    weight: f64

@struct
class Box:
    cells: gc_ptr[Cell]
    n: i32

def fill(cells: gc_ptr[Cell], n: i32) -> None:
    for i in range(n):
        cells[i] = Cell(i * i, 0.5 * i)

def total(b: Box) -> i32:
    t = 0
    for i in range(b.n):
        t = t + b.cells[i].value
    return t
"""


def test_blocks_are_shared_and_checked(spy: SpyRunner) -> None:
    out = spy.output(
        HEADER
        + """
def main() -> None:
    cells = gc_alloc[Cell](4)
    print(cells[3].value, cells[3].weight)  # zeroed
    fill(cells, 4)  # the callee writes the caller's block
    b = Box(cells, 4)
    cells.value = 100  # p.x is p[0].x, and the block is mutable
    print(cells[0].value, total(b), b.cells[3].weight)
    nums = gc_alloc[i64](3)
    nums[0] = 5
    nums[2] = nums[0] * 2
    print(nums[0] + nums[1] + nums[2])
"""
    )
    assert out == "0 0.0\n100 114 1.5\n15\n"


def test_memory_functions(spy: SpyRunner) -> None:
    out = spy.output(
        HEADER
        + """
def main() -> None:
    a = gc_alloc[u8](6)
    ptr_setbytes(a, 7, 6)
    ptr_setbytes_slice(a, 1, 3, 200)
    print(a[0], a[1], a[2], a[3])
    b = gc_alloc[u8](6)
    ptr_copy(b, a, 6)
    print(ptr_cmp(a, b, 6), b[1])
    b[5] = u8(9)
    print(ptr_cmp(a, b, 6), ptr_cmp(b, a, 6), ptr_cmp_slice(a, 0, 5, b, 0, 5))
    ptr_move_slice(a, 2, 6, a, 0, 4)  # overlapping: fine for move
    print(a[2], a[3], a[4], a[5])
    c = gc_alloc[i32](3)
    ptr_copy_slice(c, 1, 3, gc_alloc[i32](2), 0, 2)
    print(c[0], c[1])
"""
    )
    assert out == "7 200 200 7\n0 200\n-1 1 0\n7 200 200 7\n0 0\n"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "p = gc_alloc[i32](3)\n    print(p[3])",
            "IndexError: index 3 out of bounds for a block of 3 items",
        ),
        (
            "p = gc_alloc[i32](3)\n    p[-1] = 1",
            "IndexError: index -1 out of bounds for a block of 3 items",
        ),
        (
            "p = gc_alloc[Cell](0)\n    print(p.value)",
            "IndexError: index 0 out of bounds for a block of 0 items",
        ),
        (
            "b = Box(gc_alloc[Cell](1), 1)\n    print(total(Box(b.cells, 2)))",
            "IndexError: index 1 out of bounds for a block of 1 items",
        ),
        (
            "p = gc_alloc[i32](4)\n    ptr_copy_slice(p, 0, 3, p, 1, 4)",
            "ValueError: ptr_copy: the ranges overlap (use ptr_move)",
        ),
        (
            "p = gc_alloc[i32](4)\n    ptr_setbytes_slice(p, 2, 5, 0)",
            "IndexError: ptr_setbytes: range [2, 5) out of bounds for a block of 4 items",
        ),
        ("p = gc_alloc[i32](-1)", "ValueError: gc_alloc() of a negative count"),
        (
            "b = Box(gc_alloc[Cell](0), 0)\n    print(Box.__make__(b.cells, 0).cells[0].value)",
            "IndexError: index 0 out of bounds for a block of 0 items",
        ),
    ],
)
def test_bad_accesses_are_panics(spy: SpyRunner, body: str, error: str) -> None:
    result = spy.run(HEADER + f"\ndef main() -> None:\n    print('before')\n    {body}\n")
    assert (result.stdout, result.returncode) == ("before\n", 1)
    assert result.stderr.splitlines()[-1] == error


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "from unsafe import gc_alloc, ptr_setbytes\n\n@struct\nclass S:\n    s: str\n\n"
            "def main() -> None:\n    p = gc_alloc[S](1)\n    ptr_setbytes(p, 7, 1)\n",
            "ptr_setbytes() over memory holding S: the bytes would be no valid str or gc_ptr; "
            "assign the items instead",
        ),
        (
            "from unsafe import gc_alloc\n\ndef main() -> None:\n    p = gc_alloc(3)\n",
            "write gc_alloc[T](...) with the item type",
        ),
        (
            "from unsafe import gc_alloc, ptr_copy\n\ndef main() -> None:\n"
            "    ptr_copy(gc_alloc[i32](1), gc_alloc[u8](1), 1)\n",
            "ptr_copy(): pointers to different types",
        ),
        (
            "from unsafe import gc_alloc, raw_alloc\n\ndef main() -> None:\n"
            "    print(gc_alloc[i32](1) == raw_alloc[i32](1))\n",
            "unsupported operand types for ==: 'gc_ptr[i32]' and 'raw_ptr[i32]'",
        ),
        (
            "from unsafe import gc_alloc\n\ndef main() -> None:\n"
            "    p = gc_alloc[i32](1)\n    print(p < p)\n",
            "unsupported operand types for <: 'gc_ptr[i32]' and 'gc_ptr[i32]'",
        ),
        (
            "from unsafe import sizeof\n\ndef main() -> None:\n    print(sizeof(None))\n",
            "sizeof(None): it has no values in memory",
        ),
        (
            "from unsafe import raw_alloc\n\ndef main() -> None:\n    p = raw_alloc(3)\n",
            "write raw_alloc[T](...) with the item type",
        ),
    ],
)
def test_unsafe_compile_errors(checker: SpyRunner, source: str, message: str) -> None:
    assert checker.compile_error(source).message == message


def test_fields_of_items_in_a_block_are_assignable(spy: SpyRunner) -> None:
    """`p[i].x = v` writes the heap; a copy taken before keeps its value."""
    out = spy.output(
        HEADER
        + """
def main() -> None:
    cells = gc_alloc[Cell](2)
    before = cells[1]
    cells[1].value = 7
    cells[1].weight = cells[1].weight + 2.5
    print(before.value, cells[1].value, cells[1].weight)
"""
    )
    assert out == "0 7 2.5\n"


RAW = """
from unsafe import raw_alloc, raw_ptr, gc_alloc, gc_ptr, sizeof

@struct
class Point:
    x: i32
    y: f64

@struct
class Named:
    name: str
    cells: gc_ptr[i32]

var cache: raw_ptr[Named] = raw_ptr[Named].NULL

def squares(n: i32) -> raw_ptr[i32]:
    buf = raw_alloc[i32](n)
    for i in range(n):
        buf[i] = i * i
    return buf

def fill() -> None:
    cache = raw_alloc[Named](2)
    cells = gc_alloc[i32](3)
    cells[2] = 42
    cache[0] = Named("zero" + str(0), cells)
    cache[1].name = "one" + str(1)

def is_null(p: gc_ptr[i32]) -> bool:
    return not p

def main() -> None:
    b = squares(5)
    print(b[4], b == b, b != raw_ptr[i32].NULL, squares(1) == squares(1))
    print(is_null(gc_ptr[i32].NULL), is_null(gc_alloc[i32](0)), gc_ptr[i32].NULL == gc_ptr[i32].NULL)
    print(sizeof(i32), sizeof(f64), sizeof(Point), sizeof(u8), sizeof(bool), sizeof(i64))
    print(sizeof(str), sizeof(gc_ptr[i32]), sizeof(Named))
    if cache:
        print("filled too early")
    fill()
    for i in range(200000):
        s = str(i) + "x"  # collections: raw memory is never freed
    print(cache[0].name, cache[1].name, cache[0].cells[2], cache[1].cells == gc_ptr[i32].NULL)
"""


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_raw_pointers_null_comparisons_and_sizeof(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool
) -> None:
    """raw_alloc'd memory is never freed (what a raw_ptr global holds
    survives collections); pointers compare by block and are false when
    NULL; sizeof is the target's (pointers and str differ on wasm32)."""
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    word = 8 if spy.target == "native" else 4
    assert spy.output(RAW).splitlines() == [
        "16 True True False",
        "True False True",
        "4 8 16 1 1 8",
        f"{word} {2 * word} {3 * word}",
        "zero0 one1 42 True",
    ]


LINKED = """
from unsafe import gc_alloc, gc_ptr

@struct
class Node:
    val: i32
    name: str
    next: gc_ptr[Node]

def new_node(val: i32) -> gc_ptr[Node]:
    n = gc_alloc[Node](1)
    n.val = val
    n.name = "n" + str(val)
    return n

def build(k: i32) -> gc_ptr[Node]:
    head = new_node(0)
    cur = head
    for i in range(1, k):
        cur.next = new_node(i)
        cur = cur.next
    return head

def total(n: gc_ptr[Node]) -> i64:
    t: i64 = 0
    cur = n
    while cur:
        t = t + i64(cur.val) + i64(len(cur.name))
        cur = cur.next
    return t

def show(n: gc_ptr[Node]) -> None:
    if n:
        print(n.val, n.name, not n.next)
        show(n.next)

def main() -> None:
    lst = new_node(1)
    lst.next = new_node(2)
    lst.next.next = new_node(3)
    show(lst)
    for r in range(4):
        print(total(build(300)))
"""


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_a_struct_pointing_to_its_own_type(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool
) -> None:
    """A linked list: `next: gc_ptr[Node]` inside Node, NULL when fresh; the
    collector follows the chain (an explicit mark stack, not recursion)."""
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    want = sum(i + len(f"n{i}") for i in range(300))
    assert spy.output(LINKED).splitlines() == [
        "1 n1 False",
        "2 n2 False",
        "3 n3 True",
        *[str(want)] * 4,
    ]


def test_a_struct_cannot_hold_itself_by_value(checker: SpyRunner) -> None:
    error = checker.compile_error("@struct\nclass Node:\n    val: i32\n    next: Node\n")
    assert error.message == "a struct cannot hold itself: use a pointer (gc_ptr[Node])"
    assert error.loc.line == 4
