"""print() of floats: f64 exactly as Python's repr(), f32 as the shortest
digits that read back to the same f32 (nearest among the shortest), in
Python's notation. Powers of two are the hard case: the gap below them is half
the gap above, so the nearest short string below can miss while the one above
reads back."""

from __future__ import annotations

import math
import random
import struct
from fractions import Fraction

from conftest import SpyRunner


def f64_inputs() -> list[float]:
    rnd = random.Random(24)
    powers = [math.ldexp(1.0, k) for k in range(-1074, 1024)]
    bits = [struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)]
    finite = [x for x in bits if math.isfinite(x)]
    decimal = [float(f"{rnd.randint(1, 10**16)}e{rnd.randint(-330, 300)}") for _ in range(500)]
    edges = [
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        1e16,
        1e-4,
        9.999999999999999e15,
    ]
    decimal = [x for x in decimal if math.isfinite(x)]
    return powers + finite + decimal + edges + [-x for x in powers[::7]]


def test_f64_prints_as_python_repr(spy: SpyRunner) -> None:
    xs = f64_inputs()
    body = "\n".join(f"    print({x!r})" for x in xs)
    out = spy.output(f"def main() -> None:\n{body}\n").splitlines()
    wrong = [(x, got) for x, got in zip(xs, out, strict=True) if got != repr(x)]
    assert wrong == []


def f32(x: float) -> float:
    (value,) = struct.unpack("<f", struct.pack("<f", x))
    return float(value)


def f32_neighbours(x: float) -> tuple[Fraction, Fraction, bool]:
    """The interval of reals that round to the positive f32 x, and whether its
    ends belong to it (ties go to the even significand)."""
    (n,) = struct.unpack("<I", struct.pack("<f", x))
    lo = struct.unpack("<f", struct.pack("<I", n - 1))[0] if n > 0 else -x
    if n + 1 == 0x7F800000:  # above the largest f32, the step it would have
        hi = Fraction(x) + (Fraction(x) - Fraction(lo))
    else:
        hi = Fraction(struct.unpack("<f", struct.pack("<I", n + 1))[0])
    v = Fraction(x)
    return (v + Fraction(lo)) / 2, (v + hi) / 2, n % 2 == 0


def shortest_f32(x: float) -> tuple[str, int]:
    """Digits and exponent (value = 0.DIGITS * 10**decpt) of the shortest
    decimal in x's rounding interval, the nearest to x among those, found by
    exact arithmetic rather than by trying strings."""
    lo, hi, closed = f32_neighbours(x)
    v = Fraction(x)

    def inside(c: Fraction) -> bool:
        return lo < c < hi or (closed and c in (lo, hi))

    e = math.floor(math.log10(x))
    for p in range(1, 10):
        for exp in (e - p + 1, e - p + 2):
            scale = Fraction(10) ** exp
            k = round(v / scale)
            hits = [
                c for c in (k - 1, k, k + 1) if 10 ** (p - 1) <= c < 10**p and inside(c * scale)
            ]
            if hits:
                # nearest, and on a tie the even last digit, as Python rounds
                best = min(hits, key=lambda c: (abs(c * scale - v), c % 2))
                digits = str(best).rstrip("0") or "0"
                return digits, exp + p
    raise AssertionError(f"no shortest form for {x!r}")


def python_notation(digits: str, decpt: int) -> str:
    if -4 < decpt <= 16:
        if decpt <= 0:
            return "0." + "0" * -decpt + digits
        if decpt >= len(digits):
            return digits + "0" * (decpt - len(digits)) + ".0"
        return digits[:decpt] + "." + digits[decpt:]
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{decpt - 1:+03d}"


def digits_of_repr(x: float) -> tuple[str, int]:
    """repr(x) taken apart into significant digits and decimal exponent."""
    text = repr(x)
    if "e" in text:
        mantissa, exp = text.split("e")
        return mantissa.replace(".", "").rstrip("0") or "0", int(exp) + 1
    whole, frac = text.split(".")
    if whole != "0":
        return (whole + frac).rstrip("0"), len(whole)
    significant = frac.lstrip("0")
    return significant, len(significant) - len(frac)


def test_python_notation_oracle_matches_repr_on_f64() -> None:
    """The notation half of the f32 oracle, checked where Python has the answer."""
    for x in (1e16, 1e15, 0.0001, 0.00012, 1.5e-5, 123.25, 5e-324, 1e22, 2.5, 1.0, 0.5):
        assert python_notation(*digits_of_repr(x)) == repr(x)


def f32_inputs() -> list[float]:
    rnd = random.Random(32)
    powers = [f32(math.ldexp(1.0, k)) for k in range(-149, 128)]
    bits = [struct.unpack("<f", struct.pack("<I", rnd.getrandbits(32)))[0] for _ in range(2000)]
    finite = [x for x in bits if math.isfinite(x) and x > 0]
    return powers + finite + [f32(0.1), f32(1 / 3), f32(3.4028234663852886e38)]


def test_f32_prints_its_shortest_digits(spy: SpyRunner) -> None:
    xs = f32_inputs()
    body = "\n".join(f"    print(f32({x!r}))" for x in xs)
    out = spy.output(f"def main() -> None:\n{body}\n").splitlines()
    expected = [python_notation(*shortest_f32(x)) for x in xs]
    wrong = [(x, got, want) for x, got, want in zip(xs, out, expected, strict=True) if got != want]
    assert wrong == []
