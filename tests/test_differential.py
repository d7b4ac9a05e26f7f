"""The same programs under CPython and compiled, on both targets: where values
stay in range, SPy agrees with Python."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import SpyRunner

# SPy's types as Python sees them, so that a .spy program runs under CPython
PRELUDE = "i8 = u8 = i32 = u32 = i64 = u64 = int\nf32 = f64 = float\n"

PROGRAMS = {
    "fib_and_factorial": """
        def fib(n: i32) -> i32:
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)

        def fact(n: i64) -> i64:
            r: i64 = 1
            for i in range(2, n + 1):
                r *= i
            return r

        def main() -> None:
            for n in range(0, 21, 3):
                print(n, fib(n), fact(n))
    """,
    "primes": """
        def is_prime(n: i32) -> bool:
            if n < 2:
                return False
            d = 2
            while d * d <= n:
                if n % d == 0:
                    return False
                d += 1
            return True

        def main() -> None:
            count = 0
            last = 0
            for n in range(10000):
                if is_prime(n):
                    count += 1
                    last = n
            print("primes below 10000:", count, "largest:", last)
    """,
    "collatz_and_gcd": """
        def collatz(n: i64) -> i32:
            steps = 0
            while n != 1:
                n = n // 2 if n % 2 == 0 else 3 * n + 1
                steps += 1
            return steps

        def gcd(a: i32, b: i32) -> i32:
            while b:
                a, b = b, a % b
            return a

        def main() -> None:
            best = 0
            arg = 0
            for n in range(1, 3000):
                s = collatz(n)
                if s > best:
                    best = s
                    arg = n
            print(arg, best)
    """,
    "floats": """
        import math

        def newton_sqrt(x: f64) -> f64:
            g = x / 2.0
            for i in range(30):
                g = (g + x / g) / 2.0
            return g

        def main() -> None:
            h = 0.0
            for k in range(1, 1000):
                h += 1.0 / k
            print(h, newton_sqrt(2.0), math.sqrt(2.0), f64(math.floor(-7.5)), math.fabs(-0.25))
            x = 0.1
            for i in range(10):
                x = x * 3.7 - 0.2
                print(x, x // 0.3, x % 0.3, -x // 0.7, -x % 0.7)
    """,
    "integers_mixed": """
        N: i32 = 17
        LABEL = "row"

        def main() -> None:
            for a in range(-9, 10, 4):
                for b in range(-7, 8, 5):
                    print(LABEL, a, b, a // b, a % b, a * b - N, a / b, 1 < a < b, a if a > b else b)
            print(2 ** 20, 7 << 3, -100 >> 3, 0xFF & 0x0F, 5 | 2, 6 ^ 3, ~7)
    """,
    "strings": """
        def label(n: i32) -> str:
            if n % 15 == 0:
                return "FizzBuzz"
            elif n % 3 == 0:
                return "Fizz"
            elif n % 5 == 0:
                return "Buzz"
            return str(n)

        def main() -> None:
            s = ""
            for i in range(1, 31):
                s = s + label(i) + " "
            print(s, len(s), s == s, "ä" + "ö" != "äö")
            print(str(3.0) + str(1e22) + str(1e-5) + str(False))
    """,
}


def run_cpython(source: str) -> str:
    code = PRELUDE + textwrap.dedent(source) + "\nmain()\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_output_matches_cpython(spy: SpyRunner, name: str) -> None:
    source = PROGRAMS[name]
    assert spy.output(source) == run_cpython(source)
