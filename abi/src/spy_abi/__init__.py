"""spy-abi: ABI metadata of compiled SPy packages and their compatibility rules."""

from __future__ import annotations

from pathlib import Path

from .model import (
    EXTENSION_MODULE,
    FILENAME,
    FORMAT_VERSION,
    READABLE_VERSIONS,
    AbiFile,
    AbiFormatError,
    AbiVersionError,
    Artifact,
    Dependency,
    Function,
    Module,
    Param,
    Toolchain,
    from_json,
    struct_hash,
    to_json,
)

__version__ = "0.7.0"

__all__ = [
    "EXTENSION_MODULE",
    "FILENAME",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "AbiFile",
    "AbiFormatError",
    "AbiVersionError",
    "Artifact",
    "Dependency",
    "Function",
    "Module",
    "Param",
    "Toolchain",
    "default_range",
    "from_json",
    "runtime_compatible",
    "runtime_requirement",
    "schema_path",
    "struct_hash",
    "to_json",
]


def runtime_requirement(abi_version: tuple[int, int]) -> str:
    """The `Requires-Dist` line that admits every runtime with a compatible ABI.

    A module compiled against runtime ABI X.Y runs on any X.Z with Z >= Y.
    """
    major, minor = abi_version
    return f"spy-runtime>={major}.{minor},<{major + 1}"


def default_range(version: str) -> str:
    """The versions of a dependency that admit what a package built against
    `version` uses: from it up to its next breaking release, with semver's
    0.x rule (0.3.1 -> ">=0.3.1,<0.4"; 2.1.0 -> ">=2.1.0,<3")."""
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]] + [0, 0]
    major, minor = parts[0], parts[1]
    upper = f"{major + 1}" if major > 0 else f"0.{minor + 1}"
    return f">={version},<{upper}"


def runtime_compatible(compiled: tuple[int, int], provided: tuple[int, int]) -> bool:
    """Whether code compiled against ABI `compiled` runs on a runtime providing `provided`."""
    return compiled[0] == provided[0] and compiled[1] <= provided[1]


def schema_path(version: int = FORMAT_VERSION) -> Path:
    """The JSON Schema of spy-abi.json format `version`."""
    return Path(__file__).parent / "schema" / f"spy-abi-{version}.schema.json"
