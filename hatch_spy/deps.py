"""`hatch-spy deps`: which installed SPy distributions a project's (or a
program's) imports resolve to, as the build hook and `hatch-spy run` resolve
them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spy_linker import Provider

from .compiler.errors import SpyError
from .compiler.limits import compiling
from .compiler.loader import installed_finder, load_program, module_name_for
from .settings import SpySettings

# how a dependency's code reaches the package (the settings' default, the
# only mode so far; see docs/architecture.md "Linking other SPy packages")
LINK_MODE = SpySettings.link
SKIPPED_DIRS = frozenset({"build", "dist", ".venv", "venv", ".git", "__pycache__"})


@dataclass(frozen=True)
class Dependency:
    provider: Provider
    modules: tuple[str, ...]  # the provider's modules the code imports

    def line(self) -> str:
        p = self.provider
        return f"{p.name} {p.version} {p.root} {LINK_MODE} ({', '.join(self.modules)})"


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
    """What the imports of `target` resolve to among installed distributions."""
    root, names = entries_of(target)
    finder = installed_finder(root, search_paths)
    with compiling():
        load_program(names, finder)
    by_provider: dict[str, list[str]] = {}
    providers: dict[str, Provider] = {}
    for module, provider in finder.used.items():
        by_provider.setdefault(provider.name, []).append(module)
        providers[provider.name] = provider
    return [Dependency(providers[n], tuple(sorted(m))) for n, m in sorted(by_provider.items())]
