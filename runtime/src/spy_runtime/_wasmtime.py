"""The Engine interface on wasmtime-py.

Calls go through `wasmtime_func_call_unchecked` with a preallocated array of
raw values: the signature is checked once, when the call is prepared, which
makes a call about twenty times cheaper than wasmtime-py's `Func.__call__`.
Compiled modules are cached per user (keyed by the wasm's sha256, the
wasmtime version and the engine configuration); only our own cache folder is
read. Ctrl-C interrupts running wasm through epoch interruption.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import os
import platform
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import wasmtime
from wasmtime import _ffi as ffi

from .engine import WasmKind, WasmTrap

# our own handle on the library, so that our argtypes do not clash with wasmtime-py's
_lib = ctypes.CDLL(str(ffi.filename))
_call_unchecked = _lib.wasmtime_func_call_unchecked
_call_unchecked.restype = ctypes.c_void_p
_call_unchecked.argtypes = None  # type: ignore[assignment]  # no per-call conversions

_RAW_SIZE = ctypes.sizeof(ffi.wasmtime_val_raw_t)
STRIDE_I32 = _RAW_SIZE // 4
STRIDE_I64 = _RAW_SIZE // 8
CONFIG_KEY = "epoch1"  # what the engine configuration is, for cache keys


class _Interrupts:
    """Counts Ctrl-C presses seen while wasm may run; see `WasmtimeRawCall`."""

    count = 0


def _kind(valtype: wasmtime.ValType) -> str:
    return str(valtype)


class WasmtimeRawCall:
    """One export's preallocated call (see engine.RawCall)."""

    stride_32 = STRIDE_I32
    stride_64 = STRIDE_I64

    def __init__(self, owner: WasmtimeInstance, func: wasmtime.Func, nslots: int) -> None:
        self._buf = (ffi.wasmtime_val_raw_t * nslots)()
        self.i32 = (ctypes.c_int32 * (STRIDE_I32 * nslots)).from_buffer(self._buf)
        self.i64 = (ctypes.c_int64 * (STRIDE_I64 * nslots)).from_buffer(self._buf)
        self.f32 = (ctypes.c_float * (STRIDE_I32 * nslots)).from_buffer(self._buf)
        self.f64 = (ctypes.c_double * (STRIDE_I64 * nslots)).from_buffer(self._buf)
        self._n = ctypes.c_size_t(nslots)
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)
        self._owner = owner
        self._func = func
        self._fref = ctypes.byref(func._func)
        self._ctx = owner.store._context()
        self._seen = _Interrupts.count

    def __call__(self) -> None:
        if self._seen != _Interrupts.count:
            # a Ctrl-C arrived outside any call: re-arm this store's deadline
            self._owner.store.set_epoch_deadline(1)
            self._seen = _Interrupts.count
        err = _call_unchecked(self._ctx, self._fref, self._buf, self._n, self._trap_ref)
        if err or self._trap:
            self._fail(err)

    def _fail(self, err: int | None) -> None:
        if err:
            error = wasmtime.WasmtimeError._from_ptr(
                ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t))
            )
            raise WasmTrap(str(error))
        trap = wasmtime.Trap._from_ptr(self._trap)
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()  # the Trap object owns the old one
        self._trap_ref = ctypes.byref(self._trap)
        interrupted = trap.trap_code == wasmtime.TrapCode.INTERRUPT
        raise WasmTrap(trap.message.splitlines()[0] if trap.message else "trap", interrupted)


class WasmtimeInstance:
    def __init__(self, engine: WasmtimeEngine, module: wasmtime.Module) -> None:
        self.store = wasmtime.Store(engine.engine)
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        self.store.set_wasi(wasi)
        self.store.set_epoch_deadline(1)
        self.instance = engine.linker.instantiate(self.store, module)
        self.exports = self.instance.exports(self.store)
        memory = self.exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = memory
        init = self.exports.get("_initialize")
        if isinstance(init, wasmtime.Func):
            init(self.store)  # a reactor's constructors

    def raw_call(
        self, export: str, params: Sequence[WasmKind], results: Sequence[WasmKind]
    ) -> WasmtimeRawCall:
        func = self.exports.get(export)
        if not isinstance(func, wasmtime.Func):
            raise LookupError(f"the wasm module has no function '{export}'")
        ty = func.type(self.store)
        actual = ([_kind(t) for t in ty.params], [_kind(t) for t in ty.results])
        if actual != (list(params), list(results)):
            raise TypeError(
                f"wasm function '{export}' has signature {actual[0]} -> {actual[1]}, "
                f"expected {list(params)} -> {list(results)}"
            )
        return WasmtimeRawCall(self, func, max(len(params), len(results), 1))

    def read(self, address: int, size: int) -> bytes:
        return bytes(self.memory.read(self.store, address, address + size))

    def write(self, address: int, data: bytes) -> None:
        self.memory.write(self.store, data, address)


def _host_write(caller: wasmtime.Caller, address: int, size: int) -> None:
    """`spy.write`, which a reactor's print() calls: to sys.stdout, so SPy output
    interleaves with Python's and redirect_stdout captures it."""
    try:
        memory = caller["memory"]
        assert isinstance(memory, wasmtime.Memory)
        data = bytes(memory.read(caller, address, address + size))
        if sys.stdout is not None:
            sys.stdout.write(data.decode("utf-8", "replace"))
    except Exception:  # best effort, as print is; never trap the module over output
        pass


def cache_dir() -> Path | None:
    """Our per-user cache of compiled modules, or None where it cannot be trusted."""
    env = os.environ.get("SPY_RUNTIME_CACHE_DIR")
    base = (
        Path(env)
        if env
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spy-runtime"
    )
    folder = base / "wasm"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
    except OSError:
        return None
    # only a folder of ours that nobody else can write into
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return None
    return folder


class WasmtimeEngine:
    _shared: ClassVar[WasmtimeEngine | None] = None

    def __init__(self) -> None:
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        i32 = wasmtime.ValType.i32()
        self.linker.define_func(
            "spy", "write", wasmtime.FuncType([i32, i32], []), _host_write, access_caller=True
        )
        self._modules: dict[str, wasmtime.Module] = {}
        self.version = importlib.metadata.version("wasmtime")
        _install_interrupt_watcher(self)

    @classmethod
    def shared(cls) -> WasmtimeEngine:
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def module(self, wasm: Path, sha256: str) -> wasmtime.Module:
        cached = self._modules.get(sha256)
        if cached is not None:
            return cached
        folder = cache_dir()
        key = f"{sha256}-{self.version}-{CONFIG_KEY}-{platform.machine()}.cwasm"
        module = None
        if folder is not None and (folder / key).is_file():
            with contextlib.suppress(wasmtime.WasmtimeError):
                module = wasmtime.Module.deserialize_file(self.engine, str(folder / key))
        if module is None:
            module = wasmtime.Module.from_file(self.engine, str(wasm))
            if folder is not None:
                tmp = folder / f"{key}.{os.getpid()}.tmp"
                try:
                    tmp.write_bytes(module.serialize())
                    os.replace(tmp, folder / key)
                except OSError:
                    tmp.unlink(missing_ok=True)
        self._modules[sha256] = module
        return module

    def instantiate(self, wasm: Path, sha256: str) -> WasmtimeInstance:
        return WasmtimeInstance(self, self.module(wasm, sha256))

    def on_interrupt(self) -> Callable[[], None]:
        def interrupt() -> None:
            _Interrupts.count += 1
            self.engine.increment_epoch()

        return interrupt


def _install_interrupt_watcher(engine: WasmtimeEngine) -> None:
    """Make Ctrl-C stop running wasm: Python runs signal handlers only between
    bytecodes, never during the foreign call, so a thread reads the signal
    from the wakeup fd and bumps the engine's epoch; the call traps, and the
    pending KeyboardInterrupt is raised when Python regains control."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    rsock, wsock = socket.socketpair()
    wsock.setblocking(False)
    old = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
    if old != -1:  # someone (asyncio) owns the wakeup fd: leave it to them
        signal.set_wakeup_fd(old)
        rsock.close()
        wsock.close()
        return
    interrupt = engine.on_interrupt()

    def watch(keep: Any = (rsock, wsock)) -> None:
        while True:
            try:
                data = rsock.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                interrupt()

    threading.Thread(target=watch, name="spy-runtime-interrupts", daemon=True).start()
