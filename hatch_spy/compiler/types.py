"""The compiler's view of SPy's types: the type model itself is spy_abi.types
(one object per type, shared with spy-abi and spy-runtime); here are the
language's rules over it: the names a program may use and the implicit
conversions between types."""

from __future__ import annotations

from spy_abi.types import (
    BLUE_OBJECT,
    BOOL,
    BYTES,
    CONTAINER_KINDS,
    F32,
    F64,
    FLOAT_TYPES,
    FUNCTION,
    I8,
    I32,
    I64,
    INT_TYPES,
    NONE,
    PYTHON_CONTAINER_KINDS,
    STR,
    TYPE,
    U8,
    U32,
    U64,
    Kind,
    SpyType,
    StructField,
    array_type,
    complete_struct,
    declare_struct,
    dict_type,
    list_type,
    ptr_memkind,
    ptr_type,
    struct_type,
    structs_reached,
    tuple_type,
)

__all__ = [
    "BLUE_OBJECT",
    "BOOL",
    "BYTES",
    "CONTAINER_KINDS",
    "F32",
    "F64",
    "FLOAT_TYPES",
    "FUNCTION",
    "I8",
    "I32",
    "I64",
    "INT_TYPES",
    "NONE",
    "PYTHON_CONTAINER_KINDS",
    "STR",
    "TYPE",
    "TYPES_BY_NAME",
    "U8",
    "U32",
    "U64",
    "Kind",
    "SpyType",
    "StructField",
    "array_type",
    "complete_struct",
    "declare_struct",
    "dict_type",
    "holds_references",
    "implicitly_converts",
    "list_type",
    "ptr_memkind",
    "ptr_type",
    "struct_type",
    "structs_reached",
    "tuple_type",
    "widens",
]


def holds_references(t: SpyType) -> bool:
    """Does a value of `t` hold a str or a gc_ptr (itself, or in a field)?
    What the collector traces and what raw bytes must not overwrite."""
    if t.kind in (Kind.STR, Kind.PTR):
        return True
    return any(holds_references(f.type) for f in t.fields)


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
