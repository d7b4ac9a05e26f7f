"""C backend: typed IR -> one C translation unit.

All modules of a program go into one unit so that the C compiler can inline
across them. The output includes only `spy.h` from libspy.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import ir
from .effects import (
    Effects,
    FuncKey,
    all_stmts,
    allocates_in,
    analyze,
    children,
    has_loop,
    may_collect,
    stmt_exprs,
)
from .errors import Loc
from .linking import STATIC, Linking
from .types import BOOL, NONE, STR, Kind, SpyType, holds_references, ptr_memkind, structs_reached

_SAFE = re.compile(r"[A-Za-z0-9_]")
_PLAIN = re.compile(r"[A-Za-z0-9_]+\Z")

# C names must be one-to-one with what they name, or two SPy names become one
# C symbol. The only C identifier character that no piece keeps is `$`, so it
# starts every token that is not a plain character, and the token's second
# character says which it is:
#   `$` + piece        a separator: module components, then module and name
#   `$$` + hex + `$`   one unusual character (code point in lowercase hex)
#   `$$` + a word      a variant of a function (`$$r1`, `$$export`): never
#                      hex digits closed by `$`, so never a character
# Pieces are never empty, so reading left to right finds one way only.


def mangle(name: str) -> str:
    """One piece of a C name (an identifier or a module component)."""
    assert name, "empty name piece"
    if _PLAIN.match(name):
        return name
    return "".join(c if _SAFE.match(c) else f"$${ord(c):x}$" for c in name)


def mangle_module(module: str) -> str:
    return "$".join(mangle(part) for part in module.split("."))


def c_func_name(module: str, name: str) -> str:
    return f"spy_{mangle_module(module)}${mangle(name)}"


def c_global_name(var: ir.GlobalVar) -> str:
    return f"spyg_{mangle_module(var.module)}${mangle(var.name)}"


def c_local_name(name: str) -> str:
    return f"v_{mangle(name)}"


def c_field_name(name: str) -> str:
    return f"f_{mangle(name)}"


def array_walk_c(value: str, ndim: int) -> list[str]:
    """C declaring the view of array struct `*value` of `ndim` dimensions
    (the standard library's array module): `shape` and `strides` (in items,
    3 each: 1 and 0 past ndim) and `first`, the address of item [0, 0, 0]
    (as `const char *`)."""
    sizes = ", ".join(f"{value}->{c_field_name(f'n{i}')}" if i < ndim else "1" for i in range(3))
    steps = ", ".join(f"{value}->{c_field_name(f's{i}')}" if i < ndim else "0" for i in range(3))
    first = f"{value}->{c_field_name('items')}.p + {value}->{c_field_name('offset')}"
    return [
        f"int32_t shape[3] = {{{sizes}}};",
        f"int32_t strides[3] = {{{steps}}};",
        f"const char *first = (const char *)({first});",
    ]


def ptr_definition(t: SpyType) -> str:
    assert t.item is not None
    return f"typedef struct {{ {c_type(t.item)} *p; size_t length; }} {t.c_name};"


def c_struct(tag: str, fields: list[str]) -> str:
    """`struct tag { fields }`; C has no empty structs, so one gets a placeholder."""
    body = "\n".join(f"    {f};" for f in fields or ["char unused"])
    return f"struct {tag} {{\n{body}\n}};"


def struct_definition(t: SpyType) -> str:
    return c_struct(t.c_name, [f"{c_type(f.type)} {c_field_name(f.name)}" for f in t.fields])


def c_string_literal(data: bytes) -> str:
    out = []
    for b in data:
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")  # octal: never swallows a following digit
    return '"' + "".join(out) + '"'


def c_int_literal(value: int, t: SpyType) -> str:
    if t.signed and value == t.min_value:
        return f"(({t.c_name})(-{t.max_value}{'LL' if t.bits == 64 else ''} - 1))"
    suffix = {(64, True): "LL", (64, False): "ULL", (32, False): "U"}.get((t.bits, t.signed), "")
    return f"(({t.c_name}){value}{suffix})"


def c_float_literal(value: float, t: SpyType) -> str:
    if math.isnan(value):
        text = '__builtin_nan("")'
    elif math.isinf(value):
        text = "__builtin_inf()" if value > 0 else "(-__builtin_inf())"
    else:
        text = value.hex()  # exact, as C99 hex float
    return f"(({t.c_name}){text})"


@dataclass
class Output:
    """The C unit being written, with its literal and file-name tables."""

    literals: dict[str | bytes, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def literal(self, value: str | bytes) -> str:
        name = self.literals.get(value)
        if name is None:
            name = self.literals[value] = f"spy_lit_{len(self.literals)}"
        return f"(&{name})"

    def file(self, filename: str) -> str:
        name = self.files.get(filename)
        if name is None:
            name = self.files[filename] = f"spy_file_{len(self.files)}"
        return name

    def tables(self) -> Iterator[str]:
        for filename, name in self.files.items():
            yield f"static const char {name}[] = {c_string_literal(filename.encode())};"
        for value, name in self.literals.items():
            # the bytes of a bytes literal are counted as bytes
            data = value if isinstance(value, bytes) else value.encode("utf-8")
            yield (
                f"static const spy_Str {name} = SPY_STR_LITERAL({len(data)}, {len(value)}, "
                f"{c_string_literal(data)});"
            )


def const_expr(value: ir.ConstValue, t: SpyType, out: Output) -> str:
    if t == STR:
        assert isinstance(value, (str, bytes))
        return out.literal(value)
    if t == BOOL:
        return "true" if value else "false"
    if t.is_int:
        assert isinstance(value, int)
        return c_int_literal(value, t)
    if t.is_float:
        assert isinstance(value, (int, float))
        return c_float_literal(float(value), t)
    if t.kind is Kind.PTR and value is None:
        return f"(({t.c_name}){{0}})"  # NULL
    raise AssertionError(f"no C constant of type {t}")


def may_have_effects(e: ir.Expr) -> bool:
    """Could evaluating `e` print, panic or call? Such operands are evaluated
    into temporaries left to right, since C leaves operand order open."""
    if isinstance(e, (ir.Call, ir.RuntimeCall, ir.ParseStr, ir.Let)):
        return True
    if isinstance(e, ir.BinOp):
        return e.op in ("/", "//", "%", "**", "<<", ">>") or any(
            may_have_effects(x) for x in (e.left, e.right)
        )
    return any(may_have_effects(x) for x in children(e))


def heap_leaves(t: SpyType, lvalue: str) -> tuple[list[str], list[str]]:
    """The C lvalues of the references a value of type `t` at `lvalue` holds
    (what the collector must see; spy.h "Collecting temporaries"): its strs
    (itself, or a struct's str fields, nested structs' too) and its blocks
    (a gc_ptr's `p`)."""
    if t == STR:
        return [lvalue], []
    if t.kind is Kind.PTR:
        return [], [f"{lvalue}.p"]
    strs: list[str] = []
    ptrs: list[str] = []
    for f in t.fields:
        a, b = heap_leaves(f.type, f"{lvalue}.{c_field_name(f.name)}")
        strs += a
        ptrs += b
    return strs, ptrs


def ptr_map_name(t: SpyType) -> str:
    """The spy_PtrMap of gc_ptr type `t`'s items (cgen emits one per gc_ptr
    type whose items hold references)."""
    return f"{t.c_name}$map"


def ptr_map_definition(t: SpyType) -> list[str]:
    assert t.item is not None
    item = c_type(t.item)
    if t.item.kind in (Kind.STR, Kind.PTR):
        members = ["0"]
    else:
        strs, ptrs = heap_leaves(t.item, "")
        members = [f"offsetof({item}, {m.removeprefix('.')})" for m in (*strs, *ptrs)]
    strs, ptrs = heap_leaves(t.item, "x")
    name = ptr_map_name(t)
    return [
        f"static const uint32_t {name}$offsets[] = {{{', '.join(members)}}};",
        f"static const spy_PtrMap {name} = {{{len(strs)}, {len(ptrs)}, {name}$offsets}};",
    ]


def rooted(e: ir.Expr) -> bool:
    """Is the value of `e` held where the collector sees it whatever runs
    next: a variable (registered, and no call can change it), a global (a
    kept copy), a literal?"""
    if isinstance(e, (ir.LocalRef, ir.GlobalRef, ir.Const)):
        return True
    return isinstance(e, ir.FieldGet) and rooted(e.value)


def scalar_suffix(t: SpyType) -> tuple[str, str]:
    """The suffix of libspy's per-type functions (spy_print_*, spy_str_from_*)
    for a value of type `t`, and the C cast its argument needs."""
    if t.kind in (Kind.STR, Kind.BOOL, Kind.FLOAT):
        return t.name, ""
    if t.kind is Kind.INT:
        return ("i64", "(int64_t)") if t.signed else ("u64", "(uint64_t)")
    raise AssertionError(f"no libspy function for a value of type {t}")


def c_type(t: SpyType) -> str:
    return t.c_name


def signature(func: ir.FuncDecl, c_name: str, storage: str) -> str:
    params = ", ".join(f"{c_type(p.type)} {c_local_name(p.name)}" for p in func.params)
    return f"{storage}{c_type(func.ret)} {c_name}({params or 'void'})"


def returns(stmts: list[ir.Stmt]) -> Iterator[ir.Return]:
    for s in stmts:
        if isinstance(s, ir.Return):
            yield s
        elif isinstance(s, ir.If):
            yield from returns(s.body)
            yield from returns(s.orelse)
        elif isinstance(s, (ir.While, ir.ForRange)):
            yield from returns(s.body)


TailShape = tuple[str | None, ir.Expr | None, ir.Call]


def tail_shape(r: ir.Return, func: ir.FuncDecl) -> TailShape | None:
    """(op, accumulated operand, self call) when `r` returns a self call, as
    `f(..)` or `A op f(..)`, with Python's evaluation order kept."""
    v = r.value
    if isinstance(v, ir.Call) and v.func is func:
        return None, None, v
    if isinstance(v, ir.BinOp) and v.op in ("+", "*") and v.type.is_int:
        if isinstance(v.right, ir.Call) and v.right.func is func:
            return v.op, v.left, v.right  # the call is evaluated last anyway
        if isinstance(v.left, ir.Call) and v.left.func is func and not may_have_effects(v.right):
            return v.op, v.right, v.left
    return None


def accumulator_op(func: ir.FuncDecl) -> str | None:
    """The op for accumulator tail-recursion elimination of `func`: "+" or
    "*", "" when there are plain tail calls only, None when it does not apply."""
    if not func.ret.is_int:
        return None
    shapes = [tail_shape(r, func) for r in returns(func.body)]
    ops = {shape[0] for shape in shapes if shape is not None}
    if not ops:
        return None
    named = {op for op in ops if op is not None}
    if len(named) > 1:
        return None
    return named.pop() if named else ""


LOOP_HINT_MAX_NODES = 40


# Recursion unrolling: a small, directly recursive function gets this many
# always-inline clones calling each other, the last calling the function
# again, so that the C compiler inlines that many levels of the recursion
# (gcc does this itself; clang does not). Level 0 alone polls (SPY_ENTER), so
# more clones also mean fewer polls: on fib(42), 8 clones instead of 4 ran 10%
# faster, and the poll's cost fell from +6.3% to +3.3% of instructions
# (callgrind; +1.7% to +0.2% of time, within the noise).
RECURSION_CLONES = 8
CLONE_MAX_NODES = 60


def recursion_clone_count(func: ir.FuncDecl) -> int:
    exprs = list(stmt_exprs(func.body))
    if len(exprs) > CLONE_MAX_NODES:
        return 0
    self_calls = [e for e in exprs if isinstance(e, ir.Call) and e.func is func]
    if accumulator_op(func) is not None:
        tail_calls = {id(shape[2]) for r in returns(func.body) if (shape := tail_shape(r, func))}
        self_calls = [c for c in self_calls if id(c) not in tail_calls]
    return RECURSION_CLONES if self_calls else 0


def clone_name(func: ir.FuncDecl, level: int) -> str:
    return symbol_name(func) if level == 0 else f"{symbol_name(func)}$$r{level}"


def can_leave(stmts: list[ir.Stmt], in_loop: bool = False) -> bool:
    """Can control leave `stmts` other than by running off their end (or a
    panic): a `return`, or a `break`/`continue` of a loop outside them?"""
    for s in stmts:
        if isinstance(s, ir.Return) or (isinstance(s, (ir.Break, ir.Continue)) and not in_loop):
            return True
        if isinstance(s, ir.If) and (can_leave(s.body, in_loop) or can_leave(s.orelse, in_loop)):
            return True
        if isinstance(s, (ir.While, ir.ForRange)) and can_leave(s.body, True):
            return True
    return False


def node_count(s: ir.Stmt) -> int:
    return sum(1 for _ in stmt_exprs([s])) + sum(1 for _ in all_stmts([s]))


class FunctionWriter:
    huge = False  # set by build_unit (see HUGE_FUNCTION_NODES)

    def __init__(
        self,
        out: Output,
        module: ir.ModuleIR,
        func: ir.FuncDecl,
        effects: Effects,
        level: int = 0,
        clones: int = 0,
    ) -> None:
        self.out = out
        self.func = func
        # recursion checks the stack and polls before each real recursive
        # call (SPY_ENTER), not at function entry, so that a base case returns
        # without a prologue; calls into an always-inline clone need none
        self.level = level
        self.clones = clones
        self.in_polled_iteration = False
        self.recursive = effects.recursive
        key = (func.module, func.name)
        # the collector (spy.h): a function that can reach a safe point
        # registers its str variables and resets the keep stack on return
        self.effects = effects
        self.collects = key in effects.collects
        self.entry_gc_poll = key in effects.recursive and key in effects.allocates
        self.has_frame = False
        # which clone this is, and the C name that its self-calls go to
        self.name = clone_name(func, level)
        self.self_call = clone_name(func, (level + 1) % (clones + 1)) if clones else self.name
        self.file = out.file(module.filename)
        self.lines: list[str] = []
        self.temps = 0
        # per enclosing loop, innermost last: the label a `break` jumps to
        # (a chunked `for` is two C loops), or None for a plain C `break`
        self.break_labels: list[str | None] = []
        # accumulator tail-recursion elimination (what gcc does for fib):
        # `return A + f(x)` becomes `acc += A; params = x; goto top` and other
        # returns `return acc + X`; sound for wrapping integer + and *
        self.acc_op = accumulator_op(func)
        # a huge function keeps its locals in a frame struct, so that runs of
        # its statements can be outlined into chunk functions (CHUNK_NODES)
        self.framed = False
        self.chunks: list[str] = []

    def write(self, storage: str) -> str:
        self.framed = self.huge and self.clones == 0 and self.acc_op is None
        if self.framed:
            return self.write_framed(storage)
        self.lines.append(signature(self.func, self.name, storage) + " {")
        if self.acc_op is not None:
            identity = "1" if self.acc_op == "*" else "0"
            self.lines.append(f"    {c_type(self.func.ret)} _acc = {identity};")
            self.lines.append("_tail:;")
        params = {p.name for p in self.func.params}
        for name, t in self.func.locals.items():
            if name not in params:
                aggregate = t.kind in (Kind.STRUCT, Kind.PTR)
                init = self.out.literal("") if t == STR else "{0}" if aggregate else "0"
                self.lines.append(f"    {c_type(t)} {c_local_name(name)} = {init};")
        self.enter_frame()
        self.block(self.func.body, 1)
        if self.func.ret == NONE:
            self.lines += ["    " + x for x in self.leave_frame()]
        self.lines.append("}")
        return "\n".join(self.lines)

    def enter_frame(self) -> None:
        """Register the str variables with the collector (spy.h: "Collecting
        temporaries"), and note the keep stack's height to go back to."""
        if not self.collects:
            return
        leaves = [heap_leaves(t, self.local(name)) for name, t in self.func.locals.items()]
        strs = [x for a, _ in leaves for x in a]
        ptrs = [x for _, b in leaves for x in b]
        roots = [f"(void *)&{x}" for x in (*strs, *ptrs)]
        if self.framed:
            self.lines.append("    F->spy$km = spy_thread.keep_len;")
        else:
            self.lines.append("    size_t spy$km = spy_thread.keep_len;")
        if roots:
            self.has_frame = True
            self.lines += [
                f"    void *const spy$roots[{len(roots)}] = {{{', '.join(roots)}}};",
                f"    spy_Frame spy$frame = {{spy_thread.frames, {len(strs)}, {len(ptrs)}, spy$roots}};",
                "    spy_thread.frames = &spy$frame;",
            ]
        if self.entry_gc_poll:
            self.lines.append("    SPY_GC_POLL();")

    def leave_frame(self) -> list[str]:
        """What every way out of the function (return, a tail iteration) does first."""
        if not self.collects:
            return []
        out = [f"spy_thread.keep_len = {self.km};"]
        if self.has_frame:
            out.append("spy_thread.frames = spy$frame.prev;")
        return out

    def gc_poll(self, body: list[ir.Stmt], depth: int) -> None:
        """At the top of each iteration of a loop that allocates: no
        statement's temporaries are alive there, so the keep stack goes back
        to the function's height, and a due collection runs."""
        if self.collects and allocates_in(body, self.effects.allocates):
            self.emit(depth, f"spy_thread.keep_len = {self.km};")
            self.emit(depth, "SPY_GC_POLL();")

    @property
    def km(self) -> str:
        """The keep stack's height at entry (a chunk function reads the frame's)."""
        return "F->spy$km" if self.framed else "spy$km"

    def keep(self, t: SpyType, name: str) -> str:
        """C that pushes the references of temporary `name` on the keep stack."""
        strs, ptrs = heap_leaves(t, name)
        return " ".join(
            [*(f"spy_keep({x});" for x in strs), *(f"spy_keep_block({x});" for x in ptrs)]
        )

    def write_framed(self, storage: str) -> str:
        frame = f"{self.name}$$frame"
        fields = [f"{c_type(t)} {c_local_name(n)}" for n, t in self.func.locals.items()]
        if self.collects:
            fields.append("size_t spy$km")
        self.lines.append(signature(self.func, self.name, storage) + " {")
        self.lines.append(f"    struct {frame} F_ = {{0}};")
        self.lines.append(f"    struct {frame} *const F = &F_;")
        params = {p.name for p in self.func.params}
        for name, t in self.func.locals.items():
            if name in params:
                self.lines.append(f"    {self.local(name)} = {c_local_name(name)};")
            elif t == STR:
                self.lines.append(f"    {self.local(name)} = {self.out.literal('')};")
        self.enter_frame()
        self.block(self.func.body, 1)
        if self.func.ret == NONE:
            self.lines += ["    " + x for x in self.leave_frame()]
        self.lines.append("}")
        return "\n\n".join([c_struct(frame, fields), *self.chunks, "\n".join(self.lines)])

    def local(self, name: str) -> str:
        """A local's C lvalue: in a framed function, the frame's field."""
        if self.framed and name in self.func.locals:
            return f"F->{c_local_name(name)}"
        return c_local_name(name)

    def outline(self, run: list[ir.Stmt], depth: int) -> None:
        """Emit `run` as a chunk function of its own, called here."""
        saved, self.lines = self.lines, []
        for s in run:
            self.stmt(s, 1)
        body, self.lines = self.lines, saved
        name = f"{self.name}$$chunk{len(self.chunks) + 1}"
        head = f"{CHUNK_STORAGE}void {name}(struct {self.name}$$frame *const F) {{"
        self.chunks.append("\n".join([head, *body, "}"]))
        self.emit(depth, f"{name}(F);")

    def return_(self, s: ir.Return, depth: int) -> None:
        leave = self.leave_frame()
        if s.value is None:
            for x in leave:
                self.emit(depth, x)
            self.emit(depth, "return;")
            return
        shape = tail_shape(s, self.func) if self.acc_op is not None else None
        if shape is None:
            value = self.expr(s.value)
            if self.acc_op:
                value = f"(({c_type(self.func.ret)})(_acc {self.acc_op} {value}))"
            if leave:
                self.emit(depth, f"{{ {c_type(self.func.ret)} spy$r = {value};")
                for x in leave:
                    self.emit(depth + 1, x)
                self.emit(depth + 1, "return spy$r; }")
            else:
                self.emit(depth, f"return {value};")
            return
        op, acc_operand, call = shape
        ct = c_type(self.func.ret)
        self.emit(depth, "{")
        # A tail iteration is a loop back-edge: one poll at its top (after any
        # base-case return, before a descent into the clones, which it then
        # covers). The clones never poll: every real call runs level 0,
        # which polls before going deeper, and any check inside the chain of
        # inlined clones keeps clang from folding their small cases (fib: a
        # flag read there cost 25%, one poll at level 0 3%). The price: a
        # clone's tail loop that runs long without descending (possible, if
        # odd) is not interrupted until it ends.
        polled = self.level == 0
        if polled:
            self.emit(depth + 1, f"SPY_POLL({self.loc_args(s.loc)});")
        self.in_polled_iteration = polled
        if op is not None and acc_operand is not None:
            self.emit(depth + 1, f"{ct} _a = {self.expr(acc_operand)};")
        for i, (p, a) in enumerate(zip(self.func.params, call.args, strict=True)):
            self.emit(depth + 1, f"{c_type(p.type)} _p{i} = {self.expr(a)};")
        if op is not None:
            self.emit(depth + 1, f"_acc = ({ct})(_acc {op} _a);")
        for i, p in enumerate(self.func.params):
            self.emit(depth + 1, f"{c_local_name(p.name)} = _p{i};")
        self.in_polled_iteration = False
        for x in leave:
            self.emit(depth + 1, x)
        self.emit(depth + 1, "goto _tail;")
        self.emit(depth, "}")

    def recursion_check(self, callee: ir.FuncDecl) -> bool:
        """Does a call of `callee` from here need SPY_ENTER? Calls between
        functions of the call graph's cycles do, except inside a function's
        recursion clones: there only level 0 polls, before it descends into
        them, unless the tail iteration it is in polled already (return_)."""
        if (callee.module, callee.name) not in self.recursive:
            return False
        if (self.func.module, self.func.name) not in self.recursive:
            return False
        if callee is not self.func or self.clones == 0:
            return True
        return self.level == 0 and not self.in_polled_iteration

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def loc_args(self, loc: Loc) -> str:
        return f"{self.file}, {loc.line}"

    # ---- statements ---------------------------------------------------------

    def block(self, stmts: list[ir.Stmt], depth: int) -> None:
        if self.framed:
            self.chunked_block(stmts, depth)
            return
        for i, s in enumerate(stmts):
            if self.huge and i and i % HUGE_BLOCK_SPLIT == 0:
                self.temps += 1  # a label starts a basic block (see HUGE_FUNCTION_NODES)
                self.emit(depth, f"_split{self.temps}:;")
            self.stmt(s, depth)

    def chunked_block(self, stmts: list[ir.Stmt], depth: int) -> None:
        """Runs of statements that control cannot leave early go into chunk
        functions of about CHUNK_NODES nodes; the rest stay here, their
        bodies chunked in turn."""
        run: list[ir.Stmt] = []
        size = 0

        def flush() -> None:
            nonlocal run, size
            if size >= CHUNK_MIN_NODES:
                self.outline(run, depth)
            else:
                for s in run:
                    self.stmt(s, depth)
            run, size = [], 0

        for s in stmts:
            if can_leave([s]):
                flush()
                self.stmt(s, depth)
                continue
            run.append(s)
            size += node_count(s)
            if size >= CHUNK_NODES:
                flush()
        flush()

    def stmt(self, s: ir.Stmt, depth: int) -> None:
        if isinstance(s, ir.Assign):
            value = self.expr(s.value)
            if isinstance(s.target, ir.GlobalRef) and s.target.type == STR:
                # copied out of the arena; the old value is retired (spy.h)
                self.emit(depth, f"spy_global_str_store(&{self.expr(s.target)}, {value});")
            elif isinstance(s.target, ir.GlobalRef) and s.target.type.kind is Kind.PTR:
                # a global's block leaves the regions, with all it reaches
                n = self.temps = self.temps + 1
                g = self.expr(s.target)
                self.emit(depth, f"{{ {c_type(s.value.type)} _v{n} = {value};")
                self.emit(depth + 1, f"spy_gc_pin(_v{n}.p);")
                # the old block may be garbage now: freed when no call sees globals
                self.emit(
                    depth + 1, f"if ({g}.p != NULL && {g}.p != _v{n}.p) spy_gc_pinned_dropped();"
                )
                self.emit(depth + 1, f"{g} = _v{n}; }}")
            elif isinstance(s.target, ir.GlobalRef) and holds_references(s.target.type):
                self.store_struct_global(s.target, value, depth)
            elif isinstance(s.target, (ir.PtrItem, ir.FieldGet)) and holds_references(s.value.type):
                self.store_reference(s, value, depth)
            elif isinstance(s.target, (ir.PtrItem, ir.FieldGet)):
                # Python computes the value before the place it goes to
                n = self.temps = self.temps + 1
                self.emit(depth, f"{{ {c_type(s.value.type)} _v{n} = {value};")
                if not rooted(s.value) and may_collect(s.target, self.effects.collects):
                    self.emit(depth + 1, self.keep(s.value.type, f"_v{n}"))
                self.emit(depth + 1, f"{self.expr(s.target)} = _v{n}; }}")
            else:
                self.emit(depth, f"{self.expr(s.target)} = {value};")
        elif isinstance(s, ir.ExprStmt):
            self.emit(depth, f"(void)({self.expr(s.value)});")
        elif isinstance(s, ir.If):
            self.if_(s, depth)
        elif isinstance(s, ir.While):
            n = self.temps = self.temps + 1
            self.emit(depth, f"{{ SPY_LOOP_ENTER(_pb{n});")
            self.loop_hint(s.body, depth)
            self.emit(depth, f"while ({self.expr(s.test)}) {{")
            self.poll(s.loc, depth + 1, f"_pb{n}")
            self.gc_poll(s.body, depth + 1)
            self.break_labels.append(None)
            self.block(s.body, depth + 1)
            self.break_labels.pop()
            self.emit(depth, "}")
            self.emit(depth, f"SPY_LOOP_LEAVE(_pb{n}); }}")
        elif isinstance(s, ir.ForRange):
            self.for_range(s, depth)
        elif isinstance(s, ir.Break):
            label = self.break_labels[-1]
            self.emit(depth, f"goto {label};" if label else "break;")
        elif isinstance(s, ir.Continue):
            self.emit(depth, "continue;")
        elif isinstance(s, ir.Return):
            self.return_(s, depth)
        elif isinstance(s, ir.Raise):
            msg = self.expr(s.message) if s.message is not None else self.out.literal("")
            self.emit(depth, f'spy_panic_str("{s.kind}", {msg}, {self.loc_args(s.loc)});')
        elif isinstance(s, ir.Assert):
            msg = self.expr(s.message) if s.message is not None else self.out.literal("")
            self.emit(depth, f"if (SPY_UNLIKELY(!({self.expr(s.test)})))")
            self.emit(depth + 1, f'spy_panic_str("AssertionError", {msg}, {self.loc_args(s.loc)});')
        elif isinstance(s, ir.Print):
            self.print_(s, depth)
        else:
            raise AssertionError(f"unknown statement {s!r}")

    def store_struct_global(self, target: ir.GlobalRef, value: str, depth: int) -> None:
        """A struct holding references (a list, a dict, an array) into a `var`
        global: its blocks leave the regions, pinned with all they reach, and
        its strs become the global's own copies (retiring the old ones), as
        for a gc_ptr or str global."""
        n = self.temps = self.temps + 1
        g, v = self.expr(target), f"_v{n}"
        self.emit(depth, f"{{ {c_type(target.type)} {v} = {value};")
        strs, ptrs = heap_leaves(target.type, v)
        old_strs, old_ptrs = heap_leaves(target.type, g)
        for new, old in zip(ptrs, old_ptrs, strict=True):
            self.emit(depth + 1, f"spy_gc_pin({new});")
            self.emit(depth + 1, f"if ({old} != NULL && {old} != {new}) spy_gc_pinned_dropped();")
        for new, old in zip(strs, old_strs, strict=True):
            self.emit(depth + 1, f"spy_global_str_store(&{old}, {new});")
            self.emit(depth + 1, f"{new} = {old};")
        self.emit(depth + 1, f"{g} = {v}; }}")

    def store_reference(self, s: ir.Assign, value: str, depth: int) -> None:
        """`p[i].f = v` where v holds references: in order, the value, the
        block, the index; a store into a pinned block (a global's) retires
        what the item held and makes what it gets its own (spy.h)."""
        path: list[str] = []
        target: ir.Expr = s.target
        while isinstance(target, ir.FieldGet):
            path.append(c_field_name(target.name))
            target = target.value
        assert isinstance(target, ir.PtrItem)
        n = self.temps = self.temps + 1
        v, b, k = f"_v{n}", f"_b{n}", f"_k{n}"
        collects = self.effects.collects
        self.emit(depth, f"{{ {c_type(s.value.type)} {v} = {value};")
        later = may_collect(target.ptr, collects) or may_collect(target.index, collects)
        if not rooted(s.value) and later:
            self.emit(depth + 1, self.keep(s.value.type, v))
        self.emit(depth + 1, f"{c_type(target.ptr.type)} {b} = {self.expr(target.ptr)};")
        if not rooted(target.ptr) and may_collect(target.index, collects):
            self.emit(depth + 1, f"spy_keep_block({b}.p);")
        index = self.expr(target.index)
        self.emit(
            depth + 1,
            f"size_t {k} = spy_ptr_check({b}.p, {b}.length, {index}, {self.loc_args(target.loc)});",
        )
        place = f"{b}.p[{k}]" + "".join(f".{f}" for f in reversed(path))
        self.emit(depth + 1, f"if (SPY_UNLIKELY(spy_block_pinned({b}.p))) {{")
        self.emit(depth + 2, f"spy_gc_retire_range({b}.p, {k}, {k} + 1);")
        self.emit(depth + 2, f"{place} = {v};")
        self.emit(depth + 2, f"spy_gc_adopt_range({b}.p, {k}, {k} + 1);")
        self.emit(depth + 1, "} else {")
        self.emit(depth + 2, f"{place} = {v};")
        self.emit(depth + 1, "} }")

    def if_(self, s: ir.If, depth: int) -> None:
        self.emit(depth, f"if ({self.expr(s.test)}) {{")
        self.block(s.body, depth + 1)
        if s.orelse:
            self.else_(s.orelse, depth)
        self.emit(depth, "}")

    def else_(self, orelse: list[ir.Stmt], depth: int) -> None:
        if len(orelse) == 1 and isinstance(orelse[0], ir.If):
            nested = orelse[0]
            self.emit(depth, f"}} else if ({self.expr(nested.test)}) {{")
            self.block(nested.body, depth + 1)
            if nested.orelse:
                self.else_(nested.orelse, depth)
            return
        self.emit(depth, "} else {")
        self.block(orelse, depth + 1)

    def poll(self, loc: Loc, depth: int, counter: str) -> None:
        """At the top of a loop body, so every iteration polls, `continue` too:
        Ctrl-C reaches any loop, and no loop is free of side effects (C lets
        the compiler assume such loops end; SPy's semantics do not). The
        loop counts in its local `counter` (SPY_LOOP_ENTER, spy.h)."""
        self.emit(depth, f"SPY_LOOP_POLL({counter}, {self.loc_args(loc)});")

    def loop_hint(self, body: list[ir.Stmt], depth: int) -> None:
        """SPY_LOOP_HINT (see spy.h) before a small loop with no loop inside."""
        if not has_loop(body) and len(list(stmt_exprs(body))) <= LOOP_HINT_MAX_NODES:
            self.emit(depth, "SPY_LOOP_HINT")

    def for_range(self, s: ir.ForRange, depth: int) -> None:
        """`for v in range(...)`, run in chunks of SPY_CHUNK iterations with one
        poll per chunk (SPY_CHUNK_POLL, spy.h): the inner C loop is the plain
        loop, which the C compiler unrolls and pipelines as it would without
        polls. A `break` leaves both loops (a goto); `continue` goes on."""
        t = s.var.type
        ct = c_type(t)
        var = self.local(s.var.name)
        n = self.temps = self.temps + 1
        loc = self.loc_args(s.loc)
        self.emit(depth, "{")
        if s.step is None:
            # i < stop <= MAX, so the increment never overflows
            self.emit(depth + 1, f"{ct} _stop{n} = {self.expr(s.stop)};")
            self.emit(depth + 1, f"{ct} _i{n} = {self.expr(s.start)};")
            self.emit(depth + 1, f"while (_i{n} < _stop{n}) {{")
            # the count left, exact in 64 bits for every integer type
            self.emit(depth + 2, f"uint64_t _left{n} = (uint64_t)_stop{n} - (uint64_t)_i{n};")
            self.emit(
                depth + 2,
                f"{ct} _end{n} = _left{n} > SPY_CHUNK ? ({ct})(_i{n} + SPY_CHUNK) : _stop{n};",
            )
            self.emit(
                depth + 2,
                f"SPY_CHUNK_POLL(_left{n} > SPY_CHUNK ? SPY_CHUNK : (int32_t)_left{n}, {loc});",
            )
            self.loop_hint(s.body, depth + 2)
            self.emit(depth + 2, f"for (; _i{n} < _end{n}; _i{n}++) {{")
            self.emit(depth + 3, f"{var} = _i{n};")
            self.gc_poll(s.body, depth + 3)
        else:
            self.emit(depth + 1, f"{ct} _start{n} = {self.expr(s.start)};")
            self.emit(depth + 1, f"{ct} _stop{n} = {self.expr(s.stop)};")
            self.emit(depth + 1, f"{ct} _step{n} = {self.expr(s.step)};")
            self.emit(
                depth + 1,
                f"uint64_t _n{n} = spy_range_len(_start{n}, _stop{n}, _step{n}, {loc});",
            )
            self.emit(depth + 1, f"{ct} _v{n} = _start{n};")
            self.emit(depth + 1, f"uint64_t _k{n} = 0;")
            self.emit(depth + 1, f"while (_k{n} < _n{n}) {{")
            self.emit(depth + 2, f"uint64_t _left{n} = _n{n} - _k{n};")
            self.emit(
                depth + 2, f"uint64_t _end{n} = _left{n} > SPY_CHUNK ? _k{n} + SPY_CHUNK : _n{n};"
            )
            self.emit(
                depth + 2,
                f"SPY_CHUNK_POLL(_left{n} > SPY_CHUNK ? SPY_CHUNK : (int32_t)_left{n}, {loc});",
            )
            self.loop_hint(s.body, depth + 2)
            self.emit(
                depth + 2,
                f"for (; _k{n} < _end{n}; _k{n}++, _v{n} = ({ct})(_v{n} + _step{n})) {{",
            )
            self.emit(depth + 3, f"{var} = _v{n};")
            self.gc_poll(s.body, depth + 3)
        self.break_labels.append(f"_brk{n}")
        self.block(s.body, depth + 3)
        self.break_labels.pop()
        self.emit(depth + 2, "}")
        self.emit(depth + 1, "}")
        self.emit(depth + 1, f"_brk{n}:;")
        self.emit(depth, "}")

    def print_(self, s: ir.Print, depth: int) -> None:
        args = s.args
        keeps = self.keeps_needed(args)
        if any(may_have_effects(a) for a in args):
            # Python evaluates every argument before printing anything
            self.emit(depth, "{")
            depth += 1
            evaluated = []
            for a, kept in zip(args, keeps, strict=True):
                if a.type == NONE:
                    evaluated.append(a)
                    continue
                self.temps += 1
                name = f"$pr{self.temps}"
                value = self.expr(a)
                self.emit(depth, f"{c_type(a.type)} {c_local_name(name)} = {value};")
                if kept:
                    self.emit(depth, self.keep(a.type, c_local_name(name)))
                evaluated.append(ir.LocalRef(a.type, a.loc, name))
            args = evaluated
        for i, a in enumerate(args):
            if i:
                self.emit(depth, "spy_print_sep();")
            self.emit(depth, self.print_call(a) + ";")
        self.emit(depth, "spy_print_end();")
        if args is not s.args:
            self.emit(depth - 1, "}")

    def print_call(self, a: ir.Expr) -> str:
        if a.type == NONE:
            return "spy_print_none()"
        suffix, cast = scalar_suffix(a.type)
        return f"spy_print_{suffix}({cast}({self.expr(a)}))"

    # ---- expressions ----------------------------------------------------------

    def collecting_and_unrooted(self, operands: list[ir.Expr]) -> tuple[list[bool], list[bool]]:
        """Per operand: can it reach the collector's safe point; does it make
        a reference that nothing else holds (a str, a block, a struct of them)?"""
        collecting = [may_collect(o, self.effects.collects) for o in operands]
        unrooted = [holds_references(o.type) and not rooted(o) for o in operands]
        return collecting, unrooted

    @staticmethod
    def keeps(collecting: list[bool], unrooted: list[bool]) -> list[bool]:
        """Which operands, evaluated left to right, must be kept while a later
        one runs a call that can reach the safe point."""
        return [u and any(collecting[i + 1 :]) for i, u in enumerate(unrooted)]

    def keeps_needed(self, operands: list[ir.Expr]) -> list[bool]:
        return self.keeps(*self.collecting_and_unrooted(operands))

    def ordered(self, operands: list[ir.Expr], build: Callable[[list[str]], str]) -> str:
        """`build(c_operands)`, evaluating operands left to right when order
        matters: effects, or a str made before a call that can collect it."""
        collecting, unrooted = self.collecting_and_unrooted(operands)
        keeps = self.keeps(collecting, unrooted)
        # C may evaluate a str operand before a collecting one whatever their order
        exposed = any(
            u and c for i, u in enumerate(unrooted) for j, c in enumerate(collecting) if i != j
        )
        if sum(may_have_effects(o) for o in operands) < 2 and not exposed:
            return build([self.expr(o) for o in operands])
        decls, names = [], []
        for o, kept in zip(operands, keeps, strict=True):
            self.temps += 1
            name = f"_e{self.temps}"
            value = self.expr(o)
            decls.append(f"{c_type(o.type)} {name} = {value};")
            if kept:
                decls.append(self.keep(o.type, name))
            names.append(name)
        return "({ " + " ".join(decls) + f" {build(names)}; }})"

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return const_expr(e.value, e.type, self.out)
        if isinstance(e, ir.LocalRef):
            return self.local(e.name)
        if isinstance(e, ir.GlobalRef):
            return c_global_name(e.var)
        if isinstance(e, ir.Call):
            name = self.self_call if e.func is self.func else symbol_name(e.func)
            if self.recursion_check(e.func):
                check = f"SPY_ENTER({self.loc_args(e.loc)}); "
                return self.ordered(e.args, lambda a: f"({{ {check}{name}({', '.join(a)}); }})")
            return self.ordered(e.args, lambda a: f"{name}({', '.join(a)})")
        if isinstance(e, ir.RuntimeCall):
            extra = [self.loc_args(e.loc)] if e.func.takes_loc else []
            return self.ordered(e.args, lambda a: f"{e.func.c_name}({', '.join(a + extra)})")
        if isinstance(e, ir.BinOp):
            return self.ordered([e.left, e.right], lambda a: self.binop(e, a[0], a[1]))
        if isinstance(e, ir.UnaryOp):
            v = self.expr(e.operand)
            if e.op == "+":
                return v
            return f"(({c_type(e.type)}){e.op}({v}))"
        if isinstance(e, ir.Not):
            return f"(!({self.expr(e.operand)}))"
        if isinstance(e, ir.Compare):
            return self.ordered([e.left, e.right], lambda a: self.compare(e, a[0], a[1]))
        if isinstance(e, ir.BoolOp):
            joiner = " && " if e.op == "and" else " || "
            return "(" + joiner.join(self.expr(v) for v in e.values) + ")"
        if isinstance(e, ir.CondExpr):
            return f"(({self.expr(e.test)}) ? ({self.expr(e.body)}) : ({self.expr(e.orelse)}))"
        if isinstance(e, ir.Convert):
            return self.convert(e)
        if isinstance(e, ir.Truth):
            v = self.expr(e.value)
            if e.value.type == STR:
                return f"(({v})->length != 0)"
            if e.value.type.kind is Kind.PTR:
                return f"(({v}).p != NULL)"
            return f"(({v}) != 0)"
        if isinstance(e, ir.StrOf):
            return self.str_of(e.value)
        if isinstance(e, ir.StrConcat):
            return self.ordered([e.left, e.right], lambda a: f"spy_str_concat({a[0]}, {a[1]})")
        if isinstance(e, ir.StrLen):
            return f"spy_str_len({self.expr(e.value)}, {self.loc_args(e.loc)})"
        if isinstance(e, ir.ParseStr):
            return self.parse_str(e)
        if isinstance(e, ir.StructNew):
            ct = c_type(e.type)
            return self.ordered(e.args, lambda a: f"(({ct}){{{', '.join(a) or '0'}}})")
        if isinstance(e, ir.FieldGet):
            return f"({self.expr(e.value)}).{c_field_name(e.name)}"
        if isinstance(e, ir.PtrAlloc):
            item = c_type(e.type.item) if e.type.item else "char"
            count = self.expr(e.count)
            pmap = (
                f"&{ptr_map_name(e.type)}"
                if e.type.item and holds_references(e.type.item)
                else "NULL"
            )
            fn = "spy_raw_alloc" if ptr_memkind(e.type) == "raw" else "spy_gc_alloc"
            alloc = f"{fn}({count}, sizeof({item}), {pmap}, {self.loc_args(e.loc)})"
            return f"(({c_type(e.type)}){{({item} *){alloc}, (size_t)({count})}})"
        if isinstance(e, ir.PtrItem):
            # an lvalue: the item's address, checked, dereferenced; the
            # pointer is evaluated once, before the index
            pt = c_type(e.ptr.type)
            self.temps += 1
            t = f"_p{self.temps}"
            check = (
                f"spy_ptr_check({t}.p, {t}.length, {self.expr(e.index)}, {self.loc_args(e.loc)})"
                if e.checked
                else f"(size_t)({self.expr(e.index)})"
            )
            keep = ""
            if not rooted(e.ptr) and may_collect(e.index, self.effects.collects):
                keep = f" spy_keep_block({t}.p);"
            return f"(*({{ {pt} {t} = {self.expr(e.ptr)};{keep} {t}.p + {check}; }}))"
        if isinstance(e, ir.MemOp):
            return self.mem_op(e)
        if isinstance(e, ir.PtrLength):
            return f"((int64_t)({self.expr(e.ptr)}).length)"
        if isinstance(e, ir.SizeOf):
            return f"((int32_t)sizeof({c_type(e.of)}))"
        if isinstance(e, ir.Let):
            name = c_local_name(e.name)
            value = self.expr(e.value)
            kept = ""
            if not rooted(e.value) and may_collect(e.body, self.effects.collects):
                kept = " " + self.keep(e.value.type, name)
            return f"({{ {c_type(e.value.type)} {name} = {value};{kept} {self.expr(e.body)}; }})"
        raise AssertionError(f"unknown expression {e!r}")

    def mem_op(self, e: ir.MemOp) -> str:
        """Every operand into a temporary, in order; each block as (p, length)."""
        decls, parts = [], []
        item = next(a.type.item for a in e.args if a.type.kind is Kind.PTR)
        assert item is not None
        for a, kept in zip(e.args, self.keeps_needed(e.args), strict=True):
            self.temps += 1
            name = f"_m{self.temps}"
            decls.append(f"{c_type(a.type)} {name} = {self.expr(a)};")
            if kept:
                decls.append(self.keep(a.type, name))
            parts.append(f"{name}.p, {name}.length" if a.type.kind is Kind.PTR else name)
        if e.op == "setbytes":
            call = f"spy_mem_setbytes({', '.join(parts)}, sizeof({c_type(item)})"
        elif e.op == "cmp":
            call = f"spy_mem_cmp({', '.join(parts)}, sizeof({c_type(item)})"
        else:
            overlap_ok = "true" if e.op == "move" else "false"
            call = f"spy_mem_copy({', '.join(parts)}, sizeof({c_type(item)}), {overlap_ok}"
        return "({ " + " ".join(decls) + f" {call}, {self.loc_args(e.loc)}); }})"

    def binop(self, e: ir.BinOp, left: str, right: str) -> str:
        t = e.left.type
        op = e.op
        ct = c_type(e.type)
        if t.is_int:
            if op in ("+", "-", "*", "&", "|", "^"):
                return f"(({ct})({left} {op} {right}))"
            helper = {
                "/": "div",
                "//": "floordiv",
                "%": "mod",
                "**": "pow",
                "<<": "shl",
                ">>": "shr",
            }[op]
            return f"spy_{t.name}_{helper}({left}, {right}, {self.loc_args(e.loc)})"
        if t == BOOL:
            return f"((bool)({left} {op} {right}))"
        # floats
        if op in ("+", "-", "*"):
            return f"(({ct})({left} {op} {right}))"
        if op == "**":
            return f"(({ct})spy_f64_pow({left}, {right}, {self.loc_args(e.loc)}))"
        helper = {"/": "div", "//": "floordiv", "%": "mod"}[op]
        return f"spy_{t.name}_{helper}({left}, {right}, {self.loc_args(e.loc)})"

    def compare(self, e: ir.Compare, left: str, right: str) -> str:
        if e.left.type == STR:
            neg = "!" if e.op == "!=" else ""
            return f"({neg}spy_str_eq({left}, {right}))"
        if e.left.type.kind is Kind.PTR:  # the same block (NULL equals NULL)
            return f"(({left}).p {e.op} ({right}).p)"
        return f"({left} {e.op} {right})"

    def convert(self, e: ir.Convert) -> str:
        src, dst = e.value.type, e.type
        v = self.expr(e.value)
        if src.is_float and dst.is_int:
            return f"spy_f64_to_{dst.name}((double)({v}))"
        return f"(({c_type(dst)})({v}))"

    def str_of(self, value: ir.Expr) -> str:
        suffix, cast = scalar_suffix(value.type)
        return f"spy_str_from_{suffix}({cast}({self.expr(value)}))"

    def parse_str(self, e: ir.ParseStr) -> str:
        t = e.type
        v = self.expr(e.value)
        loc = self.loc_args(e.loc)
        if t.is_float:
            return f"(({c_type(t)})spy_str_to_f64({v}, {loc}))"
        if t.signed:
            lo, hi = c_int_literal(t.min_value, t), c_int_literal(t.max_value, t)
            return f'(({c_type(t)})spy_str_to_i64({v}, {lo}, {hi}, "{t.name}", {loc}))'
        hi = c_int_literal(t.max_value, t)
        return f'(({c_type(t)})spy_str_to_u64({v}, {hi}, "{t.name}", {loc}))'


def global_definition(var: ir.GlobalVar, out: Output) -> str:
    if var.run_init:  # given its value when the module loads (unit_init)
        if var.type == STR:
            return f"static const spy_Str *{c_global_name(var)} = {out.literal('')};"
        return f"static {c_type(var.type)} {c_global_name(var)} = {{0}};"
    value = const_expr(var.value, var.type, out)
    qual = "" if var.mutable else "const "
    if var.type == STR:
        return f"static const spy_Str *{qual}{c_global_name(var)} = {value};"
    if var.type.kind is Kind.PTR:  # only NULL is constant
        return f"static {qual}{c_type(var.type)} {c_global_name(var)} = {{0}};"
    return f"static {qual}{c_type(var.type)} {c_global_name(var)} = {value};"


def global_roots(modules: list[ir.ModuleIR]) -> list[str]:
    """spy_unit_global_roots: the addresses of the unit's gc_ptr globals' `p`,
    from which the pinned blocks are marked (spy.h). A unit without any
    links libspy's weak definition, which lists none."""
    roots = [
        f"(void *)&{leaf}"
        for m in modules
        for v in m.globals.values()
        if v.mutable
        for leaf in heap_leaves(v.type, c_global_name(v))[1]
    ]
    if not roots:
        return []
    return [
        f"static void *const spy_global_roots[] = {{{', '.join(roots)}}};",
        "void *const *spy_unit_global_roots(size_t *n) {",
        f"    *n = {len(roots)};",
        "    return spy_global_roots;",
        "}",
    ]


def symbol_name(func: ir.FuncDecl) -> str:
    """The C symbol of a function, also its wasm export name."""
    return c_func_name(func.module, func.name)


@dataclass
class Unit:
    """The parts of a C unit, for an executable or a library to add to."""

    out: Output
    globals: list[str]
    protos: list[str]
    bodies: list[str]

    def render(self, tail: list[str]) -> str:
        return "\n".join(
            [
                "/* generated by hatch-spy: do not edit */",
                '#include "spy.h"',
                "",
                *self.out.tables(),
                "",
                *self.globals,
                "",
                *self.protos,
                "",
                "\n\n".join(self.bodies),
                "",
                *tail,
                "",
            ]
        )


CLONE_STORAGE = "static inline __attribute__((always_inline)) "

# A function bigger than this is compiled without optimization, in basic
# blocks of at most HUGE_BLOCK_SPLIT statements: LLVM's optimizer (EarlyCSE,
# the inliner) and its code generation (register allocation, two-address
# rescheduling within a block) take time that grows faster than the size of
# one function, so that a 100,000-statement function took minutes at -O2.
HUGE_FUNCTION_NODES = 20_000
HUGE_BLOCK_SPLIT = 64
HUGE_STORAGE = "__attribute__((optnone, noinline)) "
# Even unoptimized, register allocation in one function grows faster than its
# size (20,000 statements: 3.2 s, 5,000: 0.5 s), so a huge function's runs of
# statements go into chunk functions of about CHUNK_NODES nodes, optimized
# like any function of that size; with them compile time is linear.
CHUNK_NODES = 4_000
CHUNK_MIN_NODES = 500  # below this a call costs more than it saves
CHUNK_STORAGE = "static __attribute__((noinline)) "


def more_nodes_than(func: ir.FuncDecl, n: int) -> bool:
    """Has `func` more than `n` IR nodes (counted no further than that)?"""
    nodes = itertools.chain(stmt_exprs(func.body), all_stmts(func.body))
    return next(itertools.islice(nodes, n, None), None) is not None


def is_huge(func: ir.FuncDecl) -> bool:
    return more_nodes_than(func, HUGE_FUNCTION_NODES)


def function_code(
    out: Output, module: ir.ModuleIR, f: ir.FuncDecl, effects: Effects
) -> tuple[list[str], list[str]]:
    """The prototypes and bodies of `f` (of `module`), static, with its
    recursion clones: `@force_inline` always inlined, a huge one
    unoptimized."""
    protos: list[str] = []
    bodies: list[str] = []
    clones = recursion_clone_count(f)
    huge = is_huge(f)
    for level in range(clones + 1):
        store = "static " if level == 0 else CLONE_STORAGE
        if f.force_inline and (f.module, f.name) not in effects.recursive:
            store = CLONE_STORAGE  # @force_inline: always inlined
        if huge:
            store = HUGE_STORAGE + store
        protos.append(signature(f, clone_name(f, level), store) + ";")
        writer = FunctionWriter(out, module, f, effects, level, clones)
        writer.huge = huge
        bodies.append(writer.write(store))
    return protos, bodies


def build_unit(modules: list[ir.ModuleIR]) -> Unit:
    """Globals, prototypes and bodies of all `modules` in one unit (an
    executable's)."""
    out = Output()
    effects = analyze(modules)
    globals_ = [
        *type_definitions(modules),
        *(global_definition(v, out) for m in modules for v in m.globals.values()),
        *global_roots(modules),
    ]
    protos: list[str] = []
    bodies: list[str] = []
    for m in modules:
        for f in m.funcs.values():
            p, b = function_code(out, m, f, effects)
            protos += p
            bodies += b
    return Unit(out, globals_, protos, bodies)


def linked_pointer(f: ir.FuncDecl, storage: str) -> str:
    """The declaration of a function called in another package's binary:
    a pointer of its name, so calls are written as for any function."""
    params = ", ".join(c_type(p.type) for p in f.params)
    return f"{storage}{c_type(f.ret)} (*{symbol_name(f)})({params or 'void'});"


# ---- one C unit per module -----------------------------------------------------
# A package's library (native extension, wasm module) is compiled as one unit
# per module plus a main unit (the Python or host boundary), each cached on
# its own, so that a change to one module recompiles one unit. The C
# compiler inlines only within a unit, so a unit gets a static copy of every
# small function of another module that it calls (the standard library's
# container methods, accessors, `@force_inline` functions), as C++ code gets
# a header's inline functions; the others are called through a hidden extern.

# a function of at most this many IR nodes is copied into each unit calling it
COPY_MAX_NODES = 60
SHARED = '__attribute__((visibility("hidden"))) '


def entry_name(f: ir.FuncDecl) -> str:
    return clone_name(f, 0) + "$$u"


def entry_definition(f: ir.FuncDecl) -> str:
    """`name$$u`, through which other units call `f`."""
    args = ", ".join(c_local_name(p.name) for p in f.params)
    call = f"{clone_name(f, 0)}({args});"
    body = call if f.ret == NONE else "return " + call
    return f"{signature(f, entry_name(f), SHARED)} {{\n    {body}\n}}"


def copied(f: ir.FuncDecl) -> bool:
    """Is `f` compiled into every unit that calls it (static) rather than
    once, in its own module's unit?"""
    return f.force_inline or not more_nodes_than(f, COPY_MAX_NODES)


def type_definitions(modules: list[ir.ModuleIR]) -> list[str]:
    """Every unit's typedefs, struct definitions and pointer maps."""
    # each struct after the structs it holds by value, whichever module made
    # them (`tuple[str, list[str]]` is _tuple's, `list[str]` _list's)
    structs = structs_reached(t for m in modules for t in m.structs)
    ptrs = list({t.fqn: t for m in modules for t in m.ptr_types}.values())
    out = [f"typedef struct {t.c_name} {t.c_name};" for t in structs]
    # a gc_ptr holds only its item's address, so its definition needs only
    # the item's typedef; a struct may hold a gc_ptr, so they come first
    out += [ptr_definition(t) for t in ptrs]
    out += [struct_definition(t) for t in structs]
    out += [x for t in ptrs if t.item and holds_references(t.item) for x in ptr_map_definition(t)]
    return out


def shared_global(var: ir.GlobalVar, out: Output, owner: bool) -> str:
    """A `var` global: defined in its module's unit, extern in the others
    (a const one is a static constant in every unit that has it)."""
    if not var.mutable:
        return global_definition(var, out)
    definition = global_definition(var, out).removeprefix("static ")
    if owner:
        return SHARED + definition
    return "extern " + SHARED + definition.split(" = ")[0] + ";"


@dataclass
class SplitUnits:
    """A library's C units: one per module, and the main unit's beginning
    (types, every global and function declared), which the caller finishes
    with the boundary (`Unit.render(tail)`)."""

    modules: list[str]
    main: Unit


def build_units(
    modules: list[ir.ModuleIR], linking: Linking = STATIC, effects: Effects | None = None
) -> SplitUnits:
    """The units of a library (see above); `effects` is analyze's answer
    for `modules` and `linking`, if the caller has it."""
    effects = effects or analyze(modules, linking.keys)
    owner = {(f.module, f.name): m for m in modules for f in m.funcs.values()}
    types = type_definitions(modules)
    # asked once per function, not once per unit
    small = {key: copied(owner[key].funcs[key[1]]) for key in owner}
    # another unit calls a function through its entry `name$$u` (a macro
    # keeps the name its callers are written with): in its own unit the
    # function stays static, so the C compiler treats it as before (its own
    # calling convention, recursion clones), and the entry calls it
    declared = {
        key: f"{signature(f, entry_name(f), SHARED)};\n#define {clone_name(f, 0)} {entry_name(f)}"
        for key, m in owner.items()
        if not (f := m.funcs[key[1]]).force_inline and key not in linking.keys
    }

    def declarations(out: Output, own: str | None, bodies_here: set[FuncKey]) -> list[str]:
        """The globals, and the entries of the functions of other units
        (a module's unit copies the small ones it calls; the main unit's
        boundary code calls the public ones, inits and boundary methods)."""
        decls = [shared_global(v, out, m.name == own) for m in modules for v in m.globals.values()]
        for m in modules:
            for f in m.funcs.values():
                key = (f.module, f.name)
                if key in linking.keys:
                    # one pointer, in the main unit, filled at import
                    decls.append(linked_pointer(f, SHARED if own is None else "extern " + SHARED))
                elif key in declared and key in external and key not in bodies_here:
                    decls.append(declared[key])
        return decls

    def write(
        out: Output, funcs: list[ir.FuncDecl], own: str | None
    ) -> tuple[list[str], list[str]]:
        protos: list[str] = []
        bodies: list[str] = []
        for f in funcs:
            key = (f.module, f.name)
            p, b = function_code(out, owner[key], f, effects)
            protos += p
            bodies += b
            if f.module == own and key in external and key in declared:
                bodies.append(entry_definition(f))  # the one the other units call
        return protos, bodies

    def closure(start: list[ir.FuncDecl]) -> list[ir.FuncDecl]:
        """`start` and the small functions they call, transitively."""
        seen = {(f.module, f.name): f for f in start}
        work = list(start)
        while work:
            f = work.pop()
            for e in stmt_exprs(f.body):
                if isinstance(e, ir.Call):
                    key = (e.func.module, e.func.name)
                    if key not in seen and key not in linking.keys and small[key]:
                        seen[key] = e.func
                        work.append(e.func)
        return list(seen.values())

    # each module's unit: its functions, and copies of the small ones they call
    placed = {
        m.name: closure([f for f in m.funcs.values() if (f.module, f.name) not in linking.keys])
        for m in modules
    }
    # what another unit calls gets a shared definition; the rest stays static,
    # which lets the C compiler inline a function called once and drop it
    external = {
        (f.module, f.name) for m in modules for f in m.funcs.values() if f.is_public or f is m.init
    } | {(f.module, f.name) for m in modules for f in m.boundary_methods.values()}
    for unit_module, funcs in placed.items():
        for f in funcs:
            for e in stmt_exprs(f.body):
                if isinstance(e, ir.Call) and e.func.module != unit_module:
                    key = (e.func.module, e.func.name)
                    if key in small and not small[key]:
                        external.add(key)
    texts = []
    for m in modules:
        funcs = placed[m.name]
        if not funcs and not any(v.mutable for v in m.globals.values()):
            continue
        out = Output()
        here = {(f.module, f.name) for f in funcs}
        protos, bodies = write(out, funcs, m.name)
        unit = Unit(out, [*types, *declarations(out, m.name, here)], protos, bodies)
        texts.append(unit.render([]))
    # the main unit: the force-inline and small functions the boundary may call
    out = Output()
    funcs = closure([f for m in modules for f in m.funcs.values() if f.force_inline])
    here = {(f.module, f.name) for f in funcs}
    protos, bodies = write(out, funcs, None)
    main = Unit(
        out, [*types, *declarations(out, None, here), *global_roots(modules)], protos, bodies
    )
    return SplitUnits(texts, main)


def unit_init(modules: list[ir.ModuleIR], linking: Linking = STATIC) -> list[str]:
    """`spy_unit_init()`: every module's init function (its run-time `var`
    globals), in the order the modules load, imports first; the caller runs
    it once, in a region and under a panic guard of its own. A module of
    another package's binary (`linking`) was initialized by it."""
    calls = [
        f"    {symbol_name(m.init)}();"
        for m in modules
        if m.init is not None and m.name not in linking.modules
    ]
    return ["static void spy_unit_init(void) {", *calls, "}"]


def write_program(modules: list[ir.ModuleIR], entry: ir.FuncDecl) -> str:
    """One C unit for an executable whose `main` calls `entry`."""
    unit = build_unit(modules)
    start = [
        *unit_init(modules),
        "int main(int argc, char **argv) {",
        "    spy_wasi_enter_cwd();",
        "    spy_unit_init();",
    ]
    if entry.params:  # main(argv: list[str]): the standard library makes the list
        start += ["    spy_main_argc = argc;", "    spy_main_argv = argv;"]
        make_argv = next(
            f
            for m in modules
            if m.name == "_list"
            for f in m.funcs.values()
            if f.name == "make_argv"
        )
        call = f"{symbol_name(entry)}({symbol_name(make_argv)}())"
    else:
        start += ["    (void)argc;", "    (void)argv;"]
        call = f"{symbol_name(entry)}()"
    if entry.ret == NONE:
        return unit.render([*start, f"    {call};", "    return 0;", "}"])
    # The exit status is the low byte on every target, as POSIX takes it.
    # wasmtime refuses WASI exit statuses from 126 on: such a status is kept
    # for the host (spy_exit_status, which hatch-spy's runner reads) and the
    # module traps, so that no runtime reports success.
    return unit.render(
        [
            "#if defined(__wasm__)",
            "static int spy_exit_status_value = -1;",
            '__attribute__((export_name("spy_exit_status"))) int spy_exit_status(void) {',
            "    return spy_exit_status_value;",
            "}",
            "#endif",
            *start,
            f"    int status = (int)((uint32_t){call} & 0xFF);",
            "#if defined(__wasm__)",
            "    if (status >= 126) {",
            "        spy_exit_status_value = status;",
            "        __builtin_trap();",
            "    }",
            "#endif",
            "    return status;",
            "}",
        ]
    )


def export_entry(func: ir.FuncDecl) -> str:
    """The wasm export of a public function, bracketed by spy_wasm_enter and
    spy_wasm_leave (mode_wasm.c: the nesting depth, freeing at an outermost
    entry, the collector's regions). After a trap the host puts them back
    (spy_recover).

    A struct crosses by address, in an order of our own rather than the C
    ABI's (which passes a one-field struct as its field): a struct argument is
    the address of a copy the host wrote, a struct result is written to the
    address the host passes first."""
    sym = symbol_name(func)
    params, args = [], []
    struct_result = func.ret.kind is Kind.STRUCT
    if struct_result:
        params.append(f"{c_type(func.ret)} *spy$ret")
    for p in func.params:
        name = c_local_name(p.name)
        if p.type.kind is Kind.STRUCT:
            params.append(f"const {c_type(p.type)} *{name}")
            args.append(f"*{name}")
        else:
            params.append(f"{c_type(p.type)} {name}")
            args.append(name)
    call = f"{sym}({', '.join(args)})"
    if func.ret == NONE:
        body, ret_type, tail = f"    {call};\n", "void", ""
    elif struct_result:
        body, ret_type, tail = f"    *spy$ret = {call};\n", "void", ""
    else:
        body, ret_type = f"    {c_type(func.ret)} r = {call};\n", c_type(func.ret)
        tail = "    return r;\n"
    return (
        f'__attribute__((export_name("{sym}"))) {ret_type} {sym}$$export({", ".join(params) or "void"}) {{\n'
        "    spy_wasm_enter();\n"
        f"{body}    spy_wasm_leave();\n{tail}"
        "}"
    )


def write_wasm_library(modules: list[ir.ModuleIR]) -> list[str]:
    """The C units (the main one first, then one per module) of a wasm
    reactor exporting every public function; those whose values hold
    containers are marshalled (marshal.py)."""
    from .marshal import MarshalUnit, needs_marshal  # marshal.py builds on this module

    units = build_units(modules)
    plain = [
        export_entry(f)
        for m in modules
        for f in m.funcs.values()
        if f.is_public and not needs_marshal(f)
    ]
    # the host calls spy_init once, right after instantiating the module
    init = [
        *unit_init(modules),
        '__attribute__((export_name("spy_init"))) void spy_init_export(void) {',
        "    spy_wasi_enter_cwd();",
        "    spy_wasm_enter();",
        "    spy_globals_enter();",
        "    spy_unit_init();",
        "    spy_globals_leave();",
        "    spy_wasm_leave();",
        "}",
    ]
    return [units.main.render([*MarshalUnit(modules).render(), *plain, *init]), *units.modules]
