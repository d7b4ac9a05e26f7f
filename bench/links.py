"""A call into another SPy package from a hot loop: sample-packages/geometry's
`spin(n)` sums |(i, 1, 2)| with spyvecmath's `norm`, built with
link = "static" (norm compiled into geometry: the same call within one
package) and with link = "dynamic" (norm called in spyvecmath's installed
binary, through the pointer its capsule gave), on both backends.

    python bench/links.py

Builds the wheels of our distributions, spyvecmath and both geometry
builds, installs each geometry into its own fresh virtual environment, then
alternates the environments (a process each, ROUNDS times) and reports the
best time of each with the spread (worst / best), as ratios to static.
On wasm, link = "dynamic" still compiles spyvecmath's code in (the shared
wasm runtime is not there yet), so both wasm builds run the same code.
"""

from __future__ import annotations

import json
import sys
import tempfile
import venv
from pathlib import Path

from calls import REPO, sh

ROUNDS = 5
N = 2_000_000

MEASURE = r"""
import json, os, sys, time
import geometry.shapes as g
n = int(sys.argv[1])
xs = [float(i) for i in range(16)]
cases = {"spin": lambda: g.spin(n), "spin_lists": lambda: g.spin_lists(xs, n // 10)}
out = {}
for name, fn in cases.items():
    fn()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    out[name] = best
print(json.dumps(out))
"""

CASES = {
    "spin": ("vec.norm(Vec3): 3 products and a sqrt, the struct passed by value", N),
    "spin_lists": ("kernels.norm(list of 16 floats): a loop and a sqrt", N // 10),
}


def wheel(project: Path, out: Path, python: str = sys.executable, **env: str) -> Path:
    before = set(out.glob("*.whl"))
    sh(python, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(project), env=env)
    (made,) = set(out.glob("*.whl")) - before
    return made


def make_env(path: Path, wheels: Path, *requirements: str) -> str:
    venv.EnvBuilder(with_pip=True).create(path)
    python = str(path / "bin" / "python")
    sh(python, "-m", "pip", "install", "-q", "--find-links", str(wheels), *requirements)
    return python


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wheels = tmp / "wheels"
        for project in (REPO / "abi", REPO / "runtime", REPO / "linker", REPO):
            wheel(project, wheels)
        vecmath = wheel(REPO / "sample-packages" / "vecmath", wheels)
        builder = make_env(tmp / "builder", wheels, "hatch-spy", "build", str(vecmath))
        pythons = {}
        for link in ("static", "dynamic"):
            out = tmp / f"geometry-{link}"
            out.mkdir()
            geometry = wheel(
                REPO / "sample-packages" / "geometry", out, builder, HATCH_SPY_LINK=link
            )
            pythons[link] = make_env(
                tmp / f"user-{link}", wheels, str(geometry), str(vecmath), "spy-runtime[wasm]"
            )
        script = tmp / "measure.py"
        script.write_text(MEASURE)
        times: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(ROUNDS):  # interleaved: each round runs every build on every backend
            for backend in ("native", "wasm"):
                for link, python in pythons.items():
                    best = json.loads(sh(python, str(script), str(N), env={"SPY_BACKEND": backend}))
                    for case, t in best.items():
                        times.setdefault((case, backend, link), []).append(t)
    print(f"best of {ROUNDS} processes x 3 calls, spread = worst / best, against static")
    for case, (what, n) in CASES.items():
        print(f"geometry.{case}: {n:,} calls of spyvecmath's {what}")
        for backend in ("native", "wasm"):
            ref = min(times[(case, backend, "static")])
            for link in ("static", "dynamic"):
                ts = times[(case, backend, link)]
                print(
                    f"  {backend:6s} {link:7s} {min(ts) * 1000:8.2f} ms  "
                    f"{min(ts) / n * 1e9:6.2f} ns/call  {min(ts) / ref:5.2f}x  "
                    f"spread {max(ts) / min(ts):.2f}"
                )


if __name__ == "__main__":
    main()
