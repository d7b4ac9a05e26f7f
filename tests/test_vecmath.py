"""The sample package `spyvecmath` (a Vec3 struct with operators, kernels over
lists of floats) built into a wheel, installed into a fresh venv and checked
against the same math in Python, on both backends."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from wheelkit import SAMPLES, Venv, build_wheel, installed_env, memory_meters

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="native wheels are Linux-only so far"
)

BACKENDS = ["native", "wasm"]

REFERENCE = """
import math
def pdot(a, b): return a.x * b.x + a.y * b.y + a.z * b.z
def pcross(a, b):
    return (a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
def ldot(a, b): return sum((x * y for x, y in zip(a, b)), 0.0)
def as_tuple(p): return (p.x, p.y, p.z)
"""


@pytest.fixture(scope="session")
def vecmath(tmp_path_factory: pytest.TempPathFactory, local_wheels: Path) -> Venv:
    wheel = build_wheel(SAMPLES / "vecmath", tmp_path_factory.mktemp("vecmath-wheel"))
    return installed_env(tmp_path_factory, "vecmath", local_wheels, str(wheel), "spy-runtime[wasm]")


def call(env: Venv, backend: str, code: str) -> list[str]:
    script = "import vecmath.vec as v, vecmath.kernels as k\n" + REFERENCE + textwrap.dedent(code)
    return env.run_script(script, env={"SPY_BACKEND": backend}).stdout.splitlines()


@pytest.mark.parametrize("backend", BACKENDS)
def test_vectors_and_kernels_agree_with_python(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        import random
        rng = random.Random(3)
        ok = []
        for _ in range(200):
            a = v.Vec3(*(rng.uniform(-9, 9) for _ in range(3)))
            b = v.Vec3(*(rng.uniform(-9, 9) for _ in range(3)))
            ok.append(v.dot(a, b) == pdot(a, b))
            ok.append(as_tuple(v.cross(a, b)) == pcross(a, b))
            ok.append(as_tuple(v.add(a, b)) == (a.x + b.x, a.y + b.y, a.z + b.z))
            ok.append(as_tuple(v.sub(a, b)) == (a.x - b.x, a.y - b.y, a.z - b.z))
            ok.append(v.norm(a) == math.sqrt(pdot(a, a)))
            n = v.norm(a)
            ok.append(as_tuple(v.normalize(a)) == tuple(c * (1.0 / n) for c in as_tuple(a)))
            xs = [rng.uniform(-1, 1) for _ in range(50)]
            ys = [rng.uniform(-1, 1) for _ in range(50)]
            ok.append(k.dot(xs, ys) == ldot(xs, ys))
            ok.append(k.axpy(2.5, xs, ys) == [2.5 * x + y for x, y in zip(xs, ys)])
            m = [xs[i:i + 5] for i in range(0, 50, 5)]
            ok.append(k.matvec(m, ys[:5]) == [ldot(r, ys[:5]) for r in m])
        print(all(ok), len(ok))
        print(v.describe(v.Vec3(1, 2.5, -0.0)), v.scale(v.Vec3(1, 2, 3), -1.5))
        for bad in [lambda: v.normalize(v.Vec3(0, 0, 0)), lambda: k.dot([1.0], [1.0, 2.0]),
                    lambda: k.matvec([[1.0], ["x"]], [1.0]), lambda: v.dot(v.Vec3(1, 2, 3), (1, 2, 3))]:
            try:
                bad()
            except Exception as e:
                print(type(e).__name__, e)
        """,
    )
    assert out == [
        "True 1800",
        "Vec3(1.0, 2.5, -0.0) Vec3(x=-1.5, y=-3.0, z=-4.5)",
        "ValueError cannot normalize a zero vector",
        "ValueError dot: the vectors have different lengths",
        "TypeError matvec() argument 'm[1][0]' must be float, not str",
        "TypeError dot() argument 'b' must be Vec3, not tuple",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_and_python_code_during_calls(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        import threading
        class Lazy:  # converting it runs Python code that calls compiled code again
            def __init__(self, x): self.x = x
            def __float__(self): return k.dot([self.x], [1.0]) + v.norm(v.Vec3(0, 0, 0))
        print(k.dot([Lazy(2.0), Lazy(3.0)], [4.0, 5.0]))
        bad = []
        def work(t):
            for i in range(500):
                a, b = v.Vec3(t, i, 1.0), v.Vec3(i, -t, 2.0)
                if v.dot(a, b) != pdot(a, b) or k.axpy(1.0, [t, i], [i, t]) != [t + i, i + t]:
                    bad.append((t, i))
        threads = [threading.Thread(target=work, args=(float(t),)) for t in range(8)]
        for th in threads: th.start()
        for th in threads: th.join()
        print(bad)
        """,
    )
    assert out == ["23.0", "[]"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernel_calls_leave_memory_flat(vecmath: Venv, backend: str) -> None:
    script = memory_meters("vecmath") + textwrap.dedent(
        """
        import vecmath.kernels as k
        xs = [float(i) for i in range(1000)]
        for _ in range(200):
            k.axpy(2.0, xs, xs); k.matvec([xs, xs], xs)
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(5000):
            k.axpy(2.0, xs, xs); k.matvec([xs, xs], xs)
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, vecmath.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0
    assert grown_mb < 8
