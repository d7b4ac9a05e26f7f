"""Which array arguments a function may write: a read-only buffer (a
`bytes`, a read-only NumPy array) is refused for those, and on the wasm
backend only those are copied back into the caller's buffer.

The analysis is over-approximate and cheap: flow-insensitive, per parameter.
A local is an alias of a parameter when any value it is given mentions the
parameter or an alias and can hold a reference (a struct or a gc_ptr: a row
of a 2-D array, the array's data block, a view made from it); an object
whose field is given an alias becomes one too. The parameter is written
when an item of a numeric gc_ptr that is an alias is stored to (`p[i] = v`,
ptr_copy into it), or when an alias is passed where a callee writes. The
callees' answers come from a fixed point over all functions, recursion
included."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import ir
from .effects import FuncKey, all_stmts, children, stmt_exprs
from .types import Kind

_WRITING_MEMOPS = frozenset({"setbytes", "copy", "move"})  # args[0] is the destination

Key = FuncKey


def _key(f: ir.FuncDecl) -> Key:
    return (f.module, f.name)


def _can_alias(e: ir.Expr) -> bool:
    """Can a value of `e`'s type lead to a buffer's items?"""
    return e.type.kind in (Kind.STRUCT, Kind.PTR)


def _numeric_items(ptr: ir.Expr) -> bool:
    item = ptr.type.item
    return item is not None and (item.is_numeric or item.kind is Kind.BOOL)


def _root(e: ir.Expr) -> str | None:
    """The local a store target is reached from (`d` of `d.items[i]`)."""
    while isinstance(e, (ir.FieldGet, ir.PtrItem)):
        e = e.value if isinstance(e, ir.FieldGet) else e.ptr
    return e.name if isinstance(e, ir.LocalRef) else None


class _Aliases:
    """The locals of one function that may alias one parameter."""

    def __init__(self, func: ir.FuncDecl, param: str) -> None:
        self.names = {param}
        flows = list(self._flows(func))
        changed = True
        while changed:
            changed = False
            for target, value in flows:
                if target not in self.names and self.holds(value):
                    self.names.add(target)
                    changed = True

    def holds(self, e: ir.Expr) -> bool:
        """May the value of `e` lead to the parameter's buffer?"""
        if not _can_alias(e):  # a number or a str leads nowhere
            return False
        if isinstance(e, ir.LocalRef):
            return e.name in self.names
        return any(self.holds(c) for c in children(e))

    @staticmethod
    def _flows(func: ir.FuncDecl) -> Iterator[tuple[str, ir.Expr]]:
        """(local, value) for every value a local is given or, through a
        field or item store, an object a local reaches is given."""
        for s in all_stmts(func.body):
            if isinstance(s, ir.Assign):
                root = _root(s.target)
                if root is not None:
                    yield root, s.value
        for e in stmt_exprs(func.body):
            if isinstance(e, ir.Let):
                yield e.name, e.value


def _writes(func: ir.FuncDecl, param: str, summaries: dict[Key, frozenset[int]]) -> bool:
    aliases = _Aliases(func, param)
    for s in all_stmts(func.body):
        if (
            isinstance(s, ir.Assign)
            and isinstance(s.target, ir.PtrItem)
            and _numeric_items(s.target.ptr)
            and aliases.holds(s.target.ptr)
        ):
            return True
    for e in stmt_exprs(func.body):
        if isinstance(e, ir.MemOp) and e.op in _WRITING_MEMOPS:
            if _numeric_items(e.args[0]) and aliases.holds(e.args[0]):
                return True
        elif isinstance(e, ir.Call):
            written = summaries.get(_key(e.func), frozenset())
            if any(i in written and aliases.holds(a) for i, a in enumerate(e.args)):
                return True
        elif isinstance(e, ir.RuntimeCall) and any(  # libspy's own: assume the worst
            a.type.kind is Kind.PTR and aliases.holds(a) for a in e.args
        ):
            return True
    return False


def _reachable(roots: list[ir.FuncDecl]) -> list[ir.FuncDecl]:
    """`roots` and every function they call, each once."""
    seen: dict[Key, ir.FuncDecl] = {}
    work = list(roots)
    while work:
        f = work.pop()
        if _key(f) in seen:
            continue
        seen[_key(f)] = f
        work += [e.func for e in stmt_exprs(f.body) if isinstance(e, ir.Call)]
    return list(seen.values())


def written_params(modules: Iterable[ir.ModuleIR]) -> dict[Key, frozenset[int]]:
    """For every function, the indices of the parameters whose buffers it
    may write, directly or through the functions it calls."""
    funcs = _reachable(
        [f for m in modules for f in (*m.funcs.values(), *m.boundary_methods.values())]
    )
    summaries: dict[Key, frozenset[int]] = {}
    changed = True
    while changed:
        changed = False
        for f in funcs:
            old = summaries.get(_key(f), frozenset())
            new = frozenset(
                i
                for i, p in enumerate(f.params)
                if p.type.kind in (Kind.STRUCT, Kind.PTR)
                and (i in old or _writes(f, p.name, summaries))
            )
            if new != old:
                summaries[_key(f)] = new
                changed = True
    return summaries
