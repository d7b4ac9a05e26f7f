"""`spy-abi show`: a package's ABI from a wheel, a spy-abi.json, an installed
distribution or `name==version` fetched with pip; bad input is one line on
stderr and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import spy_abi
from spy_abi import AbiFile, Artifact, Dependency, Function, Module, Param, Toolchain
from spy_abi.types import F64, I32, STR, StructField, struct_type

VEC = struct_type("Vec3", "vec.core::Vec3", "", tuple(StructField(n, F64) for n in "xyz"))
SAMPLE = AbiFile(
    name="spyvec",
    version="1.4.0",
    runtime_abi=(0, 5),
    modules=(
        Module(
            "vec.core",
            "vec/core.spy",
            (
                Function("dot", (Param("a", VEC), Param("b", VEC)), F64),
                Function("label", (Param("n", I32),), STR),
            ),
            (VEC,),
        ),
    ),
    artifacts=(Artifact("vec/_spy.wasm", "wasm", "ab" * 32),),
    toolchain=Toolchain("0.9.0", "0.17.1", ("-O2",)),
    dependencies=(
        Dependency(
            "spybase", "2.0.1", ">=2.0.1,<3", "dynamic", {"base.util.clamp": "sha256:" + "cd" * 32}
        ),
    ),
)


def spy_abi_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spy_abi", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def make_wheel(folder: Path, abi: AbiFile = SAMPLE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{abi.name}-{abi.version}-py3-none-any.whl"
    info = f"{abi.name}-{abi.version}.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {abi.name}\nVersion: {abi.version}\n"
        )
        whl.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        whl.writestr(f"{info}/RECORD", "")
        whl.writestr(f"{info}/{spy_abi.FILENAME}", spy_abi.to_json(abi))
    return path


EXPECTED = f"""\
spyvec 1.4.0
  spy-abi.json format 5, SPy runtime ABI 0.5
  built by hatch-spy 0.9.0 with zig 0.17.1 (-O2)
  module vec.core (vec/core.spy)  interface {SAMPLE.modules[0].interface_hash[:19]}
    def dot(a: vec.core::Vec3, b: vec.core::Vec3) -> f64  {SAMPLE.modules[0].functions[0].signature_hash[:19]}
    def label(n: i32) -> str  {SAMPLE.modules[0].functions[1].signature_hash[:19]}
    struct vec.core::Vec3: native 24 bytes (align 8), wasm 24 bytes (align 8)  {spy_abi.struct_hash(VEC)[:19]}
        x: f64  (native +0, wasm +0)
        y: f64  (native +8, wasm +8)
        z: f64  (native +16, wasm +16)
  artifacts
    wasm   vec/_spy.wasm  sha256:abababababab
  dependencies
    spybase 2.0.1 (dynamic), admits >=2.0.1,<3
      uses base.util.clamp  sha256:cdcdcdcdcdcd
"""


def test_show_reads_a_spy_abi_json_and_a_wheel(tmp_path: Path) -> None:
    doc = tmp_path / "spy-abi.json"
    doc.write_text(spy_abi.to_json(spy_abi.from_json(spy_abi.to_json(SAMPLE))))
    assert json.loads(doc.read_text())["format_version"] == 5
    for target in (doc, make_wheel(tmp_path / "wheels")):
        proc = spy_abi_cli("show", str(target))
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, EXPECTED, "")


def test_show_reads_an_installed_distribution(tmp_path: Path) -> None:
    with zipfile.ZipFile(make_wheel(tmp_path / "wheels")) as whl:
        whl.extractall(tmp_path / "site")
    proc = spy_abi_cli("show", "spyvec", env={"PYTHONPATH": str(tmp_path / "site")})
    assert (proc.returncode, proc.stdout) == (0, EXPECTED)


def test_show_downloads_name_version_with_pip(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels)
    proc = spy_abi_cli("show", "spyvec==1.4.0", "--no-index", "--find-links", str(wheels))
    assert (proc.returncode, proc.stdout) == (0, EXPECTED)
    missing = spy_abi_cli("show", "spyvec==9.9", "--no-index", "--find-links", str(wheels))
    assert missing.returncode == 2
    assert missing.stderr.startswith("spy-abi: error: spyvec==9.9: pip download failed: ")
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.whl", b"PK\x03\x04 not really", "not a wheel (not a zip archive)"),
        ("notes.whl", None, "no such file"),
        ("empty.whl", "zip", "the wheel has no .dist-info/spy-abi.json"),
        (
            "newer.json",
            json.dumps({"format_version": 99}).encode(),
            "format_version 99 is not supported",
        ),
        ("bad.json", b"{", "not JSON"),
        ("gone.json", None, "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "zip":
        with zipfile.ZipFile(path, "w") as whl:
            whl.writestr("pkg/__init__.py", "")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    proc = spy_abi_cli("show", str(path))
    assert (proc.returncode, proc.stdout) == (2, "")
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"spy-abi: error: {path}: ") and message in line, line


def test_an_unknown_name_is_one_line_and_exit_2() -> None:
    proc = spy_abi_cli("show", "no-such-spy-package")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "spy-abi: error: no-such-spy-package: no such file, and no distribution of that name "
        "is installed\n"
    )
    plain = spy_abi_cli("show", "pip")
    assert plain.returncode == 2
    assert "is installed but has no spy-abi.json: not a compiled SPy package" in plain.stderr
