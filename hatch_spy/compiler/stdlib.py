"""SPy's standard modules that compiled code may import: `math` and `time`."""

from __future__ import annotations

import math

from spy_runtime.exceptions import EXCEPTION_KINDS

from .ir import ConstValue, RuntimeFunc
from .types import BOOL, F64, I32, I64, NONE, STR, U8, Kind, SpyType


def _f(module: str, name: str, nparams: int, takes_loc: bool = False) -> RuntimeFunc:
    params: tuple[SpyType, ...] = (F64,) * nparams
    return RuntimeFunc(module, name, f"spy_{module}_{name}", params, F64, takes_loc)


STD_FUNCS: dict[str, dict[str, RuntimeFunc]] = {
    "math": {
        f.name: f
        for f in (
            _f("math", "sqrt", 1, takes_loc=True),
            _f("math", "log", 1, takes_loc=True),
            _f("math", "exp", 1, takes_loc=True),
            _f("math", "sin", 1),
            _f("math", "cos", 1),
            _f("math", "floor", 1),
            _f("math", "fabs", 1),
        )
    },
    "time": {"time": _f("time", "time", 0)},
    # the command line, for the standard library's make_argv
    "__spy__": {
        "argc": RuntimeFunc("__spy__", "argc", "spy_argc", (), I32, False),
        "argv_at": RuntimeFunc("__spy__", "argv_at", "spy_argv_at", (I32,), STR, False),
        # files, for the standard library's open() (libspy's file.c)
        "file_open": RuntimeFunc("__spy__", "file_open", "spy_file_open", (STR, STR), I32, True),
        "file_write": RuntimeFunc("__spy__", "file_write", "spy_file_write", (I32, STR), I32, True),
        "file_read": RuntimeFunc("__spy__", "file_read", "spy_file_read", (I32,), STR, True),
        "file_readline": RuntimeFunc(
            "__spy__", "file_readline", "spy_file_readline", (I32,), STR, True
        ),
        "file_close": RuntimeFunc("__spy__", "file_close", "spy_file_close", (I32,), NONE, False),
        # slices, for list (libspy's strops.c, shared with str and bytes)
        **{
            f"slice_{part}": RuntimeFunc(
                "__spy__",
                f"slice_{part}",
                f"spy_slice_{part}",
                (I64, I64, I64, I64, BOOL, BOOL),
                I64,
                True,
            )
            for part in ("start", "count")
        },
        # byte offsets into a str, for split (libspy's strops.c)
        "str_nbytes": RuntimeFunc("__spy__", "str_nbytes", "spy_str_nbytes", (STR,), I64, False),
        "str_find_byte": RuntimeFunc(
            "__spy__", "str_find_byte", "spy_str_find_byte", (STR, STR, I64), I64, False
        ),
        "str_byte_slice": RuntimeFunc(
            "__spy__", "str_byte_slice", "spy_str_byte_slice", (STR, I64, I64), STR, False
        ),
        "str_skip_space": RuntimeFunc(
            "__spy__", "str_skip_space", "spy_str_skip_space", (STR, I64, BOOL), I64, False
        ),
        # bytes, held in a str (libspy's bytes.c)
        "bytes_len": RuntimeFunc("__spy__", "bytes_len", "spy_bytes_len", (STR,), I32, False),
        "bytes_getitem": RuntimeFunc(
            "__spy__", "bytes_getitem", "spy_bytes_getitem", (STR, I64), U8, True
        ),
        "bytes_slice": RuntimeFunc(
            "__spy__", "bytes_slice", "spy_bytes_slice", (STR, I64, I64, I64, BOOL, BOOL), STR, True
        ),
        "bytes_repr": RuntimeFunc("__spy__", "bytes_repr", "spy_bytes_repr", (STR,), STR, True),
        "bytes_decode": RuntimeFunc(
            "__spy__", "bytes_decode", "spy_bytes_decode", (STR,), STR, True
        ),
        "bytes_contains_byte": RuntimeFunc(
            "__spy__", "bytes_contains_byte", "spy_bytes_contains_byte", (STR, I64), BOOL, False
        ),
    },
}

STD_CONSTS: dict[str, dict[str, tuple[SpyType, ConstValue]]] = {
    "math": {"pi": (F64, math.pi), "e": (F64, math.e)},
    "time": {},
}

# names the compiler itself answers: `__spy__.COLOR(expr)` is "blue" when
# `expr` is known at compile time, else "red"
STD_SPECIAL: dict[str, frozenset[str]] = {
    # interp_tuple: the type of blue tuples; force_inline: a decorator;
    # unchecked_get(p, i) and unchecked_set(p, i, v): an item of a gc_ptr
    # without the bounds check, for the standard library's arrays, whose
    # constructors check the whole view once (SPy's release builds never
    # check; ours always do, but there)
    # ptr_length(p): the number of items of gc_ptr p's block
    "__spy__": frozenset(
        {"COLOR", "interp_tuple", "force_inline", "unchecked_get", "unchecked_set", "ptr_length"}
    ),
    "operator": frozenset({"OpSpec"}),  # what a metafunction returns
    "unsafe": frozenset(
        {
            "gc_alloc",
            "gc_ptr",
            "raw_alloc",
            "raw_ptr",
            "sizeof",
            *(
                f"ptr_{op}{suffix}"
                for op in ("setbytes", "copy", "move", "cmp")
                for suffix in ("", "_slice")
            ),
        }
    ),
}

STD_MODULES = frozenset(STD_FUNCS) | frozenset(STD_SPECIAL)

# types the compiler names in its modules: the types of `[]` and `{}`, which
# a collection's `__convert_from__` turns into an empty collection
EMPTY_LIST = SpyType("EmptyListType", Kind.OBJECT, "", "EmptyListType", None, ())
EMPTY_DICT = SpyType("EmptyDictType", Kind.OBJECT, "", "EmptyDictType", None, ())
STD_TYPES: dict[str, dict[str, SpyType]] = {
    "__spy__": {"EmptyListType": EMPTY_LIST, "EmptyDictType": EMPTY_DICT},
}

# The standard library written in SPy (spy_runtime's stdlib folder) that
# every program sees: module -> the builtin names it defines. Loaded before
# the program, in this order (a later one may use an earlier one's names).
BUILTIN_MODULES: dict[str, tuple[str, ...]] = {
    "_bytes": ("bytes",),
    "_tuple": ("tuple",),
    "_list": ("list",),
    "_dict": ("dict",),
    "_file": ("open",),
}

# the exception names `raise` accepts: those the runtime maps to Python's
BUILTIN_EXCEPTIONS = EXCEPTION_KINDS
