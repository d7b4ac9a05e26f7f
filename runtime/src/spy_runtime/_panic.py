"""Panics of compiled SPy code become Python exceptions.

The exception is raised from a frame whose code claims the `.spy` file and
line of the panic, so the traceback shows the SPy source line, as Cython's
tracebacks show `.pyx` lines.
"""

from __future__ import annotations

import builtins
import linecache
from pathlib import Path

from .exceptions import EXCEPTION_KINDS

# top-level package -> the folder that holds it, so "pkg/mod.spy" resolves
_roots: dict[str, Path] = {}


class SpyPanic(Exception):
    """A panic of compiled SPy code that has no matching Python exception."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message


def register_root(top_package: str, root: Path) -> None:
    _roots[top_package] = root


def make_exception(kind: str, message: str, file: str, line: int) -> BaseException:
    exc: BaseException
    if kind in EXCEPTION_KINDS:
        exc = getattr(builtins, kind)(message) if message else getattr(builtins, kind)()
    else:
        exc = SpyPanic(kind, message)
    exc.spy_file = file  # type: ignore[attr-defined]
    exc.spy_line = line  # type: ignore[attr-defined]
    return exc


def source_path(file: str) -> str:
    top = file.split("/", 1)[0]
    root = _roots.get(top)
    return str(root / file) if root is not None else file


def raising_statement(source_line: str) -> str:
    """`raise __spy_panic__` spanning the same columns as `source_line`, so
    that tracebacks underline nothing (they would underline our statement)."""
    stripped = source_line.strip()
    indent = source_line[: len(source_line) - len(source_line.lstrip())]
    stmt = "raise(__spy_panic__)"
    if len(stripped) > len(stmt):
        stmt = "raise(__spy_panic__" + " " * (len(stripped) - len(stmt)) + ")"
    return indent + stmt


def raise_panic(kind: str, message: str, file: str, line: int) -> None:
    """Raise the exception of a panic, with a traceback frame at file:line."""
    exc = make_exception(kind, message, file, line)
    path = source_path(file)
    stmt = raising_statement(linecache.getline(path, line))
    if stmt != stmt.lstrip() and line >= 2:
        text = "\n" * (line - 2) + "if 1:\n" + stmt  # an indented line needs a block
    else:
        text = "\n" * (max(line, 1) - 1) + stmt.lstrip()
    code = compile(text, path, "exec")
    try:
        exec(code, {"__spy_panic__": exc})
    finally:
        del exc
