"""Containers: a word count over a 10 MB text and building a list of a
million ints, compiled SPy (native and wasm, the result returned to Python
as a dict or list) against the same functions in CPython, in one run.

    python bench/containers.py

Builds bench/spybench into a wheel and installs it into a fresh virtual
environment (calls.py's build), then times interleaved runs there: best of
REPEAT, with the spread (worst / best).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from calls import build, sh

MEASURE = r"""
import json, random, time
import spy_runtime
from spy_runtime._loader import load_module

REPEAT = 7
N = 1_000_000

def py_count_words(text):
    counts = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    return counts

def py_build_list(n):
    out = []
    for i in range(n):
        out.append(i * 3)
    return out

def py_list_sum(n):
    out = []
    for i in range(n):
        out.append(i * 3)
    t = 0
    for x in out:
        t += x
    return t

rng = random.Random(8)
vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
words = []
size = 0
while size < 10_000_000:
    w = rng.choice(vocab)
    words.append(w)
    size += len(w) + 1
text = " ".join(words)

import importlib, os
backends = {}
for backend in ("native", "wasm"):
    os.environ["SPY_BACKEND"] = backend
    import sys
    for name in [m for m in sys.modules if m.startswith("spybench")]:
        del sys.modules[name]
    from spy_runtime import _loader
    _loader._packages.clear()
    backends[backend] = importlib.import_module("spybench.text")

cases = {
    "word count, 10 MB": (
        {"CPython": lambda: py_count_words(text), **{f"hatch-spy {b}": (lambda m: lambda: m.count_words(text))(m) for b, m in backends.items()}},
    ),
    "build a list of 1e6 ints, returned": (
        {"CPython": lambda: py_build_list(N), **{f"hatch-spy {b}": (lambda m: lambda: m.build_list(N))(m) for b, m in backends.items()}},
    ),
    "build and sum a list of 1e6 ints": (
        {"CPython": lambda: py_list_sum(N), **{f"hatch-spy {b}": (lambda m: lambda: m.list_sum(N))(m) for b, m in backends.items()}},
    ),
}
expected = {}
for case, (fns,) in cases.items():
    results = [fn() for fn in fns.values()]
    assert all(r == results[0] for r in results), case
out = {}
for case, (fns,) in cases.items():
    times = {name: [] for name in fns}
    for _ in range(REPEAT):  # interleaved: each repetition runs every one
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    out[case] = {name: (min(ts), max(ts) / min(ts)) for name, ts in times.items()}
print(json.dumps(out))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        python, _refs = build(Path(tmp))
        script = Path(tmp) / "measure.py"
        script.write_text(MEASURE)
        r = json.loads(sh(str(python), str(script)))
    for case, times in r.items():
        ref = times["CPython"][0]
        print(f"{case} (best of 7, spread = worst / best), against CPython")
        for name, (best, spread) in times.items():
            print(
                f"  {name:20s} {best * 1000:9.1f} ms  {best / ref:6.2f}x CPython  spread {spread:.2f}"
            )


if __name__ == "__main__":
    main()
