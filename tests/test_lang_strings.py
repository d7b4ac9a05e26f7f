"""str and print(): UTF-8 strings and Python's exact print formatting."""

from __future__ import annotations

import math
import random
import struct
import subprocess
import sys

import pytest

from conftest import SpyRunner


def test_string_operations(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def greet(name: str) -> str:
            return "Hello, " + name + "!"

        def main() -> None:
            s = greet("wörld")
            print(s, len(s), len(""), len("🥸🥸"))
            print(s == "Hello, wörld!", s != "Hello, wörld!", "a" == "b")
            t = ""
            for i in range(3):
                t = t + str(i) + ","
            print(t)
        """
    )
    assert out.splitlines() == ["Hello, wörld! 13 0 2", "True False False", "0,1,2,"]


def test_str_of_numbers_and_bools(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            print(str(42) + "|" + str(-7) + "|" + str(2.5) + "|" + str(True) + "|" + str(u64(18446744073709551615)))
            print(str(1e16) + "|" + str(0.1 + 0.2) + "|" + str(f32(0.1)))
        """
    )
    assert out.splitlines() == [
        "42|-7|2.5|True|18446744073709551615",
        f"{1e16!r}|{0.1 + 0.2!r}|0.1",
    ]


def test_print_formats_like_python(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            print()
            print("a", 1, 2.0, False, None)
            print(0.1 + 0.2, 20.0, 1e100, 1e-7, -0.0, 1e16, 1e15, 123456789.125)
            print(1 / 3, 2.0 ** 0.5, 1e300 * 1e10, -1e300 * 1e10)
            print("tab\\tand \\"quotes\\"")
        """
    )
    assert out.splitlines() == [
        "",
        "a 1 2.0 False None",
        f"{0.1 + 0.2} 20.0 1e+100 1e-07 -0.0 1e+16 1000000000000000.0 123456789.125",
        f"{1 / 3} {2.0**0.5} inf -inf",
        'tab\tand "quotes"',
    ]


def interesting_floats(count: int) -> list[float]:
    rng = random.Random(20261123)
    values = [
        0.1,
        0.5,
        1.0,
        2.5,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        0.0001234,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        math.pi,
        1 / 7,
        123.456,
    ]
    while len(values) < count:
        bits = rng.getrandbits(64)
        x = struct.unpack("d", struct.pack("Q", bits))[0]
        if math.isfinite(x):
            values.append(x)
        values.append(rng.uniform(-1e6, 1e6))
        values.append(float(rng.randint(-(10**17), 10**17)))
    return values[:count]


def test_float_repr_matches_python_on_thousands_of_values(spy: SpyRunner) -> None:
    values = interesting_floats(1500)
    # literal floats reach C exactly, as hex float literals
    body = "\n".join(f"    print({v!r})" for v in values)
    out = spy.output(f"def main() -> None:\n{body}\n")
    assert out.splitlines() == [repr(v) for v in values]


STR_OPS = """
def main() -> None:
    s = "héllo wörld 🥸!"
    print(s[0], s[1], s[-1], s[-2], s[4], len(s))
    print(s[1:4], s[::-1], s[::2], s[-3:], s[:-3], s[100:], s[2:100:3], s[-100:2], s[5:1:-1])
    print("wö" in s, "xyz" in s, "" in s, "x" not in s, "🥸" in s, "é" in "e")
    print("ab" * 3, 2 * "é", "z" * 0, "q" * -1, len("🥸" * 1000))
    print("a" < "b", "abc" < "abd", "b" > "ab", "é" > "z", "a" <= "a", "" < "a", "Z" >= "a")
    print(ord("A"), ord("é"), ord("🥸"), chr(65), chr(233), chr(129336), chr(0) == "\\x00")
    t = ""
    for i in range(40):
        t = t + s[i % len(s)] * 2 + s[i % 7 : i % 11 : 1 + i % 3]
    print(t, len(t))
"""


def test_str_indexing_slicing_and_operators(spy: SpyRunner) -> None:
    """By code point, as Python: negative indices, slices with any step,
    `in`, `*`, ordering, ord() and chr(); checked against CPython."""
    code = STR_OPS + "\nmain()\n"
    want = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert spy.output(STR_OPS) == want


def test_random_slices_match_python(spy: SpyRunner) -> None:
    rng = random.Random(7)
    text = "aé🥸b€c"
    cases = [tuple(rng.choice([None, *range(-9, 10)]) for _ in range(3)) for _ in range(300)]
    cases = [(a, b, c) for a, b, c in cases if c != 0]

    def show(v: int | None) -> str:
        return "" if v is None else str(v)

    lines = [f"    print(s[{show(a)}:{show(b)}:{show(c)}] + '|')" for a, b, c in cases]
    source = f"def main() -> None:\n    s = {text!r}\n" + "\n".join(lines) + "\n"
    want = "".join(text[a:b:c] + "|\n" for a, b, c in cases)
    assert spy.output(source) == want


@pytest.mark.parametrize(
    ("expr", "kind", "message"),
    [
        ('"abc"[3]', "IndexError", "string index out of range"),
        ('"abc"[-4]', "IndexError", "string index out of range"),
        ('""[0]', "IndexError", "string index out of range"),
        ('"abc"[::0]', "ValueError", "slice step cannot be zero"),
        ('str(ord("ab"))', "TypeError", "ord() expected a character, but string of length 2 found"),
        ("chr(1114112)", "ValueError", "chr() arg not in range(0x110000)"),
        ("chr(-1)", "ValueError", "chr() arg not in range(0x110000)"),
    ],
)
def test_str_operation_panics(spy: SpyRunner, expr: str, kind: str, message: str) -> None:
    result = spy.run(f"def main() -> None:\n    print({expr})\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"{kind}: {message}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('return 1 in "abc"', "TypeError: 'in <string>' requires string as left operand, not i32"),
        ("return ord(5) == 0", "ord() expected string of length 1, but i32 found"),
        ('return chr("a") == "a"', "chr() needs an integer, not str"),
        ('return "a" * 1.5 == "a"', "unsupported operand types for *: 'str' and 'f64'"),
    ],
)
def test_str_operation_errors(checker: SpyRunner, body: str, message: str) -> None:
    assert checker.compile_error(f"def f() -> bool:\n    {body}\n").message == message


def test_str_methods_match_python(spy: SpyRunner) -> None:
    """startswith, endswith, find, index, count and replace over random
    non-ASCII text, empty arguments included, against CPython."""
    rng = random.Random(11)
    alphabet = "ab é🥸"
    cases = [
        (
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 9))),
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 3))),
        )
        for _ in range(150)
    ]

    def line(s: str, t: str) -> str:
        a, b = repr(s), repr(t)
        calls = [f"{a}.startswith({b})", f"{a}.endswith({b})", f"{a}.find({b})"]
        calls += [f"{a}.count({b})", f"{a}.replace({b}, '<>')"]
        return f"    print({', '.join(calls)})"

    lines = [line(s, t) for s, t in cases]
    source = "def main() -> None:\n" + "\n".join(lines) + "\n"
    want = "".join(
        f"{s.startswith(t)} {s.endswith(t)} {s.find(t)} {s.count(t)} {s.replace(t, '<>')}\n"
        for s, t in cases
    )
    assert spy.output(source) == want


def test_str_index_of_a_missing_substring_is_a_value_error(spy: SpyRunner) -> None:
    result = spy.run('def main() -> None:\n    print("abc".index("é"))\n')
    assert result.stderr.splitlines()[-1] == "ValueError: substring not found"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('return "a".casefold() == "A"', "'str' has no method 'casefold' yet"),
        ('return "a".find("a", 1) == 0', "str.find() takes 1 argument (2 given)"),
        ('return "a".startswith(prefix="a")', "str.startswith() takes no keyword arguments"),
        ('return "a".find(1) == 0', "mismatched types: expected str, got i32"),
    ],
)
def test_str_method_errors(checker: SpyRunner, body: str, message: str) -> None:
    assert checker.compile_error(f"def f() -> bool:\n    {body}\n").message.startswith(message)


ITERATE = """
def vowels(s: str) -> i32:
    n = 0
    for ch in s:
        if ch in "aeiouéö":
            n += 1
    return n

def main() -> None:
    s = "héllo wörld 🥸!"
    out = ""
    for c in s:
        if c == " ":
            continue
        if c == "!":
            break
        out = out + c + "."
    print(out, vowels(s), vowels(""))
    for c in "ab":
        for d in "x🥸":
            print(c + d, end_marker(d))

def end_marker(d: str) -> str:
    return d * 2
"""


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_iterating_over_a_str(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool
) -> None:
    """One-character strs by code point, `continue` and `break` included;
    each character is a temporary the collector may take after its iteration."""
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    code = ITERATE.replace("i32", "int") + "\nmain()\n"
    want = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert spy.output(ITERATE) == want


def test_iterating_over_a_number_is_an_error(checker: SpyRunner) -> None:
    error = checker.compile_error("def main() -> None:\n    for x in 5:\n        pass\n")
    assert error.message == "'i32' object is not iterable"


STRIPS = """
def show(s: str) -> None:
    print(repr(s.strip()), repr(s.lstrip()), repr(s.rstrip()), s.isspace())

def main() -> None:
    show("  a b  ")
    show("\\u3000x\\u2028\\t")
    show("")
    show("   ")
    show("é\\n")
    show("\\x1c\\x1dz\\x1e\\x1f")
    show(" 🥸 ")
    show("\\x85\\xa0y\\u200b")
"""


def test_strip_and_isspace_use_python_s_whitespace(spy: SpyRunner) -> None:
    """Unicode whitespace as str.isspace has it (U+3000, U+2028, the \\x1c-\\x1f
    separators, U+0085, no-break space; not the zero-width space)."""
    code = STRIPS + "\nmain()\n"
    want = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert spy.output(STRIPS) == want
