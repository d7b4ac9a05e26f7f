"""The type model (spy_abi.types): every fact of every scalar, checked
against an independent source where there is one (ctypes for native
layouts, Python's int and struct for values, the JSON schema for names)."""

from __future__ import annotations

import ctypes
import json
import math
from typing import Any

import pytest

import spy_abi
from spy_abi.types import (
    BLUE_OBJECT,
    BOOL,
    BY_NAME,
    BYTES,
    F32,
    F64,
    FUNCTION,
    I32,
    INT_TYPES,
    NONE,
    SCALARS,
    STR,
    TYPE,
    U8,
    Kind,
    Layout,
    LayoutMismatchError,
    SpyType,
    StructField,
    UnknownTypeError,
    array_type,
    buffer_format_kind,
    complete_struct,
    declare_struct,
    dict_type,
    from_description,
    list_type,
    lookup,
    parse_type_ref,
    ptr_memkind,
    ptr_type,
    struct_type,
    structs_reached,
    tuple_type,
)

CTYPES: dict[str, type[ctypes._SimpleCData[Any]]] = {
    "i8": ctypes.c_int8,
    "u8": ctypes.c_uint8,
    "i32": ctypes.c_int32,
    "u32": ctypes.c_uint32,
    "i64": ctypes.c_int64,
    "u64": ctypes.c_uint64,
    "f32": ctypes.c_float,
    "f64": ctypes.c_double,
    "bool": ctypes.c_bool,
    "str": ctypes.c_void_p,  # a pointer to the string object
}


@pytest.mark.parametrize("t", [t for t in SCALARS if t is not NONE], ids=str)
def test_native_layout_is_the_host_c_layout(t: SpyType) -> None:
    c = CTYPES[t.name]
    assert t.layout("native") == Layout(ctypes.sizeof(c), ctypes.alignment(c))


def test_wasm32_layouts() -> None:
    """wasm32: pointers are 4 bytes, everything else as natively."""
    assert STR.layout("wasm") == Layout(4, 4)
    for t in SCALARS:
        if t not in (STR, NONE):
            assert t.layout("wasm") == t.layout("native")


def test_none_has_no_layout_and_no_wasm_value() -> None:
    assert NONE.wasm is None
    with pytest.raises(TypeError, match="no values"):
        NONE.layout("native")


def test_unknown_target_is_an_error() -> None:
    with pytest.raises(UnknownTypeError, match="riscv"):
        F64.layout("riscv")


@pytest.mark.parametrize("t", INT_TYPES, ids=str)
def test_integer_ranges_and_wrapping(t: SpyType) -> None:
    lo, hi = (-(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1) if t.signed else (0, 2**t.bits - 1)
    assert (t.min_value, t.max_value) == (lo, hi)
    assert t.fits(lo) and t.fits(hi) and not t.fits(lo - 1) and not t.fits(hi + 1)
    assert t.wrap(hi + 1) == lo
    assert t.wrap(lo - 1) == hi
    assert t.wrap(-1) == (-1 if t.signed else hi)
    assert t.c_name == f"{'' if t.signed else 'u'}int{t.bits}_t"
    assert t.wasm == ("i64" if t.bits == 64 else "i32")
    assert t.python == "int"


def test_float_rounding() -> None:
    assert F32.round_float(0.1) == 0.10000000149011612
    assert F32.round_float(1e39) == math.inf and F32.round_float(-1e39) == -math.inf
    assert F64.round_float(0.1) == 0.1
    assert (F32.wasm, F64.wasm, F32.c_name, F64.c_name) == ("f32", "f64", "float", "double")


@pytest.mark.parametrize(
    ("t", "method"),
    [(F64, "min_value"), (STR, "max_value"), (BOOL, "wrap"), (INT_TYPES[0], "round_float")],
)
def test_a_fact_of_another_kind_is_an_error(t: SpyType, method: str) -> None:
    with pytest.raises(TypeError, match=f"{t.name} is not an"):
        attr = getattr(t, method)
        if callable(attr):
            attr(1)


def test_names_lookup_and_equality() -> None:
    assert [t.name for t in (*SCALARS, BYTES)] == list(BY_NAME)
    assert all(lookup(t.name) is t for t in SCALARS)
    with pytest.raises(UnknownTypeError, match="'int'"):
        lookup("int")  # an alias of the language, not a canonical name
    twin = SpyType("i32", Kind.INT, "int", "int", "i32", (), 32)
    assert twin == INT_TYPES[2] and hash(twin) == hash(INT_TYPES[2])


def test_every_kind_has_a_type() -> None:
    """Scalars have a value at run time and an ABI; types and functions as
    values exist only while compiling, with no layout and no wasm value."""
    pointer = ptr_type(POINT, "spy_gcptr$Point")
    containers = (list_type(I32), dict_type(STR, I32), tuple_type(()), BYTES, array_type(F64, 2))
    kinds = {t.kind for t in (*SCALARS, TYPE, FUNCTION, BLUE_OBJECT, POINT, pointer, *containers)}
    assert kinds == set(Kind)
    assert pointer.layout("native") == Layout(16, 8) and pointer.layout("wasm") == Layout(8, 4)
    assert pointer.fqn == "unsafe::gc_ptr[m::Point]" and pointer.item == POINT
    for t in (TYPE, FUNCTION, BLUE_OBJECT):
        assert t.wasm is None and t.layouts == () and t.name not in BY_NAME


def test_the_schema_knows_the_same_types() -> None:
    schema = json.loads(spy_abi.schema_path(4).read_text())  # the newest format
    assert schema["$defs"]["scalar"]["enum"] == list(BY_NAME)


def test_describe() -> None:
    assert STR.describe() == {
        "name": "str",
        "kind": "str",
        "layout": {"native": {"size": 8, "align": 8}, "wasm": {"size": 4, "align": 4}},
    }


POINT = struct_type(
    "Point", "m::Point", "spy_m$Point", (StructField("x", F64), StructField("tag", BOOL))
)
MIXED = struct_type(
    "Mixed",
    "m::Mixed",
    "spy_m$Mixed",
    (StructField("a", BOOL), StructField("s", STR), StructField("b", INT_TYPES[0])),
)


class CPoint(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("tag", ctypes.c_bool)]


class CMixed(ctypes.Structure):
    _fields_ = [("a", ctypes.c_bool), ("s", ctypes.c_void_p), ("b", ctypes.c_int8)]


@pytest.mark.parametrize(("t", "c"), [(POINT, CPoint), (MIXED, CMixed)], ids=str)
def test_struct_layout_is_c_s(t: SpyType, c: type[ctypes.Structure]) -> None:
    assert t.layout("native") == Layout(ctypes.sizeof(c), ctypes.alignment(c))
    assert t.field_offsets("native") == [getattr(c, f.name).offset for f in t.fields]


def test_struct_layout_on_wasm32_and_description() -> None:
    assert MIXED.layout("wasm") == Layout(12, 4)  # the pointer is 4 bytes there
    assert MIXED.field_offsets("wasm") == [0, 4, 8]
    assert MIXED.describe()["fields"] == [
        {"name": "a", "type": "bool", "offset": {"native": 0, "wasm": 0}},
        {"name": "s", "type": "str", "offset": {"native": 8, "wasm": 4}},
        {"name": "b", "type": "i8", "offset": {"native": 16, "wasm": 8}},
    ]


def test_structs_are_told_apart_by_module() -> None:
    other = struct_type("Point", "n::Point", "spy_n$Point", POINT.fields)
    assert other != POINT and other.name == POINT.name
    empty = struct_type("E", "m::E", "spy_m$E", ())
    assert empty.layout("wasm") == Layout(1, 1)


@pytest.mark.parametrize(
    ("name", "python"),
    [
        ("Point", "Point"),
        ("Pair[i32]", "Pair_i32"),
        ("Pair[Pair[i32]]", "Pair_Pair_i32"),
        ("scale[f64, 2]", "scale_f64_2"),
        ("Größe", "Größe"),
    ],
)
def test_a_struct_s_python_class_name_is_an_identifier(name: str, python: str) -> None:
    t = struct_type(name, f"m::{name}", "", ())
    assert t.python == python and python.isidentifier()


def test_structs_reached_lists_fields_structs_first_and_each_once() -> None:
    inner = struct_type("In", "m::In", "", (StructField("a", I32),))
    outer = struct_type("Out", "m::Out", "", (StructField("x", inner), StructField("y", inner)))
    other = struct_type("Other", "m::Other", "", (StructField("o", outer),))
    assert [t.name for t in structs_reached([I32, other, inner, outer, STR])] == [
        "In",
        "Out",
        "Other",
    ]


def test_a_struct_description_reads_back_and_a_different_layout_is_refused() -> None:
    inner = struct_type("In", "m::In", "", (StructField("a", U8), StructField("b", F64)))
    outer = struct_type("Out", "m::Out", "", (StructField("s", STR), StructField("i", inner)))
    known = {"m::In": inner}
    back = from_description(
        outer.describe(), lambda fqn: known[fqn] if "::" in fqn else lookup(fqn)
    )
    assert back == outer and back.describe() == outer.describe()
    assert back.field_offsets("wasm") == [0, 8] and back.field_offsets("native") == [0, 8]
    desc: Any = json.loads(json.dumps(outer.describe()))
    desc["fields"][1]["offset"]["wasm"] = 4  # as if another compiler packed it
    with pytest.raises(LayoutMismatchError, match="m::Out: the recorded layout differs"):
        from_description(desc, lambda fqn: known[fqn] if "::" in fqn else lookup(fqn))


def test_raw_and_gc_pointers_are_different_types_of_one_layout() -> None:
    gc, raw = ptr_type(I32, "g"), ptr_type(I32, "r", "raw")
    assert (gc.name, gc.fqn, ptr_memkind(gc)) == ("gc_ptr[i32]", "unsafe::gc_ptr[i32]", "gc")
    assert (raw.name, raw.fqn, ptr_memkind(raw)) == ("raw_ptr[i32]", "unsafe::raw_ptr[i32]", "raw")
    assert gc != raw and gc.layouts == raw.layouts
    with pytest.raises(UnknownTypeError, match="no memory kind 'heap'"):
        ptr_type(I32, "h", "heap")
    with pytest.raises(TypeError):
        ptr_memkind(I32)


def test_a_declared_struct_is_completed_in_place() -> None:
    node = declare_struct("Node", "m::Node", "")
    link = ptr_type(node, "l")
    complete_struct(node, (StructField("val", I32), StructField("next", link)))
    assert link.item is node and node.field_type("next") is link
    assert node.layout("native") == Layout(24, 8) and node.layout("wasm") == Layout(12, 4)
    with pytest.raises(TypeError, match="is not a declared struct"):
        complete_struct(node, ())
    loop = declare_struct("Loop", "m::Loop", "")
    with pytest.raises(TypeError, match="cannot hold itself by value"):
        complete_struct(loop, (StructField("again", loop),))


@pytest.mark.parametrize(
    ("ref", "python"),
    [
        ("list[i32]", "list[int]"),
        ("dict[str, list[f64]]", "dict[str, list[float]]"),
        ("tuple[i32, str, bytes]", "tuple[int, str, bytes]"),
        ("tuple[()]", "tuple[()]"),
        ("list[tuple[u8, dict[i64, bool]]]", "list[tuple[int, dict[int, bool]]]"),
    ],
)
def test_container_refs_round_trip(ref: str, python: str) -> None:
    t = parse_type_ref(ref, lookup)
    assert (t.name, t.fqn, t.python) == (ref, ref, python)
    assert parse_type_ref(t.fqn, lookup) == t


def test_container_refs_name_structs_by_fqn() -> None:
    t = dict_type(STR, list_type(POINT))
    assert (t.name, t.fqn, t.python) == (
        "dict[str, list[Point]]",
        "dict[str, list[m::Point]]",
        "dict[str, list[Point]]",
    )
    assert parse_type_ref(t.fqn, lambda n: POINT if n == "m::Point" else lookup(n)) == t
    assert structs_reached([t]) == [POINT]


@pytest.mark.parametrize(
    "ref",
    [
        "list[i32, i32]",
        "dict[str]",
        "list[]",
        "tuple[]",
        "list[i32",
        "dict[i32,, str]",
        "list[int]",
    ],
)
def test_malformed_container_refs_are_errors(ref: str) -> None:
    with pytest.raises(UnknownTypeError):
        parse_type_ref(ref, lookup)


@pytest.mark.parametrize(
    ("ref", "python"),
    [
        ("array[f64, 1]", "memoryview"),
        ("array[u8, 3]", "memoryview"),
        ("array[bool, 2]", "memoryview"),
    ],
)
def test_array_refs_round_trip(ref: str, python: str) -> None:
    t = parse_type_ref(ref, lookup)
    assert (t.name, t.fqn, t.python, t.kind) == (ref, ref, python, Kind.ARRAY)
    assert t.ndim == int(ref[-2]) and t.args[0] == lookup(ref[6:].split(",")[0])
    assert parse_type_ref(t.fqn, lookup) == t
    assert array_type(F64, 1) != array_type(F64, 2) != array_type(F32, 2)


@pytest.mark.parametrize(
    "ref", ["array[f64]", "array[f64, 0]", "array[f64, 4]", "array[str, 1]", "array[f64, x]"]
)
def test_malformed_array_refs_are_errors(ref: str) -> None:
    with pytest.raises(UnknownTypeError):
        parse_type_ref(ref, lookup)


@pytest.mark.parametrize(
    ("t", "code"),
    [(F64, "d"), (F32, "f"), (I32, "i"), (U8, "B"), (BOOL, "?"), *((u, None) for u in (STR,))],
)
def test_buffer_format_is_struct_s_code(t: SpyType, code: str | None) -> None:
    import struct

    if code is None:
        with pytest.raises(TypeError):
            t.buffer_format  # noqa: B018
        return
    assert t.buffer_format == code
    assert struct.calcsize(code) == t.layout("native").size


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        (None, "unsigned"),
        ("d", "float"),
        ("<d", "float"),
        ("@l", "signed"),
        ("=Q", "unsigned"),
        ("?", "bool"),
        (">d", None),
        ("!i", None),
        ("dd", None),
        ("T{d:x:}", None),
        ("", None),
        ("e", None),
    ],
)
def test_buffer_format_kind(fmt: str | None, kind: str | None) -> None:
    assert buffer_format_kind(fmt) == kind
