"""`spy-abi env`: the installed SPy packages checked against each other, as
`pip check` checks requirements: one line per broken pair, exit 1."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from test_diff import BASE

import spy_abi
from spy_abi import AbiFile, Dependency


def install(site: Path, name: str, version: str, abi: AbiFile | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if abi is not None:
        (info / spy_abi.FILENAME).write_text(spy_abi.to_json(abi))


def user(name: str, *deps: Dependency, runtime_abi: tuple[int, int] = (0, 5)) -> AbiFile:
    return dataclasses.replace(
        BASE, name=name, version="2.0.0", modules=(), runtime_abi=runtime_abi, dependencies=deps
    )


def spy_abi_env(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spy_abi", "env"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        check=False,
    )


def test_env_finds_each_broken_pair(tmp_path: Path) -> None:
    site = tmp_path / "site"
    vec = dataclasses.replace(BASE, name="spyv", version="1.3.0", dependencies=())
    exported = vec.exported_hashes()
    install(site, "spy-runtime", "0.5.2")
    install(site, "spyv", "1.3.0", vec)
    dot = {"v.core.dot": exported["v.core.dot"], "v.core::Vec3": exported["v.core::Vec3"]}
    install(
        site,
        "spygood",
        "2.0.0",
        user("spygood", Dependency("spyv", "1.2.0", ">=1.2,<2", "dynamic", dot)),
    )
    stale = {"v.core.scale": "sha256:" + "0" * 64}
    install(
        site,
        "spystale",
        "2.0.0",
        user("spystale", Dependency("spyv", "1.2.0", ">=1.2,<2", "dynamic", stale)),
    )
    install(
        site,
        "spystatic",
        "2.0.0",
        user("spystatic", Dependency("spygone", "1.0", ">=1.0,<2", "static", stale)),
    )
    install(
        site,
        "spylonely",
        "2.0.0",
        user("spylonely", Dependency("spygone", "1.0", ">=1.0,<2", "dynamic")),
    )
    install(site, "spyold", "2.0.0", user("spyold", runtime_abi=(1, 0)))
    proc = spy_abi_env(site)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout.splitlines() == [
        "spylonely 2.0.0 links spygone dynamically, which is not installed: "
        "pip install 'spygone>=1.0,<2'",
        "spyold 2.0.0 was built for SPy runtime ABI 1.0, which the installed spy-runtime 0.5.2 "
        "does not serve: pip install 'spy-runtime>=1.0,<2', or rebuild spyold",
        "spystale 2.0.0 cannot use the installed spyv 1.3.0: it was built against spyv 1.2.0 and "
        "uses its v.core.scale, and 1.3.0 changed it. Rebuild spystale against spyv 1.3.0, or "
        "install 'spyv==1.2.0' (the version it was built against)",
    ]


def test_a_consistent_environment_passes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install(site, "spy-runtime", "0.7.0")
    install(
        site,
        "spyv",
        "1.3.0",
        dataclasses.replace(BASE, name="spyv", version="1.3.0", dependencies=()),
    )
    proc = spy_abi_env(site)
    assert (proc.returncode, proc.stdout) == (0, "1 SPy package: no ABI problem found\n")
