"""The CPython extension of a compiled package: SPy functions plus Limited API
(abi3, 3.10+) wrappers that convert and check arguments, guard calls that can
panic, and convert results.

The module `<pkg>._spy_native` exposes `_spy_exports`: {module: {name: function}}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ir
from .boundary import (
    ContainerTable,
    abi_type,
    array_ndim,
    container_items,
    container_kind,
    exported_structs,
    is_array,
)
from .cgen import (
    array_walk_c,
    build_units,
    c_field_name,
    c_string_literal,
    c_type,
    symbol_name,
    unit_init,
)
from .effects import Effects, FuncKey, analyze
from .linking import EXTENSION_NAME, STATIC, Linking
from .mutation import written_params
from .types import Kind, SpyType

LIMITED_API = "0x030A0000"


def text_signature(func: ir.FuncDecl) -> str:
    """A docstring whose first line inspect.signature() reads."""
    params = ", ".join(p.name for p in func.params)
    spy_sig = ", ".join(f"{p.name}: {p.type}" for p in func.params)
    # no `$module` parameter: the functions are not bound to a module object,
    # and inspect would show it as an ordinary parameter
    return f"{func.name}({params})\n--\n\nSPy function {func.name}({spy_sig}) -> {func.ret}"


@dataclass
class StructTable:
    """The structs that cross into Python, numbered in the order the
    extension's `_spy_structs` lists them (fields' structs first)."""

    types: list[SpyType] = field(default_factory=list)

    def index(self, t: SpyType) -> int:
        return next(i for i, u in enumerate(self.types) if u == t)


def holds_container(t: SpyType) -> bool:
    return container_kind(t) is not None


def is_plain_struct(t: SpyType) -> bool:
    """A struct that crosses as its Python class (a container crosses as Python's own)."""
    return t.kind is Kind.STRUCT and not holds_container(t)


def item_to(t: SpyType, src: str, path: str, dest: str, containers: ContainerTable) -> list[str]:
    """C that converts the object `src` into the lvalue `dest` of item type
    `t` (copies: an item outlives any Python object), or returns -1."""
    if holds_container(t):
        return [f"if (spy_py_to_c{containers.index(t)}({src}, fn, {path}, &{dest}) < 0) return -1;"]
    if t.kind is Kind.STR:
        return [f"if (spy_py_to_str_copy({src}, fn, {path}, &{dest}) < 0) return -1;"]
    if t.kind is Kind.STRUCT:
        return [f"if ({struct_copier(t)}({src}, fn, {path}, &{dest}) < 0) return -1;"]
    return [
        "{",
        *("    " + c for c in convert_scalar(src, "fn", path, t, "x", "return -1;")),
        f"    {dest} = x;",
        "}",
    ]


def struct_copier(t: SpyType) -> str:
    """The C function that makes struct `t` from its Python instance with
    its strs copied (an item of a container outlives any Python object)."""
    return f"{t.c_name}$from_py"


def item_steps(t: SpyType, src: str, path: str, dest: str, containers: ContainerTable) -> list[str]:
    """item_to's C, to go inside a `do { ... } while (0)` that sets `rc` on
    failure (so that the caller can drop its references before returning)."""
    return [
        "            " + c.replace("return -1;", "{ rc = -1; break; }")
        for c in item_to(t, src, path, dest, containers)
    ]


def item_from(t: SpyType, value: str, containers: ContainerTable, structs: StructTable) -> str:
    """A C expression: a new reference to the Python object of item `value`."""
    if holds_container(t):
        return f"spy_py_from_c{containers.index(t)}(&{value})"
    return convert_result(t, value, structs, containers)


def container_prototypes(t: SpyType, k: int) -> str:
    # an array's converter holds the argument's buffer for the call
    extra = ", int writable, spy_Py_buffer *views, volatile int *nviews" if is_array(t) else ""
    return (
        f"static int spy_py_to_c{k}(PyObject *o, const char *fn, const char *pn, {t.c_name} *out{extra});\n"
        f"static PyObject *spy_py_from_c{k}(const {t.c_name} *v);"
    )


def array_converters(t: SpyType, containers: ContainerTable) -> str:
    """An array argument is a view of the caller's buffer, made by the
    array's `_from_parts` over the buffer's memory (spy_py_get_array); an
    array result is copied into a new memoryview."""
    k = containers.index(t)
    (dtype,) = container_items(t)
    ndim = array_ndim(t)
    ptr = t.field_type("items")
    assert ptr is not None
    size = dtype.layout("native").size
    kind = (
        "?" if dtype.kind is Kind.BOOL else "f" if dtype.is_float else "i" if dtype.signed else "u"
    )
    return "\n".join(
        [
            f"static const spy_ArraySpec spy_spec{k} = {{'{dtype.buffer_format}', '{kind}', {size}, {ndim}, \"{dtype}\"}};",
            f"static int spy_py_to_c{k}(PyObject *o, const char *fn, const char *pn, {t.c_name} *out, "
            "int writable, spy_Py_buffer *views, volatile int *nviews) {",
            "    void *lowest;",
            "    size_t length;",
            "    int32_t offset, shape[3], strides[3];",
            f"    int held = spy_py_get_array(o, fn, pn, &spy_spec{k}, writable, &views[*nviews], "
            "&lowest, &length, &offset, shape, strides);",
            "    if (held < 0) return -1;",
            "    *nviews += held; /* a buffer view, held from here on */",
            # the view spy_py_get_array measured spans exactly the buffer's
            # items, so it is made here, as _from_parts would make it
            f"    out->{c_field_name('items')} = ({ptr.c_name}){{({c_type(dtype)} *)lowest, length}};",
            f"    out->{c_field_name('offset')} = offset;",
            *(f"    out->{c_field_name(f'n{d}')} = shape[{d}];" for d in range(ndim)),
            *(f"    out->{c_field_name(f's{d}')} = strides[{d}];" for d in range(ndim)),
            "    return 0;",
            "}",
            "",
            f"static PyObject *spy_py_from_c{k}(const {t.c_name} *v) {{",
            *("    " + c for c in array_walk_c("v", ndim)),
            f"    return spy_py_array_out(first, {ndim}, shape, strides, &spy_spec{k});",
            "}",
        ]
    )


def container_converters(t: SpyType, containers: ContainerTable, structs: StructTable) -> str:
    """`spy_py_to_c<k>` (Python object -> container, built in the call's
    region) and `spy_py_from_c<k>` (container -> new Python object)."""
    k = containers.index(t)
    kind = container_kind(t)
    if kind is Kind.ARRAY:
        return array_converters(t, containers)
    items = container_items(t)
    to = [
        f"static int spy_py_to_c{k}(PyObject *o, const char *fn, const char *pn, {t.c_name} *out) {{",
        "    char path[256];",
        "    (void)path;",
    ]
    back = [f"static PyObject *spy_py_from_c{k}(const {t.c_name} *v) {{"]
    if kind is Kind.BYTES:
        raw = c_field_name("__raw__")
        to += [f"    return spy_py_to_bytes_copy(o, fn, pn, &out->{raw});", "}"]
        back += [
            f"    return PyBytes_FromStringAndSize(v->{raw}->utf8, (Py_ssize_t)v->{raw}->length);",
            "}",
        ]
    elif kind is Kind.LIST:
        (item,) = items
        data = f"out->{c_field_name('__ll__')}.p"
        to += [
            f'    Py_ssize_t n = spy_py_sequence_size(o, fn, pn, "{abi_type(t).python}");',
            "    if (n < 0) return -1;",
            f"    *out = {symbol_name(containers.method(t, 'with_capacity'))}(n > 4 ? (int32_t)n : 4);",
            f"    {c_type(item)} *items = {data}->{c_field_name('items')}.p;",
            "    for (Py_ssize_t i = 0; i < n; i++) {",
            "        PyObject *x = PySequence_GetItem(o, i);",
            "        if (x == NULL) return -1;",
            "        const char *at = spy_py_item_path(path, sizeof path, pn, i, NULL);",
            "        int rc = 0;",
            "        do {",
            *item_steps(item, "x", "at", "items[i]", containers),
            "        } while (0);",
            "        Py_DECREF(x);",
            "        if (rc < 0) return -1;",
            f"        {data}->{c_field_name('length')} = (int32_t)(i + 1);",
            "    }",
            "    return 0;",
            "}",
        ]
        vdata = f"v->{c_field_name('__ll__')}.p"
        back += [
            f"    int32_t n = {vdata}->{c_field_name('length')};",
            "    PyObject *r = PyList_New(n);",
            "    if (r == NULL) return NULL;",
            "    for (int32_t i = 0; i < n; i++) {",
            f"        PyObject *x = {item_from(item, vdata + '->' + c_field_name('items') + '.p[i]', containers, structs)};",
            "        if (x == NULL) {",
            "            Py_DECREF(r);",
            "            return NULL;",
            "        }",
            "        PyList_SetItem(r, i, x);",
            "    }",
            "    return r;",
            "}",
        ]
    elif kind is Kind.DICT:
        key, value = items
        to += [
            "    PyObject *pairs = PyMapping_Items(o);",
            "    if (pairs == NULL) {",
            "        if (!PyMapping_Check(o) || PyErr_ExceptionMatches(PyExc_AttributeError)) {",
            "            PyErr_Clear();",
            f'            return spy_py_type_error(o, fn, pn, "{abi_type(t).python}");',
            "        }",
            "        return -1;",
            "    }",
            "    Py_ssize_t n = PyList_Size(pairs);",
            f"    *out = {symbol_name(containers.method(t, '_with_capacity'))}((int32_t)n);",
            "    for (Py_ssize_t i = 0; i < n; i++) {",
            "        PyObject *pair = PyList_GetItem(pairs, i);",
            "        PyObject *kobj = PyTuple_GetItem(pair, 0), *vobj = PyTuple_GetItem(pair, 1);",
            f"        {c_type(key)} kv;",
            f"        {c_type(value)} vv;",
            "        int rc = 0;",
            "        do {",
            '            snprintf(path, sizeof path, "a key of %s", pn);',
            "            const char *at = path;",
            *item_steps(key, "kobj", "at", "kv", containers),
            "            at = spy_py_item_path(path, sizeof path, pn, 0, kobj);",
            *item_steps(value, "vobj", "at", "vv", containers),
            "        } while (0);",
            "        if (rc < 0) {",
            "            Py_DECREF(pairs);",
            "            return -1;",
            "        }",
            f"        *out = {symbol_name(containers.method(t, '_push'))}(*out, kv, vv);",
            "    }",
            "    Py_DECREF(pairs);",
            "    return 0;",
            "}",
        ]
        vdata = f"v->{c_field_name('__dd__')}.p"
        entry = f"{vdata}->{c_field_name('entries')}.p[i]"
        back += [
            "    PyObject *r = PyDict_New();",
            "    if (r == NULL) return NULL;",
            f"    for (int32_t i = 0; i < {vdata}->{c_field_name('used')}; i++) {{",
            f"        if (!{entry}.{c_field_name('alive')}) continue;",
            f"        PyObject *kx = {item_from(key, entry + '.' + c_field_name('key'), containers, structs)};",
            f"        PyObject *vx = kx == NULL ? NULL : {item_from(value, entry + '.' + c_field_name('value'), containers, structs)};",
            "        if (vx == NULL || PyDict_SetItem(r, kx, vx) < 0) {",
            "            Py_XDECREF(kx);",
            "            Py_XDECREF(vx);",
            "            Py_DECREF(r);",
            "            return NULL;",
            "        }",
            "        Py_DECREF(kx);",
            "        Py_DECREF(vx);",
            "    }",
            "    return r;",
            "}",
        ]
    else:  # a tuple: its items are the struct's fields
        to += [
            f'    Py_ssize_t n = spy_py_sequence_size(o, fn, pn, "{abi_type(t).python}");',
            "    if (n < 0) return -1;",
            f"    if (n != {len(items)}) {{",
            "        PyErr_Format(PyExc_TypeError, \"%s() argument '%s' must have %d items, not %zd\", "
            f"fn, pn, {len(items)}, n);",
            "        return -1;",
            "    }",
        ]
        back += [f"    PyObject *r = PyTuple_New({len(items)});", "    if (r == NULL) return NULL;"]
        for j, (f, item) in enumerate(zip(t.fields, items, strict=True)):
            dest = f"out->{c_field_name(f.name)}"
            to += [
                "    {",
                f"        PyObject *x = PySequence_GetItem(o, {j});",
                "        if (x == NULL) return -1;",
                f"        const char *at = spy_py_item_path(path, sizeof path, pn, {j}, NULL);",
                "        int rc = 0;",
                "        do {",
                *item_steps(item, "x", "at", dest, containers),
                "        } while (0);",
                "        Py_DECREF(x);",
                "        if (rc < 0) return -1;",
                "    }",
            ]
            back += [
                f"    PyObject *x{j} = {item_from(item, 'v->' + c_field_name(f.name), containers, structs)};",
                f"    if (x{j} == NULL) {{",
                "        Py_DECREF(r);",
                "        return NULL;",
                "    }",
                f"    PyTuple_SetItem(r, {j}, x{j});",
            ]
        to += ["    return 0;", "}"]
        back += ["    return r;", "}"]
    return "\n".join([*to, "", *back])


def str_slots(t: SpyType) -> int:
    """How many spy_Str headers an argument of struct type `t` needs."""
    return sum(
        1 if f.type.kind is Kind.STR else str_slots(f.type) if f.type.kind is Kind.STRUCT else 0
        for f in t.fields
    )


def kept_refs(t: SpyType) -> int:
    """How many field-value tuples an argument of struct type `t` keeps alive."""
    return 1 + sum(kept_refs(f.type) for f in t.fields if f.type.kind is Kind.STRUCT)


def convert_scalar(src: str, fn: str, pn: str, t: SpyType, dest: str, fail: str) -> list[str]:
    """C that converts the object `src` into a new local `dest` of scalar type
    `t`; on a bad value, the Python error is set and `fail` runs."""
    if t.is_int and t.signed:
        lo, hi = (
            ("INT64_MIN", "INT64_MAX") if t.bits == 64 else (f"{t.min_value}LL", f"{t.max_value}LL")
        )
        return [
            f"int64_t {dest}_t;",
            f'if (spy_py_to_i64({src}, {fn}, {pn}, {lo}, {hi}, "{t}", &{dest}_t) < 0) {fail}',
            f"{t.c_name} {dest} = ({t.c_name}){dest}_t;",
        ]
    if t.is_int:
        return [
            f"uint64_t {dest}_t;",
            f'if (spy_py_to_u64({src}, {fn}, {pn}, {t.max_value}ULL, "{t}", &{dest}_t) < 0) {fail}',
            f"{t.c_name} {dest} = ({t.c_name}){dest}_t;",
        ]
    if t.is_float:
        conv = [
            f"double {dest}_t;",
            f"if (spy_py_to_f64({src}, {fn}, {pn}, &{dest}_t) < 0) {fail}",
        ]
        if t.bits == 32:
            conv.append(f"if (spy_py_check_f32({dest}_t, {fn}, {pn}) < 0) {fail}")
        return [*conv, f"{t.c_name} {dest} = ({t.c_name}){dest}_t;"]
    if t.kind is Kind.BOOL:
        return [
            f"bool {dest};",
            f"if (spy_py_to_bool({src}, {fn}, {pn}, &{dest}) < 0) {fail}",
        ]
    raise AssertionError(f"{t} is not a scalar")


def convert_arg(
    func: ir.FuncDecl,
    i: int,
    t: SpyType,
    structs: StructTable,
    containers: ContainerTable,
    keep: int,
    fail: str,
    writes: bool = False,
) -> list[str]:
    """C that converts argv[i] into local a{i} of type t, or runs `fail`.
    A struct argument keeps its field tuples from `keep[keep]` on; an array
    argument holds its buffer in `views` (writable when the call `writes`)."""
    name = func.params[i].name
    fn, pn = c_string_literal(func.name.encode()), c_string_literal(name.encode())
    if is_array(t):
        return [
            f"{t.c_name} a{i};",
            f"if (spy_py_to_c{containers.index(t)}(argv[{i}], {fn}, {pn}, &a{i}, {int(writes)}, "
            f"views, &nviews) < 0) {fail}",
        ]
    if holds_container(t):
        return [
            f"{t.c_name} a{i};",
            f"if (spy_py_to_c{containers.index(t)}(argv[{i}], {fn}, {pn}, &a{i}) < 0) {fail}",
        ]
    if t.kind is Kind.STR:
        return [
            f"spy_Str s{i};",
            f"if (spy_py_to_str(argv[{i}], {fn}, {pn}, &s{i}) < 0) {fail}",
            f"const spy_Str *a{i} = &s{i};",
        ]
    if t.kind is Kind.STRUCT:
        k = structs.index(t)
        return [
            f"{t.c_name} a{i};",
            f"spy_Str s{i}[{max(1, str_slots(t))}];",
            f"if (spy_py_to_struct{k}(argv[{i}], {fn}, {pn}, &a{i}, s{i}, keep + {keep}) < 0) {fail}",
        ]
    return convert_scalar(f"argv[{i}]", fn, pn, t, f"a{i}", fail)


def convert_result(
    t: SpyType, value: str, structs: StructTable, containers: ContainerTable | None = None
) -> str:
    """A C expression: the Python object of result `value` (new reference)."""
    if containers is not None and holds_container(t):
        return f"spy_py_from_c{containers.index(t)}(&{value})"
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
    if t.kind is Kind.STRUCT:
        return f"spy_py_from_struct{structs.index(t)}(&{value})"
    raise AssertionError(f"no result of type {t}")


def struct_converters(t: SpyType, structs: StructTable) -> str:
    """The two C functions that take struct `t` from Python and give it back.
    A field's value was checked when the instance was made; it is checked
    again here, since Python code can replace an instance's values."""
    k = structs.index(t)
    name = c_string_literal(t.name.encode())
    to = [
        f"static int spy_py_to_struct{k}(PyObject *o, const char *fn, const char *pn, "
        f"{t.c_name} *out, spy_Str *strs, PyObject **keep) {{",
        f"    PyObject *v = spy_py_struct_values(o, spy_struct_cls[{k}], {name}, fn, pn, {len(t.fields)});",
        "    if (v == NULL) return -1;",
        "    keep[0] = v;",
    ]
    back = [
        f"static PyObject *spy_py_from_struct{k}(const {t.c_name} *v) {{",
        f"    PyObject *t = PyTuple_New({len(t.fields)});",
        "    if (t == NULL) return NULL;",
        "    PyObject *x;",
    ]
    strs, kept = 0, 1
    for j, f in enumerate(t.fields):
        item, dest = f"PyTuple_GetItem(v, {j})", f"out->{c_field_name(f.name)}"
        ft = f.type
        if ft.kind is Kind.STRUCT:
            to.append(
                f"    if (spy_py_to_struct{structs.index(ft)}({item}, fn, pn, &{dest}, "
                f"strs + {strs}, keep + {kept}) < 0) return -1;"
            )
            strs, kept = strs + str_slots(ft), kept + kept_refs(ft)
        elif ft.kind is Kind.STR:
            to += [
                f"    if (spy_py_to_str({item}, fn, pn, &strs[{strs}]) < 0) return -1;",
                f"    {dest} = &strs[{strs}];",
            ]
            strs += 1
        else:
            conv = convert_scalar(item, "fn", "pn", ft, "x", "return -1;")
            to += ["    {", *("        " + c for c in conv), f"        {dest} = x;", "    }"]
        back += [
            f"    x = {convert_result(ft, 'v->' + c_field_name(f.name), structs)};",
            "    if (x == NULL) {",
            "        Py_DECREF(t);",
            "        return NULL;",
            "    }",
            f"    PyTuple_SetItem(t, {j}, x);",
        ]
    to += ["    return 0;", "}"]
    # the copying form, for a struct inside a container
    copy = [
        f"static int {struct_copier(t)}(PyObject *o, const char *fn, const char *pn, {t.c_name} *out) {{",
        f"    PyObject *v = spy_py_struct_values(o, spy_struct_cls[{k}], {name}, fn, pn, {len(t.fields)});",
        "    if (v == NULL) return -1;",
        "    int rc = 0;",
        "    do {",
        *(
            c
            for j, f in enumerate(t.fields)
            for c in item_steps(
                f.type,
                f"PyTuple_GetItem(v, {j})",
                "pn",
                f"out->{c_field_name(f.name)}",
                ContainerTable(),
            )
        ),
        "    } while (0);",
        "    Py_DECREF(v);",
        "    return rc;",
        "}",
    ]
    back += [
        f"    if (spy_struct_raw[{k}] == NULL) {{",
        "        Py_DECREF(t);",
        f'        PyErr_SetString(PyExc_SystemError, "spy_runtime did not bind struct " {name});',
        "        return NULL;",
        "    }",
        f"    return spy_py_struct_new(spy_struct_raw[{k}], t);",
        "}",
    ]
    return "\n".join([*to, "", *copy, "", *back])


def wrapper(
    func: ir.FuncDecl,
    index: int,
    effects: Effects,
    structs: StructTable,
    containers: ContainerTable,
    written: frozenset[int] = frozenset(),
) -> str:
    """The METH_FASTCALL wrapper of `func`. What it sets up depends on what the
    call may do (effects.py): a setjmp guard for panics, the GIL's return
    after a long call, an arena mark, the count of calls that see str
    globals. A function that does none of these costs a plain C call.
    Container arguments are built in the call's region, under its guard (a
    dict's inserts are SPy code), so for them all of it comes first; an
    array argument is a view made in C, so it needs none of it."""
    key = (func.module, func.name)
    early = any(holds_container(p.type) and not is_array(p.type) for p in func.params)
    guarded = key in effects.panics or early
    polls = key in effects.polls
    allocates = key in effects.allocates or early or holds_container(func.ret)
    globals_ = key in effects.str_globals
    n = len(func.params)
    names = ", ".join(c_string_literal(p.name.encode()) for p in func.params)
    lines = [
        f"static PyObject *spy_w{index}(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {{",
        "    (void)self;",
    ]
    fname = c_string_literal(func.name.encode())
    # all-positional calls (nearly all) take the arguments where they are;
    # keywords and wrong counts go through spy_py_bind, out of line
    lines += [
        f"    static const char *const names[] = {{{names or 'NULL'}}};",
        f"    PyObject *bound[{max(n, 1)}];",
        "    PyObject *const *argv = args;",
        f"    if (kwnames != NULL || nargs != {n}) {{",
        f"        if (spy_py_bind({fname}, names, {n}, args, nargs, kwnames, bound) < 0) return NULL;",
        "        argv = bound;",
        "    }",
    ]
    # struct arguments' field tuples, kept alive until the call has returned
    kept = sum(kept_refs(p.type) for p in func.params if is_plain_struct(p.type))
    if kept:
        lines.append(f"    PyObject *keep[{kept}] = {{NULL}};")
    # what holds the arguments (released last on every path, and alone when
    # a conversion before the call's set-up fails)
    release = [f"    spy_py_release(keep, {kept});"] if kept else []
    arrays = sum(1 for p in func.params if is_array(p.type))
    if arrays:
        # the buffers of array arguments, held until the result is converted
        lines += [
            f"    spy_Py_buffer views[{arrays}];",
            "    volatile int nviews = 0;",
            "    size_t foreign_mark = spy_foreign_mark();",
        ]
        release += [
            "    spy_py_release_views(views, nviews);",
            "    spy_foreign_release(foreign_mark);",
        ]
    release_args = len(release)
    setup: list[str] = []
    if allocates:
        # a region of the collector; leaving frees the call's temporaries
        setup += ["    spy_GcRegion region;", "    spy_gc_enter(&region);"]
        release.append("    spy_gc_leave(&region, true);")
    hold = ["    int32_t prev_hold = spy_thread.hold_host;", "    spy_thread.hold_host = 1;"]
    if globals_:
        # a call that sees `var` globals holding strs or blocks (a dict it
        # may grow) keeps the GIL throughout: two such calls never overlap
        setup += ["    spy_globals_enter();", *hold]
        release += ["    spy_thread.hold_host = prev_hold;", "    spy_globals_leave();"]
    regain = ["    spy_py_regain(prev_host);"] if guarded and polls else []
    guard: list[str] = []
    if guarded:
        if polls:
            guard += [
                "    void *prev_host = spy_thread.host_state;",
                "    spy_thread.host_state = NULL;",
            ]
        guard += [
            "    jmp_buf jb;",
            "    void *prev_jmp = spy_thread.panic_jmp;",
            "    spy_thread.panic_jmp = &jb;",
            "    if (setjmp(jb)) {",
            "        spy_thread.panic_jmp = prev_jmp;",
            *(["        spy_thread.hold_host = prev_hold;"] if early else []),
            *["    " + x for x in regain],
            "        PyObject *err = spy_py_raise_panic();",
            *["    " + x for x in release],
            "        return err;",
            "    }",
        ]
    undo = (
        ["spy_thread.panic_jmp = prev_jmp;", "spy_thread.hold_host = prev_hold;"] if early else []
    ) + [x.strip() for x in (regain if early else [])]
    fail_steps = [*undo, *(x.strip() for x in (release if early else release[:release_args]))]
    fail = "{ " + " ".join([*fail_steps, "return NULL;"]) + " }" if fail_steps else "return NULL;"
    conversions: list[str] = []
    offset = 0
    for i, p in enumerate(func.params):
        conversions += [
            "    " + c
            for c in convert_arg(func, i, p.type, structs, containers, offset, fail, i in written)
        ]
        if is_plain_struct(p.type):
            offset += kept_refs(p.type)
    if early and globals_:  # held for the whole call already
        lines += [*setup, *guard, *conversions]
    elif early:
        # converting a container runs SPy code (a dict's inserts probe in a
        # loop) between Python calls: its polls keep the GIL meanwhile
        lines += [*setup, *hold, *guard, *conversions, "    spy_thread.hold_host = prev_hold;"]
    else:
        # from here on no Python code runs before the call: conversions are done
        lines += [*conversions, *setup, *guard]
    call = f"{symbol_name(func)}({', '.join(f'a{i}' for i in range(n))})"
    ret_decl = f"{func.ret.c_name} r = " if func.ret.kind is not Kind.NONE else ""
    result = convert_result(func.ret, "r", structs, containers)
    lines.append(f"    {ret_decl}{call};")
    if guarded:
        lines += ["    spy_thread.panic_jmp = prev_jmp;", *regain]
    if release:
        lines += [f"    PyObject *res = {result};", *release, "    return res;"]
    else:
        lines.append(f"    return {result};")
    lines.append("}")
    return "\n".join(lines)


def struct_names(structs: StructTable) -> str:
    """Py_BuildValue's arguments for the tuple of the structs' qualified names."""
    fmt = "(" + "s" * len(structs.types) + ")"
    names = [c_string_literal(t.fqn.encode()) for t in structs.types]
    return ", ".join([f'"{fmt}"', *names])


@dataclass(frozen=True)
class Exports:
    """What the extension's capsule tells packages that link it dynamically:
    its distribution, version, and each public function's signature hash."""

    dist: str = ""
    version: str = ""
    hashes: dict[FuncKey, str] = field(default_factory=dict)


def api_table(modules: list[ir.ModuleIR], exports: Exports) -> list[str]:
    """`spy_api`: the capsule's data, its entries sorted by name."""
    entries = sorted(
        (f"{f.module}.{f.name}", exports.hashes[(f.module, f.name)], symbol_name(f))
        for m in modules
        for f in m.funcs.values()
        if (f.module, f.name) in exports.hashes
    )
    rows = [
        f"    {{{c_string_literal(n.encode())}, {c_string_literal(h.encode())}, (void *){c}}},"
        for n, h, c in entries
    ]
    return [
        f"static const spy_ApiEntry spy_api_entries[{max(len(rows), 1)}] = {{",
        *(rows or ["    {NULL, NULL, NULL},"]),
        "};",
        "static spy_Api spy_api = {SPY_RUNTIME_ABI_MAJOR, SPY_RUNTIME_ABI_MINOR, NULL, "
        f"{c_string_literal(exports.dist.encode())}, {c_string_literal(exports.version.encode())}, "
        f"{len(rows)}, spy_api_entries}};",
    ]


def link_table(modules: list[ir.ModuleIR], linking: Linking) -> list[str]:
    """`spy_links`: the functions called in other packages' binaries, with
    the pointers spy_py_link fills."""
    funcs = {(f.module, f.name): f for m in modules for f in m.funcs.values()}
    rows = [
        "    {"
        + ", ".join(
            c_string_literal(s.encode())
            for s in (x.extension, x.dist, x.version, x.requirement, x.symbol, x.signature_hash)
        )
        + f", (void **)&{symbol_name(funcs[(x.module, x.name)])}}},"
        for x in linking.links
    ]
    return [
        f"static const spy_Link spy_links[{max(len(rows), 1)}] = {{",
        *(rows or ["    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},"]),
        "};",
    ]


def write_extension(
    modules: list[ir.ModuleIR], exports: Exports | None = None, linking: Linking = STATIC
) -> list[str]:
    """The C units of the extension (cgen.build_units): the main one, with
    the extension module, which publishes the `exports` and links what
    `linking` names, then one per module."""
    exports = exports or Exports()
    effects = analyze(modules, linking.keys)
    units = build_units(modules, linking, effects)
    written = written_params(modules)
    structs = StructTable(exported_structs(modules))
    containers = ContainerTable.of(modules)
    n = len(structs.types)
    tail: list[str] = [
        f"static PyObject *spy_struct_cls[{max(n, 1)}];",
        f"static PyObject *spy_struct_raw[{max(n, 1)}];",
        *(struct_converters(t, structs) for t in structs.types),
        # prototypes first: a container's converters may call each other's
        *(container_prototypes(t, k) for k, t in enumerate(containers.types)),
        *(container_converters(t, containers, structs) for t in containers.types),
        *unit_init(modules, linking),
        *api_table(modules, exports),
        *link_table(modules, linking),
        # the run-time `var` globals, at import: a panic is the import's error
        "static int spy_run_unit_init(void) {",
        "    spy_GcRegion region;",
        "    spy_gc_enter(&region);",
        "    spy_globals_enter();",
        "    int32_t prev_hold = spy_thread.hold_host;",
        "    spy_thread.hold_host = 1; /* an import holds the GIL throughout */",
        "    int rc = 0;",
        "    jmp_buf jb;",
        "    void *prev_jmp = spy_thread.panic_jmp;",
        "    spy_thread.panic_jmp = &jb;",
        "    if (setjmp(jb)) {",
        "        spy_py_raise_panic();",
        "        rc = -1;",
        "    } else {",
        "        spy_unit_init();",
        "    }",
        "    spy_thread.panic_jmp = prev_jmp;",
        "    spy_thread.hold_host = prev_hold;",
        "    spy_globals_leave();",
        "    spy_gc_leave(&region, true);",
        "    return rc;",
        "}",
        "static PyObject *spy_bind_structs(PyObject *self, PyObject *classes) {",
        "    (void)self;",
        f"    return spy_py_bind_structs(classes, spy_struct_cls, spy_struct_raw, {n});",
        "}",
        "static PyMethodDef spy_module_methods[] = {",
        '    {"_spy_bind_structs", spy_bind_structs, METH_O, NULL},',
        "    {NULL, NULL, 0, NULL},",
        "};",
    ]
    tables: list[str] = []
    index = 0
    for m in modules:
        public = [f for f in m.funcs.values() if f.is_public]
        entries = []
        for f in public:
            tail.append(
                wrapper(
                    f,
                    index,
                    effects,
                    structs,
                    containers,
                    written.get((f.module, f.name), frozenset()),
                )
            )
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
        f"static struct PyModuleDef spy_moduledef = {{PyModuleDef_HEAD_INIT, {c_string_literal(EXTENSION_NAME.encode())}, NULL, -1, spy_module_methods, NULL, NULL, NULL, NULL}};",
        "",
        f"PyMODINIT_FUNC PyInit_{EXTENSION_NAME}(void) {{",
        "    PyObject *exports = NULL;",
        "    PyObject *m = PyModule_Create(&spy_moduledef);",
        "    if (m == NULL) return NULL;",
        "    if (spy_py_init() < 0 || spy_py_publish_api(m, &spy_api) < 0) goto fail;",
        # the packages it links first: their functions may run in its init
        f"    if (spy_py_link(spy_links, {len(linking.links)}, &spy_api) < 0) goto fail;",
        "    if (spy_run_unit_init() < 0) goto fail;",
        "    exports = PyDict_New();",
        "    if (exports == NULL) goto fail;",
        *tables,
        '    if (PyModule_AddObject(m, "_spy_exports", exports) < 0) goto fail;',
        "    exports = NULL; /* stolen */",
        f"    PyObject *names = Py_BuildValue({struct_names(structs)});",
        '    if (names == NULL || PyModule_AddObject(m, "_spy_structs", names) < 0) {',
        "        Py_XDECREF(names);",
        "        goto fail;",
        "    }",
        "    return m;",
        "fail:",
        "    Py_XDECREF(exports);",
        "    Py_DECREF(m);",
        "    return NULL;",
        "}",
    ]
    text = units.main.render(tail)
    # Python.h first, as CPython requires, with the Limited API of 3.10
    head = f"#define Py_LIMITED_API {LIMITED_API}\n#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n"
    main = text.replace('#include "spy.h"', head + '#include "spy.h"\n#include "spy_cpython.h"', 1)
    return [main, *units.modules]
