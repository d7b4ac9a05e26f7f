"""The spy-abi.json format: what a compiled SPy wheel exports and is built from.

Canonical JSON (sorted keys, two-space indent, trailing newline) so that the
same build gives the same bytes. `schema/spy-abi-2.schema.json` specifies it.

Format 2 adds structs: each module lists the struct types whose Python class
it holds (name, layout per target, fields with types and offsets), and a type
in a signature is a scalar's name or a struct's fully qualified name
(`geom::Point`). A document of format 1 (scalars only) reads as before.

Format 3 adds Python's containers (`list[T]`, `dict[K, V]`, `tuple[...]`,
`bytes`); format 4 arrays (`array[f64, 2]`, buffers) and the parameters a
function writes through (`"mutates": true`, so that a read-only buffer is
refused). A document is written in the lowest format that holds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import types

FORMAT_VERSION = 2  # written unless a signature needs format 3's container types
READABLE_VERSIONS = (1, 2, 3, 4, 5)
FILENAME = "spy-abi.json"
# the native extension of each top-level package: `<pkg>._spy_native`, which the
# compiler builds and names, and the loader (and other packages' extensions) import
EXTENSION_MODULE = "_spy_native"
TARGETS = frozenset({"native", "wasm"})


class AbiFormatError(ValueError):
    """A spy-abi.json that does not follow the format."""


class AbiVersionError(AbiFormatError):
    """A spy-abi.json of a format newer than this reader knows."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"format_version {version} is not supported (this spy-abi "
            f"reads {', '.join(map(str, READABLE_VERSIONS))})"
        )
        self.version = version


@dataclass(frozen=True)
class Param:
    name: str
    type: types.SpyType
    # the function may write the items of this array argument: a read-only
    # buffer is refused (callers depend on it: it is in the signature hash)
    mutates: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.fqn,
            **({"mutates": True} if self.mutates else {}),
        }


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    returns: types.SpyType
    # symbol of the function per target: the C symbol natively, the export name in wasm
    symbols: Mapping[str, str] = field(default_factory=dict)

    @property
    def structs(self) -> list[types.SpyType]:
        """The struct types its signature reaches, fields' structs included."""
        return types.structs_reached([*(p.type for p in self.params), self.returns])

    @property
    def signature_hash(self) -> str:
        """What callers depend on: name, parameter names and types, return type,
        and the layout of every struct they reach (a scalar-only signature
        hashes as in format 1)."""
        body: dict[str, Any] = {
            "name": self.name,
            "params": [
                [p.name, p.type.fqn, *(["mutates"] if p.mutates else [])] for p in self.params
            ],
            "returns": self.returns.fqn,
        }
        structs = self.structs
        if structs:
            body["types"] = {t.fqn: t.describe() for t in structs}
        return _hash(body)


@dataclass(frozen=True)
class Module:
    name: str  # dotted Python name
    source: str  # the .spy file's path inside the wheel
    functions: tuple[Function, ...]
    # the struct types whose Python class lives in this module
    structs: tuple[types.SpyType, ...] = ()

    def __post_init__(self) -> None:
        # the order the document has (sorted keys), so that a round trip is equal
        object.__setattr__(self, "functions", tuple(sorted(self.functions, key=lambda f: f.name)))
        object.__setattr__(self, "structs", tuple(sorted(self.structs, key=lambda t: t.fqn)))

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)

    @property
    def interface_hash(self) -> str:
        exports = sorted([f.name, f.signature_hash] for f in self.functions)
        if not self.structs:
            return _hash(exports)
        described = {t.fqn: t.describe() for t in self.structs}
        return _hash({"exports": exports, "structs": described})


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
class Dependency:
    """Another SPy distribution this one was built against (format 5)."""

    name: str  # the distribution
    version: str  # the version built against
    requirement: str  # the range of versions the package admits: ">=0.1.0,<0.2"
    link: str  # "static" (its code compiled in) or "dynamic"
    # what the package uses of it: "module.function" and "module::Struct",
    # each with its signature hash (a struct's: of its description)
    symbols: Mapping[str, str] = field(default_factory=dict)


LINK_MODES = ("static", "dynamic")


def struct_hash(t: types.SpyType) -> str:
    """What code built against struct `t` depends on: its description (name,
    fields with types and offsets, layout per target)."""
    return _hash(t.describe())


@dataclass(frozen=True)
class AbiFile:
    name: str
    version: str
    runtime_abi: tuple[int, int]
    modules: tuple[Module, ...]
    artifacts: tuple[Artifact, ...]
    toolchain: Toolchain
    format_version: int = FORMAT_VERSION
    dependencies: tuple[Dependency, ...] = ()

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)

    def artifact(self, target: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.target == target), None)

    def exported_hashes(self) -> dict[str, str]:
        """Every function (`module.name`) and struct (`module::Name`) the
        package exports, with its hash: what a dependent's recorded
        `dependencies.*.symbols` are compared with."""
        out: dict[str, str] = {}
        for m in self.modules:
            for f in m.functions:
                out[f"{m.name}.{f.name}"] = f.signature_hash
                for t in f.structs:
                    out[t.fqn] = struct_hash(t)
            for t in m.structs:
                out[t.fqn] = struct_hash(t)
        return out

    def struct_home(self, fqn: str) -> Module | None:
        """The module holding the Python class of struct `fqn`."""
        return next((m for m in self.modules if any(t.fqn == fqn for t in m.structs)), None)


def _hash(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _signature_types(abi: AbiFile) -> list[types.SpyType]:
    return [
        t
        for m in abi.modules
        for f in m.functions
        for t in (*(p.type for p in f.params), f.returns)
    ]


def _reaches(t: types.SpyType, kinds: tuple[types.Kind, ...]) -> bool:
    return t.kind in kinds or any(
        _reaches(u, kinds) for u in (*t.args, *(f.type for f in t.fields))
    )


def needed_format(abi: AbiFile) -> int:
    """The lowest format that holds `abi`: 5 with dependencies, 4 with
    arrays, 3 with Python's containers or bytes, else the 2 of structs."""
    if abi.dependencies:
        return 5
    sig = _signature_types(abi)
    if any(_reaches(t, (types.Kind.ARRAY,)) for t in sig):
        return 4
    if any(_reaches(t, types.PYTHON_CONTAINER_KINDS) for t in sig):
        return 3
    return 0


def to_dict(abi: AbiFile) -> dict[str, Any]:
    # the lowest format that holds the document, so that older readers read
    # what they can
    version = max(abi.format_version, needed_format(abi))
    return {
        "format_version": version,
        "name": abi.name,
        "version": abi.version,
        "runtime_abi": f"{abi.runtime_abi[0]}.{abi.runtime_abi[1]}",
        "modules": {
            m.name: {
                "source": m.source,
                "interface_hash": m.interface_hash,
                "exports": {
                    f.name: {
                        "params": [p.describe() for p in f.params],
                        "returns": f.returns.fqn,
                        "signature_hash": f.signature_hash,
                        "symbols": dict(f.symbols),
                    }
                    for f in m.functions
                },
                **({"structs": {t.fqn: t.describe() for t in m.structs}} if m.structs else {}),
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
        **(
            {
                "dependencies": {
                    d.name: {
                        "version": d.version,
                        "requirement": d.requirement,
                        "link": d.link,
                        "symbols": dict(d.symbols),
                    }
                    for d in abi.dependencies
                }
            }
            if abi.dependencies
            else {}
        ),
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


class _Types:
    """Resolves the type names of one document: scalars by name, structs by
    fully qualified name from the modules' struct tables."""

    def __init__(self, described: dict[str, tuple[Any, str]], version: int) -> None:
        self.described = described  # fqn -> (description, where it is)
        self.version = version
        self.made: dict[str, types.SpyType] = {}
        self.making: list[str] = []

    def get(self, value: Any, where: str) -> types.SpyType:
        container = isinstance(value, str) and any(
            value.startswith(k.value + "[") for k in (*types.CONTAINER_KINDS, types.Kind.ARRAY)
        )
        if (container or value == "bytes") and self.version < 3:
            raise AbiFormatError(f"{where}: format {self.version} has no type {value!r}")
        if isinstance(value, str) and "array[" in value and self.version < 4:
            raise AbiFormatError(f"{where}: format {self.version} has no arrays ({value!r})")
        if container:
            assert isinstance(value, str)
            try:
                return types.parse_type_ref(value, lambda leaf: self.get(leaf, where))
            except types.UnknownTypeError as exc:
                raise AbiFormatError(f"{where}: {exc}") from None
        if isinstance(value, str) and value in types.BY_NAME:
            return types.BY_NAME[value]
        if not isinstance(value, str) or value not in self.described:
            raise AbiFormatError(f"{where}: unknown type {value!r}")
        if value in self.made:
            return self.made[value]
        if value in self.making:
            raise AbiFormatError(f"{where}: struct {value} contains itself")
        desc, dwhere = self.described[value]
        self.making.append(value)
        try:
            t = _struct(desc, value, dwhere, self)
        finally:
            self.making.pop()
        self.made[value] = t
        return t


def _struct(desc: Any, fqn: str, where: str, resolve: _Types) -> types.SpyType:
    where = f"{where}, struct {fqn}"
    if not isinstance(desc, dict):
        raise AbiFormatError(f"{where}: must be an object")
    if _require(desc, "fqn", str, where) != fqn:
        raise AbiFormatError(f"{where}: 'fqn' must be its key")
    _require(desc, "name", str, where)
    if _require(desc, "kind", str, where) != types.Kind.STRUCT.value:
        raise AbiFormatError(f"{where}: 'kind' must be 'struct'")
    _require(desc, "layout", dict, where)
    for f in _require(desc, "fields", list, where):
        if not isinstance(f, dict):
            raise AbiFormatError(f"{where}: a field must be an object")
        fwhere = f"{where}, field {f.get('name')!r}"
        _require(f, "name", str, fwhere)
        resolve.get(_require(f, "type", str, fwhere), fwhere)
        _require(f, "offset", dict, fwhere)
    try:
        return types.from_description(desc, lambda name: resolve.get(name, where))
    except types.LayoutMismatchError as exc:
        raise AbiFormatError(f"{where}: {exc}") from None


def _param(p: Any, where: str, resolve: _Types) -> Param:
    if not isinstance(p, dict):
        raise AbiFormatError(f"{where}: a parameter must be an object")
    t = resolve.get(_require(p, "type", str, where), where)
    mutates = p.get("mutates", False)
    if mutates is not False and (resolve.version < 4 or mutates is not True):
        raise AbiFormatError(f"{where}: 'mutates' must be true where present (format 4)")
    if mutates and t.kind is not types.Kind.ARRAY:
        raise AbiFormatError(f"{where}: only an array parameter 'mutates'")
    return Param(_require(p, "name", str, where), t, mutates)


def from_json(text: str) -> AbiFile:
    """Parse and check a spy-abi.json; hashes must match their content."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AbiFormatError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AbiFormatError("the top level must be an object")
    version = _require(data, "format_version", int, "spy-abi.json")
    if version not in READABLE_VERSIONS:
        raise AbiVersionError(version)
    rt = _require(data, "runtime_abi", str, "spy-abi.json")
    try:
        major, minor = (int(x) for x in rt.split("."))
    except ValueError:
        raise AbiFormatError(f"runtime_abi {rt!r} is not MAJOR.MINOR") from None
    modules = []
    module_data = _require(data, "modules", dict, "spy-abi.json")
    described: dict[str, tuple[Any, str]] = {}
    for mod_name, mod in module_data.items():
        if not isinstance(mod, dict):
            raise AbiFormatError(f"module {mod_name}: must be an object")
        if "structs" in mod and version < 2:
            raise AbiFormatError(f"module {mod_name}: format 1 has no structs")
        for fqn, desc in mod.get("structs", {}).items():
            if fqn in described:
                raise AbiFormatError(f"module {mod_name}: struct {fqn} is described twice")
            described[fqn] = (desc, f"module {mod_name}")
    resolve = _Types(described, version)
    for mod_name, mod in module_data.items():
        where = f"module {mod_name}"
        functions = []
        for fn_name, fn in _require(mod, "exports", dict, where).items():
            fwhere = f"{where}, function {fn_name}"
            params = tuple(_param(p, fwhere, resolve) for p in _require(fn, "params", list, fwhere))
            symbols = _require(fn, "symbols", dict, fwhere)
            func = Function(
                fn_name, params, resolve.get(_require(fn, "returns", str, fwhere), fwhere), symbols
            )
            if _require(fn, "signature_hash", str, fwhere) != func.signature_hash:
                raise AbiFormatError(f"{fwhere}: signature_hash does not match the signature")
            functions.append(func)
        structs = tuple(resolve.get(fqn, where) for fqn in mod.get("structs", {}))
        module = Module(mod_name, _require(mod, "source", str, where), tuple(functions), structs)
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
    dependencies = _dependencies(data, version)
    return AbiFile(
        _require(data, "name", str, "spy-abi.json"),
        _require(data, "version", str, "spy-abi.json"),
        (major, minor),
        tuple(modules),
        tuple(artifacts),
        toolchain,
        version,
        dependencies,
    )


def _dependencies(data: Mapping[str, Any], version: int) -> tuple[Dependency, ...]:
    if "dependencies" not in data:
        return ()
    if version < 5:
        raise AbiFormatError(f"format {version} has no dependencies")
    deps = []
    for name, d in _require(data, "dependencies", dict, "spy-abi.json").items():
        where = f"dependency {name}"
        if not isinstance(d, dict):
            raise AbiFormatError(f"{where}: must be an object")
        link = _require(d, "link", str, where)
        if link not in LINK_MODES:
            raise AbiFormatError(f"{where}: unknown link mode {link!r}")
        symbols = _require(d, "symbols", dict, where)
        if not all(isinstance(v, str) for v in symbols.values()):
            raise AbiFormatError(f"{where}: a symbol's hash must be a string")
        deps.append(
            Dependency(
                name,
                _require(d, "version", str, where),
                _require(d, "requirement", str, where),
                link,
                symbols,
            )
        )
    return tuple(deps)
