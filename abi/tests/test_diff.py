"""`spy-abi diff`: one rule per kind of change, each with an (old, new) pair
that must give exactly that rule, with the bump it requires."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import spy_abi
from spy_abi import AbiFile, Dependency, Function, Module, Param, Toolchain
from spy_abi.diff import RULES, diff, required_bump
from spy_abi.types import F32, F64, I32, STR, StructField, array_type, struct_type


def vec(
    fields: tuple[tuple[str, object], ...] = (("x", F64), ("y", F64), ("z", F64)),
    fqn: str = "v.core::Vec3",
) -> object:
    return struct_type(fqn.split("::")[1], fqn, "", tuple(StructField(n, t) for n, t in fields))  # type: ignore[arg-type]


VEC = vec()


def package(
    functions: tuple[Function, ...] | None = None,
    structs: tuple[object, ...] = (VEC,),
    modules: tuple[Module, ...] = (),
    runtime_abi: tuple[int, int] = (0, 5),
    requirement: str = ">=1.2,<2",
) -> AbiFile:
    if functions is None:
        functions = (
            Function("dot", (Param("a", VEC), Param("b", VEC)), F64),  # type: ignore[arg-type]
            Function("scale", (Param("k", F64), Param("n", I32)), I32),
        )
    return AbiFile(
        name="spyv",
        version="1.0.0",
        runtime_abi=runtime_abi,
        modules=(Module("v.core", "v/core.spy", functions, structs), *modules),  # type: ignore[arg-type]
        artifacts=(),
        toolchain=Toolchain("0.9.0", "0.17.1", ()),
        dependencies=(Dependency("spybase", "1.2.0", requirement, "dynamic"),),
    )


BASE = package()
DOT = BASE.modules[0].functions[0]
SCALE = BASE.modules[0].functions[1]


def with_scale(*params: Param, returns: object = I32) -> AbiFile:
    return package((DOT, Function("scale", params, returns)))  # type: ignore[arg-type]


def with_vec(*fields: tuple[str, object]) -> AbiFile:
    v = vec(fields)
    return package((Function("dot", (Param("a", v), Param("b", v)), F64), SCALE), (v,))  # type: ignore[arg-type]


EXTRA = Module("v.extra", "v/extra.spy", (Function("one", (), I32),))
BUF = array_type(F64, 1)

PAIRS: dict[str, Callable[[], tuple[AbiFile, AbiFile]]] = {
    "module-removed": lambda: (package(modules=(EXTRA,)), BASE),
    "module-added": lambda: (BASE, package(modules=(EXTRA,))),
    "function-removed": lambda: (BASE, package((DOT,))),
    "function-added": lambda: (package((DOT,)), BASE),
    "parameter-added": lambda: (
        BASE,
        with_scale(Param("k", F64), Param("n", I32), Param("m", I32)),
    ),
    "parameter-removed": lambda: (BASE, with_scale(Param("k", F64))),
    "parameter-renamed": lambda: (BASE, with_scale(Param("factor", F64), Param("n", I32))),
    "parameter-reordered": lambda: (BASE, with_scale(Param("n", I32), Param("k", F64))),
    "parameter-retyped": lambda: (BASE, with_scale(Param("k", F32), Param("n", I32))),
    "parameter-now-written": lambda: (
        with_scale(Param("k", F64), Param("n", I32), Param("xs", BUF)),
        with_scale(Param("k", F64), Param("n", I32), Param("xs", BUF, mutates=True)),
    ),
    "return-type-changed": lambda: (
        BASE,
        with_scale(Param("k", F64), Param("n", I32), returns=STR),
    ),
    "struct-added": lambda: (BASE, package(structs=(VEC, vec(fqn="v.core::Pt")))),
    "struct-removed": lambda: (package(structs=(VEC, vec(fqn="v.core::Pt"))), BASE),
    "generic-specialization-removed": lambda: (
        package(structs=(VEC, vec(fqn="v.core::Pair[i32]"))),
        BASE,
    ),
    "struct-field-renamed": lambda: (BASE, with_vec(("x", F64), ("y", F64), ("depth", F64))),
    "struct-field-reordered": lambda: (BASE, with_vec(("y", F64), ("x", F64), ("z", F64))),
    "runtime-abi-major-changed": lambda: (BASE, package(runtime_abi=(1, 0))),
    "dependency-requirement-narrowed": lambda: (BASE, package(requirement=">=1.4,<2")),
}

# what comes with the rule: a field added or removed changes the layout too
ALSO = {
    "struct-field-added": {"struct-layout-changed"},
    "struct-field-removed": {"struct-layout-changed"},
}
PAIRS |= {
    "struct-field-added": lambda: (BASE, with_vec(("x", F64), ("y", F64), ("z", F64), ("w", F64))),
    "struct-field-removed": lambda: (BASE, with_vec(("x", F64), ("y", F64))),
    # f32 in the last field: the size (24 bytes, aligned to 8) stays
    "struct-field-retyped": lambda: (BASE, with_vec(("x", F64), ("y", F64), ("z", F32))),
}


def test_every_rule_has_a_test_pair() -> None:
    assert set(PAIRS) | {"struct-layout-changed"} == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(PAIRS))
def test_each_kind_of_change_is_its_rule(rule_id: str) -> None:
    old, new = PAIRS[rule_id]()
    changes = diff(old, new)
    assert {c.rule.id for c in changes} == {rule_id} | ALSO.get(rule_id, set())
    bump = RULES[rule_id].bump
    assert required_bump(changes) == ("none" if bump == "minor" else bump)
    # and nothing the other way round that is not a change
    assert diff(old, old) == [] and diff(new, new) == []


def test_a_retyped_field_that_changes_the_size() -> None:
    """i32 to f64: the field is retyped, and the struct grows from 4 to 8 bytes."""
    old, new = with_vec(("x", I32)), with_vec(("x", F64))
    assert [c.line() for c in diff(old, new)] == [
        "major deny  struct-field-retyped: struct v.core::Vec3: field x was i32, is f64",
        "major deny  struct-layout-changed: struct v.core::Vec3 on native: 4 bytes (align 4) "
        "became 8 bytes (align 8)",
        "major deny  struct-layout-changed: struct v.core::Vec3 on wasm: 4 bytes (align 4) "
        "became 8 bytes (align 8)",
    ]


def test_levels_override_the_rules() -> None:
    old, new = BASE, package((DOT,))
    (change,) = diff(old, new)
    assert (change.level, change.line()) == (
        "deny",
        "major deny  function-removed: v.core.scale was removed",
    )
    (warned,) = diff(old, new, {"function-removed": "warn"})
    assert warned.level == "warn" and required_bump([warned]) == "none"
    assert diff(old, new, {"function-removed": "allow"}) == []


def test_the_diff_command(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(spy_abi.to_json(BASE))
    new.write_text(
        spy_abi.to_json(dataclasses.replace(package((DOT,), modules=(EXTRA,)), version="2.0.0"))
    )
    proc = subprocess.run(
        [sys.executable, "-m", "spy_abi", "diff", str(old), str(new)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == (
        "minor warn  module-added: module v.extra was added\n"
        "major deny  function-removed: v.core.scale was removed\n"
        "2 changes from spyv 1.0.0 to spyv 2.0.0; they require a major version bump\n"
    )
    bad = subprocess.run(
        [sys.executable, "-m", "spy_abi", "diff", str(old), str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == f"spy-abi: error: {tmp_path / 'none.json'}: no such file\n"
