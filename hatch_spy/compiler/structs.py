"""`@struct` types: their fields and layout (in the type model), and their
methods, which are closures over the struct's blue values (`Self`, and a
generic's parameters) compiled when first called, as any closure is.

A struct made in blue code (`class Pair[T]`, a generic's body) is made once
per distinct set of blue values, as a closure is specialized once.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from . import ir
from .errors import Loc
from .types import TYPE, SpyType, StructField, complete_struct

#: how a method is called
METHOD, STATIC, PROPERTY, METAFUNC = "method", "static", "property", "metafunc"


@dataclass
class Method:
    closure: ir.Closure  # for a metafunction, unused: `blue` runs instead
    kind: str
    blue: ir.BlueFunc | None = None


@dataclass
class StructInfo:
    type: SpyType
    node: ast.ClassDef
    full_fqn: str  # SPy's `__full_fqn__`: a generic's body class is `...::Self`
    methods: dict[str, Method] = field(default_factory=dict)


FORCE_INLINE = "force_inline"  # a method every call inlines (`from __spy__ import force_inline`)


def is_force_inline(fn: ast.FunctionDef) -> bool:
    return [ast.unparse(d) for d in fn.decorator_list] == [FORCE_INLINE]


def method_kind(fn: ast.FunctionDef) -> str:
    decorators = [ast.unparse(d) for d in fn.decorator_list]
    if fn.name == "__new__" and not decorators:
        return STATIC  # as in Python, __new__ takes no self
    if decorators == ["staticmethod"]:
        return STATIC
    if decorators == ["property"]:
        return PROPERTY
    if decorators == ["blue.metafunc"]:
        return METAFUNC
    if not decorators or decorators == [FORCE_INLINE]:
        return METHOD
    raise ValueError(f"decorator '{decorators[0]}' is not supported on a method yet")


def is_extra_fields(s: ast.stmt) -> bool:
    """`__extra_fields__ = <blue dict of name: type>`: fields made by blue code."""
    return (
        isinstance(s, ast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], ast.Name)
        and s.targets[0].id == "__extra_fields__"
    )


def struct_fields(node: ast.ClassDef) -> list[ast.AnnAssign]:
    return [s for s in node.body if isinstance(s, ast.AnnAssign)]


def body_errors(node: ast.ClassDef) -> list[tuple[ast.AST, str]]:
    """What a struct's body may not hold (each with the node to point at)."""
    errors: list[tuple[ast.AST, str]] = []
    for s in node.body:
        if isinstance(s, ast.AnnAssign):
            if not isinstance(s.target, ast.Name):
                errors.append((s.target, "a struct field is a plain name"))
            elif s.value is not None:
                errors.append((s.value, "struct fields have no default values"))
        elif isinstance(s, ast.FunctionDef):
            try:
                method_kind(s)
            except ValueError as exc:
                errors.append((s.decorator_list[0], str(exc)))
            if is_force_inline(s):  # SPy's rule: the only `return` is the last statement
                last = s.body[-1] if s.body else None
                errors += [
                    (
                        r,
                        "@force_inline requires a single tail return: `return` must be the last "
                        "statement of the body",
                    )
                    for r in ast.walk(s)
                    if isinstance(r, ast.Return) and r is not last
                ]
        elif (
            isinstance(s, ast.Pass)
            or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            or is_extra_fields(s)
        ):
            continue
        else:
            errors.append((s, "a struct's body holds fields and methods only"))
    return errors


def make_struct(
    owner: object,
    module: str,
    node: ast.ClassDef,
    t: SpyType,
    fields: list[tuple[str, SpyType]],
    env: dict[str, ir.Const | ir.BlueRef],
    full_fqn: str,
    loc: Loc,
) -> StructInfo:
    """Complete the declared struct `t` with `fields` and make its methods;
    `env` is what its methods see."""
    label = t.name
    complete_struct(t, tuple(StructField(name, ft) for name, ft in fields))
    self_ref = ir.BlueRef(TYPE, loc, ir.TypeValue(t))
    # methods see the struct as `Self` and by its own name (bound where it is
    # defined only after the class is made)
    method_env = {**env, "Self": self_ref, node.name: self_ref}
    info = StructInfo(t, node, full_fqn)
    for fn in node.body:
        if isinstance(fn, ast.FunctionDef):
            kind = method_kind(fn)
            qualname = f"{label}.{fn.name}"
            closure = ir.Closure(
                fn,
                method_env,
                owner,
                qualname,
                None if kind == STATIC else t,
                force_inline=is_force_inline(fn),
            )
            blue = None
            if kind == METAFUNC:
                blue = ir.BlueFunc(module, qualname, fn, loc, owner, metafunc=True, env=method_env)
            info.methods[fn.name] = Method(closure, kind, blue)
    return info
