"""The CPython extension of a compiled package: SPy functions plus Limited API
(abi3, 3.10+) wrappers that convert and check arguments, guard calls that can
panic, and convert results.

The module `<pkg>._spy_native` exposes `_spy_exports`: {module: {name: function}}.
"""

from __future__ import annotations

from . import ir
from .cgen import build_unit, c_string_literal, symbol_name
from .effects import Effects, analyze
from .types import Kind, SpyType

LIMITED_API = "0x030A0000"
EXTENSION_NAME = "_spy_native"


def text_signature(func: ir.FuncDecl) -> str:
    """A docstring whose first line inspect.signature() reads."""
    params = ", ".join(p.name for p in func.params)
    spy_sig = ", ".join(f"{p.name}: {p.type}" for p in func.params)
    # no `$module` parameter: the functions are not bound to a module object,
    # and inspect would show it as an ordinary parameter
    return f"{func.name}({params})\n--\n\nSPy function {func.name}({spy_sig}) -> {func.ret}"


def convert_arg(func: ir.FuncDecl, i: int, t: SpyType) -> list[str]:
    """C that converts argv[i] into local a{i} of type t, or returns NULL."""
    name = func.params[i].name
    fn, pn = c_string_literal(func.name.encode()), c_string_literal(name.encode())
    if t.is_int and t.signed:
        lo, hi = (
            ("INT64_MIN", "INT64_MAX") if t.bits == 64 else (f"{t.min_value}LL", f"{t.max_value}LL")
        )
        return [
            f"int64_t t{i};",
            f'if (spy_py_to_i64(argv[{i}], {fn}, {pn}, {lo}, {hi}, "{t}", &t{i}) < 0) return NULL;',
            f"{t.c_name} a{i} = ({t.c_name})t{i};",
        ]
    if t.is_int:
        return [
            f"uint64_t t{i};",
            f'if (spy_py_to_u64(argv[{i}], {fn}, {pn}, {t.max_value}ULL, "{t}", &t{i}) < 0) return NULL;',
            f"{t.c_name} a{i} = ({t.c_name})t{i};",
        ]
    if t.is_float:
        conv = [
            f"double t{i};",
            f"if (spy_py_to_f64(argv[{i}], {fn}, {pn}, &t{i}) < 0) return NULL;",
        ]
        if t.bits == 32:
            conv.append(f"if (spy_py_check_f32(t{i}, {fn}, {pn}) < 0) return NULL;")
        return [*conv, f"{t.c_name} a{i} = ({t.c_name})t{i};"]
    if t.kind is Kind.BOOL:
        return [
            f"bool a{i};",
            f"if (spy_py_to_bool(argv[{i}], {fn}, {pn}, &a{i}) < 0) return NULL;",
        ]
    if t.kind is Kind.STR:
        return [
            f"spy_Str s{i};",
            f"if (spy_py_to_str(argv[{i}], {fn}, {pn}, &s{i}) < 0) return NULL;",
            f"const spy_Str *a{i} = &s{i};",
        ]
    raise AssertionError(f"no parameter of type {t}")


def convert_result(t: SpyType, value: str) -> str:
    """A C expression: the Python object of result `value` (new reference)."""
    if t.kind is Kind.NONE:
        return "Py_NewRef(Py_None)"
    if t.is_int:
        if t.signed:
            return f"PyLong_FromLongLong((long long){value})"
        return f"PyLong_FromUnsignedLongLong((unsigned long long){value})"
    if t.is_float:
        return f"PyFloat_FromDouble((double){value})"
    if t.kind is Kind.BOOL:
        return f"PyBool_FromLong({value})"
    if t.kind is Kind.STR:
        return f"spy_py_from_str({value})"
    raise AssertionError(f"no result of type {t}")


def wrapper(func: ir.FuncDecl, index: int, effects: Effects) -> str:
    """The METH_FASTCALL wrapper of `func`. What it sets up depends on what the
    call may do (effects.py): a setjmp guard for panics, the GIL's return
    after a long call, an arena mark, the count of calls that see str
    globals. A function that does none of these costs a plain C call."""
    key = (func.module, func.name)
    guarded = key in effects.panics
    polls = key in effects.polls
    allocates = key in effects.allocates
    globals_ = key in effects.str_globals
    n = len(func.params)
    names = ", ".join(c_string_literal(p.name.encode()) for p in func.params)
    lines = [
        f"static PyObject *spy_w{index}(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {{",
        "    (void)self;",
    ]
    if n:
        lines += [
            f"    static const char *const names[] = {{{names}}};",
            f"    PyObject *argv[{n}];",
            f"    if (spy_py_bind({c_string_literal(func.name.encode())}, names, {n}, args, nargs, kwnames, argv) < 0) return NULL;",
        ]
    else:
        lines += [
            "    PyObject *argv[1];",
            f"    if (spy_py_bind({c_string_literal(func.name.encode())}, NULL, 0, args, nargs, kwnames, argv) < 0) return NULL;",
        ]
    for i, p in enumerate(func.params):
        lines += ["    " + c for c in convert_arg(func, i, p.type)]
    # from here on no Python code runs before the call: conversions are done
    release = []
    if allocates:
        lines.append("    size_t mark = spy_arena_mark();")
        release.append("    spy_arena_release(mark);")
    if globals_:
        lines.append("    spy_globals_enter();")
        release.append("    spy_globals_leave();")
    call = f"{symbol_name(func)}({', '.join(f'a{i}' for i in range(n))})"
    ret_decl = f"{func.ret.c_name} r = " if func.ret.kind is not Kind.NONE else ""
    result = convert_result(func.ret, "r")
    if guarded:
        regain = ["    spy_py_regain(prev_host);"] if polls else []
        if polls:
            lines += [
                "    void *prev_host = spy_thread.host_state;",
                "    spy_thread.host_state = NULL;",
            ]
        lines += [
            "    jmp_buf jb;",
            "    void *prev_jmp = spy_thread.panic_jmp;",
            "    spy_thread.panic_jmp = &jb;",
            "    if (setjmp(jb)) {",
            "        spy_thread.panic_jmp = prev_jmp;",
            *["    " + x for x in regain],
            "        PyObject *err = spy_py_raise_panic();",
            *["    " + x for x in release],
            "        return err;",
            "    }",
            f"    {ret_decl}{call};",
            "    spy_thread.panic_jmp = prev_jmp;",
            *regain,
        ]
    else:
        lines.append(f"    {ret_decl}{call};")
    if release:
        lines += [f"    PyObject *res = {result};", *release, "    return res;"]
    else:
        lines.append(f"    return {result};")
    lines.append("}")
    return "\n".join(lines)


def write_extension(modules: list[ir.ModuleIR]) -> str:
    """One C unit: every function of `modules` plus the extension module."""
    unit = build_unit(modules, lambda f: "static ")
    effects = analyze(modules)
    tail: list[str] = []
    tables: list[str] = []
    index = 0
    for m in modules:
        public = [f for f in m.funcs.values() if f.is_public]
        entries = []
        for f in public:
            tail.append(wrapper(f, index, effects))
            doc = c_string_literal(text_signature(f).encode())
            entries.append(
                f"    {{{c_string_literal(f.name.encode())}, (PyCFunction)(void (*)(void))spy_w{index}, "
                f"METH_FASTCALL | METH_KEYWORDS, {doc}}},"
            )
            index += 1
        table = f"spy_defs{len(tables)}"
        tail.append(
            f"static PyMethodDef {table}[] = {{\n"
            + "\n".join([*entries, "    {NULL, NULL, 0, NULL},"])
            + "\n};"
        )
        tables.append(
            f"    if (spy_py_add_module(exports, {c_string_literal(m.name.encode())}, {table}) < 0) goto fail;"
        )
    tail += [
        f"static struct PyModuleDef spy_moduledef = {{PyModuleDef_HEAD_INIT, {c_string_literal(EXTENSION_NAME.encode())}, NULL, -1, NULL, NULL, NULL, NULL, NULL}};",
        "",
        f"PyMODINIT_FUNC PyInit_{EXTENSION_NAME}(void) {{",
        "    PyObject *exports = NULL;",
        "    PyObject *m = PyModule_Create(&spy_moduledef);",
        "    if (m == NULL) return NULL;",
        "    if (spy_py_init() < 0) goto fail;",
        "    exports = PyDict_New();",
        "    if (exports == NULL) goto fail;",
        *tables,
        '    if (PyModule_AddObject(m, "_spy_exports", exports) < 0) goto fail;',
        "    return m;",
        "fail:",
        "    Py_XDECREF(exports);",
        "    Py_DECREF(m);",
        "    return NULL;",
        "}",
    ]
    text = unit.render(tail)
    # Python.h first, as CPython requires, with the Limited API of 3.10
    head = f"#define Py_LIMITED_API {LIMITED_API}\n#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n"
    return text.replace('#include "spy.h"', head + '#include "spy.h"\n#include "spy_cpython.h"', 1)
