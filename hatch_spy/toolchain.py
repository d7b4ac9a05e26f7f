"""The C toolchain: `zig cc` from the `ziglang` wheel, for native code and wasm32-wasi.

Compiled outputs are cached in content-addressed folders: the runtime library
once per (target, flags, libspy sources, zig version), each program once per
(C source, runtime key). A cache entry appears atomically (built in a private
temporary folder, then renamed), so a crashed or racing build never leaves a
half-written entry behind.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import spy_runtime

from .compiler.errors import SpyError
from .compiler.linking import EXTENSION_NAME

# Identical results on both targets: no FMA contraction, wrapping integers.
COMMON_CFLAGS = (
    "-std=gnu11",
    "-fwrapv",
    "-fno-strict-aliasing",
    "-ffp-contract=off",
    "-Wall",
    "-Wno-unused-variable",
    "-Wno-unused-function",
    "-Wno-unused-but-set-variable",
)
# libspy's symbols stay inside each binary: packages reach each other's code
# through capsules (spy_cpython.h), never through exported symbols, and a
# wheel's extension exports its PyInit_ alone
LIBSPY_CFLAGS = ("-fvisibility=hidden",)
OPT_LEVELS = ("0", "1", "2", "3", "s")
# Link modes (libspy/src/mode_*.c), by target: each defines where output
# goes and what a panic does. Executables exit on a panic; the CPython
# extension longjmps back to its wrapper; a wasm reactor traps.
LINK_MODES = {"native": ("mode_exe", "mode_cpython"), "wasm": ("mode_exe", "mode_wasm")}
ALL_MODES = frozenset(m for ms in LINK_MODES.values() for m in ms)
EXTENSION_SUFFIX = ".abi3.so"


class ToolchainError(SpyError):
    """The C toolchain is missing or failed."""


@dataclass(frozen=True)
class Target:
    name: str  # "native" or "wasm"
    triple: str
    exe_suffix: str
    ldflags: tuple[str, ...] = ()
    strip: bool = False


def native_triple() -> str:
    """This machine's zig target; Linux builds target glibc 2.17 (manylinux2014)."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if sys.platform.startswith("linux"):
        return f"{arch}-linux-gnu.2.17"
    if sys.platform == "darwin":
        return f"{arch}-macos"
    if sys.platform == "win32":
        return f"{arch}-windows-gnu"
    raise ToolchainError(f"no native target for platform {sys.platform}")


def get_target(name: str) -> Target:
    if name == "native":
        return Target("native", native_triple(), ".exe" if sys.platform == "win32" else "")
    if name == "wasm":
        # 8 MiB of stack, like a default native thread, so recursion depth matches
        return Target("wasm", "wasm32-wasi", ".wasm", ("-Wl,-z,stack-size=8388608",), strip=True)
    raise ToolchainError(f"unknown target '{name}': choose 'native' or 'wasm'")


def zig_executable() -> Path:
    try:
        import ziglang
    except ImportError:
        raise ToolchainError(
            "the C toolchain is missing: install it with 'pip install ziglang'"
        ) from None
    exe = Path(ziglang.__file__).parent / ("zig.exe" if sys.platform == "win32" else "zig")
    if not exe.is_file():
        raise ToolchainError(f"the ziglang package has no zig executable at {exe}")
    return exe


def zig_version() -> str:
    return importlib.metadata.version("ziglang")


def default_cache_dir() -> Path:
    # absolute now: zig runs in scratch folders, where a relative path means another place
    env = os.environ.get("HATCH_SPY_CACHE_DIR")
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return ((Path(xdg) if xdg else Path.home() / ".cache") / "hatch-spy").absolute()


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def tree_digest(root: Path, suffixes: tuple[str, ...] | None = None) -> str:
    """sha256 over the relative paths and contents of the files under `root`
    (only those ending in `suffixes`, when given)."""
    h = hashlib.sha256()
    files = (p for p in root.rglob("*") if p.is_file())
    for path in sorted(p for p in files if suffixes is None or p.suffix in suffixes):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def publish_dir(tmp: Path, final: Path) -> None:
    """Rename a finished build folder into place; a concurrent twin may have won."""
    try:
        os.replace(tmp, final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class RuntimeLib:
    """libspy compiled for one target: the archive and the link-mode objects."""

    key: str
    archive: Path
    modes: dict[str, Path]
    include_dir: Path

    def link_inputs(self, mode: str) -> list[str]:
        """What a binary in link mode `mode` links besides its own objects."""
        return [str(self.modes[mode]), str(self.archive), "-lm"]


class Toolchain:
    def __init__(self, cache_dir: Path | None = None, opt_level: str = "2") -> None:
        if opt_level not in OPT_LEVELS:
            raise ToolchainError(
                f"unknown optimisation level '{opt_level}': use one of {', '.join(OPT_LEVELS)}"
            )
        self.cache_dir = (cache_dir or default_cache_dir()).absolute()
        self.opt_level = opt_level
        self.zig = zig_executable()
        self.zig_version = zig_version()
        self.libspy = spy_runtime.libspy_dir()
        self._runtime: dict[str, RuntimeLib] = {}

    def cflags(self, target: Target) -> list[str]:
        return ["-target", target.triple, f"-O{self.opt_level}", *COMMON_CFLAGS]

    def _zig(self, args: Sequence[str], cwd: Path, what: str) -> None:
        try:
            proc = subprocess.run(
                [str(self.zig), *args], cwd=cwd, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run zig ({self.zig}): {exc}") from None
        if proc.returncode != 0:
            message = f"zig failed while {what} (exit {proc.returncode}):\n{proc.stderr.strip()}"
            if "the generated C" in what:  # our bug, never the user's
                message = (
                    f"internal compiler error: {message}\n"
                    "this is a bug in hatch-spy: please report it with the .spy files"
                )
            raise ToolchainError(message)

    @contextmanager
    def _scratch(self) -> Iterator[Path]:
        """A private folder to build a cache entry in. It is removed if the
        build fails (on success it has been renamed into place), and a
        failure to write (a full disk, no permission) is a clear error."""
        try:
            tmp_root = self.cache_dir / "tmp"
            tmp_root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=tmp_root))
        except OSError as exc:
            raise self._cache_error(exc) from None
        try:
            yield tmp
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise self._cache_error(exc) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _cache_error(self, exc: OSError) -> ToolchainError:
        reason = exc.strerror or str(exc)
        if exc.errno is not None and exc.errno in errno.errorcode:
            reason += f" ({errno.errorcode[exc.errno]})"
        return ToolchainError(
            f"cannot write to hatch-spy's cache folder {self.cache_dir}: {reason}; "
            "free some space there or set HATCH_SPY_CACHE_DIR to another folder"
        )

    def runtime(self, target: Target) -> RuntimeLib:
        """libspy for `target`, compiled once and then served from the cache."""
        cached = self._runtime.get(target.name)
        if cached is not None:
            return cached
        include = self.libspy / "include"
        key = digest(
            "libspy",
            tree_digest(self.libspy, (".c", ".h")),
            self.cflags(target),
            LIBSPY_CFLAGS,
            self.zig_version,
        )
        final = self.cache_dir / "libspy" / f"{target.name}-{key[:24]}"
        if not final.exists():
            with self._scratch() as tmp:
                self._build_runtime(target, tmp, final)
        lib = RuntimeLib(
            key,
            final / "libspy.a",
            {h: final / f"{h}.o" for h in LINK_MODES[target.name]},
            include,
        )
        self._runtime[target.name] = lib
        return lib

    def _build_runtime(self, target: Target, tmp: Path, final: Path) -> None:
        """Compile libspy into `tmp` and rename it to `final`."""
        include = self.libspy / "include"
        modes = LINK_MODES[target.name]
        sources = sorted(
            s
            for s in (self.libspy / "src").glob("*.c")
            if s.stem not in ALL_MODES or s.stem in modes
        )
        with ThreadPoolExecutor() as pool:
            jobs = [
                pool.submit(
                    self._zig,
                    [
                        "cc",
                        *self.cflags(target),
                        *LIBSPY_CFLAGS,
                        "-I",
                        str(include),
                        "-c",
                        str(src),
                        "-o",
                        f"{src.stem}.o",
                    ],
                    tmp,
                    f"compiling libspy's {src.name}",
                )
                for src in sources
            ]
            for job in jobs:
                job.result()
        lib_objs = [f"{s.stem}.o" for s in sources if s.stem not in ALL_MODES]
        self._zig(["ar", "rcs", "libspy.a", *lib_objs], tmp, "archiving libspy")
        final.parent.mkdir(parents=True, exist_ok=True)
        publish_dir(tmp, final)

    def _build(
        self, kind: str, c_source: str, target: Target, mode: str, flags: list[str], name: str
    ) -> Path:
        """Compile and link `c_source` with libspy in link mode `mode`, cached."""
        rt = self.runtime(target)
        key = digest(kind, c_source, flags, rt.key, mode)
        args = [*flags, "-I", str(rt.include_dir), "unit.c", *rt.link_inputs(mode), "-o", name]
        return self._cached(
            self.cache_dir / kind / key[:32],
            name,
            {"unit.c": c_source},
            args,
            f"compiling the generated C ({kind})",
        )

    def _cached(
        self, final: Path, name: str, files: dict[str, str], args: list[str], what: str
    ) -> Path:
        """`final/name`, made unless the cache has it by `zig cc ARGS` in a
        private folder holding `files`, then renamed into place."""
        if not (final / name).exists():
            with self._scratch() as tmp:
                for file, text in files.items():
                    (tmp / file).write_text(text, encoding="utf-8")
                self._zig(["cc", *args], tmp, what)
                final.parent.mkdir(parents=True, exist_ok=True)
                publish_dir(tmp, final)
        return final / name

    def build_executable(self, c_source: str, target: Target) -> Path:
        """An executable (native) or WASI command module (wasm) of `c_source`, cached."""
        flags = [*self.cflags(target), *target.ldflags, *(["-s"] if target.strip else [])]
        return self._build(
            "programs", c_source, target, "mode_exe", flags, "program" + target.exe_suffix
        )

    def build_extension(self, c_sources: Sequence[str], python_include: Path) -> Path:
        """A CPython extension module (Limited API) for the native target,
        from its C units (cext.write_extension)."""
        target = get_target("native")
        compile_flags = [
            *self.cflags(target),
            "-fPIC",
            "-fvisibility=hidden",
            "-I",
            str(python_include),
        ]
        # stripped: wheels ship no debug info, which would also embed build paths
        link_flags = [*self.cflags(target), "-shared", "-fPIC", "-s"]
        return self._build_units(
            "extensions",
            c_sources,
            target,
            "mode_cpython",
            (compile_flags, link_flags),
            EXTENSION_NAME + EXTENSION_SUFFIX,
        )

    def build_wasm_library(self, c_sources: Sequence[str]) -> Path:
        """A wasm32-wasi reactor module exporting the package's functions,
        from its C units (cgen.write_wasm_library)."""
        target = get_target("wasm")
        # __stack_pointer is exported so that the host can put it back after a
        # panic traps, and keep the instance (spy_runtime/_wasm.py)
        link_flags = [
            *self.cflags(target),
            *target.ldflags,
            "-mexec-model=reactor",
            "-Wl,--export=__stack_pointer",
            "-s",
        ]
        return self._build_units(
            "wasm-libraries",
            c_sources,
            target,
            "mode_wasm",
            (self.cflags(target), link_flags),
            "_spy.wasm",
        )

    def _build_units(
        self,
        kind: str,
        c_sources: Sequence[str],
        target: Target,
        mode: str,
        flags: tuple[list[str], list[str]],
        name: str,
    ) -> Path:
        """Compile each C unit into an object (cached by its text, so a
        change to one module recompiles one unit), at once on every core,
        then link them with libspy in link mode `mode` (cached too)."""
        compile_flags, link_flags = flags
        rt = self.runtime(target)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            objects = list(pool.map(lambda src: self._object(src, compile_flags, rt), c_sources))
        key = digest(kind, [o.parent.name for o in objects], link_flags, rt.key, mode)
        args = [*link_flags, *map(str, objects), *rt.link_inputs(mode), "-o", name]
        return self._cached(
            self.cache_dir / kind / key[:32], name, {}, args, f"linking the generated C ({kind})"
        )

    def _object(self, c_source: str, compile_flags: list[str], rt: RuntimeLib) -> Path:
        """One C unit compiled, served from the cache when its text is."""
        key = digest("object", c_source, compile_flags, rt.key)
        args = [*compile_flags, "-I", str(rt.include_dir), "-c", "unit.c", "-o", "unit.o"]
        return self._cached(
            self.cache_dir / "objects" / key[:32],
            "unit.o",
            {"unit.c": c_source},
            args,
            "compiling the generated C (a unit)",
        )
