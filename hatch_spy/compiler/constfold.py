"""Folding of module-level initializers into constants, with SPy's semantics.

Globals are initialized before any code runs, so their values must be known
at compile time; the backend then emits plain C initializers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import ir
from .errors import Loc
from .exact_pow import pow_positive
from .types import BOOL, F64, STR, SpyType


class NotConstant(Exception):
    """The expression needs run-time evaluation."""


class ConstantPanic(Exception):
    """The expression would panic at run time (as `kind`, with `message`)."""

    def __init__(self, kind: str, message: str, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.loc = loc


# libspy functions whose results Python computes with the same bits
_EXACT_RUNTIME: dict[str, Callable[[float], float]] = {
    "spy_math_fabs": math.fabs,
    "spy_math_floor": lambda x: float(math.floor(x)) if math.isfinite(x) else x,
}


def fold(e: ir.Expr) -> ir.ConstValue:
    """The value of `e`, computed as the generated code would; NotConstant if
    it depends on run time."""
    return _Folder().fold(e)


class _Folder:
    def __init__(self) -> None:
        self.env: dict[str, ir.ConstValue] = {}  # the temporaries of the Lets met

    def fold(self, e: ir.Expr) -> ir.ConstValue:
        try:
            return _fold(e, self)
        except ConstantPanic as exc:
            exc.loc = exc.loc or e.loc
            raise


def _fold(e: ir.Expr, f: _Folder) -> ir.ConstValue:  # one case per node
    fold = f.fold
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.LocalRef):
        if e.name in f.env:
            return f.env[e.name]
        raise NotConstant(f"'{e.name}' is a local variable")
    if isinstance(e, ir.Let):
        f.env[e.name] = fold(e.value)
        return fold(e.body)
    if isinstance(e, ir.GlobalRef):
        if e.var.mutable:
            raise NotConstant(f"'{e.var.name}' is a var global")
        return e.var.value
    if isinstance(e, ir.Convert):
        return convert_value(fold(e.value), e.type)
    if isinstance(e, ir.UnaryOp):
        v = fold(e.operand)
        assert isinstance(v, (int, float))
        if e.op == "-":
            v = -v
        elif e.op == "~":
            assert isinstance(v, int)
            v = ~v
        return wrap(v, e.type)
    if isinstance(e, ir.BinOp):
        return binop(e.op, fold(e.left), fold(e.right), e.type)
    if isinstance(e, ir.StrConcat):
        left, right = fold(e.left), fold(e.right)
        assert isinstance(left, str) and isinstance(right, str)
        return left + right
    if isinstance(e, ir.Not):
        return not fold(e.operand)
    if isinstance(e, ir.Truth):
        return bool(fold(e.value))
    if isinstance(e, ir.Compare):
        return compare(e.op, fold(e.left), fold(e.right))
    if isinstance(e, ir.BoolOp):  # short-circuit, as at run time
        for operand in e.values:
            if bool(fold(operand)) != (e.op == "and"):
                return e.op == "or"
        return e.op == "and"
    if isinstance(e, ir.CondExpr):
        return fold(e.body) if fold(e.test) else fold(e.orelse)
    if isinstance(e, ir.StrLen):
        text = fold(e.value)
        assert isinstance(text, str)
        return len(text)
    if isinstance(e, ir.StrOf):
        return str_of(fold(e.value), e.value.type)
    if isinstance(e, ir.RuntimeCall) and e.func.c_name in _EXACT_RUNTIME:
        (arg,) = (fold(a) for a in e.args)
        assert isinstance(arg, float)
        return _EXACT_RUNTIME[e.func.c_name](arg)
    raise NotConstant(f"{type(e).__name__.lower()} is evaluated at run time")


def compare(op: str, a: ir.ConstValue, b: ir.ConstValue) -> bool:
    """Operands already have one type (the checker converted them)."""
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    assert isinstance(a, (int, float)) and isinstance(b, (int, float))
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def str_of(v: ir.ConstValue, t: SpyType) -> str:
    """str() of a value as libspy formats it; f32 has a formatter of its own."""
    if t == BOOL or t.is_int:
        return str(v)
    if t == F64:
        assert isinstance(v, float)
        return repr(v)
    raise NotConstant(f"str() of {t} is formatted at run time")


def wrap(v: int | float, t: SpyType) -> int | float:
    if t.is_int and isinstance(v, int):
        return t.wrap(v)
    if t.is_float:
        return t.round_float(v)
    return v


def convert_value(v: ir.ConstValue, t: SpyType) -> ir.ConstValue:
    if t.is_float:
        assert isinstance(v, (int, float))
        return t.round_float(v)
    if t.is_int:
        if isinstance(v, float):
            raise NotConstant("float-to-int conversion")
        assert isinstance(v, int)
        return t.wrap(int(v))
    if t == BOOL:
        return bool(v)
    if t == STR:
        return v
    return v


def binop(op: str, a: ir.ConstValue, b: ir.ConstValue, t: SpyType) -> ir.ConstValue:
    """`a op b` as the generated C computes it (libspy's helpers, spy.h)."""
    assert isinstance(a, (int, float)) and isinstance(b, (int, float))
    if t == BOOL:
        assert isinstance(a, int) and isinstance(b, int)
        return bool(int_binop(op, int(a), int(b), 1))
    if op == "/":
        # SPy's `/` converts both operands to f64, then divides
        if b == 0:
            kind = "float division" if isinstance(a, float) else "division"
            raise ConstantPanic("ZeroDivisionError", f"{kind} by zero")
        return t.round_float(float(a) / float(b))
    if t.is_int:
        assert isinstance(a, int) and isinstance(b, int)
        return t.wrap(int_binop(op, a, b, t.bits))
    return t.round_float(float_binop(op, float(a), float(b)))


def int_binop(op: str, a: int, b: int, bits: int) -> int:
    """Integer `a op b` before wrapping; never builds an integer much wider
    than `bits`, whatever the operands (`2 ** 10**10` folds at once)."""
    if op in ("+", "-", "*", "&", "|", "^"):
        return {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]
    if op in ("//", "%"):
        if b == 0:
            raise ConstantPanic("ZeroDivisionError", "integer division or modulo by zero")
        return a // b if op == "//" else a % b
    if op == "**":
        if b < 0:
            raise ConstantPanic("ValueError", "negative exponent in integer power")
        return pow(a, b, 1 << bits)  # the wrapped result, by modular exponentiation
    if op in ("<<", ">>"):
        if b < 0:
            raise ConstantPanic("ValueError", "negative shift count")
        if op == "<<":
            return 0 if b >= bits else a << b
        return (-1 if a < 0 else 0) if b >= bits else a >> b
    raise NotConstant(f"operator {op}")


def float_binop(op: str, a: float, b: float) -> float:
    if op in ("+", "-", "*"):
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    if op in ("//", "%"):
        if b == 0:
            what = "floor division" if op == "//" else "modulo"
            raise ConstantPanic("ZeroDivisionError", f"float {what} by zero")
        return a // b if op == "//" else a % b  # Python's rules, as libspy's math.c
    if op == "**":
        return float_pow(a, b)
    raise NotConstant(f"operator {op}")


def float_pow(x: float, y: float) -> float:
    """spy_f64_pow (math.c), case by case: C99's special values, Python's
    errors, and otherwise the correctly rounded power, as libspy computes it."""
    if y == 0:
        return 1.0  # even nan**0
    if math.isnan(x):
        return x
    if math.isnan(y):
        return 1.0 if x == 1.0 else y
    if math.isinf(y):
        return math.pow(x, y)  # exact special values (0.0 ** -inf is inf)
    if math.isinf(x) or x == 0:
        if x == 0 and y < 0:
            raise ConstantPanic("ZeroDivisionError", "0.0 cannot be raised to a negative power")
        return math.pow(x, y)  # exact special values, the same everywhere
    negate = False
    if x < 0:
        if y != math.floor(y):
            raise ConstantPanic(
                "ValueError", "negative number cannot be raised to a fractional power"
            )
        x, negate = -x, math.fmod(y, 2.0) != 0
    r = 1.0 if x == 1.0 else pow_positive(x, y)
    if math.isinf(r):
        raise ConstantPanic("OverflowError", "(34, 'Numerical result out of range')")
    return -r if negate else r
