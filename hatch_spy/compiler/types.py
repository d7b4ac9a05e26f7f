"""SPy's primitive types and the conversions between them."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class SpyType:
    """A primitive SPy type and how it is spelled in C."""

    name: str
    c_name: str
    kind: str  # "int", "float", "bool", "str" or "none"
    bits: int = 0
    signed: bool = True

    def __str__(self) -> str:
        return self.name

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "float")

    @property
    def min_value(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def fits(self, value: int) -> bool:
        return self.min_value <= value <= self.max_value

    def round_float(self, value: float) -> float:
        """`value` as this float type holds it (f32 rounds to single precision)."""
        if self.bits == 32:
            try:
                return float(struct.unpack("f", struct.pack("f", value))[0])
            except OverflowError:  # rounds past the largest float: C gives infinity
                return math.copysign(math.inf, value)
        return float(value)

    def wrap(self, value: int) -> int:
        """Reduce `value` modulo 2**bits into this type's range (C with -fwrapv)."""
        value &= (1 << self.bits) - 1
        if self.signed and value > self.max_value:
            value -= 1 << self.bits
        return value


I8 = SpyType("i8", "int8_t", "int", 8, True)
U8 = SpyType("u8", "uint8_t", "int", 8, False)
I32 = SpyType("i32", "int32_t", "int", 32, True)
U32 = SpyType("u32", "uint32_t", "int", 32, False)
I64 = SpyType("i64", "int64_t", "int", 64, True)
U64 = SpyType("u64", "uint64_t", "int", 64, False)
F32 = SpyType("f32", "float", "float", 32)
F64 = SpyType("f64", "double", "float", 64)
BOOL = SpyType("bool", "bool", "bool")
STR = SpyType("str", "const spy_Str *", "str")
NONE = SpyType("None", "void", "none")

INT_TYPES = (I8, U8, I32, U32, I64, U64)
FLOAT_TYPES = (F32, F64)

# `int` and `float` are aliases, as in SPy.
TYPES_BY_NAME: dict[str, SpyType] = {
    **{t.name: t for t in (*INT_TYPES, *FLOAT_TYPES, BOOL, STR)},
    "int": I32,
    "float": F64,
}

# Implicit conversions SPy performs when a value of one type is passed or
# assigned where another is expected (spy/vm/modules/operator/convop.py).
# Some narrow (i32 -> i8), C-style, wrapping at run time; a literal that does
# not fit its target is refused at compile time instead.
_IMPLICIT: frozenset[tuple[SpyType, SpyType]] = frozenset(
    {(t, F64) for t in INT_TYPES}
    | {(F32, F64), (F64, F32), (I32, F32)}
    | {(I32, I8), (I8, I32), (I32, U8), (U8, I32), (I32, U32), (U32, I32)}
    | {(t, I64) for t in (I8, U8, I32, U32)}
    | {(I64, U64), (U64, I64)}
)

# Conversions that never lose information: used to pick the common type of
# two different integer operands.
_WIDENING: frozenset[tuple[SpyType, SpyType]] = frozenset(
    {(I8, I32), (U8, I32), (U8, U32), (U32, U64), (U8, U64)}
    | {(t, I64) for t in (I8, U8, I32, U32)}
)


def implicitly_converts(src: SpyType, dst: SpyType) -> bool:
    return src == dst or (src, dst) in _IMPLICIT


def widens(src: SpyType, dst: SpyType) -> bool:
    return (src, dst) in _WIDENING
