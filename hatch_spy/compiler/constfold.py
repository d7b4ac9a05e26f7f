"""Folding of module-level initializers into constants, with SPy's semantics.

Globals are initialized before any code runs, so their values must be known
at compile time; the backend then emits plain C initializers.
"""

from __future__ import annotations

import math

from . import ir
from .types import BOOL, STR, SpyType


class NotConstant(Exception):
    """The expression needs run-time evaluation."""


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
        return binop(e.op, fold(e.left), fold(e.right), e.type)
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
    assert isinstance(a, (int, float)) and isinstance(b, (int, float))
    if op == "+":
        r: int | float = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        r = a / b
    elif op == "//":
        r = a // b
        if isinstance(r, float):
            r = float(math.floor(r)) if math.isfinite(r) else r
    elif op == "%":
        r = a % b
    elif op == "**":
        if isinstance(a, int) and isinstance(b, int) and b < 0:
            raise NotConstant("negative integer exponent")
        r = a**b
    elif op in ("<<", ">>", "&", "|", "^"):
        assert isinstance(a, int) and isinstance(b, int)
        if b < 0:
            raise NotConstant("negative shift count")
        r = {"<<": a << b, ">>": a >> b, "&": a & b, "|": a | b, "^": a ^ b}[op]
    else:
        raise NotConstant(f"operator {op}")
    if t == BOOL:
        return bool(r)
    return wrap(r, t)
