"""Blue evaluation: the compiler runs `@blue` functions, as SPy's interpreter
does before it redshifts the red code, and a call of one becomes its result.

A blue function is interpreted statement by statement. Its locals are
dynamic (each holds whatever typed value was last assigned, as SPy's
`dynamic`); each expression is typed by the checker's own rules and computed
by constfold with the generated code's arithmetic, so `1.0 / 3` in blue code
has exactly the bits it has at run time. Its arguments must be blue: literals,
module constants, const locals, other blue calls.

An error in blue code is a compile error at the blue line, followed by the
chain of blue calls that led there. Blue code that runs too long stops at
BLUE_STEP_LIMIT statements with that error, never a hang.
"""

from __future__ import annotations

import ast
import sys
from collections import ChainMap
from dataclasses import dataclass, field

from . import ir
from .checker import (
    ARITH_OPS,
    BlueEnv,
    FunctionChecker,
    ModuleChecker,
    blue_identity,
    blue_key,
    describe,
    is_simple,
    relocated,
    specialized,
)
from .constfold import ConstantPanic, NotConstant, fold, str_of
from .errors import Loc, SpyCompileError
from .types import BLUE_OBJECT, BOOL, FUNCTION, NONE, STR, TYPE, Kind

#: statements (loop iterations included) one evaluation may run, counted from
#: the red code or global that started it: about ten seconds of compile time
BLUE_STEP_LIMIT = 1_000_000
#: nested blue calls
BLUE_DEPTH_LIMIT = 100


@dataclass
class _Budget:
    steps_left: int = field(default_factory=lambda: BLUE_STEP_LIMIT)


class _Return(Exception):
    def __init__(self, value: ir.Const | ir.BlueRef) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def call_blue(caller: FunctionChecker, func: ir.BlueFunc, node: ast.Call) -> ir.Expr:
    """The result of the call `node` of `func`, written in `caller`'s code."""
    params = [a.arg for a in func.node.args.args]
    bound: dict[str, ast.expr] = dict(zip(params, node.args, strict=False))
    if len(node.args) > len(params):
        raise caller.error(
            f"{func.name}() takes {len(params)} positional arguments but {len(node.args)} were given",
            node,
        )
    for kw in node.keywords:
        if kw.arg is None or kw.arg not in params or kw.arg in bound:
            raise caller.error(f"{func.name}() got an unexpected keyword argument '{kw.arg}'", kw)
        bound[kw.arg] = kw.value
    missing = [p for p in params if p not in bound]
    if missing:
        raise caller.error(f"{func.name}() missing required argument '{missing[0]}'", node)
    values = blue_args(caller, func, [bound[p] for p in params])
    return run_blue(caller, func, values, caller.loc(node))


def blue_args(
    caller: FunctionChecker, func: ir.BlueFunc, nodes: list[ast.expr]
) -> list[ir.Const | ir.BlueRef]:
    """The blue values of the argument expressions `nodes`."""
    params = [a.arg for a in func.node.args.args]
    rest = func.node.args.vararg
    if len(nodes) < len(params) or (len(nodes) > len(params) and rest is None):
        raise caller.error(
            f"{func.name} takes {len(params)} arguments, {len(nodes)} given",
            nodes[0] if nodes else func.node,
        )
    if rest is not None:
        params += [f"*{rest.arg}"] * (len(nodes) - len(params))
    values: list[ir.Const | ir.BlueRef] = []
    for p, arg in zip(params, nodes, strict=True):
        value = caller.expr(arg, allow_object=True)
        if isinstance(value, ir.BlueRef):
            values.append(value)
            continue
        try:
            values.append(blue_value(value, fold(value)))
        except NotConstant:
            raise caller.error(
                f"argument '{p}' of blue function '{func.name}' must be known at compile time",
                arg,
            ) from None
        except ConstantPanic as exc:
            raise SpyCompileError(f"{exc.kind}: {exc.message}", exc.loc or value.loc) from None
    return values


def run_blue(
    caller: FunctionChecker, func: ir.BlueFunc, args: list[ir.Const | ir.BlueRef], loc: Loc
) -> ir.Const | ir.BlueRef:
    """Run `func` on blue values: its result, seen at `loc`."""
    parent = caller if isinstance(caller, BlueFrame) else None
    if parent is not None and parent.depth >= BLUE_DEPTH_LIMIT:
        raise SpyCompileError(f"blue calls nested deeper than {BLUE_DEPTH_LIMIT}", loc)
    owner = func.owner
    assert isinstance(owner, ModuleChecker)
    label = func.name
    memo: tuple[object, ...] | None = None
    if func.generic:
        label = f"{func.name}[{', '.join(show(a) for a in args)}]"
        # as in SPy, a generic gives one result per distinct arguments:
        # `tuple[i32, str]` is one type wherever it is written
        memo = (id(func.node), id(func.env), *(blue_key(a) for a in args))
        found = owner.generic_results.get(memo)
        if found is not None:
            return relocated(found, loc)
    frame = BlueFrame(
        owner,
        func,
        parent.budget if parent else _Budget(),
        parent.depth + 1 if parent else 1,
        label,
    )
    try:
        result = frame.run(bind_params(func, args, loc))
    except SpyCompileError as exc:
        exc.notes.append(f"  in blue function '{label}', called at {loc}")
        raise
    if memo is not None:
        owner.generic_results[memo] = result
    return relocated(result, loc)


def bind_params(func: ir.BlueFunc, args: list[ir.Const | ir.BlueRef], loc: Loc) -> BlueEnv:
    """Parameter names to values; a `*rest` parameter gets the rest as a tuple."""
    spec = func.node.args
    names = [a.arg for a in spec.args]
    if len(args) < len(names) or (len(args) > len(names) and spec.vararg is None):
        raise SpyCompileError(
            f"{func.name}() takes {len(names)} arguments but {len(args)} were given", loc
        )
    bound: BlueEnv = dict(zip(names, args, strict=False))
    if spec.vararg is not None:
        rest = ir.BlueTuple(tuple(args[len(names) :]))
        bound[spec.vararg.arg] = ir.BlueRef(BLUE_OBJECT, loc, rest)
    return bound


def call_metafunc(caller: FunctionChecker, func: ir.BlueFunc, node: ast.Call) -> ir.Expr:
    """A call of a `@blue.metafunc`: it runs on what is known of the arguments
    (MetaArg: static type, and value if blue) and answers with an OpSpec; the
    call becomes a call of the function it names, or its constant."""
    if node.keywords:
        raise caller.error(f"{func.name}() takes no keyword arguments", node.keywords[0])
    args = [caller.expr(a) for a in node.args]
    result = dispatch_metafunc(caller, func, args, caller.loc(node))
    if result is None:
        types = ", ".join(str(a.type) for a in args)
        raise caller.error(f"TypeError: {func.name}() has no implementation for ({types})", node)
    return result


def dispatch_metafunc(
    caller: FunctionChecker, func: ir.BlueFunc, args: list[ir.Expr], loc: Loc
) -> ir.Expr | None:
    """Run a metafunction on what is known of `args` and make the call (or
    constant) its OpSpec names; None when it answers OpSpec.NULL."""
    metas: list[ir.Const | ir.BlueRef] = [meta_arg(a, i) for i, a in enumerate(args)]
    spec = run_metafunc(caller, func, metas, loc)
    return None if spec is None else apply_opspec(caller, spec, args, loc)


def meta_arg(e: ir.Expr, index: int) -> ir.BlueRef:
    """What a metafunction sees of the argument `e`."""
    if isinstance(e, ir.BlueRef):
        return ir.BlueRef(BLUE_OBJECT, e.loc, ir.MetaArg(e.type, e, index))
    try:
        blueval: ir.Const | None = blue_value(e, fold(e))
    except (NotConstant, ConstantPanic):
        blueval = None
    return ir.BlueRef(BLUE_OBJECT, e.loc, ir.MetaArg(e.type, blueval, index))


def run_metafunc(
    caller: FunctionChecker, func: ir.BlueFunc, metas: list[ir.Const | ir.BlueRef], loc: Loc
) -> ir.OpSpec | None:
    """The OpSpec a metafunction answers, None for OpSpec.NULL."""
    result = run_blue(caller, func, metas, loc)
    spec = result.obj if isinstance(result, ir.BlueRef) else None
    if not isinstance(spec, ir.OpSpec):
        raise SpyCompileError(f"metafunction '{func.name}' must return an OpSpec", loc)
    return None if spec.null else spec


def apply_opspec(
    caller: FunctionChecker, spec: ir.OpSpec, args: list[ir.Expr], loc: Loc
) -> ir.Expr:
    """The call (or constant) an OpSpec names, on the call's arguments `args`."""
    if spec.const is not None:
        return relocated(spec.const, loc)
    assert spec.func is not None
    target = spec.func.obj
    if isinstance(target, ir.Closure) and returns_blue_only(target.node):
        # a function returning a type (`def get_T() -> type`) runs at compile time
        blue_args = [a for a in (spec.args or []) if isinstance(a, (ir.Const, ir.BlueRef))]
        if len(blue_args) != len(spec.args or []):
            raise SpyCompileError("a function returning a type takes blue arguments only", loc)
        return caller.run_closure_blue(target, blue_args, loc)
    if isinstance(target, ir.Closure):
        target = specialized(target)
    assert isinstance(target, ir.FuncDecl)
    call_args: list[ir.Expr] = args
    if spec.args is not None:
        call_args = []
        for item in spec.args:
            if isinstance(item, ir.BlueRef) and isinstance(item.obj, ir.MetaArg):
                call_args.append(args[item.obj.index])
            elif isinstance(item, ir.Const):
                call_args.append(item)
            else:
                raise SpyCompileError("OpSpec() arguments must be arguments or blue values", loc)
        if len({id(a) for a in call_args}) < len(call_args) and not all(
            is_simple(a) for a in call_args
        ):
            raise SpyCompileError("OpSpec() passes an argument twice: it would run twice", loc)
    if len(call_args) != len(target.params):
        raise SpyCompileError(
            f"{target.name}() takes {len(target.params)} arguments but {len(call_args)} were given",
            loc,
        )
    coerced = [caller.coerce(a, p.type) for a, p in zip(call_args, target.params, strict=True)]
    return ir.Call(target.ret, loc, target, coerced)


BLUE_ONLY_RETURNS = frozenset({"type", "interp_tuple"})


def returns_blue_only(node: ast.FunctionDef) -> bool:
    """Does the function return what only blue code has (a type, a blue tuple)?"""
    return isinstance(node.returns, ast.Name) and node.returns.id in BLUE_ONLY_RETURNS


def show(value: ir.Const | ir.BlueRef) -> str:
    """A blue value as it appears in the name of what it specializes."""
    if isinstance(value, ir.Const):
        return repr(value.value) if value.type.kind is Kind.STR else str(value.value)
    obj = value.obj
    if isinstance(obj, ir.TypeValue):
        return obj.type.name
    if isinstance(obj, ir.Closure):
        return obj.qualname
    if isinstance(obj, (ir.FuncDecl, ir.BlueFunc)):
        return obj.name
    if isinstance(obj, ir.BlueTuple):
        inner = ", ".join(show(v) for v in obj.items)
        return f"({inner},)" if len(obj.items) == 1 else f"({inner})"
    return type(obj).__name__


def blue_value(e: ir.Expr, value: ir.ConstValue) -> ir.Const:
    return ir.Const(e.type, e.loc, value, literal=False)


class BlueFrame(FunctionChecker):
    """One running call of a blue function: the checker's typing, with
    locals that hold values instead of types."""

    def __init__(
        self, module: ModuleChecker, func: ir.BlueFunc, budget: _Budget, depth: int, label: str
    ):
        super().__init__(module, None, func.env)
        self.blue = func
        self.env: BlueEnv = {}
        self.budget = budget
        self.depth = depth
        self.label = label  # how closures made here are named: `generic[i32]`

    # ---- names: locals are values ---------------------------------------------

    def blue_value_of(self, name: str) -> ir.Const | ir.BlueRef | None:
        found = self.env.get(name)
        return found if found is not None else self.outer.get(name)

    def blue_names(self) -> dict[str, ir.Const | ir.BlueRef]:
        return self.env

    def expr(self, node: ast.expr, allow_none: bool = False, allow_object: bool = True) -> ir.Expr:
        return super().expr(node, allow_none, allow_object=True)  # all values are blue here

    def _expr(self, node: ast.expr) -> ir.Expr:
        if isinstance(node, (ast.Tuple, ast.List)):
            items = tuple(self.evaluate(self.expr(e), e) for e in node.elts)
            return ir.BlueRef(BLUE_OBJECT, self.loc(node), ir.BlueTuple(items))
        if isinstance(node, ast.Dict):
            made = ir.BlueDict()
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:
                    raise self.error("'**' in a dict is not supported", v)
                key = self.evaluate(self.expr(k), k)
                made.items[blue_identity(key)] = (key, self.evaluate(self.expr(v), v))
            return ir.BlueRef(BLUE_OBJECT, self.loc(node), made)
        if isinstance(node, ast.Subscript) and self.special_named(node.value) is None:
            base = self.expr(node.value)
            if isinstance(base, ir.BlueRef) and isinstance(base.obj, (ir.BlueTuple, ir.BlueDict)):
                return relocated(self.blue_item(base.obj, node.slice), self.loc(node))
        return super()._expr(node)

    def blue_item(
        self, container: ir.BlueTuple | ir.BlueDict, key_node: ast.expr
    ) -> ir.Const | ir.BlueRef:
        key = self.evaluate(self.expr(key_node), key_node)
        if isinstance(container, ir.BlueDict):
            found = container.items.get(blue_identity(key))
            if found is None:
                raise self.error(f"KeyError: {show(key)}", key_node)
            return found[1]
        if not (isinstance(key, ir.Const) and key.type.is_int):
            raise self.error("a tuple index must be an integer", key_node)
        i = int(key.value)  # type: ignore[arg-type]
        if not -len(container.items) <= i < len(container.items):
            raise self.error("IndexError: tuple index out of range", key_node)
        return container.items[i]

    # ---- running ------------------------------------------------------------------

    def run(self, args: BlueEnv) -> ir.Const | ir.BlueRef:
        annotations = {a.arg: a for a in self.blue.node.args.args if a.annotation is not None}
        for name, value in args.items():
            arg = annotations.get(name)
            if arg is not None:
                t = self.resolve_type(arg.annotation, f"parameter '{name}'")
                value = self.evaluate(self.coerce(value, t), arg)
            self.env[name] = value
        try:
            self.block_run(self.blue.node.body)
        except _Return as ret:
            result = ret.value
        else:
            result = ir.Const(NONE, self.blue.loc, None, literal=False)
        returns = self.blue.node.returns
        if returns is not None:
            t = self.resolve_type(returns, "return")
            if t != NONE or result.type != NONE:
                result = self.evaluate(self.coerce(result, t), returns)
        return result

    def block_run(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.run_stmt(s)

    def step(self, node: ast.AST) -> None:
        self.budget.steps_left -= 1
        if self.budget.steps_left < 0:
            raise self.error(
                f"blue code did not finish within {BLUE_STEP_LIMIT:,} steps (an endless loop?)",
                node,
            )

    def run_stmt(self, node: ast.stmt) -> None:  # one case per statement kind
        self.step(node)
        if isinstance(node, ast.Expr):
            v = node.value
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                return  # docstring
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "print":
                self.blue_print(v)
                return
            self.evaluate(self.expr(v, allow_none=True, allow_object=True), v)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            self.run_assign(node)
        elif isinstance(node, ast.AugAssign):
            target = node.target
            if not isinstance(target, ast.Name) or target.id not in self.env:
                raise self.error(
                    f"assignment to {ast.unparse(target)} is not supported here", target
                )
            op = ARITH_OPS[type(node.op)]
            value = self.binop(op, self.name(target), self.expr(node.value), node)
            self.env[target.id] = self.evaluate(value, node)
        elif isinstance(node, ast.If):
            self.block_run(node.body if self.truth_value(node.test) else node.orelse)
        elif isinstance(node, ast.While):
            if node.orelse:
                raise self.error("'else' on a while loop is not supported", node.orelse[0])
            while self.truth_value(node.test):
                if self.loop_body_run(node.body):
                    break
                self.step(node)
        elif isinstance(node, ast.For):
            self.run_for(node)
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise _Return(ir.Const(NONE, self.loc(node), None, literal=False))
            result = self.expr(node.value, allow_none=True, allow_object=True)
            raise _Return(self.evaluate(result, node.value))
        elif isinstance(node, ast.Pass):
            return
        elif isinstance(node, ast.Break):
            raise _Break
        elif isinstance(node, ast.Continue):
            raise _Continue
        elif isinstance(node, ast.Raise):
            checked = self.raise_(node)
            message = "" if checked.message is None else self.scalar(checked.message, node).value
            raise self.error(f"{checked.kind}: {message!s}", node)
        elif isinstance(node, ast.Assert):
            if not self.truth_value(node.test):
                message = "" if node.msg is None else self.scalar(self.expr(node.msg), node).value
                raise self.error(f"AssertionError: {message!s}", node)
        elif isinstance(node, ast.ClassDef):
            own = node.name in ("Self", self.blue.name)  # a generic's own struct
            label = self.label if own else f"{self.label}.{node.name}"
            info = self.m.make_struct(self, node, dict(self.env), label)
            self.env[node.name] = ir.BlueRef(TYPE, self.loc(node), ir.TypeValue(info.type))
        elif isinstance(node, ast.FunctionDef) and any(
            self.m.is_force_inline(d) for d in node.decorator_list
        ):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            self.m.check_force_inline(node, decorators)
            qualname = f"{self.label}.{node.name}"
            closure = ir.Closure(
                node, {**self.outer, **self.env}, self.m, qualname, force_inline=True
            )
            self.env[node.name] = ir.BlueRef(FUNCTION, self.loc(node), closure)
        elif isinstance(node, ast.FunctionDef) and node.decorator_list:
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if decorators not in (["blue"], ["blue.generic"], ["blue.metafunc"]):
                raise self.error("decorators inside blue code are not supported yet", node)
            inner = ir.BlueFunc(
                self.m.ir.name,
                node.name,
                node,
                self.loc(node),
                self.m,
                generic=decorators == ["blue.generic"],
                metafunc=decorators == ["blue.metafunc"],
                # live, as a Python closure (it may call itself), over the
                # blue code's around this frame
                env=ChainMap(self.env, dict(self.outer)),
            )
            self.env[node.name] = ir.BlueRef(FUNCTION, self.loc(node), inner)
        elif isinstance(node, ast.FunctionDef):
            # the body of a generic made with the `def f[T]` sugar carries its name
            qualname = self.label if node.name == self.blue.name else f"{self.label}.{node.name}"
            # what it sees: this frame's values over the blue code's around it
            closure = ir.Closure(node, {**self.outer, **self.env}, self.m, qualname)
            self.env[node.name] = ir.BlueRef(FUNCTION, self.loc(node), closure)
        else:
            raise self.error(f"{describe(node)} are not supported in blue code", node)

    def blue_print(self, call: ast.Call) -> None:
        """print() in blue code prints while compiling, as SPy's redshift does,
        with the formatting the program's own print has."""
        if call.keywords:
            raise self.error("print() keyword arguments are not supported", call.keywords[0])
        parts = []
        for a in call.args:
            value = self.evaluate(self.expr(a, allow_none=True), a)
            if isinstance(value, ir.BlueRef):
                text = self.blue_text(value, a)
                assert isinstance(text, ir.Const)
                parts.append(str(text.value))
            elif value.type.kind is Kind.NONE:
                parts.append("None")
            else:
                try:
                    parts.append(
                        str_of(value.value, value.type) if value.type != STR else str(value.value)
                    )
                except NotConstant:
                    raise self.error(
                        f"print() of a {value.type} in blue code is not supported", a
                    ) from None
        sys.stdout.write(" ".join(parts) + "\n")

    def run_assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        value_node: ast.expr | None
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                raise self.error("chained assignment is not supported", node)
            target, value_node, ann = node.targets[0], node.value, None
        else:
            target, value_node, ann = node.target, node.value, node.annotation
        if isinstance(target, ast.Tuple) and value_node is not None and ann is None:
            self.unpack(target, self.evaluate(self.expr(value_node), value_node))
            return
        if isinstance(target, ast.Subscript) and value_node is not None:
            value = self.evaluate(self.expr(value_node), value_node)
            container = self.expr(target.value)
            if not (isinstance(container, ir.BlueRef) and isinstance(container.obj, ir.BlueDict)):
                raise self.error("blue code assigns items of dicts only", target)
            key = self.evaluate(self.expr(target.slice), target.slice)
            container.obj.items[blue_identity(key)] = (key, value)
            return
        if not isinstance(target, ast.Name):
            raise self.error(f"assignment to {describe(target)} is not supported", target)
        if value_node is None:
            raise self.error(f"variable '{target.id}' needs a value in blue code", node)
        computed = self.expr(value_node)
        if ann is not None and not isinstance(computed, ir.BlueRef):
            # an object's annotation (`dict[str, type]`) is not checked: blue
            # code is dynamic, and SPy treats such annotations as documentation
            computed = self.coerce(computed, self.resolve_type(ann, f"variable '{target.id}'"))
        self.env[target.id] = self.evaluate(computed, value_node)

    def unpack(self, target: ast.Tuple, value: ir.Const | ir.BlueRef) -> None:
        """`a, b = t` for a blue tuple."""
        if not (isinstance(value, ir.BlueRef) and isinstance(value.obj, ir.BlueTuple)):
            raise self.error("only a tuple can be unpacked", target)
        items = value.obj.items
        if len(items) != len(target.elts):
            raise self.error(
                f"ValueError: cannot unpack {len(items)} values into {len(target.elts)}", target
            )
        for name, item in zip(target.elts, items, strict=True):
            if not isinstance(name, ast.Name):
                raise self.error("unpack into plain names only", name)
            self.env[name.id] = item

    def run_for(self, node: ast.For) -> None:
        if node.orelse:
            raise self.error("'else' on a for loop is not supported", node.orelse[0])
        it = node.iter
        if not (
            isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
        ) or not isinstance(node.target, ast.Name):
            raise self.error("for loops support only 'for NAME in range(...)'", it)
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.error("range expected 1 to 3 positional arguments", it)
        values = [self.scalar(self.expr(a), a) for a in it.args]
        t = values[0].type
        for v, a in zip(values, it.args, strict=True):
            if not v.type.is_int:
                raise self.error(f"range() arguments must be integers, not {v.type}", a)
            t = self.common_int_type(t, v, node)
        bounds = [int(v.value) for v in values]  # type: ignore[arg-type]
        if len(bounds) == 3 and bounds[2] == 0:
            raise self.error("ValueError: range() arg 3 must not be zero", it)
        for i in range(*bounds):
            self.step(node)
            self.env[node.target.id] = ir.Const(t, self.loc(node.target), i, literal=False)
            if self.loop_body_run(node.body):
                break

    def loop_body_run(self, body: list[ast.stmt]) -> bool:
        """Run one iteration; True when it ended with `break`."""
        try:
            self.block_run(body)
        except _Break:
            return True
        except _Continue:
            pass
        return False

    # ---- values ----------------------------------------------------------------------

    def evaluate(self, e: ir.Expr, node: ast.AST) -> ir.Const | ir.BlueRef:
        if isinstance(e, ir.BlueRef):
            return e
        if isinstance(e, ir.StructNew):  # an instance made at compile time
            fields = tuple(self.evaluate(a, node) for a in e.args)
            return ir.BlueRef(e.type, e.loc, ir.StructValue(e.type, fields))
        return self.scalar(e, node)

    def scalar(self, e: ir.Expr, node: ast.AST) -> ir.Const:
        try:
            return blue_value(e, fold(e))
        except NotConstant as exc:
            raise self.error(
                f"blue code cannot compute this at compile time ({exc})", node
            ) from None
        except ConstantPanic as exc:
            raise SpyCompileError(f"{exc.kind}: {exc.message}", exc.loc or self.loc(node)) from None

    def truth_value(self, node: ast.expr) -> bool:
        value = self.scalar(self.condition(node), node)
        assert value.type == BOOL
        return bool(value.value)
