"""The Engine interface on wasmtime-py.

Calls go through `wasmtime_func_call_unchecked` with a preallocated array of
raw values: the signature is checked once, when the call is prepared, which
makes a call about twenty times cheaper than wasmtime-py's `Func.__call__`.
Compiled modules are cached per user (keyed by the wasm's sha256, the
wasmtime version and the engine configuration) and verified before use.

Ctrl-C: compiled code polls (see libspy's spy.h). A watcher thread reads
SIGINT from the signal wakeup fd (forwarding to a wakeup fd set before ours,
such as asyncio's) and sets each instance's interrupt flag in linear memory;
the next poll traps at that safe point, and the backend runs Python's signal
handlers. Nothing calls into Python during a call (print output waits in
linear memory until it returns): a pending KeyboardInterrupt fires on the
first bytecode of any host callback, which is wasmtime-py's trampoline,
outside its `try`, and the process dies.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import os
import platform
import signal
import socket
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import ClassVar

import wasmtime
from wasmtime import _ffi as ffi

from .engine import CWD_ENV, WasmKind, WasmTrap, wasi_environment, wasm_dirs

# our own handle on the library, so that our argtypes do not clash with wasmtime-py's
_lib = ctypes.CDLL(str(ffi.filename))
_call_unchecked = _lib.wasmtime_func_call_unchecked
_call_unchecked.restype = ctypes.c_void_p
_call_unchecked.argtypes = None  # type: ignore[assignment]  # no per-call conversions

_RAW_SIZE = ctypes.sizeof(ffi.wasmtime_val_raw_t)
STRIDE_I32 = _RAW_SIZE // 4
STRIDE_I64 = _RAW_SIZE // 8
CONFIG_KEY = "poll1"  # what the engine configuration is, for cache keys
CHECKSUM_SIZE = 32  # a cache entry ends with sha256(key + compiled bytes)

# PyErr_CheckSignals through ctypes.pythonapi (which holds the GIL and raises
# the exception it sets): runs Python's pending signal handlers here and now.
_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.restype = ctypes.c_int
_check_signals.argtypes = []


class _Pending(threading.local):
    """The exception a host import caught for this thread's running call."""

    exception: BaseException | None = None


pending = _Pending()


def take_pending() -> BaseException | None:
    exc, pending.exception = pending.exception, None
    return exc


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

    def __call__(self) -> None:
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
        code = trap.trap_code
        message = trap.message.splitlines()[0] if trap.message else "trap"
        raise WasmTrap(message, stack_overflow=code == wasmtime.TrapCode.STACK_OVERFLOW)


_RAW_CALL_CODE = WasmtimeRawCall.__call__.__code__


class WasmtimeInstance:
    def __init__(self, engine: WasmtimeEngine, module: wasmtime.Module) -> None:
        self.store = wasmtime.Store(engine.engine)
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        # files: only the folders SPY_WASM_DIRS names (engine.py); relative
        # paths resolve from the working folder at load (spy_init enters it)
        dirs = wasm_dirs()
        for d in dirs:
            wasi.preopen_dir(d, d)
        wasi.env = [*wasi_environment(), *([(CWD_ENV, os.getcwd())] if dirs else [])]
        self.store.set_wasi(wasi)
        self.instance = engine.linker.instantiate(self.store, module)
        self.exports = self.instance.exports(self.store)
        memory = self.exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = memory
        self._mem = memoryview(b"")
        init = self.exports.get("_initialize")
        if isinstance(init, wasmtime.Func):
            init(self.store)  # a reactor's constructors
        self._interrupt: ctypes.c_uint32 | None = None
        sp = self.exports.get("__stack_pointer")
        self._sp = sp if isinstance(sp, wasmtime.Global) else None
        flag_of = self.exports.get("spy_interrupt_flag")
        if isinstance(flag_of, wasmtime.Func):
            self._interrupt = self.word(flag_of(self.store))
            watcher.register(self, self._interrupt)
            watcher.arm()

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

    def _view(self, address: int, end: int) -> memoryview:
        """Linear memory as a memoryview: it never moves (see _base()) and
        only grows, so the view is made again only when a range passes its
        end."""
        if address < 0 or end > len(self._mem):
            size = self.memory.data_len(self.store)
            if address < 0 or end > size:
                raise IndexError(f"bytes {address}..{end} are outside the wasm memory")
            self._mem = memoryview((ctypes.c_ubyte * size).from_address(self._base())).cast("B")
        return self._mem

    def read(self, address: int, size: int) -> bytes:
        return bytes(self._view(address, address + size)[address : address + size])

    def write(self, address: int, data: bytes | bytearray) -> None:
        end = address + len(data)
        self._view(address, end)[address:end] = data

    def _base(self) -> int:
        # linear memory is reserved once and never moves (wasmtime's static
        # memories), so an address into it stays valid
        return ctypes.addressof(self.memory.data_ptr(self.store).contents)

    def word(self, address: int) -> ctypes.c_uint32:
        return ctypes.c_uint32.from_address(self._base() + address)

    def take_interrupt(self) -> bool:
        """Was this instance's Ctrl-C flag set? Clears it."""
        flag = self._interrupt
        if flag is None or not flag.value:
            return False
        flag.value = 0
        return True

    @property
    def stack_pointer(self) -> int | None:
        return None if self._sp is None else int(self._sp.value(self.store))

    @stack_pointer.setter
    def stack_pointer(self, value: int | None) -> None:
        if self._sp is not None and value is not None:
            self._sp.set_value(self.store, wasmtime.Val.i32(value))


def _host_write(caller: wasmtime.Caller, address: int, size: int) -> int:
    """`spy.write`: print() output past 64 MiB within one call (less is written
    by the backend after the call, see mode_wasm.c), to sys.stdout. An
    exception of the write (a closed file) is kept and the call unwinds, as
    print raises in Python."""
    try:
        memory = caller["memory"]
        assert isinstance(memory, wasmtime.Memory)
        data = bytes(memory.read(caller, address, address + size))
        if sys.stdout is not None:
            sys.stdout.write(data.decode("utf-8", "replace"))
    except BaseException as exc:
        pending.exception = exc
        return 1
    return 0


class InterruptWatcher:
    """Turns SIGINT into the interrupt flag of the instance that the main
    thread is calling into, as Python delivers KeyboardInterrupt to the main
    thread only (natively too, calls in other threads go on).

    Python's handler for SIGINT decides, as it would for pure Python: the
    default one raises, so the call is interrupted at once. A program's own
    (asyncio's cancels its task on the first Ctrl-C) runs when the main thread
    next runs Python, so the call goes on; a second Ctrl-C while the main
    thread is still in the same call interrupts it, and the handler runs then.
    When the main thread is not in a call Python runs the handler itself and
    no flag is set: a flag left set would interrupt the next call.

    Armed from the main thread (only it may set the wakeup fd): when the first
    instance is made there, else at the first call made there. After a fork
    the child makes its own socket pair and thread."""

    def __init__(self) -> None:
        self.armed = False
        self._flags: weakref.WeakKeyDictionary[object, ctypes.c_uint32] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._stale_fd = -1  # our parent's socket, inherited across fork
        self._deferred: FrameType | None = None  # the call a Ctrl-C was left to the handler in
        os.register_at_fork(after_in_child=self._after_fork)

    def register(self, owner: object, flag: ctypes.c_uint32) -> None:
        with self._lock:
            self._flags[owner] = flag

    def on_sigint(self) -> None:
        found = _main_thread_call()
        if found is None:
            self._deferred = None
            return
        frame, instance = found
        handler = signal.getsignal(signal.SIGINT)
        if handler not in (signal.default_int_handler, None) and self._deferred is not frame:
            self._deferred = frame
            return
        self._deferred = None
        with self._lock:
            flag = self._flags.get(instance)
        if flag is None:
            return
        flag.value = 1
        # The call may have ended between the look and the store, before any
        # poll saw the flag: clear it then, or the next call would trap.
        while flag.value:
            time.sleep(0.02)
            now = _main_thread_call()
            if now is None or now[0] is not frame:
                flag.value = 0

    def arm(self) -> None:
        if self.armed or not _is_main():
            return
        rsock, wsock = socket.socketpair()
        wsock.setblocking(False)
        try:
            previous = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter
            rsock.close()
            wsock.close()
            self.armed = True
            return
        if previous == self._stale_fd:
            previous = -1
        self.armed = True
        threading.Thread(
            target=self._watch,
            args=(rsock, wsock, previous),
            name="spy-runtime-interrupts",
            daemon=True,
        ).start()

    def _watch(self, rsock: socket.socket, wsock: socket.socket, previous: int) -> None:
        while True:
            try:
                data = rsock.recv(64)
            except OSError:
                return
            if not data:
                return
            if previous != -1:  # the wakeup fd's owner before us (asyncio) hears it too
                try:
                    os.write(previous, data)
                except OSError:
                    previous = -1
            if signal.SIGINT in data:
                self.on_sigint()

    def _after_fork(self) -> None:
        self.armed = False
        self._deferred = None
        self._lock = threading.Lock()
        self._stale_fd = signal.set_wakeup_fd(-1) if _is_main() else -1
        self.arm()


def _main_thread_call() -> tuple[FrameType, WasmtimeInstance] | None:
    """The frame and instance of the wasm call the main thread is in, if any:
    its innermost Python frame is then WasmtimeRawCall.__call__ (the call
    itself is ctypes, with no frame)."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None or frame.f_code is not _RAW_CALL_CODE:
        return None
    raw = frame.f_locals.get("self")
    return (frame, raw._owner) if isinstance(raw, WasmtimeRawCall) else None


def _is_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def run_signal_handlers() -> None:
    """Run Python's pending signal handlers now (they raise, e.g. KeyboardInterrupt)."""
    _check_signals()


watcher = InterruptWatcher()


def cache_dir() -> Path | None:
    """Our per-user cache of compiled modules, or None where it cannot be trusted."""
    env = os.environ.get("SPY_RUNTIME_CACHE_DIR")
    base = (
        Path(env).absolute()
        if env
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spy-runtime"
    )
    folder = base / "wasm"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
    except OSError:
        return None
    return folder if _ours(st) else None


def _ours(st: os.stat_result) -> bool:
    """Owned by this user, and nobody else can write it."""
    return not hasattr(os, "getuid") or (st.st_uid == os.getuid() and not st.st_mode & 0o022)


def seal(key: str, compiled: bytes) -> bytes:
    """A cache entry: the compiled bytes, then a checksum over the key and them,
    so that a damaged, truncated or misplaced entry is never run."""
    return compiled + hashlib.sha256(key.encode() + b"\0" + compiled).digest()


def unseal(key: str, entry: bytes) -> bytes | None:
    """The compiled bytes of a cache entry, or None when its checksum fails."""
    if len(entry) <= CHECKSUM_SIZE:
        return None
    compiled, checksum = entry[:-CHECKSUM_SIZE], entry[-CHECKSUM_SIZE:]
    if hashlib.sha256(key.encode() + b"\0" + compiled).digest() != checksum:
        return None
    return compiled


def read_entry(path: Path) -> bytes | None:
    """An entry's bytes if it is a regular file of ours nobody else can write."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read() if _ours(os.fstat(f.fileno())) else None


class WasmtimeEngine:
    _shared: ClassVar[WasmtimeEngine | None] = None

    def __init__(self) -> None:
        self.engine = wasmtime.Engine(wasmtime.Config())
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        i32 = wasmtime.ValType.i32()
        self.linker.define_func(
            "spy", "write", wasmtime.FuncType([i32, i32], [i32]), _host_write, access_caller=True
        )
        self._modules: dict[str, wasmtime.Module] = {}
        self._lock = threading.Lock()
        self.version = importlib.metadata.version("wasmtime")

    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> WasmtimeEngine:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def module(self, wasm: Path, sha256: str) -> wasmtime.Module:
        with self._lock:
            cached = self._modules.get(sha256)
            if cached is None:
                cached = self._modules[sha256] = self._compile(wasm, sha256)
            return cached

    def _compile(self, wasm: Path, sha256: str) -> wasmtime.Module:
        """From the per-user cache when a verified entry is there, else compiled
        (and cached)."""
        folder = cache_dir()
        key = f"{sha256}-{self.version}-{CONFIG_KEY}-{platform.machine()}"
        path = None if folder is None else folder / f"{key}.cwasm"
        entry = None if path is None else read_entry(path)
        compiled = None if entry is None else unseal(key, entry)
        if compiled is not None:
            try:
                return wasmtime.Module.deserialize(self.engine, compiled)
            except wasmtime.WasmtimeError:
                pass  # made by another build of wasmtime: compile anew
        module = wasmtime.Module.from_file(self.engine, str(wasm))
        if path is not None:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(seal(key, bytes(module.serialize())))
                os.replace(tmp, path)
            except OSError:
                tmp.unlink(missing_ok=True)
        return module

    def instantiate(self, wasm: Path, sha256: str) -> WasmtimeInstance:
        return WasmtimeInstance(self, self.module(wasm, sha256))

    @property
    def interrupts(self) -> InterruptWatcher:
        return watcher

    def take_pending(self) -> BaseException | None:
        return take_pending()

    def run_signal_handlers(self) -> None:
        run_signal_handlers()
