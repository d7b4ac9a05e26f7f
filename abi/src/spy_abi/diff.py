"""`spy-abi diff`: every change between two releases' ABIs, each classified
by a rule (one per kind of change, as cargo-semver-checks has one lint per
kind) with the version bump it requires and a level (deny, warn, allow)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .model import AbiFile, Function, Module
from .types import SpyType, structs_reached

BUMPS = ("none", "minor", "major")
LEVELS = ("deny", "warn", "allow")


@dataclass(frozen=True)
class Rule:
    id: str
    bump: str  # what the change requires of the version number
    summary: str

    @property
    def level(self) -> str:
        """The default level: breaking changes deny, additions warn."""
        return "deny" if self.bump == "major" else "warn"


_RULES = [
    Rule("module-removed", "major", "a module was removed"),
    Rule("function-removed", "major", "a function was removed"),
    Rule("parameter-added", "major", "a function takes a new parameter"),
    Rule("parameter-removed", "major", "a function lost a parameter"),
    Rule("parameter-renamed", "major", "a parameter was renamed (keyword callers break)"),
    Rule("parameter-reordered", "major", "a function's parameters are in another order"),
    Rule("parameter-retyped", "major", "a parameter has another type"),
    Rule("parameter-now-written", "major", "a function now writes an array parameter"),
    Rule("return-type-changed", "major", "a function returns another type"),
    Rule("struct-removed", "major", "a struct was removed"),
    Rule("generic-specialization-removed", "major", "a generic's specialization was removed"),
    Rule("struct-field-added", "major", "a struct has a new field"),
    Rule("struct-field-removed", "major", "a struct lost a field"),
    Rule("struct-field-renamed", "major", "a struct field was renamed"),
    Rule("struct-field-reordered", "major", "a struct's fields are in another order"),
    Rule("struct-field-retyped", "major", "a struct field has another type"),
    Rule("struct-layout-changed", "major", "a struct's size or alignment changed"),
    Rule("runtime-abi-major-changed", "major", "the package needs another major runtime ABI"),
    Rule("dependency-requirement-narrowed", "major", "a dependency admits fewer versions"),
    Rule("module-added", "minor", "a module was added"),
    Rule("function-added", "minor", "a function was added"),
    Rule("struct-added", "minor", "a struct was added"),
]
RULES: Mapping[str, Rule] = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Change:
    rule: Rule
    message: str
    level: str

    def line(self) -> str:
        return f"{self.rule.bump:5s} {self.level:5s} {self.rule.id}: {self.message}"


def required_bump(changes: list[Change]) -> str:
    """The largest bump a denied change requires ("none" without any)."""
    bumps = [c.rule.bump for c in changes if c.level == "deny"]
    return max(bumps, key=BUMPS.index, default="none")


def diff(old: AbiFile, new: AbiFile, levels: Mapping[str, str] | None = None) -> list[Change]:
    """The changes from `old` to `new`; `levels` overrides rules' levels
    (a rule at "allow" is left out)."""
    levels = levels or {}
    out = []
    for rule_id, message in _changes(old, new):
        rule = RULES[rule_id]
        level = levels.get(rule_id, rule.level)
        if level != "allow":
            out.append(Change(rule, message, level))
    return out


def _split(old: Mapping[str, object], new: Mapping[str, object]) -> tuple[list[str], ...]:
    """The keys only in `old`, only in `new`, and in both; each sorted."""
    return (
        sorted(old.keys() - new.keys()),
        sorted(new.keys() - old.keys()),
        sorted(old.keys() & new.keys()),
    )


def _changes(old: AbiFile, new: AbiFile) -> Iterator[tuple[str, str]]:
    if old.runtime_abi[0] != new.runtime_abi[0]:
        yield (
            "runtime-abi-major-changed",
            f"runtime ABI {old.runtime_abi[0]}.{old.runtime_abi[1]} became "
            f"{new.runtime_abi[0]}.{new.runtime_abi[1]}",
        )
    old_mods = {m.name: m for m in old.modules}
    new_mods = {m.name: m for m in new.modules}
    removed, added, kept = _split(old_mods, new_mods)
    yield from (("module-removed", f"module {name} was removed") for name in removed)
    yield from (("module-added", f"module {name} was added") for name in added)
    for name in kept:
        yield from _module_changes(old_mods[name], new_mods[name])
    old_structs, new_structs = _structs(old), _structs(new)
    removed, added, kept = _split(old_structs, new_structs)
    for fqn in removed:
        rule = "generic-specialization-removed" if "[" in fqn else "struct-removed"
        yield rule, f"struct {fqn} was removed"
    yield from (("struct-added", f"struct {fqn} was added") for fqn in added)
    for fqn in kept:
        yield from _struct_changes(old_structs[fqn], new_structs[fqn])
    yield from _dependency_changes(old, new)


def _module_changes(old: Module, new: Module) -> Iterator[tuple[str, str]]:
    old_fns = {f.name: f for f in old.functions}
    new_fns = {f.name: f for f in new.functions}
    removed, added, kept = _split(old_fns, new_fns)
    yield from (("function-removed", f"{old.name}.{name} was removed") for name in removed)
    yield from (("function-added", f"{new.name}.{name} was added") for name in added)
    for name in kept:
        yield from _function_changes(f"{old.name}.{name}", old_fns[name], new_fns[name])


def _function_changes(where: str, old: Function, new: Function) -> Iterator[tuple[str, str]]:
    old_names = [p.name for p in old.params]
    new_names = [p.name for p in new.params]
    old_types = {p.name: p for p in old.params}
    new_types = {p.name: p for p in new.params}
    yield from _name_changes(where, "parameter", "parameter", old_names, new_names)
    for name in old_names:
        before, after = old_types[name], new_types.get(name)
        if after is None:
            continue
        if before.type.fqn != after.type.fqn:
            yield (
                "parameter-retyped",
                f"{where}: parameter {name} was {before.type.fqn}, is {after.type.fqn}",
            )
        if after.mutates and not before.mutates:
            yield "parameter-now-written", f"{where}: now writes the items of {name}"
    if old.returns.fqn != new.returns.fqn:
        yield (
            "return-type-changed",
            f"{where} returned {old.returns.fqn}, returns {new.returns.fqn}",
        )


def _name_changes(
    where: str, rule: str, noun: str, old: list[str], new: list[str]
) -> Iterator[tuple[str, str]]:
    """How a list of names (parameters, fields) changed: reordered, renamed
    in place, or names added and removed (rules `<rule>-reordered`, ...)."""
    if old == new:
        return
    if sorted(old) == sorted(new):
        yield f"{rule}-reordered", f"{where}: {noun}s ({', '.join(old)}) are now ({', '.join(new)})"
    elif (renames := _renames(old, new)) is not None:
        for a, b in renames:
            yield f"{rule}-renamed", f"{where}: {noun} {a} is now {b}"
    else:
        yield from ((f"{rule}-added", f"{where}: new {noun} {n}") for n in new if n not in old)
        yield from (
            (f"{rule}-removed", f"{where}: {noun} {n} was removed") for n in old if n not in new
        )


def _renames(old: list[str], new: list[str]) -> list[tuple[str, str]] | None:
    """The (old, new) name pairs when `new` is `old` with some names replaced
    in place by names it did not have; None when names were added or removed."""
    if len(old) != len(new):
        return None
    pairs = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    if any(a in new or b in old for a, b in pairs):
        return None
    return pairs


def _structs(abi: AbiFile) -> dict[str, SpyType]:
    """Every struct the ABI describes: the modules' own and those signatures reach."""
    types: list[SpyType] = [t for m in abi.modules for t in m.structs]
    types += structs_reached(
        t
        for m in abi.modules
        for f in m.functions
        for t in (*(p.type for p in f.params), f.returns)
    )
    return {t.fqn: t for t in types}


def _struct_changes(old: SpyType, new: SpyType) -> Iterator[tuple[str, str]]:
    where = f"struct {old.fqn}"
    old_names = [f.name for f in old.fields]
    new_names = [f.name for f in new.fields]
    yield from _name_changes(where, "struct-field", "field", old_names, new_names)
    new_by_name = {f.name: f for f in new.fields}
    for fld in old.fields:
        other = new_by_name.get(fld.name)
        if other is not None and other.type.fqn != fld.type.fqn:
            yield (
                "struct-field-retyped",
                f"{where}: field {fld.name} was {fld.type.fqn}, is {other.type.fqn}",
            )
    for target, layout in old.layouts:
        now = new.layout(target)
        if (now.size, now.align) != (layout.size, layout.align):
            yield (
                "struct-layout-changed",
                f"{where} on {target}: {layout.size} bytes (align {layout.align}) became "
                f"{now.size} bytes (align {now.align})",
            )


_BOUND = re.compile(r"^\s*(>=|<)\s*([0-9][0-9.]*)\s*$")


def _bounds(requirement: str) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    """The lower (>=) and upper (<) bounds of a `>=A,<B` range, as numbers."""
    low = high = None
    for part in requirement.split(","):
        m = _BOUND.match(part)
        if m:
            version = tuple(int(x) for x in m.group(2).strip(".").split("."))
            if m.group(1) == ">=":
                low = version
            else:
                high = version
    return low, high


def _dependency_changes(old: AbiFile, new: AbiFile) -> Iterator[tuple[str, str]]:
    new_deps = {d.name: d for d in new.dependencies}
    for d in old.dependencies:
        n = new_deps.get(d.name)
        if n is None or n.requirement == d.requirement:
            continue
        (old_low, old_high), (new_low, new_high) = _bounds(d.requirement), _bounds(n.requirement)
        raised = new_low is not None and (old_low is None or new_low > old_low)
        lowered = new_high is not None and (old_high is None or new_high < old_high)
        if raised or lowered:
            yield (
                "dependency-requirement-narrowed",
                f"{d.name}{d.requirement} became {d.name}{n.requirement}",
            )
