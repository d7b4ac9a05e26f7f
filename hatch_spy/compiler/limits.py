"""Limits that keep every input a compile error or a program, never a crash.

The compiler's passes recurse over the tree, and the C compiler has a
nesting limit of its own (2048 brackets), so nesting is bounded up front,
with an error at the node that goes too deep. The limits are far above what
people write and around what CPython itself accepts.
"""

from __future__ import annotations

import ast
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import Loc, SpyCompileError, SpyError

# expression levels: each level costs the C compiler a few brackets
MAX_EXPR_DEPTH = 200
# statement levels, each `elif` counting as one (Python allows 100 indents)
MAX_STMT_DEPTH = 1000
# Python frames the passes may need for the deepest allowed input
RECURSION_LIMIT = 20_000
# while `ast` builds its tree: CPython 3.11 scales its C recursion by this
# limit, so a larger one could overflow the C stack on hostile input
PARSER_RECURSION_LIMIT = 1000


def check_nesting(tree: ast.AST, node_loc: Callable[[ast.AST], Loc]) -> None:
    """Refuse expressions or statements nested deeper than the limits,
    walking without recursion."""
    stack: list[tuple[ast.AST, int, int]] = [(tree, 0, 0)]
    while stack:
        node, stmts, exprs = stack.pop()
        for child in ast.iter_child_nodes(node):
            s, e = stmts, exprs
            if isinstance(child, ast.stmt):
                s += 1
                if s > MAX_STMT_DEPTH:
                    raise SpyCompileError(
                        f"statements nested too deeply (more than {MAX_STMT_DEPTH} levels, "
                        "each elif counting as one): split this into functions",
                        node_loc(child),
                    )
            elif isinstance(child, ast.expr):
                e += 1
                if e > MAX_EXPR_DEPTH:
                    raise SpyCompileError(
                        f"expression nested too deeply (more than {MAX_EXPR_DEPTH} levels): "
                        "split it into several statements",
                        node_loc(child),
                    )
            stack.append((child, s, e))


@contextmanager
def parser_recursion_limit() -> Iterator[None]:
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(old_limit, PARSER_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(old_limit)


@contextmanager
def compiling() -> Iterator[None]:
    """Around the compiler's passes: room for the recursion that the limits
    allow, and no cyclic garbage collection, whose full passes over the
    growing tree made compile time grow faster than the program."""
    old_limit = sys.getrecursionlimit()
    gc_was_enabled = gc.isenabled()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    gc.disable()
    try:
        yield
    except RecursionError:
        # the limits above should make this unreachable; still no traceback
        raise SpyError(
            "internal compiler error: the program is nested too deeply for the compiler "
            "(RecursionError); please report this with the .spy file"
        ) from None
    finally:
        sys.setrecursionlimit(old_limit)
        if gc_was_enabled:
            gc.enable()
