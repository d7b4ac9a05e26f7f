"""Find the SPy modules of installed distributions.

A compiled SPy wheel ships its `.spy` sources and a `spy-abi.json` in its
`.dist-info` (spy_abi's format). The resolver discovers them as Python
discovers distributions (importlib.metadata over the given folders, by
default sys.path), and answers which distribution provides a SPy module,
where its source is, and whether its runtime ABI is one this build can use.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import spy_abi


class LinkError(Exception):
    """A dependency that cannot be used: missing, unreadable or incompatible.
    The message names the distribution, its version and where it is."""


@dataclass(frozen=True)
class Provider:
    """An installed distribution with SPy modules."""

    name: str  # the distribution's name, as its metadata spells it
    version: str
    root: Path  # the folder its files are relative to (a site-packages)
    abi: spy_abi.AbiFile = field(compare=False, repr=False)

    @property
    def where(self) -> str:
        return f"{self.name} {self.version} in {self.root}"

    def source(self, module: str) -> Path | None:
        """The installed `.spy` source of `module`, or None."""
        m = self.abi.module(module)
        return None if m is None else self.root / m.source

    def check_runtime(self, runtime_abi: tuple[int, int]) -> None:
        """Code built for runtime ABI X.Y runs on X.Z with Z >= Y: a module
        of ours, built for `runtime_abi`, may use this provider only if the
        provider's major is ours and its minor no newer."""
        major, minor = self.abi.runtime_abi
        if major != runtime_abi[0] or minor > runtime_abi[1]:
            raise LinkError(
                f"{self.where} was built for SPy runtime ABI {major}.{minor}, which this build "
                f"(runtime ABI {runtime_abi[0]}.{runtime_abi[1]}) cannot use: install a "
                f"{self.name} built for it, or upgrade spy-runtime"
            )


def _read(dist: importlib.metadata.Distribution) -> Provider | None:
    text = dist.read_text(spy_abi.FILENAME)
    if text is None:
        return None
    name = dist.metadata["Name"] or "?"
    version = dist.version
    root = Path(str(dist.locate_file("")))
    try:
        abi = spy_abi.from_json(text)
    except spy_abi.AbiFormatError as exc:
        raise LinkError(
            f"{name} {version} in {root}: its {spy_abi.FILENAME} is unusable: {exc}"
        ) from None
    return Provider(name, version, root, abi)


class Resolver:
    """The SPy distributions installed in `paths` (default: sys.path), the
    first of each name winning, as the import system's order has it."""

    def __init__(self, paths: Iterable[Path | str] | None = None) -> None:
        self.paths = [str(p) for p in (sys.path if paths is None else paths)]
        self._providers: list[Provider] | None = None

    @property
    def providers(self) -> list[Provider]:
        if self._providers is None:
            seen: set[str] = set()
            found = []
            for dist in importlib.metadata.distributions(path=self.paths):
                provider = _read(dist)
                key = (dist.metadata["Name"] or "").lower().replace("_", "-")
                if provider is None or key in seen:
                    continue
                seen.add(key)
                found.append(provider)
            self._providers = found
        return self._providers

    def provider_of(self, module: str) -> Provider | None:
        """The distribution whose spy-abi.json lists SPy module `module`."""
        return next((p for p in self.providers if p.abi.module(module) is not None), None)

    def provides_package(self, package: str) -> bool:
        """Does some distribution have SPy modules under `package.`?"""
        prefix = package + "."
        return any(m.name.startswith(prefix) for p in self.providers for m in p.abi.modules)


def _key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def check_acyclic(dist: str, providers: Iterable[Provider], resolver: Resolver) -> None:
    """Raise LinkError when distribution `dist`, which builds on `providers`,
    would close a cycle: one of them (or what it was built against, as its
    spy-abi.json records) was built against `dist` itself."""
    installed = {_key(p.name): p for p in resolver.providers}

    def walk(p: Provider, path: list[Provider]) -> None:
        for dep in p.abi.dependencies:
            if _key(dep.name) == _key(dist):
                chain = " -> ".join([dist, *(x.name for x in path), dist])
                raise LinkError(
                    f"the SPy packages {chain} depend on each other in a cycle ({path[-1].where} "
                    f"was built against {dep.name} {dep.version}): move what they share into a "
                    "package that depends on neither"
                )
            nxt = installed.get(_key(dep.name))
            if nxt is not None and nxt not in path:
                walk(nxt, [*path, nxt])

    for p in {_key(p.name): p for p in providers}.values():
        walk(p, [p])


def describe(providers: Sequence[Provider]) -> list[str]:
    """One line per provider: name, version, folder."""
    return [f"{p.name} {p.version} {p.root}" for p in providers]
