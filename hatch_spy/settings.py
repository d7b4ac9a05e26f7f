"""The hook's settings: read once from `[tool.hatch.build.hooks.spy]` and the
environment into a typed dataclass. Every option has an environment variable
`HATCH_SPY_<OPTION>` that overrides it, as scikit-build-core mirrors its
settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from spy_abi.model import LINK_MODES

from .compiler.errors import SpyError
from .toolchain import OPT_LEVELS

TARGETS = ("native", "wasm")


class SettingsError(SpyError):
    """A hook option with a value we cannot use."""


@dataclass(frozen=True)
class SpySettings:
    targets: tuple[str, ...] = TARGETS
    opt_level: str = "2"
    search_paths: tuple[str, ...] = ()
    # how a package gets the code of the SPy packages it imports; "static"
    # (the default, and the only mode so far): compiled into it, so it runs
    # without their binaries and no change of theirs can break it once built
    link: str = "static"
    # distribution (canonical name) -> the versions of it the package admits,
    # instead of spy_abi.default_range
    dependency_ranges: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def read(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> SpySettings:
        """Settings from the hook's table, overridden by HATCH_SPY_* variables."""
        known = {"targets", "opt-level", "search-paths", "link", "dependency-ranges"}
        unknown = sorted(
            k
            for k in config
            if k not in known
            and k not in ("dependencies", "require-runtime-dependencies", "enable-by-default")
        )
        if unknown:
            raise SettingsError(
                f"unknown option(s) in [tool.hatch.build.hooks.spy]: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        targets = _list(config.get("targets", list(TARGETS)), "targets")
        if "HATCH_SPY_TARGETS" in environ:
            targets = [t.strip() for t in environ["HATCH_SPY_TARGETS"].split(",") if t.strip()]
        bad = [t for t in targets if t not in TARGETS]
        if bad or not targets:
            raise SettingsError(
                f"targets must be a non-empty list of {' and '.join(TARGETS)}, got {targets!r}"
            )
        opt = str(environ.get("HATCH_SPY_OPT_LEVEL", config.get("opt-level", "2")))
        if opt not in OPT_LEVELS:
            raise SettingsError(f"opt-level must be one of {', '.join(OPT_LEVELS)}, got {opt!r}")
        paths = _list(config.get("search-paths", []), "search-paths")
        if "HATCH_SPY_SEARCH_PATHS" in environ:
            paths = [p for p in environ["HATCH_SPY_SEARCH_PATHS"].split(os.pathsep) if p]
        link = str(environ.get("HATCH_SPY_LINK", config.get("link", "static")))
        if link not in LINK_MODES:
            raise SettingsError(f"link must be one of {', '.join(LINK_MODES)}, got {link!r}")
        ranges = _ranges(config.get("dependency-ranges", {}))
        if "HATCH_SPY_DEPENDENCY_RANGES" in environ:
            ranges = _ranges(_parse_ranges(environ["HATCH_SPY_DEPENDENCY_RANGES"]))
        # keep the order of TARGETS, drop repeats
        return cls(tuple(t for t in TARGETS if t in targets), opt, tuple(paths), link, ranges)

    def dependency_range(self, name: str, default: str) -> str:
        return self.dependency_ranges.get(canonicalize_name(name), default)


def _parse_ranges(text: str) -> dict[str, str]:
    """HATCH_SPY_DEPENDENCY_RANGES: `name SPECIFIERS` entries separated by `;`
    ("spyvecmath >=0.1,<2; spygeo ==1.*")."""
    out: dict[str, str] = {}
    for entry in text.split(";"):
        entry = entry.strip()
        if not entry:
            continue
        name, _, spec = entry.partition(" ")
        out[name] = spec.strip()
    return out


def _ranges(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SettingsError(
            f'dependency-ranges must be a table of distribution = "specifiers", got {value!r}'
        )
    out: dict[str, str] = {}
    for name, spec in value.items():
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise SettingsError(
                f"dependency-ranges: {spec!r} for {name} is not a version range (PEP 440 "
                'specifiers, such as ">=0.1,<2")'
            ) from None
        if not spec.strip():
            raise SettingsError(f"dependency-ranges: the range for {name} is empty")
        out[canonicalize_name(name)] = spec
    return out


def _list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{name} must be a list of strings, got {value!r}")
    return list(value)
