"""What calling a function can do: panic, run long (poll), recurse, make
temporaries, see str globals. The Python-facing wrappers set up only what a
callee needs (a setjmp guard, an arena mark, ...), so simple functions pay
nothing at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import ir
from .types import STR, SpyType, holds_references

# operations whose helpers call spy_panic (division by zero, bad shifts,
# failed parses, math domain errors, out-of-memory on a string allocation)
_PANICKING_OPS = frozenset({"/", "//", "%", "**", "<<", ">>"})


def sub_exprs(e: ir.Expr) -> Iterator[ir.Expr]:
    yield e
    for child in children(e):
        yield from sub_exprs(child)


def children(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, (ir.BinOp, ir.Compare, ir.StrConcat)):
        return [e.left, e.right]
    if isinstance(e, (ir.UnaryOp, ir.Not)):
        return [e.operand]
    if isinstance(e, (ir.Convert, ir.Truth, ir.StrOf, ir.StrLen, ir.ParseStr)):
        return [e.value]
    if isinstance(e, ir.BoolOp):
        return list(e.values)
    if isinstance(e, ir.CondExpr):
        return [e.test, e.body, e.orelse]
    if isinstance(e, (ir.Call, ir.RuntimeCall, ir.StructNew)):
        return list(e.args)
    if isinstance(e, ir.FieldGet):
        return [e.value]
    if isinstance(e, ir.PtrAlloc):
        return [e.count]
    if isinstance(e, ir.PtrLength):
        return [e.ptr]
    if isinstance(e, ir.PtrItem):
        return [e.ptr, e.index]
    if isinstance(e, ir.MemOp):
        return list(e.args)
    if isinstance(e, ir.Let):
        return [e.value, e.body]
    return []


def stmt_exprs(stmts: list[ir.Stmt]) -> Iterator[ir.Expr]:
    for s in stmts:
        if isinstance(s, (ir.Assign, ir.ExprStmt)):
            yield from sub_exprs(s.value)
            if isinstance(s, ir.Assign) and isinstance(s.target, (ir.PtrItem, ir.FieldGet)):
                yield from sub_exprs(s.target)
        elif isinstance(s, ir.If):
            yield from sub_exprs(s.test)
            yield from stmt_exprs(s.body)
            yield from stmt_exprs(s.orelse)
        elif isinstance(s, ir.While):
            yield from sub_exprs(s.test)
            yield from stmt_exprs(s.body)
        elif isinstance(s, ir.ForRange):
            for e in (s.start, s.stop, s.step):
                if e is not None:
                    yield from sub_exprs(e)
            yield from stmt_exprs(s.body)
        elif isinstance(s, ir.Return) and s.value is not None:
            yield from sub_exprs(s.value)
        elif isinstance(s, ir.Print):
            for a in s.args:
                yield from sub_exprs(a)
        elif isinstance(s, ir.Raise) and s.message is not None:
            yield from sub_exprs(s.message)
        elif isinstance(s, ir.Assert):
            yield from sub_exprs(s.test)
            if s.message is not None:
                yield from sub_exprs(s.message)


def _panics_directly(stmts: list[ir.Stmt]) -> bool:
    for s in stmts:
        if isinstance(s, (ir.Raise, ir.Assert, ir.Print)):
            return True  # print: the host's write may raise (Ctrl-C, a closed file)
        if isinstance(s, ir.ForRange) and s.step is not None:
            return True
        if isinstance(s, ir.If) and (_panics_directly(s.body) or _panics_directly(s.orelse)):
            return True
        if isinstance(s, (ir.While, ir.ForRange)) and _panics_directly(s.body):
            return True
        if (
            isinstance(s, ir.Assign)
            and isinstance(s.target, ir.GlobalRef)
            and holds_references(s.target.type)
        ):
            return True  # pinning what it stores: out of memory, an argument's buffer
    for e in stmt_exprs(stmts):
        if isinstance(e, ir.BinOp) and e.op in _PANICKING_OPS:
            return True
        if isinstance(e, (ir.ParseStr, ir.StrOf, ir.StrConcat, ir.StrLen)):
            return True  # len(): OverflowError past 2**31 - 1 characters
        if isinstance(e, (ir.PtrAlloc, ir.PtrItem, ir.MemOp)):
            return True  # out of memory, out of bounds, NULL
        if isinstance(e, ir.RuntimeCall) and e.func.takes_loc:
            return True
    return False


FuncKey = tuple[str, str]


def _key(f: ir.FuncDecl) -> FuncKey:
    return (f.module, f.name)


def _callees(f: ir.FuncDecl) -> set[FuncKey]:
    return {_key(e.func) for e in stmt_exprs(f.body) if isinstance(e, ir.Call)}


def all_stmts(stmts: list[ir.Stmt]) -> Iterator[ir.Stmt]:
    """Every statement, nested ones too."""
    for s in stmts:
        yield s
        if isinstance(s, ir.If):
            yield from all_stmts(s.body)
            yield from all_stmts(s.orelse)
        elif isinstance(s, (ir.While, ir.ForRange)):
            yield from all_stmts(s.body)


def never_returns(f: ir.FuncDecl) -> bool:
    """Does every call of `f` raise (its body ends in `raise`, with no
    `return` anywhere)?"""
    return (
        bool(f.body)
        and isinstance(f.body[-1], ir.Raise)
        and not any(isinstance(s, ir.Return) for s in all_stmts(f.body))
    )


def has_loop(stmts: list[ir.Stmt]) -> bool:
    return any(isinstance(s, (ir.While, ir.ForRange)) for s in all_stmts(stmts))


def _allocates(f: ir.FuncDecl) -> bool:
    return any(_allocating_expr(e) for e in stmt_exprs(f.body))


def _allocating_expr(e: ir.Expr) -> bool:
    """Does `e` itself make a temporary string (not through a call)?"""
    return isinstance(e, (ir.StrOf, ir.StrConcat, ir.ParseStr, ir.PtrAlloc)) or (
        isinstance(e, ir.RuntimeCall) and e.func.ret == STR
    )


def allocates_in(stmts: list[ir.Stmt], allocates: frozenset[FuncKey]) -> bool:
    """Does running `stmts` make temporaries, directly or through calls?"""
    return any(
        _allocating_expr(e) or (isinstance(e, ir.Call) and _key(e.func) in allocates)
        for e in stmt_exprs(stmts)
    )


def may_collect(e: ir.Expr, collects: frozenset[FuncKey]) -> bool:
    """Can evaluating `e` reach a collector's safe point (a call of a
    function that can)?"""
    return any(isinstance(x, ir.Call) and _key(x.func) in collects for x in sub_exprs(e))


def _loops(stmts: list[ir.Stmt]) -> Iterator[ir.While | ir.ForRange]:
    for s in all_stmts(stmts):
        if isinstance(s, (ir.While, ir.ForRange)):
            yield s


def _sees_kept(t: SpyType) -> bool:
    """Can a global of type `t` lead to strings whose owner retires them (a
    str global's value, or those in the blocks a gc_ptr global reaches, or a
    struct global holding either)?"""
    return holds_references(t)


def _str_globals(stmts: list[ir.Stmt]) -> bool:
    for s in all_stmts(stmts):  # a store inside an `if` or a loop too
        if (
            isinstance(s, ir.Assign)
            and isinstance(s.target, ir.GlobalRef)
            and _sees_kept(s.target.type)
        ):
            return True
    return any(
        isinstance(e, ir.GlobalRef) and _sees_kept(e.type) and e.var.mutable
        for e in stmt_exprs(stmts)
    )


def _closure(direct: set[FuncKey], callees: dict[FuncKey, set[FuncKey]]) -> set[FuncKey]:
    """`direct` and every function that calls into it."""
    result = set(direct)
    changed = True
    while changed:
        changed = False
        for key, called in callees.items():
            if key not in result and called & result:
                result.add(key)
                changed = True
    return result


def _recursive(callees: dict[FuncKey, set[FuncKey]]) -> set[FuncKey]:
    """Functions on a cycle of the call graph: Tarjan's strongly connected
    components, iterative (a program may have thousands of functions)."""
    index: dict[FuncKey, int] = {}
    low: dict[FuncKey, int] = {}
    stack: list[FuncKey] = []
    on_stack: set[FuncKey] = set()
    result: set[FuncKey] = set()
    for root in callees:
        if root in index:
            continue
        work = [(root, iter(sorted(callees[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            child = next(it, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(callees.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in callees.get(node, ()):
                    result.update(component)
    return result


@dataclass(frozen=True)
class Effects:
    """Per function (module, name), what a call of it may do, through calls too."""

    panics: frozenset[FuncKey]  # a panic, or a host exception (poll, print)
    polls: frozenset[FuncKey]  # runs a loop or recursion: may be long
    recursive: frozenset[FuncKey]  # on a call-graph cycle: SPY_ENTER before real calls
    allocates: frozenset[FuncKey]  # makes temporaries in the arena
    str_globals: frozenset[FuncKey]  # reads or writes a `var` str global
    # reaches a safe point of the collector (SPY_GC_POLL): a loop that
    # allocates, or a real recursive call of a function that allocates
    collects: frozenset[FuncKey] = frozenset()


def analyze(modules: list[ir.ModuleIR], linked: frozenset[FuncKey] = frozenset()) -> Effects:
    """What each function of `modules` may do. A `linked` function runs in
    another package's binary, which may change between its releases without
    changing its signature: it is taken to do everything but recurse."""
    funcs = {_key(f): f for m in modules for f in m.funcs.values()}
    callees = {key: set() if key in linked else _callees(f) for key, f in funcs.items()}
    recursive = _recursive(callees)
    polls = _closure(
        {k for k, f in funcs.items() if has_loop(f.body)} | recursive | linked, callees
    )
    panics = (
        _closure({k for k, f in funcs.items() if _panics_directly(f.body)} | linked, callees)
        | polls
    )
    direct_allocators = {k for k, f in funcs.items() if _allocates(f)} | linked
    allocates = frozenset(_closure(direct_allocators, callees))
    str_globals = _closure({k for k, f in funcs.items() if _str_globals(f.body)} | linked, callees)
    # a loop needs a safe point when an iteration can make temporaries and
    # go on; a call that only raises (an index error's message) ends it
    raising = {k for k, f in funcs.items() if never_returns(f) and k not in linked}
    going_on = {k: called - raising for k, called in callees.items()}
    loop_allocates = frozenset(_closure(direct_allocators - raising, going_on))
    safe_points = set(linked) | {
        k
        for k, f in funcs.items()
        if (k in recursive and k in allocates)
        or any(allocates_in(loop.body, loop_allocates) for loop in _loops(f.body))
    }
    return Effects(
        frozenset(panics),
        frozenset(polls),
        frozenset(recursive),
        allocates,
        frozenset(str_globals),
        frozenset(_closure(safe_points, callees)),
    )
