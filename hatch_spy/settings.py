"""The hook's settings: read once from `[tool.hatch.build.hooks.spy]` and the
environment into a typed dataclass. Every option has an environment variable
`HATCH_SPY_<OPTION>` that overrides it, as scikit-build-core mirrors its
settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

    @classmethod
    def read(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> SpySettings:
        """Settings from the hook's table, overridden by HATCH_SPY_* variables."""
        known = {"targets", "opt-level", "search-paths"}
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
        # keep the order of TARGETS, drop repeats
        return cls(tuple(t for t in TARGETS if t in targets), opt, tuple(paths))


def _list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{name} must be a list of strings, got {value!r}")
    return list(value)
