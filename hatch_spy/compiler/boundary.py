"""What crosses into Python: which public functions can, the structs their
signatures reach, and which module's namespace holds each struct's class."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import ir
from .errors import SpyCompileError
from .types import Kind, SpyType, structs_reached

# the kinds of values a public function may take and return (a struct's
# fields must be of these kinds too)
BOUNDARY_KINDS = frozenset({Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.STR, Kind.NONE, Kind.STRUCT})


def public_functions(modules: Iterable[ir.ModuleIR]) -> list[ir.FuncDecl]:
    return [f for m in modules for f in m.funcs.values() if f.is_public]


def signature_types(func: ir.FuncDecl) -> list[SpyType]:
    return [*(p.type for p in func.params), func.ret]


def why_not_exportable(t: SpyType) -> str | None:
    """Why a value of type `t` cannot cross into Python, or None if it can."""
    if t.kind is Kind.PTR:
        return "pointers cannot cross into Python"
    if t.kind not in BOUNDARY_KINDS:
        return f"{t.kind.value} values cannot cross into Python"
    for f in t.fields:
        reason = why_not_exportable(f.type)
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


def exported_structs(modules: Iterable[ir.ModuleIR]) -> list[SpyType]:
    """The structs public signatures reach, each after those its fields hold."""
    return structs_reached(t for f in public_functions(modules) for t in signature_types(f))


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
            for t in structs_reached(signature_types(f)):
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
