"""The small WebAssembly engine interface the wasm backend is written against.

On CPython it is wasmtime (`_wasmtime.py`); under Pyodide the browser's own
WebAssembly engine can implement the same few methods, as SPy's `llwasm`
layer does. Nothing else in spy_runtime touches an engine directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar

# wasm value kinds of parameters and results
WasmKind = str  # "i32" | "i64" | "f32" | "f64"

# libspy's debugging switch (str.c): "1" collects temporaries at every safe
# point after an allocation. A wasm module sees it only if the host passes
# it into the module's environment, which the engines and the runner do.
GC_STRESS_ENV = "SPY_GC_STRESS"
# the host folder a WASI command enters at start (libspy file.c reads it), so
# that relative paths are the ones a native program would open
CWD_ENV = "SPY_CWD"
# the folders the portable (wasm) backend of an installed package may open
# files in, separated as PATH is; unset or empty, none: the module runs
# sandboxed, as it would in a browser. "/" gives it what the process sees.
WASM_DIRS_ENV = "SPY_WASM_DIRS"


def wasm_dirs() -> list[str]:
    """The host folders a package's wasm instance sees (WASM_DIRS_ENV), each
    at its own absolute path, so that paths mean what they mean natively."""
    import os

    value = os.environ.get(WASM_DIRS_ENV, "")
    return [os.path.abspath(d) for d in value.split(os.pathsep) if d]


def wasi_environment() -> list[tuple[str, str]]:
    """What of the host's environment a module's WASI environment gets."""
    import os

    value = os.environ.get(GC_STRESS_ENV)
    return [] if value is None else [(GC_STRESS_ENV, value)]


class WasmTrap(Exception):
    """The instance trapped; `stack_overflow` when the engine's stack ran out."""

    def __init__(self, message: str, stack_overflow: bool = False) -> None:
        super().__init__(message)
        self.stack_overflow = stack_overflow


T = TypeVar("T")


class Slots(Protocol[T]):
    """Indexable storage of raw values (a ctypes array, a typed array view)."""

    def __getitem__(self, index: int) -> T: ...
    def __setitem__(self, index: int, value: T) -> None: ...
    def __len__(self) -> int: ...


class RawCall(Protocol):
    """A preallocated, signature-checked call of one export. Argument k goes
    into a typed view at k * stride (i32/f32 share `stride_32`, i64/f64
    `stride_64`); the result comes back at index 0. Raises WasmTrap."""

    @property
    def i32(self) -> Slots[int]: ...
    @property
    def i64(self) -> Slots[int]: ...
    @property
    def f32(self) -> Slots[float]: ...
    @property
    def f64(self) -> Slots[float]: ...
    @property
    def stride_32(self) -> int: ...
    @property
    def stride_64(self) -> int: ...

    def __call__(self) -> None: ...


class Slot(Protocol):
    value: int


class Instance(Protocol):
    def raw_call(
        self, export: str, params: Sequence[WasmKind], results: Sequence[WasmKind]
    ) -> RawCall:
        """Check the export's signature once and return its fast call."""
        ...

    def read(self, address: int, size: int) -> bytes: ...
    def write(self, address: int, data: bytes | bytearray) -> None: ...

    def word(self, address: int) -> Slot:
        """A live view of the 32-bit word at `address` (its `.value`)."""
        ...

    def take_interrupt(self) -> bool:
        """Had Ctrl-C been flagged for this instance (then a poll trapped)? Clears it."""
        ...

    @property
    def stack_pointer(self) -> int | None:
        """The exported `__stack_pointer` (None when the module has none)."""
        ...

    @stack_pointer.setter
    def stack_pointer(self, value: int | None) -> None: ...


class Interrupts(Protocol):
    """How Ctrl-C reaches running wasm: `arm()` from the main thread."""

    @property
    def armed(self) -> bool: ...

    def arm(self) -> None: ...


class Engine(Protocol):
    @property
    def interrupts(self) -> Interrupts: ...

    def instantiate(self, wasm: Path, sha256: str) -> Instance:
        """A fresh instance of the module at `wasm` (whose hash the caller checked)."""
        ...

    def take_pending(self) -> BaseException | None:
        """The exception a host import (print) caught for this thread's call,
        which then unwound with a SPY_PANIC_HOST panic; None after an interrupt."""
        ...

    def run_signal_handlers(self) -> None:
        """Run Python's pending signal handlers (they may raise)."""
        ...


def default_engine() -> Engine:
    from ._wasmtime import WasmtimeEngine

    return WasmtimeEngine.shared()
