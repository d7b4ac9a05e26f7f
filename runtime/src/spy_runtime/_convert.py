"""Argument checks of the wasm backend: the same rules and messages as the
native extension's C helpers (libspy/include/spy_cpython.h)."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from spy_abi.types import SpyType, buffer_format_kind, lookup


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


def _array_expected(t: SpyType) -> str:
    dtype = t.args[0]
    dims = "dimension" if t.ndim == 1 else "dimensions"
    return f"a buffer of {dtype} (format '{dtype.buffer_format}') with {t.ndim} {dims}"


MAX_ITEMS = 0x7FFFFFFF  # an array spans at most 2**31 - 1 items


def array_view_checker(t: SpyType, writable: bool) -> Callable[[Any, str, str], memoryview]:
    """How an array argument of ABI type `t` (array[DTYPE, NDIM]) is taken:
    its buffer, checked as the native backend checks it (item kind and size,
    dimensions, writable where the function writes, strides in whole items,
    at most 2**31 - 1 items spanned). A C-contiguous buffer of the item's own
    code passes with a few tests; anything else goes through every rule."""
    dtype = t.args[0]
    code, size, ndim = dtype.buffer_format, dtype.layout("native").size, t.ndim
    kind = buffer_format_kind(code)

    def check(value: Any, func: str, param: str) -> memoryview:
        try:
            view = memoryview(value)
        except TypeError:
            raise type_error(value, func, param, _array_expected(t)) from None
        if (
            view.format == code
            and view.ndim == ndim
            and view.c_contiguous
            and not (writable and view.readonly)
            and view.nbytes <= MAX_ITEMS * size
        ):
            return view
        return _check_array_view(view, value, func, param, t, kind, size, writable)

    return check


def _check_array_view(
    view: memoryview,
    value: Any,
    func: str,
    param: str,
    t: SpyType,
    kind: str | None,
    size: int,
    writable: bool,
) -> memoryview:
    if (
        buffer_format_kind(view.format) != kind
        or view.itemsize != size
        or view.ndim != t.ndim
        or view.suboffsets
    ):
        raise TypeError(
            f"{func}() argument '{param}' must be {_array_expected(t)}, not a buffer of format "
            f"'{view.format}' (item size {view.itemsize}) with {view.ndim} "
            f"{'dimension' if view.ndim == 1 else 'dimensions'}"
        )
    if writable and view.readonly:
        raise TypeError(
            f"{func}() argument '{param}' must be a writable buffer ({func}() writes its "
            f"items), not a read-only {type(value).__name__}"
        )
    strides = view.strides or ()
    if any(st % size for st in strides):
        raise TypeError(
            f"{func}() argument '{param}': its strides are not a multiple of its item size "
            f"({size} bytes); pass a copy"
        )
    lo = hi = 0  # the lowest and highest item, in items from item 0
    for n, st in zip(view.shape or (), strides, strict=True):
        step = st // size
        if n > MAX_ITEMS or abs(step) > MAX_ITEMS:
            hi = lo + MAX_ITEMS + 1
        elif n and step > 0:
            hi += (n - 1) * step
        elif n:
            lo += (n - 1) * step
        if hi - lo > MAX_ITEMS:
            raise ValueError(
                f"{func}() argument '{param}' is too large: an array spans at most 2**31 - 1 items"
            )
    return view
