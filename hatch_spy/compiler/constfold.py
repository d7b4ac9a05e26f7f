"""Folding of module-level initializers into constants, with SPy's semantics.

Globals are initialized before any code runs, so their values must be known
at compile time; the backend then emits plain C initializers.
"""

from __future__ import annotations

import math

from . import ir
from .errors import Loc
from .exact_pow import pow_positive
from .types import BOOL, STR, SpyType


class NotConstant(Exception):
    """The expression needs run-time evaluation."""


class ConstantPanic(Exception):
    """The expression would panic at run time (as `kind`, with `message`)."""

    def __init__(self, kind: str, message: str, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.loc = loc


def fold(e: ir.Expr) -> ir.ConstValue:
    if isinstance(e, ir.Const):
        return e.value
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
        left, right = fold(e.left), fold(e.right)
        try:
            return binop(e.op, left, right, e.type)
        except ConstantPanic as exc:
            exc.loc = exc.loc or e.loc
            raise
    if isinstance(e, ir.StrConcat):
        left, right = fold(e.left), fold(e.right)
        assert isinstance(left, str) and isinstance(right, str)
        return left + right
    if isinstance(e, ir.Not):
        return not fold(e.operand)
    if isinstance(e, ir.Truth):
        return bool(fold(e.value))
    raise NotConstant(f"{type(e).__name__.lower()} is evaluated at run time")


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
