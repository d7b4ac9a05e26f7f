"""spy-linker: locate SPy modules across installed distributions."""

from __future__ import annotations

from .resolver import LinkError, Provider, Resolver, check_acyclic, describe

__version__ = "0.3.0"

__all__ = ["LinkError", "Provider", "Resolver", "__version__", "check_acyclic", "describe"]
