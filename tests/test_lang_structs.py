"""`@struct` types on both targets: construction, fields, value semantics,
methods, properties, static methods, `__new__`/`__make__`, operators,
printing, generic structs; and the errors a struct program can meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TARGETS, SpyRunner
from hatch_spy.compiler import check_modules
from hatch_spy.compiler.loader import ModuleFinder, load_program
from hatch_spy.toolchain import Toolchain, get_target

POINTS = """
@struct
class Point:
    x: f64
    y: f64

    def norm2(self) -> f64:
        return self.x * self.x + self.y * self.y

    def moved(self, dx: f64, dy: f64) -> Point:
        return Point(self.x + dx, self.y + dy)

    @property
    def swapped(self) -> Point:
        return Point(self.y, self.x)

    @staticmethod
    def origin() -> Point:
        return Point(0.0, 0.0)

    def __add__(self, other: Point) -> Point:
        return Point(self.x + other.x, self.y + other.y)

    def __eq__(self, other: Point) -> bool:
        return self.x == other.x and self.y == other.y

    def __repr__(self) -> str:
        return "Point(" + str(self.x) + ", " + str(self.y) + ")"

@struct
class Segment:
    a: Point
    b: Point
    label: str

    def __str__(self) -> str:
        return self.label + ": " + repr(self.a) + " -> " + repr(self.b)

def shift(p: Point) -> Point:
    return p.moved(1.0, 0.0)  # a copy: the caller's point is unchanged

def main() -> None:
    p = Point(3, 4)
    q = Point(y=1.5, x=-2.0)
    print(p, q, p.norm2())
    r = shift(p)
    print(p.x, r.x, p.swapped, Point.origin())
    print(p + q, p == Point(3.0, 4.0), p == q, p != q)
    s = Segment(p, q, "s1")
    print(s, str(s), s.a.y, s.b)
    print(Segment(Point.origin(), p + p, "twice").b.x)
"""


def test_structs(spy: SpyRunner) -> None:
    assert spy.output(POINTS).splitlines() == [
        "Point(3.0, 4.0) Point(-2.0, 1.5) 25.0",
        "3.0 4.0 Point(4.0, 3.0) Point(0.0, 0.0)",
        "Point(1.0, 5.5) True False True",
        "s1: Point(3.0, 4.0) -> Point(-2.0, 1.5) s1: Point(3.0, 4.0) -> Point(-2.0, 1.5) 4.0 "
        "Point(-2.0, 1.5)",
        "6.0",
    ]


PACKED = """
@struct
class Packed:
    __ll__: i32

    def __new__(hi: i32, lo: i32) -> Packed:
        return Packed.__make__((hi << 16) | (lo & 0xFFFF))

    @property
    def hi(self) -> i32:
        return self.__ll__ >> 16

    def __lt__(self, other: Packed) -> bool:
        return self.__ll__ < other.__ll__

def main() -> None:
    a = Packed(1, 2)
    b = Packed(1, 3)
    print(a.__ll__, a.hi, a < b, b < a, Packed.__make__(7).__ll__)
"""


def test_new_make_and_ll(spy: SpyRunner) -> None:
    assert spy.output(PACKED) == "65538 1 True False 7\n"


GENERIC = """
@struct
class Pair[T]:
    first: T
    second: T

    def swap(self) -> Self:
        return Self(self.second, self.first)

    def __repr__(self) -> str:
        return "<" + repr(self.first) + " " + repr(self.second) + ">"

def firsts[T](p: Pair[Pair[T]]) -> Pair[T]:
    return Pair[T](p.first.first, p.second.first)

def main() -> None:
    p = Pair[i32](1, 2)
    s = Pair[str]("it's", 'say "hi"')
    pp = Pair[Pair[i32]](p, p.swap())
    print(p, p.swap(), s, pp, firsts[i32](pp))
    print(Pair[i32].__name__, Pair[Pair[str]].__fqn__, Pair[i32].__full_fqn__, i32.__name__)
"""


def test_generic_structs(spy: SpyRunner) -> None:
    assert spy.output(GENERIC).splitlines() == [
        '<1 2> <2 1> <"it\'s" \'say "hi"\'> <<1 2> <2 1>> <1 2>',
        "Pair[i32] main::Pair[Pair[str]] main::Pair[i32]::Self i32",
    ]


REPR_CASES = [
    "plain",
    "it's",
    'say "hi"',
    "both ' and \"",
    "\n\t\\",
    "\x00\x7f\x80",
    "é😀",
    "\u200b\U000e0001",
]


def test_repr_of_str_is_python_s(spy: SpyRunner) -> None:
    body = "\n".join(f"    print(repr({s!r}))" for s in REPR_CASES)
    assert spy.output(f"def main() -> None:\n{body}\n").splitlines() == [
        repr(s) for s in REPR_CASES
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@struct\nclass P:\n    x: i32\n\ndef main() -> None:\n    p = P(1)\n    p.x = 2\n",
            "cannot assign to a field of 'P': a struct value is immutable",
        ),
        (
            "@struct\nclass P:\n    x: i32\n\ndef main() -> None:\n    print(P(1).y)\n",
            "'P' has no field or property 'y'",
        ),
        (
            "@struct\nclass P:\n    x: i32\n\ndef main() -> None:\n    print(P(1))\n",
            "'P' has no __repr__(): define one to print it",
        ),
        (
            "@struct\nclass P:\n    x: i32\n\ndef main() -> None:\n    print(P(1) + P(2))\n",
            "'P' has no method '__add__'",
        ),
        ("@struct\nclass P:\n    x: i32 = 0\n", "struct fields have no default values"),
        ("@struct\nclass P:\n    x = 1\n", "a struct's body holds fields and methods only"),
        ("class P:\n    x: i32\n", "classes must be '@struct' classes"),
        (
            "@struct\nclass P:\n    x: i32\n\ndef main() -> None:\n    print(P(1, 2).x)\n",
            "P() takes 1 positional argument but 2 were given",
        ),
    ],
)
def test_struct_errors(checker: SpyRunner, source: str, message: str) -> None:
    assert checker.compile_error(source).message == message


@pytest.mark.parametrize("target", TARGETS)
def test_struct_layouts_are_the_c_compiler_s(
    tmp_path: Path, toolchain: Toolchain, target: str
) -> None:
    """The type model's size, alignment and offsets of structs (str, nested
    structs and gc_ptr included) are what zig's C gives on each target."""
    (tmp_path / "m.spy").write_text(
        "from unsafe import gc_ptr\n\n@struct\nclass In:\n    a: u8\n    b: f64\n\n"
        "@struct\nclass Out:\n    c: bool\n    s: str\n    inner: In\n    d: i8\n"
        "    cells: gc_ptr[In]\n    e: u8\n"
    )
    module = check_modules(load_program(["m"], ModuleFinder((tmp_path,))))[-1]
    checks = []
    for t in module.structs:
        lo = t.layout(target)
        checks.append(f'_Static_assert(sizeof({t.c_name}) == {lo.size}, "size {t}");')
        checks.append(f'_Static_assert(_Alignof({t.c_name}) == {lo.align}, "align {t}");')
        for f, off in zip(t.fields, t.field_offsets(target), strict=True):
            checks.append(
                f'_Static_assert(offsetof({t.c_name}, f_{f.name}) == {off}, "{t}.{f.name}");'
            )
    from hatch_spy.compiler.cgen import ptr_definition, struct_definition

    types = [f"typedef struct {t.c_name} {t.c_name};" for t in module.structs]
    types += [ptr_definition(t) for t in module.ptr_types]
    types += [struct_definition(t) for t in module.structs]
    source = "\n".join(
        ['#include "spy.h"', "#include <stddef.h>", *types, *checks, "int main(void) { return 0; }"]
    )
    toolchain.build_executable(source, get_target(target))


CONTAINER = """
from unsafe import gc_alloc, gc_ptr, ptr_copy

@struct
class Vec[T]:
    data: gc_ptr[T]
    n: i32

    def __new__(n: i32) -> Self:
        return Self.__make__(gc_alloc[T](n), n)

    def __getitem__(self, i: i32) -> T:
        if i < 0 or i >= self.n:
            raise IndexError("Vec index out of range")
        return self.data[i]

    def __setitem__(self, i: i32, v: T) -> None:
        self.data[i] = v

    def __len__(self) -> i32:
        return self.n

    def grown(self, extra: i32) -> Self:
        out = Self(self.n + extra)
        ptr_copy(out.data, self.data, len(self))
        return out

@struct
class Grid:
    cells: gc_ptr[i32]
    width: i32

    def __getitem__(self, x: i32, y: i32) -> i32:
        return self.cells[y * self.width + x]

    def __setitem__(self, x: i32, y: i32, v: i32) -> None:
        self.cells[y * self.width + x] = v

def main() -> None:
    v = Vec[f64](3)
    v[0] = 1.5
    v[2] = v[0] * 2
    w = v.grown(2)
    w[4] = 9.0
    print(len(v), len(w), v[0], v[1], v[2], w[2], w[4])
    g = Grid(gc_alloc[i32](6), 3)
    g[2, 1] = 7
    print(g[2, 1], g[1, 2] if False else g[0, 0])
    print(v[5])
"""


def test_item_access_and_len_methods(spy: SpyRunner) -> None:
    result = spy.run(CONTAINER)
    assert result.stdout == "3 5 1.5 0.0 3.0 3.0 9.0\n7 0\n"
    assert result.stderr.splitlines()[-1] == "IndexError: Vec index out of range"


CONVERSIONS = """
from operator import OpSpec

@struct
class Meters:
    value: f64

    @blue.metafunc
    def __convert_to__(m_expT, m_gotT, m_x):
        if m_expT.blueval == f64:
            def to_f64(m: Meters) -> f64:
                return m.value
            return OpSpec(to_f64, [m_x])
        return OpSpec.NULL

    @blue.metafunc
    def __convert_from__(m_expT, m_gotT, m_x):
        if m_gotT.blueval == i32:
            def from_i32(n: i32) -> Meters:
                return Meters(f64(n))
            return OpSpec(from_i32, [m_x])
        return OpSpec.NULL

def half(x: f64) -> f64:
    return x / 2

def describe(m: Meters) -> str:
    return str(m.value) + " m"

def main() -> None:
    m = Meters(3.0)
    print(half(m))
    n: Meters = 12
    print(describe(n), describe(7))
"""


def test_conversion_metafunctions(spy: SpyRunner) -> None:
    assert spy.output(CONVERSIONS) == "1.5\n12.0 m 7.0 m\n"


def test_a_conversion_that_answers_null_is_a_type_error(checker: SpyRunner) -> None:
    err = checker.compile_error(CONVERSIONS + "\ndef bad() -> str:\n    return Meters(1.0)\n")
    assert err.message == "mismatched types: expected str, got Meters"


RECORDS = """
from operator import OpSpec

@blue.generic
def record(*types):
    @blue
    def fields():
        out: dict[str, type] = {}
        for i in range(len(types)):
            out["f" + str(i)] = types[i]
        return out

    @struct
    class rec:
        __extra_fields__ = fields()

        @blue.metafunc
        def __contains__(m_self, m_v):
            T = m_v.static_type
            @blue
            def build(i):
                if i == len(types):
                    def none(self: rec, v: T) -> bool:
                        return False
                    return none
                rest = build(i + 1)
                if types[i] != T:
                    return rest
                name = "f" + str(i)
                def check(self: rec, v: T) -> bool:
                    return getattr(self, name) == v or rest(self, v)
                return check
            return OpSpec(build(0), [m_self, m_v])
    return rec

@struct
class Span:
    lo: i32
    hi: i32

    def __contains__(self, x: i32) -> bool:
        return self.lo <= x and x < self.hi

def main() -> None:
    r = record[str, i32, str]("a", 5, "b")
    print(r.f0, r.f1, r.f2, "b" in r, "c" in r, 5 in r, 6 not in r, 2.5 in r)
    s = Span(1, 4)
    print(3 in s, 4 in s, 0 not in s)
"""


def test_variadic_generics_extra_fields_and_in(spy: SpyRunner) -> None:
    assert spy.output(RECORDS) == "a 5 b True False True True False\nTrue False True\n"
