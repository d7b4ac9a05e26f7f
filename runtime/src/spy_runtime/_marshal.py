"""The host's side of the wasm backend's marshalling (libspy's marshal.c has
the format): a call whose values hold containers takes all its arguments as
one buffer and gives its result as one buffer. Encoders check each value
with the native extension's rules and messages (an item's message names
where it is: 'words[1]', 'd['key']', 'a key of d')."""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from spy_abi.types import PYTHON_CONTAINER_KINDS, Kind, SpyType

from ._convert import array_view_checker, to_bool, to_f32, to_float, to_int, to_str, type_error
from ._structs import VALUES

# (value, out, function name, argument path) -> None, or an array's buffer
# (held through the call: its items may go back); appends to out
Encoder = Callable[[Any, bytearray, str, str], "memoryview | None"]
# (data, position) -> (value, position after it)
Decoder = Callable[[bytes, int], tuple[Any, int]]

U32 = struct.Struct("<I")
SCALAR = {
    (8, True): "<b",
    (8, False): "<B",
    (32, True): "<i",
    (32, False): "<I",
    (64, True): "<q",
    (64, False): "<Q",
}


def _scalar_struct(t: SpyType) -> struct.Struct:
    if t.kind is Kind.FLOAT:
        return struct.Struct("<f" if t.bits == 32 else "<d")
    if t.kind is Kind.BOOL:
        return struct.Struct("<?")
    return struct.Struct(SCALAR[(t.bits, t.signed)])


def _bulk_code(t: SpyType) -> str | None:
    """The struct code of a fixed-size number, for a list of them at once
    (f32 excluded: packing rounds where the item check would refuse)."""
    if t.kind is Kind.INT or (t.kind is Kind.FLOAT and t.bits == 64):
        return _scalar_struct(t).format[-1]
    return None


def _is_sequence(v: Any) -> bool:
    return (
        not isinstance(v, (str, bytes, bytearray))
        and hasattr(v, "__len__")
        and hasattr(v, "__getitem__")
    )


def encoder(
    t: SpyType, writable: bool = False, classes: Mapping[str, type] = {}
) -> Encoder:  # read only
    """How a value of ABI type `t` goes into an argument buffer (`writable`:
    an array argument the function writes; `classes`: the package's struct
    classes, by fully qualified name)."""
    kind = t.kind
    if kind is Kind.STRUCT:  # its fields in order
        cls, name = classes[t.fqn], t.name
        fields = [encoder(f.type, classes=classes) for f in t.fields]

        def enc_struct(v: Any, out: bytearray, fn: str, path: str) -> None:
            if type(v) is not cls:
                raise TypeError(f"{fn}() argument '{path}' must be {name}, not {type(v).__name__}")
            for enc, x in zip(fields, getattr(v, VALUES), strict=True):
                enc(x, out, fn, path)

        return enc_struct
    if kind is Kind.ARRAY:
        to_view = array_view_checker(t, writable)

        def enc_array(v: Any, out: bytearray, fn: str, path: str) -> memoryview:
            view = to_view(v, fn, path)
            for n in view.shape or ():
                out += U32.pack(n)
            # C order: a contiguous buffer's bytes as they are, others gathered
            out += view.cast("B") if view.c_contiguous and view.ndim else view.tobytes()
            return view

        return enc_array
    if kind is Kind.INT:
        packer, lo, hi, name = _scalar_struct(t), t.min_value, t.max_value, t.name

        def enc_int(v: Any, out: bytearray, fn: str, path: str) -> None:
            if type(v) is not int or not lo <= v <= hi:
                v = to_int(v, fn, path, name)
            out += packer.pack(v)

        return enc_int
    if kind is Kind.FLOAT:
        packer, f32 = _scalar_struct(t), t.bits == 32

        def enc_float(v: Any, out: bytearray, fn: str, path: str) -> None:
            if type(v) is not float:
                v = to_float(v, fn, path)
            if f32:
                v = to_f32(v, fn, path)
            out += packer.pack(v)

        return enc_float
    if kind is Kind.BOOL:

        def enc_bool(v: Any, out: bytearray, fn: str, path: str) -> None:
            out.append(1 if to_bool(v, fn, path) else 0)

        return enc_bool
    if kind is Kind.STR:

        def enc_str(v: Any, out: bytearray, fn: str, path: str) -> None:
            data = to_str(v, fn, path)
            out += U32.pack(len(data))
            out += data

        return enc_str
    if kind is Kind.BYTES:

        def enc_bytes(v: Any, out: bytearray, fn: str, path: str) -> None:
            if not isinstance(v, (bytes, bytearray)):
                raise type_error(v, fn, path, "bytes")
            out += U32.pack(len(v))
            out += v

        return enc_bytes
    if kind is Kind.LIST:
        item = encoder(t.args[0], classes=classes)
        expected = t.python
        # a list of ints or floats packs in one go when every item is of the
        # exact type (struct checks the range); any other goes item by item,
        # for the message naming it
        code = _bulk_code(t.args[0])
        exact = float if t.args[0].kind is Kind.FLOAT else int

        def enc_list(v: Any, out: bytearray, fn: str, path: str) -> None:
            if not _is_sequence(v):
                raise type_error(v, fn, path, expected)
            n = len(v)
            out += U32.pack(n)
            if (
                code is not None
                and n
                and type(v) in (list, tuple)
                and all(type(x) is exact for x in v)
            ):
                try:
                    out += struct.pack(f"<{n}{code}", *v)
                    return
                except (struct.error, OverflowError):
                    pass  # out of range: the item's own message below
            for i in range(n):
                item(v[i], out, fn, f"{path}[{i}]")

        return enc_list
    if kind is Kind.DICT:
        key, value = encoder(t.args[0], classes=classes), encoder(t.args[1], classes=classes)
        expected = t.python

        def enc_dict(v: Any, out: bytearray, fn: str, path: str) -> None:
            items = getattr(v, "items", None)
            if items is None or not callable(items):
                raise type_error(v, fn, path, expected)
            pairs = list(items())
            out += U32.pack(len(pairs))
            for k, x in pairs:
                key(k, out, fn, f"a key of {path}")
                value(x, out, fn, f"{path}[{repr(k)[:200]}]")

        return enc_dict
    if kind is Kind.TUPLE:
        items_enc = [encoder(a, classes=classes) for a in t.args]
        expected, count = t.python, len(t.args)

        def enc_tuple(v: Any, out: bytearray, fn: str, path: str) -> None:
            if not _is_sequence(v):
                raise type_error(v, fn, path, expected)
            if len(v) != count:
                raise TypeError(f"{fn}() argument '{path}' must have {count} items, not {len(v)}")
            for i, enc in enumerate(items_enc):
                enc(v[i], out, fn, f"{path}[{i}]")

        return enc_tuple
    raise TypeError(f"no marshalling of {t} on the wasm backend")


def decoder(t: SpyType, classes: Mapping[str, type] = {}) -> Decoder:  # read only
    """How a value of ABI type `t` comes out of a result buffer."""
    kind = t.kind
    if kind is Kind.STRUCT:  # its fields in order, made without checks again
        raw = classes[t.fqn]._spy_raw  # type: ignore[attr-defined]
        fields = [decoder(f.type, classes) for f in t.fields]

        def dec_struct(data: bytes, at: int) -> tuple[Any, int]:
            values = []
            for dec in fields:
                x, at = dec(data, at)
                values.append(x)
            return raw(*values), at

        return dec_struct
    if kind in (Kind.INT, Kind.FLOAT, Kind.BOOL):
        packer = _scalar_struct(t)
        size = packer.size

        def dec_scalar(data: bytes, at: int) -> tuple[Any, int]:
            return packer.unpack_from(data, at)[0], at + size

        return dec_scalar
    if kind in (Kind.STR, Kind.BYTES):
        text = kind is Kind.STR

        def dec_text(data: bytes, at: int) -> tuple[Any, int]:
            (n,) = U32.unpack_from(data, at)
            raw = bytes(data[at + 4 : at + 4 + n])
            return (raw.decode("utf-8") if text else raw), at + 4 + n

        return dec_text
    if kind is Kind.LIST:
        item = decoder(t.args[0], classes)
        code = _bulk_code(t.args[0])

        def dec_list(data: bytes, at: int) -> tuple[Any, int]:
            (n,) = U32.unpack_from(data, at)
            at += 4
            if code is not None:  # fixed-size items: all at once
                bulk = struct.Struct(f"<{n}{code}")
                return list(bulk.unpack_from(data, at)), at + bulk.size
            out = []
            for _ in range(n):
                x, at = item(data, at)
                out.append(x)
            return out, at

        return dec_list
    if kind is Kind.DICT:
        key, value = decoder(t.args[0], classes), decoder(t.args[1], classes)

        def dec_dict(data: bytes, at: int) -> tuple[Any, int]:
            (n,) = U32.unpack_from(data, at)
            at += 4
            out = {}
            for _ in range(n):
                k, at = key(data, at)
                out[k], at = value(data, at)
            return out, at

        return dec_dict
    if kind is Kind.TUPLE:
        items = [decoder(a, classes) for a in t.args]

        def dec_tuple(data: bytes, at: int) -> tuple[Any, int]:
            out = []
            for dec in items:
                x, at = dec(data, at)
                out.append(x)
            return tuple(out), at

        return dec_tuple
    if kind is Kind.ARRAY:
        code, ndim, size = t.args[0].buffer_format, t.ndim, t.args[0].layout("native").size
        dims = struct.Struct(f"<{ndim}I")

        def dec_array(data: bytes, at: int) -> tuple[Any, int]:
            shape = dims.unpack_from(data, at)
            at += dims.size
            n = math.prod(shape) * size
            view: Any = memoryview(bytearray(data[at : at + n]))  # typeshed: literal codes only
            # a memoryview cannot have a 0 in a shape of several dimensions
            return (view.cast(code, shape) if n else view.cast(code)), at + n

        return dec_array
    if kind is Kind.NONE:
        return lambda data, at: (None, at)
    raise TypeError(f"no marshalling of {t} on the wasm backend")


def write_back(view: memoryview, t: SpyType, data: bytes, at: int) -> int:
    """Copy the items an array argument has after the call (C order, from
    `data[at:]`) into the caller's buffer `view`; the position after them."""
    n = view.nbytes
    chunk = data[at : at + n]
    if n == 0:
        return at
    if view.c_contiguous:
        view.cast("B")[:] = chunk
    else:  # a strided view (a NumPy slice): item by item
        shape = view.shape or ()
        raw: Any = memoryview(chunk)  # typeshed: literal codes only
        items = raw.cast(t.args[0].buffer_format, shape)
        for index in itertools.product(*(range(d) for d in shape)):
            view[index] = items[index]
    return at + n


def needs_marshal(types: list[SpyType]) -> bool:
    """Does a signature of these ABI types go through a marshalled export?"""
    return any(t.kind in PYTHON_CONTAINER_KINDS for t in types)
