"""`spy-abi env`: the installed SPy packages checked against each other at
the ABI level, as `pip check` checks requirements: each package's runtime
ABI is served by the installed spy-runtime, and each dependency it links
dynamically is installed and still exports every symbol it recorded using,
with the same hash. (A static link compiled the dependency in: nothing
installed can break it.)"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from . import runtime_compatible, runtime_requirement
from .check import VersionError, release
from .compat import mismatch_message, mismatches
from .model import FILENAME, AbiFile, AbiFormatError, from_json

RUNTIME = "spy-runtime"


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    abi: AbiFile | None  # None: its spy-abi.json is unreadable
    problem: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def installed(paths: Iterable[str] | None = None) -> tuple[list[Installed], str | None]:
    """The SPy packages installed in `paths` (default sys.path), the first of
    each name winning, and the installed spy-runtime's version."""
    found: dict[str, Installed] = {}
    runtime = None
    search = sys.path if paths is None else list(paths)
    for dist in importlib.metadata.distributions(path=search):
        name = dist.metadata["Name"] or "?"
        key = name.lower().replace("_", "-")
        if key == RUNTIME and runtime is None:
            runtime = dist.version
        text = dist.read_text(FILENAME)
        if text is None or key in found:
            continue
        try:
            found[key] = Installed(name, dist.version, from_json(text))
        except AbiFormatError as exc:
            found[key] = Installed(name, dist.version, None, f"its {FILENAME} is unusable: {exc}")
    return list(found.values()), runtime


def problems(packages: list[Installed], runtime: str | None) -> list[str]:
    """One line per broken pair, naming both sides and what to do."""
    by_name = {p.name.lower().replace("_", "-"): p for p in packages}
    out = []
    for p in sorted(packages, key=lambda p: p.name.lower()):
        if p.abi is None:
            out.append(f"{p.label}: {p.problem}; reinstall {p.name}")
            continue
        out += _runtime_problem(p, p.abi, runtime)
        for dep in p.abi.dependencies:
            if dep.link != "dynamic":
                continue
            other = by_name.get(dep.name.lower().replace("_", "-"))
            if other is None:
                out.append(
                    f"{p.label} links {dep.name} dynamically, which is not installed: "
                    f"pip install '{dep.name}{dep.requirement}'"
                )
            elif other.abi is not None:
                out += [
                    mismatch_message(p.label, dep, symbol, other.version, missing)
                    for symbol, missing in mismatches(dep, other.abi)
                ]
    return out


def _runtime_problem(p: Installed, abi: AbiFile, runtime: str | None) -> list[str]:
    major, minor = abi.runtime_abi
    wanted = f"'{runtime_requirement(abi.runtime_abi)}'"
    if runtime is None:
        return [
            f"{p.label} needs {RUNTIME} (runtime ABI {major}.{minor}), which is not installed: "
            f"pip install {wanted}"
        ]
    try:
        provided = release(runtime)[:2]
    except VersionError:
        return [f"{p.label}: cannot read the installed {RUNTIME}'s version {runtime!r}"]
    if runtime_compatible(abi.runtime_abi, (provided[0], provided[1])):
        return []
    return [
        f"{p.label} was built for SPy runtime ABI {major}.{minor}, which the installed "
        f"{RUNTIME} {runtime} does not serve: pip install {wanted}, or rebuild {p.name}"
    ]
