"""Argument checks of the wasm backend: the same rules and messages as the
native extension's C helpers (libspy/include/spy_cpython.h)."""

from __future__ import annotations

import math
import operator
from typing import Any

from spy_abi.types import lookup


def type_error(value: Any, func: str, param: str, expected: str) -> TypeError:
    return TypeError(f"{func}() argument '{param}' must be {expected}, not {type(value).__name__}")


def to_int(value: Any, func: str, param: str, tname: str) -> int:
    if type(value) is not int:
        try:
            value = operator.index(value)
        except TypeError:
            raise type_error(value, func, param, "int") from None
    t = lookup(tname)
    lo, hi = t.min_value, t.max_value
    if not lo <= value <= hi:
        raise OverflowError(f"{func}() argument '{param}' is out of range for {tname}: {value}")
    return int(value)


def to_float(value: Any, func: str, param: str) -> float:
    if type(value) is float:
        return value
    if isinstance(value, (str, bytes, bytearray)):
        raise type_error(value, func, param, "float")
    try:
        return float(value)
    except TypeError:
        raise type_error(value, func, param, "float") from None


# the smallest magnitude that rounds to infinity as an f32 (2**128 - 2**103)
F32_OVERFLOW = 2.0**128 - 2.0**103


def to_f32(value: float, func: str, param: str) -> float:
    """An f64 passed for an f32 must round to a finite f32 (as struct.pack does)."""
    if math.isfinite(value) and abs(value) >= F32_OVERFLOW:
        raise OverflowError(f"{func}() argument '{param}' is out of range for f32: {value!r}")
    return value


def to_bool(value: Any, func: str, param: str) -> bool:
    if type(value) is not bool:
        raise type_error(value, func, param, "bool")
    return value


def to_str(value: Any, func: str, param: str) -> bytes:
    if not isinstance(value, str):
        raise type_error(value, func, param, "str")
    return value.encode("utf-8")  # lone surrogates raise UnicodeEncodeError, as natively
