/* A hand-written METH_FASTCALL extension: the reference for per-call cost. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add() takes 2 arguments");
        return NULL;
    }
    long x = PyLong_AsLong(args[0]);
    if (x == -1 && PyErr_Occurred()) return NULL;
    long y = PyLong_AsLong(args[1]);
    if (y == -1 && PyErr_Occurred()) return NULL;
    return PyLong_FromLong((long)(int)(x + y));
}

static PyMethodDef methods[] = {{"add", (PyCFunction)(void (*)(void))add, METH_FASTCALL, NULL},
                                {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "handext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_handext(void) { return PyModule_Create(&def); }
