"""f64(s), i64(s) and friends parse as Python's float() and int() do, with
Python's error messages, the same on native and wasm: Unicode whitespace and
decimal digits, PEP 515 underscores, inf/infinity/nan, no hex.

libspy's parsers run in a small C harness (one build per target) that reads
hex-encoded strings from stdin, so that thousands of strings cost one
process; a panic ends the process, and the run continues after that string."""

from __future__ import annotations

import contextlib
import math
import re
import struct
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import SpyRunner
from hatch_spy.toolchain import Toolchain, get_target

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spy.h"

static int hexval(int c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

int main(void) {
    static char line[1 << 22], buf[1 << 21];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = 0;
        for (char *p = line + 2; p[0] && p[0] != '\n'; p += 2)
            buf[n++] = (char)(hexval(p[0]) * 16 + hexval(p[1]));
        spy_Str s = {.length = n, .ncp = 0, .utf8 = buf, .kind = SPY_STR_STATIC};
        if (line[0] == 'f') { /* the bits: float printing is not under test */
            double v = spy_str_to_f64(&s, "harness", 1);
            unsigned long long bits;
            memcpy(&bits, &v, sizeof bits);
            printf("%016llx\n", v != v ? bits & 0xfff8000000000000ULL : bits);
        } else {
            printf("%lld\n", (long long)spy_str_to_i64(&s, INT64_MIN, INT64_MAX, "i64", "harness", 1));
        }
        fflush(stdout);
    }
    return 0;
}
"""

UNICODE_C = "runtime/src/spy_runtime/libspy/src/unicode.c"
MESSAGE_BYTES = 256  # libspy's message buffer: the repr is cut to fit (and at 200 characters)
FLOAT_HEAD = "could not convert string to float: "
INT_HEAD = "invalid literal for int() with base 10: "


def cut_repr(s: str, head: str, ellipsis: bool) -> str:
    """Python's "%.200R" (what int() uses; float() does not cut, libspy does and
    adds "..."), also cut where the bytes would overflow libspy's buffer."""
    r = repr(s)
    budget = MESSAGE_BYTES - 4 - len(head)
    kept: list[str] = []
    for ch in r[:200]:
        budget -= len(ch.encode())
        if budget < 0:
            break
        kept.append(ch)
    text = "".join(kept)
    return head + text + ("..." if ellipsis and len(text) < len(r) else "")


def python_float(s: str) -> str:
    try:
        return struct.pack(">d", float(s)).hex()
    except ValueError:
        return "ValueError: " + cut_repr(s, FLOAT_HEAD, True)


def python_int(s: str) -> str:
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # SPy's ints are bounded by their type, not by digits
    try:
        v = int(s)
    except ValueError:
        return "ValueError: " + cut_repr(s, INT_HEAD, False)
    finally:
        sys.set_int_max_str_digits(limit)
    if not -(2**63) <= v < 2**63:
        return "OverflowError: value out of range for i64"
    return str(v)


def unicode_matches() -> bool:
    """The tables in unicode.c are of one Unicode version; another Python's
    str methods may disagree on recently assigned characters."""
    path = Path(__file__).parents[1] / UNICODE_C
    found = re.search(r"Unicode (\d+\.\d+\.\d+)", path.read_text() if path.exists() else "")
    return found is not None and found.group(1) == unicodedata.unidata_version


class Harness:
    def __init__(self, exe: Path, target: str) -> None:
        self.exe = exe
        self.target = target
        if target == "wasm":
            self.engine = wasmtime.Engine()
            self.module = wasmtime.Module.from_file(self.engine, str(exe))

    def _run(self, lines: list[str], tmp: Path) -> tuple[list[str], str]:
        data = "".join(lines)
        if self.target == "native":
            proc = subprocess.run(
                [str(self.exe)], input=data, capture_output=True, text=True, check=False
            )
            return proc.stdout.splitlines(), proc.stderr
        (tmp / "in").write_text(data)
        store = wasmtime.Store(self.engine)
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        wasi = wasmtime.WasiConfig()
        wasi.stdin_file = str(tmp / "in")
        wasi.stdout_file = str(tmp / "out")
        wasi.stderr_file = str(tmp / "err")
        store.set_wasi(wasi)
        start = linker.instantiate(store, self.module).exports(store)["_start"]
        assert isinstance(start, wasmtime.Func)
        with contextlib.suppress(wasmtime.ExitTrap):  # exit(1) after a panic
            start(store)
        return (tmp / "out").read_text().splitlines(), (tmp / "err").read_text()

    def parse(self, items: list[tuple[str, str]], tmp: Path) -> list[str]:
        """('f' or 'i', text) -> the printed value or 'Kind: message' of the panic."""
        lines = [f"{op} {text.encode().hex()}\n" for op, text in items]
        results: list[str] = []
        while len(results) < len(lines):
            out, err = self._run(lines[len(results) :], tmp)
            results += out
            if len(results) < len(lines):  # the next one panicked
                results.append(err.splitlines()[-1])
        return results


@pytest.fixture(scope="module", params=("native", "wasm"))
def harness(request: pytest.FixtureRequest, toolchain: Toolchain) -> Harness:
    target = str(request.param)
    return Harness(toolchain.build_executable(HARNESS, get_target(target)), target)


def check(harness: Harness, tmp: Path, texts: list[str], ops: str = "fi") -> None:
    items = [(op, t) for t in texts for op in ops]
    got = harness.parse(items, tmp)
    want = [python_float(t) if op == "f" else python_int(t) for op, t in items]
    wrong = [(t, op, g, w) for (op, t), g, w in zip(items, got, want, strict=True) if g != w]
    assert wrong == []


HAND_PICKED = [
    *(
        "1.5",
        "-1.5",
        "+1.5",
        "  1.5\n",
        "\t\n\v\f\r 7 \r",
        "1e5",
        "1E-3",
        ".5",
        "5.",
        ".",
        "e5",
        "1e",
    ),
    *("1e+", "1e-0", "0", "-0", "-0.0", "00", "007", "0_0", "1_000", "1_000.000_1", "1.5e1_0"),
    *("_1", "1_", "1__0", "+_1", "1_.5", "1._5", "1_e5", "1e_1", "1e+_1", "-_1", "_", "- 1"),
    *("inf", "-inf", "+INF", "iNfInItY", "infinit", "infinity_", "inf_", "nan", "-nan", "NaN"),
    *("nan(123)", "nan()", "0x10", "0X1p3", "0b1", "1.5x", "x", "", " ", "1 2", "1.2.3", "--1"),
    *("\u20031.5", "1.5\u2003", "\xa01", "\x851", "\u3000-7\u2028", "\u180e1", "\u200b1"),
    *("\x1c1", "1\x1f", "1\x00", "\x001", "\u0663", "\u0661\u0662\u0663", "\u0663.\u0665"),
    *("\u0661e\u0663", "\U0001d7ce\U0001d7cf", "\u00b2", "\u2167", "\u0f20\u0f29", "\uff11\uff12"),
    *("9223372036854775807", "-9223372036854775808", "9223372036854775808", "1" * 30),
    *("-9223372036854775809", "18446744073709551616", "1" * 400 + "e-400", "0." + "0" * 400 + "1"),
    *("1e308", "1.8e308", "1e400", "-1e400", "1e-320", "1e-400", "2.4703282292062327e-324"),
    *("2.4703282292062328e-324", "1e99999999999999999999", "1e-99999999999999999999"),
    *("9" * 800 + "5" + "0" * 100 + "1", "1." + "0" * 790 + "1" + "0" * 30 + "e-10"),
    *(
        "'quoted'",
        'say "hi"',
        'it\'s "both"',
        "back\\slash",
        "\x7f",
        "\ud7ff",
        "\ue000",
        "\U0010ffff",
    ),
    *("a" * 300, "\u2003" * 100, "é" * 300, "\U0001f600" * 80, "\x01" * 50 + "x" * 300),
]


def test_hand_picked_strings(harness: Harness, tmp_path: Path) -> None:
    check(harness, tmp_path, HAND_PICKED)


def test_7_boundary_doubles_round_correctly(harness: Harness, tmp_path: Path) -> None:
    """Halfway cases need all the digits: strtod sees the first 800 and a sticky one."""
    texts = [
        "9007199254740993",  # 2**53 + 1: halfway, ties to even
        "9007199254740993" + "0" * 1000,
        "9007199254740993" + "0" * 1000 + "1",
        "9007199254740992." + "9" * 1200,
        "1." + "0" * 2000 + "1e" + "0" * 50,
        "0." + "0" * 1000 + "24703282292062327208828439643411068618252990130716238221279284"
        "1250158256830",
    ]
    check(harness, tmp_path, texts, ops="f")


_NUMBERISH = st.sampled_from(
    [
        *"0123456789",
        *"0123456789",
        *"+-._eE ",
        *("\u2003", "\xa0", "\u0663", "\U0001d7d9", "\t", "\n", "\u2028", "\x00"),
        *("inf", "nan", "infinity", "x", "'", '"', "\\", "_"),
    ]
)
_ANY = st.characters(exclude_categories=["Cs"])
_TEXT = st.one_of(
    st.lists(_NUMBERISH, max_size=12).map("".join),
    st.text(_ANY, max_size=8),
    st.floats(allow_nan=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(lambda i: f"{i:_}"),
)


@pytest.mark.skipif(not unicode_matches(), reason="unicode.c is of another Unicode version")
# no shrinking: a batch of 150 is slow to shrink, and the failure lists the strings
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=(Phase.generate,),
)
@given(texts=st.lists(_TEXT, min_size=150, max_size=150))
def test_agrees_with_python_on_generated_strings(
    harness: Harness, tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    check(harness, tmp_path_factory.mktemp("gen"), texts)


def test_long_literal_message_is_bounded(harness: Harness, tmp_path: Path) -> None:
    """A 1.5 MB invalid literal: the message is the first 200 characters of its
    repr, with no allocation (the old code copied the whole text, and leaked it)."""
    texts = ["7" * 1_500_000 + "x", "é" * 700_000 + "!"]
    got = harness.parse([(op, t) for t in texts for op in "fi"], tmp_path)
    assert got == [python_float(t) if op == "f" else python_int(t) for t in texts for op in "fi"]
    assert all(len(g) < MESSAGE_BYTES + 20 for g in got)


# ---- the Unicode tables -------------------------------------------------------


def code_point_ranges(pred: object) -> Iterator[tuple[int, int]]:
    assert callable(pred)
    start = None
    for cp in range(0x80, 0x110000):
        if pred(chr(cp)):
            if start is None:
                start = cp
        elif start is not None:
            yield (start, cp - 1)
            start = None
    if start is not None:
        yield (start, 0x10FFFF)


@pytest.mark.skipif(not unicode_matches(), reason="unicode.c is of another Unicode version")
@pytest.mark.parametrize(
    ("name", "pred"),
    [("SPACE", str.isspace), ("DECIMAL", str.isdecimal), ("PRINTABLE", str.isprintable)],
)
def test_unicode_tables_match_python(name: str, pred: object) -> None:
    text = (Path(__file__).parents[1] / UNICODE_C).read_text()
    body = re.search(rf"{name}\[\d+\]\[2\] = \{{(.*?)\n\}};", text, re.S)
    assert body is not None
    table = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\{0x(\w+), 0x(\w+)\}", body[1])]
    assert table == list(code_point_ranges(pred))
    if name == "DECIMAL":  # spy_unicode_decimal counts 0..9 from each range's start
        assert all(unicodedata.decimal(chr(a)) == 0 and (b - a + 1) % 10 == 0 for a, b in table)


# ---- through compiled SPy ------------------------------------------------------


def test_conversions_in_a_program(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            print(f64("\\u20031.5"), f64(" -inf"), f64("1_0.2_5"), f64("\\u0663.\\u0665"))
            print(i32("\\u0661\\u0662"), i64(" -9_000 "), u8("255"))
        """
    )
    assert out.splitlines() == ["1.5 -inf 10.25 3.5", "12 -9000 255"]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('f64("_1.5")', f"ValueError: {FLOAT_HEAD}'_1.5'"),
        ('f64("nan(1)")', f"ValueError: {FLOAT_HEAD}'nan(1)'"),
        ('f64("1__0.5")', f"ValueError: {FLOAT_HEAD}'1__0.5'"),
        ('i32("\\u20031.5")', f"ValueError: {INT_HEAD}'\\u20031.5'"),
        ('i32("3000000000")', "OverflowError: value out of range for i32"),
    ],
)
def test_conversion_errors_in_a_program(spy: SpyRunner, expr: str, message: str) -> None:
    result = spy.run(f"def main() -> None:\n    print({expr})\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == message


def test_finite_float_reprs_round_trip(harness: Harness, tmp_path: Path) -> None:
    values = [
        math.ldexp(1.0 + i / 7919, e)
        for i in range(0, 7919, 37)
        for e in (-1074, -1000, -3, 0, 60, 1000)
    ]
    check(harness, tmp_path, [repr(v) for v in values], ops="f")
