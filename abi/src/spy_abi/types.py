"""SPy's type model: one object per type, knowing every fact about it that
more than one part of the toolchain needs.

A type knows its canonical SPy name, its C spelling, its kind (which decides
how the compiler, the native extension and the wasm loader convert it at the
Python boundary), the Python type it is on that boundary, the wasm value type
that carries it there, its memory layout on each target, and its ABI
description. The compiler (checker, C writer, extension writer, stub writer),
spy-abi and spy-runtime's wasm loader all read it; none keeps a table of its
own. It lives here, in the lowest distribution, because all of them depend on
spy-abi and it needs no toolchain.

How a type is added: see "The type model" in docs/architecture.md.
"""

from __future__ import annotations

import enum
import math
import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the targets a layout is given for: the host's 64-bit native code, and wasm32
LAYOUT_TARGETS = ("native", "wasm")


class UnknownTypeError(LookupError):
    """A type name that the model does not know."""


class Kind(enum.Enum):
    """What a type is; every consumer dispatches on this, exhaustively."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    NONE = "none"
    TYPE = "type"  # a type as a compile-time value
    FUNC = "function"  # a function as a compile-time value
    OBJECT = "object"  # another compile-time-only value (a metafunction's argument)
    STRUCT = "struct"
    PTR = "ptr"  # unsafe.gc_ptr[T]: an address and the number of items there
    # what crosses the boundary as Python's own containers: the compiler has
    # them as structs of its standard library, the ABI by their items alone
    LIST = "list"
    DICT = "dict"
    TUPLE = "tuple"
    BYTES = "bytes"
    ARRAY = "array"  # array[DTYPE, NDIM]: a buffer of numbers (the buffer protocol)


@dataclass(frozen=True)
class Layout:
    """How a value of the type is stored in memory on one target."""

    size: int
    align: int


@dataclass(frozen=True)
class StructField:
    name: str
    type: SpyType


@dataclass(frozen=True)
class SpyType:
    """One SPy type. Two types are the same type when their fully qualified
    names are (a struct's includes its module: two modules' `Point`s differ)."""

    name: str = field(compare=False)  # SPy's spelling: `i32`, `Point`, `Pair[i32]`
    kind: Kind = field(compare=False)
    c_name: str = field(compare=False)  # spelling in generated C
    python: str = field(compare=False)  # the Python type on the boundary (stubs, messages)
    wasm: str | None = field(compare=False)  # wasm value type on the boundary; None: no value
    layouts: tuple[tuple[str, Layout], ...] = field(compare=False)  # per LAYOUT_TARGETS
    bits: int = field(default=0, compare=False)
    signed: bool = field(default=True, compare=False)
    fields: tuple[StructField, ...] = field(default=(), compare=False)
    item: SpyType | None = field(default=None, compare=False)  # what a pointer points to
    args: tuple[SpyType, ...] = field(default=(), compare=False)  # a container's item types
    ndim: int = field(default=0, compare=False)  # an array's dimensions
    fqn: str = ""  # `module::Name`; a builtin's is its name

    def __post_init__(self) -> None:
        if not self.fqn:
            object.__setattr__(self, "fqn", self.name)

    def __str__(self) -> str:
        return self.name

    def field_type(self, name: str) -> SpyType | None:
        return next((f.type for f in self.fields if f.name == name), None)

    # ---- kind --------------------------------------------------------------

    @property
    def is_int(self) -> bool:
        return self.kind is Kind.INT

    @property
    def is_float(self) -> bool:
        return self.kind is Kind.FLOAT

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.FLOAT)

    # ---- values ------------------------------------------------------------

    @property
    def min_value(self) -> int:
        self._need(Kind.INT)
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        self._need(Kind.INT)
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def fits(self, value: int) -> bool:
        return self.min_value <= value <= self.max_value

    def wrap(self, value: int) -> int:
        """Reduce `value` modulo 2**bits into this type's range (C with -fwrapv)."""
        self._need(Kind.INT)
        value &= (1 << self.bits) - 1
        if self.signed and value > self.max_value:
            value -= 1 << self.bits
        return value

    def round_float(self, value: float) -> float:
        """`value` as this float type holds it (f32 rounds to single precision)."""
        self._need(Kind.FLOAT)
        if self.bits == 32:
            try:
                return float(struct.unpack("f", struct.pack("f", value))[0])
            except OverflowError:  # rounds past the largest float: C gives infinity
                return math.copysign(math.inf, value)
        return float(value)

    @property
    def buffer_format(self) -> str:
        """The item's code in the buffer protocol (the `struct` module's),
        native byte order; NumPy and `array.array` spell some of them with
        another code of the same size (`l` for `q`), which match too."""
        if self.kind is Kind.BOOL:
            return "?"
        if self.kind is Kind.FLOAT:
            return "f" if self.bits == 32 else "d"
        self._need(Kind.INT)
        code = {8: "b", 16: "h", 32: "i", 64: "q"}[self.bits]
        return code if self.signed else code.upper()

    def _need(self, kind: Kind) -> None:
        if self.kind is not kind:
            raise TypeError(f"{self.name} is not an {kind.value} type")

    # ---- memory and ABI ----------------------------------------------------

    def layout(self, target: str) -> Layout:
        for name, layout in self.layouts:
            if name == target:
                return layout
        if not self.layouts:
            raise TypeError(f"{self.name} has no values to lay out")
        raise UnknownTypeError(f"no layout of {self.name} for target {target!r}")

    def field_offsets(self, target: str) -> list[int]:
        """Each field's offset on `target`, as C lays the struct out."""
        offsets, end = [], 0
        for f in self.fields:
            lo = f.type.layout(target)
            end = -(-end // lo.align) * lo.align
            offsets.append(end)
            end += lo.size
        return offsets

    def describe(self) -> dict[str, object]:
        """The ABI description of the type, as spy-abi.json records it."""
        out: dict[str, object] = {
            "name": self.name,
            "kind": self.kind.value,
            "layout": {t: {"size": lo.size, "align": lo.align} for t, lo in self.layouts},
        }
        if self.kind is Kind.STRUCT:
            out["fqn"] = self.fqn
            out["fields"] = [
                {
                    "name": f.name,
                    "type": f.type.fqn,
                    "offset": {t: self.field_offsets(t)[i] for t in LAYOUT_TARGETS},
                }
                for i, f in enumerate(self.fields)
            ]
        return out


def _same(size: int) -> tuple[tuple[str, Layout], ...]:
    return tuple((t, Layout(size, size)) for t in LAYOUT_TARGETS)


def _int(name: str, bits: int, signed: bool) -> SpyType:
    c_name = f"{'' if signed else 'u'}int{bits}_t"
    wasm = "i64" if bits == 64 else "i32"
    return SpyType(name, Kind.INT, c_name, "int", wasm, _same(bits // 8), bits, signed)


I8 = _int("i8", 8, True)
U8 = _int("u8", 8, False)
I32 = _int("i32", 32, True)
U32 = _int("u32", 32, False)
I64 = _int("i64", 64, True)
U64 = _int("u64", 64, False)
F32 = SpyType("f32", Kind.FLOAT, "float", "float", "f32", _same(4), 32)
F64 = SpyType("f64", Kind.FLOAT, "double", "float", "f64", _same(8), 64)
BOOL = SpyType("bool", Kind.BOOL, "bool", "bool", "i32", _same(1))
# a pointer to an immutable string object (spy.h's spy_Str)
STR = SpyType(
    "str",
    Kind.STR,
    "const spy_Str *",
    "str",
    "i32",
    (("native", Layout(8, 8)), ("wasm", Layout(4, 4))),
)
NONE = SpyType("None", Kind.NONE, "void", "None", None, ())
# what the compiler alone handles: blue values with no run-time representation
TYPE = SpyType("type", Kind.TYPE, "", "type", None, ())
FUNCTION = SpyType("function", Kind.FUNC, "", "function", None, ())
BLUE_OBJECT = SpyType("object", Kind.OBJECT, "", "object", None, ())

INT_TYPES = (I8, U8, I32, U32, I64, U64)
FLOAT_TYPES = (F32, F64)
SCALARS: tuple[SpyType, ...] = (*INT_TYPES, *FLOAT_TYPES, BOOL, STR, NONE)

# bytes on the boundary: Python's bytes (the compiler's is a struct of its
# standard library); a container's layout is the compiler's business
BYTES = SpyType("bytes", Kind.BYTES, "", "bytes", None, ())
CONTAINER_KINDS = (Kind.LIST, Kind.DICT, Kind.TUPLE)
# what crosses as Python's own containers: such a signature needs spy-abi.json
# format 3, and the wasm backend marshals its calls
PYTHON_CONTAINER_KINDS = (*CONTAINER_KINDS, Kind.BYTES, Kind.ARRAY)
# an array's dimensions (SPy's array module has 1 to 3)
ARRAY_NDIMS = (1, 2, 3)

BY_NAME: Mapping[str, SpyType] = {t.name: t for t in (*SCALARS, BYTES)}


def _container(kind: Kind, args: tuple[SpyType, ...]) -> SpyType:
    def spell(attr: str) -> str:
        inner = ", ".join(getattr(a, attr) for a in args)
        return f"{kind.value}[{inner or '()'}]"

    return SpyType(spell("name"), kind, "", spell("python"), None, (), args=args, fqn=spell("fqn"))


def list_type(item: SpyType) -> SpyType:
    """`list[item]` as it crosses into Python (a Python list)."""
    return _container(Kind.LIST, (item,))


def dict_type(key: SpyType, value: SpyType) -> SpyType:
    return _container(Kind.DICT, (key, value))


def tuple_type(items: tuple[SpyType, ...]) -> SpyType:
    return _container(Kind.TUPLE, items)


# the buffer protocol's item codes (the `struct` module's) by the kind of
# number they hold: an array's item matches a buffer whose code is of its
# kind and whose item size is its size ('l' and 'q' are both i64 on Linux)
BUFFER_CODE_KINDS: Mapping[str, str] = {
    **dict.fromkeys("bhilqn", "signed"),
    **dict.fromkeys("BHILQN", "unsigned"),
    **dict.fromkeys("fd", "float"),
    "?": "bool",
}


def buffer_format_kind(fmt: str | None) -> str | None:
    """The kind of number a buffer's format holds (`signed`, `unsigned`,
    `float`, `bool`), or None for what no array takes: another byte order
    than the native little-endian one, a struct, several items."""
    if fmt is None:  # a buffer without a format holds unsigned bytes
        return "unsigned"
    if fmt[:1] in ("@", "=", "<"):
        fmt = fmt[1:]
    return BUFFER_CODE_KINDS.get(fmt) if len(fmt) == 1 else None


def array_type(dtype: SpyType, ndim: int) -> SpyType:
    """`array[dtype, ndim]` as it crosses into Python: any object with the
    buffer protocol whose items and dimensions match, in; a memoryview, out."""
    if not (dtype.is_numeric or dtype.kind is Kind.BOOL):
        raise UnknownTypeError(f"an array holds numbers, not {dtype.name}")
    if ndim not in ARRAY_NDIMS:
        raise UnknownTypeError(f"an array has 1 to 3 dimensions, not {ndim}")
    return SpyType(
        f"array[{dtype.name}, {ndim}]",
        Kind.ARRAY,
        "",
        "memoryview",
        None,
        (),
        args=(dtype,),
        ndim=ndim,
        fqn=f"array[{dtype.fqn}, {ndim}]",
    )


def split_args(inner: str) -> list[str]:
    """`a, dict[b, c]` -> ["a", "dict[b, c]"]: commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise UnknownTypeError(f"unbalanced brackets in {inner!r}")
        elif ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    if depth != 0:
        raise UnknownTypeError(f"unbalanced brackets in {inner!r}")
    last = inner[start:].strip()
    if last or parts:
        parts.append(last)
    return parts


def parse_type_ref(ref: str, leaf: Callable[[str], SpyType]) -> SpyType:
    """The type a spy-abi.json type reference names: `list[i32]`,
    `dict[str, m::Point]`, `tuple[i32, str]` (`tuple[()]` is empty), nested;
    `array[f64, 2]`; anything else is a scalar or a struct, which `leaf`
    resolves."""
    if ref.startswith("array[") and ref.endswith("]"):
        parts = split_args(ref[len("array[") : -1])
        if len(parts) != 2 or not parts[1].isdigit():
            raise UnknownTypeError(f"array takes an item type and a dimension count: {ref!r}")
        return array_type(leaf(parts[0]), int(parts[1]))
    for kind in CONTAINER_KINDS:
        head = kind.value + "["
        if ref.startswith(head) and ref.endswith("]"):
            inner = ref[len(head) : -1]
            args = (
                () if inner == "()" else tuple(parse_type_ref(a, leaf) for a in split_args(inner))
            )
            if any(not a for a in split_args(inner)) or (inner == "" and kind is Kind.TUPLE):
                raise UnknownTypeError(f"malformed type {ref!r}")
            wanted = {Kind.LIST: 1, Kind.DICT: 2}.get(kind)
            if wanted is not None and len(args) != wanted:
                raise UnknownTypeError(f"{kind.value} takes {wanted} item type(s): {ref!r}")
            return _container(kind, args)
    return leaf(ref)


def struct_type(name: str, fqn: str, c_name: str, fields: tuple[StructField, ...]) -> SpyType:
    """A struct of `fields`, laid out as C lays it out on each target (an
    empty struct gets one byte, as the C writer gives it a placeholder)."""
    layouts = []
    for target in LAYOUT_TARGETS:
        size, align = 0, 1
        for f in fields:
            lo = f.type.layout(target)
            size = -(-size // lo.align) * lo.align + lo.size
            align = max(align, lo.align)
        size = max(size, 1)
        layouts.append((target, Layout(-(-size // align) * align, align)))
    # on the wasm boundary a struct is the address of its bytes in linear memory
    return SpyType(
        name,
        Kind.STRUCT,
        c_name,
        python_identifier(name),
        "i32",
        tuple(layouts),
        fields=fields,
        fqn=fqn,
    )


def declare_struct(name: str, fqn: str, c_name: str) -> SpyType:
    """A struct whose fields are not known yet: a field of it may point to it
    (`next: gc_ptr[Node]`), so the type exists before its fields;
    complete_struct gives it its fields and layout."""
    return SpyType(name, Kind.STRUCT, c_name, python_identifier(name), "i32", (), fqn=fqn)


def complete_struct(t: SpyType, fields: tuple[StructField, ...]) -> None:
    """Give a declared struct its fields and layout, in place (pointers to it
    hold this very object). Holding itself by value is an error."""
    if t.kind is not Kind.STRUCT or t.layouts:
        raise TypeError(f"{t} is not a declared struct")
    for f in fields:
        if any(u is t for u in structs_reached([f.type])):
            raise TypeError(f"{t} cannot hold itself by value (field '{f.name}')")
    made = struct_type(t.name, t.fqn, t.c_name, fields)
    object.__setattr__(t, "fields", made.fields)
    object.__setattr__(t, "layouts", made.layouts)


def python_identifier(name: str) -> str:
    """The name of a struct's Python class in its module: its own name, or for
    a generic instance (`Pair[i32]`) its parts joined by `_` (`Pair_i32`)."""
    return re.sub(r"\W+", "_", name).strip("_")


def structs_reached(roots: Iterable[SpyType]) -> list[SpyType]:
    """The struct types among `roots` and their fields' types, each once,
    every struct after the structs its fields hold."""
    out: dict[str, SpyType] = {}

    def visit(t: SpyType) -> None:
        for a in t.args:  # a container's items
            visit(a)
        if t.kind is Kind.STRUCT and t.fqn not in out:
            for f in t.fields:
                visit(f.type)
            out[t.fqn] = t

    for t in roots:
        visit(t)
    return list(out.values())


class LayoutMismatchError(ValueError):
    """A recorded struct description that this type model lays out differently."""


def from_description(desc: Mapping[str, Any], resolve: Callable[[str], SpyType]) -> SpyType:
    """The struct type whose `describe()` is `desc`, its field types found by
    `resolve(fqn)`. The recorded layout and offsets must be the ones this
    model computes: a difference means the two disagree on the ABI."""
    fields = tuple(StructField(f["name"], resolve(f["type"])) for f in desc["fields"])
    t = struct_type(desc["name"], desc["fqn"], "", fields)
    if t.describe() != desc:
        raise LayoutMismatchError(
            f"struct {t.fqn}: the recorded layout differs from this type model's "
            f"(recorded {desc.get('layout')}, computed {t.describe()['layout']})"
        )
    return t


PTR_KINDS = ("gc", "raw")  # unsafe's memory kinds: collected, or never freed


def ptr_type(item: SpyType, c_name: str, memkind: str = "gc") -> SpyType:
    """`gc_ptr[item]` (or `raw_ptr[item]`): in C `{item *p; size_t length;}`,
    the length bounding every index."""
    if memkind not in PTR_KINDS:
        raise UnknownTypeError(f"no memory kind {memkind!r}")
    layouts = (("native", Layout(16, 8)), ("wasm", Layout(8, 4)))
    name = f"{memkind}_ptr[{item.name}]"
    return SpyType(
        name,
        Kind.PTR,
        c_name,
        name,
        None,
        layouts,
        item=item,
        fqn=f"unsafe::{memkind}_ptr[{item.fqn}]",
    )


def ptr_memkind(t: SpyType) -> str:
    """ "gc" or "raw": which `unsafe` pointer type `t` is."""
    t._need(Kind.PTR)
    return t.fqn.removeprefix("unsafe::").split("_ptr[", 1)[0]


def lookup(name: str) -> SpyType:
    """The type whose canonical name is `name`; an unknown name is an error."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownTypeError(f"unknown SPy type {name!r}") from None
