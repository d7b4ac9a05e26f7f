"""Imports between .spy files of one folder, and SPy's math and time modules."""

from __future__ import annotations

import math

from conftest import SpyRunner

GEOMETRY = """
SCALE: f64 = 2.0

def area(w: f64, h: f64) -> f64:
    return w * h * SCALE

def _private() -> i32:
    return 1
"""


def test_import_module_and_from_import(spy: SpyRunner) -> None:
    out = spy.output(
        """
        import geometry
        import geometry as g
        from geometry import area, SCALE
        from geometry import area as a2

        def main() -> None:
            print(geometry.area(2.0, 3.0), g.area(1.0, 1.0), area(1.0, 2.0), a2(3.0, 3.0), SCALE, g.SCALE)
        """,
        files={"geometry.spy": GEOMETRY},
    )
    assert out.split() == ["12.0", "2.0", "4.0", "18.0", "2.0", "2.0"]


def test_transitive_imports_and_shared_dependency(spy: SpyRunner) -> None:
    out = spy.output(
        """
        import a
        import b

        def main() -> None:
            print(a.f(), b.g())
        """,
        files={
            "a.spy": "import base\n\ndef f() -> i32:\n    return base.K + 1\n",
            "b.spy": "from base import K\n\ndef g() -> i32:\n    return K + 2\n",
            "base.spy": "K: i32 = 40\n",
        },
    )
    assert out.split() == ["41", "42"]


def test_same_function_name_in_two_modules(spy: SpyRunner) -> None:
    out = spy.output(
        """
        import a

        def f() -> i32:
            return 1

        def main() -> None:
            print(f(), a.f())
        """,
        files={"a.spy": "def f() -> i32:\n    return 2\n"},
    )
    assert out.split() == ["1", "2"]


def test_math_module(spy: SpyRunner) -> None:
    out = spy.output(
        """
        import math
        from math import sqrt, pi

        def main() -> None:
            print(sqrt(2.0), math.sin(1.0), math.cos(1.0), math.exp(1.0), math.log(10.0))
            print(math.floor(-2.5), math.fabs(-3.25), pi, math.pi * 2)
        """
    )
    first, second = out.splitlines()
    assert first.split() == [
        repr(v)
        for v in (math.sqrt(2.0), math.sin(1.0), math.cos(1.0), math.exp(1.0), math.log(10.0))
    ]
    assert second.split() == ["-3.0", "3.25", repr(math.pi), repr(math.pi * 2)]


def test_time_module(spy: SpyRunner) -> None:
    out = spy.output(
        """
        import time
        from time import time as now

        def main() -> None:
            t0 = time.time()
            t1 = now()
            print(t0 > 1700000000.0, t1 >= t0)
        """
    )
    assert out.split() == ["True", "True"]


BOXES = """
from unsafe import gc_alloc, gc_ptr

@blue.generic
def Box(T):
    @struct
    class Self:
        p: gc_ptr[T]

        def __new__(x: T) -> Self:
            p = gc_alloc[T](1)
            p[0] = x
            return Self.__make__(p)

        def get(self) -> T:
            return self.p[0]

        def bad(self) -> T:
            return self.p[0] + undefined_here

    return Self
"""


def test_generic_of_another_module_resolves_names_there(spy: SpyRunner) -> None:
    """A generic's methods, specialized by a call from another module, see the
    names of the module that defines them (gc_alloc is imported there only)."""
    out = spy.output(
        """
        from boxes import Box

        def main() -> None:
            b = Box[i32](41)
            s = Box[str]("x")
            print(b.get() + 1, s.get())
        """,
        files={"boxes.spy": BOXES},
    )
    assert out.split() == ["42", "x"]


def test_error_in_generic_of_another_module_names_its_file(checker: SpyRunner) -> None:
    err = checker.compile_error(
        """
        from boxes import Box

        def main() -> None:
            print(Box[i32](1).bad())
        """,
        files={"boxes.spy": BOXES},
    )
    assert "undefined_here" in err.message
    assert err.loc.filename.endswith("boxes.spy") and err.loc.line == 19
    assert "undefined_here" in err.loc.source_line
