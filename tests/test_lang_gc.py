"""Collecting temporaries during a call (spy.h, "Collecting temporaries"):
programs that make strings in loops and recursion, with values held across
calls in every way the generated code can hold them, run on both targets,
normally and with SPY_GC_STRESS=1 (a collection at every safe point after an
allocation, so that a value the compiler fails to register is freed at
once), and print what CPython prints."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import SpyRunner
from hatch_spy.compiler import check_modules
from hatch_spy.compiler.cgen import is_huge
from hatch_spy.compiler.loader import ModuleFinder, load_program

# SPy's types and @struct as Python sees them (structs here are never mutated)
PRELUDE = (
    "import dataclasses\nstruct = dataclasses.dataclass(frozen=True)\n"
    "i8 = u8 = i32 = u32 = i64 = u64 = int\nf32 = f64 = float\n"
)

PROGRAMS = {
    "loops": """
        def build(n: i32) -> str:
            s = ""
            for i in range(n):
                if i % 7 == 3:
                    continue
                s = s + str(i % 10)
                if len(s) > 200:
                    break
            return s

        def first_long(n: i32) -> str:
            i = 0
            while i < n:
                t = "w" + str(i) + str(i * i)
                if len(t) > 6:
                    return t  # leaves the loop and the frame
                i += 1
            return "none"

        def nested(n: i32) -> str:
            out = ""
            for i in range(n):
                row = ""
                for j in range(n):
                    row = row + str(i * j % 10)
                out = out + row + "/"
            return out

        def main() -> None:
            print(build(1000))
            print(first_long(100), first_long(3))
            print(nested(12))
    """,
    "held_across_calls": """
        def grow(n: i32) -> str:
            s = ""
            for i in range(n):
                s = s + chr_of(i)
            return s

        def chr_of(i: i32) -> str:
            return str(i % 10)

        def join(first: str, second: str) -> str:
            return first + "|" + second

        @struct
        class Rec:
            name: str
            note: str
            n: i32

        def make(n: i32) -> Rec:
            return Rec("r" + str(n), grow(n), n)

        def describe(r: Rec, extra: str) -> str:
            return r.name + ":" + r.note + ":" + str(r.n) + extra

        def main() -> None:
            a = "left"
            for k in range(3):
                # a temporary on the left, a collecting call on the right
                print(a + str(k) + grow(40 + k))
                print(join(a + str(k), grow(30)))
                print(join(second=grow(20), first=a + "!" + str(k)))
                print(a + "?" + str(k), grow(25), str(k) + a)
                print(a + str(k) == grow(1), grow(2) + a == "01" + a)
                print(describe(Rec(a + str(k), grow(10), k), grow(5) + "."))
                print(describe(make(k + 3), str(k) + grow(7)))
    """,
    "struct_variables": """
        @struct
        class Pair:
            key: str
            value: str

        @struct
        class Nest:
            inner: Pair
            tag: str

        def step(p: Pair, i: i32) -> Pair:
            return Pair(p.value + str(i), p.key)

        def main() -> None:
            p = Pair("a", "b")
            n = Nest(Pair("x", "y"), "t")
            for i in range(500):
                p = step(p, i % 10)
                n = Nest(Pair(n.inner.value, n.tag + str(i % 3)), n.inner.key)
                if len(n.tag) > 30:
                    n = Nest(n.inner, "")
            print(len(p.key), len(p.value), p.key == p.value)
            print(n.inner.key, n.inner.value, n.tag)
    """,
    "recursion": """
        def digits(n: i32) -> str:
            if n == 0:
                return ""
            return digits(n - 1) + str(n % 10)

        def even(n: i32) -> str:
            if n == 0:
                return "e"
            return "(" + odd(n - 1) + str(n) + ")"

        def odd(n: i32) -> str:
            if n == 0:
                return "o"
            return "[" + even(n - 1) + "]"

        def main() -> None:
            s = digits(900)
            print(len(s))
            print(len(even(400)), even(7))
    """,
}


def cpython_output(source: str) -> str:
    code = PRELUDE + textwrap.dedent(source) + "\nmain()\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_temporaries_are_collected_and_values_kept(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, name: str, stress: bool
) -> None:
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    assert spy.output(PROGRAMS[name]) == cpython_output(PROGRAMS[name])


def test_a_huge_function_s_loops_keep_their_strings(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function past HUGE_FUNCTION_NODES keeps its locals in a frame struct
    and its statements in chunk functions, loops included: they register and
    collect too."""
    body = "\n".join(
        f"    t = t + str({k})" if k % 50 else "    for i in range(2):\n        t = t + str(i)"
        for k in range(1, 4200)
    )
    source = f'def main() -> None:\n    t = ""\n{body}\n    print(len(t), t == t + "")\n'
    checked = check_modules(load_program_from(spy, source))
    assert is_huge(checked[-1].funcs["main"])
    monkeypatch.setenv("SPY_GC_STRESS", "1")
    assert spy.output(source) == cpython_output(source)


def load_program_from(spy: SpyRunner, source: str) -> list:  # type: ignore[type-arg]
    main = spy.write(source)
    return load_program(["main"], ModuleFinder((main.parent,)))


BLOCKS = """
from unsafe import gc_alloc, gc_ptr, ptr_copy

@struct
class Leaf:
    name: str
    value: i32

@struct
class Branch:
    label: str
    leaves: gc_ptr[Leaf]

var kept: gc_ptr[Branch] = gc_ptr[Branch].NULL
var names: gc_ptr[str] = gc_ptr[str].NULL

def grow(n: i32, k: i32) -> gc_ptr[Branch]:
    branches = gc_alloc[Branch](n)
    for i in range(n):
        leaves = gc_alloc[Leaf](k)
        for j in range(k):
            leaves[j] = Leaf("l" + str(i) + "." + str(j), i * j)
        branches[i] = Branch("b" + str(i), leaves)
    return branches

def total(b: gc_ptr[Branch], n: i32, k: i32) -> i64:
    t: i64 = 0
    for i in range(n):
        br = b[i]
        t = t + i64(len(br.label))
        for j in range(k):
            t = t + i64(br.leaves[j].value) + i64(len(br.leaves[j].name))
    return t

def remember(n: i32) -> None:
    kept = grow(n, 2)  # a global's now: pinned, with all it reaches

def rename(i: i32, s: str) -> None:
    leaves = kept[i].leaves
    leaves[0].name = s + "!"  # a store into a pinned block

def main() -> None:
    acc: i64 = 0
    for r in range(40):
        acc = acc + total(grow(50, 20), 50, 20)
    print(acc)
    remember(4)
    names = gc_alloc[str](3)
    for i in range(3):
        names[i] = "n" + str(i)
    fresh = gc_alloc[str](3)
    for r in range(30):
        churn = grow(30, 30)
        rename(r % 4, "r" + str(r))
        fresh[r % 3] = "f" + str(r)
    ptr_copy(names, fresh, 2)  # into a pinned block: the copies become its own
    fresh[0] = "gone"
    for r in range(10):
        churn = grow(30, 30)
    print(total(kept, 4, 2), kept[3].leaves[0].name, kept[0].leaves[1].name, kept[2].label)
    print(names[0], names[1], names[2], fresh[0])
"""


def blocks_expected() -> str:
    def total(n: int, k: int) -> int:
        return sum(len(f"b{i}") + sum(i * j + len(f"l{i}.{j}") for j in range(k)) for i in range(n))

    renamed = {i: f"r{r}!" for r in range(30) for i in [r % 4]}
    kept = sum(
        len(f"b{i}") + sum(i * j + len(renamed[i] if j == 0 else f"l{i}.{j}") for j in range(2))
        for i in range(4)
    )
    fresh = {r % 3: f"f{r}" for r in range(30)}
    return f"{40 * total(50, 20)}\n{kept} {renamed[3]} l0.1 b2\n{fresh[0]} {fresh[1]} n2 gone\n"


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_blocks_are_collected_and_globals_keep_theirs(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool
) -> None:
    """gc_alloc'd blocks holding strs and other blocks are temporaries; a
    block stored into a global keeps everything it reaches, stores into it
    included (a field, ptr_copy), through many collections."""
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    assert spy.output(BLOCKS) == blocks_expected()
