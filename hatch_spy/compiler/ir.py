"""Typed IR: what the checker produces and the C backend consumes.

Every expression carries its SpyType; every implicit conversion is explicit
here (a `Convert` node), so the backend never has to reason about types.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import Loc
from .types import SpyType

# ---- declarations ---------------------------------------------------------


@dataclass
class GlobalVar:
    module: str
    name: str
    type: SpyType
    mutable: bool  # `var` global; else const
    value: ConstValue  # folded initializer (unused when run_init)
    loc: Loc
    # a `var` global whose initial value is made at run time (a list, a
    # dict, an array): zero until its module's init function runs, at load
    run_init: bool = False


@dataclass
class Param:
    name: str
    type: SpyType
    default: Const | None = None  # a blue value, put in where a call leaves it out


@dataclass
class FuncDecl:
    module: str
    name: str
    params: list[Param]
    ret: SpyType
    loc: Loc
    locals: dict[str, SpyType] = field(default_factory=dict)
    body: list[Stmt] = field(default_factory=list)
    # False for what blue code made (a closure's specialization) and for the
    # undecorated function under a decorator: not part of the module's API
    exported: bool = True
    force_inline: bool = False  # `@force_inline`: inlined into every caller

    @property
    def is_public(self) -> bool:
        return self.exported and not self.name.startswith("_")


@dataclass(frozen=True)
class RuntimeFunc:
    """A function of SPy's standard modules, implemented in libspy."""

    module: str
    name: str
    c_name: str
    params: tuple[SpyType, ...]
    ret: SpyType
    takes_loc: bool  # passes file and line, because it can panic


# a str Const may hold `bytes`: the bytes of a bytes literal (`_bytes.spy`)
ConstValue = int | float | bool | str | bytes | None


@dataclass(frozen=True)
class TypeValue:
    """A type used as a value (`make[i32]`, `T = m.static_type`)."""

    type: SpyType


@dataclass(eq=False)
class Closure:
    """A function defined in blue code (a decorator's wrapper, a generic's
    body): its `def` and the blue values it sees. Calling it from red code
    compiles it for those values (ModuleChecker.specialize)."""

    node: ast.FunctionDef
    env: dict[str, Const | BlueRef]
    owner: object  # the ModuleChecker of the module that defines it
    qualname: str  # `outer.inner`, or `generic[args]` for a generic's body
    self_type: SpyType | None = None  # a method's struct: its `self` needs no annotation
    force_inline: bool = False  # made by `@force_inline def` in blue code


@dataclass(frozen=True)
class EmptyCollection:
    """`[]` or `{}`: a value of EmptyListType (EmptyDictType) until the list
    (dict) type expected where it is used converts it."""

    kind: str  # "list" or "dict"


@dataclass(eq=False)
class BlueFunc:
    """A `@blue` function: run by the compiler (blue.py) when called, never
    compiled to C. Its parameters and return may be annotated or not."""

    module: str
    name: str
    node: ast.FunctionDef
    loc: Loc
    owner: object  # the ModuleChecker of its module, for names and errors
    generic: bool = False  # `@blue.generic`: called with [] instead of ()
    # `@blue.metafunc`: called with what the compiler knows of each argument
    # (MetaArg), returns an OpSpec naming what to call at run time
    metafunc: bool = False
    # the blue values it sees, when blue code defined it (live: it may call
    # itself, or functions defined after it in the same frame)
    env: Mapping[str, Const | BlueRef] = field(default_factory=dict)


@dataclass(frozen=True)
class MetaArg:
    """What a metafunction sees of one argument: `m.static_type`, `m.color`,
    and `m.blueval` when the argument is blue."""

    static_type: SpyType
    blueval: Const | BlueRef | None
    index: int  # which argument of the call it stands for


@dataclass(frozen=True)
class OpSpec:
    """A metafunction's answer: call `func` (with the call's arguments, or
    with `args`), or the constant `const`, or nothing matched (`null`)."""

    func: BlueRef | None = None
    args: tuple[Const | BlueRef, ...] | None = None
    const: Const | None = None

    @property
    def null(self) -> bool:
        return self.func is None and self.const is None


@dataclass(eq=False)
class BlueDict:
    """A dict of blue values, built by blue code (`__extra_fields__`)."""

    items: dict[object, tuple[Const | BlueRef, Const | BlueRef]] = field(default_factory=dict)


@dataclass(frozen=True)
class BlueTuple:
    """A tuple of blue values (a variadic metafunction's arguments)."""

    items: tuple[Const | BlueRef, ...]


@dataclass(eq=False)
class StructValue:
    """A struct instance made by blue code (`Ann()` in a generic's body): a
    blue value, whose properties blue code computes."""

    type: SpyType
    fields: tuple[Const | BlueRef, ...]


BlueObject = (
    FuncDecl
    | BlueFunc
    | Closure
    | TypeValue
    | MetaArg
    | OpSpec
    | BlueTuple
    | BlueDict
    | StructValue
    | EmptyCollection
)

# ---- expressions ----------------------------------------------------------


@dataclass
class Expr:
    type: SpyType
    loc: Loc


@dataclass
class Const(Expr):
    value: ConstValue
    # a literal adapts its integer type to the other operand (`x + 1` with x
    # an i8 is i8); a blue value (a const local, a blue call's result) keeps its own
    literal: bool = True


@dataclass
class BlueRef(Expr):
    """A blue value that is not a scalar (a function, a type): it exists at
    compile time only, so red code may call it but never hold it."""

    obj: BlueObject


@dataclass
class StructNew(Expr):
    """A struct value from its fields' values, in field order."""

    args: list[Expr]


@dataclass
class PtrAlloc(Expr):
    """`gc_alloc[T](count)` (or `raw_alloc`, by the type's memory kind):
    zeroed memory for `count` items."""

    count: Expr


@dataclass
class PtrLength(Expr):
    """`ptr_length(p)`: how many items the block of gc_ptr `p` has (an i64)."""

    ptr: Expr


@dataclass
class SizeOf(Expr):
    """`sizeof(T)` where it differs between targets (pointers, str): the C
    compiler's answer, an i32."""

    of: SpyType


@dataclass
class PtrItem(Expr):
    """`p[index]`, checked against the pointer's length (an lvalue)."""

    ptr: Expr
    index: Expr
    checked: bool = True  # False: __spy__.unchecked_get/_set (the index is known good)


@dataclass
class MemOp(Expr):
    """One of unsafe's memory functions, in its slice form: `op` is setbytes,
    copy, move or cmp; `args` as the `_slice` variant takes them."""

    op: str
    args: list[Expr]


@dataclass
class FieldGet(Expr):
    value: Expr  # a struct value
    name: str


@dataclass
class LocalRef(Expr):
    name: str


@dataclass
class GlobalRef(Expr):
    var: GlobalVar


@dataclass
class Call(Expr):
    func: FuncDecl
    args: list[Expr]


@dataclass
class RuntimeCall(Expr):
    func: RuntimeFunc
    args: list[Expr]


@dataclass
class BinOp(Expr):
    """Arithmetic on operands already converted to a common type."""

    op: str  # + - * / // % ** << >> & | ^
    left: Expr
    right: Expr


@dataclass
class UnaryOp(Expr):
    op: str  # - + ~
    operand: Expr


@dataclass
class Not(Expr):
    operand: Expr  # a bool


@dataclass
class Compare(Expr):
    """One comparison; both operands have the same type. Chains become
    `and` of links, with `Let` evaluating each middle operand once."""

    op: str
    left: Expr
    right: Expr


@dataclass
class Let(Expr):
    """Evaluate `value` once into the temporary `name`, then `body`."""

    name: str
    value: Expr
    body: Expr


@dataclass
class BoolOp(Expr):
    op: str  # "and" | "or"
    values: list[Expr]


@dataclass
class CondExpr(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@dataclass
class Convert(Expr):
    """A numeric conversion: implicit (checked by the table) or a cast."""

    value: Expr


@dataclass
class Truth(Expr):
    """bool(x): nonzero number, non-empty str."""

    value: Expr


@dataclass
class StrOf(Expr):
    value: Expr


@dataclass
class StrConcat(Expr):
    left: Expr
    right: Expr


@dataclass
class StrLen(Expr):
    value: Expr


@dataclass
class ParseStr(Expr):
    """i32("42"), f64("1.5"): Python's int()/float() parsing."""

    value: Expr


# ---- statements -----------------------------------------------------------


@dataclass
class Stmt:
    loc: Loc


@dataclass
class Assign(Stmt):
    target: LocalRef | GlobalRef | PtrItem | FieldGet  # the last two through a pointer
    value: Expr


@dataclass
class ExprStmt(Stmt):
    value: Expr


@dataclass
class If(Stmt):
    test: Expr
    body: list[Stmt]
    orelse: list[Stmt]


@dataclass
class While(Stmt):
    test: Expr
    body: list[Stmt]


@dataclass
class ForRange(Stmt):
    var: LocalRef
    start: Expr
    stop: Expr
    step: Expr | None  # None: the step is 1
    body: list[Stmt]


@dataclass
class Break(Stmt):
    pass


@dataclass
class Continue(Stmt):
    pass


@dataclass
class Return(Stmt):
    value: Expr | None


@dataclass
class Raise(Stmt):
    kind: str
    message: Expr | None


@dataclass
class Assert(Stmt):
    test: Expr
    message: Expr | None


@dataclass
class Print(Stmt):
    args: list[Expr]


# ---- modules --------------------------------------------------------------


@dataclass
class ModuleIR:
    name: str  # dotted
    filename: str  # as shown in messages and panics
    globals: dict[str, GlobalVar] = field(default_factory=dict)
    funcs: dict[str, FuncDecl] = field(default_factory=dict)
    # struct types it defines, each after the structs its fields hold
    structs: list[SpyType] = field(default_factory=list)
    # gc_ptr types it is the first to use
    ptr_types: list[SpyType] = field(default_factory=list)
    # the methods of its containers that the Python boundary calls, by
    # (container fqn, method name): made for every container a public
    # signature reaches (compiler.prepare_boundary)
    boundary_methods: dict[tuple[str, str], FuncDecl] = field(default_factory=dict)
    # what gives the run_init globals their values, in source order (run
    # once when the module loads, after the modules it imports)
    init: FuncDecl | None = None
