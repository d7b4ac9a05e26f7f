"""spy-abi.json: round trip, canonical bytes, and every kind of malformed document refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import jsonschema
import pytest

import spy_abi
from spy_abi import AbiFile, AbiFormatError, Artifact, Function, Module, Param, Toolchain
from spy_abi.types import (
    BYTES,
    F64,
    I32,
    I64,
    STR,
    StructField,
    array_type,
    dict_type,
    list_type,
    struct_type,
    tuple_type,
)

ADD = Function("add", (Param("x", I32), Param("y", I32)), I32, {"native": "s_add", "wasm": "s_add"})
GREET = Function("greet", (Param("name", STR),), STR, {"wasm": "s_greet"})
POINT = struct_type("Point", "pkg.geom::Point", "", (StructField("x", F64), StructField("y", F64)))
LABELED = struct_type(
    "Pair[Point]",
    "pkg.geom::Pair[Point]",
    "",
    (StructField("a", POINT), StructField("b", POINT), StructField("label", STR)),
)
MID = Function("mid", (Param("p", LABELED),), POINT, {"native": "s_mid", "wasm": "s_mid$$export"})
SAMPLE = AbiFile(
    name="pkg",
    version="1.2.0",
    runtime_abi=(0, 1),
    modules=(
        Module("pkg.core", "pkg/core.spy", (ADD, GREET)),
        Module("pkg.geom", "pkg/geom.spy", (MID,), (POINT, LABELED)),
    ),
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
    assert Function("add", (Param("a", I32), Param("y", I32)), I32).signature_hash != base
    assert Function("add", (Param("x", I64), Param("y", I32)), I32).signature_hash != base
    assert Function("add", (Param("x", I32), Param("y", I32)), I64).signature_hash != base
    assert Function("plus", (Param("x", I32), Param("y", I32)), I32).signature_hash != base
    # symbols are not part of what callers depend on
    assert Function("add", ADD.params, I32, {"native": "other"}).signature_hash == base


def test_a_scalar_signature_hashes_as_in_format_1() -> None:
    """Hashes recorded by format-1 wheels stay valid: the v1 formula, by hand."""
    body = {"name": "add", "params": [["x", "i32"], ["y", "i32"]], "returns": "i32"}
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert ADD.signature_hash == "sha256:" + hashlib.sha256(data).hexdigest()


def test_signature_hash_covers_the_layout_of_every_struct_reached() -> None:
    """A field's type, name or order changes what a caller must pass, even
    when the struct in the signature keeps its name."""
    base = MID.signature_hash

    def with_point(*fields: StructField) -> str:
        point = struct_type("Point", "pkg.geom::Point", "", fields)
        pair = struct_type(
            "Pair[Point]",
            "pkg.geom::Pair[Point]",
            "",
            (StructField("a", point), StructField("b", point), StructField("label", STR)),
        )
        return Function("mid", (Param("p", pair),), point).signature_hash

    assert with_point(StructField("x", F64), StructField("y", F64)) == base
    assert with_point(StructField("x", I64), StructField("y", F64)) != base
    assert with_point(StructField("y", F64), StructField("x", F64)) != base
    assert with_point(StructField("x", F64), StructField("z", F64)) != base
    assert with_point(StructField("x", F64)) != base


def test_interface_hash_ignores_order_but_not_content() -> None:
    a = Module("m", "m.spy", (ADD, GREET))
    assert Module("m", "m.spy", (GREET, ADD)).interface_hash == a.interface_hash
    assert Module("m", "m.spy", (ADD,)).interface_hash != a.interface_hash


def test_format_1_documents_still_read() -> None:
    v1 = AbiFile("pkg", "1.0", (0, 1), (SAMPLE.modules[0],), (), SAMPLE.toolchain, 1)
    text = spy_abi.to_json(v1)
    assert json.loads(text)["format_version"] == 1
    jsonschema.validate(json.loads(text), json.loads(spy_abi.schema_path(1).read_text()))
    assert spy_abi.from_json(text) == v1


def test_struct_types_read_back_with_their_layout() -> None:
    abi = spy_abi.from_json(spy_abi.to_json(SAMPLE))
    (mid,) = abi.modules[1].functions
    pair = mid.params[0].type
    assert pair.name == "Pair[Point]" and [f.name for f in pair.fields] == ["a", "b", "label"]
    assert pair.field_offsets("native") == [0, 16, 32] and pair.field_offsets("wasm") == [0, 16, 32]
    assert pair.layout("native").size == 40 and pair.layout("wasm").size == 40
    assert mid.returns is pair.fields[0].type  # one object per struct in a document
    assert abi.struct_home("pkg.geom::Point") is abi.modules[1]


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
        (["format_version"], 6, "format_version 6 is not supported"),
        (["format_version"], 1, "format 1 has no structs"),
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
        (
            ["modules", "pkg.geom", "exports", "mid", "returns"],
            "pkg.geom::Line",
            "unknown type 'pkg.geom::Line'",
        ),
        (
            ["modules", "pkg.geom", "structs", "pkg.geom::Point", "layout", "wasm", "size"],
            24,
            "recorded layout differs",
        ),
        (
            ["modules", "pkg.geom", "structs", "pkg.geom::Point", "fields", 1, "offset", "native"],
            4,
            "recorded layout differs",
        ),
        (
            ["modules", "pkg.geom", "structs", "pkg.geom::Point", "fields", 0, "type"],
            "pkg.geom::Pair[Point]",
            "contains itself",
        ),
        (["modules", "pkg.geom", "structs", "pkg.geom::Point", "fqn"], "x::P", "must be its key"),
        (["modules", "pkg.geom", "structs", "pkg.geom::Point", "fields"], DELETE, "missing"),
        (["toolchain"], DELETE, "missing 'toolchain'"),
    ],
)
def test_malformed_documents_are_refused(
    path: list[str | int], value: object, message: str
) -> None:
    with pytest.raises(AbiFormatError, match=message.replace("(", r"\(")):
        spy_abi.from_json(mutate(path, value))


def test_a_newer_format_is_its_own_error() -> None:
    with pytest.raises(spy_abi.AbiVersionError) as info:
        spy_abi.from_json(mutate(["format_version"], 6))
    assert info.value.version == 6


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


def container_sample() -> AbiFile:
    counts = Function(
        "counts",
        (Param("words", list_type(STR)), Param("pts", dict_type(STR, tuple_type((POINT, BYTES))))),
        dict_type(STR, I64),
        {"native": "s_counts"},
    )
    return AbiFile(
        name="pkg",
        version="1.0.0",
        runtime_abi=(0, 2),
        modules=(Module("pkg.text", "pkg/text.spy", (counts,), (POINT,)),),
        artifacts=(),
        toolchain=Toolchain("0.1.0", "0.17.1", ("-O2",)),
    )


def test_containers_need_format_3_and_round_trip() -> None:
    text = spy_abi.to_json(container_sample())
    data = json.loads(text)
    assert data["format_version"] == 3
    jsonschema.validate(data, json.loads(spy_abi.schema_path(3).read_text()))
    back = spy_abi.from_json(text)
    assert back.modules[0].functions == container_sample().modules[0].functions
    params = data["modules"]["pkg.text"]["exports"]["counts"]["params"]
    assert [p["type"] for p in params] == ["list[str]", "dict[str, tuple[pkg.geom::Point, bytes]]"]
    # a document without containers stays in format 2, which older readers read
    assert json.loads(spy_abi.to_json(SAMPLE))["format_version"] == 2


def test_a_container_in_format_2_is_refused() -> None:
    data = json.loads(spy_abi.to_json(container_sample()))
    data["format_version"] = 2
    with pytest.raises(AbiFormatError, match="format 2 has no type 'list\\[str\\]'"):
        spy_abi.from_json(json.dumps(data))


def test_a_struct_field_change_inside_a_container_changes_the_hash() -> None:
    moved = struct_type(
        "Point", "pkg.geom::Point", "", (StructField("y", F64), StructField("x", F64))
    )
    a = Function("f", (Param("p", list_type(POINT)),), I32)
    b = Function("f", (Param("p", list_type(moved)),), I32)
    assert a.signature_hash != b.signature_hash


def array_sample(mutates: bool = True) -> AbiFile:
    scale = Function(
        "scale",
        (Param("a", array_type(F64, 2), mutates), Param("k", F64)),
        array_type(F64, 1),
        {"native": "s_scale", "wasm": "s_scale$m"},
    )
    return AbiFile(
        name="pkg",
        version="1.0.0",
        runtime_abi=(0, 4),
        modules=(Module("pkg.arr", "pkg/arr.spy", (scale,)),),
        artifacts=(),
        toolchain=Toolchain("0.1.0", "0.17.1", ("-O2",)),
    )


def test_arrays_need_format_4_and_round_trip() -> None:
    text = spy_abi.to_json(array_sample())
    data = json.loads(text)
    assert data["format_version"] == 4
    jsonschema.validate(data, json.loads(spy_abi.schema_path(4).read_text()))
    params = data["modules"]["pkg.arr"]["exports"]["scale"]["params"]
    assert params == [
        {"name": "a", "type": "array[f64, 2]", "mutates": True},
        {"name": "k", "type": "f64"},
    ]
    assert spy_abi.from_json(text).modules == array_sample().modules


def test_mutates_is_part_of_the_signature() -> None:
    writes, reads = array_sample(True), array_sample(False)
    hash_of = [a.modules[0].functions[0].signature_hash for a in (writes, reads)]
    assert hash_of[0] != hash_of[1]
    # without `mutates`, the hash is the one every reader of format 3 computed
    plain = Function("f", (Param("a", list_type(F64)),), I32)
    assert (
        plain.signature_hash
        == Function("f", (Param("a", list_type(F64), False),), I32).signature_hash
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format_version=3), "format 3 has no arrays"),
        (
            lambda d: d["modules"]["pkg.arr"]["exports"]["scale"]["params"][1].update(mutates=True),
            "only an array parameter 'mutates'",
        ),
        (
            lambda d: d["modules"]["pkg.arr"]["exports"]["scale"]["params"][0].update(mutates=1),
            "'mutates' must be true",
        ),
        (
            lambda d: d["modules"]["pkg.arr"]["exports"]["scale"]["params"][0].update(
                type="array[f64, 5]"
            ),
            "1 to 3 dimensions",
        ),
    ],
)
def test_malformed_array_documents_are_refused(edit: Any, message: str) -> None:
    data = json.loads(spy_abi.to_json(array_sample()))
    edit(data)
    with pytest.raises(AbiFormatError, match=message):
        spy_abi.from_json(json.dumps(data))


def test_dependencies_need_format_5_and_round_trip() -> None:
    dep = spy_abi.Dependency(
        "spyvecmath",
        "0.1.0",
        ">=0.1.0,<0.2",
        "static",
        {"vecmath.vec.norm": ADD.signature_hash, "vecmath.vec::P": spy_abi.struct_hash(POINT)},
    )
    abi = dataclasses.replace(SAMPLE, dependencies=(dep,))
    data = json.loads(spy_abi.to_json(abi))
    assert data["format_version"] == 5
    jsonschema.validate(data, json.loads(spy_abi.schema_path(5).read_text()))
    assert spy_abi.from_json(spy_abi.to_json(abi)).dependencies == (dep,)
    data["format_version"] = 4
    with pytest.raises(AbiFormatError, match="format 4 has no dependencies"):
        spy_abi.from_json(json.dumps(data))
    data["format_version"] = 5
    data["dependencies"]["spyvecmath"]["link"] = "sideways"
    with pytest.raises(AbiFormatError, match="unknown link mode 'sideways'"):
        spy_abi.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1.0", ">=0.1.0,<0.2"),
        ("0.3.7", ">=0.3.7,<0.4"),
        ("1.0.0", ">=1.0.0,<2"),
        ("2.5", ">=2.5,<3"),
        ("0.0.4", ">=0.0.4,<0.1"),
    ],
)
def test_default_range_admits_up_to_the_next_breaking_release(version: str, expected: str) -> None:
    assert spy_abi.default_range(version) == expected


def test_a_struct_hash_covers_its_layout() -> None:
    moved = struct_type(
        "Point", "pkg.geom::Point", "", (StructField("y", F64), StructField("x", F64))
    )
    assert spy_abi.struct_hash(POINT) != spy_abi.struct_hash(moved)
    assert spy_abi.struct_hash(POINT) == spy_abi.struct_hash(POINT)
