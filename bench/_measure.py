"""Runs inside the benchmark's virtual environment (see calls.py); prints JSON."""

from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import spybench.kernels as native_kernels  # type: ignore[import-not-found]  # built by calls.py
import wasmtime

from spy_runtime._loader import _packages
from spy_runtime._wasm import WasmPackage
from spy_runtime.engine import default_engine

CALLS = 200_000
REPEAT = 5
FIB_N = 30
LOOP_N = 5_000_000
NBODY_N = 200_000


def py_fib(n: int) -> int:
    return n if n < 2 else py_fib(n - 1) + py_fib(n - 2)


SOLAR_MASS = 4.0 * 3.141592653589793 * 3.141592653589793
BODIES = [
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
    (
        4.84143144246472090e00,
        -1.16032004402742839e00,
        -1.03622044471123109e-01,
        1.66007664274403694e-03,
        7.69901118419740425e-03,
        -6.90460016972063023e-05,
        9.54791938424326609e-04,
    ),
    (
        8.34336671824457987e00,
        4.12479856412430479e00,
        -4.03523417114321381e-01,
        -2.76742510726862411e-03,
        4.99852801234917238e-03,
        2.30417297573763929e-05,
        2.85885980666130812e-04,
    ),
    (
        1.28943695621391310e01,
        -1.51111514016986312e01,
        -2.23307578892655734e-01,
        2.96460137564761618e-03,
        2.37847173959480950e-03,
        -2.96589568540237556e-05,
        4.36624404335156298e-05,
    ),
    (
        1.53796971148509165e01,
        -2.59193146099879641e01,
        1.79258772950371181e-01,
        2.68067772490389322e-03,
        1.62824170038242295e-03,
        -9.51592254519715870e-05,
        5.15138902046611451e-05,
    ),
]


def py_nbody(steps: int) -> float:
    """kernels.spy's nbody: the same operations in the same order."""
    d = 365.24
    b = [[x, y, z, vx * d, vy * d, vz * d, m * SOLAR_MASS] for x, y, z, vx, vy, vz, m in BODIES]
    dt = 0.01
    for _ in range(steps):
        for i in range(5):
            bi = b[i]
            for j in range(i + 1, 5):
                bj = b[j]
                dx, dy, dz = bi[0] - bj[0], bi[1] - bj[1], bi[2] - bj[2]
                d2 = dx * dx + dy * dy + dz * dz
                mag = dt / (d2 * math.sqrt(d2))
                mj = bj[6] * mag
                bi[3] = bi[3] - dx * mj
                bi[4] = bi[4] - dy * mj
                bi[5] = bi[5] - dz * mj
                mi = bi[6] * mag
                bj[3] = bj[3] + dx * mi
                bj[4] = bj[4] + dy * mi
                bj[5] = bj[5] + dz * mi
        for bi in b:
            bi[0] = bi[0] + dt * bi[3]
            bi[1] = bi[1] + dt * bi[4]
            bi[2] = bi[2] + dt * bi[5]
    e = 0.0
    for i in range(5):
        bi = b[i]
        e = e + 0.5 * bi[6] * (bi[3] * bi[3] + bi[4] * bi[4] + bi[5] * bi[5])
        for j in range(i + 1, 5):
            bj = b[j]
            dx, dy, dz = bi[0] - bj[0], bi[1] - bj[1], bi[2] - bj[2]
            e = e - bi[6] * bj[6] / math.sqrt(dx * dx + dy * dy + dz * dz)
    return e


def py_float_loop(n: int) -> float:
    s = 0.0
    dx = 1.0 / n
    x = 0.5 * dx
    for _ in range(n):
        s += 4.0 / (1.0 + x * x)
        x += dx
    return s * dx


def per_call_ns(f: Callable[[int, int], Any]) -> float:
    """Best-of time of CALLS calls, minus the empty loop, per call."""
    r = range(CALLS)

    def loop_calls() -> float:
        t = time.perf_counter()
        for _ in r:
            f(1, 2)
        return time.perf_counter() - t

    def loop_empty() -> float:
        t = time.perf_counter()
        for _ in r:
            pass
        return time.perf_counter() - t

    calls = min(loop_calls() for _ in range(REPEAT))
    empty = min(loop_empty() for _ in range(REPEAT))
    return (calls - empty) / CALLS * 1e9


def best(f: Callable[[], Any]) -> tuple[float, Any]:
    results = []
    for _ in range(3):
        t = time.perf_counter()
        value = f()
        results.append((time.perf_counter() - t, value))
    return min(results, key=lambda tv: tv[0])


def main() -> None:
    refs = json.loads(sys.argv[1])
    loader = importlib.machinery.ExtensionFileLoader("handext", refs["handext"])
    spec = importlib.util.spec_from_loader("handext", loader)
    assert spec is not None
    handext = importlib.util.module_from_spec(spec)
    loader.exec_module(handext)

    clib = ctypes.CDLL(refs["kernels"])
    clib.add.argtypes = [ctypes.c_int32, ctypes.c_int32]
    clib.add.restype = ctypes.c_int32
    clib.fib.argtypes = [ctypes.c_int32]
    clib.fib.restype = ctypes.c_int32
    clib.float_loop.argtypes = [ctypes.c_int32]
    clib.float_loop.restype = ctypes.c_double
    clib.nbody.argtypes = [ctypes.c_int32]
    clib.nbody.restype = ctypes.c_double

    # our wasm path for the same package, beside the native one
    pkg = _packages["spybench"]
    art = pkg.abi.artifact("wasm")
    assert art is not None
    wasm = WasmPackage(default_engine(), pkg.root / art.path, art.sha256)
    module = pkg.abi.module("spybench.kernels")
    assert module is not None
    wasm_fns = {f.name: wasm.function(f, "spybench.kernels") for f in module.functions}

    # wasmtime-py's generic call on the same module
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    i32 = wasmtime.ValType.i32()
    linker.define_func("spy", "write", wasmtime.FuncType([i32, i32], []), lambda a, n: None)
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, wasmtime.Module.from_file(engine, str(pkg.root / art.path)))
    exports = inst.exports(store)
    exports["_initialize"](store)  # type: ignore[operator]
    generic_add = exports["spy_spybench$kernels$add"]

    calls = {
        "hand-written METH_FASTCALL extension": per_call_ns(handext.add),
        "hatch-spy native": per_call_ns(native_kernels.add),
        "ctypes": per_call_ns(clib.add),
        "hatch-spy wasm": per_call_ns(wasm_fns["add"]),
        "wasmtime-py Func.__call__": per_call_ns(lambda x, y: generic_add(store, x, y)),  # type: ignore[operator]
    }
    kernels: dict[str, dict[str, float]] = {}
    for label, args, fns in [
        (
            f"fib({FIB_N})",
            (FIB_N,),
            {
                "C, gcc -O2": clib.fib,
                "hatch-spy native": native_kernels.fib,
                "hatch-spy wasm": wasm_fns["fib"],
                "CPython": py_fib,
            },
        ),
        (
            f"float_loop({LOOP_N})",
            (LOOP_N,),
            {
                "C, gcc -O2": clib.float_loop,
                "hatch-spy native": native_kernels.float_loop,
                "hatch-spy wasm": wasm_fns["float_loop"],
                "CPython": py_float_loop,
            },
        ),
        (
            f"nbody({NBODY_N}), structs in a gc_alloc block",
            (NBODY_N,),
            {
                "C, gcc -O2": clib.nbody,
                "hatch-spy native": native_kernels.nbody,
                "hatch-spy wasm": wasm_fns["nbody"],
                "CPython": py_nbody,
            },
        ),
    ]:
        times = {}
        values = set()
        for name, f in fns.items():
            seconds, value = best(functools.partial(f, *args))
            times[name] = seconds
            values.add(value)
        assert len(values) == 1, f"{label}: the implementations disagree: {values}"
        kernels[label] = times
    print(json.dumps({"calls": calls, "kernels": kernels, "repeat": 3}))


if __name__ == "__main__":
    main()
