"""hatchling's entry point: `[project.entry-points.hatch] spy = "hatch_spy.hooks"`."""

from __future__ import annotations

from hatchling.plugin import hookimpl

from .build_hook import SpyBuildHook


@hookimpl
def hatch_register_build_hook() -> type[SpyBuildHook]:
    return SpyBuildHook
