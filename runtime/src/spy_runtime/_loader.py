"""What a generated module shim calls: find the package's spy-abi.json,
verify it, choose a backend and put the compiled functions in the module."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spy_abi

from ._linking import check_dynamic_dependencies, without_native
from ._panic import register_root
from ._structs import SpyStruct, make_classes

BACKENDS = ("auto", "native", "wasm")


@dataclass
class CompiledPackage:
    dist: str
    top: str
    root: Path  # the folder holding the top-level package
    abi: spy_abi.AbiFile
    verified: set[str] = field(default_factory=set)
    native_exports: dict[str, dict[str, Any]] | None = None
    wasm: Any = None  # _wasm.WasmPackage, imported only when used
    _classes: dict[str, type] | None = None

    @property
    def struct_classes(self) -> dict[str, type]:
        """The Python class of every exported struct, by fully qualified name."""
        if self._classes is None:
            wanted = [(t, m.name) for m in self.abi.modules for t in m.structs]
            given = {t.fqn: c for t, _ in wanted if (c := _dependency_class(t, self.top))}
            self._classes = dict(make_classes(wanted, given))
        return self._classes

    def artifact_path(self, target: str) -> Path | None:
        art = self.abi.artifact(target)
        return None if art is None else self.root / art.path

    def verify(self, target: str) -> Path:
        """The artifact's path, after checking its sha256 against spy-abi.json."""
        art = self.abi.artifact(target)
        assert art is not None
        path = self.root / art.path
        if target not in self.verified:
            try:
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise ImportError(f"cannot read {path}: {exc}; reinstall {self.dist}") from None
            if actual != art.sha256:
                raise ImportError(
                    f"{path} does not match its sha256 in {self.dist}'s spy-abi.json "
                    f"(found {actual}, expected {art.sha256}): the installation is damaged, "
                    f"reinstall {self.dist}"
                )
            self.verified.add(target)
        return path


_packages: dict[str, CompiledPackage] = {}


def _dependency_class(t: spy_abi.types.SpyType, top: str) -> type[SpyStruct] | None:
    """The class another installed SPy package has for struct `t` (one of
    its modules' structs that this package's functions take or return), if
    it describes the same layout: then a Vec3 of spyvecmath passes to the
    functions of a package built on it, and comes back as one."""
    module = t.fqn.split("::", 1)[0]
    if module.split(".")[0] == top:
        return None
    try:
        home = importlib.import_module(module)
    except ImportError:
        return None  # not installed (linked statically): the package's own class
    cls = getattr(home, t.python, None)
    if (
        isinstance(cls, type)
        and issubclass(cls, SpyStruct)
        and cls._spy_type.describe() == t.describe()
    ):
        return cls
    return None


def _read_package(name: str, module_file: str, dist: str) -> CompiledPackage:
    from . import ABI_VERSION, __version__

    top = name.split(".")[0]
    root = Path(module_file).resolve().parents[name.count(".")]
    try:
        text = importlib.metadata.distribution(dist).read_text(spy_abi.FILENAME)
    except importlib.metadata.PackageNotFoundError:
        text = None
    if text is None:
        raise ImportError(
            f"{name}: the distribution {dist!r} has no {spy_abi.FILENAME}; reinstall {dist}"
        )
    try:
        abi = spy_abi.from_json(text)
    except spy_abi.AbiVersionError as exc:
        *first, last = map(str, spy_abi.READABLE_VERSIONS)
        known = f"{', '.join(first)} and {last}" if first else last
        raise ImportError(
            f"{name}: {dist} was built with {spy_abi.FILENAME} format {exc.version}, newer than "
            f"this spy-runtime reads (formats {known}): upgrade it with "
            f"pip install -U spy-runtime spy-abi"
        ) from None
    except spy_abi.AbiFormatError as exc:
        raise ImportError(f"{name}: {dist}'s {spy_abi.FILENAME} is invalid: {exc}") from None
    if not spy_abi.runtime_compatible(abi.runtime_abi, ABI_VERSION):
        compiled = "{}.{}".format(*abi.runtime_abi)
        provided = "{}.{}".format(*ABI_VERSION)
        raise ImportError(
            f"{name} ({root / top}) was compiled for SPy runtime ABI {compiled}, but the installed "
            f"spy-runtime {__version__} provides ABI {provided}: "
            f"install '{spy_abi.runtime_requirement(abi.runtime_abi)}'"
        )
    check_dynamic_dependencies(f"{dist} {abi.version}", abi)
    register_root(top, root)
    return CompiledPackage(dist, top, root, abi)


def choose_backend(pkg: CompiledPackage, name: str) -> str:
    wanted = os.environ.get("SPY_BACKEND", "auto").strip().lower() or "auto"
    if wanted not in BACKENDS:
        raise ImportError(f"SPY_BACKEND must be one of {', '.join(BACKENDS)}, not {wanted!r}")
    native = pkg.artifact_path("native")
    has_native = native is not None and native.is_file()
    if wanted == "auto" and has_native and without_native(pkg.abi) is not None:
        # its native extension calls a dependency's, which this installation lacks
        has_native = False
    if wanted == "native" or (wanted == "auto" and has_native):
        if not has_native:
            raise ImportError(
                f"{name}: SPY_BACKEND=native, but this installation of {pkg.dist} has no native "
                f"extension; install a {pkg.dist} wheel built for this platform, or use SPY_BACKEND=wasm"
            )
        return "native"
    if pkg.abi.artifact("wasm") is None:
        raise ImportError(
            f"{name}: this installation of {pkg.dist} has no wasm module; use SPY_BACKEND=native"
        )
    if importlib.util.find_spec("wasmtime") is None:
        raise ImportError(
            f"{name} runs on the wasm backend here, which needs wasmtime: "
            f"pip install 'spy-runtime[wasm]'"
        )
    return "wasm"


def _native_functions(pkg: CompiledPackage, name: str) -> dict[str, Any]:
    if pkg.native_exports is None:
        pkg.verify("native")
        ext = importlib.import_module(f"{pkg.top}.{spy_abi.EXTENSION_MODULE}")
        names = getattr(ext, "_spy_structs", ())
        try:
            classes = tuple(pkg.struct_classes[fqn] for fqn in names)
        except KeyError as exc:
            raise ImportError(
                f"{name}: the native extension of {pkg.dist} uses struct {exc.args[0]}, which "
                f"its spy-abi.json does not describe; reinstall {pkg.dist}"
            ) from None
        if names:
            ext._spy_bind_structs(classes)
        pkg.native_exports = ext._spy_exports
    return dict(pkg.native_exports.get(name, {}))


def _wasm_functions(pkg: CompiledPackage, name: str, module: spy_abi.Module) -> dict[str, Any]:
    if pkg.wasm is None:
        from ._wasm import WasmPackage
        from .engine import default_engine

        path = pkg.verify("wasm")
        art = pkg.abi.artifact("wasm")
        assert art is not None
        pkg.wasm = WasmPackage(default_engine(), path, art.sha256, pkg.struct_classes)
    return {f.name: pkg.wasm.function(f, name) for f in module.functions}


def load_module(name: str, namespace: dict[str, Any], dist: str) -> None:
    """Fill the namespace of the shim module `name` with its compiled functions."""
    top = name.split(".")[0]
    pkg = _packages.get(top)
    if pkg is None:
        pkg = _packages[top] = _read_package(name, namespace["__file__"], dist)
    module = pkg.abi.module(name)
    if module is None:
        raise ImportError(f"{name} is not in {dist}'s {spy_abi.FILENAME}; reinstall {dist}")
    backend = choose_backend(pkg, name)
    if backend == "native":
        functions = _native_functions(pkg, name)
    else:
        functions = _wasm_functions(pkg, name, module)
    # the classes it holds, and those its functions use (as a Python module
    # that imports them has them; the stubs import them too)
    used = [t for f in module.functions for t in f.structs]
    namespace.update({t.python: pkg.struct_classes[t.fqn] for t in (*module.structs, *used)})
    namespace.update(functions)
    namespace["__spy_backend__"] = backend
