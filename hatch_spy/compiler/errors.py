"""Compile errors: `file:line:col: error: message`, the source line and a caret."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in a .spy file. `line` is 1-based, `col` 0-based (as in `ast`)."""

    filename: str  # as shown to the user
    line: int
    col: int
    source_line: str = ""

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col + 1}"


class SpyError(Exception):
    """Base of every error hatch-spy reports to a user without a traceback."""


class SpyCompileError(SpyError):
    """An error in a user's .spy source."""

    def __init__(self, message: str, loc: Loc) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        # where the error happened in code the compiler ran (blue code): each
        # call that led there, innermost first
        self.notes: list[str] = []

    def format(self) -> str:
        text = f"{self.loc}: error: {self.message}"
        src = self.loc.source_line.rstrip("\n")
        if src:
            shown, before = shown_window(src, self.loc.col)
            text += f"\n    {shown}\n    {caret_padding(before)}^"
        for note, times in collapse(self.notes):
            text += f"\n{note}"
            if times > 1:  # deep blue recursion: as Python's tracebacks say it
                text += f"\n  [the line above is repeated {times - 1} more times]"
        return text

    def __str__(self) -> str:
        return self.format()


def collapse(notes: list[str]) -> list[tuple[str, int]]:
    """Runs of the same note, as (note, how many times)."""
    runs: list[tuple[str, int]] = []
    for note in notes:
        if runs and runs[-1][0] == note:
            runs[-1] = (note, runs[-1][1] + 1)
        else:
            runs.append((note, 1))
    return runs


SHOWN_WIDTH = 120  # longer source lines are shown around the error only


def shown_window(src: str, col: int) -> tuple[str, str]:
    """The part of `src` to show, and what of it comes before the caret."""
    if len(src) <= SHOWN_WIDTH:
        return src, src[:col]
    start = max(0, min(col - SHOWN_WIDTH // 2, len(src) - SHOWN_WIDTH))
    end = start + SHOWN_WIDTH
    head = "..." if start else ""
    shown = head + src[start:end] + ("..." if end < len(src) else "")
    return shown, head + src[start:col]


def caret_padding(before: str) -> str:
    """What puts a caret under the character after `before` on a terminal:
    tabs stay tabs, wide (CJK) characters take two columns, combining marks none."""
    out = []
    for c in before:
        if c == "\t":
            out.append("\t")
        elif unicodedata.combining(c):
            continue
        elif unicodedata.east_asian_width(c) in ("W", "F"):
            out.append("  ")
        else:
            out.append(" ")
    return "".join(out)
