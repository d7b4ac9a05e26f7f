"""Where a spy-abi.json comes from, for the `spy-abi` command: a wheel, the
document itself, an installed distribution, or `name==version` fetched
with pip. Every failure is an `AbiSourceError` whose message is one line
naming the target and what is wrong."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from .model import FILENAME, AbiFile, AbiFormatError, from_json

# `name==version` (a pinned requirement), as pip spells one
PINNED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s=;,]+)\s*$")


class AbiSourceError(Exception):
    """A target whose spy-abi.json cannot be read: the message says which and why."""


def read_wheel(path: Path) -> AbiFile:
    """The spy-abi.json in the `.dist-info` of the wheel at `path`."""
    try:
        with zipfile.ZipFile(path) as whl:
            names = [n for n in whl.namelist() if n.endswith(f".dist-info/{FILENAME}")]
            if not names:
                raise AbiSourceError(f"{path}: the wheel has no .dist-info/{FILENAME}")
            text = whl.read(names[0]).decode("utf-8")
    except zipfile.BadZipFile:
        raise AbiSourceError(f"{path}: not a wheel (not a zip archive)") from None
    except (OSError, UnicodeDecodeError, zipfile.LargeZipFile) as exc:
        raise AbiSourceError(f"{path}: cannot read the wheel: {exc}") from None
    return parse(text, str(path))


def parse(text: str, where: str) -> AbiFile:
    try:
        return from_json(text)
    except AbiFormatError as exc:
        raise AbiSourceError(f"{where}: {exc}") from None


def read_installed(name: str) -> AbiFile:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise AbiSourceError(
            f"{name}: no such file, and no distribution of that name is installed"
        ) from None
    text = dist.read_text(FILENAME)
    if text is None:
        raise AbiSourceError(
            f"{name} {dist.version} is installed but has no {FILENAME}: not a compiled SPy package"
        )
    return parse(text, f"{name} {dist.version} (installed)")


def download(name: str, version: str, pip_args: Sequence[str]) -> AbiFile:
    """`pip download --no-deps name==version` (with `pip_args`: an index,
    find-links) into a scratch folder, then read the wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-q",
            "-d",
            tmp,
            *pip_args,
            f"{name}=={version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise AbiSourceError(f"{name}=={version}: pip download failed: {last}")
        return read_wheel(wheels[0])


def load(target: str, pip_args: Sequence[str] = ()) -> AbiFile:
    """The ABI of `target`: a `.whl`, a `.json`, `name==version`, or the name
    of an installed distribution."""
    path = Path(target)
    if path.suffix == ".whl" or (path.is_file() and zipfile.is_zipfile(path)):
        if not path.is_file():
            raise AbiSourceError(f"{target}: no such file")
        return read_wheel(path)
    if path.suffix == ".json" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AbiSourceError(f"{target}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise AbiSourceError(f"{target}: cannot read it: {exc}") from None
        return parse(text, target)
    pinned = PINNED.match(target)
    if pinned:
        return download(pinned.group(1), pinned.group(2), pip_args)
    return read_installed(target)
