"""Compile errors: `file:line:col: error: message`, the source line and a caret."""

from __future__ import annotations

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

    def format(self) -> str:
        text = f"{self.loc}: error: {self.message}"
        src = self.loc.source_line.rstrip("\n")
        if src:
            # Keep the caret under the right character: tabs stay tabs.
            pad = "".join("\t" if c == "\t" else " " for c in src[: self.loc.col])
            text += f"\n    {src}\n    {pad}^"
        return text

    def __str__(self) -> str:
        return self.format()
