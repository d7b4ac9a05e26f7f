/* Helpers for the CPython extension of a compiled SPy package.
 *
 * Included only by the generated extension unit, after Python.h with
 * Py_LIMITED_API set to 3.10: everything here is stable ABI (abi3).
 * The messages match what the wasm backend raises (spy_runtime/_convert.py),
 * so both backends fail alike.
 */
#ifndef SPY_CPYTHON_H
#define SPY_CPYTHON_H

#include <setjmp.h>

#include "spy.h"

/* set by the wrapper around a call that can panic; see mode_cpython.c */
extern _Thread_local jmp_buf *spy_panic_jmp;
extern void (*spy_out_hook)(const char *s, size_t n);

static PyObject *spy_py_raise_panic_fn; /* spy_runtime._panic.raise_panic */

/* print() output of SPy code: to sys.stdout, so it interleaves with Python's
   output and redirect_stdout captures it. Best effort, as print is. */
static void spy_py_write(const char *s, size_t n) {
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    if (out != NULL && out != Py_None) {
        PyObject *text = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
        PyObject *write = PyObject_GetAttrString(out, "write");
        if (text != NULL && write != NULL) Py_XDECREF(PyObject_CallFunctionObjArgs(write, text, NULL));
        Py_XDECREF(text);
        Py_XDECREF(write);
    }
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

static int spy_py_init(void) {
    spy_out_hook = spy_py_write;
    PyObject *mod = PyImport_ImportModule("spy_runtime._panic");
    if (mod == NULL) return -1;
    spy_py_raise_panic_fn = PyObject_GetAttrString(mod, "raise_panic");
    Py_DECREF(mod);
    return spy_py_raise_panic_fn == NULL ? -1 : 0;
}

/* Turn spy_last_panic into a Python exception; always returns NULL. */
static PyObject *spy_py_raise_panic(void) {
    PyObject *args = Py_BuildValue(
        "(ss#si)", spy_last_panic.kind, spy_last_panic.message,
        (Py_ssize_t)spy_last_panic.message_length, spy_last_panic.file,
        (int)spy_last_panic.line);
    if (args == NULL) return NULL;
    PyObject *r = PyObject_CallObject(spy_py_raise_panic_fn, args);
    Py_DECREF(args);
    Py_XDECREF(r);
    return NULL;
}

static PyObject *spy_py_type_name(PyObject *o) {
    PyObject *t = PyObject_Type(o);
    if (t == NULL) return NULL;
    PyObject *name = PyObject_GetAttrString(t, "__name__");
    Py_DECREF(t);
    return name;
}

static int spy_py_type_error(PyObject *o, const char *func, const char *param,
                             const char *expected) {
    PyObject *name = spy_py_type_name(o);
    if (name == NULL) return -1;
    PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be %s, not %U", func, param,
                 expected, name);
    Py_DECREF(name);
    return -1;
}

/* Python's own rules for binding positional and keyword arguments. */
static int spy_py_bind(const char *func, const char *const *names, Py_ssize_t n,
                       PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                       PyObject **out) {
    if (kwnames == NULL && nargs == n) {
        for (Py_ssize_t i = 0; i < n; i++) out[i] = args[i];
        return 0;
    }
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd positional argument%s but %zd %s given",
                     func, n, n == 1 ? "" : "s", nargs, nargs == 1 ? "was" : "were");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_Size(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);
        Py_ssize_t i = 0;
        while (i < n && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) i++;
        if (i == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", func,
                         key);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", func,
                         names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    Py_ssize_t missing = 0;
    for (Py_ssize_t i = 0; i < n; i++) missing += out[i] == NULL;
    if (missing) {
        /* Python lists the missing names: 'a', 'b' and 'c' */
        PyObject *list = PyUnicode_FromString("");
        Py_ssize_t seen = 0;
        for (Py_ssize_t i = 0; i < n && list != NULL; i++) {
            if (out[i] != NULL) continue;
            const char *sep = seen == 0 ? "" : (seen == missing - 1 ? (missing > 2 ? ", and " : " and ") : ", ");
            PyObject *piece = PyUnicode_FromFormat("%U%s'%s'", list, sep, names[i]);
            Py_DECREF(list);
            list = piece;
            seen++;
        }
        if (list == NULL) return -1;
        PyErr_Format(PyExc_TypeError, "%s() missing %zd required positional argument%s: %U",
                     func, missing, missing == 1 ? "" : "s", list);
        Py_DECREF(list);
        return -1;
    }
    return 0;
}

/* operator.index(o): ints and other __index__ types (numpy integers) */
static int spy_py_index(PyObject *o, const char *func, const char *param, PyObject **out) {
    if (PyLong_Check(o)) {
        Py_INCREF(o);
        *out = o;
        return 0;
    }
    *out = PyNumber_Index(o);
    if (*out != NULL) return 0;
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) return -1;
    PyErr_Clear();
    return spy_py_type_error(o, func, param, "int");
}

static int spy_py_range_error(PyObject *v, const char *func, const char *param,
                              const char *tname) {
    PyErr_Format(PyExc_OverflowError, "%s() argument '%s' is out of range for %s: %S", func,
                 param, tname, v);
    return -1;
}

static int spy_py_to_i64(PyObject *o, const char *func, const char *param, int64_t min,
                         int64_t max, const char *tname, int64_t *out) {
    if (PyLong_Check(o)) { /* the common case: no __index__, no refcounting */
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (!overflow && x >= min && x <= max) {
            *out = (int64_t)x;
            return 0;
        }
        if (x == -1 && PyErr_Occurred()) return -1;
        return spy_py_range_error(o, func, param, tname);
    }
    PyObject *v;
    if (spy_py_index(o, func, param, &v) < 0) return -1;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) {
        Py_DECREF(v);
        return -1;
    }
    if (overflow || x < min || x > max) {
        spy_py_range_error(v, func, param, tname);
        Py_DECREF(v);
        return -1;
    }
    Py_DECREF(v);
    *out = (int64_t)x;
    return 0;
}

static int spy_py_to_u64(PyObject *o, const char *func, const char *param, uint64_t max,
                         const char *tname, uint64_t *out) {
    PyObject *v;
    if (spy_py_index(o, func, param, &v) < 0) return -1;
    unsigned long long x = PyLong_AsUnsignedLongLong(v);
    if (x == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear(); /* negative or too large */
        spy_py_range_error(v, func, param, tname);
        Py_DECREF(v);
        return -1;
    }
    if (x > max) {
        spy_py_range_error(v, func, param, tname);
        Py_DECREF(v);
        return -1;
    }
    Py_DECREF(v);
    *out = (uint64_t)x;
    return 0;
}

/* float(o) without parsing strings: floats, ints, __float__ and __index__ */
static int spy_py_to_f64(PyObject *o, const char *func, const char *param, double *out) {
    double x = PyFloat_AsDouble(o);
    if (x == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) return -1; /* huge int: OverflowError */
        PyErr_Clear();
        return spy_py_type_error(o, func, param, "float");
    }
    *out = x;
    return 0;
}

static int spy_py_to_bool(PyObject *o, const char *func, const char *param, bool *out) {
    if (!PyBool_Check(o)) return spy_py_type_error(o, func, param, "bool");
    *out = o == Py_True;
    return 0;
}

static int spy_py_to_str(PyObject *o, const char *func, const char *param,
                         const spy_Str **out) {
    if (!PyUnicode_Check(o)) return spy_py_type_error(o, func, param, "str");
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(o, &n);
    if (utf8 == NULL) return -1; /* lone surrogates */
    *out = spy_str_new(utf8, (size_t)n);
    return 0;
}

static PyObject *spy_py_from_str(const spy_Str *s) {
    return PyUnicode_FromStringAndSize(s->utf8, (Py_ssize_t)s->length);
}

static int spy_py_add_module(PyObject *exports, const char *module, PyMethodDef *defs) {
    PyObject *name = PyUnicode_FromString(module);
    PyObject *funcs = PyDict_New();
    if (name == NULL || funcs == NULL) goto fail;
    for (PyMethodDef *d = defs; d->ml_name != NULL; d++) {
        PyObject *f = PyCFunction_NewEx(d, NULL, name);
        if (f == NULL || PyDict_SetItemString(funcs, d->ml_name, f) < 0) {
            Py_XDECREF(f);
            goto fail;
        }
        Py_DECREF(f);
    }
    if (PyDict_SetItem(exports, name, funcs) < 0) goto fail;
    Py_DECREF(name);
    Py_DECREF(funcs);
    return 0;
fail:
    Py_XDECREF(name);
    Py_XDECREF(funcs);
    return -1;
}

#endif /* SPY_CPYTHON_H */
