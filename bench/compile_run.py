"""Warm compile-and-run time of `hatch-spy run`, as a ratio to bare CPython
start-up measured in the same run (the floor any Python CLI pays).

    python bench/compile_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROGRAM = """\
def fib(n: i32) -> i32:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def main() -> None:
    print(fib(20))
"""


def best_of(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "fib.spy"
        prog.write_text(PROGRAM)
        python = best_of([sys.executable, "-c", "pass"], args.repeat)
        print(f"reference: python -c pass          {python * 1000:7.1f} ms")
        for target in ("native", "wasm"):
            cmd = [sys.executable, "-m", "hatch_spy", "run", str(prog), "--target", target]
            subprocess.run(cmd, check=True, capture_output=True)  # warm the cache
            warm = best_of(cmd, args.repeat)
            print(
                f"hatch-spy run --target {target:6s}     {warm * 1000:7.1f} ms"
                f"  ({warm / python:.1f}x python start-up)"
            )


if __name__ == "__main__":
    main()
