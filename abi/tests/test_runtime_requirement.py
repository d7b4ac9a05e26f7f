from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from spy_abi import runtime_requirement


@pytest.mark.parametrize(
    ("abi", "admitted", "refused"),
    [
        ((0, 1), ["0.1.0", "0.1.7", "0.9.0"], ["0.0.9", "1.0.0"]),
        ((1, 4), ["1.4.0", "1.10.2"], ["1.3.9", "2.0.0", "0.9"]),
    ],
)
def test_requirement_admits_exactly_the_compatible_runtimes(
    abi: tuple[int, int], admitted: list[str], refused: list[str]
) -> None:
    req = Requirement(runtime_requirement(abi))
    assert req.name == "spy-runtime"
    assert all(req.specifier.contains(v) for v in admitted)
    assert not any(req.specifier.contains(v) for v in refused)
