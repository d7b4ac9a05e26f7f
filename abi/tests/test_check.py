"""`spy-abi check`: a release passes exactly when its version number admits
the changes (semver, with Cargo's 0.x rules); exit 0, 1 or 2; four formats."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_diff import BASE, DOT, EXTRA, package

import spy_abi
from spy_abi.check import VersionError, admitted_bump, release

REMOVED = package((DOT,))  # scale removed: needs a major release
ADDED = package(modules=(EXTRA,))  # a module added: needs a minor one


@pytest.mark.parametrize(
    ("old", "new", "bump"),
    [
        ("1.2.3", "1.2.4", "none"),
        ("1.2.3", "1.3.0", "minor"),
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.2.3", "none"),
        ("0.3.1", "0.3.2", "minor"),  # 0.y.z: the patch number adds
        ("0.3.1", "0.4.0", "major"),  # and the minor number breaks
        ("0.3.1", "1.0.0", "major"),
        ("0.0.4", "0.0.5", "major"),  # 0.0.z: every release may break
        ("1.2", "1.2.1", "none"),
        ("v2.0.0", "2.1.0rc1", "minor"),
    ],
)
def test_admitted_bump(old: str, new: str, bump: str) -> None:
    assert admitted_bump(old, new) == bump


def test_a_version_going_backwards_or_unreadable_is_an_error() -> None:
    with pytest.raises(VersionError, match=re.escape("1.0.0 is older than 1.2.0")):
        admitted_bump("1.2.0", "1.0.0")
    with pytest.raises(VersionError, match="cannot read version 'next'"):
        release("next")


def write(tmp_path: Path, name: str, abi: spy_abi.AbiFile, version: str) -> Path:
    path = tmp_path / name
    path.write_text(spy_abi.to_json(dataclasses.replace(abi, version=version)))
    return path


def spy_abi_check(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "spy_abi", "check", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("new", "old_version", "new_version", "code"),
    [
        (REMOVED, "1.2.0", "1.3.0", 1),
        (REMOVED, "1.2.0", "2.0.0", 0),
        (REMOVED, "0.3.1", "0.3.2", 1),
        (REMOVED, "0.3.1", "0.4.0", 0),
        (ADDED, "1.2.0", "1.2.1", 0),  # an addition warns: it does not fail the check
        (ADDED, "1.2.0", "1.3.0", 0),
        (BASE, "1.2.0", "1.2.1", 0),
    ],
)
def test_check_fails_exactly_when_the_version_is_too_small(
    tmp_path: Path, new: spy_abi.AbiFile, old_version: str, new_version: str, code: int
) -> None:
    old_path = write(tmp_path, "old.json", BASE, old_version)
    new_path = write(tmp_path, "new.json", new, new_version)
    proc = spy_abi_check(str(old_path), str(new_path))
    assert (proc.returncode, proc.stderr) == (code, "")


def test_the_output_formats(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", BASE, "1.2.0")
    new = write(tmp_path, "new.json", REMOVED, "1.3.0")
    text = spy_abi_check(str(old), str(new)).stdout
    assert text == (
        "major deny  function-removed: v.core.scale was removed\n"
        "spyv 1.2.0 -> 1.3.0 is a minor release, but the changes need a major one: release it "
        "as 2.0.0 or undo the changes listed\n"
    )
    doc = json.loads(spy_abi_check(str(old), str(new), "--format", "json").stdout)
    assert (doc["compatible"], doc["required_bump"], doc["admitted_bump"]) == (
        False,
        "major",
        "minor",
    )
    assert doc["changes"] == [
        {
            "rule": "function-removed",
            "bump": "major",
            "level": "deny",
            "message": "v.core.scale was removed",
        }
    ]
    markdown = spy_abi_check(str(old), str(new), "--format", "markdown").stdout
    assert "| `function-removed` | major | deny | v.core.scale was removed |" in markdown
    github = spy_abi_check(str(old), str(new), "--format", "github").stdout.splitlines()
    assert (
        github[0]
        == "::error title=spy-abi function-removed::v.core.scale was removed (needs major)"
    )
    assert github[-1].startswith("::error::spyv 1.2.0 -> 1.3.0 is a minor release")


def test_check_cannot_run_on_bad_input(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", BASE, "1.2.0")
    older = write(tmp_path, "new.json", BASE, "1.0.0")
    proc = spy_abi_check(str(old), str(older))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"spy-abi: error: {older}: 1.0.0 is older than 1.2.0\n"
    other = write(tmp_path, "other.json", dataclasses.replace(BASE, name="spyw"), "1.3.0")
    proc = spy_abi_check(str(old), str(other))
    assert proc.returncode == 2 and "is spyw, not spyv" in proc.stderr


def test_the_package_sets_rule_levels_in_its_pyproject(tmp_path: Path) -> None:
    """[tool.spy-abi.rules] in the current folder's pyproject.toml (or
    --config): a removal the maintainers accept as a warning passes."""
    old = write(tmp_path, "old.json", BASE, "1.2.0")
    new = write(tmp_path, "new.json", REMOVED, "1.3.0")
    (tmp_path / "pyproject.toml").write_text('[tool.spy-abi.rules]\nfunction-removed = "warn"\n')
    cmd = [sys.executable, "-m", "spy_abi", "check", "old.json", "new.json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert (proc.returncode, proc.stdout.splitlines()[0]) == (
        0,
        "major warn  function-removed: v.core.scale was removed",
    )
    (tmp_path / "strict.toml").write_text('[tool.spy-abi.rules]\nfunction-removed = "allow"\n')
    quiet = spy_abi_check(str(old), str(new), "--config", str(tmp_path / "strict.toml"))
    assert (quiet.returncode, quiet.stdout.splitlines()[0]) == (
        0,
        "spyv 1.2.0 -> 1.3.0 is a minor release and the changes need no bump: compatible",
    )
    (tmp_path / "bad.toml").write_text('[tool.spy-abi.rules]\nfunction-gone = "warn"\n')
    bad = spy_abi_check(str(old), str(new), "--config", str(tmp_path / "bad.toml"))
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        f"spy-abi: error: {tmp_path / 'bad.toml'}: [tool.spy-abi.rules] names no rule 'function-gone'"
    )
    (tmp_path / "level.toml").write_text('[tool.spy-abi.rules]\nfunction-removed = "ignore"\n')
    bad = spy_abi_check(str(old), str(new), "--config", str(tmp_path / "level.toml"))
    assert bad.returncode == 2 and "a level is one of deny, warn, allow" in bad.stderr
