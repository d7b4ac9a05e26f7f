"""spy-runtime: what compiled SPy code needs at run time.

It ships the C runtime library (libspy) that every compiled module links,
and the loader that generated module shims call: it picks the native
extension or the wasm module (through wasmtime) and checks both against the
wheel's spy-abi.json. Its major version is the runtime ABI version that
wheels depend on.
"""

from __future__ import annotations

from pathlib import Path

from ._loader import load_module
from ._panic import SpyPanic

__version__ = "0.5.0"

# The runtime ABI this package provides: compiled code built against X.Y
# runs on any spy-runtime X.Z with Z >= Y. Kept in step with spy.h.
ABI_VERSION = (0, 5)

__all__ = ["ABI_VERSION", "SpyPanic", "__version__", "libspy_dir", "load_module", "stdlib_dir"]


def libspy_dir() -> Path:
    """Folder of libspy's C sources: `include/spy.h` and `src/*.c`."""
    return Path(__file__).parent / "libspy"


def stdlib_dir() -> Path:
    """Folder of the standard library written in SPy (`_list.spy`, ...): the
    compiler loads it from here, so it is versioned with libspy."""
    return Path(__file__).parent / "stdlib"
