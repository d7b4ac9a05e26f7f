"""spy-linker: locate SPy modules across installed distributions."""

from __future__ import annotations

__version__ = "0.1.0"
