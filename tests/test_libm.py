"""libspy's exp/log/sin/cos: the same bits on native and wasm, and correctly
rounded (checked against mpmath at 200 bits)."""

from __future__ import annotations

import mpmath

from conftest import SpyRunner

FUNCS = {"exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos}


def sample_inputs() -> dict[str, list[float]]:
    ramp = [-40.0 + i * 0.0731 for i in range(1100)]
    return {
        "exp": [*(x for x in ramp if -700 < x < 700), -745.0, 709.0, 1e-300, -1e-300, 0.5, 1.0],
        "log": [*(abs(x) + 1e-9 for x in ramp), 5e-324, 1e300, 1.0000000001, 0.9999999999, 2.0],
        "sin": [*ramp, 1e8, 123456.789, 1e-10, 3.141592653589793, 1e9],
        "cos": [*ramp, 1e8, 123456.789, 1e-10, 1.5707963267948966, 1e9],
    }


def test_transcendentals_are_correctly_rounded(spy: SpyRunner) -> None:
    inputs = sample_inputs()
    body = "\n".join(f"    print(math.{f}({x!r}))" for f, xs in inputs.items() for x in xs)
    out = spy.output(f"import math\n\ndef main() -> None:\n{body}\n").splitlines()
    mpmath.mp.prec = 200
    expected = [repr(float(FUNCS[f](mpmath.mpf(x)))) for f, xs in inputs.items() for x in xs]
    wrong = [
        (i, got, want)
        for i, (got, want) in enumerate(zip(out, expected, strict=True))
        if got != want
    ]
    assert len(out) == len(expected)
    assert wrong == []
