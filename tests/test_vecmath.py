"""The sample package `spyvecmath` (a Vec3 struct with operators, kernels over
lists of floats and over arrays) built into a wheel, installed into a fresh
venv with NumPy and checked against the same math in Python and NumPy, on
both backends."""

from __future__ import annotations

import json
import sys
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

import spy_abi
from wheelkit import (
    SAMPLES,
    Venv,
    build_wheel,
    installed_env,
    memory_meters,
    other_pythons,
    run,
    try_build,
)

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
def vecmath_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(SAMPLES / "vecmath", tmp_path_factory.mktemp("vecmath-wheel"))


@pytest.fixture(scope="session")
def vecmath(
    tmp_path_factory: pytest.TempPathFactory, local_wheels: Path, vecmath_wheel: Path
) -> Venv:
    return installed_env(
        tmp_path_factory, "vecmath", local_wheels, str(vecmath_wheel), "spy-runtime[wasm]", "numpy"
    )


def call(env: Venv, backend: str, code: str) -> list[str]:
    script = (
        "import vecmath.vec as v, vecmath.kernels as k, vecmath.arrays as A\n"
        "import numpy as np, array\n" + REFERENCE + textwrap.dedent(code)
    )
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
        import vecmath.kernels as k, vecmath.arrays as A, numpy as np
        xs = [float(i) for i in range(1000)]
        m, y = np.ones((4, 1000)), np.ones(1000)
        def calls():
            k.axpy(2.0, xs, xs); k.matvec([xs, xs], xs)
            A.axpy(2.0, y, y); A.matvec(m, y); A.transpose(m)
        for _ in range(200):
            calls()
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(5000):
            calls()
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, vecmath.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0
    assert grown_mb < 8


# ---- arrays: any buffer crosses in, in place on native --------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_array_kernels_agree_with_numpy(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        rng = np.random.default_rng(5)
        a, b = rng.random(1001), rng.random(1001)
        m = rng.random((7, 9))
        ok = {}
        ok["dot"] = A.dot(a, b) == sum(float(x) * float(y) for x, y in zip(a, b))
        # non-contiguous views: strided, reversed, a column
        ok["strided"] = A.dot(a[::3], b[1::3]) == A.dot(np.ascontiguousarray(a[::3]), np.ascontiguousarray(b[1::3]))
        ok["reversed"] = A.dot(a[::-1], b) == A.dot(np.ascontiguousarray(a[::-1]), b)
        ok["column"] = A.dot(m[:, 2], m[:, 4]) == A.dot(m[:, 2].copy(), m[:, 4].copy())
        ok["total"] = abs(A.total(m) - m.sum()) < 1e-9
        ok["total.T"] = A.total(m.T) == A.total(np.ascontiguousarray(m.T))
        ok["total[::2, ::-3]"] = A.total(m[::2, ::-3]) == A.total(m[::2, ::-3].copy())
        r = A.matvec(m, a[:9])
        ok["matvec"] = type(r) is memoryview and r.format == "d" and r.shape == (7,)
        ok["matvec values"] = np.allclose(np.asarray(r), m @ a[:9], rtol=1e-15)
        t = A.transpose(m[1:, ::2])
        ok["transpose"] = t.shape == (5, 6) and (np.asarray(t) == m[1:, ::2].T).all()
        # a subclass of ndarray takes the buffer protocol, exact ones are read in place
        class Sub(np.ndarray):
            pass
        ok["subclass"] = A.dot(a.view(Sub)[::-2], b[::2]) == A.dot(np.ascontiguousarray(a[::-2]), b[::2].copy())
        # what else has the buffer protocol
        ok["array.array"] = A.dot(array.array("d", [1, 2, 3]), memoryview(array.array("d", [4, 5, 6]))) == 32.0
        for data in (b"hello", bytearray(b"hello"), memoryview(b"hello")):
            h = np.asarray(A.histogram(data))
            ok[f"histogram {type(data).__name__}"] = h.shape == (256,) and h[ord("l")] == 2 and h.sum() == 5
        ok["empty"] = A.dot(np.zeros(0), np.zeros(0)) == 0.0
        # each row is a new view: the loop collects while the buffer is viewed
        tall = np.ones((300_000, 3))
        tall[::7] = 2.0
        ok["collected"] = A.total(tall) == tall.sum() and A.total(tall[::-1]) == tall.sum()
        print(sorted(name for name, good in ok.items() if not good))
        """,
    )
    assert out == ["[]"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_array_writes_reach_the_callers_buffer(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        a = np.arange(10.0)
        A.scale(a[::3], 10.0)  # a view: only its items change
        print(a.tolist())
        m = np.zeros((3, 4))
        A.fill(m[1:, 1:3], 7.0)
        print(m.tolist())
        y = array.array("d", [1.0, 1.0])
        A.axpy(2.0, np.array([1.0, 2.0]), y)
        print(y.tolist())
        ro = np.arange(3.0)
        ro.flags.writeable = False
        print(A.dot(ro, ro))  # reading a read-only buffer is fine
        try:
            A.scale(ro, 2.0)
        except TypeError as e:
            print(e)
        try:
            A.scale(memoryview(b"12345678"), 2.0)
        except TypeError as e:
            print(e)
        """,
    )
    assert out == [
        "[0.0, 1.0, 2.0, 30.0, 4.0, 5.0, 60.0, 7.0, 8.0, 90.0]",
        "[[0.0, 0.0, 0.0, 0.0], [0.0, 7.0, 7.0, 0.0], [0.0, 7.0, 7.0, 0.0]]",
        "[3.0, 5.0]",
        "5.0",
        "scale() argument 'a' must be a writable buffer (scale() writes its items), not a read-only ndarray",
        "scale() argument 'a' must be a buffer of f64 (format 'd') with 1 dimension, not a buffer of format 'B' (item size 1) with 1 dimension",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_array_mismatches_are_type_errors(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        packed = np.zeros(4, dtype=[("x", "f8"), ("tag", "u1")])  # items 9 bytes apart
        for args in [
            ([1.0, 2.0], np.ones(2)),
            (np.arange(3), np.ones(3)),
            (np.ones(3, dtype=np.float32), np.ones(3)),
            (np.ones(3, dtype=">f8"), np.ones(3)),
            (np.ones((3, 1)), np.ones(3)),
            (packed["x"], np.ones(4)),
            (np.ones(3), "abc"),
        ]:
            try:
                A.dot(*args)
            except TypeError as e:
                print(e)
        try:
            A.total(np.ones(3))
        except TypeError as e:
            print(e)
        """,
    )
    want = "dot() argument '{}' must be a buffer of f64 (format 'd') with 1 dimension, not "
    assert out == [
        want.format("a") + "list",
        want.format("a") + "a buffer of format 'l' (item size 8) with 1 dimension",
        want.format("a") + "a buffer of format 'f' (item size 4) with 1 dimension",
        want.format("a") + "a buffer of format '>d' (item size 8) with 1 dimension",
        want.format("a") + "a buffer of format 'd' (item size 8) with 2 dimensions",
        "dot() argument 'a': its strides are not a multiple of its item size (8 bytes); pass a copy",
        want.format("b") + "str",
        "total() argument 'a' must be a buffer of f64 (format 'd') with 2 dimensions, "
        "not a buffer of format 'd' (item size 8) with 1 dimension",
    ]


def test_native_array_arguments_are_not_copied(vecmath: Venv) -> None:
    """A 400 MB array passes to the native backend without its peak memory
    growing by a copy (the wasm backend copies it into linear memory)."""
    script = memory_meters("vecmath") + textwrap.dedent(
        """
        import numpy as np, vecmath.arrays as A
        a = np.ones(50_000_000)
        A.dot(a[:10], a[:10])
        before = peak_mb()
        total = A.dot(a, a)
        A.scale(a, 0.5)
        print(total, a[0], round(peak_mb() - before))
        """
    )
    total, first, grown = vecmath.run_script(script, env={"SPY_BACKEND": "native"}).stdout.split()
    assert (float(total), float(first)) == (50_000_000.0, 0.5)
    assert int(grown) < 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_arrays_with_threads_and_python_code_during_calls(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        import io, sys, threading
        held = array.array("d", [3.0, 1.0, 2.0])
        seen = []
        class Out(io.StringIO):  # print inside the call runs this Python code
            def write(self, s):
                seen.append(A.dot(np.ones(4), np.arange(4.0)))  # compiled code, nested
                try:
                    held.append(9.0)  # the call holds the buffer: Python refuses
                except BufferError:
                    seen.append("BufferError")
                return super().write(s)
        sys.stdout, saved = Out(), sys.stdout
        mean = A.summary(held)
        text, sys.stdout = sys.stdout.getvalue(), saved
        print(mean, text.strip(), sorted(set(map(str, seen))), held.tolist())
        bad = []
        def work(t):
            rng = np.random.default_rng(t)
            for i in range(200):
                x, y = rng.random(100), rng.random(100)
                want = y + 2.0 * x
                A.axpy(2.0, x, y)
                if not np.array_equal(y, want) or A.dot(x, x) != sum(float(e) * float(e) for e in x):
                    bad.append((t, i))
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads: th.start()
        for th in threads: th.join()
        print(bad)
        """,
    )
    assert out == ["2.0 min 1.0 max 3.0 mean 2.0 ['6.0', 'BufferError'] [3.0, 1.0, 2.0]", "[]"]


def test_arrays_in_the_wheel_s_metadata_and_stubs(vecmath_wheel: Path) -> None:
    with zipfile.ZipFile(vecmath_wheel) as whl:
        (meta,) = [n for n in whl.namelist() if n.endswith(".dist-info/spy-abi.json")]
        data = json.loads(whl.read(meta))
        stub = whl.read("vecmath/arrays.pyi").decode()
    assert data["format_version"] == 4
    jsonschema.validate(data, json.loads(spy_abi.schema_path(4).read_text()))
    exports = data["modules"]["vecmath.arrays"]["exports"]
    writes = {
        name: [p["name"] for p in f["params"] if p.get("mutates")] for name, f in exports.items()
    }
    assert writes == {
        "ascending_windows": [],
        "axpy": ["y"],
        "dot": [],
        "fill": ["m"],
        "histogram": [],
        "matvec": [],
        "norm": [],
        "scale": ["a"],
        "summary": [],
        "total": [],
        "transpose": [],
    }
    assert exports["matvec"]["params"][0]["type"] == "array[f64, 2]"
    assert exports["histogram"]["returns"] == "array[i64, 1]"
    assert "from typing_extensions import Buffer" in stub
    assert "def matvec(m: Buffer, v: Buffer) -> memoryview: ..." in stub


@pytest.mark.parametrize("backend", BACKENDS)
def test_ten_million_temporary_lists_in_one_call_stay_in_bounded_memory(
    vecmath: Venv, backend: str
) -> None:
    script = memory_meters("vecmath") + textwrap.dedent(
        """
        import numpy as np, vecmath.arrays as A
        a = np.array([1.0, 2.0, 3.0, 0.0] * 250)
        A.ascending_windows(a, 3, 10)
        rss, pages = peak_mb(), wasm_pages()
        print(A.ascending_windows(a, 3, 10_000))  # 10,000,000 lists
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    out = vecmath.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    assert out[0] == str(10_000 * 500)  # windows starting at 1.0 or 2.0 of each 1, 2, 3, 0
    grown_mb, grown_pages = int(out[1]), int(out[2])
    assert grown_mb < 16 and grown_pages * 64 < 16 * 1024


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_million_array_calls_leave_memory_flat(vecmath: Venv, backend: str) -> None:
    """A million calls taking arrays, writing them, and returning new ones."""
    script = memory_meters("vecmath") + textwrap.dedent(
        """
        import numpy as np, vecmath.arrays as A
        m, x, y = np.ones((3, 4)), np.ones(4), np.zeros(4)
        def calls(n):
            for _ in range(n):
                A.transpose(m); A.matvec(m, x); A.axpy(1.0, x, y); A.dot(x, y)
        calls(2000)
        rss, pages = peak_mb(), wasm_pages()
        calls(250_000)
        print(round(peak_mb() - rss), wasm_pages() - pages, y[0])
        """
    )
    out = vecmath.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    assert int(out[0]) < 8 and int(out[1]) == 0
    assert float(out[2]) == 252_000.0


KEEPER = """
from array import array

var last: array[f64, 1] = array[f64, 1](0)

def keep(a: array[f64, 1]) -> None:
    last = a

def keep_copy(a: array[f64, 1]) -> None:
    c = array[f64, 1](len(a))
    for i in range(len(a)):
        c[i] = a[i]
    last = c

def kept_total() -> f64:
    s = 0.0
    for x in last:
        s = s + x
    return s
"""


@pytest.fixture(scope="session")
def keeper(vecmath: Venv, local_wheels: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The vecmath venv with a package that keeps an array in a `var` global."""
    project = tmp_path_factory.mktemp("keeper")
    (project / "src" / "keeper").mkdir(parents=True)
    (project / "src" / "keeper" / "__init__.py").write_text("")
    (project / "src" / "keeper" / "k.spy").write_text(KEEPER)
    (project / "pyproject.toml").write_text(
        (SAMPLES / "vecmath" / "pyproject.toml")
        .read_text()
        .replace("spyvecmath", "spykeeper")
        .replace("src/vecmath", "src/keeper")
    )
    dist = project / "dist"
    assert try_build(project, dist).returncode == 0
    vecmath.pip_install(str(next(dist.glob("*.whl"))), find_links=local_wheels)
    return vecmath


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_array_argument_cannot_outlive_its_call_in_a_global(keeper: Venv, backend: str) -> None:
    """An array argument views the caller's buffer only during the call: a
    global keeping it is a ValueError on both backends (the wasm backend's
    copy is refused alike); a copy made in SPy is kept across calls."""
    out = keeper.run_script(
        """
        import numpy as np, keeper.k as k
        try:
            k.keep(np.ones(3))
        except ValueError as e:
            print(e)
        k.keep_copy(np.arange(4.0))
        print(k.kept_total())
        """,
        env={"SPY_BACKEND": backend},
    ).stdout.splitlines()
    assert out == [
        "an array over a Python buffer (an argument) is valid only during the call: store a "
        "copy where a global reaches it",
        "6.0",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_structs_inside_containers_cross_both_ways(vecmath: Venv, backend: str) -> None:
    out = call(
        vecmath,
        backend,
        """
        import threading
        pts = [v.Vec3(1.0, 2.0, 3.0), v.Vec3(3.0, 2.0, 1.0)]
        print(v.centroid(pts), v.centroid(tuple(pts)))
        moved = v.translated(pts, v.Vec3(1.0, 0.0, -1.0))
        print(type(moved).__name__, moved, type(moved[0]) is v.Vec3)
        print(v.nearest({"a": pts[0], "b": pts[1]}, v.Vec3(3.0, 2.0, 0.0)))
        for bad in ([pts[0], (1.0, 2.0, 3.0)], {"a": 5}):
            try:
                v.centroid(bad) if isinstance(bad, list) else v.nearest(bad, pts[0])
            except TypeError as e:
                print(e)
        class Slow(list):  # converting it runs compiled code on Vec3s first
            def __getitem__(self, i):
                v.centroid([pts[1]])
                return list.__getitem__(self, i)
        print(v.centroid(Slow(pts)))
        bad = []
        def work(t):
            mine = [v.Vec3(float(t), float(i), 1.0) for i in range(100)]
            for _ in range(50):
                c = v.centroid(mine)
                if as_tuple(c) != (float(t), 49.5, 1.0) or v.translated(mine, pts[0])[99] != v.Vec3(t + 1.0, 101.0, 4.0):
                    bad.append(t)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads: th.start()
        for th in threads: th.join()
        print(bad)
        """,
    )
    assert out == [
        "Vec3(x=2.0, y=2.0, z=2.0) Vec3(x=2.0, y=2.0, z=2.0)",
        "list [Vec3(x=2.0, y=2.0, z=2.0), Vec3(x=4.0, y=2.0, z=0.0)] True",
        "('b', Vec3(x=3.0, y=2.0, z=1.0))",
        "centroid() argument 'points[1]' must be Vec3, not tuple",
        "nearest() argument 'named['a']' must be Vec3, not int",
        "Vec3(x=2.0, y=2.0, z=2.0)",
        "[]",
    ]


@pytest.mark.parametrize("python", other_pythons(), ids=lambda p: p.parent.parent.name)
def test_arrays_on_other_pythons(
    python: Path, tmp_path: Path, local_wheels: Path, vecmath_wheel: Path
) -> None:
    """The abi3 wheel's array arguments on every CPython here: the buffer
    protocol found at run time (PyObject_GetBuffer through dlsym, Py_buffer
    laid out by us) and NumPy arrays read in place."""
    env = Venv(tmp_path / "venv")
    run([str(python), "-m", "venv", str(env.path)])
    env.pip_install(str(vecmath_wheel), "spy-runtime[wasm]", "numpy", find_links=local_wheels)
    for backend in BACKENDS:
        out = call(
            env,
            backend,
            """
            a = array.array("d", [1.0, 2.0, 3.0])
            A.scale(a, 2.0)
            x = np.arange(6.0)
            A.scale(x[::2], 10.0)
            print(A.dot(a, memoryview(a)), a.tolist(), x.tolist(), A.dot(x[::-1], x))
            """,
        )
        assert out == ["56.0 [2.0, 4.0, 6.0] [0.0, 1.0, 20.0, 3.0, 40.0, 5.0] 200.0"], backend
