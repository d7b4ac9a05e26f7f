"""str and print(): UTF-8 strings and Python's exact print formatting."""

from __future__ import annotations

import math
import random
import struct

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
