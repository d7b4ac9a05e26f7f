"""The type model's C facts, checked by the C compiler on each target: every
type's C spelling has the size and alignment its layout says."""

from __future__ import annotations

import pytest

from conftest import TARGETS
from hatch_spy.toolchain import Toolchain, get_target
from spy_abi.types import NONE, SCALARS


@pytest.mark.parametrize("target", TARGETS)
def test_c_spelling_has_the_model_s_layout(toolchain: Toolchain, target: str) -> None:
    checks = "\n".join(
        f"_Static_assert(sizeof({t.c_name}) == {t.layout(target).size}"
        f' && _Alignof({t.c_name}) == {t.layout(target).align}, "{t.name}");'
        for t in SCALARS
        if t is not NONE
    )
    source = f'#include "spy.h"\n{checks}\nint main(void) {{ return 0; }}\n'
    toolchain.build_executable(source, get_target(target))  # a wrong fact fails to compile
