"""The build hook's settings (`[tool.hatch.build.hooks.spy]`, each mirrored
by a HATCH_SPY_* variable), read once into SpySettings: values, overrides
and the errors a user can act on. No zig."""

from __future__ import annotations

from typing import Any

import pytest

from hatch_spy.settings import SettingsError, SpySettings


def test_defaults() -> None:
    s = SpySettings.read({}, {})
    assert (s.targets, s.opt_level, s.search_paths, s.link, dict(s.dependency_ranges)) == (
        ("native", "wasm"),
        "2",
        (),
        "static",
        {},
    )


def test_the_table_and_the_environment() -> None:
    config = {
        "targets": ["wasm"],
        "opt-level": "3",
        "search-paths": ["shared"],
        "link": "static",
        "dependency-ranges": {"SpyVecmath": ">=0.1,<2"},
    }
    s = SpySettings.read(config, {})
    assert (s.targets, s.opt_level, s.search_paths) == (("wasm",), "3", ("shared",))
    assert s.dependency_range("spyvecmath", ">=0.1.0,<0.2") == ">=0.1,<2"
    assert s.dependency_range("spy_vecmath", "x") == "x"  # another name
    env = {
        "HATCH_SPY_TARGETS": "native",
        "HATCH_SPY_OPT_LEVEL": "s",
        "HATCH_SPY_DEPENDENCY_RANGES": "spygeo ==1.*; spyvecmath >=0.1",
    }
    s = SpySettings.read(config, env)
    assert (s.targets, s.opt_level) == (("native",), "s")
    assert dict(s.dependency_ranges) == {"spygeo": "==1.*", "spyvecmath": ">=0.1"}


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ({"colour": "red"}, {}, "unknown option(s) in [tool.hatch.build.hooks.spy]: colour"),
        ({"targets": ["arm"]}, {}, "targets must be a non-empty list of native and wasm"),
        ({"opt-level": "9"}, {}, "opt-level must be one of"),
        ({"link": "sideways"}, {}, "link must be one of static, dynamic, got 'sideways'"),
        ({"dependency-ranges": ["x"]}, {}, "dependency-ranges must be a table"),
        ({"dependency-ranges": {"a": "about 1"}}, {}, "'about 1' for a is not a version range"),
        ({}, {"HATCH_SPY_DEPENDENCY_RANGES": "a ~~1"}, "'~~1' for a is not a version range"),
    ],
)
def test_bad_settings_are_clear_errors(
    config: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as info:
        SpySettings.read(config, env)
    assert message in str(info.value)
