"""What a call may do (compiler/effects.py), which decides the wrapper's set-up
and where polls go. Compile stage only: no zig."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from hatch_spy.compiler import check_modules
from hatch_spy.compiler.cgen import build_unit
from hatch_spy.compiler.effects import Effects, analyze
from hatch_spy.compiler.loader import ModuleFinder, load_program

SOURCE = """
var name: str = "x"
var count: i32 = 0

def leaf(x: i32) -> i32:
    return x + 1

def calls_leaf(x: i32) -> i32:
    return leaf(x) * 2

def looping(n: i32) -> i32:
    t = 0
    for i in range(n):
        t += i
    return t

def calls_looping(n: i32) -> i32:
    return looping(n) + 1

def fact(n: i64) -> i64:
    if n <= 1:
        return 1
    r = fact(n - 1)
    return r * n

def ping(n: i32) -> i32:
    if n <= 0:
        return 0
    return pong(n - 1)

def pong(n: i32) -> i32:
    return ping(n)

def shout(s: str) -> str:
    return s + "!"

def reads_name() -> str:
    return name

def sets_name_if(s: str) -> None:
    if len(s) > 0:
        name = s

def sets_name_in_loop(s: str, n: i32) -> None:
    for i in range(n):
        name = s

def sets_name(s: str) -> None:
    name = s

def bumps() -> i32:
    count += 1
    return count

def says(x: i32) -> None:
    print(x)

def divides(a: i32, b: i32) -> i32:
    return a // b
"""


def analyzed(tmp_path: Path, source: str = SOURCE) -> tuple[Effects, str]:
    (tmp_path / "m.spy").write_text(textwrap.dedent(source))
    modules = check_modules(load_program(["m"], ModuleFinder((tmp_path,))))
    unit = build_unit(modules)
    return analyze(modules), "\n\n".join(unit.bodies)


def names(keys: frozenset[tuple[str, str]]) -> set[str]:
    """The functions of module m (the standard library's are there too)."""
    return {name for module, name in keys if module == "m"}


def test_recursion_is_found_through_cycles_only(tmp_path: Path) -> None:
    effects, _ = analyzed(tmp_path)
    assert names(effects.recursive) == {"fact", "ping", "pong"}


def test_polls_follow_loops_and_recursion_through_calls(tmp_path: Path) -> None:
    effects, _ = analyzed(tmp_path)
    assert names(effects.polls) == {
        "looping",
        "calls_looping",
        "fact",
        "ping",
        "pong",
        "sets_name_in_loop",
    }


def test_panics_include_polls_print_and_checked_arithmetic(tmp_path: Path) -> None:
    effects, _ = analyzed(tmp_path)
    assert {"says", "divides", "looping", "fact"} <= names(effects.panics)
    assert not {"leaf", "calls_leaf", "bumps", "reads_name"} & names(effects.panics)


def test_allocation_and_str_globals(tmp_path: Path) -> None:
    effects, _ = analyzed(tmp_path)
    assert names(effects.allocates) == {"shout"}
    # an i32 global needs no retiring; a str global does, read or written
    # a store nested in an `if` or a loop counts too: unbracketed, its
    # retired values waited for another function's call (natively a leak)
    assert names(effects.str_globals) == {
        "reads_name",
        "sets_name",
        "sets_name_if",
        "sets_name_in_loop",
    }


def test_polls_sit_on_loop_back_edges_and_real_recursive_calls(tmp_path: Path) -> None:
    _, c = analyzed(tmp_path)
    bodies = {m.group(1): b for b in c.split("\n\n") if (m := re.search(r"(spy_m\$\S+?)\(", b))}
    assert "SPY_CHUNK_POLL(" in bodies["spy_m$looping"]
    for plain in ("spy_m$leaf", "spy_m$calls_leaf", "spy_m$calls_looping", "spy_m$shout"):
        assert "SPY_" not in bodies[plain], plain
    # ping -> pong -> ping: each real call between them is checked
    assert "SPY_ENTER(" in bodies["spy_m$ping"] and "SPY_ENTER(" in bodies["spy_m$pong"]
    # fact's clones call each other inline, and only level 0 polls, before it
    # descends into them: every real call of fact runs level 0
    assert "SPY_ENTER(" in bodies["spy_m$fact"]
    for k in range(1, 5):
        assert "SPY_" not in bodies[f"spy_m$fact$$r{k}"], k


def test_a_str_global_store_goes_through_the_retiring_helper(tmp_path: Path) -> None:
    _, c = analyzed(tmp_path)
    assert "spy_global_str_store(&spyg_m$name," in c
    assert "spyg_m$count = " in c  # scalars are plain stores


COLLECTING = """
def greet(name: str) -> str:
    return "Hello, " + name

def total(n: i32) -> i32:
    t = 0
    for i in range(n):
        t += i
    return t

def grow(n: i32) -> str:
    s = ""
    for i in range(n):
        s = s + "x"
    return s

def twice(n: i32) -> str:
    return grow(n) + grow(n)

def deep(n: i32) -> str:
    if n == 0:
        return ""
    return deep(n - 1) + "d"

def numbers_then_text(n: i32) -> str:
    t = 0.0
    for i in range(n):
        t = t + 0.5
    return str(t)

def fail(i: i32) -> i32:
    raise IndexError("index " + str(i))

def checked(i: i32, n: i32) -> i32:
    if i >= n:
        fail(i)
    return i

def checks(n: i32) -> i32:
    t = 0
    for i in range(n):
        t = t + checked(i, n)
    return t
"""


def test_only_functions_that_reach_a_safe_point_collect(tmp_path: Path) -> None:
    """A loop that allocates, a caller of one, recursion that allocates; not
    a leaf that allocates once, nor a loop that allocates nothing."""
    effects, c = analyzed(tmp_path, COLLECTING)
    assert names(effects.collects) == {"grow", "twice", "deep"}
    # a loop whose only allocation is a raise's message needs no safe point
    assert {"fail", "checked", "checks"} <= names(effects.allocates)
    heads = {b.split("{", 1)[0]: b for b in c.split("\n\n")}
    names_ = ("greet", "total", "grow", "twice", "deep", "numbers_then_text")
    bodies = {n: next(b for h, b in heads.items() if f"spy_m${n}(" in h) for n in names_}
    # a frame where a str variable lives across a safe point; polls where
    # allocation meets a loop or recursion; nothing in the others
    assert [n for n, b in bodies.items() if "spy_thread.frames = &spy$frame;" in b] == ["grow"]
    assert [n for n, b in bodies.items() if "SPY_GC_POLL();" in b] == ["grow", "deep"]
    assert [n for n, b in bodies.items() if "spy$km" in b] == ["grow", "twice", "deep"]
