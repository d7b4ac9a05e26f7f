/* Helpers for the CPython extension of a compiled SPy package.
 *
 * Included only by the generated extension unit, after Python.h with
 * Py_LIMITED_API set to 3.10: everything here is stable ABI (abi3).
 * The messages match what the wasm backend raises (spy_runtime/_convert.py),
 * so both backends fail alike.
 */
#ifndef SPY_CPYTHON_H
#define SPY_CPYTHON_H

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>

#include "spy.h"

#include <signal.h>
#include <string.h>

/* hooks of mode_cpython.c, set at import */
extern void (*spy_out_hook)(const char *s, size_t n);
extern void (*spy_poll_hook)(const char *file, int32_t line);

static PyObject *spy_py_raise_panic_fn; /* spy_runtime._panic.raise_panic */
static PyObject *spy_py_numpy_name;     /* "numpy", for spy_py_numpy_array */

/* ---- the GIL during long calls --------------------------------------------
 * A call that polls (it has a loop or recursion) keeps the GIL only until its
 * first slow poll, about SPY_POLL_INTERVAL loop iterations in: then it checks
 * for signals and releases the GIL (spy_thread.host_state) so that other
 * Python threads run while it computes. Whatever needs Python again (print,
 * a panic, the result) takes the GIL back first: spy_py_hold/spy_py_unhold. */
static void spy_py_hold(void **saved) {
    *saved = spy_thread.host_state;
    if (*saved != NULL) {
        spy_thread.host_state = NULL;
        PyEval_RestoreThread((PyThreadState *)*saved);
    }
}

static void spy_py_unhold(void *saved) {
    if (saved != NULL) spy_thread.host_state = PyEval_SaveThread();
}

/* After a guarded call: take the GIL back if the call released it, and put
   back the caller's saved state (a nested call's caller held the GIL). */
static inline void spy_py_regain(void *prev) {
    if (SPY_UNLIKELY(spy_thread.host_state != NULL))
        PyEval_RestoreThread((PyThreadState *)spy_thread.host_state);
    spy_thread.host_state = prev;
}

/* ---- Ctrl-C ----------------------------------------------------------------
 * Python's own SIGINT handler only sets a flag that the interpreter reads
 * between bytecodes; a thread computing without the GIL would never see it.
 * So a long call chains a handler of ours in front of whatever C handler is
 * installed (Python's, asyncio's is Python's too): it sets `pending`, then
 * calls the previous one. Re-chained at the start of every long call, since
 * signal.signal() reinstalls Python's handler. One handler per process,
 * shared by every SPy extension through a capsule on spy_runtime._panic, so
 * that two extensions never chain each other in a loop. */
typedef struct spy_Sigint {
    volatile sig_atomic_t pending;
    struct sigaction previous;
    void (*handler)(int, siginfo_t *, void *);
} spy_Sigint;

static spy_Sigint spy_sigint_own;
static spy_Sigint *spy_sigint = &spy_sigint_own;
static unsigned long spy_py_main_ident; /* threading.main_thread().ident */

static void spy_sigint_handler(int sig, siginfo_t *info, void *ctx) {
    spy_Sigint *s = &spy_sigint_own;
    s->pending = 1;
    if (s->previous.sa_flags & SA_SIGINFO)
        s->previous.sa_sigaction(sig, info, ctx);
    else if (s->previous.sa_handler != SIG_DFL && s->previous.sa_handler != SIG_IGN)
        s->previous.sa_handler(sig);
}

static void spy_sigint_chain(void) {
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) != 0) return;
    if (cur.sa_flags & SA_SIGINFO) {
        if (cur.sa_sigaction == spy_sigint->handler) return; /* ours already */
    } else if (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN) {
        return; /* Ctrl-C kills or is ignored: nothing to forward */
    }
    spy_sigint->previous = cur;
    struct sigaction ours = cur;
    ours.sa_sigaction = spy_sigint->handler;
    ours.sa_flags |= SA_SIGINFO;
    sigaction(SIGINT, &ours, NULL);
}

static void spy_py_after_fork_child(void) {
    /* the thread that forked is the child's main thread, as for Python */
    spy_py_main_ident = PyThread_get_thread_ident();
}

/* Unwind to the innermost guarded call with the Python exception that is set. */
SPY_NORETURN static void spy_py_unwind(const char *file, int32_t line) {
    spy_panic(SPY_PANIC_HOST, "", file, line);
}

static void spy_py_poll(const char *file, int32_t line) {
    if (spy_thread.panic_jmp == NULL) return; /* not inside a guarded call */
    if (spy_thread.hold_host) { /* converting arguments: the next Python call needs the GIL */
        if (PyErr_CheckSignals() < 0) spy_py_unwind(file, line);
        return;
    }
    bool main_thread = PyThread_get_thread_ident() == spy_py_main_ident;
    if (spy_thread.host_state == NULL) {
        /* first slow poll of this call: it is a long one */
        if (PyErr_CheckSignals() < 0) spy_py_unwind(file, line);
        if (main_thread) spy_sigint_chain();
        spy_thread.host_state = PyEval_SaveThread();
    } else if (main_thread && spy_sigint->pending) {
        spy_sigint->pending = 0;
        void *saved;
        spy_py_hold(&saved);
        int rc = PyErr_CheckSignals();
        if (rc < 0) spy_py_unwind(file, line); /* the wrapper keeps the GIL */
        spy_py_unhold(saved);
    }
}

/* print() output of SPy code: to sys.stdout, so it interleaves with Python's
   output and redirect_stdout captures it. A write that raises (Ctrl-C, a
   closed file) unwinds the call with that exception, as Python's print does. */
static void spy_py_write(const char *s, size_t n) {
    void *saved;
    spy_py_hold(&saved);
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    if (out == NULL || out == Py_None) { /* no stdout: print does nothing */
        spy_py_unhold(saved);
        return;
    }
    Py_INCREF(out); /* the write may replace sys.stdout */
    PyObject *text = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "replace");
    PyObject *r = text == NULL ? NULL : PyObject_CallMethod(out, "write", "O", text);
    Py_XDECREF(text);
    Py_DECREF(out);
    if (r == NULL) spy_py_unwind("<print>", 0); /* the wrapper holds the GIL now */
    Py_DECREF(r);
    spy_py_unhold(saved);
}

/* ---- the process's one SPy runtime (spy.h, "one runtime per process") ----
 * The first extension of a runtime ABI publishes its state as a capsule on
 * spy_runtime._panic; the next ones use it, so packages linked dynamically
 * share strings, blocks, globals' pinning and panics. An extension of another
 * runtime ABI keeps its own (it can call no other package's code directly:
 * the linking of a dependency checks that both use one runtime). */
#define SPY_PY_XSTR(x) #x
#define SPY_PY_STR(x) SPY_PY_XSTR(x)
#define SPY_PY_RUNTIME_ATTR \
    "_runtime_" SPY_PY_STR(SPY_RUNTIME_ABI_MAJOR) "_" SPY_PY_STR(SPY_RUNTIME_ABI_MINOR)
#define SPY_PY_RUNTIME_CAPSULE \
    "spy_runtime.runtime." SPY_PY_STR(SPY_RUNTIME_ABI_MAJOR) "." SPY_PY_STR(SPY_RUNTIME_ABI_MINOR)

static int spy_py_join_runtime(PyObject *mod) {
    PyObject *cap = PyObject_GetAttrString(mod, SPY_PY_RUNTIME_ATTR);
    if (cap != NULL) {
        spy_Process *p = (spy_Process *)PyCapsule_GetPointer(cap, SPY_PY_RUNTIME_CAPSULE);
        Py_DECREF(cap);
        if (p == NULL) return -1;
        /* the same ABI number must mean the same layouts; if a build disagrees, stay apart */
        if (p->abi_major == SPY_RUNTIME_ABI_MAJOR && p->abi_minor == SPY_RUNTIME_ABI_MINOR &&
            p->size == sizeof(spy_Process) && p->thread_size == sizeof(spy_Thread))
            spy_process = p;
    } else {
        PyErr_Clear();
        cap = PyCapsule_New(spy_process, SPY_PY_RUNTIME_CAPSULE, NULL);
        if (cap == NULL || PyObject_SetAttrString(mod, SPY_PY_RUNTIME_ATTR, cap) < 0) {
            Py_XDECREF(cap);
            return -1;
        }
        Py_DECREF(cap);
    }
    if (!spy_process_add_unit(spy_unit_global_roots)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* ---- dynamic linking between packages ----------------------------------------
 * Every extension publishes its public functions as `_spy_api`: a capsule
 * holding its distribution and version, the runtime it joined, and per
 * function ("module.name") its signature hash and address. A package built
 * with link = "dynamic" calls the functions it uses of another package
 * through pointers that spy_py_link fills at import, each after comparing
 * the hash recorded at build time with the one the installed binary has; a
 * difference is an ImportError (spy_runtime._linking words it). */
typedef struct spy_ApiEntry {
    const char *name;
    const char *hash;
    void *fn;
} spy_ApiEntry;

typedef struct spy_Api {
    uint32_t abi_major, abi_minor;
    spy_Process *process; /* the runtime its code uses, set at import */
    const char *dist;
    const char *version;
    size_t n;
    const spy_ApiEntry *entries; /* sorted by name */
} spy_Api;

typedef struct spy_Link {
    const char *extension;   /* "vecmath._spy_native" */
    const char *dist;        /* the dependency's distribution */
    const char *version;     /* the version built against */
    const char *requirement; /* the versions admitted */
    const char *name;        /* "vecmath.vec.dot" */
    const char *hash;
    void **slot;
} spy_Link;

#define SPY_PY_API_CAPSULE "spy_runtime.api"

static int spy_py_publish_api(PyObject *m, spy_Api *api) {
    api->process = spy_process;
    PyObject *cap = PyCapsule_New(api, SPY_PY_API_CAPSULE, NULL);
    if (cap == NULL || PyModule_AddObject(m, "_spy_api", cap) < 0) {
        Py_XDECREF(cap);
        return -1;
    }
    return 0;
}

/* ImportError(spy_runtime._linking.link_error_c(...)) */
static int spy_py_link_error(const spy_Api *self, const spy_Link *l, const char *installed,
                             int missing) {
    PyObject *mod = PyImport_ImportModule("spy_runtime._linking");
    if (mod == NULL) return -1;
    PyObject *package = PyUnicode_FromFormat("%s %s", self->dist, self->version);
    PyObject *msg = package == NULL ? NULL
                                    : PyObject_CallMethod(mod, "link_error_c", "Osssssi", package,
                                                          l->dist, l->version, l->requirement,
                                                          l->name, installed, missing);
    Py_XDECREF(package);
    Py_DECREF(mod);
    if (msg == NULL) return -1;
    PyErr_SetObject(PyExc_ImportError, msg);
    Py_DECREF(msg);
    return -1;
}

static int spy_py_link(const spy_Link *links, size_t n, const spy_Api *self) {
    for (size_t i = 0; i < n; i++) {
        const spy_Link *l = &links[i];
        PyObject *ext = PyImport_ImportModule(l->extension);
        if (ext == NULL) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            PyObject *cause = value != NULL ? value : type;
            PyErr_Format(PyExc_ImportError,
                         "%s %s links %s dynamically, but its native extension %s does not "
                         "load (%S): install '%s%s' built for this platform",
                         self->dist, self->version, l->dist, l->extension,
                         cause != NULL ? cause : Py_None, l->dist, l->requirement);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            return -1;
        }
        PyObject *cap = PyObject_GetAttrString(ext, "_spy_api");
        Py_DECREF(ext);
        const spy_Api *api =
            cap == NULL ? NULL : (const spy_Api *)PyCapsule_GetPointer(cap, SPY_PY_API_CAPSULE);
        Py_XDECREF(cap); /* the module stays in sys.modules: its data stays */
        if (api == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_ImportError,
                         "%s %s links %s dynamically, but %s publishes no SPy functions (built "
                         "by an older hatch-spy?): install '%s%s' built by this one",
                         self->dist, self->version, l->dist, l->extension, l->dist, l->requirement);
            return -1;
        }
        if (api->process != spy_process) {
            PyErr_Format(PyExc_ImportError,
                         "%s %s links %s %s dynamically, but they run on different SPy runtimes "
                         "(runtime ABI %u.%u and %u.%u): rebuild %s against the installed %s, "
                         "or install '%s%s' built for runtime ABI %u.%u",
                         self->dist, self->version, api->dist, api->version,
                         (unsigned)SPY_RUNTIME_ABI_MAJOR, (unsigned)SPY_RUNTIME_ABI_MINOR,
                         (unsigned)api->abi_major, (unsigned)api->abi_minor, self->dist,
                         api->dist, l->dist, l->requirement, (unsigned)SPY_RUNTIME_ABI_MAJOR,
                         (unsigned)SPY_RUNTIME_ABI_MINOR);
            return -1;
        }
        const spy_ApiEntry *found = NULL;
        for (size_t k = 0; k < api->n && found == NULL; k++)
            if (strcmp(api->entries[k].name, l->name) == 0) found = &api->entries[k];
        if (found == NULL || strcmp(found->hash, l->hash) != 0)
            return spy_py_link_error(self, l, api->version, found == NULL);
        *l->slot = found->fn;
    }
    return 0;
}

static int spy_py_init(void) {
    spy_out_hook = spy_py_write;
    spy_poll_hook = spy_py_poll;
    spy_py_numpy_name = PyUnicode_InternFromString("numpy");
    if (spy_py_numpy_name == NULL) return -1;
    PyObject *mod = PyImport_ImportModule("spy_runtime._panic");
    if (mod == NULL) return -1;
    spy_py_raise_panic_fn = PyObject_GetAttrString(mod, "raise_panic");
    if (spy_py_raise_panic_fn == NULL || spy_py_join_runtime(mod) < 0) goto fail;
    /* the process's one Ctrl-C handler: the first SPy extension's */
    PyObject *cap = PyObject_GetAttrString(mod, "_sigint_capsule");
    if (cap != NULL) {
        spy_Sigint *shared = (spy_Sigint *)PyCapsule_GetPointer(cap, "spy_runtime.sigint");
        Py_DECREF(cap);
        if (shared == NULL) goto fail;
        spy_sigint = shared;
    } else {
        PyErr_Clear();
        spy_sigint_own.handler = spy_sigint_handler;
        cap = PyCapsule_New(&spy_sigint_own, "spy_runtime.sigint", NULL);
        if (cap == NULL || PyObject_SetAttrString(mod, "_sigint_capsule", cap) < 0) {
            Py_XDECREF(cap);
            goto fail;
        }
        Py_DECREF(cap);
    }
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) goto fail;
    PyObject *main_thread = PyObject_CallMethod(threading, "main_thread", NULL);
    Py_DECREF(threading);
    if (main_thread == NULL) goto fail;
    PyObject *ident = PyObject_GetAttrString(main_thread, "ident");
    Py_DECREF(main_thread);
    if (ident == NULL) goto fail;
    spy_py_main_ident = PyLong_AsUnsignedLong(ident);
    Py_DECREF(ident);
    if (PyErr_Occurred()) goto fail;
    pthread_atfork(NULL, NULL, spy_py_after_fork_child);
    Py_DECREF(mod);
    return spy_py_raise_panic_fn == NULL ? -1 : 0;
fail:
    Py_DECREF(mod);
    return -1;
}

/* The thread's panic as a Python exception (or the Python exception a poll
   left pending); always returns NULL. Called with the GIL held. */
static PyObject *spy_py_raise_panic(void) {
    const spy_PanicInfo *p = &spy_thread.panic;
    if (strcmp(p->kind, SPY_PANIC_HOST) == 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_SystemError, "SPy poll unwound without an exception");
        return NULL;
    }
    PyObject *args = Py_BuildValue("(ss#si)", p->kind, p->message,
                                   (Py_ssize_t)p->message_length, p->file, (int)p->line);
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

/* Python's own rules for binding positional and keyword arguments. The
   wrapper handles all-positional calls itself (SPY_PY_BIND) and calls this
   only for the rest. */
static __attribute__((noinline)) int spy_py_bind(const char *func, const char *const *names, Py_ssize_t n,
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

static __attribute__((noinline)) int spy_py_to_i64_slow(PyObject *o, const char *func,
                                                        const char *param, int64_t min,
                                                        int64_t max, const char *tname,
                                                        int64_t *out) {
    if (PyLong_Check(o)) { /* an int subclass (bool), or out of range */
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

/* The common case inline, in the wrapper: an exact int in range. The exact
   type test is a compare (PyLong_Check is a call to PyType_GetFlags under the
   Limited API); everything else takes the slow path. */
static inline __attribute__((always_inline)) int spy_py_to_i64(PyObject *o, const char *func,
                                                               const char *param, int64_t min,
                                                               int64_t max, const char *tname,
                                                               int64_t *out) {
    if (Py_IS_TYPE(o, &PyLong_Type)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (!overflow && x >= min && x <= max) {
            *out = (int64_t)x;
            return 0;
        }
    }
    return spy_py_to_i64_slow(o, func, param, min, max, tname, out);
}

static __attribute__((noinline)) int spy_py_to_u64_slow(PyObject *o, const char *func,
                                                        const char *param, uint64_t max,
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

/* As spy_py_to_i64: an exact int in range inline, the rest out of line. */
static inline __attribute__((always_inline)) int spy_py_to_u64(PyObject *o, const char *func,
                                                               const char *param, uint64_t max,
                                                               const char *tname, uint64_t *out) {
    if (Py_IS_TYPE(o, &PyLong_Type)) {
        unsigned long long x = PyLong_AsUnsignedLongLong(o);
        if (x == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear(); /* negative or too large: the slow path words the error */
        } else if (x <= max) {
            *out = (uint64_t)x;
            return 0;
        }
    }
    return spy_py_to_u64_slow(o, func, param, max, tname, out);
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

/* an f64 for an f32 must round to a finite f32, as struct.pack('f') requires */
static int spy_py_check_f32(double x, const char *func, const char *param) {
    float y = (float)x;
    if (isinf(y) && !isinf(x)) {
        PyObject *v = PyFloat_FromDouble(x);
        if (v == NULL) return -1;
        PyErr_Format(PyExc_OverflowError, "%s() argument '%s' is out of range for f32: %R",
                     func, param, v);
        Py_DECREF(v);
        return -1;
    }
    return 0;
}

static int spy_py_to_bool(PyObject *o, const char *func, const char *param, bool *out) {
    if (!PyBool_Check(o)) return spy_py_type_error(o, func, param, "bool");
    *out = o == Py_True;
    return 0;
}

/* A str argument: a header over the object's own UTF-8 (cached in the str,
   alive while the caller holds its arguments), so nothing is copied. */
static int spy_py_to_str(PyObject *o, const char *func, const char *param, spy_Str *out) {
    if (!PyUnicode_Check(o)) return spy_py_type_error(o, func, param, "str");
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(o, &n);
    if (utf8 == NULL) return -1; /* lone surrogates */
    out->length = (size_t)n;
    out->ncp = (size_t)PyUnicode_GetLength(o);
    out->utf8 = utf8;
    out->kind = SPY_STR_HOST;
    return 0;
}

static PyObject *spy_py_from_str(const spy_Str *s) {
    return PyUnicode_FromStringAndSize(s->utf8, (Py_ssize_t)s->length);
}

/* ---- structs -------------------------------------------------------------
   An exported struct is a Python class made by spy_runtime (_structs.py) whose
   instances hold their field values in one tuple, `_spy_values`. The runtime
   hands the extension its classes once, at import (spy_py_bind_structs), in
   the order of the extension's `_spy_structs` names. */

/* The field values of struct argument `o` (a new reference, which the
   wrapper keeps until the call returns: str fields point into them), after
   checking that `o` is an instance of `cls`, exactly. */
static PyObject *spy_py_struct_values(PyObject *o, PyObject *cls, const char *name,
                                      const char *func, const char *param, Py_ssize_t n) {
    if (cls == NULL) {
        PyErr_Format(PyExc_SystemError, "%s() was called before spy_runtime bound struct %s",
                     func, name);
        return NULL;
    }
    if ((PyObject *)Py_TYPE(o) != cls) {
        spy_py_type_error(o, func, param, name);
        return NULL;
    }
    PyObject *v = PyObject_GetAttrString(o, "_spy_values");
    if (v == NULL) return NULL;
    if (!PyTuple_Check(v) || PyTuple_Size(v) != n) {
        Py_DECREF(v);
        PyErr_Format(PyExc_TypeError, "%s() argument '%s': a damaged %s instance", func, param,
                     name);
        return NULL;
    }
    return v;
}

/* A struct result: `raw(*values)` makes the instance without checking the
   values again. Steals `values`. */
static PyObject *spy_py_struct_new(PyObject *raw, PyObject *values) {
    if (values == NULL) return NULL;
    PyObject *r = PyObject_CallObject(raw, values);
    Py_DECREF(values);
    return r;
}

static void spy_py_release(PyObject **keep, int n) {
    for (int i = 0; i < n; i++) Py_XDECREF(keep[i]);
}

/* `_spy_bind_structs(classes)`: remember each class and its raw maker. */
static PyObject *spy_py_bind_structs(PyObject *classes, PyObject **cls, PyObject **raw,
                                     Py_ssize_t n) {
    if (!PyTuple_Check(classes) || PyTuple_Size(classes) != n) {
        PyErr_Format(PyExc_TypeError, "_spy_bind_structs() takes a tuple of %zd classes", n);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PyTuple_GetItem(classes, i);
        PyObject *r = PyObject_GetAttrString(c, "_spy_raw");
        if (r == NULL) return NULL;
        Py_INCREF(c);
        PyObject *old_cls = cls[i], *old_raw = raw[i];
        cls[i] = c;
        raw[i] = r;
        Py_XDECREF(old_cls);
        Py_XDECREF(old_raw);
    }
    return Py_NewRef(Py_None);
}

/* ---- containers -----------------------------------------------------------
   list, dict, tuple and bytes cross as Python's own. Their items are copied
   into the call's region (strs too: a container's items have no Python object
   to point into for as long as the SPy value may live). An item's error names
   the argument and where the item is: 'xs[3]', 'd['key']', 'p[1]'. */

/* the path of item `i` of `pn` (or of a key, when key is not NULL) */
static const char *spy_py_item_path(char *buf, size_t cap, const char *pn, Py_ssize_t i,
                                    PyObject *key) {
    if (key == NULL) {
        snprintf(buf, cap, "%s[%zd]", pn, i);
        return buf;
    }
    PyObject *r = PyObject_Repr(key);
    const char *text = r == NULL ? NULL : PyUnicode_AsUTF8AndSize(r, NULL);
    snprintf(buf, cap, "%s[%.200s]", pn, text == NULL ? "?" : text);
    Py_XDECREF(r);
    PyErr_Clear(); /* a key whose repr fails still gets a path */
    return buf;
}

static int spy_py_to_str_copy(PyObject *o, const char *func, const char *param,
                              const spy_Str **out) {
    if (!PyUnicode_Check(o)) return spy_py_type_error(o, func, param, "str");
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(o, &n);
    if (utf8 == NULL) return -1; /* lone surrogates */
    *out = spy_str_new(utf8, (size_t)n);
    return 0;
}

/* bytes (or a bytearray) into the bytes struct's raw str */
static int spy_py_to_bytes_copy(PyObject *o, const char *func, const char *param,
                                const spy_Str **out) {
    char *data;
    Py_ssize_t n;
    if (PyBytes_Check(o)) {
        if (PyBytes_AsStringAndSize(o, &data, &n) < 0) return -1;
    } else if (PyByteArray_Check(o)) {
        data = PyByteArray_AsString(o);
        n = PyByteArray_Size(o);
    } else {
        return spy_py_type_error(o, func, param, "bytes");
    }
    *out = spy_str_new(data, (size_t)n);
    return 0;
}

/* a sequence for list[T] or tuple[...]: any but str, bytes and bytearray,
   whose items Python would not give one by one as a list's */
static Py_ssize_t spy_py_sequence_size(PyObject *o, const char *func, const char *param,
                                       const char *expected) {
    if (PyUnicode_Check(o) || PyBytes_Check(o) || PyByteArray_Check(o) || !PySequence_Check(o)) {
        spy_py_type_error(o, func, param, expected);
        return -1;
    }
    Py_ssize_t n = PySequence_Size(o);
    if (n > INT32_MAX / 2) {
        PyErr_Format(PyExc_OverflowError, "%s() argument '%s' has too many items", func, param);
        return -1;
    }
    return n;
}

/* ---- arrays: the buffer protocol -------------------------------------------
 * An array argument views the caller's buffer in place (a NumPy array, an
 * array.array, a memoryview, a bytearray): the function's writes are the
 * caller's. Py_buffer, PyObject_GetBuffer and PyBuffer_Release joined the
 * Limited API in 3.11; this extension targets 3.10, so it declares the
 * struct as CPython has laid it out since 3.0 (3.11's stable ABI froze that
 * layout) and looks the two functions up in the running interpreter at
 * import, where every CPython since 3.0 has them. */
typedef struct {
    void *buf;
    PyObject *obj;
    Py_ssize_t len;
    Py_ssize_t itemsize;
    int readonly;
    int ndim;
    char *format;
    Py_ssize_t *shape;
    Py_ssize_t *strides;
    Py_ssize_t *suboffsets;
    void *internal;
} spy_Py_buffer;

#define SPY_PYBUF_FORMAT 0x0004
#define SPY_PYBUF_STRIDES 0x0018 /* PyBUF_STRIDES: shape and strides, any layout */

static int (*spy_py_get_buffer_fn)(PyObject *, spy_Py_buffer *, int);
static void (*spy_py_release_buffer_fn)(spy_Py_buffer *);

static int spy_py_find_buffer_api(void) {
    if (spy_py_get_buffer_fn != NULL) return 0;
    spy_py_get_buffer_fn = (int (*)(PyObject *, spy_Py_buffer *, int))dlsym(RTLD_DEFAULT, "PyObject_GetBuffer");
    spy_py_release_buffer_fn = (void (*)(spy_Py_buffer *))dlsym(RTLD_DEFAULT, "PyBuffer_Release");
    if (spy_py_get_buffer_fn == NULL || spy_py_release_buffer_fn == NULL) {
        spy_py_get_buffer_fn = NULL;
        PyErr_SetString(PyExc_ImportError, "this Python has no PyObject_GetBuffer to look up");
        return -1;
    }
    return 0;
}

/* What an array's item type is in the buffer protocol: its code ('d'),
   the kind of code that matches ('s' signed, 'u' unsigned, 'f' float, 'b'
   bool; the size is the buffer's itemsize), its size, its SPy name. */
typedef struct {
    char code;
    char kind;
    int size;
    int ndim;
    const char *name;
} spy_ArraySpec;

/* the kind of a buffer's format ('s', 'u', 'f', 'b'), or 0: a byte order
   other than the native (little-endian) one, a struct, or several items */
static char spy_py_format_kind(const char *format) {
    if (format == NULL) return 'u'; /* no format means unsigned bytes */
    if (*format == '@' || *format == '=' || *format == '<') format++;
    if (format[0] == 0 || format[1] != 0) return 0;
    /* the first letters of spy_abi.types.BUFFER_CODE_KINDS' kinds */
    switch (format[0]) {
    case 'b': case 'h': case 'i': case 'l': case 'q': case 'n': return 's';
    case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N': return 'u';
    case 'f': case 'd': return 'f';
    case '?': return 'b';
    default: return 0;
    }
}

static int spy_py_array_mismatch(PyObject *o, const char *func, const char *param,
                                 const spy_ArraySpec *spec, const spy_Py_buffer *v) {
    const char *dims = spec->ndim == 1 ? "dimension" : "dimensions";
    if (v == NULL) {
        PyObject *tn = spy_py_type_name(o);
        if (tn == NULL) return -1;
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer of %s (format '%c') with %d %s, not %U",
                     func, param, spec->name, spec->code, spec->ndim, dims, tn);
        Py_DECREF(tn);
        return -1;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s() argument '%s' must be a buffer of %s (format '%c') with %d %s, "
                 "not a buffer of format '%s' (item size %zd) with %d %s",
                 func, param, spec->name, spec->code, spec->ndim, dims,
                 v->format == NULL ? "B" : v->format, v->itemsize, v->ndim,
                 v->ndim == 1 ? "dimension" : "dimensions");
    return -1;
}

/* The view of `ndim` sizes and byte strides at `buf`, checked (aligned,
   strides in whole items, at most 2**31 - 1 items spanned) and its memory
   registered as foreign; out: the lowest item's address, the number of
   items from there to the highest (the gc_ptr's length), where item [0, 0,
   0] is and the shape and strides in items. */
static int spy_py_measure(char *buf, int ndim, const Py_ssize_t *sizes, const Py_ssize_t *steps,
                          const char *func, const char *param, const spy_ArraySpec *spec,
                          void **lowest, size_t *length, int32_t *offset, int32_t shape[3],
                          int32_t strides[3]) {
    if ((uintptr_t)buf % (uintptr_t)spec->size != 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': its items are not aligned to their size (%d bytes); "
                     "pass an aligned copy", func, param, spec->size);
        return -1;
    }
    int64_t lo = 0, hi = 0; /* the lowest and highest item, in items from item 0 */
    bool empty = false;
    for (int d = 0; d < 3; d++) {
        shape[d] = 1;
        strides[d] = 0;
    }
    for (int d = 0; d < ndim; d++) {
        Py_ssize_t n = sizes[d], st = steps[d];
        if (st % spec->size != 0) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': its strides are not a multiple of its item size "
                         "(%d bytes); pass a copy", func, param, spec->size);
            return -1;
        }
        int64_t step = st / spec->size;
        if (n > INT32_MAX || step > INT32_MAX || step < -INT32_MAX) goto too_large;
        shape[d] = (int32_t)n;
        strides[d] = (int32_t)step;
        if (n == 0) empty = true;
        else if (step > 0) hi += (int64_t)(n - 1) * step;
        else lo += (int64_t)(n - 1) * step;
        if (hi - lo > INT32_MAX) goto too_large;
    }
    if (empty) lo = hi = 0;
    *lowest = buf + lo * spec->size;
    *length = empty ? 0 : (size_t)(hi - lo + 1);
    *offset = (int32_t)-lo;
    if (!spy_foreign_push(*lowest, *length * (size_t)spec->size)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
too_large:
    PyErr_Format(PyExc_ValueError, "%s() argument '%s' is too large: an array spans at most "
                 "2**31 - 1 items", func, param);
    return -1;
}

/* ---- NumPy arrays, read in place without the buffer protocol ---------------
 * NumPy's buffer export builds a format string and shape and stride arrays
 * on every call (~40 ns, twice the whole call of add(1, 2)). An exact
 * numpy.ndarray is read directly instead: PyArrayObject's first fields and
 * PyArray_Descr's type code and byte order, laid out alike since NumPy 1.7
 * and in NumPy 2 (Cython's numpy declarations read the same fields). Only
 * when every fact matches; anything else (a subclass, another dtype, an
 * error to report) takes the buffer protocol. The caller's reference to the
 * array keeps it alive through the call, as a buffer view's would. */
typedef struct {
    PyObject ob_base;
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} spy_NpArray;

typedef struct {
    PyObject ob_base;
    PyObject *typeobj;
    char kind;
    char type;
    char byteorder;
} spy_NpDescr;

#define SPY_NPY_WRITEABLE 0x0400

static PyObject *spy_py_ndarray_type; /* numpy.ndarray, once numpy is imported */

/* 1: `o` is an ndarray that matches, measured into the outs; 0: take the
   buffer protocol; -1: an error is set */
static int spy_py_numpy_array(PyObject *o, const char *func, const char *param,
                              const spy_ArraySpec *spec, int writable, void **lowest,
                              size_t *length, int32_t *offset, int32_t shape[3],
                              int32_t strides[3]) {
    if (spy_py_ndarray_type == NULL) {
        PyObject *np = PyImport_GetModule(spy_py_numpy_name); /* never imports it */
        if (np == NULL) {
            PyErr_Clear();
            return 0;
        }
        spy_py_ndarray_type = PyObject_GetAttrString(np, "ndarray");
        Py_DECREF(np);
        if (spy_py_ndarray_type == NULL) {
            PyErr_Clear();
            return 0;
        }
    }
    if ((PyObject *)Py_TYPE(o) != spy_py_ndarray_type) return 0;
    const spy_NpArray *a = (const spy_NpArray *)o;
    const spy_NpDescr *d = (const spy_NpDescr *)a->descr;
    char fmt[2] = {d->type, 0};
    int size;
    switch (d->type) {
    case 'b': case 'B': case '?': size = 1; break;
    case 'h': case 'H': size = 2; break;
    case 'i': case 'I': case 'f': size = 4; break;
    case 'l': case 'L': size = (int)sizeof(long); break;
    case 'q': case 'Q': case 'd': size = 8; break;
    default: return 0;
    }
    if (spy_py_format_kind(fmt) != spec->kind || size != spec->size || a->nd != spec->ndim ||
        (d->byteorder != '=' && d->byteorder != '|' && d->byteorder != '<') ||
        (writable && !(a->flags & SPY_NPY_WRITEABLE)))
        return 0;
    if (spy_py_measure(a->data, a->nd, a->dimensions, a->strides, func, param, spec, lowest,
                       length, offset, shape, strides) < 0)
        return -1;
    return 1;
}

/* The items of array argument `o`, checked against `spec`: an exact NumPy
   array read in place, or the buffer protocol's `view`, held until the call
   has returned (spy_py_release_views). 1: `view` is held; 0: no view was
   needed; -1: an error is set. */
static int spy_py_get_array(PyObject *o, const char *func, const char *param,
                            const spy_ArraySpec *spec, int writable, spy_Py_buffer *view,
                            void **lowest, size_t *length, int32_t *offset, int32_t shape[3],
                            int32_t strides[3]) {
    int np = spy_py_numpy_array(o, func, param, spec, writable, lowest, length, offset, shape,
                                strides);
    if (np != 0) return np < 0 ? -1 : 0;
    if (spy_py_find_buffer_api() < 0) return -1;
    if (spy_py_get_buffer_fn(o, view, SPY_PYBUF_STRIDES | SPY_PYBUF_FORMAT) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) return -1;
        PyErr_Clear();
        return spy_py_array_mismatch(o, func, param, spec, NULL);
    }
    if (spy_py_format_kind(view->format) != spec->kind || view->itemsize != spec->size ||
        view->ndim != spec->ndim || view->suboffsets != NULL) {
        spy_py_array_mismatch(o, func, param, spec, view);
        goto fail;
    }
    if (writable && view->readonly) {
        PyObject *tn = spy_py_type_name(o);
        if (tn != NULL)
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s' must be a writable buffer (%s() writes its items), "
                         "not a read-only %U", func, param, func, tn);
        Py_XDECREF(tn);
        goto fail;
    }
    if (spy_py_measure((char *)view->buf, view->ndim, view->shape, view->strides, func, param,
                       spec, lowest, length, offset, shape, strides) < 0)
        goto fail;
    return 1;
fail:
    spy_py_release_buffer_fn(view);
    return -1;
}

static void spy_py_release_views(spy_Py_buffer *views, int n) {
    for (int i = 0; i < n; i++) spy_py_release_buffer_fn(&views[i]);
}

/* An array result: a new bytearray holding its items in C order, as a
   memoryview of its format and shape, which NumPy wraps without a copy
   (np.asarray). A memoryview cannot have a 0 in a shape of several
   dimensions: an empty array comes back with shape (0,). */
static PyObject *spy_py_array_out(const char *first, int ndim, const int32_t shape[3],
                                  const int32_t strides[3], const spy_ArraySpec *spec) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    size_t size = (size_t)spec->size;
    PyObject *ba = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(n * (int64_t)size));
    if (ba == NULL) return NULL;
    char *out = PyByteArray_AsString(ba);
    int64_t s0 = strides[0] * (int64_t)size, s1 = strides[1] * (int64_t)size,
            s2 = strides[2] * (int64_t)size;
    int32_t n1 = ndim > 1 ? shape[1] : 1, n2 = ndim > 2 ? shape[2] : 1;
    bool dense = (ndim < 3 || n2 == 1 || strides[2] == 1) &&
                 (ndim < 2 || n1 == 1 || strides[1] == (ndim > 2 ? n2 : 1)) &&
                 (shape[0] == 1 || strides[0] == (int64_t)n1 * n2);
    if (n > 0 && dense) {
        memcpy(out, first, (size_t)n * size);
    } else if (n > 0) {
        for (int32_t i = 0; i < shape[0]; i++)
            for (int32_t j = 0; j < n1; j++)
                for (int32_t k = 0; k < n2; k++) {
                    memcpy(out, first + i * s0 + j * s1 + k * s2, size);
                    out += size;
                }
    }
    PyObject *mv = PyMemoryView_FromObject(ba);
    Py_DECREF(ba);
    if (mv == NULL) return NULL;
    PyObject *dims = n == 0 ? PyTuple_New(0) : PyTuple_New(ndim);
    for (int d = 0; dims != NULL && n != 0 && d < ndim; d++)
        PyTuple_SetItem(dims, d, PyLong_FromLong(shape[d]));
    char fmt[2] = {spec->code, 0};
    PyObject *r = dims == NULL ? NULL
                  : n == 0     ? PyObject_CallMethod(mv, "cast", "s", fmt)
                               : PyObject_CallMethod(mv, "cast", "sO", fmt, dims);
    Py_XDECREF(dims);
    Py_DECREF(mv);
    return r;
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
