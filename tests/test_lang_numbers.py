"""Integer and float semantics: wrapping, Python's floor rules, mixed
arithmetic and casts. Every test runs on native and on wasm."""

from __future__ import annotations

import pytest

from conftest import SpyRunner


def expr_program(decls: str, exprs: list[str]) -> str:
    lines = "\n".join(f"    print({e})" for e in exprs)
    return f"def main() -> None:\n{decls}\n{lines}\n"


def test_i32_wraps_at_its_width(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            x: i32 = 2147483647
            x += 1
            print(x)
            y: i32 = -2147483648
            print(y - 1)
            print(x * 2)
        """
    )
    assert out.split() == ["-2147483648", "2147483647", "0"]


@pytest.mark.parametrize(
    ("decl", "expr", "expected"),
    [
        ("x: i8 = 127", "x + 1", "-128"),
        ("x: i8 = -128", "-x", "-128"),
        ("x: u8 = 255", "x + 1", "0"),
        ("x: u8 = 0", "x - 1", "255"),
        ("x: u32 = 0", "x - 1", "4294967295"),
        ("x: u32 = 4000000000", "x + x", "3705032704"),
        ("x: i64 = 9223372036854775807", "x + 1", "-9223372036854775808"),
        ("x: u64 = 18446744073709551615", "x + 1", "0"),
        ("x: i64 = 3000000000", "x * 3", "9000000000"),
        ("x: u8 = 200", "x * 2", "144"),
    ],
)
def test_every_integer_type_wraps(spy: SpyRunner, decl: str, expr: str, expected: str) -> None:
    assert spy.output(expr_program(f"    {decl}", [expr])).strip() == expected


FLOOR_CASES = [(7, 2), (-7, 2), (7, -2), (-7, -2), (6, 3), (-6, 3), (0, 5), (1, -1)]


def test_floor_division_and_modulo_follow_python(spy: SpyRunner) -> None:
    exprs = []
    for a, b in FLOOR_CASES:
        exprs += [f"i32({a}) // i32({b})", f"i32({a}) % i32({b})"]
        exprs += [f"i64({a}) // i64({b})", f"i64({a}) % i64({b})"]
        exprs += [f"f64({a}) // f64({b})", f"f64({a}) % f64({b})"]
    expected = []
    for a, b in FLOOR_CASES:
        expected += [str(a // b), str(a % b)] * 2 + [repr(float(a) // b), repr(float(a) % b)]
    assert spy.output(expr_program("", exprs)).split() == expected


def test_min_floordiv_minus_one_wraps_instead_of_trapping(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            x: i32 = -2147483648
            y: i32 = -1
            print(x // y, x % y)
        """
    )
    assert out.split() == ["-2147483648", "0"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("7 / 2", "3.5"),
        ("4 / 2", "2.0"),
        ("1 / 3", repr(1 / 3)),
        ("i64(10) / i64(4)", "2.5"),
        ("u8(9) / u8(2)", "4.5"),
        ("7.5 / 2", "3.75"),
    ],
)
def test_true_division_always_gives_f64(spy: SpyRunner, expr: str, expected: str) -> None:
    assert spy.output(expr_program("", [expr])).strip() == expected


def test_mixed_int_and_float_arithmetic_gives_f64(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            n: i32 = 3
            x: f64 = 0.5
            print(n + x, x * n, n - x, n < x, n == 3.0)
            y = n * 2.0
            print(y)
        """
    )
    assert out.splitlines() == ["3.5 1.5 2.5 False True", "6.0"]


def test_mixed_integer_widths_widen(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            a: i8 = 100
            b: i32 = 100000
            c: i64 = 5000000000
            print(a + b, b + c, a * c)
        """
    )
    assert out.split() == ["100100", "5000100000", "500000000000"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("2 ** 10", "1024"),
        ("2 ** 31", "-2147483648"),
        ("i64(3) ** 30", str(3**30)),
        ("2.0 ** 0.5", repr(2.0**0.5)),
        ("2.0 ** -1", "0.5"),
        ("1 << 4", "16"),
        ("-16 >> 2", "-4"),
        ("1 << 32", "0"),
        ("-1 >> 40", "-1"),
        ("u32(4294967295) >> 4", str(4294967295 >> 4)),
        ("0b1100 & 0b1010", "8"),
        ("0b1100 | 0b1010", "14"),
        ("0b1100 ^ 0b1010", "6"),
        ("~5", "-6"),
        ("~u8(5)", "250"),
        ("-(-7)", "7"),
        ("+7", "7"),
    ],
)
def test_power_shift_and_bitwise(spy: SpyRunner, expr: str, expected: str) -> None:
    assert spy.output(expr_program("", [expr])).strip() == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("i64(7)", "7"),
        ("f64(7)", "7.0"),
        ("i32(3.9)", "3"),
        ("i32(-3.9)", "-3"),
        ("i8(300)", "44"),
        ("u8(-1)", "255"),
        ("i32(i64(4294967297))", "1"),
        ("u32(-1)", "4294967295"),
        ("i32(1e20)", "2147483647"),
        ("int(2.5)", "2"),
        ("float(3)", "3.0"),
        ("f32(0.1)", "0.1"),
        ("f64(f32(0.1))", "0.10000000149011612"),
        ("bool(0)", "False"),
        ("bool(-3)", "True"),
        ("bool(0.0)", "False"),
        ("bool('')", "False"),
        ("bool('x')", "True"),
        ("i32(True)", "1"),
        ("i32('42')", "42"),
        ("i32('  -17 ')", "-17"),
        ("i32('1_000')", "1000"),
        ("i64('9223372036854775807')", "9223372036854775807"),
        ("u8('255')", "255"),
        ("f64('2.5')", "2.5"),
        ("f64(' 1e3 ')", "1000.0"),
        ("float('-inf')", "-inf"),
    ],
)
def test_casts_by_calling_the_type(spy: SpyRunner, expr: str, expected: str) -> None:
    assert spy.output(expr_program("", [expr])).strip() == expected


@pytest.mark.parametrize(
    ("expr", "kind", "message"),
    [
        ("i32('abc')", "ValueError", "invalid literal for int() with base 10: 'abc'"),
        ("i32('')", "ValueError", "invalid literal for int() with base 10: ''"),
        ("i32('1__0')", "ValueError", "invalid literal for int() with base 10: '1__0'"),
        ("i32('3000000000')", "OverflowError", "value out of range for i32"),
        ("u8('-1')", "OverflowError", "value out of range for u8"),
        ("f64('1.5x')", "ValueError", "could not convert string to float: '1.5x'"),
        ("f64('0x10')", "ValueError", "could not convert string to float: '0x10'"),
    ],
)
def test_bad_string_conversions_panic(spy: SpyRunner, expr: str, kind: str, message: str) -> None:
    result = spy.run(expr_program("", [expr]))
    assert result.returncode == 1
    assert f"{kind}: {message}" in result.stderr


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("a // b", "integer division or modulo by zero"),
        ("a % b", "integer division or modulo by zero"),
        ("a / b", "division by zero"),
        ("x / y", "float division by zero"),
        ("x // y", "float floor division by zero"),
        ("x % y", "float modulo by zero"),
    ],
)
def test_division_by_zero_is_zerodivisionerror(spy: SpyRunner, expr: str, message: str) -> None:
    decls = "    a: i32 = 1\n    b: i32 = 0\n    x: f64 = 1.0\n    y: f64 = 0.0"
    result = spy.run(expr_program(decls, [expr]))
    assert result.returncode == 1
    assert f"ZeroDivisionError: {message}" in result.stderr


def test_literals_adapt_to_the_other_operand(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            a: u8 = 250
            b: i64 = 10000000000
            print(a + 10, b + 1, -2147483648)
        """
    )
    assert out.split() == ["4", "10000000001", "-2147483648"]
