"""The `hatch-spy` command: run, build, exit codes, and the build cache."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from conftest import hatch_spy_cli
from hatch_spy.compiler import compile_program_to_c
from hatch_spy.toolchain import Toolchain, ToolchainError, get_target

PROGRAM = """\
def main() -> i32:
    print("hi from", "spy")
    return 7
"""


hatch_spy = hatch_spy_cli


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_run_forwards_output_and_exit_code(tmp_path: Path, target: str) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(PROGRAM)
    proc = hatch_spy("run", str(prog), "--target", target, "--", "extra", "args")
    assert (proc.returncode, proc.stdout, proc.stderr) == (7, "hi from spy\n", "")


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_run_forwards_panics(tmp_path: Path, target: str) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text('def main() -> None:\n    print("x")\n    raise ValueError("bad")\n')
    proc = hatch_spy("run", str(prog), "--target", target)
    assert (proc.returncode, proc.stdout) == (1, "x\n")
    assert proc.stderr.splitlines() == ['  File "prog.spy", line 3', "ValueError: bad"]


def test_build_native_executable_runs_on_its_own(tmp_path: Path) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(PROGRAM)
    exe = tmp_path / "out" / "prog"
    assert hatch_spy("build", str(prog), "--target", "native", "-o", str(exe)).returncode == 0
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout) == (7, "hi from spy\n")


def test_build_wasm_gives_a_wasi_command_module(tmp_path: Path) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(PROGRAM)
    out = tmp_path / "prog.wasm"
    assert hatch_spy("build", str(prog), "--target", "wasm", "-o", str(out)).returncode == 0
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(out))
    assert {e.name for e in module.exports} >= {"_start", "memory"}
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.stdout_file = str(tmp_path / "stdout")
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    start = linker.instantiate(store, module).exports(store)["_start"]
    assert isinstance(start, wasmtime.Func)
    with pytest.raises(wasmtime.ExitTrap) as exit_:
        start(store)
    assert exit_.value.code == 7
    assert (tmp_path / "stdout").read_text() == "hi from spy\n"


def test_unknown_file_is_a_clear_error(tmp_path: Path) -> None:
    proc = hatch_spy("run", str(tmp_path / "missing.spy"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"hatch-spy: error: no such file: {tmp_path / 'missing.spy'}"


def test_second_build_of_an_unchanged_program_compiles_nothing(tmp_path: Path) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(PROGRAM)
    c_source = compile_program_to_c(prog)
    cache = tmp_path / "cache"
    for target in ("native", "wasm"):
        first = Toolchain(cache_dir=cache).build_executable(c_source, get_target(target))

        def no_compiler(*args: object) -> None:
            raise AssertionError("zig was called for a cached build")

        again = Toolchain(cache_dir=cache)
        again._zig = no_compiler  # type: ignore[method-assign,assignment]
        assert again.build_executable(c_source, get_target(target)) == first
    # the runtime library was built once per target, and nothing is left half-done
    assert len(list((cache / "libspy").iterdir())) == 2
    assert list((cache / "tmp").iterdir()) == []


def test_changed_program_is_rebuilt(tmp_path: Path) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(PROGRAM)
    tc = Toolchain(cache_dir=tmp_path / "cache")
    first = tc.build_executable(compile_program_to_c(prog), get_target("native"))
    prog.write_text(PROGRAM.replace("return 7", "return 8"))
    second = tc.build_executable(compile_program_to_c(prog), get_target("native"))
    assert first != second
    assert subprocess.run([str(second)], capture_output=True, check=False).returncode == 8


def test_unknown_optimisation_level_is_refused() -> None:
    with pytest.raises(ToolchainError, match="unknown optimisation level 'fast'"):
        Toolchain(opt_level="fast")


def session_commands(sid: int) -> list[str]:
    """argv[0] of every process in session `sid` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # field 6 of stat: the session id
                found.append((stat.parent / "cmdline").read_bytes().split(b"\0")[0].decode())
    return found


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_run_leaves_no_program_behind(tmp_path: Path) -> None:
    """`hatch-spy run` becomes the native program, so even SIGKILL, which
    the runner cannot pass on, stops it (a child would run on, orphaned)."""
    prog = tmp_path / "forever.spy"
    prog.write_text("def main() -> None:\n    while True:\n        pass\n")
    assert hatch_spy("build", str(prog), "-o", str(tmp_path / "warm")).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "hatch_spy", "run", str(prog)], start_new_session=True
    )
    try:
        wait_for(lambda: str(prog) in session_commands(proc.pid), "the program to start")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: session_commands(proc.pid) == [], "the program to end")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


READER = """
def main(argv: list[str]) -> None:
    for path in argv[1:]:
        f = open(path, "r")
        print(path, f.read().strip())
        f.close()
"""


def test_run_wasm_sandbox_limits_files_to_named_folders(tmp_path: Path) -> None:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (inside / "h.txt").write_text("hello\n")
    (outside / "s.txt").write_text("secret\n")
    (inside / "prog.spy").write_text(READER)

    def sandboxed(path: str) -> subprocess.CompletedProcess[str]:
        """prog.spy reading `path` on wasm, with only `inside` visible."""
        cmd = ["run", "prog.spy", "--target", "wasm", "--sandbox", str(inside), "--", path]
        return hatch_spy(*cmd, cwd=inside)

    opened = sandboxed("h.txt")
    assert (opened.returncode, opened.stdout) == (0, "h.txt hello\n")
    refused = sandboxed(str(outside / "s.txt"))
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].startswith("FileNotFoundError: [Errno 2]")
    # without --sandbox the program sees what a native one does
    whole = hatch_spy(
        "run", "prog.spy", "--target", "wasm", "--", str(outside / "s.txt"), cwd=inside
    )
    assert whole.stdout == f"{outside / 's.txt'} secret\n"
    native = hatch_spy("run", "prog.spy", "--sandbox", str(inside), cwd=inside)
    assert native.returncode != 0
    assert "--sandbox applies to --target wasm" in native.stderr
    missing = hatch_spy("run", "prog.spy", "--target", "wasm", "--sandbox", "nope", cwd=inside)
    assert missing.returncode != 0 and "--sandbox nope: no such folder" in missing.stderr
