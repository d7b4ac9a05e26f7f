"""Arrays: a dot product of two 1,000,000-item float64 NumPy arrays through
compiled SPy (native: the arrays viewed in place; wasm: copied in), against
numpy.dot and the same loop in C built by gcc -O2 (through ctypes), and the
per-call cost of passing a NumPy array against passing two ints, in one run.

    python bench/arrays.py

Builds bench/spybench into a wheel and installs it with NumPy into a fresh
virtual environment (calls.py's build), then times interleaved runs there:
best of REPEAT, with the spread (worst / best).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from calls import build, sh

MEASURE = r"""
import ctypes, importlib, json, os, sys, time
import numpy as np

REPEAT = 15
N = 1_000_000
CALLS = 200_000

refs = json.loads(sys.argv[1])
clib = ctypes.CDLL(refs["kernels"])
clib.dot.restype = ctypes.c_double
clib.dot.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]

def load(backend):
    os.environ["SPY_BACKEND"] = backend
    for name in [m for m in sys.modules if m.startswith("spybench")]:
        del sys.modules[name]
    from spy_runtime import _loader
    _loader._packages.clear()
    return importlib.import_module("spybench.arrays"), importlib.import_module("spybench.kernels")

mods = {b: load(b) for b in ("native", "wasm")}
rng = np.random.default_rng(1)
a, b = rng.random(N), rng.random(N)
pa, pb = a.ctypes.data, b.ctypes.data

dots = {
    "C, gcc -O2 (ctypes)": lambda: clib.dot(pa, pb, N),
    "numpy.dot": lambda: float(np.dot(a, b)),
    "hatch-spy native": lambda: mods["native"][0].dot(a, b),
    "hatch-spy wasm": lambda: mods["wasm"][0].dot(a, b),
}
want = clib.dot(pa, pb, N)
for name, fn in dots.items():
    got = fn()
    # numpy.dot sums in another order (pairwise, SIMD): close, not equal
    assert got == want or (name == "numpy.dot" and abs(got - want) < 1e-9 * abs(want)), (name, got, want)

times = {name: [] for name in dots}
for _ in range(REPEAT):  # interleaved: each repetition runs every one
    for name, fn in dots.items():
        t0 = time.perf_counter()
        fn()
        times[name].append(time.perf_counter() - t0)

small = np.ones(8)
def per_call(fn, *args):
    t0 = time.perf_counter()
    for _ in range(CALLS):
        fn(*args)
    return (time.perf_counter() - t0) / CALLS * 1e9

def empty_loop():
    t0 = time.perf_counter()
    for _ in range(CALLS):
        pass
    return (time.perf_counter() - t0) / CALLS * 1e9

calls = {f"{b} {what}": [] for b in ("native", "wasm") for what in ("two ints", "a NumPy array")}
for _ in range(REPEAT):
    base = empty_loop()
    for backend, (arrays, kernels) in mods.items():
        calls[f"{backend} two ints"].append(per_call(kernels.add, 1, 2) - base)
        calls[f"{backend} a NumPy array"].append(per_call(arrays.first, small) - base)
out = {
    "dot": {name: (min(ts), max(ts) / min(ts)) for name, ts in times.items()},
    "calls": {name: (min(ts), max(ts) / min(ts)) for name, ts in calls.items()},
}
print(json.dumps(out))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        python, refs = build(Path(tmp))
        sh(str(python), "-m", "pip", "install", "-q", "numpy")
        script = Path(tmp) / "measure.py"
        script.write_text(MEASURE)
        r = json.loads(sh(str(python), str(script), json.dumps(refs)))
    dot = r["dot"]
    ref = dot["C, gcc -O2 (ctypes)"][0]
    print("dot product of two 1e6-item float64 arrays (best of 15, spread = worst / best)")
    for name, (best, spread) in dot.items():
        print(
            f"  {name:22s} {best * 1000:8.3f} ms  {best / ref:6.2f}x gcc -O2  spread {spread:.2f}"
        )
    print("per-call cost (best of 15), after subtracting the empty loop")
    calls = r["calls"]
    for backend in ("native", "wasm"):
        ints, arr = calls[f"{backend} two ints"][0], calls[f"{backend} a NumPy array"][0]
        print(
            f"  {backend:6s} add(1, 2) {ints:6.1f} ns   first(array) {arr:6.1f} ns   "
            f"{arr / ints:5.2f}x the two ints"
        )


if __name__ == "__main__":
    main()
