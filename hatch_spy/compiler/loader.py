"""Finding and parsing the .spy modules a program imports, in dependency order."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spy_runtime import stdlib_dir

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


@dataclass(frozen=True)
class ModuleFinder:
    """Looks up `a.b` as `a/b.spy` under each root, first match wins."""

    roots: tuple[Path, ...]

    def find(self, name: str) -> tuple[Path, str] | None:
        """The file of module `name` and how errors show it; the standard
        library written in SPy comes after the program's own roots."""
        rel = name.replace(".", "/") + ".spy"
        roots = () if name in BUILTIN_MODULES else self.roots  # never shadowed
        for root in roots:
            path = root / rel
            if path.is_file():
                return path, rel
        path = stdlib_dir() / rel
        if path.is_file():
            return path, f"<stdlib>/{rel}"
        return None

    def is_package(self, name: str) -> bool:
        rel = name.replace(".", "/")
        return any((root / rel).is_dir() for root in self.roots)


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
        found = finder.find(name)
        if found is None:
            where = ", ".join(str(r) for r in finder.roots)
            msg = f"no module named '{name}' (looked for {name.replace('.', '/')}.spy in {where})"
            if importer is None or node is None:
                raise SpyCompileError(msg, _nowhere(name))
            raise SpyCompileError(msg, importer.src.node_loc(node))
        path, display = found
        src = read_source(path, display)
        mod = LoadedModule(name, src, parse_module(src))
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
            if base not in STD_MODULES and finder.find(base) is None and finder.is_package(base):
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
