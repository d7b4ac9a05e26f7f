"""The exception kinds compiled SPy code can raise. The compiler accepts
exactly these in `raise` and the runtime raises the Python builtin of the
same name, so both read this one list."""

from __future__ import annotations

EXCEPTION_KINDS = frozenset(
    {
        "Exception",
        "ArithmeticError",
        "AssertionError",
        "FileNotFoundError",
        "IndexError",
        "IsADirectoryError",
        "KeyError",
        "LookupError",
        "MemoryError",
        "NotImplementedError",
        "OSError",
        "OverflowError",
        "PermissionError",
        "RecursionError",
        "RuntimeError",
        "TypeError",
        "ValueError",
        "ZeroDivisionError",
    }
)
