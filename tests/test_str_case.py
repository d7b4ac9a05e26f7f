"""str.upper, lower, isalpha, isdigit and isascii agree with CPython on every
code point, and on the Final_Sigma rule, on both targets; the tables in
libspy's unicode_case.h are what runtime/tools/gen_unicode_case.py makes."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conftest import SpyRunner

ROOT = Path(__file__).parents[1]
TABLES = ROOT / "runtime/src/spy_runtime/libspy/src/unicode_case.h"
GENERATOR = ROOT / "runtime/tools/gen_unicode_case.py"


def tables_version() -> str | None:
    found = re.search(r"Unicode (\d+\.\d+\.\d+)", TABLES.read_text())
    return found.group(1) if found else None


SAME_UNICODE = pytest.mark.skipif(
    tables_version() != unicodedata.unidata_version,
    reason="unicode_case.h is of another Unicode version than this Python",
)

SIGMA = "\u03a3"

PROGRAM = """
def flags(s: str) -> str:
    out = ""
    for ch in s:
        a = "0"
        if ch.isalpha():
            a = "1"
        d = "0"
        if ch.isdigit():
            d = "1"
        out = out + a + d
    return out

def main() -> None:
    out = open(OUT, "w")
    for line in open(IN):
        s = line[:-1]
        out.write(s.upper() + "\\t" + s.lower() + "\\t" + str(s.isascii()) + "\\t" + flags(s) + "\\n")
    out.close()
"""


def expected_line(s: str) -> str:
    bits = "".join(("1" if ch.isalpha() else "0") + ("1" if ch.isdigit() else "0") for ch in s)
    return f"{s.upper()}\t{s.lower()}\t{s.isascii()}\t{bits}"


def sample_lines() -> list[str]:
    """Every code point (but surrogates and line ends) in lines of 64, then
    the sigma between every cased or case-ignorable character and some others."""
    chars = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and cp not in (10, 13)]
    lines = ["".join(chars[i : i + 64]) for i in range(0, len(chars), 64)]
    special = [
        c
        for c in chars
        if (c + SIGMA).lower() != c.lower() + "\u03c3" or ("a" + c + SIGMA).lower()[-1] == "\u03c2"
    ]
    rng = random.Random(8)
    others = rng.sample(chars, 3000)
    for c in special + others:
        lines += ["a" + c + SIGMA, "a" + SIGMA + c, c + SIGMA + "b", SIGMA + c + SIGMA]
    # Greek capitals (written as escapes: they look like Latin ones)
    alpha, beta = "\u0391", "\u0392"
    lines += ["ΟΔΥΣΣΕΥΣ", SIGMA, alpha + SIGMA, alpha + SIGMA + ".", alpha + "." + SIGMA]
    lines += [alpha + SIGMA + "'" + beta, "", "a" + SIGMA + "\u0345b"]
    return lines


@SAME_UNICODE
def test_case_and_classes_match_cpython_on_every_code_point(spy: SpyRunner, tmp_path: Path) -> None:
    lines = sample_lines()
    data, out = tmp_path / "in.txt", tmp_path / "out.txt"
    data.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="")
    spy.output(f"IN: str = {str(data)!r}\nOUT: str = {str(out)!r}\n" + PROGRAM)
    got = out.read_bytes().decode("utf-8").split("\n")
    assert got[-1] == ""
    wrong = [(line, g) for line, g in zip(lines, got[:-1], strict=True) if g != expected_line(line)]
    assert wrong[:3] == []


@SAME_UNICODE
def test_the_tables_are_what_the_generator_makes() -> None:
    made = subprocess.run(
        [sys.executable, str(GENERATOR)], capture_output=True, text=True, check=True
    ).stdout
    assert made == TABLES.read_text()
