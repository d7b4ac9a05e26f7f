"""libspy's exp/log/pow/sin/cos: the same bits on native and wasm, and correctly
rounded (checked against mpmath at 200 bits), over the whole range of doubles."""

from __future__ import annotations

import math
import random

import mpmath
import pytest

from conftest import SpyRunner

FUNCS = {"exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos}


def rounded(v: mpmath.mpf) -> float:
    """v rounded once to a double, subnormals included (float() of an mpf
    rounds to 53 bits first, then again into the subnormal)."""
    if abs(v) < mpmath.ldexp(1, -1022):
        return math.ldexp(float(mpmath.nint(mpmath.ldexp(v, 1074))), -1074)
    try:
        return float(v)
    except OverflowError:
        return math.copysign(math.inf, v)


def sample_inputs() -> dict[str, list[float]]:
    ramp = [-40.0 + i * 0.0731 for i in range(1100)]
    return {
        "exp": [*(x for x in ramp if -700 < x < 700), -745.0, 709.0, 1e-300, -1e-300, 0.5, 1.0],
        "log": [*(abs(x) + 1e-9 for x in ramp), 5e-324, 1e300, 1.0000000001, 0.9999999999, 2.0],
        "sin": [*ramp, 1e8, 123456.789, 1e-10, 3.141592653589793, 1e9],
        "cos": [*ramp, 1e8, 123456.789, 1e-10, 1.5707963267948966, 1e9],
    }


def check_against_mpmath(spy: SpyRunner, inputs: dict[str, list[float]]) -> None:
    body = "\n".join(f"    print(math.{f}({x!r}))" for f, xs in inputs.items() for x in xs)
    out = spy.output(f"import math\n\ndef main() -> None:\n{body}\n").splitlines()
    mpmath.mp.prec = 200
    expected = [repr(rounded(FUNCS[f](mpmath.mpf(x)))) for f, xs in inputs.items() for x in xs]
    args = [(f, x) for f, xs in inputs.items() for x in xs]
    wrong = [
        (arg, got, want) for arg, got, want in zip(args, out, expected, strict=True) if got != want
    ]
    assert len(out) == len(expected)
    assert wrong == []


def test_transcendentals_are_correctly_rounded(spy: SpyRunner) -> None:
    check_against_mpmath(spy, sample_inputs())


def test_exp_and_log_over_the_whole_range(spy: SpyRunner) -> None:
    """Subnormal results of exp round once; log of subnormals and near 1."""
    rnd = random.Random(6)
    near_one = [1 + s * math.ldexp(rnd.random() + 0.5, rnd.randint(-53, -2)) for s in (1, -1)]
    check_against_mpmath(
        spy,
        {
            "exp": [
                *(rnd.uniform(-745.2, -708.0) for _ in range(150)),
                *(rnd.uniform(-700.0, 709.7) for _ in range(150)),
                -745.1332191019411,
                -745.1332191019412,
                709.782712893384,
                -708.3964185322641,
            ],
            "log": [
                *(math.ldexp(rnd.random() + 0.5, rnd.randint(-1074, 1023)) for _ in range(200)),
                *near_one,
                *(1 + math.ldexp(rnd.random() - 0.5, rnd.randint(-52, -10)) for _ in range(100)),
                5e-324,
                2.2250738585072014e-308,
                1.7976931348623157e308,
                1 + 2**-52,
                1 - 2**-53,
            ],
        },
    )


def test_sin_cos_of_huge_arguments(spy: SpyRunner) -> None:
    """Past 2**30 the argument reduction is Payne-Hanek's, in libspy: glibc and
    musl used to be called there, and differ (glibc's cos(5.319372648326541e+255)
    is 8 ULPs off)."""
    rnd = random.Random(7)
    huge = [math.ldexp(rnd.random() + 0.5, rnd.randint(30, 1023)) for _ in range(300)]
    special = [
        6381956970095103 * 2.0**797,  # the double closest to a multiple of pi/2
        5.319372648326541e255,
        1e22,
        2.0**30,
        2.0**30 - 2.0**-22,
        2.0**30 + 2.0**-22,
        2.0**53 + 1,
        1e300,
        1.7976931348623157e308,
    ]
    xs = [*huge, *special, *(-x for x in special)]
    check_against_mpmath(spy, {"sin": xs, "cos": xs})


POW_CASES: list[tuple[float, float]] = [
    (2.0, 0.5),
    (10.0, -2.0),
    (131512815.0, 2.0),  # an exact midpoint: ties to even (glibc rounds up)
    (134217727.0, 2.0),
    (262143.0**2, 1.5),  # 262143**3 is a midpoint too
    (3.0**4, 1.25),
    (1 + 2**-52, 2.0**60),
    (1 - 2**-53, -(2.0**62)),
    (0.9999999949557647, -114288343.54155444),
    (1e-322, 0.9562686600710427),  # a subnormal x and a subnormal result
    (2.0, -1074.0),
    (2.0, -1075.0),
    (2.0, 1023.0),
    (1.9999999999999998, 1023.0),
    (7.0, 0.1),
    (1e300, 1.0),
    (5e-324, 0.5),
]


def pow_inputs() -> list[tuple[float, float]]:
    rnd = random.Random(8)

    def rx(lo: int, hi: int) -> float:
        return math.ldexp(rnd.random() + 0.5, rnd.randint(lo, hi))

    cases = list(POW_CASES)
    for _ in range(300):  # whole range, result in range
        x = rx(-1074, 1023)
        cases.append((x, rnd.uniform(-700, 700) / math.log(x)) if x != 1 else (x, 2.0))
    cases += [(rx(-5, 5), rnd.uniform(-40, 40)) for _ in range(200)]
    cases += [
        (1 + rnd.choice((1, -1)) * rx(-53, -10), rnd.choice((1, -1)) * rx(0, 60))
        for _ in range(150)
    ]
    cases += [(rx(-20, 20), float(rnd.randint(-64, 64) or 3)) for _ in range(200)]
    cases += [(float(rnd.randint(2**26, 2**27 - 1) | 1), 2.0) for _ in range(100)]
    cases += [(float(rnd.randint(2**17, 2**18 - 1) | 1) ** 2, 1.5) for _ in range(50)]
    for _ in range(100):  # results near the subnormals
        x = rx(-30, 30)
        cases.append((x, -1074 / math.log2(x) * rnd.uniform(0.97, 1.03) if x != 1 else 2.0))
    return [(x, y) for x, y in cases if x != 1 and y * math.log2(x) < 1023.9]  # no overflow


def test_pow_is_correctly_rounded(spy: SpyRunner) -> None:
    cases = pow_inputs()
    body = "\n".join(f"    p({x!r}, {y!r})" for x, y in cases)
    program = f"def p(x: f64, y: f64) -> None:\n    print(x ** y)\n\ndef main() -> None:\n{body}\n"
    out = spy.output(program).splitlines()
    mpmath.mp.prec = 200
    expected = [repr(rounded(mpmath.power(mpmath.mpf(x), mpmath.mpf(y)))) for x, y in cases]
    wrong = [(c, g, w) for c, g, w in zip(cases, out, expected, strict=True) if g != w]
    assert len(out) == len(cases)
    assert wrong == []


INF, NAN = math.inf, math.nan
POW_SPECIAL: list[tuple[float, float]] = [
    (x, y)
    for x in (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, INF, -INF, NAN, 3.0, -3.0)
    for y in (0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, INF, -INF, NAN, 1e300, -1e300)
]


def python_pow(x: float, y: float) -> str:
    try:
        r = x**y
    except ZeroDivisionError as e:
        return f"ZeroDivisionError: {e}"
    except OverflowError as e:
        return f"OverflowError: {e}"
    if isinstance(r, complex):
        return "ValueError: negative number cannot be raised to a fractional power"
    return repr(r)


def lit(x: float) -> str:
    return f'f64("{x!r}")' if not math.isfinite(x) else repr(x)


def test_pow_special_cases_follow_python(spy: SpyRunner) -> None:
    """Python's float_pow special cases (C99 Annex F, with 0**neg an error):
    the values first, in one program; then each error."""
    values = [(x, y) for x, y in POW_SPECIAL if "Error: " not in python_pow(x, y)]
    body = "\n".join(f"    p({lit(x)}, {lit(y)})" for x, y in values)
    program = f"def p(x: f64, y: f64) -> None:\n    print(x ** y)\n\ndef main() -> None:\n{body}\n"
    out = spy.output(program).splitlines()
    assert out == [python_pow(x, y) for x, y in values]


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (0.0, -1.0),
        (-0.0, -3.0),
        (0.0, -0.5),
        (-8.0, 1 / 3),
        (10.0, 400.0),
        (-10.0, 401.0),
        (1e300, 2.0),
    ],
)
def test_pow_errors_follow_python(spy: SpyRunner, x: float, y: float) -> None:
    result = spy.run(f"def main() -> None:\n    x: f64 = {lit(x)}\n    print(x ** {lit(y)})\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == python_pow(x, y)


def test_folded_pow_is_the_run_time_pow(spy: SpyRunner) -> None:
    """Module-level constants are folded at compile time: `A ** B` there gives
    the bits that libspy computes at run time (the build machine's libm would
    not: glibc rounds 131512815.0 ** 2.0 the wrong way)."""
    cases = POW_CASES
    consts = "\n".join(f"C{i} = {x!r} ** {y!r}" for i, (x, y) in enumerate(cases))
    calls = "\n".join(f"    print(C{i})\n    p({x!r}, {y!r})" for i, (x, y) in enumerate(cases))
    program = (
        f"{consts}\n\ndef p(x: f64, y: f64) -> None:\n    print(x ** y)\n\n"
        f"def main() -> None:\n{calls}\n"
    )
    out = spy.output(program).splitlines()
    assert out[0::2] == out[1::2]
    mpmath.mp.prec = 200
    assert out[0::2] == [
        repr(rounded(mpmath.power(mpmath.mpf(x), mpmath.mpf(y)))) for x, y in cases
    ]
