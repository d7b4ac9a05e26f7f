"""The Python classes of exported SPy structs, one per struct type per
package, shared by both backends.

An instance holds its field values in one tuple (`_spy_values`), checked and
converted as the function arguments of the same types are, so that it holds
exactly what SPy holds (an f32 field is rounded to single precision). The
classes behave like frozen dataclasses: read-only fields, positional and
keyword construction, `==` and `hash` by value, a dataclass-like `repr`,
pickling and copying. The native extension reads `_spy_values` and makes
results with `_spy_raw`, which skips the checks.
"""

from __future__ import annotations

import dataclasses
import struct as _struct
from collections.abc import Callable, Mapping
from typing import Any

from spy_abi.types import Kind, SpyType

from ._convert import to_bool, to_f32, to_float, to_int, to_str

VALUES = "_spy_values"


class SpyStruct:
    """Base of the generated struct classes."""

    __slots__ = (VALUES,)
    _spy_values: tuple[Any, ...]
    _spy_type: SpyType
    _spy_fields: tuple[str, ...]

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field '{name}': {type(self).__name__} is an immutable SPy struct"
        )

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot delete field '{name}': {type(self).__name__} is an immutable SPy struct"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            assert isinstance(other, SpyStruct)
            return self._spy_values == other._spy_values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._spy_values)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{n}={v!r}" for n, v in zip(self._spy_fields, self._spy_values, strict=False)
        )
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # rebuilt through the constructor, so a pickle's values are checked again
        return type(self), self._spy_values

    def __copy__(self) -> SpyStruct:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> SpyStruct:
        return self


_set_values = SpyStruct._spy_values.__set__  # type: ignore[attr-defined]


def round_f32(value: float) -> float:
    return float(_struct.unpack("f", _struct.pack("f", value))[0])


def checker(t: SpyType, classes: Mapping[str, type]) -> Callable[[Any, str, str], Any]:
    """A function (value, func, param) -> the value SPy holds for type `t`,
    raising the TypeError or OverflowError a function argument would."""
    name = t.name
    if t.kind is Kind.INT:
        lo, hi = t.min_value, t.max_value

        def check_int(v: Any, func: str, param: str) -> Any:
            if type(v) is int and lo <= v <= hi:
                return v
            return to_int(v, func, param, name)

        return check_int
    if t.kind is Kind.FLOAT:
        if t.bits == 32:
            return lambda v, func, param: round_f32(to_f32(to_float(v, func, param), func, param))
        return lambda v, func, param: v if type(v) is float else to_float(v, func, param)
    if t.kind is Kind.BOOL:
        return to_bool
    if t.kind is Kind.STR:

        def check_str(v: Any, func: str, param: str) -> Any:
            to_str(v, func, param)  # a str that UTF-8 can hold
            return v

        return check_str
    if t.kind is Kind.STRUCT:
        cls = classes[t.fqn]

        def check_struct(v: Any, func: str, param: str) -> Any:
            if type(v) is not cls:
                raise TypeError(
                    f"{func}() argument '{param}' must be {name}, not {type(v).__name__}"
                )
            return v

        return check_struct
    raise TypeError(f"a value of type {t} cannot cross into Python")


def make_class(t: SpyType, module: str, classes: Mapping[str, type]) -> type[SpyStruct]:
    """The Python class of struct `t`, living in `module`; `classes` holds the
    classes of the structs its fields hold."""
    fields = tuple(f.name for f in t.fields)
    checks = [checker(f.type, classes) for f in t.fields]
    prefix = "_spy_"
    while any(n.startswith(prefix) for n in fields):
        prefix = "_" + prefix
    args = ", ".join(fields)
    # the constructor is a def with the fields as parameters, so Python binds
    # positional and keyword arguments and words their errors
    source = "\n".join(
        [
            f"def __new__({prefix}cls{', ' if args else ''}{args}):",
            f"    {prefix}self = {prefix}new({prefix}cls)",
            f"    {prefix}set({prefix}self, ("
            + "".join(
                f"{prefix}checks[{i}]({n}, {t.name!r}, {n!r}), " for i, n in enumerate(fields)
            )
            + "))",
            f"    return {prefix}self",
            f"def _spy_raw({prefix}cls, *{prefix}values):",
            f"    {prefix}self = {prefix}new({prefix}cls)",
            f"    {prefix}set({prefix}self, {prefix}values)",
            f"    return {prefix}self",
        ]
    )
    namespace: dict[str, Any] = {
        f"{prefix}new": object.__new__,
        f"{prefix}set": _set_values,
        f"{prefix}checks": checks,
    }
    exec(compile(source, f"<spy struct {t.fqn}>", "exec"), namespace)
    namespace["__new__"].__qualname__ = f"{t.name}.__new__"  # Python's binding errors name it
    body: dict[str, Any] = {
        "__slots__": (),
        "__module__": module,
        "__qualname__": t.python,
        "__doc__": f"SPy struct {t.name} ({t.fqn}): immutable, compared and hashed by value.",
        "__new__": namespace["__new__"],
        "_spy_raw": classmethod(namespace["_spy_raw"]),
        "_spy_type": t,
        "_spy_fields": fields,
    }
    for i, f in enumerate(t.fields):
        body[f.name] = property(
            _field_getter(i), doc=f"SPy field {f.name}: {f.type.name} (read-only)"
        )
    cls = type(t.name, (SpyStruct,), body)
    return cls


def _field_getter(i: int) -> Callable[[SpyStruct], Any]:
    def get(self: SpyStruct) -> Any:
        return self._spy_values[i]

    return get


def make_classes(
    structs: list[tuple[SpyType, str]], given: Mapping[str, type[SpyStruct]] | None = None
) -> dict[str, type[SpyStruct]]:
    """The classes of `structs` (type, home module), by fully qualified name;
    the classes of the structs a field holds are made first. A struct that
    `given` has a class for (another package's) keeps that class."""
    wanted = {t.fqn: (t, module) for t, module in structs}
    classes: dict[str, type[SpyStruct]] = dict(given or {})

    def make(fqn: str) -> None:
        if fqn in classes:
            return
        t, module = wanted[fqn]
        for f in t.fields:
            if f.type.kind is Kind.STRUCT:
                make(f.type.fqn)
        classes[fqn] = make_class(t, module, classes)

    for fqn in wanted:
        make(fqn)
    return classes
