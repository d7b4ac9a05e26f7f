"""The spy-abi.json format: what a compiled SPy wheel exports and is built from.

Canonical JSON (sorted keys, two-space indent, trailing newline) so that the
same build gives the same bytes. `schema/spy-abi-1.schema.json` specifies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import types

FORMAT_VERSION = 1
FILENAME = "spy-abi.json"
TARGETS = frozenset({"native", "wasm"})


class AbiFormatError(ValueError):
    """A spy-abi.json that does not follow the format."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    returns: str
    # symbol of the function per target: the C symbol natively, the export name in wasm
    symbols: Mapping[str, str] = field(default_factory=dict)

    @property
    def signature_hash(self) -> str:
        """What callers depend on: name, parameter names and types, return type."""
        return _hash(
            {
                "name": self.name,
                "params": [[p.name, p.type] for p in self.params],
                "returns": self.returns,
            }
        )


@dataclass(frozen=True)
class Module:
    name: str  # dotted Python name
    source: str  # the .spy file's path inside the wheel
    functions: tuple[Function, ...]

    @property
    def interface_hash(self) -> str:
        return _hash(sorted([f.name, f.signature_hash] for f in self.functions))


@dataclass(frozen=True)
class Artifact:
    path: str  # inside the wheel, '/'-separated
    target: str  # "native" or "wasm"
    sha256: str


@dataclass(frozen=True)
class Toolchain:
    hatch_spy: str
    zig: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class AbiFile:
    name: str
    version: str
    runtime_abi: tuple[int, int]
    modules: tuple[Module, ...]
    artifacts: tuple[Artifact, ...]
    toolchain: Toolchain
    format_version: int = FORMAT_VERSION

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)

    def artifact(self, target: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.target == target), None)


def _hash(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def to_dict(abi: AbiFile) -> dict[str, Any]:
    return {
        "format_version": abi.format_version,
        "name": abi.name,
        "version": abi.version,
        "runtime_abi": f"{abi.runtime_abi[0]}.{abi.runtime_abi[1]}",
        "modules": {
            m.name: {
                "source": m.source,
                "interface_hash": m.interface_hash,
                "exports": {
                    f.name: {
                        "params": [{"name": p.name, "type": p.type} for p in f.params],
                        "returns": f.returns,
                        "signature_hash": f.signature_hash,
                        "symbols": dict(f.symbols),
                    }
                    for f in m.functions
                },
            }
            for m in abi.modules
        },
        "artifacts": [
            {"path": a.path, "target": a.target, "sha256": a.sha256} for a in abi.artifacts
        ],
        "toolchain": {
            "hatch_spy": abi.toolchain.hatch_spy,
            "zig": abi.toolchain.zig,
            "flags": list(abi.toolchain.flags),
        },
    }


def to_json(abi: AbiFile) -> str:
    return json.dumps(to_dict(abi), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _require(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise AbiFormatError(f"{where}: missing '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AbiFormatError(f"{where}: '{key}' must be {kind.__name__}")
    return value


def _type(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in types.BY_NAME:
        raise AbiFormatError(f"{where}: unknown type {value!r}")
    return value


def from_json(text: str) -> AbiFile:
    """Parse and check a spy-abi.json; hashes must match their content."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AbiFormatError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AbiFormatError("the top level must be an object")
    version = _require(data, "format_version", int, "spy-abi.json")
    if version != FORMAT_VERSION:
        raise AbiFormatError(
            f"format_version {version} is not supported (this reader knows {FORMAT_VERSION})"
        )
    rt = _require(data, "runtime_abi", str, "spy-abi.json")
    try:
        major, minor = (int(x) for x in rt.split("."))
    except ValueError:
        raise AbiFormatError(f"runtime_abi {rt!r} is not MAJOR.MINOR") from None
    modules = []
    for mod_name, mod in _require(data, "modules", dict, "spy-abi.json").items():
        where = f"module {mod_name}"
        functions = []
        for fn_name, fn in _require(mod, "exports", dict, where).items():
            fwhere = f"{where}, function {fn_name}"
            params = tuple(
                Param(
                    _require(p, "name", str, fwhere),
                    _type(_require(p, "type", str, fwhere), fwhere),
                )
                for p in _require(fn, "params", list, fwhere)
            )
            symbols = _require(fn, "symbols", dict, fwhere)
            func = Function(
                fn_name, params, _type(_require(fn, "returns", str, fwhere), fwhere), symbols
            )
            if _require(fn, "signature_hash", str, fwhere) != func.signature_hash:
                raise AbiFormatError(f"{fwhere}: signature_hash does not match the signature")
            functions.append(func)
        module = Module(mod_name, _require(mod, "source", str, where), tuple(functions))
        if _require(mod, "interface_hash", str, where) != module.interface_hash:
            raise AbiFormatError(f"{where}: interface_hash does not match the exports")
        modules.append(module)
    artifacts = []
    for a in _require(data, "artifacts", list, "spy-abi.json"):
        target = _require(a, "target", str, "artifact")
        if target not in TARGETS:
            raise AbiFormatError(f"artifact: unknown target {target!r}")
        artifacts.append(
            Artifact(
                _require(a, "path", str, "artifact"), target, _require(a, "sha256", str, "artifact")
            )
        )
    tc = _require(data, "toolchain", dict, "spy-abi.json")
    toolchain = Toolchain(
        _require(tc, "hatch_spy", str, "toolchain"),
        _require(tc, "zig", str, "toolchain"),
        tuple(_require(tc, "flags", list, "toolchain")),
    )
    return AbiFile(
        _require(data, "name", str, "spy-abi.json"),
        _require(data, "version", str, "spy-abi.json"),
        (major, minor),
        tuple(modules),
        tuple(artifacts),
        toolchain,
        version,
    )
