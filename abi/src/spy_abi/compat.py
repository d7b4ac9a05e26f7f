"""Whether an installed dependency serves what a package recorded using of it
(its spy-abi.json `dependencies`), and the words for when it does not: shared
by spy-runtime's import check and `spy-abi env`."""

from __future__ import annotations

from .model import AbiFile, Dependency


def mismatches(dependency: Dependency, installed: AbiFile) -> list[tuple[str, bool]]:
    """The symbols recorded of `dependency` that `installed` changed or lacks
    (symbol, missing), sorted. A struct the dependency does not export
    crosses no binary boundary (the functions taking it are checked
    themselves), so only exported structs count."""
    exported = installed.exported_hashes()
    out = []
    for symbol, wanted in sorted(dependency.symbols.items()):
        found = exported.get(symbol)
        if "::" in symbol and found is None:
            continue
        if found != wanted:
            out.append((symbol, found is None))
    return out


def mismatch_message(
    package: str, dependency: Dependency, symbol: str, installed: str, missing: bool
) -> str:
    """For a symbol `package` ("name version") uses of `dependency` that the
    installed version `installed` lacks or changed: what happened, what to do."""
    what = "no longer has it" if missing else "changed it"
    return (
        f"{package} cannot use the installed {dependency.name} {installed}: it was built against "
        f"{dependency.name} {dependency.version} and uses its {symbol}, and {installed} {what}. "
        f"Rebuild {package.split(' ')[0]} against {dependency.name} {installed}, or install "
        f"'{dependency.name}=={dependency.version}' (the version it was built against)"
    )
