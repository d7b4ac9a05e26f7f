"""SPy's standard modules that compiled code may import: `math` and `time`."""

from __future__ import annotations

import math

from spy_runtime.exceptions import EXCEPTION_KINDS

from .ir import ConstValue, RuntimeFunc
from .types import F64, SpyType


def _f(module: str, name: str, nparams: int, takes_loc: bool = False) -> RuntimeFunc:
    params: tuple[SpyType, ...] = (F64,) * nparams
    return RuntimeFunc(module, name, f"spy_{module}_{name}", params, F64, takes_loc)


STD_FUNCS: dict[str, dict[str, RuntimeFunc]] = {
    "math": {
        f.name: f
        for f in (
            _f("math", "sqrt", 1, takes_loc=True),
            _f("math", "log", 1, takes_loc=True),
            _f("math", "exp", 1, takes_loc=True),
            _f("math", "sin", 1),
            _f("math", "cos", 1),
            _f("math", "floor", 1),
            _f("math", "fabs", 1),
        )
    },
    "time": {"time": _f("time", "time", 0)},
}

STD_CONSTS: dict[str, dict[str, tuple[SpyType, ConstValue]]] = {
    "math": {"pi": (F64, math.pi), "e": (F64, math.e)},
    "time": {},
}

# names the compiler itself answers: `__spy__.COLOR(expr)` is "blue" when
# `expr` is known at compile time, else "red"
STD_SPECIAL: dict[str, frozenset[str]] = {
    # interp_tuple: the type of blue tuples; force_inline: a decorator
    "__spy__": frozenset({"COLOR", "interp_tuple", "force_inline"}),
    "operator": frozenset({"OpSpec"}),  # what a metafunction returns
    "unsafe": frozenset(
        {
            "gc_alloc",
            "gc_ptr",
            "raw_alloc",
            "raw_ptr",
            "sizeof",
            *(
                f"ptr_{op}{suffix}"
                for op in ("setbytes", "copy", "move", "cmp")
                for suffix in ("", "_slice")
            ),
        }
    ),
}

STD_MODULES = frozenset(STD_FUNCS) | frozenset(STD_SPECIAL)

# the exception names `raise` accepts: those the runtime maps to Python's
BUILTIN_EXCEPTIONS = EXCEPTION_KINDS
