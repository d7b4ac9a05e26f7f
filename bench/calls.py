"""Per-call cost and kernel speed of compiled SPy, as ratios against
references measured in the same run.

    python bench/calls.py

Builds bench/spybench into a wheel, installs it into a fresh virtual
environment with spy-runtime[wasm], compiles the references with gcc -O2
(a hand-written METH_FASTCALL extension, and the kernels in plain C for
ctypes), then runs bench/_measure.py inside that environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def sh(*cmd: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def build(tmp: Path) -> tuple[Path, dict[str, str]]:
    wheels = tmp / "wheels"
    for project in (REPO / "abi", REPO / "runtime", HERE / "spybench"):
        sh(
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "-o",
            str(wheels),
            str(project),
        )
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    sh(
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "--find-links",
        str(wheels),
        "spybench",
        "spy-runtime[wasm]",
    )
    include = sysconfig.get_paths()["include"]
    refs = {
        "handext": str(tmp / "handext.so"),
        "kernels": str(tmp / "kernels.so"),
    }
    sh(
        "gcc",
        "-O2",
        "-shared",
        "-fPIC",
        "-I",
        include,
        str(HERE / "ref" / "handext.c"),
        "-o",
        refs["handext"],
    )
    sh(
        "gcc",
        "-O2",
        "-shared",
        "-fPIC",
        str(HERE / "ref" / "kernels.c"),
        "-o",
        refs["kernels"],
        "-lm",
    )
    return python, refs


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        python, refs = build(Path(tmp))
        out = sh(
            str(python), str(HERE / "_measure.py"), json.dumps(refs), env={"SPY_BACKEND": "native"}
        )
    r = json.loads(out)
    calls = r["calls"]
    ref = calls["hand-written METH_FASTCALL extension"]
    print("per-call cost of add(i32, i32), after subtracting the empty loop")
    for name, ns in calls.items():
        print(f"  {name:40s} {ns:8.1f} ns  {ns / ref:6.2f}x the hand-written extension")
    speedup = calls["wasmtime-py Func.__call__"] / calls["hatch-spy wasm"]
    print(f"  hatch-spy wasm is {speedup:.1f}x cheaper than wasmtime-py Func.__call__")
    for kernel, times in r["kernels"].items():
        gcc = times["C, gcc -O2"]
        print(f"kernel {kernel} (best of {r['repeat']}), against the same C built by gcc -O2")
        for name, s in times.items():
            print(f"  {name:40s} {s * 1000:9.1f} ms  {s / gcc:6.2f}x gcc -O2")


if __name__ == "__main__":
    main()
