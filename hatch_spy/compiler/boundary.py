"""What crosses into Python: which public functions can, the structs their
signatures reach, and which module's namespace holds each struct's class."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import ir
from .errors import SpyCompileError
from .types import (
    BYTES,
    Kind,
    SpyType,
    array_type,
    dict_type,
    list_type,
    structs_reached,
    tuple_type,
)

# the kinds of values a public function may take and return (a struct's
# fields must be of these kinds too); the standard library's containers
# cross too, as Python's own (container_items)
BOUNDARY_KINDS = frozenset({Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.STR, Kind.NONE, Kind.STRUCT})

# the structs of the standard library that cross as Python's containers
CONTAINER_MODULES = {
    "_list": Kind.LIST,
    "_dict": Kind.DICT,
    "_tuple": Kind.TUPLE,
    "_bytes": Kind.BYTES,
}


# the array module's structs that are arrays (`array::array2[f64]`), by NDIM;
# its other structs (iterators, the view's data) are its own business
ARRAY_STRUCTS = {f"array{n}": n for n in (1, 2, 3)}


def container_kind(t: SpyType) -> Kind | None:
    """Kind.LIST (DICT, TUPLE, BYTES, ARRAY) if `t` is that container of the
    standard library (`_list::list[i32]`), else None."""
    if t.kind is not Kind.STRUCT:
        return None
    module, _, name = t.fqn.partition("::")
    if module == "array":
        return Kind.ARRAY if name.split("[", 1)[0] in ARRAY_STRUCTS else None
    return CONTAINER_MODULES.get(module)


def is_array(t: SpyType) -> bool:
    return container_kind(t) is Kind.ARRAY


def array_ndim(t: SpyType) -> int:
    """The dimensions of array struct `t` (`array::array2[f64]` -> 2)."""
    return ARRAY_STRUCTS[t.fqn.partition("::")[2].split("[", 1)[0]]


def _through(t: SpyType, *path: str) -> SpyType:
    """The type reached from struct `t` through fields, `*` following a gc_ptr."""
    for step in path:
        if step == "*":
            assert t.kind is Kind.PTR and t.item is not None
            t = t.item
        else:
            found = t.field_type(step)
            assert found is not None, (t, step)
            t = found
    return t


def container_items(t: SpyType) -> tuple[SpyType, ...]:
    """The item types of a container of the standard library, read from its
    layout: list[T] -> (T,); dict[K, V] -> (K, V); tuple -> its items."""
    kind = container_kind(t)
    if kind is Kind.LIST:
        return (_through(t, "__ll__", "*", "items", "*"),)
    if kind is Kind.DICT:
        entry = _through(t, "__dd__", "*", "entries", "*")
        return (_through(entry, "key"), _through(entry, "value"))
    if kind is Kind.TUPLE:
        return tuple(f.type for f in t.fields)
    if kind is Kind.BYTES:
        return ()
    if kind is Kind.ARRAY:
        return (_through(t, "items", "*"),)
    raise AssertionError(f"{t} is not a container")


def abi_type(t: SpyType) -> SpyType:
    """What a value of the compiler's type `t` is on the boundary: a
    container of the standard library is Python's (spy_abi's container
    types, by their items); every other type is itself."""
    kind = container_kind(t)
    if kind is None:
        return t
    items = tuple(abi_type(i) for i in container_items(t))
    if kind is Kind.LIST:
        return list_type(items[0])
    if kind is Kind.DICT:
        return dict_type(items[0], items[1])
    if kind is Kind.TUPLE:
        return tuple_type(items)
    if kind is Kind.ARRAY:
        return array_type(items[0], array_ndim(t))
    return BYTES


def public_functions(modules: Iterable[ir.ModuleIR]) -> list[ir.FuncDecl]:
    return [f for m in modules for f in m.funcs.values() if f.is_public]


def signature_types(func: ir.FuncDecl) -> list[SpyType]:
    return [*(p.type for p in func.params), func.ret]


def why_not_exportable(t: SpyType) -> str | None:
    """Why a value of type `t` cannot cross into Python, or None if it can."""
    if container_kind(t) is Kind.ARRAY:
        dtype = container_items(t)[0]
        if not (dtype.is_numeric or dtype.kind is Kind.BOOL):
            return f"arrays of {dtype} cannot cross into Python (only arrays of numbers)"
        return None
    if container_kind(t) is not None:
        for item in container_items(t):
            reason = why_not_exportable(item)
            if reason is None and container_kind(item) is Kind.ARRAY:
                reason = "arrays inside containers cannot cross into Python yet"
            if reason is not None:
                return f"its items of type {item}: {reason}"
        return None
    if t.kind is Kind.PTR:
        return "pointers cannot cross into Python"
    if t.kind not in BOUNDARY_KINDS:
        return f"{t.kind.value} values cannot cross into Python"
    for f in t.fields:
        reason = why_not_exportable(f.type)
        if reason is None and container_kind(f.type) is not None:
            reason = "containers in struct fields cannot cross into Python yet"
        if reason is not None:
            return f"{t}'s field '{f.name}' has type {f.type}: {reason}"
    return None


def check_exportable(module: ir.ModuleIR) -> None:
    """Every public function's types can cross into Python, or a clear error."""
    for f in module.funcs.values():
        if not f.is_public:
            continue
        for t in signature_types(f):
            reason = why_not_exportable(t)
            if reason is not None:
                raise SpyCompileError(
                    f"public function '{f.name}' takes or returns {t}: {reason}; "
                    f"rename it '_{f.name}' to keep it inside the package",
                    f.loc,
                )


def abi_signature(func: ir.FuncDecl) -> list[SpyType]:
    """The parameter and return types as they cross into Python."""
    return [abi_type(t) for t in signature_types(func)]


def exported_structs(modules: Iterable[ir.ModuleIR]) -> list[SpyType]:
    """The structs public signatures reach, each after those its fields hold."""
    return structs_reached(t for f in public_functions(modules) for t in abi_signature(f))


def struct_homes(modules: Sequence[ir.ModuleIR], own: Iterable[str]) -> dict[str, list[SpyType]]:
    """For each of the package's own modules, the exported structs whose
    Python class it holds: a struct's own module when it is one of the
    package's, otherwise the first own module (by name) whose signatures
    reach it. Two classes, or a class and a function, with the same Python
    name in one module are an error."""
    own_names = sorted(set(own))
    homes: dict[str, list[SpyType]] = {name: [] for name in own_names}
    by_module = {m.name: m for m in modules}
    first_user: dict[str, ir.FuncDecl] = {}
    for name in own_names:
        for f in public_functions([by_module[name]]):
            for t in structs_reached(abi_signature(f)):
                if t.fqn in first_user:
                    continue
                first_user[t.fqn] = f
                defined_in = t.fqn.split("::")[0]
                homes[defined_in if defined_in in homes else name].append(t)
    for name, structs in homes.items():
        seen = {f.name: f"function '{f.name}'" for f in public_functions([by_module[name]])}
        for t in structs:
            other = seen.get(t.python)
            if other is not None:
                raise SpyCompileError(
                    f"struct {t} and {other} would both be '{t.python}' in Python module "
                    f"{name}: rename one of them",
                    first_user[t.fqn].loc,
                )
            seen[t.python] = f"struct {t}"
    return homes


def containers_reached(modules: Iterable[ir.ModuleIR]) -> list[SpyType]:
    """The containers public signatures reach, each after the containers its
    items are (the order their converters are written in)."""
    out: list[SpyType] = []

    def visit(t: SpyType) -> None:
        if container_kind(t) is None or t in out:
            return
        for item in container_items(t):
            visit(item)
        out.append(t)

    for f in public_functions(modules):
        for t in signature_types(f):
            visit(t)
    return out


@dataclass
class ContainerTable:
    """The containers that cross into Python, numbered for their converters
    (the native extension's and the wasm marshaller's), and the methods of
    theirs that the converters call (compiler.prepare_boundary made them)."""

    types: list[SpyType] = field(default_factory=list)
    methods: dict[tuple[str, str], ir.FuncDecl] = field(default_factory=dict)

    @classmethod
    def of(cls, modules: list[ir.ModuleIR]) -> ContainerTable:
        methods = {k: f for m in modules for k, f in m.boundary_methods.items()}
        return cls(containers_reached(modules), methods)

    def index(self, t: SpyType) -> int:
        return self.types.index(t)

    def method(self, t: SpyType, name: str) -> ir.FuncDecl:
        return self.methods[(t.fqn, name)]
