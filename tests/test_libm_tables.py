"""The constant tables of libspy's libm.c, recomputed with mpmath: 2/pi for the
Payne-Hanek reduction, 2**(j/64) for exp, log(1/c) for log, the Taylor
coefficients of sin and cos. (A wrong digit would show only in rare results.)"""

from __future__ import annotations

import re
from pathlib import Path

import mpmath

LIBM_C = Path(__file__).parents[1] / "runtime/src/spy_runtime/libspy/src/libm.c"


def table(name: str) -> str:
    found = re.search(rf"\b{name}\[\d+\] = \{{(.*?)\n\}};", LIBM_C.read_text(), re.S)
    assert found is not None, name
    return found[1]


def floats(text: str) -> list[float]:
    return [float.fromhex(h) for h in re.findall(r"-?0x[0-9a-f.]+p[-+]\d+", text)]


def dd(v: mpmath.mpf) -> list[float]:
    hi = float(v)
    return [hi, float(v - mpmath.mpf(hi))]


def test_two_over_pi() -> None:
    mpmath.mp.prec = 2000
    words = [int(w, 16) for w in re.findall(r"0x([0-9a-f]{8})", table("TWO_OVER_PI"))]
    bits = 2 / mpmath.pi
    expected = [
        int(mpmath.floor(bits * mpmath.mpf(2) ** (32 * j))) % 2**32 for j in range(len(words))
    ]
    assert len(words) >= 41  # bits up to 1256 after the point (x near 2**1024)
    assert words == expected


def test_exp2_table() -> None:
    mpmath.mp.prec = 300
    got = floats(table("EXP2_TABLE"))
    assert got == [x for j in range(64) for x in dd(mpmath.mpf(2) ** (mpmath.mpf(j) / 64))]


def test_log_table() -> None:
    """c = 1/((i + 45)/64) to 10 bits, so that m*c is exact; then -log(c)."""
    mpmath.mp.prec = 300
    got = floats(table("LOG_TABLE"))
    expected: list[float] = []
    for i in range(47):
        inv = 64 / mpmath.mpf(i + 45)
        e = int(mpmath.floor(mpmath.log(inv, 2)))
        c = mpmath.nint(inv * 2 ** (9 - e)) / mpmath.mpf(2) ** (9 - e)
        expected += [float(c), *dd(-mpmath.log(c))]
    assert got == expected


def test_sin_cos_coefficients() -> None:
    mpmath.mp.prec = 300
    for name, offset in (("SIN_C", 1), ("COS_C", 0)):
        got = floats(table(name))
        sign = mpmath.mpf(-1)
        assert got == [x for k in range(9) for x in dd(sign**k / mpmath.factorial(2 * k + offset))]
