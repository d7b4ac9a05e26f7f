"""Blue (compile-time) evaluation: `@blue` functions, blue locals, `COLOR`,
on both targets; errors in blue code; and the same programs under CPython
where the semantics agree (a blue function is a plain function there)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import SpyRunner
from hatch_spy.compiler import blue
from wheelkit import other_pythons

BLUE_PROGRAM = """
N: i32 = 12

@blue
def leibniz(tol: f64) -> f64:
    total = 0.0
    k = 0
    term = 1.0
    while abs(term) > tol:
        if k % 2 == 0:
            term = 1.0 / (2 * k + 1)
        else:
            term = -1.0 / (2 * k + 1)
        total = total + term
        k += 1
    return 4 * total

@blue
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

@blue
def triangle(n: i32) -> i32:
    t = 0
    for i in range(1, n + 1):
        if i == 5:
            continue
        t = t + i
        if t > 1000:
            break
    return t

@blue
def greeting(name):
    return "hello " + name + "!"

PI = leibniz(0.0001)

def main() -> None:
    print(PI, leibniz(0.01))
    print(fib(N), fib(20) + 1)
    print(triangle(10), triangle(100))
    print(greeting("blue"), len(greeting("x")))
    print(leibniz(tol=0.5) * 2)
"""


def cpython_output(source: str) -> str:
    """What CPython prints for the program, `@blue` being a plain function."""
    namespace: dict[str, object] = {"blue": lambda f: f, "i32": int, "f64": float}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(textwrap.dedent(source), namespace)
        namespace["main"]()  # type: ignore[operator]
    return out.getvalue()


def test_blue_functions_run_at_compile_time(spy: SpyRunner) -> None:
    assert spy.output(BLUE_PROGRAM) == cpython_output(BLUE_PROGRAM)


def test_blue_functions_are_not_compiled(spy: SpyRunner) -> None:
    from hatch_spy.compiler import compile_program_to_c

    c_source = compile_program_to_c(spy.write(BLUE_PROGRAM))
    assert "leibniz" not in c_source and "fib" not in c_source


COLORS = """
from __spy__ import COLOR
import __spy__

K: i32 = 3
var counter: i32 = 0

@blue
def seven():
    return 7

def red_seven() -> i32:
    return 7

def f(p: i32) -> None:
    const C = K * 2
    once = C + 1
    twice = 1
    twice = 2
    from_red = red_seven()
    from_blue = seven()
    from_param = p + 1
    if p > 0:
        in_if = 5
        print("in_if", COLOR(in_if))
    for i in range(1):
        in_loop = 5
        print("in_loop", COLOR(in_loop), "i", COLOR(i))
    bumped = 1
    bumped += 1
    print("literal", COLOR(1), COLOR("s"), COLOR(1.5 * 2))
    print("C", COLOR(C), C, "once", COLOR(once), once)
    print("twice", COLOR(twice), "param", COLOR(p), COLOR(from_param))
    print("K", COLOR(K), "counter", __spy__.COLOR(counter))
    print("calls", COLOR(from_red), COLOR(from_blue), COLOR(seven()), COLOR(red_seven()))
    print("bumped", COLOR(bumped), bumped)

def main() -> None:
    f(1)
"""


def test_color_tells_blue_from_red(spy: SpyRunner) -> None:
    assert spy.output(COLORS).splitlines() == [
        "in_if red",
        "in_loop red i red",
        "literal blue blue blue",
        "C blue 6 once blue 7",
        "twice red param red red",
        "K blue counter red",
        "calls red blue blue red",
        "bumped red 2",
    ]


def test_blue_locals_keep_their_type(spy: SpyRunner) -> None:
    """A blue local is a typed value, not a literal that adapts: i8 + i32
    widens as for red operands (a literal 300 would not fit an i8)."""
    out = spy.output(
        """
        def main() -> None:
            small: i8 = 100
            x = 300
            print(small + x, x * x * x * x)
        """
    )
    assert out == f"400 {(300**4 + 2**31) % 2**32 - 2**31}\n"


def test_a_blue_local_that_would_panic_stays_red(spy: SpyRunner) -> None:
    """Its panic happens where and when the code runs, as in Python."""
    result = spy.run(
        """
        def main() -> None:
            print("before")
            x = 1 // 0
            print(x)
        """
    )
    assert (result.stdout, result.returncode) == ("before\n", 1)
    assert result.stderr.splitlines()[-1] == "ZeroDivisionError: integer division or modulo by zero"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("abs(-5)", "5"),
        ("abs(i8(-128))", "-128"),  # wraps as negation does
        ("abs(-2147483647)", "2147483647"),
        ("abs(u8(200))", "200"),
        ("abs(-2.5)", "2.5"),
        ("abs(-0.0)", "0.0"),
        ("abs(f32(-1.5))", "1.5"),
        ("abs(i64(-9000000000))", "9000000000"),
    ],
)
def test_abs(spy: SpyRunner, expr: str, expected: str) -> None:
    """abs() of red values (a parameter keeps them red) and of blue ones."""
    arg = expr[4:-1]
    program = f"""
    def main() -> None:
        v = {arg}
        v2 = v
        v2 = {arg}
        print(abs(v), abs(v2))
    """
    assert spy.output(program) == f"{expected} {expected}\n"


# ---- errors --------------------------------------------------------------------


def test_an_exception_in_blue_code_is_a_compile_error_with_its_call_chain(
    checker: SpyRunner,
) -> None:
    err = checker.compile_error(
        """
        @blue
        def inner(x):
            if x > 2:
                raise TypeError("too big: " + str(x))
            return x

        @blue
        def outer(x):
            return inner(x + 1)

        def main() -> None:
            print(outer(5))
        """
    )
    assert (err.loc.line, err.message) == (5, "TypeError: too big: 6")
    assert err.notes == [
        "  in blue function 'inner', called at main.spy:10:12",
        "  in blue function 'outer', called at main.spy:13:11",
    ]


def test_a_panic_in_blue_code_is_a_compile_error(checker: SpyRunner) -> None:
    err = checker.compile_error(
        """
        @blue
        def div(a, b):
            return a // b

        X = div(1, 0)

        def main() -> None:
            print(X)
        """
    )
    assert (err.loc.line, err.message) == (
        4,
        "ZeroDivisionError: integer division or modulo by zero",
    )
    assert err.notes == ["  in blue function 'div', called at main.spy:6:5"]


def test_endless_blue_code_stops_at_the_step_limit(
    checker: SpyRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blue, "BLUE_STEP_LIMIT", 5_000)
    err = checker.compile_error(
        """
        @blue
        def spin():
            k = 0
            while True:
                k = k + 1

        def main() -> None:
            spin()
        """
    )
    assert err.message == "blue code did not finish within 5,000 steps (an endless loop?)"
    assert err.loc.line in (5, 6)


def test_endless_blue_recursion_stops(checker: SpyRunner) -> None:
    err = checker.compile_error(
        """
        @blue
        def down(n):
            return down(n + 1)

        def main() -> None:
            print(down(0))
        """
    )
    assert err.message == f"blue calls nested deeper than {blue.BLUE_DEPTH_LIMIT}"
    assert len(err.notes) == blue.BLUE_DEPTH_LIMIT


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        (
            "def red() -> i32:\n    return 1\n\n@blue\ndef b(x):\n    return x\n\n"
            "def main() -> None:\n    print(b(red()))\n",
            9,
            "argument 'x' of blue function 'b' must be known at compile time",
        ),
        (
            "def main() -> None:\n    x = 1\n    x = 2\n    const C = x + 1\n    print(C)\n",
            4,
            "the value of const 'C' must be known at compile time",
        ),
        (
            "def main() -> None:\n    const C = 1\n    C = 2\n",
            3,
            "cannot assign to const 'C'",
        ),
        (
            "@blue\ndef b(x: i32) -> i32:\n    return x\n\ndef main() -> None:\n    print(b(1.5))\n",
            6,
            "mismatched types: expected i32, got f64",
        ),
        (
            "@other\ndef b():\n    pass\n\ndef main() -> None:\n    pass\n",
            1,
            "name 'other' is not defined",
        ),
        (
            "@blue\ndef b():\n    return 1\n\ndef main() -> None:\n    print(b)\n",
            6,
            "'b' is a blue function, known only at compile time: it has no run-time value",
        ),
    ],
)
def test_blue_compile_errors(checker: SpyRunner, source: str, line: int, message: str) -> None:
    err = checker.compile_error(source)
    assert (err.loc.line, err.message) == (line, message)


# ---- functions made by blue code: decorators, generics --------------------------

DECORATED = """
@blue
def twice(fn):
    def wrapper(x: i32) -> i32:
        return fn(fn(x))
    return wrapper

@twice
def inc(x: i32) -> i32:
    return x + 1

@twice
@twice
def double(x: i32) -> i32:
    return x * 2

def main() -> None:
    print(inc(5), double(1))
"""


def test_blue_decorators_make_the_decorated_function(spy: SpyRunner) -> None:
    assert spy.output(DECORATED) == "7 16\n"


GENERICS = """
@blue.generic
def add(T):
    def impl(x: T, y: T) -> T:
        return x + y
    return impl

def scale[T, k](x: T) -> T:
    return x * k

def twice[T](x: T) -> T:
    return add[T](x, x)

triple = scale[i32, 3]

def main() -> None:
    print(add[i32](1, 2), add[str]("a", "b"), add[f64](0.5, 0.25))
    print(scale[f64, 2](1.25), triple(5), scale[i32, 3](6))
    print(twice[str]("ab"), twice[i64](21))
"""


def test_generics_compile_once_per_specialization(spy: SpyRunner) -> None:
    from hatch_spy.compiler import compile_program_to_c

    assert spy.output(GENERICS).splitlines() == ["3 ab 0.75", "2.5 15 18", "abab 42"]
    c_source = compile_program_to_c(spy.write(GENERICS))
    # scale[i32, 3] is written twice (once through `triple`): one function
    assert c_source.count("int32_t spy_main$scale$$5b$i32$$2c$$$20$3$$5d$(int32_t v_x) {") == 1


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        (
            "@blue.generic\ndef g(T):\n    def impl(x: T) -> T:\n        return x\n    return impl\n\n"
            "def main() -> None:\n    print(g(1))\n",
            8,
            "'g' is @blue.generic: call it with [] first",
        ),
        (
            "@blue\ndef b(T):\n    return 1\n\ndef main() -> None:\n    print(b[i32])\n",
            6,
            "'b' is called with (), not [] (it is not @blue.generic)",
        ),
        (
            "def neg[T](x: T) -> T:\n    return -x\n\ndef main() -> None:\n    print(neg[str]('a'))\n",
            2,
            "bad operand type for unary -: 'str'",
        ),
        (
            "@blue\ndef deco(fn):\n    return 42\n\n@deco\ndef f() -> None:\n    pass\n\n"
            "def main() -> None:\n    f()\n",
            5,
            "a decorator must return a function",
        ),
    ],
)
def test_generic_and_decorator_errors(
    checker: SpyRunner, source: str, line: int, message: str
) -> None:
    err = checker.compile_error(source)
    assert (err.loc.line, err.message) == (line, message)


def test_an_error_in_a_specialization_names_it(checker: SpyRunner) -> None:
    err = checker.compile_error(
        "def neg[T](x: T) -> T:\n    return -x\n\ndef main() -> None:\n    print(neg[str]('a'))\n"
    )
    assert err.notes == ["  in 'neg[str]', compiled for its blue values"]


def test_the_undecorated_function_is_not_exported(tmp_path: Path) -> None:
    from hatch_spy.compiler import check_modules
    from hatch_spy.compiler.loader import ModuleFinder, load_program

    (tmp_path / "m.spy").write_text(DECORATED)
    module = check_modules(load_program(["m"], ModuleFinder((tmp_path,))))[-1]
    public = sorted(f.name for f in module.funcs.values() if f.is_public)
    assert public == ["double", "inc", "main"]


# ---- metafunctions ----------------------------------------------------------------

METAFUNCS = """
from operator import OpSpec

@blue.metafunc
def show(m_x):
    if m_x.static_type == int:
        def show_int(x: int) -> None:
            print("int", x)
        return OpSpec(show_int)
    if m_x.static_type == str:
        def show_str(x: str) -> None:
            print("str", x)
        return OpSpec(show_str)
    return OpSpec.NULL

@blue.metafunc
def total(*args_m):
    if len(args_m) == 2:
        m0, m1 = args_m
        T = m0.static_type
        def total2(a: T, b: T) -> T:
            return a + b
        return OpSpec(total2)
    m0, m1, m2 = args_m
    T = m0.static_type
    def total3(a: T, b: T, c: T) -> T:
        return a + b + c
    return OpSpec(total3)

@blue.metafunc
def scale(m_x, m_k):
    if m_k.color == "red":
        raise TypeError("the factor must be blue")
    k = m_k.blueval
    T = m_x.static_type
    def by_k(x: T) -> T:
        return x * k
    return OpSpec(by_k, [m_x])

def main() -> None:
    n = 20
    n = n + 1
    show(n)
    show("hi")
    print(total(1, 2), total("a", "b", "c"), total(0.5, 0.25))
    print(scale(n, 2), scale(1.5, 3), scale(n, 2) + 1)
"""


def test_metafunctions_dispatch_on_what_is_known_of_the_arguments(spy: SpyRunner) -> None:
    assert spy.output(METAFUNCS).splitlines() == ["int 21", "str hi", "3 abc 0.75", "42 4.5 43"]


def line_of(source: str, text: str) -> int:
    return source[: source.index(text)].count("\n") + 1


@pytest.mark.parametrize(
    ("call", "where", "message", "col"),
    [
        ("show(1.5)", "    show(1.5)", "TypeError: show() has no implementation for (f64)", None),
        ("print(scale(2, n))", "raise TypeError", "TypeError: the factor must be blue", 11),
        ("print(total(1))", "m0, m1, m2 = args_m", "ValueError: cannot unpack 1 values into 3", 11),
    ],
)
def test_metafunction_errors(
    checker: SpyRunner, call: str, where: str, message: str, col: int | None
) -> None:
    """At the call, or in the metafunction with the call it came from."""
    source = METAFUNCS.replace('    show("hi")\n', f'    show("hi")\n    {call}\n')
    err = checker.compile_error(source)
    assert (err.loc.line, err.message) == (line_of(source, where), message)
    call_line = line_of(source, f"    {call}")
    name = call.removeprefix("print(").split("(")[0]
    expected = (
        []
        if col is None
        else [f"  in blue function '{name}', called at main.spy:{call_line}:{col}"]
    )
    assert err.notes == expected


def test_blue_functions_defined_in_blue_code(spy: SpyRunner) -> None:
    """They see the frame's values as they are when called (a Python
    closure), so one can call itself."""
    source = """
@blue
def count_multiples(k, limit):
    @blue
    def go(i, found):
        if i >= limit:
            return found
        if i % k == 0:
            return go(i + 1, found + 1)
        return go(i + 1, found)
    return go(0, 0)

def main() -> None:
    print(count_multiples(3, 20), count_multiples(7, 50))
"""
    assert spy.output(source) == "7 8\n"


def test_types_print_as_spy_prints_them(spy: SpyRunner) -> None:
    out = spy.output(
        """
        @struct
        class P:
            x: i32

        def show[T](x: T) -> str:
            return str(T) + " " + repr(x)

        def main() -> None:
            print(i32, str(f64), P)
            print(show[str]("a"), show[i32](3))
        """
    )
    assert (
        out
        == "<spy type 'i32'> <spy type 'f64'> <spy type 'P'>\n<spy type 'str'> 'a' <spy type 'i32'> 3\n"
    )


def test_a_recursive_generic_struct_stops_with_a_short_chain(checker: SpyRunner) -> None:
    err = checker.compile_error(
        "@struct\nclass N[T]:\n    next: N[T]\n\ndef main() -> None:\n    x = N[i32]\n"
    )
    assert err.message == f"blue calls nested deeper than {blue.BLUE_DEPTH_LIMIT}"
    text = err.format().splitlines()
    assert len(text) < 10
    assert text[-2:] == [
        "  [the line above is repeated 98 more times]",
        "  in blue function 'N[i32]', called at main.spy:6:9",
    ]


@pytest.mark.parametrize("python", other_pythons(), ids=lambda p: p.parent.parent.name)
def test_generics_compile_the_same_on_every_python(python: Path, tmp_path: Path) -> None:
    """`ast` parses `def f[T]` only from 3.12 on: the sugar is read by our own
    rewrite, so every Python we support compiles it, to the same C."""
    from hatch_spy.compiler import compile_program_to_c

    main = tmp_path / "main.spy"
    main.write_text(GENERICS + "\n@struct\nclass Box[T]:\n    item: T\n")
    repo = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(str(repo / p) for p in (".", "abi/src", "runtime/src", "linker/src"))
    code = "import sys; from pathlib import Path; from hatch_spy.compiler import compile_program_to_c; "
    code += "sys.stdout.write(compile_program_to_c(Path(sys.argv[1])))"
    proc = subprocess.run(
        [str(python), "-c", code, str(main)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == compile_program_to_c(main)


BLUE_PRINTS = """
@blue
def table(n):
    for i in range(n):
        print("row", i, i * 0.5, i == 1, i32, None)
    return n

N = table(2)

def main() -> None:
    print("run", N)
"""


def test_print_in_blue_code_prints_while_compiling(
    spy: SpyRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    """As SPy's redshift does: before the program runs, formatted as print is."""
    assert spy.output(BLUE_PRINTS) == "run 2\n"
    rows = "row 0 0.0 False <spy type 'i32'> None\nrow 1 0.5 True <spy type 'i32'> None\n"
    assert capsys.readouterr().out == rows


def test_emit_c_keeps_blue_prints_out_of_the_c(tmp_path: Path) -> None:
    from conftest import hatch_spy_cli

    (tmp_path / "p.spy").write_text(BLUE_PRINTS)
    proc = hatch_spy_cli("emit-c", str(tmp_path / "p.spy"))
    assert proc.returncode == 0
    assert proc.stdout.startswith("/* generated by hatch-spy")
    assert proc.stderr.startswith("row 0")


TAGGED = """
from operator import OpSpec
from __spy__ import interp_tuple


@blue.generic
def Tagged(_T: type, *_tags):
    @struct
    class Tag:
        scale: i32

        @property
        def T(self) -> type:
            return _T

        @property
        def tags(self) -> interp_tuple:
            return _tags

        @property
        def doubled(self) -> i32:
            return self.scale * 2

        @blue.metafunc
        def __convert_to__(m_expT, m_gotT, m_x):
            if m_expT.blueval == type:
                def get_T() -> type:
                    return _T
                return OpSpec(get_T, [])
            return OpSpec.NULL

    return Tag(21)


Meters = Tagged[f64, "length", "SI"]
Count = Tagged[i64]


def main() -> None:
    print(Meters.T, Count.T, Meters.scale, Meters.doubled)
    print(Meters.tags)
    T: type = Meters
    U: type = Count
    print(T, U, T == f64, U == T)
    x: T = 1.5
    print(x * 2.0)
"""


def test_a_struct_instance_made_at_compile_time(spy: SpyRunner) -> None:
    """A generic returning an instance of its struct: a blue value at module
    level, whose fields and properties (one returning a type, one a blue
    tuple) the compiler computes, and which `__convert_to__` turns into a
    type where one is expected. A blue tuple prints as SPy prints it, with an
    address made from its contents (builds stay byte-identical)."""
    out = spy.output(TAGGED).splitlines()
    assert out[0] == "<spy type 'f64'> <spy type 'i64'> 21 42"
    assert re.fullmatch(r"<spy `__spy__::interp_tuple` object at 0x[0-9a-f]{8}>", out[1])
    assert out[2:] == ["<spy type 'f64'> <spy type 'i64'> True False", "3.0"]
    assert spy.output(TAGGED).splitlines()[1] == out[1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return x == i32", "cannot compare a run-time i32 with a type"),
        ("return i32 < f64", "'<' does not compare types or functions"),
        ("return i32 == i32 == i32", "a chain of comparisons cannot compare types or functions"),
    ],
)
def test_comparing_types_in_red_code(checker: SpyRunner, body: str, message: str) -> None:
    error = checker.compile_error(f"def f(x: i32) -> bool:\n    {body}\n")
    assert error.message.startswith(message)


def test_types_compare_at_compile_time_in_red_code(spy: SpyRunner) -> None:
    out = spy.output(
        "def main() -> None:\n"
        "    T = i32\n"
        "    print(T == i32, T != i32, T == f64, int == i32, float == f64, T == type)\n"
    )
    assert out == "True False False True True False\n"


FORCE_INLINE = """
from __spy__ import force_inline

@force_inline
def sq(x: i32) -> i32:
    y = x * x
    return y

@force_inline
def shout(s: str) -> None:
    print("<" + s + ">")

def main() -> None:
    print(sq(7) + sq(2))
    shout("hi")
"""


def test_force_inline(spy: SpyRunner, tmp_path: Path) -> None:
    assert spy.output(FORCE_INLINE) == "53\n<hi>\n"
    (tmp_path / "fi.spy").write_text(FORCE_INLINE)
    from hatch_spy.compiler import compile_program_to_c

    c = compile_program_to_c(tmp_path / "fi.spy")
    assert "static inline __attribute__((always_inline)) int32_t spy_fi$sq(int32_t v_x) {" in c


FORCE_INLINE_METHOD = """
from __spy__ import force_inline

@struct
class Box:
    v: i32

    @force_inline
    def get(self, k: i32) -> i32:
        return self.v * k

def main() -> None:
    b = Box(6)
    print(b.get(7))
"""


def test_force_inline_on_a_method(spy: SpyRunner, tmp_path: Path, checker: SpyRunner) -> None:
    assert spy.output(FORCE_INLINE_METHOD) == "42\n"
    (tmp_path / "fm.spy").write_text(FORCE_INLINE_METHOD)
    from hatch_spy.compiler import compile_program_to_c

    c = compile_program_to_c(tmp_path / "fm.spy")
    assert "static inline __attribute__((always_inline)) int32_t spy_fm$Box$$2e$get(" in c
    two_returns = FORCE_INLINE_METHOD.replace(
        "        return self.v * k", "        if k > 0:\n            return 1\n        return 0"
    )
    error = checker.compile_error(two_returns)
    assert error.message.startswith("@force_inline requires a single tail return")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@force_inline\n@blue\ndef f(x):\n    return x\n",
            "@force_inline cannot be applied to @blue functions",
        ),
        (
            "@blue\ndef deco(f):\n    return f\n\n@deco\n@force_inline\ndef f(x: i32) -> i32:\n    return x\n",
            "@force_inline cannot be combined with other decorators",
        ),
        (
            "@force_inline\ndef f(x: i32) -> i32:\n    if x > 0:\n        return 1\n    return 0\n",
            "@force_inline requires a single tail return: `return` must be the last statement",
        ),
        (
            "@force_inline\ndef f(x: i32) -> i32:\n    while True:\n        pass\n",
            "@force_inline requires a single tail return: missing `return` at the end",
        ),
    ],
)
def test_force_inline_errors(checker: SpyRunner, source: str, message: str) -> None:
    error = checker.compile_error("from __spy__ import force_inline\n\n" + source)
    assert error.message.startswith(message)
