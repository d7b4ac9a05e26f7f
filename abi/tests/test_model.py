"""spy-abi.json: round trip, canonical bytes, and every kind of malformed document refused."""

from __future__ import annotations

import json

import jsonschema
import pytest

import spy_abi
from spy_abi import AbiFile, AbiFormatError, Artifact, Function, Module, Param, Toolchain

ADD = Function(
    "add", (Param("x", "i32"), Param("y", "i32")), "i32", {"native": "s_add", "wasm": "s_add"}
)
GREET = Function("greet", (Param("name", "str"),), "str", {"wasm": "s_greet"})
SAMPLE = AbiFile(
    name="pkg",
    version="1.2.0",
    runtime_abi=(0, 1),
    modules=(Module("pkg.core", "pkg/core.spy", (ADD, GREET)),),
    artifacts=(Artifact("pkg/_spy.wasm", "wasm", "ab" * 32),),
    toolchain=Toolchain("0.1.0", "0.17.1", ("-O2",)),
)


def test_round_trip_and_canonical_text() -> None:
    text = spy_abi.to_json(SAMPLE)
    assert spy_abi.from_json(text) == SAMPLE
    assert spy_abi.to_json(spy_abi.from_json(text)) == text
    assert text.endswith("\n")
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_document_follows_the_schema() -> None:
    schema = json.loads(spy_abi.schema_path().read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(spy_abi.to_json(SAMPLE)), schema)


def test_signature_hash_covers_names_types_and_return() -> None:
    base = ADD.signature_hash
    assert base.startswith("sha256:") and len(base) == 7 + 64
    assert Function("add", (Param("a", "i32"), Param("y", "i32")), "i32").signature_hash != base
    assert Function("add", (Param("x", "i64"), Param("y", "i32")), "i32").signature_hash != base
    assert Function("add", (Param("x", "i32"), Param("y", "i32")), "i64").signature_hash != base
    assert Function("plus", (Param("x", "i32"), Param("y", "i32")), "i32").signature_hash != base
    # symbols are not part of what callers depend on
    assert Function("add", ADD.params, "i32", {"native": "other"}).signature_hash == base


def test_interface_hash_ignores_order_but_not_content() -> None:
    a = Module("m", "m.spy", (ADD, GREET))
    assert Module("m", "m.spy", (GREET, ADD)).interface_hash == a.interface_hash
    assert Module("m", "m.spy", (ADD,)).interface_hash != a.interface_hash


def mutate(path: list[str | int], value: object) -> str:
    data = json.loads(spy_abi.to_json(SAMPLE))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data)


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["format_version"], 2, "format_version 2 is not supported"),
        (["format_version"], DELETE, "missing 'format_version'"),
        (["runtime_abi"], "1", "runtime_abi '1' is not MAJOR.MINOR"),
        (["name"], 5, "'name' must be str"),
        (["modules", "pkg.core", "exports", "add", "returns"], "int", "unknown type 'int'"),
        (
            ["modules", "pkg.core", "exports", "add", "signature_hash"],
            "sha256:" + "0" * 64,
            "signature_hash does not match",
        ),
        (
            ["modules", "pkg.core", "interface_hash"],
            "sha256:" + "0" * 64,
            "interface_hash does not match",
        ),
        (["artifacts", 0, "target"], "gpu", "unknown target 'gpu'"),
        (["toolchain"], DELETE, "missing 'toolchain'"),
    ],
)
def test_malformed_documents_are_refused(
    path: list[str | int], value: object, message: str
) -> None:
    with pytest.raises(AbiFormatError, match=message.replace("(", r"\(")):
        spy_abi.from_json(mutate(path, value))


def test_not_json_is_refused() -> None:
    with pytest.raises(AbiFormatError, match="not JSON"):
        spy_abi.from_json("{")


@pytest.mark.parametrize(
    ("compiled", "provided", "ok"),
    [
        ((0, 1), (0, 1), True),
        ((0, 1), (0, 4), True),
        ((0, 2), (0, 1), False),
        ((1, 0), (0, 9), False),
        ((1, 0), (2, 0), False),
    ],
)
def test_runtime_compatibility(
    compiled: tuple[int, int], provided: tuple[int, int], ok: bool
) -> None:
    assert spy_abi.runtime_compatible(compiled, provided) is ok
