"""A package's own levels for the rules of `spy-abi diff` and `check`, from
the `[tool.spy-abi.rules]` table of its pyproject.toml:

    [tool.spy-abi.rules]
    function-added = "allow"     # not even reported
    parameter-renamed = "warn"   # reported, but no bump required
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .diff import LEVELS, RULES
from .sources import AbiSourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read_levels(pyproject: Path) -> dict[str, str]:
    """The rule levels `pyproject` sets ({} without the table)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AbiSourceError(f"{pyproject}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AbiSourceError(f"{pyproject}: not valid TOML: {exc}") from None
    table: Any = data.get("tool", {}).get("spy-abi", {}).get("rules", {})
    if not isinstance(table, dict):
        raise AbiSourceError(f"{pyproject}: [tool.spy-abi.rules] must be a table of rule = level")
    for rule, level in table.items():
        if rule not in RULES:
            raise AbiSourceError(
                f"{pyproject}: [tool.spy-abi.rules] names no rule {rule!r} "
                f"(the rules: {', '.join(sorted(RULES))})"
            )
        if level not in LEVELS:
            raise AbiSourceError(
                f"{pyproject}: [tool.spy-abi.rules] {rule} = {level!r}: a level is one of "
                f"{', '.join(LEVELS)}"
            )
    return {str(k): str(v) for k, v in table.items()}
