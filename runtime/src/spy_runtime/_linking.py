"""Checks at import of a package that links SPy packages dynamically.

A package built with link = "dynamic" recorded, per dependency, the version
it was built against and the signature hash of every function and struct it
uses (its spy-abi.json, format 5). Before its functions load, on either
backend, each hash is compared with what the installed dependency exports:
compatible when every symbol used exists with the same hash, so the
dependency may add functions and fields the package does not use. The
native extension checks the same hashes again against the dependency's
binary (its capsule), with the message made here.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import spy_abi
from spy_abi.compat import mismatch_message, mismatches


def link_error_c(
    package: str,
    dep_name: str,
    built: str,
    requirement: str,
    symbol: str,
    installed: str,
    missing: bool,
) -> str:
    """The ImportError message (`spy_abi.compat.mismatch_message`) with its
    arguments as the extension's link table has them."""
    return mismatch_message(
        package,
        spy_abi.Dependency(dep_name, built, requirement, "dynamic"),
        symbol,
        installed,
        missing,
    )


def _abi_of(dist: importlib.metadata.Distribution) -> spy_abi.AbiFile:
    """An installed distribution's spy-abi.json (AbiFormatError: none usable)."""
    return spy_abi.from_json(dist.read_text(spy_abi.FILENAME) or "")


def without_native(abi: spy_abi.AbiFile) -> str | None:
    """A dependency that `abi`'s package links dynamically and whose
    installation has no native extension (a portable wheel), if any: the
    package's native extension could not load it."""
    for dep in abi.dependencies:
        if dep.link != "dynamic":
            continue
        try:
            dist = importlib.metadata.distribution(dep.name)
            installed = _abi_of(dist)
        except (importlib.metadata.PackageNotFoundError, spy_abi.AbiFormatError):
            continue  # check_dynamic_dependencies says what is wrong
        art = installed.artifact("native")
        if art is None or not Path(str(dist.locate_file(art.path))).is_file():
            return dep.name
    return None


def check_dynamic_dependencies(package: str, abi: spy_abi.AbiFile) -> None:
    """Raise ImportError when an installed dependency that `abi`'s package
    ("name version") links dynamically lacks or changed a symbol it uses."""
    for dep in abi.dependencies:
        if dep.link != "dynamic":
            continue
        try:
            dist = importlib.metadata.distribution(dep.name)
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                f"{package} links {dep.name} dynamically (built against {dep.version}), which "
                f"is not installed: pip install '{dep.name}{dep.requirement}'"
            ) from None
        try:
            installed = _abi_of(dist)
        except spy_abi.AbiFormatError as exc:
            raise ImportError(
                f"{package} links {dep.name} dynamically, whose installed {spy_abi.FILENAME} "
                f"({dist.version}) is unusable: {exc}; reinstall {dep.name}"
            ) from None
        for symbol, missing in mismatches(dep, installed):
            raise ImportError(mismatch_message(package, dep, symbol, installed.version, missing))
