"""`spy-abi check`: does NEW's version number admit the changes from OLD?

The bump a version change admits follows semver, with the `0.x` rules that
Cargo uses: from 1.0 on, a major release may break, a minor one may add;
in `0.y.z` the minor number is the breaking one and the patch number the
adding one; in `0.0.z` every release may break."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .diff import BUMPS, Change, required_bump

_RELEASE = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class VersionError(ValueError):
    """A version number this check cannot read, or one going backwards."""


def release(version: str) -> tuple[int, int, int]:
    m = _RELEASE.match(version)
    if m is None:
        raise VersionError(f"cannot read version {version!r}")
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


def admitted_bump(old: str, new: str) -> str:
    """The largest kind of change the release from `old` to `new` admits."""
    a, b = release(old), release(new)
    if b < a:
        raise VersionError(f"{new} is older than {old}")
    if a == b:
        return "none"
    if a[0] == 0 and b[0] == 0:
        if a[1] == 0 and b[1] == 0:
            return "major"  # 0.0.z: every release may break
        return "major" if b[1] != a[1] else "minor"
    if b[0] != a[0]:
        return "major"
    return "minor" if b[1] != a[1] else "none"


@dataclass(frozen=True)
class Verdict:
    name: str
    old: str
    new: str
    changes: list[Change]
    required: str
    admitted: str

    @property
    def ok(self) -> bool:
        return BUMPS.index(self.required) <= BUMPS.index(self.admitted)

    @property
    def violations(self) -> list[Change]:
        """The denied changes whose bump the new version does not admit."""
        limit = BUMPS.index(self.admitted)
        return [c for c in self.changes if c.level == "deny" and BUMPS.index(c.rule.bump) > limit]


def verdict(name: str, old: str, new: str, changes: list[Change]) -> Verdict:
    return Verdict(name, old, new, changes, required_bump(changes), admitted_bump(old, new))


def summary(v: Verdict) -> str:
    if v.ok:
        need = "no bump" if v.required == "none" else f"a {v.required} one"
        return f"{v.name} {v.old} -> {v.new} is a {v.admitted} release and the changes need {need}: compatible"
    return (
        f"{v.name} {v.old} -> {v.new} is a {v.admitted} release, but the changes need a "
        f"{v.required} one: release it as {suggested(v)} or undo the changes listed"
    )


def suggested(v: Verdict) -> str:
    major, minor, patch = release(v.old)
    if v.required == "major":
        return (
            f"{major + 1}.0.0" if major else (f"0.{minor + 1}.0" if minor else f"0.0.{patch + 1}")
        )
    return f"{major}.{minor + 1}.0" if major else f"0.{minor}.{patch + 1}"


def render(v: Verdict, fmt: str) -> str:
    """The verdict as `text`, `json`, `markdown` or `github` (workflow commands)."""
    if fmt == "json":
        doc = {
            "name": v.name,
            "old": v.old,
            "new": v.new,
            "required_bump": v.required,
            "admitted_bump": v.admitted,
            "compatible": v.ok,
            "changes": [
                {"rule": c.rule.id, "bump": c.rule.bump, "level": c.level, "message": c.message}
                for c in v.changes
            ],
        }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "markdown":
        lines = [
            f"### spy-abi check: {v.name} {v.old} → {v.new}",
            "",
            summary(v),
            "",
        ]
        if v.changes:
            lines += ["| rule | bump | level | change |", "|---|---|---|---|"]
            lines += [
                f"| `{c.rule.id}` | {c.rule.bump} | {c.level} | {c.message} |" for c in v.changes
            ]
        return "\n".join(lines) + "\n"
    if fmt == "github":
        violations = v.violations
        lines = [
            f"::{'error' if c in violations else 'warning'} title=spy-abi {c.rule.id}::"
            f"{c.message} (needs {c.rule.bump})"
            for c in v.changes  # an `allow` rule's changes are not in the list
        ]
        lines.append(("::notice::" if v.ok else "::error::") + summary(v))
        return "\n".join(lines) + "\n"
    return "".join(c.line() + "\n" for c in v.changes) + summary(v) + "\n"
