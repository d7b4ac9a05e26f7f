"""x**y for doubles, correctly rounded, for folding constants at compile time.

libspy's `spy_libm_pow` rounds correctly (double-double arithmetic), so a
folded constant must too: the build machine's `math.pow` is the platform's
libm, which is off by one unit in the last place on about 0.1% of arguments
and rounds some exact halfway results the wrong way, and would make a folded
`A ** B` differ from the same expression at run time.

Exact results are computed exactly; the rest with 60 significant decimal
digits, well past the 2*53 + a few bits that the hardest cases of pow need,
then rounded once to a double.
"""

from __future__ import annotations

import decimal
import math
from fractions import Fraction

_CONTEXT = decimal.Context(prec=60, Emax=10**9, Emin=-(10**9), traps=[])
#: above this many bits an exact integer power is not worth building; such a
#: power is far from any halfway point of a double anyway (see below)
_EXACT_BITS = 20_000


def pow_positive(x: float, y: float) -> float:
    """x**y for finite x > 0, x != 1 and finite y != 0, as spy_libm_pow:
    inf on overflow, 0.0 or a subnormal on underflow."""
    log2 = y * math.log2(x)
    if log2 > 1025:  # the estimate is good to far better than a bit here
        return math.inf
    if log2 < -1076:
        return 0.0
    m, e = _odd_and_exponent(x)  # x = m * 2**e with m odd
    if abs(y) * m.bit_length() <= _EXACT_BITS:
        ey = Fraction(e) * Fraction(y)
        if y == int(y):
            return _to_double(Fraction(m) ** int(y) * Fraction(2) ** int(ey))
        if ey.denominator == 1:
            # m**y may be a short integer (y = 1.5 and m a square), even one
            # halfway between two doubles: libmpdec returns exact powers exactly
            return _to_double(Fraction(_power(decimal.Decimal(m), y)) * Fraction(2) ** int(ey))
    # Otherwise x**y is irrational (a rational power of x needs e*y whole) or
    # an integer power with thousands of bits: neither is a double or halfway
    # between two, nor closer to one than 60 digits can tell.
    return _to_double(Fraction(_power(decimal.Decimal(x), y)))


def _odd_and_exponent(x: float) -> tuple[int, int]:
    num, den = x.as_integer_ratio()  # den is a power of two, num odd or den 1
    shift = (num & -num).bit_length() - 1
    return num >> shift, shift - (den.bit_length() - 1)


def _power(base: decimal.Decimal, y: float) -> decimal.Decimal:
    return _CONTEXT.power(base, decimal.Decimal(y))


def _to_double(value: Fraction) -> float:
    try:
        return float(value)  # int / int: one correct rounding, subnormals too
    except OverflowError:
        return math.inf
