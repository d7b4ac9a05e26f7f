"""Running built programs: native executables directly, WASI modules in wasmtime."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, NoReturn

from spy_runtime.engine import CWD_ENV, wasi_environment

from .compiler.errors import SpyError


def run_native(
    exe: Path,
    argv0: str,
    args: Sequence[str],
    stdout: Path | None = None,
    stderr: Path | None = None,
) -> int:
    """Run `exe` with the caller's stdio (or into files); return its exit status
    (128+N when signal N killed it, as a shell reports it)."""
    with open_or_none(stdout) as out, open_or_none(stderr) as err:
        proc = subprocess.run(
            [argv0, *args], executable=str(exe), stdout=out, stderr=err, check=False
        )
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def exec_native(exe: Path, argv0: str, args: Sequence[str]) -> NoReturn:
    """Become the program (POSIX only): a signal sent to `hatch-spy run`, even
    an uncatchable SIGKILL, reaches the program itself, and no child is left
    running when the runner dies; the shell sees the program's own status."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(exe, [argv0, *args])


def open_or_none(path: Path | None) -> AbstractContextManager[IO[bytes] | None]:
    return open(path, "wb") if path is not None else nullcontext()


def run_wasm(
    module: Path,
    argv0: str,
    args: Sequence[str],
    stdout: Path | None = None,
    stderr: Path | None = None,
    sandbox: Sequence[Path] | None = None,
) -> int:
    """Run a WASI command module with the caller's stdio (or into files); return
    its exit status. It sees the whole file system, or with `sandbox` only
    those folders (at their own paths)."""
    try:
        import wasmtime
    except ImportError:
        raise SpyError("running wasm needs wasmtime: pip install wasmtime") from None
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasi = wasmtime.WasiConfig()
    wasi.inherit_stdin()
    if stdout is None:
        wasi.inherit_stdout()
    else:
        wasi.stdout_file = str(stdout)
    if stderr is None:
        wasi.inherit_stderr()
    else:
        wasi.stderr_file = str(stderr)
    wasi.argv = [argv0, *args]
    # the file system as a native program sees it (as SPy's runner maps `/`);
    # relative paths resolve against the host's working folder, which the
    # program's main enters (spy_wasi_enter_cwd)
    wasi.env = [*wasi_environment(), (CWD_ENV, os.getcwd())]
    for folder in ["/"] if sandbox is None else sandbox:
        path = os.path.abspath(folder)
        if not os.path.isdir(path):
            raise SpyError(f"--sandbox {folder}: no such folder")
        wasi.preopen_dir(path, path)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(module)))
    exports = instance.exports(store)
    start = exports["_start"]
    assert isinstance(start, wasmtime.Func)
    try:
        start(store)
    except wasmtime.ExitTrap as exit_:
        return int(exit_.code)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
        status = exports.get("spy_exit_status")
        if isinstance(status, wasmtime.Func):
            code = int(status(store))
            if code >= 0:  # main's status, beyond what WASI runtimes accept
                return code
        text = str(trap)
        if "call stack exhausted" in text:  # as the native program's RecursionError
            report = "RecursionError: maximum recursion depth exceeded\n"
            if stderr is None:
                sys.stdout.flush()
                sys.stderr.write(report)
            else:
                with open(stderr, "a", encoding="utf-8") as err:
                    err.write(report)
            return 1
        # a trap not raised by a panic: a runtime bug
        first = text.splitlines()[0] if text else "trap"
        raise SpyError(f"the wasm module trapped: {first}") from None
    return 0
