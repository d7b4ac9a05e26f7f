"""Which functions can panic. The Python-facing native wrapper guards a call
with setjmp only when the callee can panic, so pure functions pay nothing."""

from __future__ import annotations

from collections.abc import Iterator

from . import ir

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
    if isinstance(e, (ir.Call, ir.RuntimeCall)):
        return list(e.args)
    if isinstance(e, ir.Let):
        return [e.value, e.body]
    return []


def stmt_exprs(stmts: list[ir.Stmt]) -> Iterator[ir.Expr]:
    for s in stmts:
        if isinstance(s, (ir.Assign, ir.ExprStmt)):
            yield from sub_exprs(s.value)
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
        if isinstance(s, (ir.Raise, ir.Assert)):
            return True
        if isinstance(s, ir.ForRange) and s.step is not None:
            return True
        if isinstance(s, ir.If) and (_panics_directly(s.body) or _panics_directly(s.orelse)):
            return True
        if isinstance(s, (ir.While, ir.ForRange)) and _panics_directly(s.body):
            return True
    for e in stmt_exprs(stmts):
        if isinstance(e, ir.BinOp) and e.op in _PANICKING_OPS:
            return True
        if isinstance(e, (ir.ParseStr, ir.StrOf, ir.StrConcat)):
            return True
        if isinstance(e, ir.RuntimeCall) and e.func.takes_loc:
            return True
    return False


def panicking_functions(modules: list[ir.ModuleIR]) -> set[tuple[str, str]]:
    """(module, name) of every function that can panic, directly or through calls."""
    funcs = {(f.module, f.name): f for m in modules for f in m.funcs.values()}
    result = {key for key, f in funcs.items() if _panics_directly(f.body)}
    callees = {
        key: {(e.func.module, e.func.name) for e in stmt_exprs(f.body) if isinstance(e, ir.Call)}
        for key, f in funcs.items()
    }
    changed = True
    while changed:  # propagate to callers until nothing changes
        changed = False
        for key, called in callees.items():
            if key not in result and called & result:
                result.add(key)
                changed = True
    return result
