"""Type checker: Python `ast` of .spy modules -> typed IR.

Two passes per program: `declare` reads every module's imports, globals and
function signatures (so calls may appear in any order); `check_bodies`
then types each function body against them.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from . import ir
from .cgen import c_func_name, mangle
from .constfold import ConstantPanic, NotConstant, fold
from .errors import Loc, SpyCompileError
from .loader import LoadedModule
from .source import SourceFile
from .stdlib import (
    BUILTIN_EXCEPTIONS,
    BUILTIN_MODULES,
    EMPTY_DICT,
    EMPTY_LIST,
    STD_CONSTS,
    STD_FUNCS,
    STD_MODULES,
    STD_SPECIAL,
    STD_TYPES,
)
from .structs import (
    METAFUNC,
    PROPERTY,
    STATIC,
    StructInfo,
    body_errors,
    is_extra_fields,
    make_struct,
    struct_fields,
)
from .types import (
    BLUE_OBJECT,
    BOOL,
    F32,
    F64,
    FUNCTION,
    I32,
    I64,
    NONE,
    STR,
    TYPE,
    TYPES_BY_NAME,
    U64,
    Kind,
    SpyType,
    declare_struct,
    holds_references,
    implicitly_converts,
    ptr_type,
    widens,
)


@dataclass(frozen=True)
class ModuleAlias:
    """A name bound by `import mod`: user module or standard module."""

    target: str


@dataclass(frozen=True)
class StdConst:
    type: SpyType
    value: ir.ConstValue


@dataclass(frozen=True)
class SpecialForm:
    """A name the compiler answers itself (`__spy__.COLOR`)."""

    name: str


Symbol = (
    ir.FuncDecl
    | ir.GlobalVar
    | ModuleAlias
    | ir.RuntimeFunc
    | StdConst
    | ir.BlueFunc
    | SpecialForm
    | ir.Closure
    | ir.TypeValue
    | ir.MetaArg
    | ir.OpSpec
    | ir.BlueTuple
    | ir.BlueDict
    | ir.StructValue
    | ir.EmptyCollection
)

ARITH_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
COMPARE_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
CAST_NAMES = {**TYPES_BY_NAME, "bool": BOOL}
# what an operator calls on a struct
OPERATOR_METHODS = {
    "+": "__add__",
    "-": "__sub__",
    "*": "__mul__",
    "/": "__truediv__",
    "//": "__floordiv__",
    "%": "__mod__",
    "**": "__pow__",
    "<<": "__lshift__",
    ">>": "__rshift__",
    "&": "__and__",
    "|": "__or__",
    "^": "__xor__",
    "==": "__eq__",
    "!=": "__ne__",
    "<": "__lt__",
    "<=": "__le__",
    ">": "__gt__",
    ">=": "__ge__",
}


# the kinds of values memory holds: a struct's fields, a gc_ptr's items
STORABLE_KINDS = (Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.STR, Kind.STRUCT, Kind.PTR)

# the blue values a scope sees by name (a blue frame's locals, a closure's)
BlueEnv = dict[str, ir.Const | ir.BlueRef]
# what a scope sees from the blue code around it (a chain, for nested blue functions)
OuterEnv = Mapping[str, ir.Const | ir.BlueRef]


def blue_key(value: ir.Const | ir.BlueRef) -> tuple[object, ...]:
    """What identifies a blue value for specialization: equal keys, equal code."""
    if isinstance(value, ir.Const):
        return ("const", value.type.name, repr(value.value))
    obj = value.obj
    if isinstance(obj, ir.Closure):
        return ("closure", *closure_key(obj))
    if isinstance(obj, ir.TypeValue):
        return ("type", obj.type.name)
    if isinstance(obj, ir.BlueTuple):
        return ("tuple", *(blue_key(v) for v in obj.items))
    return ("object", id(obj))  # a declared function: one object per declaration


def blue_identity(e: ir.Expr) -> object:
    """What `==` compares of blue values: types by name, scalars by value,
    other objects by identity."""
    if isinstance(e, ir.BlueRef):
        obj = e.obj
        return ("type", obj.type.name) if isinstance(obj, ir.TypeValue) else ("obj", id(obj))
    if isinstance(e, ir.Const):
        return ("const", e.type.name, e.value)
    return ("red", id(e))


def definition_key(node: ast.AST, env: OuterEnv) -> tuple[object, ...]:
    """A definition made for some blue values: equal keys, one compiled thing."""
    return (id(node), *sorted((k, blue_key(v)) for k, v in env.items()))


def closure_key(closure: ir.Closure) -> tuple[object, ...]:
    return definition_key(closure.node, closure.env)


def describe(node: ast.AST) -> str:
    """How an unsupported construct is named in an error message."""
    names = {
        ast.ClassDef: "class definitions",
        ast.Try: "try statements",
        ast.With: "with statements",
        ast.Lambda: "lambda expressions",
        ast.List: "list literals",
        ast.Dict: "dict literals",
        ast.Set: "set literals",
        ast.Tuple: "tuples",
        ast.ListComp: "list comprehensions",
        ast.GeneratorExp: "generator expressions",
        ast.Subscript: "subscripts",
        ast.Yield: "generators",
        ast.Await: "await",
        ast.AsyncFunctionDef: "async functions",
        ast.Delete: "del statements",
        ast.JoinedStr: "f-strings",
        ast.Starred: "starred arguments",
        ast.Match: "match statements",
        ast.Nonlocal: "nonlocal statements",
    }
    for cls, name in names.items():
        if isinstance(node, cls):
            return name
    return f"'{type(node).__name__}' nodes"


def int_literal_type(value: int) -> SpyType | None:
    for t in (I32, I64, U64):
        if t.fits(value):
            return t
    return None


class ModuleChecker:
    """Declarations and bodies of one module."""

    def __init__(self, loaded: LoadedModule, modules: dict[str, ModuleChecker]) -> None:
        self.loaded = loaded
        self.src: SourceFile = loaded.src
        self.tree = loaded.tree
        self.ir = ir.ModuleIR(loaded.name, loaded.src.display_name)
        self.names: dict[str, Symbol] = {}
        self.defined_at: dict[str, Loc] = {}
        self.modules = modules
        # bodies to check, with the blue values a closure's body sees
        self._func_nodes: list[tuple[ir.FuncDecl, ast.FunctionDef, BlueEnv]] = []
        # `var` globals given their value at run time: (name, value) in order
        self._run_inits: list[tuple[ast.Name, ast.expr]] = []
        self._specialized: dict[tuple[object, ...], ir.FuncDecl] = {}
        self._checked = 0  # how many of _func_nodes check_bodies has done
        # what each @blue.generic gave for its arguments (blue.run_blue)
        self.generic_results: dict[tuple[object, ...], ir.Const | ir.BlueRef] = {}
        self._structs_made: dict[tuple[object, ...], StructInfo] = {}
        self.structs: dict[str, StructInfo] = {}  # by fqn
        self.ptr_types: dict[str, SpyType] = {}  # gc_ptr types first made here, by item fqn
        # names of the standard library's builtin modules (`list`) that this
        # module sees and has not redefined
        self.builtin_names: set[str] = set()

    def error(self, msg: str, node: ast.AST) -> SpyCompileError:
        return SpyCompileError(msg, self.src.node_loc(node))

    # ---- pass 1: declarations -------------------------------------------

    def declare(self) -> None:
        self.see_builtins()
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.declare_import(stmt)
            elif isinstance(stmt, ast.FunctionDef):
                self.declare_function(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.declare_class(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self.declare_global(stmt)
            elif self.is_main_guard(stmt):
                continue  # lets a .spy file also run under CPython
            else:
                raise self.error(f"{describe(stmt)} are not supported at module level", stmt)
        self.declare_init()

    INIT_NAME = "__spy_init__"

    def declare_init(self) -> None:
        """The function that gives the run-time `var` globals their values,
        `NAME = value` in source order, checked like any function's body."""
        if not self._run_inits:
            return
        body: list[ast.stmt] = []
        for target, value in self._run_inits:
            store = ast.Assign(targets=[ast.Name(target.id, ast.Store())], value=value)
            ast.copy_location(store, target)
            ast.copy_location(store.targets[0], target)
            body.append(store)
        node = ast.FunctionDef(
            name=self.INIT_NAME,
            args=ast.arguments([], [], None, [], [], None, []),
            body=body,
            decorator_list=[],
            returns=ast.Constant(None),
        )
        setattr(node, "type_params", [])  # noqa: B010  # Python 3.12+ has the field
        ast.copy_location(node, self._run_inits[0][0])
        ast.fix_missing_locations(node)
        func = self.declare_red_function(node, self.INIT_NAME)
        func.exported = False
        self.ir.init = func

    @staticmethod
    def is_main_guard(stmt: ast.stmt) -> bool:
        return (
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Compare)
            and isinstance(stmt.test.left, ast.Name)
            and stmt.test.left.id == "__name__"
        )

    def see_builtins(self) -> None:
        """The names the builtin modules loaded before this one define."""
        for module, names in BUILTIN_MODULES.items():
            if module == self.ir.name:
                return
            for name in names:
                self.names[name] = self.modules[module].names[name]
                self.builtin_names.add(name)

    def bind(self, name: str, sym: Symbol, node: ast.AST) -> None:
        if name in self.builtin_names:  # a module may redefine a builtin
            self.builtin_names.discard(name)
            del self.names[name]
        if name in self.names:
            prev = self.defined_at[name]
            raise self.error(f"'{name}' is already defined at line {prev.line}", node)
        self.names[name] = sym
        self.defined_at[name] = self.src.node_loc(node)

    def declare_import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        imports = self.loaded.imports
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                target = imports[id(alias)]
                if "." in alias.name and alias.asname is None:
                    raise self.error(
                        f"write 'import {alias.name} as NAME' or 'from {alias.name} import ...'",
                        alias,
                    )
                self.bind(alias.asname or alias.name, ModuleAlias(target), alias)
            return
        for alias in stmt.names:
            if id(alias) in self.loaded.submodule_imports:
                self.bind(alias.asname or alias.name, ModuleAlias(imports[id(alias)]), alias)
                continue
            target = imports[id(stmt)]
            if alias.name == "*":
                raise self.error("'from ... import *' is not supported", alias)
            sym = self.module_member(target, alias.name, alias)
            self.bind(alias.asname or alias.name, sym, alias)

    def module_member(self, module: str, name: str, node: ast.AST) -> Symbol:
        if module in STD_MODULES:
            if name in STD_FUNCS.get(module, {}):
                return STD_FUNCS[module][name]
            if name in STD_CONSTS.get(module, {}):
                return StdConst(*STD_CONSTS[module][name])
            if name in STD_SPECIAL.get(module, ()):
                return SpecialForm(name)
            if name in STD_TYPES.get(module, {}):
                return ir.TypeValue(STD_TYPES[module][name])
            raise self.error(f"module '{module}' has no attribute '{name}'", node)
        other = self.modules[module]
        sym = other.names.get(name)
        # a module of an installed package: say which one it looked at, and where
        where = "" if other.loaded.provider is None else f" (of {other.loaded.provider})"
        if sym is None or name in other.builtin_names:
            raise self.error(f"module '{module}'{where} has no attribute '{name}'", node)
        if isinstance(sym, (ModuleAlias, ir.RuntimeFunc, StdConst, SpecialForm)) or name.startswith(
            "__"
        ):
            # only what a module defines itself is importable from it
            raise self.error(f"module '{module}'{where} has no attribute '{name}'", node)
        return sym

    def resolve_type(self, node: ast.expr | None, what: str) -> SpyType:
        if node is None:
            raise SpyCompileError(f"{what} needs a type annotation", self.src.loc(1, 0))
        if isinstance(node, ast.Constant) and node.value is None:
            return NONE
        if isinstance(node, ast.Name):
            if node.id == "None":
                return NONE
            t = TYPES_BY_NAME.get(node.id)
            if t is not None:
                return t
            if node.id == "bool":
                return BOOL
            if node.id == "type":
                return TYPE  # a type as a value: only blue code has one
            sym = self.names.get(node.id)
            if isinstance(sym, ir.TypeValue):
                return sym.type
            if sym == SpecialForm("interp_tuple"):
                return BLUE_OBJECT  # a blue tuple: only blue code has one
        if isinstance(node, ast.Subscript) and self.names_generic(node.value):
            value = FunctionChecker(self, None).expr(node, allow_object=True)
            if isinstance(value, ir.BlueRef) and isinstance(value.obj, ir.TypeValue):
                return value.obj.type
        raise self.error(f"unknown type '{ast.unparse(node)}'", node)

    # ---- structs --------------------------------------------------------------

    def declare_class(self, node: ast.ClassDef) -> None:
        type_params = self.src.type_params.get(node.lineno)
        if type_params is not None:  # `class Pair[T]`: a generic making the struct
            self.declare_sugared_generic(node, type_params)
            return
        info = self.make_struct(FunctionChecker(self, None), node, {}, node.name)
        self.bind(node.name, ir.TypeValue(info.type), node)

    def make_struct(
        self, checker: FunctionChecker, node: ast.ClassDef, env: BlueEnv, label: str
    ) -> StructInfo:
        """The struct `node` defines for the blue values `env`, made once."""
        if [ast.unparse(d) for d in node.decorator_list] != ["struct"]:
            where = node.decorator_list[0] if node.decorator_list else node
            raise self.error("classes must be '@struct' classes", where)
        if node.bases or node.keywords:
            raise self.error("a struct has no base classes", node)
        for bad, message in body_errors(node):
            raise self.error(message, bad)
        key = definition_key(node, env)
        found = self._structs_made.get(key)
        if found is not None:
            return found
        # declared first: a field may point to the struct (`next: gc_ptr[Node]`)
        t = declare_struct(
            label, f"{self.ir.name}::{label}", c_func_name(self.ir.name, label) + "$$struct"
        )
        fields = []
        declared = ir.BlueRef(TYPE, self.src.node_loc(node), ir.TypeValue(t))
        with checker.binding({node.name: declared, "Self": declared}):
            for f in struct_fields(node):
                assert isinstance(f.target, ast.Name)
                ft = checker.resolve_type(f.annotation, f"field '{f.target.id}'")
                if ft is t:
                    raise self.error(
                        f"a struct cannot hold itself: use a pointer (gc_ptr[{node.name}])",
                        f.annotation,
                    )
                if ft.kind not in STORABLE_KINDS:
                    raise self.error(f"a struct field cannot have type {ft}", f.annotation)
                fields.append((f.target.id, ft))
        for s in node.body:
            if is_extra_fields(s):
                assert isinstance(s, ast.Assign)
                fields += self.extra_fields(checker, s.value)
        full_fqn = f"{self.ir.name}::{label}"
        if label != node.name:
            full_fqn += f"::{node.name}"
        info = make_struct(
            self, self.ir.name, node, t, fields, env, full_fqn, self.src.node_loc(node)
        )
        self._structs_made[key] = info
        self.structs[info.type.fqn] = info
        self.ir.structs.append(info.type)
        return info

    def ptr_type_of(self, item: SpyType, node: ast.AST, memkind: str = "gc") -> SpyType:
        """`gc_ptr[item]` (or `raw_ptr[item]`), one type object per program
        (the first module to use it keeps it)."""
        if item.kind not in STORABLE_KINDS:
            raise self.error(f"{memkind}_ptr cannot point to {item}", node)
        key = f"{memkind}:{item.fqn}"
        for m in self.modules.values():
            found = m.ptr_types.get(key)
            if found is not None:
                return found
        t = ptr_type(item, f"spy_{memkind}ptr$" + mangle(item.fqn), memkind)
        self.ptr_types[key] = t
        self.ir.ptr_types.append(t)
        return t

    def names_generic(self, node: ast.expr) -> bool:
        """Is `node` the name of a generic of this module (`Pair` in `Pair[i32]`)?"""
        if not isinstance(node, ast.Name):
            return False
        sym = self.names.get(node.id)
        return isinstance(sym, ir.BlueFunc) or sym in (
            SpecialForm("gc_ptr"),
            SpecialForm("raw_ptr"),
        )

    def extra_fields(self, checker: FunctionChecker, node: ast.expr) -> list[tuple[str, SpyType]]:
        """The fields a blue dict of name: type gives (`__extra_fields__`)."""
        value = checker.expr(node, allow_object=True)
        if not (isinstance(value, ir.BlueRef) and isinstance(value.obj, ir.BlueDict)):
            raise self.error("__extra_fields__ must be a blue dict of name: type", node)
        fields = []
        for key, ft in value.obj.items.values():
            if not (isinstance(key, ir.Const) and isinstance(key.value, str)):
                raise self.error("__extra_fields__: field names are str", node)
            if not (isinstance(ft, ir.BlueRef) and isinstance(ft.obj, ir.TypeValue)):
                raise self.error(f"__extra_fields__: '{key.value}' needs a type", node)
            fields.append((key.value, ft.obj.type))
        return fields

    def struct_info(self, t: SpyType) -> StructInfo:
        module = t.fqn.split("::")[0]
        return self.modules[module].structs[t.fqn]

    def declare_function(self, node: ast.FunctionDef) -> None:
        type_params = self.src.type_params.get(node.lineno)
        if type_params is not None:
            if node.decorator_list:
                raise self.error(
                    "a generic function ('def f[T]') cannot have decorators", node.decorator_list[0]
                )
            self.declare_sugared_generic(node, type_params)
            return
        decorators = [ast.unparse(d) for d in node.decorator_list]
        if any(self.is_force_inline(d) for d in node.decorator_list):
            self.declare_force_inline(node, decorators)
            return
        if decorators in (["blue"], ["blue.generic"], ["blue.metafunc"]):
            blue = ir.BlueFunc(
                self.ir.name,
                node.name,
                node,
                self.src.node_loc(node),
                self,
                generic=decorators == ["blue.generic"],
                metafunc=decorators == ["blue.metafunc"],
            )
            self.bind(node.name, blue, node)
            return
        if node.decorator_list:
            self.declare_decorated(node)
            return
        func = self.declare_red_function(node, node.name)
        self.bind(node.name, func, node)

    def is_force_inline(self, node: ast.expr) -> bool:
        return FunctionChecker(self, None).special_named(node) == "force_inline"

    def declare_force_inline(self, node: ast.FunctionDef, decorators: list[str]) -> None:
        """`@force_inline def f`: a red function every call inlines (as SPy's:
        one tail return, so that the inlined body ends in its value)."""
        self.check_force_inline(node, decorators)
        func = self.declare_red_function(node, node.name)
        self.check_tail_return(node, func)
        func.force_inline = True
        self.bind(node.name, func, node)

    def check_tail_return(self, node: ast.FunctionDef, func: ir.FuncDecl) -> None:
        last = node.body[-1] if node.body else None
        if func.ret != NONE and not isinstance(last, ast.Return):
            raise self.error(
                "@force_inline requires a single tail return: missing `return` at the end of "
                "the body",
                node,
            )

    def check_force_inline(self, node: ast.FunctionDef, decorators: list[str]) -> None:
        """SPy's rules for `@force_inline`: alone, on a red function, whose
        only `return` is its last statement."""
        where = node.decorator_list[0]
        if any(d.startswith("blue") for d in decorators):
            raise self.error("@force_inline cannot be applied to @blue functions", where)
        if len(decorators) > 1:
            raise self.error("@force_inline cannot be combined with other decorators", where)
        returns = [s for s in ast.walk(node) if isinstance(s, ast.Return)]
        last = node.body[-1] if node.body else None
        if any(r is not last for r in returns):
            bad = next(r for r in returns if r is not last)
            raise self.error(
                "@force_inline requires a single tail return: `return` must be the last "
                "statement of the body",
                bad,
            )

    def declare_sugared_generic(
        self, node: ast.FunctionDef | ast.ClassDef, type_params: list[str]
    ) -> None:
        """`def f[T]` or `class C[T]`: the generic that makes it, under its name."""
        name = node.name  # before generic_sugar renames a class `Self`
        outer = generic_sugar(node, type_params)
        blue = ir.BlueFunc(self.ir.name, name, outer, self.src.node_loc(node), self, True)
        self.bind(name, blue, node)

    def declare_decorated(self, node: ast.FunctionDef) -> None:
        """`@deco def f`: f is what the blue decorators make of the function,
        applied innermost first; the undecorated function is not exported."""
        wrapped = self.declare_red_function(node, f"{node.name}.__wrapped__")
        wrapped.exported = False
        value: ir.Const | ir.BlueRef = ir.BlueRef(FUNCTION, wrapped.loc, wrapped)
        evaluator = FunctionChecker(self, None)
        for deco_node in reversed(node.decorator_list):
            deco = evaluator.expr(deco_node, allow_object=True)
            if not (isinstance(deco, ir.BlueRef) and isinstance(deco.obj, ir.BlueFunc)):
                raise self.error(
                    f"decorator '{ast.unparse(deco_node)}' must be a blue function", deco_node
                )
            from .blue import run_blue  # blue.py builds on this module

            value = run_blue(evaluator, deco.obj, [value], self.src.node_loc(deco_node))
        if not isinstance(value, ir.BlueRef) or not isinstance(
            value.obj, (ir.FuncDecl, ir.Closure, ir.BlueFunc)
        ):
            raise self.error("a decorator must return a function", node.decorator_list[0])
        obj = value.obj
        if isinstance(obj, ir.Closure):
            obj = self.specialize(obj, node.name)
            obj.exported = True
        self.bind(node.name, obj, node)

    def declare_red_function(self, node: ast.FunctionDef, name: str) -> ir.FuncDecl:
        params, ret = FunctionChecker(self, None).signature(node)
        func = ir.FuncDecl(self.ir.name, name, params, ret, self.src.node_loc(node))
        self.ir.funcs[name] = func
        self._func_nodes.append((func, node, {}))
        return func

    def declare_global(self, node: ast.Assign | ast.AnnAssign) -> None:
        value_node: ast.expr | None
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise self.error("only 'NAME = value' is supported at module level", node)
            target, value_node, ann = node.targets[0], node.value, None
        else:
            if not isinstance(node.target, ast.Name):
                raise self.error("only 'NAME: type = value' is supported at module level", node)
            target, value_node, ann = node.target, node.value, node.annotation
        if value_node is None:
            raise self.error(f"global '{target.id}' needs an initial value", node)
        mutable = self.src.decl_keyword(node.lineno) == "var"
        checker = FunctionChecker(self, None)
        if isinstance(value_node, ast.Tuple) and not mutable and ann is None:
            # a module-level tuple constant is blue, as SPy's module constants
            # are: blue code may specialize on it (`nested_loop[SHAPE, 0]`)
            items = [checker.expr(e, allow_object=True) for e in value_node.elts]
            if all(isinstance(i, (ir.Const, ir.BlueRef)) for i in items):
                blue = tuple(i for i in items if isinstance(i, (ir.Const, ir.BlueRef)))
                self.bind(target.id, ir.BlueTuple(blue), target)
                return
        value = checker.expr(value_node, allow_object=True)
        if mutable and ann is not None and self.made_at_run_time(value):
            t = self.resolve_type(ann, f"global '{target.id}'")
            var = ir.GlobalVar(self.ir.name, target.id, t, True, 0, self.src.node_loc(target), True)
            self.bind(target.id, var, target)
            self.ir.globals[target.id] = var
            self._run_inits.append((target, value_node))
            return
        if isinstance(value, ir.BlueRef):
            if mutable or ann is not None:
                raise self.error(
                    f"'{target.id}' holds a blue value ({kind_of(value.obj)}): "
                    "it can be neither 'var' nor annotated",
                    node,
                )
            self.bind(target.id, value.obj, target)
            return
        if ann is not None:
            value = checker.coerce(value, self.resolve_type(ann, f"global '{target.id}'"))
        if value.type == NONE:
            raise self.error(f"global '{target.id}' cannot have type None", value_node)
        try:
            folded = fold(value)
        except NotConstant as exc:
            raise self.error(
                f"the value of global '{target.id}' must be a constant expression ({exc})",
                value_node,
            ) from None
        except ConstantPanic as exc:  # what the same expression would raise at run time
            raise SpyCompileError(
                f"{exc.kind} in a constant expression: {exc.message}", exc.loc or value.loc
            ) from None
        var = ir.GlobalVar(
            self.ir.name, target.id, value.type, mutable, folded, self.src.node_loc(target)
        )
        self.bind(target.id, var, target)
        self.ir.globals[target.id] = var

    @staticmethod
    def made_at_run_time(value: ir.Expr) -> bool:
        """Is a `var` global's initial value one that only running code
        makes: an empty list or dict, or any value that is no constant?"""
        if isinstance(value, ir.BlueRef):
            return isinstance(value.obj, ir.EmptyCollection)
        try:
            fold(value)
        except NotConstant:
            return True
        except ConstantPanic:
            return False  # the constant's own error, at compile time
        return False

    # ---- pass 2: bodies ---------------------------------------------------

    def pending(self) -> bool:
        """Are there bodies left to check (another module's call may have
        specialized one of this module's closures since)?"""
        return self._checked < len(self._func_nodes)

    def check_bodies(self) -> None:
        while self._checked < len(self._func_nodes):  # specializing may add more
            func, node, env = self._func_nodes[self._checked]
            try:
                FunctionChecker(self, func, env).check_function(node)
            except SpyCompileError as exc:
                if env:  # say which specialization: the line alone is every one's
                    exc.notes.append(f"  in '{func.name}', compiled for its blue values")
                raise
            self._checked += 1

    def specialize(self, closure: ir.Closure, name: str | None = None) -> ir.FuncDecl:
        """The red function a closure compiles to for its blue values; one per
        distinct closure, named after it deterministically."""
        key = closure_key(closure)
        found = self._specialized.get(key)
        if found is not None:
            return found
        node = closure.node
        name = name or closure.qualname
        if name in self.ir.funcs:
            n = 2
            while f"{name}#{n}" in self.ir.funcs:
                n += 1
            name = f"{name}#{n}"
        resolver = FunctionChecker(self, None, closure.env)
        params, ret = resolver.signature(node, closure.self_type)
        func = ir.FuncDecl(self.ir.name, name, params, ret, self.src.node_loc(node))
        func.exported = name == node.name and name == closure.qualname
        if closure.force_inline:
            self.check_tail_return(node, func)
            func.force_inline = True
        self._specialized[key] = func
        self.ir.funcs[name] = func
        self._func_nodes.append((func, node, closure.env))  # check_bodies reaches it
        return func


def owner_name(closure: ir.Closure) -> str:
    owner = closure.owner
    assert isinstance(owner, ModuleChecker)
    return owner.ir.name


def specialized(closure: ir.Closure) -> ir.FuncDecl:
    """The red function of a closure, made in the module that defines it: its
    names and errors are that module's, wherever the call is."""
    owner = closure.owner
    assert isinstance(owner, ModuleChecker)
    return owner.specialize(closure)


class FunctionChecker:
    """Types one function body (or, with func=None, a module-level initializer)."""

    def __init__(
        self, module: ModuleChecker, func: ir.FuncDecl | None, outer: OuterEnv | None = None
    ) -> None:
        self.m = module
        self.func = func
        # the blue values of the blue code a closure was defined in
        self.outer: OuterEnv = outer or {}
        self.locals: dict[str, SpyType] = func.locals if func else {}
        self.const_locals: set[str] = set()
        # blue locals: `const` ones, and those SPy makes const (auto_const_names)
        # whose value is known at compile time; they are values, not C locals
        self.blue_locals: dict[str, ir.Const | ir.BlueRef] = {}
        self.auto_const: set[str] = set()
        self.loop_depth = 0
        self.temp_count = 0

    def error(self, msg: str, node: ast.AST) -> SpyCompileError:
        return self.m.error(msg, node)

    def signature(
        self, node: ast.FunctionDef, self_type: SpyType | None = None
    ) -> tuple[list[ir.Param], SpyType]:
        """Parameters and return type of a red function, its annotations
        resolved here (a closure's may name blue types: `x: T`); a method's
        unannotated first parameter is its struct."""
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            bad = a.vararg or a.kwarg or (a.kwonlyargs or a.posonlyargs)[0]
            raise self.error("only plain positional parameters are supported", bad)
        first_default = len(a.args) - len(a.defaults)
        params = []
        for i, arg in enumerate(a.args):
            if arg.annotation is None and i == 0 and self_type is not None:
                params.append(ir.Param(arg.arg, self_type))
                continue
            if arg.annotation is None:
                raise self.error(f"parameter '{arg.arg}' needs a type annotation", arg)
            t = self.resolve_type(arg.annotation, f"parameter '{arg.arg}'")
            if t == NONE:
                raise self.error(f"parameter '{arg.arg}' cannot have type None", arg.annotation)
            default = None
            if i >= first_default:
                default = self.default_value(a.defaults[i - first_default], t)
            params.append(ir.Param(arg.arg, t, default))
        ret = NONE if node.returns is None else self.resolve_type(node.returns, "return")
        return params, ret

    def default_value(self, node: ast.expr, t: SpyType) -> ir.Const:
        """A parameter's default: a value known at compile time, evaluated
        once where the function is defined, as Python does."""
        if t.kind in (Kind.STRUCT, Kind.PTR):
            raise self.error(f"a default value of type {t} is not supported", node)
        value = self.coerce(self.expr(node), t)
        if not isinstance(value, ir.Const):
            raise self.error("a default value must be known at compile time", node)
        return value

    def resolve_type(self, node: ast.expr | None, what: str) -> SpyType:
        """A type annotation; blue names (`T`) first, then the module's."""
        if isinstance(node, ast.Name):
            value = self.blue_value_of(node.id)
            if value is not None:
                if isinstance(value, ir.BlueRef) and isinstance(value.obj, ir.TypeValue):
                    return value.obj.type
                raise self.error(f"'{node.id}' is not a type", node)
        if isinstance(node, ast.Subscript) and (
            self.m.names_generic(node.value)
            or (isinstance(node.value, ast.Name) and self.blue_value_of(node.value.id) is not None)
        ):
            instance = self.expr(node, allow_object=True)
            if isinstance(instance, ir.BlueRef) and isinstance(instance.obj, ir.TypeValue):
                return instance.obj.type
            raise self.error(f"'{ast.unparse(node)}' is not a type", node)
        return self.m.resolve_type(node, what)

    @contextlib.contextmanager
    def binding(self, values: dict[str, ir.Const | ir.BlueRef]) -> Iterator[None]:
        """Names that mean blue values while the block runs (a struct's own
        name while its fields are read)."""
        names = self.blue_names()
        saved = {k: names.get(k) for k in values}
        names.update(values)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    names.pop(k, None)
                else:
                    names[k] = v

    def blue_names(self) -> dict[str, ir.Const | ir.BlueRef]:
        """Where this scope keeps the names of blue values."""
        return self.blue_locals

    def blue_value_of(self, name: str) -> ir.Const | ir.BlueRef | None:
        """What a name means when it holds a blue value in this scope."""
        if name in self.blue_locals:
            return self.blue_locals[name]
        if name in self.locals:
            return None
        return self.outer.get(name)

    def loc(self, node: ast.AST) -> Loc:
        return self.m.src.node_loc(node)

    # ---- functions and statements ------------------------------------------

    def check_function(self, node: ast.FunctionDef) -> None:
        assert self.func is not None
        for p in self.func.params:
            self.locals[p.name] = p.type
        self.auto_const = auto_const_names(node) - {p.name for p in self.func.params}
        self.func.body = self.block(node.body)
        if self.func.ret != NONE and not always_exits(self.func.body):
            raise self.error(
                f"function '{node.name}' can reach its end without returning a value "
                f"of type {self.func.ret}",
                node,
            )

    def block(self, stmts: Sequence[ast.stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for s in stmts:
            checked = self.stmt(s)
            if isinstance(checked, list):
                out += checked
            elif checked is not None:
                out.append(checked)
        return out

    def stmt(self, node: ast.stmt) -> ir.Stmt | list[ir.Stmt] | None:
        loc = self.loc(node)
        if isinstance(node, ast.Expr):
            return self.expr_stmt(node)
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                raise self.error("chained assignment is not supported", node)
            return self.assign(node.targets[0], node.value, None, node)
        if isinstance(node, ast.AnnAssign):
            return self.assign(node.target, node.value, node.annotation, node)
        if isinstance(node, ast.AugAssign):
            return self.aug_assign(node)
        if isinstance(node, ast.If):
            return ir.If(
                loc, self.condition(node.test), self.block(node.body), self.block(node.orelse)
            )
        if isinstance(node, ast.While):
            if node.orelse:
                raise self.error("'else' on a while loop is not supported", node.orelse[0])
            test = self.condition(node.test)
            return ir.While(loc, test, self.loop_body(node.body))
        if isinstance(node, ast.For) and not (
            isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name)
            and node.iter.func.id == "range"
        ):
            return self.for_each(node)
        if isinstance(node, ast.For):
            return self.for_range(node)
        if isinstance(node, (ast.Break, ast.Continue)):
            if self.loop_depth == 0:
                word = "break" if isinstance(node, ast.Break) else "continue"
                raise self.error(f"'{word}' outside a loop", node)
            return ir.Break(loc) if isinstance(node, ast.Break) else ir.Continue(loc)
        if isinstance(node, ast.Pass):
            return None
        if isinstance(node, ast.Return):
            return self.return_(node)
        if isinstance(node, ast.Raise):
            return self.raise_(node)
        if isinstance(node, ast.Delete):
            return [self.delete(t) for t in node.targets]
        if isinstance(node, ast.Assert):
            msg = None if node.msg is None else self.coerce(self.expr(node.msg), STR)
            return ir.Assert(loc, self.condition(node.test), msg)
        if isinstance(node, ast.Global):
            for name in node.names:
                self.mutable_global(name, node)
            return None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise self.error("imports are only supported at module level", node)
        if isinstance(node, ast.FunctionDef):
            raise self.error("nested functions are not supported", node)
        raise self.error(f"{describe(node)} are not supported", node)

    def loop_body(self, stmts: list[ast.stmt]) -> list[ir.Stmt]:
        self.loop_depth += 1
        try:
            return self.block(stmts)
        finally:
            self.loop_depth -= 1

    def expr_stmt(self, node: ast.Expr) -> ir.Stmt | list[ir.Stmt] | None:
        v = node.value
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return None  # docstring or string statement
        if (
            isinstance(v, ast.Call)
            and isinstance(v.func, ast.Name)
            and v.func.id == "print"
            and self.lookup_local_or_global(v.func.id) is None
        ):
            return self.print_(v)
        if (
            isinstance(v, ast.Call)
            and isinstance(v.func, ast.Name)
            and self.special_named(v.func) == "unchecked_set"
        ):
            return self.unchecked_set(v)
        return ir.ExprStmt(self.loc(node), self.expr(v, allow_none=True))

    def unchecked_item(self, node: ast.Call, name: str, nargs: int) -> ir.PtrItem:
        """`p[i]` of `unchecked_get(p, i)` / `unchecked_set(p, i, v)`, unchecked."""
        if len(node.args) != nargs or node.keywords:
            raise self.error(f"{name}() takes {nargs} arguments", node)
        ptr = self.expr(node.args[0])
        if ptr.type.kind is not Kind.PTR or ptr.type.item is None:
            raise self.error(f"{name}() needs a gc_ptr, not {ptr.type}", node.args[0])
        item = self.ptr_item(ptr, node.args[1])
        item.checked = False
        return item

    def unchecked_set(self, node: ast.Call) -> ir.Stmt:
        target = self.unchecked_item(node, "unchecked_set", 3)
        value = self.coerce(self.expr(node.args[2]), target.type)
        return ir.Assign(self.loc(node), target, value)

    def print_(self, call: ast.Call) -> list[ir.Stmt]:
        """print(): every argument is evaluated, then each made text, as in
        Python (`print(xs, xs.pop())` shows the list after the pop)."""
        if call.keywords:
            raise self.error("print() keyword arguments are not supported", call.keywords[0])
        values = []
        for a in call.args:
            if isinstance(a, ast.Starred):
                raise self.error(f"{describe(a)} are not supported", a)
            value = self.expr(a, allow_none=isinstance(a, ast.Constant), allow_object=True)
            if isinstance(value, ir.BlueRef):
                value = self.blue_text(value, a)
            values.append(value)
        bound: list[ir.Stmt] = []
        if any(v.type.kind is Kind.STRUCT for v in values):
            # a struct's text comes from a call: bind the values first
            for i, v in enumerate(values):
                if not is_simple(v):
                    ref = self.temp(v)
                    self.locals[ref.name] = v.type
                    bound.append(ir.Assign(v.loc, ref, v))
                    values[i] = ref
        args = [
            self.text_of(v, "__str__", a) if v.type.kind is Kind.STRUCT else v
            for v, a in zip(values, call.args, strict=True)
        ]
        return [*bound, ir.Print(self.loc(call), args)]

    def mutable_global(self, name: str, node: ast.AST) -> ir.GlobalVar:
        sym = self.m.names.get(name)
        if isinstance(sym, ir.GlobalVar):
            if not sym.mutable:
                raise self.error(
                    f"cannot assign to const '{name}' (declare it with 'var {name}' to make it mutable)",
                    node,
                )
            if sym.module != self.m.ir.name:
                raise self.error(f"cannot assign to '{name}' of module '{sym.module}'", node)
            return sym
        raise self.error(f"'{name}' is not a global variable of this module", node)

    def assign(
        self, target: ast.expr, value_node: ast.expr | None, ann: ast.expr | None, node: ast.stmt
    ) -> ir.Stmt | list[ir.Stmt] | None:
        if isinstance(target, (ast.Tuple, ast.List)) and value_node is not None and ann is None:
            return self.unpack_assign(target, value_node, node)
        if isinstance(target, ast.Subscript) and value_node is not None:
            value = self.expr(value_node)  # Python evaluates the value first
            base = self.expr(target.value)
            if base.type.kind is Kind.STRUCT:
                # the value goes first: a value that may have effects is bound
                # before the call, which evaluates the container and indices
                bound = value if is_simple(value) else self.temp(value)
                args = [base, *self.indices(target), bound]
                call = self.struct_method(base.type, "__setitem__", args, target)
                if isinstance(bound, ir.LocalRef) and bound is not value:
                    call = ir.Let(call.type, call.loc, bound.name, value, call)
                return ir.ExprStmt(self.loc(node), call)
            if base.type.kind is not Kind.PTR:
                raise self.error(f"assignment to {describe(target)} is not supported", target)
            item = self.ptr_item(base, target.slice)
            return ir.Assign(self.loc(node), item, self.coerce(value, item.type))
        if isinstance(target, ast.Attribute) and not self.names_module(target.value):
            base = self.expr(target.value, allow_object=True)
            in_block = isinstance(base, ir.PtrItem)  # `p[i].x`: a struct on the heap
            if (base.type.kind is Kind.PTR or in_block) and value_node is not None:
                value = self.expr(value_node)
                field = self.blue_attribute(target)
                if not isinstance(field, ir.FieldGet):
                    raise self.error(f"cannot assign to property '{target.attr}'", target)
                return ir.Assign(self.loc(node), field, self.coerce(value, field.type))
            if base.type.kind is Kind.STRUCT:
                raise self.error(
                    f"cannot assign to a field of '{base.type}': a struct value is immutable",
                    target,
                )
        if not isinstance(target, ast.Name):
            raise self.error(f"assignment to {describe(target)} is not supported", target)
        name = target.id
        loc = self.loc(node)
        declared = None if ann is None else self.resolve_type(ann, f"variable '{name}'")
        if declared == NONE:
            raise self.error(f"variable '{name}' cannot have type None", ann or node)
        is_const = self.m.src.decl_keyword(node.lineno) == "const"
        if name in self.const_locals:
            raise self.error(f"cannot assign to const '{name}'", target)
        if name in self.locals:
            if declared is not None and declared != self.locals[name]:
                raise self.error(
                    f"'{name}' is already declared with type {self.locals[name]}", target
                )
            if value_node is None:
                return None
            value = self.coerce(self.expr(value_node), self.locals[name])
            return ir.Assign(loc, ir.LocalRef(self.locals[name], loc, name), value)
        sym = self.m.names.get(name)
        if isinstance(sym, ir.GlobalVar) and declared is None:
            var = self.mutable_global(name, target)
            assert value_node is not None
            value = self.coerce(self.expr(value_node), var.type)
            return ir.Assign(loc, ir.GlobalRef(var.type, loc, var), value)
        if sym is not None and not isinstance(sym, ir.GlobalVar):
            raise self.error(f"cannot assign to '{name}': it names a {kind_of(sym)}", target)
        # a new local: its type is the annotation, else the value's
        if value_node is None:
            assert declared is not None
            self.locals[name] = declared
            return None
        blue_candidate = is_const or name in self.auto_const
        value = self.expr(value_node, allow_object=blue_candidate)
        if isinstance(value, ir.BlueRef) and declared is not None and value.type != declared:
            value = self.coerce(value, declared)  # `T: type = MyInt`: __convert_to__
        if isinstance(value, ir.BlueRef):  # a function or a type: a blue local
            self.blue_locals[name] = value
            if is_const:
                self.const_locals.add(name)
            return None
        if declared is not None:
            value = self.coerce(value, declared)
        if value.type == NONE:
            raise self.error("cannot assign a value of type None", value_node)
        if blue_candidate:
            try:
                self.blue_locals[name] = ir.Const(value.type, loc, fold(value), literal=False)
            except NotConstant:
                if is_const:
                    raise self.error(
                        f"the value of const '{name}' must be known at compile time", value_node
                    ) from None
            except ConstantPanic:
                if is_const:
                    raise
                # left red: the panic happens where and when the code runs
            if name in self.blue_locals:
                if is_const:
                    self.const_locals.add(name)
                return None
        self.locals[name] = value.type
        if is_const:
            self.const_locals.add(name)
        return ir.Assign(loc, ir.LocalRef(value.type, loc, name), value)

    def aug_assign(self, node: ast.AugAssign) -> ir.Assign:
        if not isinstance(node.target, ast.Name):
            raise self.error(f"assignment to {describe(node.target)} is not supported", node.target)
        name = node.target.id
        loc = self.loc(node)
        target: ir.LocalRef | ir.GlobalRef
        if name in self.const_locals:
            raise self.error(f"cannot assign to const '{name}'", node.target)
        if name in self.locals:
            target = ir.LocalRef(self.locals[name], loc, name)
        elif isinstance(self.m.names.get(name), ir.GlobalVar):
            var = self.mutable_global(name, node.target)
            target = ir.GlobalRef(var.type, loc, var)
        else:
            raise self.error(f"name '{name}' is not defined", node.target)
        op = ARITH_OPS[type(node.op)]
        value = self.binop(op, target, self.expr(node.value), node)
        return ir.Assign(loc, target, self.coerce(value, target.type))

    def for_range(self, node: ast.For) -> ir.ForRange:
        if node.orelse:
            raise self.error("'else' on a for loop is not supported", node.orelse[0])
        it = node.iter
        if not (
            isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
        ):
            raise self.error("for loops support only 'for NAME in range(...)'", it)
        if not isinstance(node.target, ast.Name):
            raise self.error("the loop variable must be a plain name", node.target)
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.error(
                f"range expected 1 to 3 positional arguments, got {len(it.args) + len(it.keywords)}",
                it,
            )
        args = [self.expr(a) for a in it.args]
        for a, a_node in zip(args, it.args, strict=True):
            if not a.type.is_int:
                raise self.error(f"range() arguments must be integers, not {a.type}", a_node)
        name = node.target.id
        if name in self.locals:
            var_t = self.locals[name]
            if not var_t.is_int:
                raise self.error(
                    f"loop variable '{name}' has type {var_t}, not an integer", node.target
                )
        else:
            var_t = args[0].type
            for a in args[1:]:
                var_t = self.common_int_type(var_t, a, node)
            self.locals[name] = var_t
        if var_t == U64:
            raise self.error("range() over u64 is not supported", it)
        args = [self.coerce(a, var_t) for a in args]
        if len(args) == 1:
            start: ir.Expr = ir.Const(var_t, args[0].loc, 0)
            stop, step = args[0], None
        else:
            start, stop = args[0], args[1]
            step = args[2] if len(args) == 3 else None
        if isinstance(step, ir.Const) and step.value == 1:
            step = None
        loc = self.loc(node)
        var = ir.LocalRef(var_t, loc, name)
        return ir.ForRange(loc, var, start, stop, step, self.loop_body(node.body))

    def for_each(self, node: ast.For) -> list[ir.Stmt]:
        """`for x in <str>` or over a struct with SPy's iteration protocol."""
        if node.orelse:
            raise self.error("'else' on a for loop is not supported", node.orelse[0])
        value = self.expr(node.iter)
        if value.type == STR:
            return self.for_str(node, value)
        if (
            value.type.kind is Kind.STRUCT
            and "__fastiter__" in self.m.struct_info(value.type).methods
        ):
            return self.for_iter(node, value)
        raise self.error(f"'{value.type}' object is not iterable", node.iter)

    def for_iter(self, node: ast.For, value: ir.Expr) -> list[ir.Stmt]:
        """SPy's protocol, as its desugaring has it:
        `it = X.__fastiter__(); while it.__continue_iteration__():
        target = it.__item__(); it = it.__next__(); body` (advancing before
        the body, so that `continue` cannot skip it)."""
        loc = self.loc(node)
        start = self.struct_method(value.type, "__fastiter__", [value], node.iter)
        it = self.temp(start)
        self.locals[it.name] = it.type
        if it.type.kind is not Kind.STRUCT:
            raise self.error(
                f"__fastiter__ of '{value.type}' returns {it.type}, not a struct", node
            )
        test = self.truth(
            self.struct_method(it.type, "__continue_iteration__", [it], node.iter), node.iter
        )
        current = self.struct_method(it.type, "__item__", [it], node.iter)
        item = self.temp(current)
        self.locals[item.name] = item.type
        advance = self.struct_method(it.type, "__next__", [it], node.iter)
        body: list[ir.Stmt] = [
            ir.Assign(loc, item, current),
            ir.Assign(loc, it, self.coerce(advance, it.type)),
        ]
        bind = self.assign(node.target, self.temp_name(item, node.target), None, node)
        body.extend(bind if isinstance(bind, list) else [bind] if bind is not None else [])
        body.extend(self.loop_body(node.body))
        return [ir.Assign(loc, it, start), ir.While(loc, test, body)]

    def temp_name(self, temp: ir.LocalRef, where: ast.AST) -> ast.Name:
        """An ast name for a temporary, so that an assignment can take it as
        its value (for targets, unpacking included)."""
        return ast.copy_location(ast.Name(id=temp.name, ctx=ast.Load()), where)

    def for_str(self, node: ast.For, value: ir.Expr) -> list[ir.Stmt]:
        """`for ch in s`: one-character strs, walking the UTF-8 bytes once (the
        str is evaluated once, before the loop, as Python's iter() is)."""
        if not isinstance(node.target, ast.Name):
            raise self.error("the loop variable must be a plain name", node.target)
        name = node.target.id
        if self.locals.setdefault(name, STR) != STR:
            raise self.error(f"loop variable '{name}' has type {self.locals[name]}, not str", node)
        loc = self.loc(node)
        text, at = self.temp(value), ir.LocalRef(I64, loc, f"$t{self.temp_count + 1}")
        self.temp_count += 1
        self.locals[text.name] = STR
        self.locals[at.name] = I64
        test = ir.Compare(BOOL, loc, "<", at, ir.RuntimeCall(I64, loc, STR_NBYTES, [text]))
        step = ir.BinOp(I64, loc, "+", at, ir.RuntimeCall(I64, loc, STR_CHAR_WIDTH, [text, at]))
        body = [
            ir.Assign(
                loc, ir.LocalRef(STR, loc, name), ir.RuntimeCall(STR, loc, STR_CHAR_AT, [text, at])
            ),
            ir.Assign(loc, at, step),  # before the body: `continue` must not skip it
            *self.loop_body(node.body),
        ]
        return [
            ir.Assign(loc, text, value),
            ir.Assign(loc, at, ir.Const(I64, loc, 0)),
            ir.While(loc, test, body),
        ]

    def common_int_type(self, t: SpyType, e: ir.Expr, node: ast.AST) -> SpyType:
        if e.type == t or is_literal(e):
            return t
        if widens(t, e.type):
            return e.type
        if widens(e.type, t):
            return t
        raise self.error(f"range() arguments have mismatched types {t} and {e.type}", node)

    def return_(self, node: ast.Return) -> ir.Return:
        assert self.func is not None
        loc = self.loc(node)
        ret = self.func.ret
        if node.value is None or (
            isinstance(node.value, ast.Constant) and node.value.value is None
        ):
            if ret != NONE:
                raise self.error(
                    f"function '{self.func.name}' must return a value of type {ret}", node
                )
            return ir.Return(loc, None)
        if ret == NONE:
            raise self.error(
                f"function '{self.func.name}' is declared to return None but returns a value",
                node.value,
            )
        return ir.Return(loc, self.coerce(self.expr(node.value), ret))

    def raise_(self, node: ast.Raise) -> ir.Raise:
        exc = node.exc
        if exc is None:
            raise self.error("bare 'raise' is not supported", node)
        if node.cause is not None:
            raise self.error("'raise ... from ...' is not supported", node.cause)
        call_args: list[ast.expr] = []
        if isinstance(exc, ast.Call):
            if exc.keywords:
                raise self.error("exception keyword arguments are not supported", exc.keywords[0])
            call_args = exc.args
            exc = exc.func
        if not isinstance(exc, ast.Name) or exc.id not in BUILTIN_EXCEPTIONS:
            raise self.error(f"can only raise a builtin exception, not '{ast.unparse(exc)}'", exc)
        if len(call_args) > 1:
            raise self.error(f"{exc.id}() takes at most 1 argument, got {len(call_args)}", node)
        msg = self.coerce(self.expr(call_args[0]), STR) if call_args else None
        return ir.Raise(self.loc(node), exc.id, msg)

    # ---- expressions ------------------------------------------------------

    def condition(self, node: ast.expr) -> ir.Expr:
        e = self.expr(node)
        return self.truth(e, node)

    def truth(self, e: ir.Expr, node: ast.AST) -> ir.Expr:
        if e.type == BOOL:
            return e
        if e.type.is_numeric or e.type == STR or e.type.kind is Kind.PTR:
            return ir.Truth(BOOL, e.loc, e)  # a pointer is true unless NULL
        raise self.error(f"a value of type {e.type} has no truth value", node)

    def expr(self, node: ast.expr, allow_none: bool = False, allow_object: bool = False) -> ir.Expr:
        e = self._expr(node)
        if (
            isinstance(e, ir.BlueRef)
            and not allow_object
            and not isinstance(e.obj, ir.EmptyCollection)
        ):
            raise self.error(
                f"'{ast.unparse(node)}' is a {kind_of(e.obj)}, known only at compile time: "
                "it has no run-time value",
                node,
            )
        if e.type == NONE and not allow_none:
            if isinstance(e, ir.Call):
                raise self.error(
                    f"function '{e.func.name}' returns None: it has no value to use", node
                )
            raise self.error("None is not a value of any SPy type here", node)
        return e

    def _expr(self, node: ast.expr) -> ir.Expr:
        loc = self.loc(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            op = ARITH_OPS.get(type(node.op))
            if op is None:
                raise self.error("the '@' operator is not supported", node)
            return self.binop(op, self.expr(node.left), self.expr(node.right), node)
        if isinstance(node, ast.UnaryOp):
            return self.unaryop(node)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return ir.BoolOp(BOOL, loc, op, [self.condition(v) for v in node.values])
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test = self.condition(node.test)
            body, orelse = self.expr(node.body), self.expr(node.orelse)
            body, orelse, t = self.unify("conditional expression", body, orelse, node)
            return ir.CondExpr(t, loc, test, body, orelse)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.attribute_value(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.List):
            return self.list_literal(node)
        if isinstance(node, ast.Tuple):
            return self.tuple_literal(node)
        if isinstance(node, ast.Dict):
            return self.dict_literal(node)
        raise self.error(f"{describe(node)} are not supported", node)

    def dict_literal(self, node: ast.Dict) -> ir.Expr:
        """`{k: v}`: `dict[K, V]()._push(k, v)`, keys and values evaluated in
        order; `{}` is of EmptyDictType until an expected dict type converts it."""
        loc = self.loc(node)
        if not node.keys:
            return ir.BlueRef(EMPTY_DICT, loc, ir.EmptyCollection("dict"))
        pairs = []
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise self.error("'**' in a dict literal is not supported", v)
            pairs.append((self.expr(k), self.expr(v)))
        kt, keys = self.item_type([key for key, _ in pairs], "dict key")
        vt, values = self.item_type([value for _, value in pairs], "dict value")
        t = self.collection_type("dict", [kt, vt], node)
        return self.pushed(t, [[k, v] for k, v in zip(keys, values, strict=True)], loc)

    def tuple_literal(self, node: ast.Tuple) -> ir.Expr:
        """`(a, b)`: a `tuple[A, B]` struct of the items, evaluated in order."""
        items = [self.expr(e) for e in node.elts]
        for e in items:
            if e.type.kind not in STORABLE_KINDS:
                raise self.error(f"a tuple cannot hold a {e.type}", node)
        t = self.collection_type("tuple", [e.type for e in items], node)
        return ir.StructNew(t, self.loc(node), items)

    def slice_args(self, index: ast.Slice) -> list[ir.Expr]:
        """`a:b:c` as start, stop, step (i64) and whether start and stop are
        given: what `__getslice__`-style methods take."""
        loc = self.loc(index)
        parts: list[ir.Expr] = []
        given: list[ir.Expr] = []
        for part, default in ((index.lower, 0), (index.upper, 0), (index.step, 1)):
            if part is None:
                parts.append(ir.Const(I64, loc, default))
                given.append(ir.Const(BOOL, loc, False))
            else:
                parts.append(self.coerce(self.expr(part), I64))
                given.append(ir.Const(BOOL, loc, True))
        return [*parts, given[0], given[1]]

    def delete(self, target: ast.expr) -> ir.Stmt:
        """`del x[k]` (`__delitem__`) or `del x[a:b]` (`__delslice__`)."""
        if not isinstance(target, ast.Subscript):
            raise self.error(
                f"del of {describe(target)} is not supported (only del x[key])", target
            )
        base = self.expr(target.value)
        if base.type.kind is not Kind.STRUCT:
            raise self.error(f"'{base.type}' object does not support item deletion", target)
        if isinstance(target.slice, ast.Slice):
            args = [base, *self.slice_args(target.slice)]
            call = self.struct_method(base.type, "__delslice__", args, target)
        else:
            call = self.struct_method(
                base.type, "__delitem__", [base, *self.indices(target)], target
            )
        return ir.ExprStmt(self.loc(target), call)

    def unpack_assign(
        self, target: ast.Tuple | ast.List, value_node: ast.expr, node: ast.stmt
    ) -> list[ir.Stmt]:
        """`a, b = value`: the value once, then each target from its item in
        order (`a = tmp[0]; b = tmp[1]`), its length checked at compile time."""
        value = self.expr(value_node)
        if value.type.kind is not Kind.STRUCT:
            raise self.error(f"cannot unpack a non-iterable {value.type} object", value_node)
        size = self.struct_method(value.type, "__len__", [value], value_node)
        if not isinstance(size, ir.Const) or not isinstance(size.value, int):
            raise self.error(
                f"cannot unpack a {value.type}: its length is not known at compile time", value_node
            )
        if size.value != len(target.elts):
            few = "not enough" if size.value < len(target.elts) else "too many"
            raise self.error(
                f"{few} values to unpack (expected {len(target.elts)}, got {size.value})", node
            )
        tmp = self.temp(value)
        self.locals[tmp.name] = value.type
        out: list[ir.Stmt] = [ir.Assign(self.loc(node), tmp, value)]
        for i, elt in enumerate(target.elts):
            item = ast.copy_location(
                ast.Subscript(
                    value=self.temp_name(tmp, elt),
                    slice=ast.copy_location(ast.Constant(value=i), elt),
                    ctx=ast.Load(),
                ),
                elt,
            )
            done = self.assign(elt, item, None, node)
            out.extend(done if isinstance(done, list) else [done] if done is not None else [])
        return out

    def item_type(self, items: list[ir.Expr], what: str) -> tuple[SpyType, list[ir.Expr]]:
        """The one type of a literal's items, the first non-literal's, where
        literals adapt as they do to an annotation (`[1, x]` with x: i64);
        and the items converted to it."""
        t = next((e.type for e in items if not is_literal(e)), items[0].type)
        converted = []
        for e in items:
            try:
                converted.append(self.coerce(e, t))
            except SpyCompileError:
                raise SpyCompileError(
                    f"{what} items must have one type: {t} and {e.type}", e.loc
                ) from None
        return t, converted

    def pushed(self, t: SpyType, rows: list[list[ir.Expr]], loc: Loc) -> ir.Expr:
        """`T()._push(*row)._push(*row)...`: how a list or dict literal is
        built, its items evaluated in order (they have T's item types)."""
        info = self.m.struct_info(t)
        result: ir.Expr = ir.Call(t, loc, specialized(info.methods["__new__"].closure), [])
        push = specialized(info.methods["_push"].closure)
        for row in rows:
            result = ir.Call(t, row[0].loc, push, [result, *row])
        return result

    def collection_type(self, builtin: str, args: list[SpyType], node: ast.AST) -> SpyType:
        """`list[T]` (or `dict[K, V]`), as the builtin generic makes it."""
        from .blue import run_blue  # blue.py builds on this module

        generic = self.m.modules[next(m for m, n in BUILTIN_MODULES.items() if builtin in n)]
        func = generic.names[builtin]
        assert isinstance(func, ir.BlueFunc)
        loc = self.loc(node)
        made = run_blue(self, func, [ir.BlueRef(TYPE, loc, ir.TypeValue(a)) for a in args], loc)
        assert isinstance(made, ir.BlueRef) and isinstance(made.obj, ir.TypeValue)
        return made.obj.type

    def list_literal(self, node: ast.List) -> ir.Expr:
        """`[a, b]`: `list[T]()._push(a)._push(b)`, as SPy evaluates it (items
        left to right); `[]` is of EmptyListType until an expected list type
        converts it."""
        loc = self.loc(node)
        if not node.elts:
            return ir.BlueRef(EMPTY_LIST, loc, ir.EmptyCollection("list"))
        item_t, items = self.item_type([self.expr(e) for e in node.elts], "list")
        t = self.collection_type("list", [item_t], node)
        return self.pushed(t, [[e] for e in items], loc)

    def special_named(self, node: ast.expr) -> str | None:
        """The name of the special form `node` names (`gc_ptr`), if it names one."""
        if isinstance(node, ast.Name):
            sym = self.lookup_local_or_global(node.id)
            if isinstance(sym, SpecialForm):
                return sym.name
        return None

    def subscript(self, node: ast.Subscript) -> ir.Expr:
        """`generic[args]` (a call of a `@blue.generic` function), `gc_ptr[T]`,
        or an item of a pointer."""
        special = self.special_named(node.value)
        if special in ("gc_ptr", "raw_ptr"):
            item = self.resolve_type(node.slice, f"{special}'s item")
            t = self.m.ptr_type_of(item, node, special.removesuffix("_ptr"))
            return ir.BlueRef(TYPE, self.loc(node), ir.TypeValue(t))
        base = self.expr(node.value, allow_object=True)
        if base.type.kind is Kind.PTR:
            return self.ptr_item(base, node.slice)
        if base.type == STR and not isinstance(base, ir.BlueRef):
            return self.str_subscript(base, node.slice)
        if isinstance(base, ir.BlueRef) and isinstance(base.obj, ir.BlueTuple):
            return self.blue_tuple_item(base.obj, node)
        if base.type.kind is Kind.STRUCT and isinstance(node.slice, ast.Slice):
            args = [base, *self.slice_args(node.slice)]
            return self.struct_method(base.type, "__getslice__", args, node)
        if base.type.kind is Kind.STRUCT:
            return self.struct_method(base.type, "__getitem__", [base, *self.indices(node)], node)
        if not (isinstance(base, ir.BlueRef) and isinstance(base.obj, ir.BlueFunc)):
            raise self.error(f"{describe(node)} are not supported", node)
        if not base.obj.generic:
            raise self.error(
                f"'{base.obj.name}' is called with (), not [] (it is not @blue.generic)", node
            )
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        from .blue import blue_args, run_blue  # blue.py builds on this module

        values = blue_args(self, base.obj, items)
        return run_blue(self, base.obj, values, self.loc(node))

    def blue_tuple_item(self, tup: ir.BlueTuple, node: ast.Subscript) -> ir.Expr:
        """`t[i]` of a blue tuple, `i` known at compile time: the item itself."""
        index = self.expr(node.slice)
        if not (isinstance(index, ir.Const) and type(index.value) is int):
            raise self.error("a blue tuple's index must be an integer known at compile time", node)
        i = index.value + len(tup.items) if index.value < 0 else index.value
        if not 0 <= i < len(tup.items):
            raise self.error("IndexError: tuple index out of range", node)
        return relocated(tup.items[i], self.loc(node))

    def constant(self, node: ast.Constant) -> ir.Expr:
        loc = self.loc(node)
        v = node.value
        if isinstance(v, bool):
            return ir.Const(BOOL, loc, v)
        if isinstance(v, int):
            t = int_literal_type(v)
            if t is None:
                raise self.error(f"integer literal {v} is too large for any SPy integer type", node)
            return ir.Const(t, loc, v)
        if isinstance(v, float):
            return ir.Const(F64, loc, v)
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:  # SPy strings are UTF-8, which has no surrogates
                raise self.error(
                    f"string literal contains a lone surrogate ({ascii(v[exc.start])[1:-1]}), "
                    "which UTF-8 cannot encode",
                    node,
                ) from None
            return ir.Const(STR, loc, v)
        if v is None:
            return ir.Const(NONE, loc, None)
        if isinstance(v, bytes):  # the standard library's bytes, over the literal's bytes
            made = self.m.modules["_bytes"].names["bytes"]
            assert isinstance(made, ir.TypeValue)
            return ir.StructNew(made.type, loc, [ir.Const(STR, loc, v, literal=False)])
        raise self.error(f"{type(v).__name__} literals are not supported", node)

    def lookup_local_or_global(self, name: str) -> SpyType | Symbol | None:
        blue = self.blue_value_of(name)
        if blue is not None:
            return blue.obj if isinstance(blue, ir.BlueRef) else blue.type
        if name in self.locals:
            return self.locals[name]
        return self.m.names.get(name)

    def name(self, node: ast.Name) -> ir.Expr:
        loc = self.loc(node)
        blue = self.blue_value_of(node.id)
        if blue is not None:
            return relocated(blue, loc)
        if node.id in self.locals:
            return ir.LocalRef(self.locals[node.id], loc, node.id)
        sym = self.m.names.get(node.id)
        if sym is None:
            if node.id in CAST_NAMES:
                return ir.BlueRef(TYPE, loc, ir.TypeValue(CAST_NAMES[node.id]))
            if node.id == "type":  # the type of types, as a blue value
                return ir.BlueRef(TYPE, loc, ir.TypeValue(TYPE))
            if node.id in ("print", "len", "str", "range"):
                raise self.error(f"'{node.id}' cannot be used as a value", node)
            raise self.error(f"name '{node.id}' is not defined", node)
        return self.symbol_value(sym, node.id, node)

    def symbol_value(self, sym: Symbol, name: str, node: ast.AST) -> ir.Expr:
        loc = self.loc(node)
        if isinstance(sym, ir.GlobalVar):
            return ir.GlobalRef(sym.type, loc, sym)
        if isinstance(sym, StdConst):
            return ir.Const(sym.type, loc, sym.value)
        if isinstance(sym, (ir.FuncDecl, ir.BlueFunc, ir.Closure)):
            return ir.BlueRef(FUNCTION, loc, sym)
        if isinstance(sym, ir.TypeValue):
            return ir.BlueRef(TYPE, loc, sym)
        if isinstance(sym, ir.StructValue):  # a struct instance made at compile time
            return ir.BlueRef(sym.type, loc, sym)
        if isinstance(sym, (ir.BlueTuple, ir.BlueDict)):
            return ir.BlueRef(BLUE_OBJECT, loc, sym)
        raise self.error(f"'{name}' is a {kind_of(sym)}, not a value", node)

    def attribute_value(self, node: ast.Attribute) -> ir.Expr:
        base = node.value
        if isinstance(base, ast.Name):
            sym = self.lookup_local_or_global(base.id)
            if sym == SpecialForm("OpSpec") and node.attr == "NULL":
                return ir.BlueRef(BLUE_OBJECT, self.loc(node), ir.OpSpec())
        if not self.names_module(base):
            return self.blue_attribute(node)
        sym = self.attribute_symbol(node)
        return self.symbol_value(sym, ast.unparse(node), node)

    def blue_attribute(self, node: ast.Attribute) -> ir.Expr:
        """A struct's field or property; a type's names (`__name__`, `__fqn__`);
        `m.static_type`, `m.color`, `m.blueval` of a metafunction's argument."""
        base = self.expr(node.value, allow_object=True)
        obj = base.obj if isinstance(base, ir.BlueRef) else None
        loc = self.loc(node)
        if obj is None and base.type.kind is Kind.PTR:
            item = base.type.item
            if item is None or item.kind is not Kind.STRUCT:
                raise self.error(f"a {base.type} has no attribute '{node.attr}'", node)
            zero = ir.Const(I64, loc, 0)
            base = ir.PtrItem(item, loc, base, zero)  # p.x is p[0].x
        if isinstance(obj, ir.StructValue):
            assert isinstance(base, ir.BlueRef)
            return self.blue_struct_attribute(base, obj, node)
        if obj is None and base.type.kind is Kind.STRUCT:
            t = base.type
            ft = t.field_type(node.attr)
            if ft is not None:
                return ir.FieldGet(ft, loc, base, node.attr)
            method = self.m.struct_info(t).methods.get(node.attr)
            if method is not None and method.kind == PROPERTY:
                return self.struct_method(t, node.attr, [base], node)
            raise self.error(f"'{t}' has no field or property '{node.attr}'", node)
        if isinstance(obj, ir.TypeValue) and obj.type.kind is Kind.PTR and node.attr == "NULL":
            return ir.Const(obj.type, loc, None)  # gc_ptr[T].NULL: no block
        if isinstance(obj, ir.TypeValue):
            names = type_names(obj.type, self.m)
            if node.attr in names:
                return ir.Const(STR, loc, names[node.attr], literal=False)
            if obj.type.kind is Kind.STRUCT:  # `Point.norm`: a method as a function
                method = self.m.struct_info(obj.type).methods.get(node.attr)
                if method is not None and method.kind not in (PROPERTY, METAFUNC):
                    return ir.BlueRef(FUNCTION, loc, method.closure)
        if isinstance(obj, ir.MetaArg):
            if node.attr == "static_type":
                return ir.BlueRef(TYPE, loc, ir.TypeValue(obj.static_type))
            if node.attr == "color":
                return ir.Const(STR, loc, "red" if obj.blueval is None else "blue", literal=False)
            if node.attr == "blueval":
                if obj.blueval is None:
                    raise self.error("this argument is red: it has no blueval", node)
                return relocated(obj.blueval, loc)
        raise self.error("attribute access is only supported on imported modules", node)

    def blue_struct_attribute(
        self, base: ir.BlueRef, obj: ir.StructValue, node: ast.Attribute
    ) -> ir.Expr:
        """A field or property of a struct instance made at compile time: a
        blue value, a property computed by the compiler (it may return a
        type, which only blue code has)."""
        t = obj.type
        names = [f.name for f in t.fields]
        if node.attr in names:
            return relocated(obj.fields[names.index(node.attr)], self.loc(node))
        method = self.m.struct_info(t).methods.get(node.attr)
        if method is None or method.kind != PROPERTY:
            raise self.error(f"'{t}' has no field or property '{node.attr}'", node)
        return self.run_closure_blue(method.closure, [base], node)

    def run_closure_blue(
        self, closure: ir.Closure, args: list[ir.Const | ir.BlueRef], where: ast.AST | Loc
    ) -> ir.Const | ir.BlueRef:
        """Run a function that blue code defined, at compile time, on blue arguments."""
        from .blue import run_blue  # blue.py builds on this module

        loc = where if isinstance(where, Loc) else self.loc(where)
        func = ir.BlueFunc(
            owner_name(closure), closure.qualname, closure.node, loc, closure.owner, env=closure.env
        )
        return run_blue(self, func, args, loc)

    def attribute_symbol(self, node: ast.Attribute) -> Symbol:
        base = node.value
        if isinstance(base, ast.Name) and base.id not in self.locals:
            alias = self.m.names.get(base.id)
            if isinstance(alias, ModuleAlias):
                return self.m.module_member(alias.target, node.attr, node)
        raise self.error("attribute access is only supported on imported modules", node)

    def unaryop(self, node: ast.UnaryOp) -> ir.Expr:
        loc = self.loc(node)
        if isinstance(node.op, ast.Not):
            return ir.Not(BOOL, loc, self.condition(node.operand))
        # fold a negative literal, so that -2147483648 is an i32
        if (
            isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            return self.constant(ast.copy_location(ast.Constant(-node.operand.value), node))
        operand = self.expr(node.operand)
        op = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}[type(node.op)]
        t = operand.type
        if t.is_int or (t.is_float and op != "~"):
            return ir.UnaryOp(t, loc, op, operand)
        raise self.error(f"bad operand type for unary {op}: '{t}'", node)

    def unify(
        self, what: str, left: ir.Expr, right: ir.Expr, node: ast.AST
    ) -> tuple[ir.Expr, ir.Expr, SpyType]:
        """Convert two operands to their common type, as SPy's operators pair them."""
        lt, rt = left.type, right.type
        if lt == rt:
            return left, right, lt
        if lt.is_numeric and rt.is_numeric:
            if lt.is_float or rt.is_float:
                t = F64 if F64 in (lt, rt) else F32
                return self.convert(left, t), self.convert(right, t), t
            # integers: a literal takes the other operand's type
            if is_literal(right) and not is_literal(left):
                return left, self.coerce(right, lt), lt
            if is_literal(left) and not is_literal(right):
                return self.coerce(left, rt), right, rt
            if widens(lt, rt):
                return self.convert(left, rt), right, rt
            if widens(rt, lt):
                return left, self.convert(right, lt), lt
        raise self.error(f"unsupported operand types for {what}: '{lt}' and '{rt}'", node)

    def binop(self, op: str, left: ir.Expr, right: ir.Expr, node: ast.AST) -> ir.Expr:
        loc = self.loc(node)
        lt, rt = left.type, right.type
        if lt.kind is Kind.STRUCT:
            return self.struct_method(lt, OPERATOR_METHODS[op], [left, right], node)
        if lt == STR and rt == STR and op == "+":
            return ir.StrConcat(STR, loc, left, right)
        if op == "*" and lt == STR and rt.is_int:
            return ir.RuntimeCall(STR, loc, STR_REPEAT, [left, self.convert(right, I64)])
        if op == "*" and lt.is_int and rt == STR:
            return ir.RuntimeCall(STR, loc, STR_RREPEAT, [self.convert(left, I64), right])
        if op in ("<<", ">>"):
            if not (lt.is_int and rt.is_int):
                raise self.error(f"unsupported operand types for {op}: '{lt}' and '{rt}'", node)
            return ir.BinOp(lt, loc, op, left, self.convert(right, I64))
        if op == "**" and lt.is_int and rt.is_int:
            return ir.BinOp(lt, loc, op, left, self.convert(right, I64))
        if lt == BOOL and rt == BOOL and op in ("&", "|", "^"):
            return ir.BinOp(BOOL, loc, op, left, right)
        if not (lt.is_numeric and rt.is_numeric):
            raise self.error(f"unsupported operand types for {op}: '{lt}' and '{rt}'", node)
        left, right, t = self.unify(op, left, right, node)
        if op in ("&", "|", "^") and not t.is_int:
            raise self.error(f"unsupported operand types for {op}: '{lt}' and '{rt}'", node)
        result = t
        if op == "/" and t.is_int:
            result = F64
        return ir.BinOp(result, loc, op, left, right)

    def compare(self, node: ast.Compare) -> ir.Expr:
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            return self.contains(node)
        operands = [self.expr(x, allow_object=True) for x in (node.left, *node.comparators)]
        if any(isinstance(o, ir.BlueRef) for o in operands) and len(node.ops) > 1:
            raise self.error("a chain of comparisons cannot compare types or functions", node)
        ops: list[str] = []
        for cmp in node.ops:
            op = COMPARE_OPS.get(type(cmp))
            if op is None:
                word = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
                raise self.error(
                    f"the '{word.get(type(cmp), '?')}' operator is not supported", node
                )
            ops.append(op)
        if len(ops) == 1:
            return self.compare_pair(ops[0], operands[0], operands[1], node)
        # a chain: bind operands used twice (and the first, to keep the order)
        first = operands[0]
        if is_simple(first):
            return self.chain(ops, operands, 0, first, node)
        ref = self.temp(first)
        return ir.Let(BOOL, first.loc, ref.name, first, self.chain(ops, operands, 0, ref, node))

    def chain(
        self, ops: list[str], operands: list[ir.Expr], i: int, left: ir.Expr, node: ast.Compare
    ) -> ir.Expr:
        right = operands[i + 1]
        if i + 1 == len(ops):
            return self.compare_pair(ops[i], left, right, node)
        if is_simple(right):
            link = self.compare_pair(ops[i], left, right, node)
            rest = self.chain(ops, operands, i + 1, right, node)
            return ir.BoolOp(BOOL, link.loc, "and", [link, rest])
        ref = self.temp(right)
        link = self.compare_pair(ops[i], left, ref, node)
        rest = self.chain(ops, operands, i + 1, ref, node)
        return ir.Let(
            BOOL, right.loc, ref.name, right, ir.BoolOp(BOOL, link.loc, "and", [link, rest])
        )

    def temp(self, value: ir.Expr) -> ir.LocalRef:
        self.temp_count += 1
        # '$' keeps temporaries apart from every Python identifier
        return ir.LocalRef(value.type, value.loc, f"$t{self.temp_count}")

    def compare_pair(self, op: str, left: ir.Expr, right: ir.Expr, node: ast.AST) -> ir.Expr:
        if isinstance(left, ir.BlueRef) or isinstance(right, ir.BlueRef):
            # types and other compile-time objects: by identity, at compile time
            if op not in ("==", "!="):
                raise self.error(f"'{op}' does not compare types or functions", node)
            for side in (left, right):
                if not isinstance(side, (ir.BlueRef, ir.Const)):
                    other = right if side is left else left
                    what = kind_of(other.obj) if isinstance(other, ir.BlueRef) else "a constant"
                    raise self.error(
                        f"cannot compare a run-time {side.type} with a {what}, which is known "
                        "only at compile time",
                        node,
                    )
            same = blue_identity(left) == blue_identity(right)
            return ir.Const(BOOL, self.loc(node), same == (op == "=="), literal=False)
        lt, rt = left.type, right.type
        if lt.kind is Kind.STRUCT:
            methods = self.m.struct_info(lt).methods
            if op == "!=" and "__ne__" not in methods and "__eq__" in methods:
                # as Python: `a != b` is `not a == b` when only __eq__ is defined
                equal = self.struct_method(lt, "__eq__", [left, right], node)
                return ir.Not(BOOL, self.loc(node), self.truth(equal, node))
            result = self.struct_method(lt, OPERATOR_METHODS[op], [left, right], node)
            return self.truth(result, node)
        if lt.kind is Kind.PTR or rt.kind is Kind.PTR:
            if lt != rt or op not in ("==", "!="):
                raise self.error(f"unsupported operand types for {op}: '{lt}' and '{rt}'", node)
            return ir.Compare(BOOL, self.loc(node), op, left, right)  # the same block?
        if lt == STR and rt == STR and op not in ("==", "!="):
            order = ir.RuntimeCall(I32, self.loc(node), STR_CMP, [left, right])
            return ir.Compare(BOOL, self.loc(node), op, order, ir.Const(I32, self.loc(node), 0))
        if lt in (STR, BOOL) or rt in (STR, BOOL):
            if lt != rt or (lt == STR and op not in ("==", "!=")):
                raise self.error(f"unsupported operand types for {op}: '{lt}' and '{rt}'", node)
        else:
            left, right, _ = self.unify(op, left, right, node)
        return ir.Compare(BOOL, self.loc(node), op, left, right)

    # ---- conversions --------------------------------------------------------

    def convert(self, e: ir.Expr, to: SpyType) -> ir.Expr:
        """An unconditional numeric conversion (the caller checked it is wanted)."""
        if e.type == to:
            return e
        if (
            isinstance(e, ir.Const)
            and isinstance(e.value, (int, float))
            and not isinstance(e.value, bool)
        ):
            if to.is_float:
                return ir.Const(to, e.loc, to.round_float(e.value))
            if to.is_int and isinstance(e.value, int) and to.fits(e.value):
                return ir.Const(to, e.loc, e.value)
        return ir.Convert(to, e.loc, e)

    def coerce(self, e: ir.Expr, to: SpyType) -> ir.Expr:
        """Implicit conversion where a value of type `to` is expected."""
        if e.type == to:
            return e
        if is_literal(e) and type(e.value) is int and to.is_int:
            if not to.fits(e.value):
                raise SpyCompileError(f"integer literal {e.value} is out of range for {to}", e.loc)
            return ir.Const(to, e.loc, e.value)
        if implicitly_converts(e.type, to):
            return self.convert(e, to)
        converted = self.user_conversion(e, to)
        if converted is not None:
            return converted
        raise SpyCompileError(f"mismatched types: expected {to}, got {e.type}", e.loc)

    def user_conversion(self, e: ir.Expr, to: SpyType) -> ir.Expr | None:
        """A struct's `__convert_to__` (of the value's type) or `__convert_from__`
        (of the expected type): metafunctions given the expected type, the
        value's type and the value; OpSpec.NULL means no."""
        from .blue import dispatch_metafunc  # blue.py builds on this module

        for owner, name in ((e.type, "__convert_to__"), (to, "__convert_from__")):
            if owner.kind is not Kind.STRUCT:
                continue
            method = self.m.struct_info(owner).methods.get(name)
            if method is None or method.blue is None:
                continue
            exp_t = ir.BlueRef(TYPE, e.loc, ir.TypeValue(to))
            got_t = ir.BlueRef(TYPE, e.loc, ir.TypeValue(e.type))
            converted = dispatch_metafunc(self, method.blue, [exp_t, got_t, e], e.loc)
            if converted is not None:
                return converted
        return None

    # ---- calls ------------------------------------------------------------------

    def call(self, node: ast.Call) -> ir.Expr:
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.error(f"{describe(a)} are not supported", a)
        f = node.func
        sym: Symbol | SpyType | None
        if isinstance(f, ast.Name):
            sym = self.lookup_local_or_global(f.id)
            if sym is None:
                return self.builtin_call(f.id, node)
            name = f.id
        elif (
            isinstance(f, ast.Attribute)
            and f.attr == "const"
            and self.special_named(f.value) == "OpSpec"
        ):
            return self.opspec_const(node)
        elif isinstance(f, ast.Attribute) and not self.names_module(f.value):
            return self.attribute_call(f, node)
        elif isinstance(f, ast.Subscript) and self.special_named(f.value) in (
            "gc_alloc",
            "raw_alloc",
        ):
            return self.gc_alloc(f, node)
        elif isinstance(f, ast.Attribute):
            sym = self.attribute_symbol(f)
            name = ast.unparse(f)
        else:
            callee = self.expr(f, allow_object=True)
            if not isinstance(callee, ir.BlueRef):
                raise self.error("only named functions can be called", f)
            sym, name = callee.obj, ast.unparse(f)
        if isinstance(sym, ir.Closure):
            sym = specialized(sym)
        if isinstance(sym, ir.BlueFunc) and sym.generic:
            raise self.error(f"'{name}' is @blue.generic: call it with [] first", node)
        if isinstance(sym, ir.BlueFunc) and sym.metafunc:
            from .blue import call_metafunc  # blue.py builds on this module

            return call_metafunc(self, sym, node)
        if isinstance(sym, ir.BlueFunc):
            from .blue import call_blue  # blue.py builds on this module

            return call_blue(self, sym, node)
        if isinstance(sym, SpecialForm):
            return self.special_call(sym, name, node)
        if isinstance(sym, ir.TypeValue):
            return self.construct(sym.type, name, node)
        if isinstance(sym, ir.FuncDecl):
            return self.call_func(sym, name, node)
        if isinstance(sym, ir.RuntimeFunc):
            names = [f"x{i}" for i in range(len(sym.params))]
            if node.keywords:
                raise self.error(f"{name}() takes no keyword arguments", node.keywords[0])
            args = self.bind_args(name, names, list(sym.params), node)
            return ir.RuntimeCall(sym.ret, self.loc(node), sym, args)
        what = f"a variable of type {sym}" if isinstance(sym, SpyType) else f"a {kind_of(sym)}"
        raise self.error(f"'{name}' is {what}, not a function", f)

    def call_func(
        self, func: ir.FuncDecl, name: str, node: ast.Call, bound: list[ir.Expr] | None = None
    ) -> ir.Expr:
        """A call of a red function; `bound` are the leading arguments already
        evaluated (a method's self)."""
        first = bound or []
        params = func.params[len(first) :]
        pnames = [p.name for p in params]
        defaults = [p.default for p in params]
        args = self.bind_args(name, pnames, [p.type for p in params], node, defaults)
        call = ir.Call(func.ret, self.loc(node), func, [*first, *args])
        if first:
            return call  # self is evaluated before the arguments, which bind in order
        return self.in_source_order(call, pnames, node)

    def names_module(self, node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Name)
            and self.blue_value_of(node.id) is None
            and node.id not in self.locals
            and isinstance(self.m.names.get(node.id), ModuleAlias)
        )

    def contains(self, node: ast.Compare) -> ir.Expr:
        """`v in c`: the container's `__contains__` (a method or a metafunction)."""
        value = self.expr(node.left)
        container = self.expr(node.comparators[0])
        t = container.type
        if t == STR:
            if value.type != STR:
                raise self.error(
                    f"TypeError: 'in <string>' requires string as left operand, not {value.type}",
                    node,
                )
            inside: ir.Expr = ir.RuntimeCall(BOOL, self.loc(node), STR_IN, [value, container])
            negate = isinstance(node.ops[0], ast.NotIn)
            return ir.Not(BOOL, self.loc(node), inside) if negate else inside
        if t.kind is not Kind.STRUCT:
            raise self.error(f"'in' is not supported for {t} yet", node)
        method = self.m.struct_info(t).methods.get("__contains__")
        if method is None:
            raise self.error(f"'{t}' has no method '__contains__'", node)
        if method.blue is not None:
            from .blue import dispatch_metafunc  # blue.py builds on this module

            found_by = dispatch_metafunc(self, method.blue, [container, value], self.loc(node))
            if found_by is None:
                raise self.error(f"TypeError: 'in' is not supported for {value.type} in {t}", node)
            result = found_by
        else:
            result = self.struct_method(t, "__contains__", [container, value], node)
        found = self.truth(result, node)
        return ir.Not(BOOL, self.loc(node), found) if isinstance(node.ops[0], ast.NotIn) else found

    def ord_chr(self, name: str, node: ast.Call) -> ir.Expr:
        if len(node.args) != 1 or node.keywords:
            raise self.error(f"{name}() takes exactly one argument", node)
        arg = self.expr(node.args[0])
        loc = self.loc(node)
        if (
            name == "ord"
            and arg.type.kind is Kind.STRUCT
            and "_ord" in self.m.struct_info(arg.type).methods
        ):
            return self.struct_method(arg.type, "_ord", [arg], node)  # ord(b"A"), a u8
        if name == "ord":
            if arg.type != STR:
                raise self.error(f"ord() expected string of length 1, but {arg.type} found", node)
            return ir.RuntimeCall(I32, loc, STR_ORD, [arg])
        if not arg.type.is_int:
            raise self.error(f"chr() needs an integer, not {arg.type}", node)
        return ir.RuntimeCall(STR, loc, STR_CHR, [self.convert(arg, I64)])

    def str_subscript(self, base: ir.Expr, index: ast.expr) -> ir.Expr:
        """`s[i]` (a one-character str) and `s[a:b:c]`, by code point."""
        loc = self.loc(index)
        if not isinstance(index, ast.Slice):
            return ir.RuntimeCall(STR, loc, STR_GETITEM, [base, self.coerce(self.expr(index), I64)])
        return ir.RuntimeCall(STR, loc, STR_SLICE, [base, *self.slice_args(index)])

    def getattr_(self, node: ast.Call) -> ir.Expr:
        """`getattr(x, name)` with a blue `name`: the attribute `x.<name>`."""
        if len(node.args) != 2 or node.keywords:
            raise self.error("getattr() takes an object and an attribute name", node)
        name = self.expr(node.args[1])
        try:
            attr = fold(name)
        except (NotConstant, ConstantPanic):
            raise self.error("getattr()'s attribute name must be blue", node.args[1]) from None
        if not isinstance(attr, str):
            raise self.error("getattr()'s attribute name must be a str", node.args[1])
        synthetic = ast.copy_location(
            ast.Attribute(value=node.args[0], attr=attr, ctx=ast.Load()), node
        )
        return self.blue_attribute(synthetic)

    def indices(self, node: ast.Subscript) -> list[ir.Expr]:
        """`x[i]` or `x[i, j]`: the index expressions, in order."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return [self.expr(i) for i in items]

    # ---- unsafe: gc_ptr ----------------------------------------------------------------

    def gc_alloc(self, f: ast.Subscript, node: ast.Call) -> ir.Expr:
        """`gc_alloc[T](n)`, or `raw_alloc[T](n)`: memory never freed."""
        name = self.special_named(f.value)
        assert name is not None
        item = self.resolve_type(f.slice, f"{name}'s item")
        t = self.m.ptr_type_of(item, f, name.removesuffix("_alloc"))
        if len(node.args) != 1 or node.keywords:
            raise self.error(f"{name}[T]() takes one argument, the number of items", node)
        count = self.coerce(self.expr(node.args[0]), I64)
        return ir.PtrAlloc(t, self.loc(node), count)

    def sizeof(self, node: ast.Call) -> ir.Expr:
        """`sizeof(T)`: blue where every target agrees, else the C compiler's."""
        if len(node.args) != 1 or node.keywords:
            raise self.error("sizeof() takes exactly one argument, a type", node)
        t = self.resolve_type(node.args[0], "sizeof's argument")
        if t.kind not in STORABLE_KINDS:
            raise self.error(f"sizeof({t}): it has no values in memory", node)
        sizes = {lo.size for _, lo in t.layouts}
        if len(sizes) == 1:
            return ir.Const(I32, self.loc(node), sizes.pop())
        return ir.SizeOf(I32, self.loc(node), t)

    def ptr_item(self, ptr: ir.Expr, index_node: ast.expr) -> ir.PtrItem:
        assert ptr.type.item is not None
        index = self.coerce(self.expr(index_node), I64)
        return ir.PtrItem(ptr.type.item, self.loc(index_node), ptr, index)

    def mem_op(self, name: str, node: ast.Call) -> ir.Expr:
        """ptr_setbytes/copy/move/cmp and their `_slice` forms, as the slice
        form: each block with its [start, end) in items."""
        op = name.removeprefix("ptr_").removesuffix("_slice")
        sliced = name.endswith("_slice")
        if node.keywords:
            raise self.error(f"{name}() takes no keyword arguments", node.keywords[0])
        shape = {
            ("setbytes", False): "p b n",
            ("setbytes", True): "p s e b",
            ("copy", False): "p p n",
            ("copy", True): "p s e p s e",
            ("cmp", False): "p p n",
            ("cmp", True): "p s e p s e",
        }[(op if op != "move" else "copy", sliced)].split()
        if len(node.args) != len(shape):
            raise self.error(f"{name}() takes {len(shape)} arguments", node)
        values: list[ir.Expr] = []
        item: SpyType | None = None
        for kind, arg in zip(shape, node.args, strict=True):
            v = self.expr(arg)
            if kind == "p":
                if v.type.kind is not Kind.PTR:
                    raise self.error(f"{name}() needs a gc_ptr here, not {v.type}", arg)
                if item is not None and v.type.item != item:
                    raise self.error(f"{name}(): pointers to different types", arg)
                item = v.type.item
                values.append(v)
            else:
                values.append(self.coerce(v, I32 if kind == "b" else I64))
        ret = I32 if op == "cmp" else NONE
        if op == "setbytes" and item is not None and holds_references(item):
            raise self.error(
                f"{name}() over memory holding {item}: the bytes would be no valid str or "
                "gc_ptr; assign the items instead",
                node,
            )
        if sliced or op == "setbytes":
            if not sliced:  # ptr_setbytes(p, byte, n) is the slice [0, n)
                p, byte, n = values
                values = [p, ir.Const(I64, n.loc, 0), n, byte]
            return ir.MemOp(ret, self.loc(node), op, values)
        # ptr_copy(dst, src, n): the slices [0, n) of both, n used twice, so
        # every argument is bound first, in order
        refs = [self.temp(v) for v in values]
        dst, src, n = refs
        zero = ir.Const(I64, n.loc, 0)
        result: ir.Expr = ir.MemOp(ret, self.loc(node), op, [dst, zero, n, src, zero, n])
        for ref, value in reversed(list(zip(refs, values, strict=True))):
            result = ir.Let(ret, value.loc, ref.name, value, result)
        return result

    # ---- structs ------------------------------------------------------------------

    def construct(self, t: SpyType, name: str, node: ast.Call) -> ir.Expr:
        """`T(...)`: a struct's `__new__`, else its fields in order; a scalar
        type converts."""
        if t.kind is not Kind.STRUCT:
            if t.name not in CAST_NAMES or t == NONE:
                raise self.error(f"'{name}' cannot be called", node)
            return self.builtin_call(t.name, node)
        info = self.m.struct_info(t)
        new = info.methods.get("__new__")
        if new is not None:
            return self.call_func(specialized(new.closure), name, node)
        return self.make(t, name, node)

    def make(self, t: SpyType, name: str, node: ast.Call) -> ir.Expr:
        """The struct of its fields' values (`T.__make__`, or `T(...)` with no `__new__`)."""
        pnames = [f.name for f in t.fields]
        args = self.bind_args(name, pnames, [f.type for f in t.fields], node)
        written = pnames[: len(node.args)] + [kw.arg for kw in node.keywords if kw.arg]
        if written != pnames and not all(is_simple(a) for a in args):
            raise self.error(
                "pass the fields in order: keyword arguments out of order that may have "
                "effects are not supported for structs yet",
                node,
            )
        return ir.StructNew(t, self.loc(node), args)

    def attribute_call(self, f: ast.Attribute, node: ast.Call) -> ir.Expr:
        """`value.method(...)`, `T.static(...)`, `T.__make__(...)`."""
        base = self.expr(f.value, allow_object=True)
        name = ast.unparse(f)
        if isinstance(base, ir.BlueRef):
            if not isinstance(base.obj, ir.TypeValue) or base.obj.type.kind is not Kind.STRUCT:
                raise self.error(f"'{name}' cannot be called", f)
            t = base.obj.type
            if f.attr == "__make__":
                return self.make(t, name, node)
            method = self.m.struct_info(t).methods.get(f.attr)
            if method is None or method.kind != STATIC:
                raise self.error(f"type {t} has no static method '{f.attr}'", f)
            return self.call_func(specialized(method.closure), name, node)
        t = base.type
        if t == STR:
            return self.str_method(base, f, node)
        if t.kind is not Kind.STRUCT:
            raise self.error(f"a value of type {t} has no method '{f.attr}'", f)
        method = self.m.struct_info(t).methods.get(f.attr)
        if method is None or method.kind == STATIC:
            raise self.error(f"'{t}' has no method '{f.attr}'", f)
        return self.call_func(specialized(method.closure), name, node, [base])

    def str_method(self, base: ir.Expr, f: ast.Attribute, node: ast.Call) -> ir.Expr:
        if f.attr in ("split", "join", "encode"):
            return self.str_list_method(base, f.attr, node)
        func = STR_METHODS.get(f.attr)
        if f.attr in STR_STRIP_CHARS and len(node.args) == 1:
            func = STR_STRIP_CHARS[f.attr]  # strip(chars)
        if func is None:
            raise self.error(f"'str' has no method '{f.attr}' yet", f)
        if node.keywords:
            raise self.error(f"str.{f.attr}() takes no keyword arguments", node.keywords[0])
        wanted = len(func.params) - 1
        if len(node.args) != wanted:
            raise self.error(
                f"str.{f.attr}() takes {wanted} argument{'s' if wanted != 1 else ''} "
                f"({len(node.args)} given)",
                node,
            )
        args = [self.coerce(self.expr(a), STR) for a in node.args]
        return ir.RuntimeCall(func.ret, self.loc(node), func, [base, *args])

    def str_list_method(self, base: ir.Expr, name: str, node: ast.Call) -> ir.Expr:
        """`s.split()`, `s.split(sep)` and `sep.join(parts)`: functions of the
        standard library (`_list.spy`), as they make or take a list[str]."""
        if node.keywords:
            raise self.error(f"str.{name}() takes no keyword arguments", node.keywords[0])
        most = 1
        if len(node.args) > most or (name == "join" and not node.args):
            raise self.error(
                f"str.{name}() takes {'exactly' if name == 'join' else 'at most'} one argument "
                f"({len(node.args)} given)",
                node,
            )
        helper = {"join": "str_join", "split": "str_split", "encode": "str_encode"}[name]
        if name == "split" and not node.args:
            helper = "str_split_whitespace"
        module = "_bytes" if name == "encode" else "_list"
        func = self.m.modules[module].names[helper]
        assert isinstance(func, ir.FuncDecl)
        given = list(node.args)
        if name == "encode" and not given:  # s.encode(): UTF-8
            given = [ast.copy_location(ast.Constant(value="utf-8"), node)]
        node = ast.copy_location(ast.Call(func=node.func, args=given, keywords=[]), node)
        args = [
            self.coerce(self.expr(a), p.type)
            for a, p in zip(node.args, func.params[1:], strict=True)
        ]
        return ir.Call(func.ret, self.loc(node), func, [base, *args])

    def struct_method(self, t: SpyType, dunder: str, args: list[ir.Expr], node: ast.AST) -> ir.Expr:
        """The call of a struct's method on `args` (self first): a red method,
        or the call a metafunction's OpSpec names."""
        method = self.m.struct_info(t).methods.get(dunder)
        if method is None or method.kind == STATIC:
            raise self.error(f"'{t}' has no method '{dunder}'", node)
        if method.blue is not None:
            from .blue import dispatch_metafunc  # blue.py builds on this module

            found = dispatch_metafunc(self, method.blue, args, self.loc(node))
            if found is None:
                types = ", ".join(str(a.type) for a in args[1:])
                raise self.error(f"'{t}.{dunder}' does not support ({types})", node)
            return found
        func = specialized(method.closure)
        if len(func.params) != len(args):
            raise self.error(f"{t}.{dunder}() takes {len(func.params)} arguments", node)
        coerced = [self.coerce(a, p.type) for a, p in zip(args, func.params, strict=True)]
        return ir.Call(func.ret, self.loc(node), func, coerced)

    def blue_text(self, value: ir.BlueRef, node: ast.expr) -> ir.Expr:
        """How SPy prints a type (`<spy type 'i32'>`); other blue objects have
        no run-time text."""
        if isinstance(value.obj, ir.TypeValue):
            return ir.Const(STR, value.loc, f"<spy type '{value.obj.type.name}'>", literal=False)
        if isinstance(value.obj, ir.BlueTuple):
            # SPy prints the object's address; ours is made from its contents,
            # so that a build gives the same bytes every time
            digest = hashlib.sha256(repr(blue_key(value)).encode()).hexdigest()[:8]
            text = f"<spy `__spy__::interp_tuple` object at 0x{digest}>"
            return ir.Const(STR, value.loc, text, literal=False)
        raise self.error(
            f"'{ast.unparse(node)}' is a {kind_of(value.obj)}, known only at compile time: "
            "it has no run-time value",
            node,
        )

    def text_of(self, e: ir.Expr, dunder: str, node: ast.AST) -> ir.Expr:
        """str() (`__str__`, falling back to `__repr__`) or repr() of a value."""
        t = e.type
        if t.kind is Kind.STRUCT:
            methods = self.m.struct_info(t).methods
            if dunder == "__str__" and "__str__" not in methods:
                dunder = "__repr__"
            if dunder not in methods:
                raise self.error(f"'{t}' has no {dunder}(): define one to print it", node)
            result = self.struct_method(t, dunder, [e], node)
            if result.type != STR:
                raise self.error(f"{t}.{dunder}() must return str, not {result.type}", node)
            return result
        if t == STR:
            return ir.RuntimeCall(STR, e.loc, STR_REPR, [e]) if dunder == "__repr__" else e
        return ir.StrOf(STR, e.loc, e)

    def bind_args(
        self,
        name: str,
        pnames: list[str],
        ptypes: list[SpyType],
        node: ast.Call,
        defaults: Sequence[ir.Const | None] = (),
    ) -> list[ir.Expr]:
        """Python's rules for positional and keyword arguments and defaults."""
        n = len(pnames)
        if len(node.args) > n:
            plural = "argument" if n == 1 else "arguments"
            raise self.error(
                f"{name}() takes {n} positional {plural} but {len(node.args)} were given", node
            )
        bound: dict[str, ast.expr] = dict(zip(pnames, node.args, strict=False))
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("'**' arguments are not supported", kw)
            if kw.arg not in pnames:
                raise self.error(f"{name}() got an unexpected keyword argument '{kw.arg}'", kw)
            if kw.arg in bound:
                raise self.error(f"{name}() got multiple values for argument '{kw.arg}'", kw)
            bound[kw.arg] = kw.value
        default_of = dict(zip(pnames, defaults, strict=False))
        missing = [p for p in pnames if p not in bound and default_of.get(p) is None]
        if missing:
            plural = "argument" if len(missing) == 1 else "arguments"
            listed = " and ".join(f"'{p}'" for p in missing)
            raise self.error(f"{name}() missing {len(missing)} required {plural}: {listed}", node)
        checked = {p: self.expr(bound[p]) for p in bound}  # in source order
        loc = self.loc(node)
        for p in pnames:
            default = default_of.get(p)
            if p not in checked and default is not None:
                checked[p] = relocated(default, loc)
        return [self.coerce(checked[p], t) for p, t in zip(pnames, ptypes, strict=True)]

    def in_source_order(self, call: ir.Call, pnames: list[str], node: ast.Call) -> ir.Expr:
        """Python evaluates arguments as written; keywords may list them in
        another order than the parameters, so bind such arguments first."""
        written = pnames[: len(node.args)] + [kw.arg for kw in node.keywords if kw.arg]
        if written == pnames or all(is_simple(a) for a in call.args):
            return call
        # parameters left to their defaults take the constant as it is
        refs: dict[str, ir.Expr] = {
            p: self.temp(a) if p in written else a for p, a in zip(pnames, call.args, strict=True)
        }
        result: ir.Expr = ir.Call(call.type, call.loc, call.func, [refs[p] for p in pnames])
        for p in reversed(written):
            value = call.args[pnames.index(p)]
            ref = refs[p]
            assert isinstance(ref, ir.LocalRef)
            result = ir.Let(call.type, call.loc, ref.name, value, result)
        return result

    def special_call(self, sym: SpecialForm, name: str, node: ast.Call) -> ir.Expr:
        if sym.name == "OpSpec":
            return self.opspec(node)
        if sym.name == "ptr_length":
            if len(node.args) != 1 or node.keywords:
                raise self.error("ptr_length() takes one argument", node)
            ptr = self.expr(node.args[0])
            if ptr.type.kind is not Kind.PTR:
                raise self.error(f"ptr_length() needs a gc_ptr, not {ptr.type}", node.args[0])
            return ir.PtrLength(I64, self.loc(node), ptr)
        if sym.name.startswith("ptr_"):
            return self.mem_op(sym.name, node)
        if sym.name in ("gc_alloc", "gc_ptr", "raw_alloc", "raw_ptr"):
            raise self.error(f"write {sym.name}[T](...) with the item type", node)
        if sym.name == "sizeof":
            return self.sizeof(node)
        if sym.name == "unchecked_get":
            return self.unchecked_item(node, name, 2)
        if sym.name == "unchecked_set":
            raise self.error("unchecked_set() is a statement of its own", node)
        assert sym.name == "COLOR"
        if len(node.args) != 1 or node.keywords:
            raise self.error(f"{name}() takes exactly one argument", node)
        value = self.expr(node.args[0], allow_none=True)
        try:
            fold(value)
            color = "blue"
        except NotConstant:
            color = "red"
        except ConstantPanic:
            color = "blue"  # known at compile time, to be an error at run time
        return ir.Const(STR, self.loc(node), color, literal=False)

    def opspec(self, node: ast.Call) -> ir.Expr:
        """`OpSpec(func)` or `OpSpec(func, [args...])`, in a metafunction."""
        if not 1 <= len(node.args) <= 2 or node.keywords:
            raise self.error("OpSpec() takes a function and optionally a list of arguments", node)
        func = self.expr(node.args[0], allow_object=True)
        if not (isinstance(func, ir.BlueRef) and isinstance(func.obj, (ir.FuncDecl, ir.Closure))):
            raise self.error("OpSpec() needs a red function", node.args[0])
        args = None
        if len(node.args) == 2:
            items = self.expr(node.args[1], allow_object=True)
            if not (isinstance(items, ir.BlueRef) and isinstance(items.obj, ir.BlueTuple)):
                raise self.error("OpSpec()'s arguments must be a list", node.args[1])
            args = items.obj.items
        return ir.BlueRef(BLUE_OBJECT, self.loc(node), ir.OpSpec(func, args))

    def opspec_const(self, node: ast.Call) -> ir.Expr:
        """`OpSpec.const(value)`: the operation is this blue value."""
        if len(node.args) != 1 or node.keywords:
            raise self.error("OpSpec.const() takes one value", node)
        value = self.expr(node.args[0])
        if not isinstance(value, ir.Const):
            raise self.error("OpSpec.const() needs a value known at compile time", node.args[0])
        return ir.BlueRef(BLUE_OBJECT, self.loc(node), ir.OpSpec(const=value))

    def abs_(self, arg: ir.Expr, node: ast.Call) -> ir.Expr:
        """abs(): integers wrap as negation does (abs of the minimum is itself)."""
        loc = self.loc(node)
        t = arg.type
        if t.is_float:
            fabs = STD_FUNCS["math"]["fabs"]
            return self.convert(ir.RuntimeCall(F64, loc, fabs, [self.convert(arg, F64)]), t)
        if not t.is_int:
            raise self.error(f"bad operand type for abs(): '{t}'", node.args[0])
        if not t.signed:
            return arg
        ref = self.temp(arg)
        negative = ir.Compare(BOOL, loc, "<", ref, ir.Const(t, loc, 0))
        flipped = ir.CondExpr(t, loc, negative, ir.UnaryOp(t, loc, "-", ref), ref)
        return ir.Let(t, loc, ref.name, arg, flipped)

    def hash_(self, node: ast.Call) -> ir.Expr:
        """hash(x), an i64: equal values hash equal, across numeric types too."""
        if len(node.args) != 1 or node.keywords:
            raise self.error("hash() takes exactly one argument", node)
        arg = self.expr(node.args[0])
        loc = self.loc(node)
        t = arg.type
        if t.kind is Kind.STRUCT:
            if "__hash__" not in self.m.struct_info(t).methods:
                raise self.error(f"unhashable type: '{t}' (it has no __hash__)", node.args[0])
            return self.coerce(self.struct_method(t, "__hash__", [arg], node), I64)
        if t == STR:
            return ir.RuntimeCall(I64, loc, STR_HASH, [arg])
        if t.is_float:
            return ir.RuntimeCall(I64, loc, F64_HASH, [self.convert(arg, F64)])
        if t.is_int or t == BOOL:
            return self.convert(arg, I64)
        raise self.error(f"unhashable type: '{t}'", node.args[0])

    def builtin_call(self, name: str, node: ast.Call) -> ir.Expr:
        loc = self.loc(node)
        if name == "print":
            raise self.error("print() returns None: call it as a statement", node)
        if name == "range":
            raise self.error("range() is only supported in 'for NAME in range(...)'", node)
        if name in BUILTIN_EXCEPTIONS:
            raise self.error(f"{name} can only be raised ('raise {name}(...)')", node)
        if name == "getattr":
            return self.getattr_(node)
        if name in ("ord", "chr"):
            return self.ord_chr(name, node)
        if name == "hash":
            return self.hash_(node)
        if name not in CAST_NAMES and name not in ("len", "str", "abs", "repr"):
            raise self.error(f"name '{name}' is not defined", node.func)
        if node.keywords:
            raise self.error(f"{name}() takes no keyword arguments", node.keywords[0])
        if len(node.args) != 1:
            raise self.error(f"{name}() takes exactly one argument ({len(node.args)} given)", node)
        arg = self.expr(node.args[0], allow_object=name in ("len", "str", "repr"))
        if isinstance(arg, ir.BlueRef) and name in ("str", "repr"):
            return self.blue_text(arg, node.args[0])
        if isinstance(arg, ir.BlueRef):
            if not isinstance(arg.obj, ir.BlueTuple):
                raise self.error(f"object of type {kind_of(arg.obj)} has no len()", node.args[0])
            return ir.Const(I32, loc, len(arg.obj.items), literal=False)
        if name == "abs":
            return self.abs_(arg, node)
        if name == "len" and arg.type.kind is Kind.STRUCT:
            return self.struct_method(arg.type, "__len__", [arg], node)
        if name == "len":
            if arg.type != STR:
                raise self.error(f"object of type {arg.type} has no len()", node.args[0])
            return ir.StrLen(I32, loc, arg)
        if name == "str":
            return self.text_of(arg, "__str__", node)
        if name == "repr":
            return self.text_of(arg, "__repr__", node)
        to = CAST_NAMES[name]
        if to == BOOL:
            return self.truth(arg, node.args[0])
        if arg.type == STR:
            return ir.ParseStr(to, loc, arg)
        if not (arg.type.is_numeric or arg.type == BOOL):
            raise self.error(f"cannot convert {arg.type} to {to}", node.args[0])
        if isinstance(arg, ir.Const) and type(arg.value) is int and to.is_int:
            return ir.Const(to, loc, to.wrap(arg.value))  # an explicit cast wraps
        return self.convert(arg, to) if arg.type != to else arg


def target_names(target: ast.expr) -> set[str]:
    """The names an assignment target binds (`a` and `b` of `(a, [b])`)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(target_names(e) for e in target.elts))
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return set()


def auto_const_names(func: ast.FunctionDef) -> set[str]:
    """The locals SPy makes const (spy/analyze/scope.py): assigned once, and not
    in a loop. We also leave out those assigned inside an `if` (SPy would make
    them blue however the test goes) and the targets of `global`. Such a
    local is blue when its value is known at compile time."""
    counts: dict[str, int] = {}
    excluded: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    counts[target.id] = counts.get(target.id, 0) + 1
                else:  # `a, b = ...` assigns each name as well
                    excluded.update(target_names(target))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            counts[node.target.id] = counts.get(node.target.id, 0) + 1
        elif isinstance(node, (ast.AugAssign, ast.For, ast.NamedExpr)):
            excluded.update(target_names(node.target))
        elif isinstance(node, ast.Global):
            excluded.update(node.names)
    top = set()
    for stmt in func.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target = stmt.target
        else:
            continue
        if isinstance(target, ast.Name):
            top.add(target.id)
    return {name for name in top if counts.get(name) == 1} - excluded


def is_literal(e: ir.Expr) -> TypeGuard[ir.Const]:
    return isinstance(e, ir.Const) and e.literal


def is_simple(e: ir.Expr) -> bool:
    """Evaluating it twice costs nothing and has no effect (a blue value, such
    as `[]` before its conversion, is not evaluated at all)."""
    return isinstance(e, (ir.Const, ir.LocalRef, ir.GlobalRef, ir.BlueRef))


def generic_sugar(node: ast.FunctionDef | ast.ClassDef, type_params: list[str]) -> ast.FunctionDef:
    """`def f[T, x](...)` as what it stands for: `@blue.generic def f(T, x):`
    with the function inside, returned; `class C[T]` the same with the class
    inside, named `Self` as SPy names it."""
    name = node.name
    if isinstance(node, ast.ClassDef):
        node.name = "Self"
    args = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=name) for name in type_params],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    returned = ast.Name(id=node.name, ctx=ast.Load())
    ret = ast.Return(value=returned)
    fields: dict[str, Any] = {}
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12+
        fields["type_params"] = []
    outer = ast.FunctionDef(
        name=name, args=args, body=[node, ret], decorator_list=[], returns=None, **fields
    )
    new_nodes: list[ast.AST] = [outer, args, *args.args, ret, returned]
    for new in new_nodes:
        ast.copy_location(new, node)
    return outer


# libspy's repr() of a str
STR_REPR = ir.RuntimeFunc("builtins", "repr", "spy_str_repr", (STR,), STR, True)
# libspy's str operations (strops.c), with Python's results
STR_GETITEM = ir.RuntimeFunc(
    "builtins", "str.__getitem__", "spy_str_getitem", (STR, I64), STR, True
)
STR_SLICE = ir.RuntimeFunc(
    "builtins", "str.__getitem__", "spy_str_slice", (STR, I64, I64, I64, BOOL, BOOL), STR, True
)
STR_HASH = ir.RuntimeFunc("builtins", "str.__hash__", "spy_str_hash", (STR,), I64, False)
F64_HASH = ir.RuntimeFunc("builtins", "float.__hash__", "spy_f64_hash", (F64,), I64, False)
STR_IN = ir.RuntimeFunc("builtins", "str.__contains__", "spy_str_in", (STR, STR), BOOL, False)
STR_REPEAT = ir.RuntimeFunc("builtins", "str.__mul__", "spy_str_repeat", (STR, I64), STR, True)
STR_RREPEAT = ir.RuntimeFunc("builtins", "str.__rmul__", "spy_str_rrepeat", (I64, STR), STR, True)
STR_CMP = ir.RuntimeFunc("builtins", "str.__lt__", "spy_str_cmp", (STR, STR), I32, False)
STR_ORD = ir.RuntimeFunc("builtins", "ord", "spy_str_ord", (STR,), I32, True)
STR_CHR = ir.RuntimeFunc("builtins", "chr", "spy_str_chr", (I64,), STR, True)
# `for ch in s` walks the bytes: the character at a byte offset, and its width
STR_NBYTES = ir.RuntimeFunc("builtins", "str.__iter__", "spy_str_nbytes", (STR,), I64, False)
STR_CHAR_AT = ir.RuntimeFunc("builtins", "str.__iter__", "spy_str_char_at", (STR, I64), STR, False)
STR_CHAR_WIDTH = ir.RuntimeFunc(
    "builtins", "str.__iter__", "spy_str_char_width", (STR, I64), I64, False
)
# str's methods: the str itself first, then the arguments, positional only
STR_METHODS = {
    f.name.removeprefix("str."): f
    for f in (
        ir.RuntimeFunc("builtins", "str.startswith", "spy_str_startswith", (STR, STR), BOOL, False),
        ir.RuntimeFunc("builtins", "str.endswith", "spy_str_endswith", (STR, STR), BOOL, False),
        ir.RuntimeFunc("builtins", "str.find", "spy_str_find", (STR, STR), I32, False),
        ir.RuntimeFunc("builtins", "str.index", "spy_str_index", (STR, STR), I32, True),
        ir.RuntimeFunc("builtins", "str.count", "spy_str_count", (STR, STR), I32, False),
        ir.RuntimeFunc("builtins", "str.replace", "spy_str_replace", (STR, STR, STR), STR, True),
        ir.RuntimeFunc("builtins", "str.strip", "spy_str_strip", (STR,), STR, False),
        ir.RuntimeFunc("builtins", "str.lstrip", "spy_str_lstrip", (STR,), STR, False),
        ir.RuntimeFunc("builtins", "str.rstrip", "spy_str_rstrip", (STR,), STR, False),
        ir.RuntimeFunc("builtins", "str.isspace", "spy_str_isspace", (STR,), BOOL, False),
        ir.RuntimeFunc("builtins", "str.upper", "spy_str_upper", (STR,), STR, True),
        ir.RuntimeFunc("builtins", "str.lower", "spy_str_lower", (STR,), STR, True),
        ir.RuntimeFunc("builtins", "str.isascii", "spy_str_isascii", (STR,), BOOL, False),
        ir.RuntimeFunc("builtins", "str.isalpha", "spy_str_isalpha", (STR,), BOOL, False),
        ir.RuntimeFunc("builtins", "str.isdigit", "spy_str_isdigit", (STR,), BOOL, False),
    )
}


STR_STRIP_CHARS = {
    name: ir.RuntimeFunc("builtins", f"str.{name}", f"spy_str_{name}_chars", (STR, STR), STR, False)
    for name in ("strip", "lstrip", "rstrip")
}


def type_names(t: SpyType, m: ModuleChecker) -> dict[str, str]:
    """A type's `__name__`, `__qualname__`, `__fqn__` and `__full_fqn__`, as SPy gives them."""
    if t.kind is not Kind.STRUCT:
        fqn = f"builtins::{t.name}"
        return {"__name__": t.name, "__qualname__": fqn, "__fqn__": fqn, "__full_fqn__": fqn}
    full = m.struct_info(t).full_fqn
    return {"__name__": t.name, "__qualname__": t.fqn, "__fqn__": t.fqn, "__full_fqn__": full}


def relocated(value: ir.Const | ir.BlueRef, loc: Loc) -> ir.Const | ir.BlueRef:
    """A blue value as it appears at `loc`."""
    if isinstance(value, ir.Const):
        return ir.Const(value.type, loc, value.value, literal=False)
    return ir.BlueRef(value.type, loc, value.obj)


_KIND_NAMES: tuple[tuple[type, str], ...] = (
    (ir.Closure, "function"),
    (ir.FuncDecl, "function"),
    (ir.RuntimeFunc, "function"),
    (ir.TypeValue, "type"),
    (ir.MetaArg, "metafunction argument"),
    (ir.OpSpec, "OpSpec"),
    (ir.BlueTuple, "tuple"),
    (ir.StructValue, "struct instance made at compile time"),
    (ModuleAlias, "module"),
)


def kind_of(sym: object) -> str:
    """What a name stands for, as error messages say it."""
    if isinstance(sym, ir.BlueFunc):
        return "blue generic function" if sym.generic else "blue function"
    return next((name for cls, name in _KIND_NAMES if isinstance(sym, cls)), "name")


def always_exits(stmts: list[ir.Stmt]) -> bool:
    """True when control cannot fall off the end of `stmts`."""
    for s in stmts:
        if isinstance(s, (ir.Return, ir.Raise)):
            return True
        if isinstance(s, ir.If) and always_exits(s.body) and always_exits(s.orelse):
            return True
        if (
            isinstance(s, ir.While)
            and isinstance(s.test, ir.Const)
            and s.test.value is True
            and not contains_break(s.body)
        ):
            return True
    return False


def contains_break(stmts: list[ir.Stmt]) -> bool:
    """A `break` that leaves this loop (not one of a nested loop)."""
    for s in stmts:
        if isinstance(s, ir.Break):
            return True
        if isinstance(s, ir.If) and (contains_break(s.body) or contains_break(s.orelse)):
            return True
    return False
