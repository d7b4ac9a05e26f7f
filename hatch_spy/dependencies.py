"""What a package uses of the SPy packages it imports, recorded in its
spy-abi.json (format 5) so that a change of theirs can be checked against it:
per distribution, the version built against, the range of versions admitted
(`spy_abi.default_range`), the link mode, and the signature hash of every
function it calls and struct it uses."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from packaging.specifiers import SpecifierSet

import spy_abi
from spy_linker import Provider

from .compiler import ir
from .compiler.effects import stmt_exprs
from .compiler.errors import SpyError
from .compiler.linking import abi_record, linked_record, reachable
from .compiler.types import Kind, SpyType
from .settings import SpySettings


def _types_of(func: ir.FuncDecl, body: bool) -> Iterable[SpyType]:
    yield from (p.type for p in func.params)
    yield func.ret
    if body:
        yield from func.locals.values()


def _structs_in(t: SpyType, seen: set[str]) -> Iterable[SpyType]:
    if t.fqn in seen:
        return
    seen.add(t.fqn)
    if t.kind is Kind.STRUCT:
        yield t
    for sub in (*(f.type for f in t.fields), *t.args, *([t.item] if t.item else [])):
        yield from _structs_in(sub, seen)


def used_symbols(
    funcs: Iterable[ir.FuncDecl], used: Mapping[str, Provider]
) -> dict[str, dict[str, str]]:
    """Per distribution name, the symbols of it that `funcs` use, each
    with its hash: functions by `module.name`, with the hash the provider's
    spy-abi.json gives (its public API: a generic's specializations and
    private helpers have none), and structs by fqn, with the hash of the
    layout this build compiled."""
    out: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for func in funcs:
        # an exported function of a dependency is used by its signature alone
        outside = linked_record(func, used) is not None
        for e in stmt_exprs([] if outside else func.body):
            record = abi_record(e.func, used) if isinstance(e, ir.Call) else None
            if isinstance(e, ir.Call) and record is not None:
                hashes = out.setdefault(used[e.func.module].name, {})
                hashes[f"{e.func.module}.{record.name}"] = record.signature_hash
        for t in _types_of(func, not outside):
            for s in _structs_in(t, seen):
                module = s.fqn.split("::", 1)[0]
                if module in used:
                    out.setdefault(used[module].name, {})[s.fqn] = spy_abi.struct_hash(s)
    return out


def dependencies(
    modules: list[ir.ModuleIR],
    own: Collection[str],
    used: Mapping[str, Provider],
    settings: SpySettings,
) -> list[spy_abi.Dependency]:
    """The spy-abi.json record of every distribution the `own` modules
    import from, with what the code they run uses of it, each in the range
    the settings give it (by default up to its next breaking release), which
    must admit the version built against."""
    symbols = used_symbols(reachable(modules, own, used), used)
    providers = {p.name: p for p in used.values()}
    out = []
    for name, p in sorted(providers.items()):
        wanted = settings.dependency_range(name, spy_abi.default_range(p.version))
        if not SpecifierSet(wanted).contains(p.version, prereleases=True):
            raise SpyError(
                f"dependency-ranges: {name}{wanted} excludes {p.version}, the version this "
                f"build uses ({p.where}): widen the range or install a version inside it"
            )
        out.append(
            spy_abi.Dependency(name, p.version, wanted, settings.link, symbols.get(name, {}))
        )
    return out
