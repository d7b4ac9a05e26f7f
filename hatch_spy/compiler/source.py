"""Reading .spy files: Python syntax plus SPy's `var` and `const` keywords."""

from __future__ import annotations

import ast
import codecs
import io
import itertools
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Loc, SpyCompileError, SpyError
from .limits import check_nesting, parser_recursion_limit

DECL_KEYWORDS = ("var", "const")
_DECL_WORD = re.compile(r"\b(?:var|const)\b")
_GENERIC_DEF = re.compile(r"\b(?:def|class)\s+\w+\s*\[")


def split_lines(text: str) -> list[str]:
    """Lines as Python numbers them: only `\\n` ends a line (the text has
    universal newlines already); `str.splitlines` would also split at form
    feeds, U+2028 and others, and shift every line number after them."""
    return text.split("\n")


@dataclass
class SourceFile:
    """One .spy file, with what the `var`/`const` rewrite removed from it."""

    path: Path
    display_name: str
    text: str
    lines: list[str] = field(default_factory=list)
    # line -> (col where the keyword stood, its length + following space, keyword)
    decls: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    # the lines `ast` saw (after the rewrite), to turn its byte columns into characters
    parsed_lines: list[str] = field(default_factory=list)
    # line of a `def name[T, x](...)` -> its type parameters, blanked out of
    # the text (`ast` parses them only from Python 3.12 on)
    type_params: dict[int, list[str]] = field(default_factory=dict)
    _byte_to_char: dict[int, list[int] | None] = field(default_factory=dict)
    # the checker asks for the same positions again and again (blue code runs
    # its lines many times): a Loc is immutable, so each is made once
    _locs: dict[tuple[int, int], Loc] = field(default_factory=dict)

    def loc(self, line: int, col: int) -> Loc:
        """Loc of an `ast` position (`col` counts UTF-8 bytes of the parsed line)."""
        found = self._locs.get((line, col))
        if found is None:
            found = self._locs[(line, col)] = self.char_loc(line, self._char_col(line, col))
        return found

    def char_loc(self, line: int, col: int) -> Loc:
        """Loc of a position in the parsed text, `col` in characters, mapped
        back onto the original text."""
        decl = self.decls.get(line)
        if decl is not None and col >= decl[0]:
            col += decl[1]
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Loc(self.display_name, line, max(0, min(col, len(src))), src)

    def _char_col(self, line: int, col: int) -> int:
        if line not in self._byte_to_char:
            text = self.parsed_lines[line - 1] if 0 < line <= len(self.parsed_lines) else ""
            # None: an ASCII line, where bytes are characters (the usual case)
            self._byte_to_char[line] = None if text.isascii() else _byte_offsets(text)
        table = self._byte_to_char[line]
        if table is None:
            return col
        return table[min(col, len(table) - 1)]

    def node_loc(self, node: ast.AST) -> Loc:
        return self.loc(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def decl_keyword(self, line: int) -> str | None:
        decl = self.decls.get(line)
        return decl[2] if decl else None


def _byte_offsets(text: str) -> list[int]:
    """For each UTF-8 byte offset into `text`, the character it falls in."""
    table: list[int] = []
    for i, c in enumerate(text):
        table.extend([i] * len(c.encode("utf-8", "surrogatepass")))
    table.append(len(text))
    return table


def _strip_decl_keywords(text: str) -> tuple[str, dict[int, tuple[int, int, str]]]:
    """Remove `var`/`const` where they start a statement and a name follows.

    `ast` cannot parse them; the rewrite keeps every other column in place and
    records what it removed so that locations map back exactly.
    """
    decls: dict[int, tuple[int, int, str]] = {}
    if not _DECL_WORD.search(text):
        return text, decls  # the tokenizer is slow: skip it when it would find nothing
    parts = split_lines(text)
    lines = [p + "\n" for p in parts[:-1]] + [parts[-1]]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except Exception:  # any tokenizer complaint: ast.parse reports the real error
        return text, decls
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


def _blank_type_params(text: str) -> tuple[str, dict[int, list[str]]]:
    """Replace the `[T, x]` of `def name[T, x](` with spaces, which keeps every
    column in place, and return the names by line. Anything else between the
    brackets (a bound, a default) is left for the parser to report."""
    params: dict[int, list[str]] = {}
    if not _GENERIC_DEF.search(text):
        return text, params
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.COMMENT, tokenize.NL)
        ]
    except Exception:  # any tokenizer complaint: ast.parse reports the real error
        return text, params
    lines = split_lines(text)
    for i in range(len(tokens) - 3):
        kw, name, bracket = tokens[i : i + 3]
        if not (
            kw.string in ("def", "class") and name.type == tokenize.NAME and bracket.string == "["
        ):
            continue
        names: list[str] = []
        j = i + 3
        while j < len(tokens) and tokens[j].type == tokenize.NAME:
            names.append(tokens[j].string)
            j += 1
            if tokens[j].string != ",":
                break
            j += 1
        close = tokens[j] if j < len(tokens) else None
        if not names or close is None or close.string != "]" or close.start[0] != bracket.start[0]:
            continue
        row = bracket.start[0]
        line = lines[row - 1]
        start, end = bracket.start[1], close.end[1]
        lines[row - 1] = line[:start] + " " * (end - start) + line[end:]
        params[row] = names
    return "\n".join(lines), params


def read_source(path: Path, display_name: str) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpyError(f"cannot read {display_name}: {exc.strerror or exc}") from None
    return parse_text(decode_source(data, display_name), path, display_name)


def decode_source(data: bytes, display_name: str) -> str:
    """UTF-8 text with universal newlines, as Python reads source; a leading
    byte order mark is dropped, as Python drops it."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start, display_name) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_utf8(data: bytes, pos: int, display_name: str) -> SpyCompileError:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    line_bytes = data[start : end if end >= 0 else len(data)]
    line = data.count(b"\n", 0, pos) + 1
    col = len(data[start:pos].decode("utf-8", "replace"))
    shown = line_bytes.decode("utf-8", "replace").rstrip("\r")
    return SpyCompileError(
        f"this file is not valid UTF-8 (byte 0x{data[pos]:02x}): save it as UTF-8",
        Loc(display_name, line, col, shown),
    )


def parse_text(text: str, path: Path, display_name: str) -> SourceFile:
    src = SourceFile(path, display_name, text, split_lines(text))
    return src


def parse_module(src: SourceFile) -> ast.Module:
    nul = src.text.find("\0")
    if nul >= 0:
        line = src.text.count("\n", 0, nul) + 1
        col = nul - (src.text.rfind("\n", 0, nul) + 1)
        raise SpyCompileError("source code cannot contain NUL bytes", src.char_loc(line, col))
    blanked, src.type_params = _blank_type_params(src.text)
    rewritten, src.decls = _strip_decl_keywords(blanked)
    src.parsed_lines = split_lines(rewritten)
    try:
        with warnings.catch_warnings(), parser_recursion_limit():
            warnings.simplefilter("ignore")  # e.g. invalid escapes: Python runs them too
            tree = ast.parse(rewritten, filename=src.display_name)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)  # characters, 1-based
        raise SpyCompileError(f"invalid syntax: {exc.msg}", src.char_loc(line, col)) from None
    except (RecursionError, MemoryError):
        # Python's parser has fixed limits of its own (thousands of levels)
        raise SpyCompileError(
            "this file is nested too deeply for Python's parser (an expression or an "
            "if/elif chain thousands of levels deep): split it up",
            src.char_loc(1, 0),
        ) from None
    check_nesting(tree, src.node_loc)
    return tree
