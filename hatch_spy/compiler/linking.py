"""Dynamic linking (link = "dynamic"): which functions of the SPy packages a
package imports it calls in their installed binaries instead of compiling.

A public function of a dependency (one its spy-abi.json exports, with a
signature hash) is called through a pointer that the package's extension
fills at import from the dependency's capsule, after comparing the hash.
What a dependency does not export is compiled into the package as with
static linking: its generics' specializations, its structs' methods and the
private helpers they call. Those must not touch the dependency's `var`
globals, which live in its binary: a compiled copy would use a second,
uninitialized copy of them, so that is a build error.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import spy_abi
from spy_linker import Provider

from . import ir
from .effects import FuncKey, all_stmts, stmt_exprs
from .errors import SpyCompileError

EXTENSION_NAME = spy_abi.EXTENSION_MODULE


@dataclass(frozen=True)
class Link:
    """A function called in a dependency's binary."""

    dist: str  # the dependency's distribution
    version: str  # the version built against
    requirement: str  # the range of versions the package admits
    module: str  # "vecmath.vec"
    name: str  # "dot"
    signature_hash: str

    @property
    def symbol(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def extension(self) -> str:
        """The Python name of the native extension that exports it."""
        return f"{self.module.split('.')[0]}.{EXTENSION_NAME}"


@dataclass(frozen=True)
class Linking:
    """What a unit takes from other packages' binaries: the functions it
    calls through their capsules, and the modules whose globals and init
    are theirs."""

    links: tuple[Link, ...] = ()
    modules: frozenset[str] = frozenset()
    keys: frozenset[FuncKey] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset((x.module, x.name) for x in self.links))


STATIC = Linking()


def dynamic_linking(
    modules: Iterable[ir.ModuleIR],
    own: Collection[str],
    used: Mapping[str, Provider],
    requirements: Mapping[str, str],
) -> Linking:
    """The links of a package built with link = "dynamic": every exported
    function of a dependency that its code reaches. `used` maps each module
    of a dependency to the distribution providing it, `requirements` each
    distribution to the range the package admits."""
    mods = list(modules)
    links: dict[FuncKey, Link] = {}
    for f in reachable(mods, own, used):
        record = linked_record(f, used)
        if record is not None:
            provider = used[f.module]
            links[(f.module, f.name)] = Link(
                provider.name,
                provider.version,
                requirements.get(provider.name, ""),
                f.module,
                f.name,
                record.signature_hash,
            )
        else:
            _check_no_foreign_globals(f, used)
    return Linking(
        tuple(sorted(links.values(), key=lambda x: x.symbol)),
        frozenset(m.name for m in mods if m.name in used),
    )


def abi_record(f: ir.FuncDecl, used: Mapping[str, Provider]) -> spy_abi.Function | None:
    """The installed dependency's spy-abi.json record of `f` (its signature
    hash), if the dependency providing its module exports it."""
    provider = used.get(f.module)
    abi_module = None if provider is None else provider.abi.module(f.module)
    return None if abi_module is None else abi_module.function(f.name)


def linked_record(f: ir.FuncDecl, used: Mapping[str, Provider]) -> spy_abi.Function | None:
    """The record of `f` if it is called in the dependency's binary: a public
    function the dependency exports, which its author did not mark
    `@force_inline`. Such a function is compiled into every caller, as C++
    compiles a header's inline functions: its author asked for that, and a
    call through a pointer would defeat it."""
    # (`f.exported` is False here: a dependency's functions are not this package's API)
    if f.name.startswith("_") or f.force_inline:
        return None
    return abi_record(f, used)


def check_wasm_copy(
    modules: Iterable[ir.ModuleIR], own: Collection[str], used: Mapping[str, Provider]
) -> None:
    """On the wasm target a package built with link = "dynamic" still has
    its own copy of the code it uses of its dependencies (the shared wasm
    runtime is not there yet), which is only faithful when that code keeps
    no state: refuse a call into a dependency that reaches its `var`
    globals, whose copy would not be the dependency's (natively they are
    shared). The error is at the package's own call."""
    for m in modules:
        if m.name not in own:
            continue
        for f in m.funcs.values():
            for e in stmt_exprs(f.body):
                if not isinstance(e, ir.Call) or e.func.module not in used:
                    continue
                ref = _global_reached(e.func, used)
                if ref is not None:
                    dist = used[ref.var.module].name
                    raise SpyCompileError(
                        f"{f.module}.{f.name} calls {e.func.module}.{e.func.name} of {dist}, "
                        f"which uses its `var` global {ref.var.module}.{ref.var.name}, "
                        + WASM_COPY.format(dist=dist),
                        e.loc,
                    )


def _global_reached(start: ir.FuncDecl, used: Mapping[str, Provider]) -> ir.GlobalRef | None:
    """A `var` global of a dependency that calling `start` reads or writes."""
    seen: set[FuncKey] = set()
    work = [start]
    while work:
        f = work.pop()
        if (f.module, f.name) in seen:
            continue
        seen.add((f.module, f.name))
        for ref in _global_refs(f):
            if ref.var.mutable and ref.var.module in used:
                return ref
        work += [e.func for e in stmt_exprs(f.body) if isinstance(e, ir.Call)]
    return None


def reachable(
    modules: list[ir.ModuleIR],
    own: Collection[str],
    used: Mapping[str, Provider],
) -> list[ir.FuncDecl]:
    """The functions that code of the `own` modules runs: theirs, their
    init and boundary methods, and every function they call, transitively,
    without looking inside the dependencies' exported functions (whose
    bodies run in the dependency's binary)."""
    seen: dict[FuncKey, ir.FuncDecl] = {}
    work: list[ir.FuncDecl] = []
    for m in modules:
        if m.name in own:
            work += list(m.funcs.values()) + list(m.boundary_methods.values())
            if m.init is not None:
                work.append(m.init)
    while work:
        f = work.pop()
        key = (f.module, f.name)
        if key in seen:
            continue
        seen[key] = f
        if linked_record(f, used) is not None:
            continue  # its callees are the dependency's business
        work += [e.func for e in stmt_exprs(f.body) if isinstance(e, ir.Call)]
    return list(seen.values())


def _global_refs(f: ir.FuncDecl) -> Iterable[ir.GlobalRef]:
    yield from (e for e in stmt_exprs(f.body) if isinstance(e, ir.GlobalRef))
    for s in all_stmts(f.body):
        if isinstance(s, ir.Assign) and isinstance(s.target, ir.GlobalRef):
            yield s.target


# why a function using a dependency's `var` global cannot be compiled in
COMPILED_IN = (
    'and with link = "dynamic" this package compiles it (it is not in {dist}\'s exports): '
    "its copy of the global would not be {dist}'s. Call an exported function of {dist} "
    'that does it, or build with link = "static"'
)
WASM_COPY = (
    'and on the wasm target link = "dynamic" still compiles the code of {dist} this package '
    "uses into it, so that copy of the global would not be {dist}'s (natively it is): build "
    'with targets = ["native"], or with link = "static" (each package its own copy)'
)


def _check_no_foreign_globals(f: ir.FuncDecl, used: Mapping[str, Provider]) -> None:
    for e in _global_refs(f):
        if e.var.mutable and e.var.module in used:
            dist = used[e.var.module].name
            raise SpyCompileError(
                f"{f.module}.{f.name} uses `var` global {e.var.module}.{e.var.name} of {dist}, "
                + COMPILED_IN.format(dist=dist),
                e.loc,
            )
