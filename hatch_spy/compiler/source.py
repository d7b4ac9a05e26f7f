"""Reading .spy files: Python syntax plus SPy's `var` and `const` keywords."""

from __future__ import annotations

import ast
import io
import itertools
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Loc, SpyCompileError

DECL_KEYWORDS = ("var", "const")


@dataclass
class SourceFile:
    """One .spy file, with what the `var`/`const` rewrite removed from it."""

    path: Path
    display_name: str
    text: str
    lines: list[str] = field(default_factory=list)
    # line -> (col where the keyword stood, its length + following space, keyword)
    decls: dict[int, tuple[int, int, str]] = field(default_factory=dict)

    def loc(self, line: int, col: int) -> Loc:
        """Loc of an `ast` position, mapped back onto the original text."""
        decl = self.decls.get(line)
        if decl is not None and col >= decl[0]:
            col += decl[1]
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Loc(self.display_name, line, col, src)

    def node_loc(self, node: ast.AST) -> Loc:
        return self.loc(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def decl_keyword(self, line: int) -> str | None:
        decl = self.decls.get(line)
        return decl[2] if decl else None


def _strip_decl_keywords(text: str) -> tuple[str, dict[int, tuple[int, int, str]]]:
    """Remove `var`/`const` where they start a statement and a name follows.

    `ast` cannot parse them; the rewrite keeps every other column in place and
    records what it removed so that locations map back exactly.
    """
    lines = text.splitlines(keepends=True)
    decls: dict[int, tuple[int, int, str]] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, decls  # ast.parse reports the real syntax error
    starts = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}
    prev_type = tokenize.NEWLINE
    for tok, nxt in itertools.pairwise(tokens):
        if (
            tok.type == tokenize.NAME
            and tok.string in DECL_KEYWORDS
            and prev_type in starts
            and nxt.type == tokenize.NAME
            and nxt.start[0] == tok.start[0]
        ):
            row, col = tok.start
            width = nxt.start[1] - col
            line = lines[row - 1]
            lines[row - 1] = line[:col] + line[col + width :]
            decls[row] = (col, width, tok.string)
        if tok.type not in (tokenize.COMMENT,):
            prev_type = tok.type
    return "".join(lines), decls


def read_source(path: Path, display_name: str) -> SourceFile:
    text = path.read_text(encoding="utf-8")
    return parse_text(text, path, display_name)


def parse_text(text: str, path: Path, display_name: str) -> SourceFile:
    src = SourceFile(path, display_name, text, text.splitlines())
    return src


def parse_module(src: SourceFile) -> ast.Module:
    rewritten, src.decls = _strip_decl_keywords(src.text)
    try:
        return ast.parse(rewritten, filename=src.display_name)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        loc = src.loc(line, col)
        raise SpyCompileError(f"invalid syntax: {exc.msg}", loc) from None
