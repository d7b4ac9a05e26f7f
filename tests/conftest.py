"""Fixtures: one warm build cache for the whole run, and a runner of SPy
programs parametrized over both targets."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hatch_spy.compiler import compile_program_to_c
from hatch_spy.compiler.errors import SpyCompileError
from hatch_spy.runner import run_native, run_wasm
from hatch_spy.toolchain import Toolchain, get_target

TARGETS = ("native", "wasm")


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One hatch-spy cache per test run, shared by xdist workers: entries are
    content-addressed and appear atomically, so sharing is safe, and libspy
    compiles once per target instead of once per test. zig's own libc cache
    stays in its default per-user folder, warm across runs."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    cache = root / "hatch-spy-cache"
    old = os.environ.get("HATCH_SPY_CACHE_DIR")
    os.environ["HATCH_SPY_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        del os.environ["HATCH_SPY_CACHE_DIR"]
    else:
        os.environ["HATCH_SPY_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def toolchain(shared_cache: Path) -> Toolchain:
    return Toolchain(cache_dir=shared_cache)


@dataclass
class RunResult:
    stdout: str
    stderr: str
    returncode: int


class SpyRunner:
    """Writes .spy files into a folder, compiles main.spy for one target, runs it."""

    def __init__(self, folder: Path, target: str, toolchain: Toolchain) -> None:
        self.folder = folder
        self.target = target
        self.toolchain = toolchain

    def write(self, source: str, files: dict[str, str] | None = None) -> Path:
        for name, text in (files or {}).items():
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        main = self.folder / "main.spy"
        main.write_text(textwrap.dedent(source), encoding="utf-8")
        return main

    def run(self, source: str, files: dict[str, str] | None = None) -> RunResult:
        main = self.write(source, files)
        c_source = compile_program_to_c(main)
        built = self.toolchain.build_executable(c_source, get_target(self.target))
        out, err = self.folder / "stdout.txt", self.folder / "stderr.txt"
        runner = run_wasm if self.target == "wasm" else run_native
        code = runner(built, "main.spy", [], stdout=out, stderr=err)
        return RunResult(out.read_text("utf-8"), err.read_text("utf-8"), code)

    def output(self, source: str, files: dict[str, str] | None = None) -> str:
        """stdout of a program that must succeed."""
        result = self.run(source, files)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def compile_error(self, source: str, files: dict[str, str] | None = None) -> SpyCompileError:
        main = self.write(source, files)
        with pytest.raises(SpyCompileError) as info:
            compile_program_to_c(main)
        return info.value


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def spy(tmp_path: Path, target: str, toolchain: Toolchain) -> SpyRunner:
    return SpyRunner(tmp_path, target, toolchain)


@pytest.fixture
def checker(tmp_path: Path, toolchain: Toolchain) -> SpyRunner:
    """For compile-time tests: no target involved."""
    return SpyRunner(tmp_path, "native", toolchain)


@pytest.fixture(scope="session")
def local_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of our own distributions, built once per test process."""
    from wheelkit import build_local_wheels

    return build_local_wheels(tmp_path_factory.mktemp("local-wheels"))


def hatch_spy_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`hatch-spy ARGS` in a subprocess, as a user runs it (never raises on failure)."""
    return subprocess.run(
        [sys.executable, "-m", "hatch_spy", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )
