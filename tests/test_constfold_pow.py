"""The compile-time `**` of floats (constfold.float_pow), without zig: the
correctly rounded power that libspy computes at run time, Python's special
values and Python's errors."""

from __future__ import annotations

import math

import mpmath
import pytest
from test_libm import POW_SPECIAL, pow_inputs, python_pow, rounded

from hatch_spy.compiler.constfold import ConstantPanic, float_pow


def test_folded_pow_is_correctly_rounded() -> None:
    mpmath.mp.prec = 200
    cases = pow_inputs()
    wrong = [
        (x, y, got, want)
        for x, y in cases
        if (got := float_pow(x, y)) != (want := rounded(mpmath.power(mpmath.mpf(x), mpmath.mpf(y))))
    ]
    assert wrong == []


def test_folded_pow_of_negative_bases_keeps_the_sign() -> None:
    assert float_pow(-131512815.0, 3.0) == -rounded(mpmath.mpf(131512815) ** 3)
    assert float_pow(-2.0, 2.0) == 4.0
    assert math.copysign(1.0, float_pow(-0.0, 3.0)) == -1.0


def folded_as_python_says(x: float, y: float) -> str:
    try:
        return repr(float_pow(x, y))
    except ConstantPanic as e:
        return f"{e.kind}: {e.message}"


@pytest.mark.parametrize(("x", "y"), POW_SPECIAL)
def test_folded_pow_special_cases_follow_python(x: float, y: float) -> None:
    assert folded_as_python_says(x, y) == python_pow(x, y)


@pytest.mark.parametrize(("x", "y"), [(10.0, 400.0), (-10.0, 401.0), (1e300, 2.0), (2.0, 1024.0)])
def test_folded_pow_overflow_is_python_s_error(x: float, y: float) -> None:
    assert folded_as_python_says(x, y) == python_pow(x, y)


def test_folded_pow_underflows_to_zero_and_subnormals() -> None:
    assert float_pow(2.0, -1074.0) == 5e-324
    assert float_pow(2.0, -1075.0) == 0.0  # halfway to the smallest subnormal: ties to even
    assert float_pow(3.0, -700.0) == 0.0
    assert float_pow(1 - 2**-53, 2.0**40) == rounded(mpmath.mpf(1 - 2**-53) ** (2**40))
