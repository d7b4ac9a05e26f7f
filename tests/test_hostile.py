"""Hostile input (issue 6): the compiler never ends in a traceback, never leaks
a C compiler error and never hangs. Each program of the corpus
(hostile_corpus.py) and of a property-based generator either gives a clean
compile error or compiles and behaves the same on both targets."""

from __future__ import annotations

import errno
import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TARGETS, hatch_spy_cli
from hatch_spy.compiler import compile_program_to_c
from hatch_spy.compiler.cgen import mangle, mangle_module
from hatch_spy.compiler.errors import SpyCompileError
from hatch_spy.runner import run_native, run_wasm
from hatch_spy.toolchain import Toolchain, ToolchainError, get_target
from hostile_corpus import CASES, Case

HEAD = re.compile(r"^(?P<file>\S[^\n]*?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>\S.*)$")
BY_NAME = {c.name: c for c in CASES}


def write_case(case: Case, folder: Path) -> Path:
    for name, data in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder / "main.spy"


def check_clean_error(err: SpyCompileError) -> re.Match[str]:
    """`file:line:col: error: message`, then the source line and a caret under it."""
    text = err.format()
    assert "Traceback" not in text
    lines = text.split("\n")
    head = HEAD.match(lines[0])
    assert head, text
    # then notes, for an error in code the compiler ran (blue code): each call
    notes = lines[3:] if len(lines) >= 3 else []
    assert len(lines) in (1, 3) or all(
        n.startswith(("  in ", "  [the line above")) for n in notes
    ), text
    if len(lines) == 3:
        assert lines[1].startswith("    ") and lines[2].startswith("    "), text
        assert lines[2].rstrip().endswith("^") and lines[2].count("^") == 1, text
    return head


def compile_case(case: Case, folder: Path) -> str | SpyCompileError:
    main = write_case(case, folder)
    try:
        return compile_program_to_c(main)
    except SpyCompileError as err:
        return err


# ---- the corpus, at the compile-to-C stage ------------------------------------------------


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 200
    assert len(BY_NAME) == len(CASES)  # names are unique


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_corpus_compiles_or_fails_cleanly(tmp_path: Path, name: str) -> None:
    case = BY_NAME[name]
    start = time.monotonic()
    result = compile_case(case, tmp_path)
    assert time.monotonic() - start < 60, "compiling took too long"
    if isinstance(result, SpyCompileError):
        assert case.expect != "ok", result.format()
        head = check_clean_error(result)
        assert case.fragment in head["msg"], result.format()
        if case.at is not None:
            assert (int(head["line"]), int(head["col"])) == case.at, result.format()
    else:
        assert case.expect != "error", f"compiled, but expected an error ({case.fragment})"
        assert "int main(" in result


# ---- the corpus that compiles, run on both targets --------------------------------------


def runnable_cases(folder: Path) -> list[Case]:
    """The single-file cases that compile (expected or not)."""
    out = []
    for i, case in enumerate(CASES):
        if not case.single_file or case.expect == "error":
            continue
        if not isinstance(compile_case(case, folder / f"probe{i}"), SpyCompileError):
            out.append(case)
    return out


def combined_program(cases: list[Case], folder: Path) -> Path:
    """One program importing each case as module c<i> and calling its main()
    between markers: one C compile per target for the whole corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    calls = []
    for i, case in enumerate(cases):
        (folder / f"c{i}.spy").write_bytes(case.files["main.spy"])
        lines.append(f"import c{i}")
        calls += [f"    print('@@ {case.name}')", f"    c{i}.main()"]
    main = folder / "main.spy"
    main.write_text("\n".join([*lines, "", "def main() -> None:", *calls, ""]), encoding="utf-8")
    return main


def run_built(built: Path, target: str, folder: Path) -> tuple[str, str, int]:
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    runner = run_wasm if target == "wasm" else run_native
    code = runner(built, "main.spy", [], stdout=out, stderr=err)
    return out.read_text("utf-8", "replace"), err.read_text("utf-8", "replace"), code


def run_all(cases: list[Case], target: str, tc: Toolchain, folder: Path) -> dict[str, str]:
    """Each case's output; a case that panics ends the program, so the rest
    run again in a program of their own."""
    results: dict[str, str] = {}
    remaining = list(cases)
    round_ = 0
    while remaining:
        round_ += 1
        main = combined_program(remaining, folder / f"{target}-{round_}")
        built = tc.build_executable(compile_program_to_c(main), get_target(target))
        stdout, stderr, code = run_built(built, target, main.parent)
        parts = stdout.split("@@ ")[1:]
        for part in parts:
            name, _, output = part.partition("\n")
            results[name] = output
        done = len(parts)
        if code == 0:
            assert done == len(remaining)
            break
        assert done >= 1, stderr
        last = remaining[done - 1].name
        results[last] += f"[exit {code}] {stderr}"
        remaining = remaining[done:]
    return results


def test_corpus_runs_the_same_on_both_targets(tmp_path: Path, toolchain: Toolchain) -> None:
    cases = runnable_cases(tmp_path / "probe")
    assert len(cases) >= 100
    outputs = {t: run_all(cases, t, toolchain, tmp_path / t) for t in TARGETS}
    assert outputs["native"] == outputs["wasm"]
    for case in cases:
        if case.out is not None:
            assert outputs["native"][case.name] == case.out, case.name


MULTI_FILE_OK = [c.name for c in CASES if not c.single_file and c.expect == "ok"]


@pytest.mark.parametrize("name", MULTI_FILE_OK)
def test_multi_file_cases_run_on_both_targets(
    tmp_path: Path, toolchain: Toolchain, name: str
) -> None:
    case = BY_NAME[name]
    c_source = compile_case(case, tmp_path)
    assert isinstance(c_source, str)
    for target in TARGETS:
        built = toolchain.build_executable(c_source, get_target(target))
        stdout, stderr, code = run_built(built, target, tmp_path)
        assert (stdout, code) == (case.out, 0), stderr


# ---- the command line --------------------------------------------------------------------

CLI_CASES = [
    "latin1-in-string",
    "nul-in-code",
    "plus-100000",
    "elif-5000",
    "lone-surrogate",
    "float-pow-overflow",
    "import-missing",
    "caret-after-cjk",
]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_reports_hostile_input_cleanly(tmp_path: Path, name: str) -> None:
    main = write_case(BY_NAME[name], tmp_path)
    proc = hatch_spy_cli("run", str(main), timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal" not in proc.stderr
    lines = proc.stderr.rstrip("\n").split("\n")
    assert HEAD.match(lines[0]) and lines[0].startswith("main.spy:"), proc.stderr
    assert len(lines) == 3 and lines[2].strip() == "^", proc.stderr
    assert proc.stdout == ""


def test_cli_runs_a_file_with_a_bom(tmp_path: Path) -> None:
    main = write_case(BY_NAME["bom"], tmp_path)
    proc = hatch_spy_cli("run", str(main))
    assert (proc.returncode, proc.stdout) == (0, "bom\n"), proc.stderr


def test_caret_counts_characters_and_wide_ones_twice(tmp_path: Path) -> None:
    err = compile_case(BY_NAME["caret-after-cjk"], tmp_path)
    assert isinstance(err, SpyCompileError)
    _, shown, caret = err.format().split("\n")
    assert shown == "        s = '漢字' + nope"
    # column 16 in characters; the two wide characters take four terminal columns
    assert str(err.loc) == "main.spy:2:16"
    assert caret == "    " + " " * (4 + len("s = '") + 4 + len("' + ")) + "^"


# ---- names in C ----------------------------------------------------------------------------


def unmangle_module(text: str) -> list[str]:
    """Read mangle_module's output back (tests that it is one-to-one)."""
    parts: list[str] = [""]
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$":
            parts[-1] += c
            i += 1
        elif text[i + 1] == "$" and text[i + 2] != "$":  # `$$$` is `$` then `$$...`
            end = text.index("$", i + 2)
            parts[-1] += chr(int(text[i + 2 : end], 16))
            i = end + 1
        else:
            parts.append("")
            i += 1
    return parts


piece = st.text(min_size=1, max_size=8).filter(lambda s: "." not in s)


@settings(max_examples=300, deadline=None)
@given(st.lists(piece, min_size=1, max_size=4))
def test_module_names_read_back_from_their_c_names(parts: list[str]) -> None:
    assert unmangle_module(mangle_module(".".join(parts))) == parts


@settings(max_examples=300, deadline=None)
@given(piece, piece)
def test_mangling_never_merges_two_names(a: str, b: str) -> None:
    if a != b:
        assert mangle(a) != mangle(b)
        assert mangle(a) + "$$r1" != mangle(b)
        assert mangle(a) + "$$export" != mangle(b)


# ---- the cache --------------------------------------------------------------------------


def test_relative_cache_dir_works(tmp_path: Path) -> None:
    main = write_case(BY_NAME["bom"], tmp_path / "prog")
    proc = hatch_spy_cli("run", str(main), env={"HATCH_SPY_CACHE_DIR": "relcache"}, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "bom\n"), proc.stderr
    assert (tmp_path / "relcache" / "programs").is_dir()


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, shared_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(shared_cache / "libspy", cache / "libspy")  # only the program is built
    tc = Toolchain(cache_dir=cache)

    def full(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full)
    c_source = "int main(void) { return 0; } /* full disk */"
    with pytest.raises(ToolchainError) as info:
        tc.build_executable(c_source, get_target("native"))
    message = str(info.value)
    assert str(cache) in message and "No space left on device (ENOSPC)" in message
    assert list((cache / "tmp").iterdir()) == []


def test_a_cache_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    tc = Toolchain(cache_dir=blocker / "cache")
    with pytest.raises(ToolchainError, match="cannot write to hatch-spy's cache folder"):
        tc.build_executable("int main(void) { return 0; }", get_target("native"))


def test_a_failed_compile_leaves_no_scratch_folder(tmp_path: Path, shared_cache: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(shared_cache / "libspy", cache / "libspy")
    tc = Toolchain(cache_dir=cache)
    with pytest.raises(ToolchainError, match="internal compiler error"):
        tc.build_executable("this is not C", get_target("native"))
    assert list((cache / "tmp").iterdir()) == []


# ---- compile time ---------------------------------------------------------------------------


def statements(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"s{n}.spy"
    body = "".join(f"    x = x * 3 + {i % 7}\n" for i in range(n))
    path.write_text(f"def main() -> None:\n    x = 0\n{body}    print(x)\n")
    return path


def best_time(path: Path) -> float:
    times = []
    for _ in range(2):
        start = time.perf_counter()
        compile_program_to_c(path)
        times.append(time.perf_counter() - start)
    return min(times)


def test_compile_time_grows_linearly(tmp_path: Path) -> None:
    small, big = best_time(statements(tmp_path, 2_000)), best_time(statements(tmp_path, 16_000))
    # 8x the statements: linear is 8x the time; quadratic would be 64x
    assert big / small < 16, (small, big)


def test_a_huge_function_is_compiled_without_optimization(
    tmp_path: Path, toolchain: Toolchain
) -> None:
    c_source = compile_program_to_c(statements(tmp_path, 4_000))
    assert "__attribute__((optnone, noinline)) static void spy_s4000$main(" in c_source
    expected = 0
    for i in range(4_000):
        expected = (expected * 3 + i % 7) & 0xFFFFFFFF
    expected -= (expected >> 31) << 32
    for target in TARGETS:
        built = toolchain.build_executable(c_source, get_target(target))
        stdout, stderr, code = run_built(built, target, tmp_path)
        assert (stdout, code) == (f"{expected}\n", 0), stderr


# ---- generated programs ------------------------------------------------------------------

NAMES = st.sampled_from(["x", "y", "é", "x_u00e9", "漢", "_acc", "v_x", "int", "spy_lit_0"])
TYPES = st.sampled_from(["i8", "u8", "i32", "u32", "i64", "u64", "f32", "f64", "bool", "str"])
LITERALS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["True", "False", "'a'", "'\\ud800'", "'é'", "1e999", "None", "0"]),
)
OPERATORS = st.sampled_from(
    ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "==", "<", "and", "or"]
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3 or draw(st.booleans()):
        return draw(st.one_of(LITERALS, NAMES))
    kind = draw(st.sampled_from(["binop", "unary", "call", "cast", "ifexp"]))
    a = draw(expressions(depth + 1))
    if kind == "binop":
        return f"({a} {draw(OPERATORS)} {draw(expressions(depth + 1))})"
    if kind == "unary":
        return f"({draw(st.sampled_from(['-', 'not ', '~']))}{a})"
    if kind == "call":
        return f"{draw(st.sampled_from(['str', 'len', 'f', 'print']))}({a})"
    if kind == "cast":
        return f"{draw(TYPES)}({a})"
    return f"({a} if {draw(expressions(depth + 1))} else {draw(expressions(depth + 1))})"


@st.composite
def programs(draw: st.DrawFn) -> str:
    lines = ["def f(x: i32) -> i32:", "    return x + 1", ""]
    for _ in range(draw(st.integers(0, 2))):
        lines.append(f"G{len(lines)}: {draw(TYPES)} = {draw(expressions())}")
    lines.append("def main() -> None:")
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["assign", "typed", "print", "if", "while"]))
        if kind == "assign":
            lines.append(f"    {draw(NAMES)} = {draw(expressions())}")
        elif kind == "typed":
            lines.append(f"    {draw(NAMES)}: {draw(TYPES)} = {draw(expressions())}")
        elif kind == "print":
            lines.append(f"    print({draw(expressions())})")
        elif kind == "if":
            lines += [f"    if {draw(expressions())}:", f"        print({draw(expressions())})"]
        else:
            lines += [f"    while {draw(expressions())}:", "        break"]
    return "\n".join(lines) + "\n"


def test_generated_programs(tmp_path: Path, toolchain: Toolchain) -> None:
    """A bounded run of the generator; a few programs that compile run on both targets."""
    compiled: list[str] = []

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(programs())
    def check(program: str) -> None:
        path = tmp_path / "gen" / "main.spy"
        path.parent.mkdir(exist_ok=True)
        path.write_text(program, encoding="utf-8")
        try:
            c_source = compile_program_to_c(path)
        except SpyCompileError as err:
            check_clean_error(err)
        else:
            compiled.append(c_source)

    start = time.monotonic()
    check()
    assert time.monotonic() - start < 60
    assert compiled, "the generator never made a program that compiles"
    for c_source in compiled[:: max(1, len(compiled) // 4)][:4]:
        results = []
        for target in TARGETS:
            built = toolchain.build_executable(c_source, get_target(target))
            results.append(run_built(built, target, tmp_path))
        assert results[0] == results[1]


def test_entry_module_named_like_a_submodule_path(tmp_path: Path, toolchain: Toolchain) -> None:
    # `a$b.spy` (module a$b) and `a/b.spy` (module a.b) were both `a$b` in C
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.spy").write_text("def f() -> i32:\n    return 1\n")
    entry = tmp_path / "a$b.spy"
    entry.write_text(
        "import a.b as ab\n\ndef f() -> i32:\n    return 2\n\n"
        "def main() -> None:\n    print(ab.f(), f())\n"
    )
    c_source = compile_program_to_c(entry)
    for target in TARGETS:
        built = toolchain.build_executable(c_source, get_target(target))
        assert run_built(built, target, tmp_path)[:2] == ("1 2\n", "")


def test_entry_file_with_a_dot_in_its_name_is_a_clear_error(tmp_path: Path) -> None:
    entry = tmp_path / "a.b.spy"
    entry.write_text("def main() -> None:\n    pass\n")
    proc = hatch_spy_cli("run", str(entry))
    assert proc.returncode == 1
    assert proc.stderr == (
        "hatch-spy: error: cannot compile a.b.spy: rename it so that only '.spy' has a dot\n"
    )
