"""Runs inside the benchmark's virtual environment (see calls.py); prints JSON."""

from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import json
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


def py_fib(n: int) -> int:
    return n if n < 2 else py_fib(n - 1) + py_fib(n - 2)


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
