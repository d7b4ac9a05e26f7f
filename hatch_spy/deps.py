"""`hatch-spy deps`: which installed SPy distributions a project's (or a
program's) imports resolve to, as the build hook and `hatch-spy run` resolve
them."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spy_linker import Provider

from .compiler.errors import SpyError
from .compiler.limits import compiling
from .compiler.loader import installed_finder, load_program, module_name_for
from .settings import SpySettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# a program (`hatch-spy run FILE`) links its dependencies statically
PROGRAM_LINK = "static"
SKIPPED_DIRS = frozenset({"build", "dist", ".venv", "venv", ".git", "__pycache__"})


@dataclass(frozen=True)
class Dependency:
    provider: Provider
    modules: tuple[str, ...]  # the provider's modules the code imports
    link: str  # how its code reaches the package: the project's `link` setting

    def line(self) -> str:
        p = self.provider
        return f"{p.name} {p.version} {p.root} {self.link} ({', '.join(self.modules)})"


def hook_config(project: Path) -> Mapping[str, Any]:
    """The `[tool.hatch.build.hooks.spy]` table of the project's pyproject.toml."""
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpyError(f"{pyproject} is not valid TOML: {exc}") from None
    table: Any = data
    for key in ("tool", "hatch", "build", "hooks", "spy"):
        table = table.get(key, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def entries_of(target: Path) -> tuple[Path, list[str]]:
    """The module root and module names of a .spy file, or of every .spy
    file of a project folder (under src/ if it has one)."""
    if target.is_file():
        return target.parent, [target.stem]
    if not target.is_dir():
        raise SpyError(f"no such file or folder: {target}")
    root = target / "src" if (target / "src").is_dir() else target
    files = [
        f
        for f in sorted(root.rglob("*.spy"))
        if not SKIPPED_DIRS.intersection(f.relative_to(root).parts)
    ]
    if not files:
        raise SpyError(f"no .spy files under {root}")
    return root, [module_name_for(f, root) for f in files]


def resolve(target: Path, search_paths: Sequence[Path] = ()) -> list[Dependency]:
    """What the imports of `target` resolve to among installed distributions,
    with the link mode its settings give (a project's hook table and the
    HATCH_SPY_* variables; a program's are static)."""
    root, names = entries_of(target)
    link = PROGRAM_LINK
    if target.is_dir():
        settings = SpySettings.read(hook_config(target))
        link = settings.link
        search_paths = [*search_paths, *(target / p for p in settings.search_paths)]
    finder = installed_finder(root, search_paths)
    with compiling():
        load_program(names, finder)
    by_provider: dict[str, list[str]] = {}
    providers: dict[str, Provider] = {}
    for module, provider in finder.used.items():
        by_provider.setdefault(provider.name, []).append(module)
        providers[provider.name] = provider
    return [
        Dependency(providers[n], tuple(sorted(m)), link) for n, m in sorted(by_provider.items())
    ]
