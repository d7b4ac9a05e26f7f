"""Structs across the Python boundary, on both backends: the sample package
`spyshapes` (generic, nested, empty structs, str, bool and every scalar width)
built into a wheel, installed into a fresh venv and called."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

import spy_abi
from hatch_spy.compiler import check_modules
from hatch_spy.compiler.boundary import check_exportable, struct_homes
from hatch_spy.compiler.errors import SpyCompileError
from hatch_spy.compiler.loader import ModuleFinder, load_program
from hatch_spy.compiler.stdlib import BUILTIN_MODULES
from hatch_spy.package import stub_source
from wheelkit import (
    SAMPLES,
    Venv,
    build_wheel,
    installed_env,
    memory_meters,
    other_pythons,
    run,
)

BACKENDS = ["native", "wasm"]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="native wheels are Linux-only so far"
)


@pytest.fixture(scope="session")
def shapes_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(SAMPLES / "shapes", tmp_path_factory.mktemp("shapes-wheel"))


@pytest.fixture(scope="session")
def shapes(
    tmp_path_factory: pytest.TempPathFactory, local_wheels: Path, shapes_wheel: Path
) -> Venv:
    return installed_env(
        tmp_path_factory, "shapes", local_wheels, str(shapes_wheel), "spy-runtime[wasm]"
    )


def call(env: Venv, backend: str, code: str) -> list[str]:
    proc = env.run_script(
        "import spyshapes.geom as g, spyshapes.scene as sc\n" + textwrap.dedent(code),
        env={"SPY_BACKEND": backend},
    )
    return proc.stdout.splitlines()


@pytest.mark.parametrize("backend", BACKENDS)
def test_values_round_trip(shapes: Venv, backend: str) -> None:
    out = call(
        shapes,
        backend,
        """
        print(g.__spy_backend__)
        r = g.Record(g.Point(1.5, -2.0), "ab\\u00e9", -128, 2**63, True, 0.1)
        print(g.bump(r, "cd"))
        print(g.midpoint(g.Pair_Point(g.Point(0, 0), g.Point(2.0, 4.0))))
        print(g.swapped(g.pair(3, -4)), g.nested(5))
        print(g.nothing(), g.is_nothing(g.Nothing(), 4))
        print(sc.span(sc.origin(), g.Point(3, 4)))
        print(g.norm2(g.Point(3, 4)))
        print(g.bump(g.Record(g.Point(0, 0), "", 127, 2**64 - 1, False, -0.0), "").big)
        """,
    )
    assert out == [
        backend,
        # every field moved: y and x swapped, the str joined, the i8 past -128,
        # the u64 wrapped, the bool flipped, the f32 doubled in single precision
        "Record(where=Point(x=-2.0, y=1.5), name='abécd', small=-127, big=0, flag=False, "
        "ratio=0.20000000298023224)",
        "Point(x=1.0, y=2.0)",
        "Pair[i32](a=-4, b=3) Pair[Pair[i32]](a=Pair[i32](a=5, b=6), b=Pair[i32](a=7, b=8))",
        "Nothing() 5",
        "Pair[Point](a=Point(x=0.0, y=0.0), b=Point(x=3.0, y=4.0))",
        "25.0",
        str(2**64 - 2),  # the largest u64 passes (its bits are those of -1)
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_classes_behave_like_frozen_dataclasses(shapes: Venv, backend: str) -> None:
    out = call(
        shapes,
        backend,
        """
        import copy, dataclasses, pickle
        p = g.Point(1, 2)
        print(repr(p), type(p.x).__name__, p == g.Point(1.0, 2.0), p != g.Point(1.0, 3.0))
        print(hash(p) == hash(g.Point(1.0, 2.0)), len({p, g.Point(1.0, 2.0), g.Point(0, 0)}))
        print(g.Point(y=2, x=1) == p, p == (1.0, 2.0))
        for value in [p, g.pair(1, 2), g.nested(1), sc.span(p, p), g.nothing(),
                      g.Record(p, "s", 1, 2, False, 0.5)]:
            assert pickle.loads(pickle.dumps(value)) == value, value
            assert copy.deepcopy(value) == value
        print(type(g.pair(1, 2)).__name__, type(g.pair(1, 2)).__qualname__, type(g.pair(1, 2)) is g.Pair_i32)
        print(type(sc.origin()) is g.Point, g.Point.__module__, sc.Point is g.Point)
        print(g.Record(p, "s", 1, 2, False, 0.1).ratio)
        try:
            p.x = 5.0
        except dataclasses.FrozenInstanceError as e:
            print("frozen:", e)
        """,
    )
    assert out == [
        "Point(x=1.0, y=2.0) float True True",
        "True 2",
        "True False",
        "Pair[i32] Pair_i32 True",
        "True spyshapes.geom True",
        "0.10000000149011612",  # an f32 field holds what SPy holds
        "frozen: cannot assign to field 'x': Point is an immutable SPy struct",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_values_are_errors_naming_the_class(shapes: Venv, backend: str) -> None:
    out = call(
        shapes,
        backend,
        """
        p = g.Point(1, 2)
        for attempt in [
            lambda: g.norm2((1.0, 2.0)),
            lambda: g.midpoint(g.pair(1, 2)),
            lambda: g.Point(1, "2"),
            lambda: g.Point(1),
            lambda: g.Record(p, "s", 128, 0, True, 0.0),
            lambda: g.Record(p, "s", 0, -1, True, 0.0),
            lambda: g.Record(p, "s", 0, 0, 1, 0.0),
            lambda: g.Record(p, "s", 0, 0, True, 1e300),
            lambda: g.Record((1, 2), "s", 0, 0, True, 0.0),
            lambda: g.Record(p, "\\ud800", 0, 0, True, 0.0),
            lambda: g.Pair_Point(g.Point(0, 0), g.pair(1, 2)),
        ]:
            try:
                attempt()
                print("no error")
            except Exception as e:
                print(type(e).__name__ + ":", e)
        """,
    )
    assert out == [
        "TypeError: norm2() argument 'p' must be Point, not tuple",
        "TypeError: midpoint() argument 's' must be Pair[Point], not Pair[i32]",
        "TypeError: Point() argument 'y' must be float, not str",
        "TypeError: Point.__new__() missing 1 required positional argument: 'y'",
        "OverflowError: Record() argument 'small' is out of range for i8: 128",
        "OverflowError: Record() argument 'big' is out of range for u64: -1",
        "TypeError: Record() argument 'flag' must be bool, not int",
        "OverflowError: Record() argument 'ratio' is out of range for f32: 1e+300",
        "TypeError: Record() argument 'where' must be Point, not tuple",
        "UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800' in position 0: "
        "surrogates not allowed",
        "TypeError: Pair[Point]() argument 'b' must be Point, not Pair[i32]",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_integer_width_checks_its_range(shapes: Venv, backend: str) -> None:
    out = call(
        shapes,
        backend,
        """
        import operator
        class Seven:
            def __index__(self):
                return 7
        for args in [
            (255, 2**32 - 1, -128, 0, 0),
            (0, 0, 127, 2**64 - 1, 0),
            (True, Seven(), 0, 0, -(2**63)),
            (256, 0, 0, 0, 0),
            (-1, 0, 0, 0, 0),
            (0, 2**32, 0, 0, 0),
            (0, -1, 0, 0, 0),
            (0, 0, 128, 0, 0),
            (0, 0, -129, 0, 0),
            (0, 0, 0, 2**64, 0),
            (0, 0, 0, -1, 0),
            (0, 0, 0, 0, 2**63),
            (0, 0, 0, 0, 1.0),
        ]:
            try:
                print(g.widths(*args))
            except Exception as e:
                print(type(e).__name__ + ":", e)
        """,
    )
    assert out == [
        str(255 + (2**32 - 1) * 256),
        str((2**64 - 1 + 255 * 2**40) % 2**64),
        str((1 + 7 * 256 + 128 * 2**40 - 2**63) % 2**64),
        "OverflowError: widths() argument 'a' is out of range for u8: 256",
        "OverflowError: widths() argument 'a' is out of range for u8: -1",
        "OverflowError: widths() argument 'b' is out of range for u32: 4294967296",
        "OverflowError: widths() argument 'b' is out of range for u32: -1",
        "OverflowError: widths() argument 'c' is out of range for i8: 128",
        "OverflowError: widths() argument 'c' is out of range for i8: -129",
        "OverflowError: widths() argument 'd' is out of range for u64: 18446744073709551616",
        "OverflowError: widths() argument 'd' is out of range for u64: -1",
        "OverflowError: widths() argument 'e' is out of range for i64: 9223372036854775808",
        "TypeError: widths() argument 'e' must be int, not float",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_passing_structs_at_once(shapes: Venv, backend: str) -> None:
    out = call(
        shapes,
        backend,
        """
        import threading
        bad = []
        def work(k):
            for i in range(2000):
                r = g.Record(g.Point(k, i), "t" + str(k), i % 100, k * i, bool(i % 2), 0.5)
                b = g.bump(r, str(i))
                want = g.Record(g.Point(i, k), "t" + str(k) + str(i), i % 100 + 1, 2 * k * i,
                                not i % 2, 1.0)
                if b != want: bad.append((k, i, b))
                if g.swapped(g.pair(k, i)) != g.Pair_i32(i, k): bad.append((k, i))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(bad), bad[:2])
        """,
    )
    assert out == ["0 []"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_code_during_a_struct_call(shapes: Venv, backend: str) -> None:
    """print() in compiled code runs a Python sys.stdout, which calls compiled
    code with structs again and replaces the outer argument's values behind
    the class's back: the outer call still sees its own values."""
    out = call(
        shapes,
        backend,
        """
        import sys
        name = "".join(["ou", "ter"])  # made here: nothing else holds it
        r = g.Record(g.Point(1.0, 2.0), name, 0, 0, False, 0.0)
        del name
        class Meddler:
            def __init__(self):
                self.seen = []
            def write(self, s):
                if s.strip():
                    self.seen.append(g.bump(g.Record(g.Point(3.0, 4.0), "inner", 0, 0, True, 1.0), "!"))
                    object.__setattr__(r, "_spy_values", (g.Point(9.0, 9.0), "x" * 100, 1, 1, True, 1.0))
            def flush(self):
                pass
        real, sys.stdout = sys.stdout, Meddler()
        try:
            result = g.describe(r)
        finally:
            meddler, sys.stdout = sys.stdout, real
        print(result)
        print(sorted(set(map(repr, meddler.seen))))
        """,
    )
    assert out == [
        "outer@1.0,2.0",
        "[\"Record(where=Point(x=4.0, y=3.0), name='inner!', small=1, big=0, flag=False, ratio=2.0)\"]",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_struct_calls_leave_memory_flat(shapes: Venv, backend: str) -> None:
    script = memory_meters("spyshapes") + textwrap.dedent(
        """
        import spyshapes.geom as g
        r = g.Record(g.Point(1.0, 2.0), "name" * 50, 0, 0, False, 0.0)
        for _ in range(2000):
            g.bump(r, "x" * 100)
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(100000):
            g.bump(r, "x" * 100)
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, shapes.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0
    assert grown_mb < 8


@pytest.mark.parametrize("python", other_pythons(), ids=lambda p: p.parent.parent.name)
def test_struct_classes_on_other_pythons(
    python: Path, tmp_path: Path, local_wheels: Path, shapes_wheel: Path
) -> None:
    env = Venv(tmp_path / "venv")
    run([str(python), "-m", "venv", str(env.path)])
    env.pip_install(str(shapes_wheel), "spy-runtime[wasm]", find_links=local_wheels)
    for backend in BACKENDS:
        out = call(
            env,
            backend,
            """
            import copy, pickle
            r = g.bump(g.Record(g.Point(1, 2), "s", 0, 7, True, 0.5), "!")
            assert pickle.loads(pickle.dumps(r)) == r and copy.copy(r) is r
            print(r, hash(r) == hash(copy.deepcopy(r)), g.swapped(g.pair(1, 2)))
            """,
        )
        assert out == [
            "Record(where=Point(x=2.0, y=1.0), name='s!', small=1, big=14, flag=False, "
            "ratio=1.0) True Pair[i32](a=2, b=1)"
        ], backend


def test_spy_abi_json_describes_the_structs(shapes: Venv) -> None:
    (dist_info,) = shapes.site_packages().glob("spyshapes-*.dist-info")
    data = json.loads((dist_info / "spy-abi.json").read_text())
    jsonschema.validate(data, json.loads(spy_abi.schema_path(2).read_text()))
    geom = data["modules"]["spyshapes.geom"]
    record = geom["structs"]["spyshapes.geom::Record"]
    assert [(f["name"], f["type"], f["offset"]) for f in record["fields"]] == [
        ("where", "spyshapes.geom::Point", {"native": 0, "wasm": 0}),
        ("name", "str", {"native": 16, "wasm": 16}),
        ("small", "i8", {"native": 24, "wasm": 20}),
        ("big", "u64", {"native": 32, "wasm": 24}),
        ("flag", "bool", {"native": 40, "wasm": 32}),
        ("ratio", "f32", {"native": 44, "wasm": 36}),
    ]
    assert record["layout"] == {
        "native": {"size": 48, "align": 8},
        "wasm": {"size": 40, "align": 8},
    }
    # the structs scene's functions use stay geom's: one class each
    assert "structs" not in data["modules"]["spyshapes.scene"]
    assert data["modules"]["spyshapes.scene"]["exports"]["span"]["returns"] == (
        "spyshapes.geom::Pair[Point]"
    )


def test_stubs_describe_the_classes(shapes: Venv, tmp_path: Path) -> None:
    caller = tmp_path / "caller.py"
    caller.write_text(
        "from spyshapes import geom, scene\n"
        "p: geom.Point = scene.origin()\n"
        "x: float = p.x\n"
        "s: str = p.x\n"  # error
        "geom.norm2(geom.pair(1, 2))\n"  # error
        "q = geom.Pair_Point(p, scene.origin())\n"
        "n: int = geom.swapped(geom.pair(1, 2)).a\n"
    )
    proc = run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            shapes.python,
            "--no-incremental",
            "--strict",
            str(caller),
        ],
        check=False,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [e.split(":")[1] for e in errors] == ["4", "5"], proc.stdout


def test_a_newer_abi_format_is_a_clear_import_error(shapes: Venv) -> None:
    (dist_info,) = shapes.site_packages().glob("spyshapes-*.dist-info")
    path = dist_info / "spy-abi.json"
    original = path.read_text()
    try:
        path.write_text(original.replace('"format_version": 2', '"format_version": 6'))
        proc = shapes.run_script("import spyshapes.geom", check=False)
        assert (
            "ImportError: spyshapes.geom: spyshapes was built with spy-abi.json format 6, newer "
            "than this spy-runtime reads (formats 1, 2, 3, 4 and 5): upgrade it with "
            "pip install -U spy-runtime spy-abi"
        ) in proc.stderr
    finally:
        path.write_text(original)


# ---- without zig -------------------------------------------------------------


def checked(tmp_path: Path, source: str) -> list:  # type: ignore[type-arg]
    (tmp_path / "m.spy").write_text(textwrap.dedent(source))
    modules = check_modules(load_program(["m"], ModuleFinder((tmp_path,))))
    return [m for m in modules if m.name not in BUILTIN_MODULES]  # the program's own


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            """
            from unsafe import gc_ptr, gc_alloc
            def cells(n: i32) -> gc_ptr[i32]:
                return gc_alloc[i32](n)
            """,
            "public function 'cells' takes or returns gc_ptr[i32]: pointers cannot cross into "
            "Python; rename it '_cells' to keep it inside the package",
        ),
        (
            """
            from unsafe import gc_ptr
            @struct
            class Node:
                value: i32
                cells: gc_ptr[i32]
            def first(n: Node) -> i32:
                return n.value
            """,
            "public function 'first' takes or returns Node: Node's field 'cells' has type "
            "gc_ptr[i32]: pointers cannot cross into Python; rename it '_first' to keep it "
            "inside the package",
        ),
    ],
)
def test_pointers_in_a_public_signature_are_an_error(
    tmp_path: Path, source: str, message: str
) -> None:
    (module,) = checked(tmp_path, source)
    with pytest.raises(SpyCompileError) as info:
        check_exportable(module)
    assert info.value.message == message
    assert info.value.loc.source_line.lstrip().startswith("def ")


def test_a_class_name_taken_twice_is_an_error(tmp_path: Path) -> None:
    (module,) = checked(
        tmp_path,
        """
        @struct
        class Point:
            x: i32
        def Point_(p: Point) -> i32:
            return p.x
        @blue.generic
        def Box(T):
            @struct
            class Self:
                v: T
            return Self
        @struct
        class Box_i32:
            v: i32
        def f(a: Box[i32], b: Box_i32) -> i32:
            return a.v + b.v
        """,
    )
    with pytest.raises(SpyCompileError) as info:
        struct_homes([module], ["m"])
    assert info.value.message == (
        "struct Box_i32 and struct Box[i32] would both be 'Box_i32' in Python module m: "
        "rename one of them"
    )
    assert info.value.loc.line == 16


def test_stub_imports_classes_from_their_module(tmp_path: Path) -> None:
    (tmp_path / "a.spy").write_text(
        "@struct\nclass P:\n    x: i32\n\ndef make() -> P:\n    return P(1)\n"
    )
    (tmp_path / "b.spy").write_text("from a import P\n\ndef get(p: P) -> i32:\n    return p.x\n")
    modules = check_modules(load_program(["a", "b"], ModuleFinder((tmp_path,))))
    homes = struct_homes(modules, ["a", "b"])
    assert {k: [t.name for t in v] for k, v in homes.items()} == {"a": ["P"], "b": []}
    b = next(m for m in modules if m.name == "b")
    assert stub_source(b, homes).splitlines()[2:] == [
        "from a import P",
        "",
        "def get(p: P) -> int: ...",
    ]
