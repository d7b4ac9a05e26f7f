"""Helpers for the wheel tests: build wheels with real frontends, make fresh
virtual environments, install from local wheel folders, run scripts there."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample-packages"


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def try_build(
    project: Path, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m build --wheel --no-isolation`, which may fail."""
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(project)]
    return run(cmd, env=env, check=False)


def build_wheel(project: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    """`python -m build --wheel --no-isolation`: uses this environment's hatchling and hatch-spy."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(project)],
        env=env,
    )
    (wheel,) = set(out.glob("*.whl")) - before
    return wheel


def build_local_wheels(out: Path) -> Path:
    """Wheels of our own four distributions, so venvs and isolated builds
    never fetch them from an index."""
    for project in (REPO / "abi", REPO / "runtime", REPO / "linker", REPO):
        build_wheel(project, out)
    return out


@dataclass
class Venv:
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def pip_install(self, *args: str, find_links: Path) -> None:
        run([self.python, "-m", "pip", "install", "-q", "--find-links", str(find_links), *args])

    def run_script(
        self,
        code: str,
        env: dict[str, str] | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return run([self.python, "-c", textwrap.dedent(code)], env=env, check=check, cwd=cwd)

    def site_packages(self) -> Path:
        out = run([self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        return Path(out.stdout.strip())


def make_venv(path: Path) -> Venv:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return Venv(path)


def installed_env(factory: Any, name: str, local_wheels: Path, *requirements: str) -> Venv:
    """A fresh virtual environment with `requirements` installed; our own
    distributions come from the local wheel folder. `factory` is pytest's
    tmp_path_factory."""
    env = make_venv(factory.mktemp("venv") / name)
    env.pip_install(*requirements, find_links=local_wheels)
    return env


def memory_meters(package: str) -> str:
    """Python, to put before a test script, defining `peak_mb()` (the process's
    peak resident memory) and `wasm_pages()` (the linear memory of
    `package`'s wasm instance; 0 on the native backend)."""
    return textwrap.dedent(
        f"""
        import resource
        from spy_runtime._loader import _packages
        def peak_mb():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        def wasm_pages():
            wasm = _packages[{package!r}].wasm
            return wasm.instance.memory.size(wasm.instance.store) if wasm else 0
        """
    )


def other_pythons() -> list[Path]:
    """The machine's other CPythons (pyenv's), one per minor version."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found: dict[str, Path] = {}
    for python in sorted(root.glob("3.1[0-9].*/bin/python")):
        minor = python.parent.parent.name.rsplit(".", 1)[0]
        if minor != f"3.{sys.version_info.minor}":
            found[minor] = python
    return list(found.values())
