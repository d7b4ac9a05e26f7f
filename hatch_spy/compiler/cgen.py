"""C backend: typed IR -> one C translation unit.

All modules of a program go into one unit so that the C compiler can inline
across them. The output includes only `spy.h` from libspy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import ir
from .effects import children
from .errors import Loc
from .types import BOOL, F32, F64, NONE, STR, SpyType

_SAFE = re.compile(r"[A-Za-z0-9_$]")


def mangle(name: str) -> str:
    """A C identifier piece: dots become `$`, anything unusual `_uXXXX`."""
    return "".join("$" if c == "." else c if _SAFE.match(c) else f"_u{ord(c):04x}" for c in name)


def c_func_name(module: str, name: str) -> str:
    return f"spy_{mangle(module)}${mangle(name)}"


def c_global_name(var: ir.GlobalVar) -> str:
    return f"spyg_{mangle(var.module)}${mangle(var.name)}"


def c_local_name(name: str) -> str:
    return f"v_{mangle(name)}"


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

    literals: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def literal(self, value: str) -> str:
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
            data = value.encode("utf-8")
            yield (
                f"static const spy_Str {name} = SPY_STR_LITERAL({len(data)}, {len(value)}, "
                f"{c_string_literal(data)});"
            )


def const_expr(value: ir.ConstValue, t: SpyType, out: Output) -> str:
    if t == STR:
        assert isinstance(value, str)
        return out.literal(value)
    if t == BOOL:
        return "true" if value else "false"
    if t.is_int:
        assert isinstance(value, int)
        return c_int_literal(value, t)
    if t.is_float:
        assert isinstance(value, (int, float))
        return c_float_literal(float(value), t)
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


def c_type(t: SpyType) -> str:
    return t.c_name


def signature(func: ir.FuncDecl, c_name: str, storage: str) -> str:
    params = ", ".join(f"{c_type(p.type)} {c_local_name(p.name)}" for p in func.params)
    return f"{storage}{c_type(func.ret)} {c_name}({params or 'void'})"


class FunctionWriter:
    def __init__(self, out: Output, module: ir.ModuleIR, func: ir.FuncDecl) -> None:
        self.out = out
        self.func = func
        self.file = out.file(module.filename)
        self.lines: list[str] = []
        self.temps = 0

    def write(self, storage: str) -> str:
        self.lines.append(
            signature(self.func, c_func_name(self.func.module, self.func.name), storage) + " {"
        )
        params = {p.name for p in self.func.params}
        for name, t in self.func.locals.items():
            if name not in params:
                init = self.out.literal("") if t == STR else "0"
                self.lines.append(f"    {c_type(t)} {c_local_name(name)} = {init};")
        self.block(self.func.body, 1)
        self.lines.append("}")
        return "\n".join(self.lines)

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def loc_args(self, loc: Loc) -> str:
        return f"{self.file}, {loc.line}"

    # ---- statements ---------------------------------------------------------

    def block(self, stmts: list[ir.Stmt], depth: int) -> None:
        for s in stmts:
            self.stmt(s, depth)

    def stmt(self, s: ir.Stmt, depth: int) -> None:
        if isinstance(s, ir.Assign):
            self.emit(depth, f"{self.expr(s.target)} = {self.expr(s.value)};")
        elif isinstance(s, ir.ExprStmt):
            self.emit(depth, f"(void)({self.expr(s.value)});")
        elif isinstance(s, ir.If):
            self.if_(s, depth)
        elif isinstance(s, ir.While):
            self.emit(depth, f"while ({self.expr(s.test)}) {{")
            self.block(s.body, depth + 1)
            self.emit(depth, "}")
        elif isinstance(s, ir.ForRange):
            self.for_range(s, depth)
        elif isinstance(s, ir.Break):
            self.emit(depth, "break;")
        elif isinstance(s, ir.Continue):
            self.emit(depth, "continue;")
        elif isinstance(s, ir.Return):
            self.emit(depth, "return;" if s.value is None else f"return {self.expr(s.value)};")
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

    def for_range(self, s: ir.ForRange, depth: int) -> None:
        t = s.var.type
        ct = c_type(t)
        var = c_local_name(s.var.name)
        n = self.temps = self.temps + 1
        self.emit(depth, "{")
        if s.step is None:
            # i < stop <= MAX, so the increment never overflows
            self.emit(depth + 1, f"{ct} _stop{n} = {self.expr(s.stop)};")
            self.emit(
                depth + 1, f"for ({ct} _i{n} = {self.expr(s.start)}; _i{n} < _stop{n}; _i{n}++) {{"
            )
            self.emit(depth + 2, f"{var} = _i{n};")
        else:
            self.emit(depth + 1, f"{ct} _start{n} = {self.expr(s.start)};")
            self.emit(depth + 1, f"{ct} _stop{n} = {self.expr(s.stop)};")
            self.emit(depth + 1, f"{ct} _step{n} = {self.expr(s.step)};")
            self.emit(
                depth + 1,
                f"uint64_t _n{n} = spy_range_len(_start{n}, _stop{n}, _step{n}, {self.loc_args(s.loc)});",
            )
            self.emit(depth + 1, f"{ct} _v{n} = _start{n};")
            self.emit(
                depth + 1,
                f"for (uint64_t _k{n} = 0; _k{n} < _n{n}; _k{n}++, _v{n} = ({ct})(_v{n} + _step{n})) {{",
            )
            self.emit(depth + 2, f"{var} = _v{n};")
        self.block(s.body, depth + 2)
        self.emit(depth + 1, "}")
        self.emit(depth, "}")

    def print_(self, s: ir.Print, depth: int) -> None:
        for i, a in enumerate(s.args):
            if i:
                self.emit(depth, "spy_print_sep();")
            self.emit(depth, self.print_call(a) + ";")
        self.emit(depth, "spy_print_end();")

    def print_call(self, a: ir.Expr) -> str:
        t = a.type
        if t == NONE:
            return "spy_print_none()"
        v = self.expr(a)
        if t == STR:
            return f"spy_print_str({v})"
        if t == BOOL:
            return f"spy_print_bool({v})"
        if t == F64:
            return f"spy_print_f64({v})"
        if t == F32:
            return f"spy_print_f32({v})"
        if t.signed:
            return f"spy_print_i64((int64_t)({v}))"
        return f"spy_print_u64((uint64_t)({v}))"

    # ---- expressions ----------------------------------------------------------

    def ordered(self, operands: list[ir.Expr], build: Callable[[list[str]], str]) -> str:
        """`build(c_operands)`, evaluating operands left to right when order matters."""
        if sum(may_have_effects(o) for o in operands) < 2:
            return build([self.expr(o) for o in operands])
        decls, names = [], []
        for o in operands:
            self.temps += 1
            name = f"_e{self.temps}"
            decls.append(f"{c_type(o.type)} {name} = {self.expr(o)};")
            names.append(name)
        return "({ " + " ".join(decls) + f" {build(names)}; }})"

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return const_expr(e.value, e.type, self.out)
        if isinstance(e, ir.LocalRef):
            return c_local_name(e.name)
        if isinstance(e, ir.GlobalRef):
            return c_global_name(e.var)
        if isinstance(e, ir.Call):
            name = c_func_name(e.func.module, e.func.name)
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
            return f"(({v})->length != 0)" if e.value.type == STR else f"(({v}) != 0)"
        if isinstance(e, ir.StrOf):
            return self.str_of(e.value)
        if isinstance(e, ir.StrConcat):
            return self.ordered([e.left, e.right], lambda a: f"spy_str_concat({a[0]}, {a[1]})")
        if isinstance(e, ir.StrLen):
            return f"spy_str_len({self.expr(e.value)})"
        if isinstance(e, ir.ParseStr):
            return self.parse_str(e)
        if isinstance(e, ir.Let):
            name = c_local_name(e.name)
            return f"({{ {c_type(e.value.type)} {name} = {self.expr(e.value)}; {self.expr(e.body)}; }})"
        raise AssertionError(f"unknown expression {e!r}")

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
        return f"({left} {e.op} {right})"

    def convert(self, e: ir.Convert) -> str:
        src, dst = e.value.type, e.type
        v = self.expr(e.value)
        if src.is_float and dst.is_int:
            return f"spy_f64_to_{dst.name}((double)({v}))"
        return f"(({c_type(dst)})({v}))"

    def str_of(self, value: ir.Expr) -> str:
        t = value.type
        v = self.expr(value)
        if t == BOOL:
            return f"spy_str_from_bool({v})"
        if t == F64:
            return f"spy_str_from_f64({v})"
        if t == F32:
            return f"spy_str_from_f32({v})"
        if t.signed:
            return f"spy_str_from_i64((int64_t)({v}))"
        return f"spy_str_from_u64((uint64_t)({v}))"

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
    value = const_expr(var.value, var.type, out)
    qual = "" if var.mutable else "const "
    if var.type == STR:
        return f"static const spy_Str *{qual}{c_global_name(var)} = {value};"
    return f"static {qual}{c_type(var.type)} {c_global_name(var)} = {value};"


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


def build_unit(modules: list[ir.ModuleIR], storage: Callable[[ir.FuncDecl], str]) -> Unit:
    """Globals, prototypes and bodies of all `modules`; `storage` gives each
    function's C storage class and attributes."""
    out = Output()
    funcs = [(m, f) for m in modules for f in m.funcs.values()]
    globals_ = [global_definition(v, out) for m in modules for v in m.globals.values()]
    protos = [signature(f, symbol_name(f), storage(f)) + ";" for _, f in funcs]
    bodies = [FunctionWriter(out, m, f).write(storage(f)) for m, f in funcs]
    return Unit(out, globals_, protos, bodies)


def write_program(modules: list[ir.ModuleIR], entry: ir.FuncDecl) -> str:
    """One C unit for an executable whose `main` calls `entry`."""
    unit = build_unit(modules, lambda f: "static ")
    call = f"{symbol_name(entry)}()"
    main_body = f"return {call};" if entry.ret != NONE else f"{call};\n    return 0;"
    return unit.render(
        [
            "int main(int argc, char **argv) {",
            "    (void)argc;",
            "    (void)argv;",
            f"    {main_body}",
            "}",
        ]
    )


def write_wasm_library(modules: list[ir.ModuleIR]) -> str:
    """One C unit for a wasm reactor exporting every public function."""

    def storage(f: ir.FuncDecl) -> str:
        if f.is_public:
            return f'__attribute__((export_name("{symbol_name(f)}"))) '
        return "static "

    return build_unit(modules, storage).render([])
