"""Finding and parsing the .spy modules a program imports, in dependency order."""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spy_linker import LinkError, Provider, Resolver
from spy_runtime import ABI_VERSION, stdlib_dir

from .errors import Loc, SpyCompileError
from .source import SourceFile, parse_module, read_source
from .stdlib import BUILTIN_MODULES, STD_MODULES


@dataclass
class LoadedModule:
    name: str
    src: SourceFile
    tree: ast.Module
    # id() of an `ast.alias` (or of an `ast.ImportFrom`) -> the module it names
    imports: dict[int, str] = field(default_factory=dict)
    # id() of an `ast.alias` of `from pkg import mod` where `mod` is a module
    submodule_imports: set[int] = field(default_factory=set)
    deps: list[str] = field(default_factory=list)
    # the installed distribution it comes from ("spygeo 1.2.0 in /site"), if any
    provider: str | None = None


@dataclass(frozen=True)
class ModuleFinder:
    """Looks up `a.b` as `a/b.spy` under each root, first match wins; then
    among the SPy modules of installed distributions (`resolver`), whose
    runtime ABI must be one this build can use."""

    roots: tuple[Path, ...]
    resolver: Resolver | None = None
    used: dict[str, Provider] = field(default_factory=dict, compare=False)  # module -> provider

    def find(self, name: str) -> tuple[Path, str] | None:
        """The file of module `name` and how errors show it; the standard
        library written in SPy comes after the program's own roots and the
        installed distributions. LinkError: a provider that cannot be used."""
        rel = name.replace(".", "/") + ".spy"
        roots = () if name in BUILTIN_MODULES else self.roots  # never shadowed
        for root in roots:
            path = root / rel
            if path.is_file():
                return path, rel
        provider = None if name in BUILTIN_MODULES else self.provider_of(name)
        if provider is not None:
            source = provider.source(name)
            if source is None or not source.is_file():
                raise LinkError(f"{provider.where} lists SPy module '{name}' but has no {source}")
            provider.check_runtime(ABI_VERSION)
            self.used[name] = provider
            return source, str(source)
        path = stdlib_dir() / rel
        if path.is_file():
            return path, f"<stdlib>/{rel}"
        return None

    def provider_of(self, name: str) -> Provider | None:
        return None if self.resolver is None else self.resolver.provider_of(name)

    def is_package(self, name: str) -> bool:
        rel = name.replace(".", "/")
        if any((root / rel).is_dir() for root in self.roots):
            return True
        return self.resolver is not None and self.resolver.provides_package(name)

    def where(self) -> str:
        """Where a module was looked for, for a message."""
        looked = ", ".join(str(r) for r in self.roots)
        if self.resolver is not None:
            n = len(self.resolver.providers)
            looked += f", and the SPy modules of {n} installed distribution{'s' if n != 1 else ''}"
        return looked


def installed_finder(root: Path, search_paths: Sequence[Path] = ()) -> ModuleFinder:
    """The finder of the build hook, `hatch-spy run` and `hatch-spy deps`:
    `root` and the search paths, then the SPy distributions installed in the
    search paths or on sys.path."""
    return ModuleFinder((root, *search_paths), Resolver([*search_paths, *sys.path]))


def module_name_for(path: Path, root: Path) -> str:
    rel = path.resolve().relative_to(root.resolve()).with_suffix("")
    return ".".join(rel.parts)


def load_program(entries: Sequence[str], finder: ModuleFinder) -> list[LoadedModule]:
    """Load `entries` and everything they import; dependencies come first."""
    loaded: dict[str, LoadedModule] = {}
    order: list[LoadedModule] = []
    active: list[str] = []  # the import chain being walked, to report cycles

    def visit(name: str, importer: LoadedModule | None, node: ast.AST | None) -> None:
        if name in loaded:
            return
        if name in active:
            cycle = " -> ".join([*active[active.index(name) :], name])
            assert importer is not None and node is not None
            raise SpyCompileError(f"import cycle: {cycle}", importer.src.node_loc(node))
        try:
            found = finder.find(name)
        except LinkError as exc:
            raise _at(str(exc), name, importer, node) from None
        if found is None:
            msg = (
                f"no module named '{name}' (looked for {name.replace('.', '/')}.spy in "
                f"{finder.where()})"
            )
            raise _at(msg, name, importer, node)
        path, display = found
        src = read_source(path, display)
        mod = LoadedModule(name, src, parse_module(src))
        if name in finder.used:
            mod.provider = finder.used[name].where
        active.append(name)
        for dep, dep_node in resolve_imports(mod, finder):
            if dep not in mod.deps:
                mod.deps.append(dep)
            if dep not in STD_MODULES:
                visit(dep, mod, dep_node)
        active.pop()
        loaded[name] = mod
        order.append(mod)

    for builtin in BUILTIN_MODULES:  # every module sees their names
        visit(builtin, None, None)
    for entry in entries:
        visit(entry, None, None)
    return order


def _nowhere(name: str) -> Loc:
    from .errors import Loc

    return Loc(name.replace(".", "/") + ".spy", 1, 0)


def _at(
    msg: str, name: str, importer: LoadedModule | None, node: ast.AST | None
) -> SpyCompileError:
    """An error about module `name`, at the import that asked for it."""
    if importer is None or node is None:
        return SpyCompileError(msg, _nowhere(name))
    return SpyCompileError(msg, importer.src.node_loc(node))


def resolve_imports(mod: LoadedModule, finder: ModuleFinder) -> list[tuple[str, ast.AST]]:
    """Record what each import statement names; return (module, node) pairs."""
    deps: list[tuple[str, ast.AST]] = []
    for stmt in mod.tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                mod.imports[id(alias)] = alias.name
                deps.append((alias.name, alias))
        elif isinstance(stmt, ast.ImportFrom):
            base = absolute_name(mod, stmt)
            try:
                missing = base not in STD_MODULES and finder.find(base) is None
            except LinkError as exc:
                raise _at(str(exc), base, mod, stmt) from None
            if missing and finder.is_package(base):
                # `from pkg import mod`: each name is a module of the package
                for alias in stmt.names:
                    sub = f"{base}.{alias.name}"
                    mod.imports[id(alias)] = sub
                    mod.submodule_imports.add(id(alias))
                    deps.append((sub, alias))
                continue
            mod.imports[id(stmt)] = base
            deps.append((base, stmt))
    return deps


def absolute_name(mod: LoadedModule, stmt: ast.ImportFrom) -> str:
    if stmt.level == 0:
        assert stmt.module is not None
        return stmt.module
    parts = mod.name.split(".")[:-1]  # the package this module is in
    if stmt.level - 1 > len(parts) or not parts:
        raise SpyCompileError("relative import outside a package", mod.src.node_loc(stmt))
    base = parts[: len(parts) - (stmt.level - 1)]
    if stmt.module:
        base.append(stmt.module)
    return ".".join(base)
