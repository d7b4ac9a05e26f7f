"""spy-abi: ABI metadata of compiled SPy packages and their compatibility rules."""

from __future__ import annotations

__version__ = "0.1.0"


def runtime_requirement(abi_version: tuple[int, int]) -> str:
    """The `Requires-Dist` line that admits every runtime with a compatible ABI.

    A module compiled against runtime ABI X.Y runs on any X.Z with Z >= Y.
    """
    major, minor = abi_version
    return f"spy-runtime>={major}.{minor},<{major + 1}"
