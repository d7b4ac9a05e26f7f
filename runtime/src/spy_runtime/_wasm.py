"""The wasm backend: a package's `.wasm` in an engine instance, its exports
wrapped as Python functions that check arguments like the native extension.

A trap poisons only its instance (its stack pointer is lost): the backend
reads the panic, makes a fresh instance and raises the exception.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from spy_abi import Function

from ._convert import INT_RANGES, to_bool, to_float, to_int, to_str
from ._panic import SpyPanic, raise_panic
from .engine import Engine, Instance, RawCall, WasmTrap

WASM_KIND = {
    "i8": "i32",
    "u8": "i32",
    "i32": "i32",
    "u32": "i32",
    "bool": "i32",
    "str": "i32",
    "i64": "i64",
    "u64": "i64",
    "f32": "f32",
    "f64": "f64",
}


class WasmPackage:
    """One compiled package's wasm module, instantiated once per process."""

    def __init__(self, engine: Engine, wasm: Path, sha256: str) -> None:
        self.engine = engine
        self.wasm = wasm
        self.sha256 = sha256
        # symbol -> [RawCall]: wrappers read the cell, so a fresh instance
        # can replace every call at once
        self.cells: dict[str, list[RawCall]] = {}
        self.signatures: dict[str, tuple[list[str], list[str]]] = {}
        self._fresh()

    def _fresh(self) -> None:
        inst: Instance = self.engine.instantiate(self.wasm, self.sha256)
        self.instance = inst
        self._panic_info = inst.raw_call("spy_panic_info", [], ["i32"])
        self._alloc = inst.raw_call("spy_alloc", ["i32"], ["i32"])
        self._free = inst.raw_call("spy_free", ["i32"], [])
        self._str_from_host = inst.raw_call("spy_str_from_host", ["i32", "i32"], ["i32"])
        self._str_free_host = inst.raw_call("spy_str_free_host", ["i32"], [])
        for symbol, (params, results) in self.signatures.items():
            self.cells[symbol][0] = inst.raw_call(symbol, params, results)

    def cell(self, symbol: str, params: list[str], results: list[str]) -> list[RawCall]:
        if symbol not in self.cells:
            self.signatures[symbol] = (params, results)
            self.cells[symbol] = [self.instance.raw_call(symbol, params, results)]
        return self.cells[symbol]

    # ---- strings across the boundary --------------------------------------

    def host_str(self, data: bytes) -> int:
        """A spy_Str in wasm memory holding `data`; returns its address."""
        self._alloc.i32[0] = len(data) or 1
        self._call(self._alloc)
        buf = self._alloc.i32[0] & 0xFFFFFFFF
        self.instance.write(buf, data)
        c = self._str_from_host
        c.i32[0] = buf
        c.i32[c.stride_32] = len(data)
        self._call(c)
        result = c.i32[0] & 0xFFFFFFFF
        self._free.i32[0] = buf
        self._call(self._free)
        return result

    def free_host_str(self, address: int) -> None:
        """Free an argument made by host_str, once the call returned."""
        self._str_free_host.i32[0] = address
        self._call(self._str_free_host)

    def read_str(self, address: int) -> str:
        length, _ncp, utf8 = struct.unpack("<III", self.instance.read(address, 12))
        return self.instance.read(utf8, length).decode("utf-8")

    def _cstring(self, address: int) -> str:
        out = b""
        while True:
            chunk = self.instance.read(address + len(out), 64)
            end = chunk.find(b"\0")
            if end >= 0:
                return (out + chunk[:end]).decode("utf-8", "replace")
            out += chunk

    def _call(self, c: RawCall) -> None:
        try:
            c()
        except WasmTrap as trap:
            self.trapped(trap)

    # ---- traps -------------------------------------------------------------

    def trapped(self, trap: WasmTrap) -> NoReturn:
        panic = None if trap.interrupted else self._read_panic()
        self._fresh()
        if trap.interrupted:
            raise KeyboardInterrupt
        if panic is not None:
            raise_panic(*panic)
        if "call stack exhausted" in str(trap):
            raise RecursionError("maximum recursion depth exceeded in compiled SPy code")
        raise SpyPanic("WasmTrap", str(trap))

    def _read_panic(self) -> tuple[str, str, str, int] | None:
        try:
            self._panic_info()
            info = self._panic_info.i32[0] & 0xFFFFFFFF
            kind, msg, msg_len, file, line = struct.unpack("<IIIIi", self.instance.read(info, 20))
            if kind == 0:
                return None
            message = self.instance.read(msg, msg_len).decode("utf-8", "replace")
            return self._cstring(kind), message, self._cstring(file), line
        except (WasmTrap, OSError, ValueError):
            return None

    # ---- Python functions ----------------------------------------------------

    def function(self, fn: Function, module: str) -> Callable[..., Any]:
        symbol = fn.symbols["wasm"]
        params = [WASM_KIND[p.type] for p in fn.params]
        results = [] if fn.returns == "None" else [WASM_KIND[fn.returns]]
        cell = self.cell(symbol, params, results)
        source = wrapper_source(fn, strides(cell[0]))
        namespace: dict[str, Any] = {
            "cell": cell,
            "pkg": self,
            "WasmTrap": WasmTrap,
            "to_int": to_int,
            "to_float": to_float,
            "to_bool": to_bool,
            "to_str": to_str,
        }
        exec(compile(source, f"<spy wrapper {module}.{fn.name}>", "exec"), namespace)
        func: Callable[..., Any] = namespace[fn.name]
        func.__module__ = module
        func.__qualname__ = fn.name
        sig = ", ".join(f"{p.name}: {p.type}" for p in fn.params)
        func.__doc__ = f"SPy function {fn.name}({sig}) -> {fn.returns}"
        return func


def strides(c: RawCall) -> dict[str, int]:
    return {"i32": c.stride_32, "f32": c.stride_32, "i64": c.stride_64, "f64": c.stride_64}


def wrapper_source(fn: Function, stride: dict[str, int]) -> str:
    """Python source of a fast wrapper: Python binds the arguments (so errors
    read like any def's), each is checked, written into its slot, and the
    result is read back from slot 0."""
    names = [p.name for p in fn.params]
    lines = [f"def {fn.name}({', '.join(names)}):", "    c = cell[0]"]
    for k, p in enumerate(fn.params):
        t, n = p.type, p.name
        fname = repr(fn.name)
        kind = WASM_KIND[t]
        view = kind  # the typed view has the wasm kind's name
        slot = k * stride[kind]
        if t in INT_RANGES:
            lo, hi = INT_RANGES[t]
            lines.append(
                f"    if type({n}) is not int or not {lo} <= {n} <= {hi}: {n} = to_int({n}, {fname}, {n!r}, {t!r})"
            )
            lines.append(f"    c.{view}[{slot}] = {n}")
        elif t in ("f32", "f64"):
            lines.append(f"    if type({n}) is not float: {n} = to_float({n}, {fname}, {n!r})")
            lines.append(f"    c.{view}[{slot}] = {n}")
        elif t == "bool":
            lines.append(f"    to_bool({n}, {fname}, {n!r})")
            lines.append(f"    c.i32[{slot}] = {n}")
        elif t == "str":
            lines.append(f"    {n} = pkg.host_str(to_str({n}, {fname}, {n!r}))")
            lines.append(f"    c.i32[{slot}] = {n}")
    lines += [
        "    try:",
        "        c()",
        "    except WasmTrap as trap:",
        "        pkg.trapped(trap)",
    ]
    str_args = [p.name for p in fn.params if p.type == "str"]
    if not str_args:
        lines.append(f"    return {result_expr(fn.returns)}")
    else:
        # read the result first: it may be one of the arguments, which are
        # the host's to free (a trap discarded them with the instance)
        lines.append(f"    result = {result_expr(fn.returns)}")
        lines += [f"    pkg.free_host_str({name})" for name in str_args]
        lines.append("    return result")
    return "\n".join(lines) + "\n"


def result_expr(t: str) -> str:
    return {
        "None": "None",
        "bool": "c.i32[0] != 0",
        "i8": "((c.i32[0] + 128) & 0xFF) - 128",
        "u8": "c.i32[0] & 0xFF",
        "i32": "c.i32[0]",
        "u32": "c.i32[0] & 0xFFFFFFFF",
        "i64": "c.i64[0]",
        "u64": "c.i64[0] & 0xFFFFFFFFFFFFFFFF",
        "f32": "c.f32[0]",
        "f64": "c.f64[0]",
        "str": "pkg.read_str(c.i32[0] & 0xFFFFFFFF)",
    }[t]
