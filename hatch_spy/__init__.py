"""hatch-spy: build, package and run SPy code."""

__version__ = "0.1.0"
