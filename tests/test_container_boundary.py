"""list, dict, tuple and bytes across the Python boundary, on both backends:
the sample package `spytextkit` built into a wheel, installed into a fresh
venv and called, against the same functions written in Python."""

from __future__ import annotations

import json
import sys
import textwrap
import zipfile
from pathlib import Path

import jsonschema
import pytest

import spy_abi
from wheelkit import SAMPLES, Venv, build_wheel, installed_env, memory_meters, try_build

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="native wheels are Linux-only so far"
)

# the package's functions in Python, for the results to agree with
REFERENCE = """
def tokenize(text):
    words, word = [], ""
    for ch in text.lower():
        if ch.isalpha() or ch.isdigit() or ch == "'":
            word += ch
        elif word:
            words.append(word)
            word = ""
    if word:
        words.append(word)
    return words

def count_words(text):
    counts = {}
    for w in tokenize(text):
        counts[w] = counts.get(w, 0) + 1
    return counts

def top_words(counts, n):
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
"""

TEXT = "The cat and the dog. The END, isn't it? Ünïcode 42 ΣΟΦΟΣ  dog\\tcat\\ncat"


@pytest.fixture(scope="session")
def textkit_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(SAMPLES / "textkit", tmp_path_factory.mktemp("textkit-wheel"))


@pytest.fixture(scope="session")
def textkit(
    tmp_path_factory: pytest.TempPathFactory, local_wheels: Path, textkit_wheel: Path
) -> Venv:
    return installed_env(
        tmp_path_factory, "textkit", local_wheels, str(textkit_wheel), "spy-runtime[wasm]"
    )


BACKENDS = ["native", "wasm"]


def call(env: Venv, backend: str, code: str, extra_env: dict[str, str] | None = None) -> list[str]:
    script = "import textkit.words as tk\n" + REFERENCE + textwrap.dedent(code)
    return env.run_script(
        script, env={"SPY_BACKEND": backend, **(extra_env or {})}
    ).stdout.splitlines()


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_values_round_trip(textkit: Venv, backend: str, stress: bool) -> None:
    out = call(
        textkit,
        backend,
        f"""
        t = "{TEXT}"
        checks = [
            tk.tokenize(t) == tokenize(t),
            tk.count_words(t) == count_words(t),
            list(tk.count_words(t)) == list(count_words(t)),  # insertion order kept
            tk.top_words(count_words(t), 4) == top_words(count_words(t), 4),
            tk.merge_counts({{"a": 1, "b": 2}}, {{"b": 3, "c": 4}}) == {{"a": 1, "b": 5, "c": 4}},
            tk.join_words(["x", "é", ""], "--") == "x--é--",
            tk.lengths(("ab", "é", "")) == [2, 1, 0],
            tk.encode_all(["é", ""]) == [b"\\xc3\\xa9", b""],
            tk.decode_all([b"x", bytearray("ü".encode())]) == ["x", "ü"],
            tk.index_of("a b a c a".split()) == {{"a": [0, 2, 4], "b": [1], "c": [3]}},
            tk.span((3, -7)) == (3, -7, -10),
            tk.tokenize("") == [] and tk.count_words("") == {{}} and tk.top_words({{}}, 3) == [],
            type(tk.span((1, 2))) is tuple and type(tk.tokenize("a")) is list,
            tk.lengths(list(map(str, range(10000)))) == [len(str(i)) for i in range(10000)],
            tk.histogram([i % 7 for i in range(10000)])
            == {{k: len(range(k, 10000, 7)) for k in range(7)}},
            tk.histogram((True, 1, 2)) == {{1: 2, 2: 1}},
        ]
        print(checks)
        """,
        {"SPY_GC_STRESS": "1"} if stress else None,
    )
    assert out == [str([True] * 16)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_items_name_the_argument_and_where(textkit: Venv, backend: str) -> None:
    out = call(
        textkit,
        backend,
        """
        class Custom:
            def __len__(self): return 2
            def __getitem__(self, i):
                if i >= 2: raise IndexError
                return "w" + str(i)
        for bad in [
            lambda: tk.lengths(["a", 1]),
            lambda: tk.lengths("abc"),
            lambda: tk.lengths(None),
            lambda: tk.merge_counts({"a": "1"}, {}),
            lambda: tk.merge_counts({1: 1}, {}),
            lambda: tk.merge_counts({"a": 2**40}, {}),
            lambda: tk.span((1,)),
            lambda: tk.span((1, "2")),
            lambda: tk.decode_all([b"ok", "no"]),
            lambda: tk.decode_all([b"\\xff"]),
            lambda: tk.join_words(["a", "\\ud800"], ""),
            lambda: tk.histogram([1, 2, 2**40]),
            lambda: tk.histogram([1, 2.5]),
        ]:
            try:
                bad()
            except Exception as e:
                print(type(e).__name__, e)
        print(tk.lengths(Custom()))
        """,
    )
    assert out == [
        "TypeError lengths() argument 'words[1]' must be str, not int",
        "TypeError lengths() argument 'words' must be list[str], not str",
        "TypeError lengths() argument 'words' must be list[str], not NoneType",
        "TypeError merge_counts() argument 'a['a']' must be int, not str",
        "TypeError merge_counts() argument 'a key of a' must be str, not int",
        "OverflowError merge_counts() argument 'a['a']' is out of range for i32: 1099511627776",
        "TypeError span() argument 'pair' must have 2 items, not 1",
        "TypeError span() argument 'pair[1]' must be int, not str",
        "TypeError decode_all() argument 'blobs[1]' must be bytes, not str",
        "ValueError 'utf-8' codec can't decode byte 0xff in position 0",
        "UnicodeEncodeError 'utf-8' codec can't encode character '\\ud800' in position 0: "
        "surrogates not allowed",
        "OverflowError histogram() argument 'sizes[2]' is out of range for i32: 1099511627776",
        "TypeError histogram() argument 'sizes[1]' must be int, not float",
        "[2, 2]",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_passing_containers_at_once(textkit: Venv, backend: str) -> None:
    out = call(
        textkit,
        backend,
        """
        import threading
        bad = []
        def work(k):
            for i in range(300):
                text = " ".join(f"w{(i * k + j) % 17} x{j % 5}" for j in range(30))
                if tk.count_words(text) != count_words(text): bad.append((k, i))
                words = tokenize(text)
                if tk.index_of(words) != {w: [n for n, v in enumerate(words) if v == w] for w in words}:
                    bad.append((k, i, "index"))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(bad), bad[:2])
        """,
    )
    assert out == ["0 []"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_code_during_a_container_call(textkit: Venv, backend: str) -> None:
    """Python code runs while arguments convert (a sequence's __getitem__, an
    __index__) and during the call (print to a Python sys.stdout), and calls
    compiled code with containers again: each call keeps its own values."""
    out = call(
        textkit,
        backend,
        """
        import io, sys
        class Nested:
            def __len__(self): return 3
            def __getitem__(self, i):
                if i >= 3: raise IndexError
                # a compiled call in the middle of converting the outer list
                return tk.join_words(tk.tokenize(f"Inner {i} word"), "_")
        print(tk.lengths(Nested()))
        class Half:
            def __init__(self, v): self.v = v
            def __index__(self):
                tk.count_words("noise " * 50)
                return self.v
        print(tk.span((Half(5), Half(9))))
        class Echo(io.StringIO):
            # natively each line is written during the call; the wasm
            # backend writes the call's output when it returns
            def write(self, s):
                inner.append((s, tk.top_words(tk.count_words(s + " " + s), 1)))
                return super().write(s)
        inner = []
        real, sys.stdout = sys.stdout, Echo()
        try:
            result = tk.shout(["alpha", "beta", "gamma"])
        finally:
            sys.stdout = real
        agree = all(r == top_words(count_words(s + " " + s), 1) for s, r in inner)
        print(result, agree, repr("".join(s for s, _ in inner)))
        """,
    )
    assert out == [
        "[12, 12, 12]",
        "(5, 9, 4)",
        "['ALPHA', 'BETA', 'GAMMA'] True 'ALPHA\\nBETA\\nGAMMA\\n'",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_container_calls_leave_memory_flat(textkit: Venv, backend: str) -> None:
    script = memory_meters("textkit") + textwrap.dedent(
        """
        import textkit.words as tk
        text = " ".join(f"word{i % 300}" for i in range(3000))
        words = text.split()
        for _ in range(200):
            tk.index_of(words); tk.count_words(text)
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(3000):
            tk.index_of(words); tk.count_words(text); tk.encode_all(words[:100])
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, textkit.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0
    assert grown_mb < 8


def test_wheel_records_containers_and_stubs_say_so(textkit_wheel: Path) -> None:
    with zipfile.ZipFile(textkit_wheel) as whl:
        meta = next(n for n in whl.namelist() if n.endswith("spy-abi.json"))
        data = json.loads(whl.read(meta))
        stub = whl.read("textkit/words.pyi").decode()
    jsonschema.validate(data, json.loads(spy_abi.schema_path(3).read_text()))
    assert data["format_version"] == 3
    index_of = data["modules"]["textkit.words"]["exports"]["index_of"]
    assert index_of["params"] == [{"name": "words", "type": "list[str]"}]
    assert index_of["returns"] == "dict[str, list[i32]]"
    assert "def top_words(counts: dict[str, int], n: int) -> list[tuple[str, int]]: ..." in stub
    assert "def decode_all(blobs: list[bytes]) -> list[str]: ..." in stub


def test_containers_in_struct_fields_are_a_clear_build_error(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src" / "boxed").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        (SAMPLES / "textkit" / "pyproject.toml").read_text().replace("src/textkit", "src/boxed")
    )
    (project / "src" / "boxed" / "m.spy").write_text(
        "@struct\nclass Bag:\n    xs: list[i32]\n\ndef f(b: Bag) -> i32:\n    return len(b.xs)\n"
    )
    proc = try_build(project, tmp_path / "dist")
    assert proc.returncode != 0
    assert "containers in struct fields cannot cross into Python yet" in proc.stdout + proc.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_threads_saving_and_loading_files_at_once(textkit: Venv, tmp_path: Path) -> None:
    """Eight threads open, write, read and close files through compiled code
    at once (native: the wasm backend of a wheel sees no files yet), while a
    list argument's conversion runs compiled file code of its own."""
    out = call(
        textkit,
        "native",
        f"""
        import os, threading
        root = {str(tmp_path)!r}
        class Saving:  # converting this list saves another file first
            def __len__(self): return 2
            def __getitem__(self, i):
                if i >= 2: raise IndexError
                tk.save_words(os.path.join(root, f"inner{{i}}.txt"), ["in", str(i)])
                return f"w{{i}}"
        print(tk.save_words(os.path.join(root, "outer.txt"), Saving()),
              tk.load_words(os.path.join(root, "outer.txt")),
              tk.load_words(os.path.join(root, "inner1.txt")))
        bad = []
        def work(k):
            for i in range(200):
                path = os.path.join(root, f"t{{k}}.txt")
                words = [f"k{{k}}", str(i), "é" * (i % 5)]
                tk.save_words(path, words)
                if tk.load_words(path) != [w.rstrip() for w in words]: bad.append((k, i))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(bad)
        """,
    )
    assert out == ["2 ['w0', 'w1'] ['in', '1']", "[]"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_big_dict_argument_of_a_function_that_never_loops(textkit: Venv, backend: str) -> None:
    """Building the dict argument runs SPy code that loops (its inserts
    probe), which polls and lets other threads have the GIL for a while: the
    call must take the GIL back before making its result, even though the
    function itself never loops (it crashed in PyFloat_FromDouble before)."""
    out = call(
        textkit,
        backend,
        """
        big = {f"w{i}": i for i in range(200_000)}
        print([tk.vocabulary_size(big) for _ in range(3)])
        """,
    )
    assert out == ["[200000, 200000, 200000]"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_million_calls_leave_memory_flat(textkit: Venv, backend: str) -> None:
    """A million calls taking and returning strings, lists, dicts and tuples."""
    script = memory_meters("textkit") + textwrap.dedent(
        """
        import textkit.words as tk
        words, a, b = ["ab", "cde"], {"x": 1, "y": 2}, {"y": 3}
        def calls(n):
            for _ in range(n):
                tk.join_words(words, "-"); tk.merge_counts(a, b); tk.lengths(words); tk.span((1, 5))
        calls(2000)
        rss, pages = peak_mb(), wasm_pages()
        calls(250_000)
        print(round(peak_mb() - rss), wasm_pages() - pages)
        """
    )
    grown_mb, grown_pages = map(
        int, textkit.run_script(script, env={"SPY_BACKEND": backend}).stdout.split()
    )
    assert grown_pages == 0
    assert grown_mb < 8


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dict_in_a_var_global_lives_across_calls(textkit: Venv, backend: str) -> None:
    """`var seen: dict[str, i32] = {}` is made when the module loads and
    keeps what calls put in it: from eight threads at once (a call that sees
    such a global keeps the GIL, so none overlap), with Python code that
    calls into the module while an argument converts, through replacing it,
    and in flat memory."""
    script = memory_meters("textkit") + textwrap.dedent(
        """
        import threading
        import textkit.words as tk
        print(tk.remember(["a", "b", "a"]), tk.times_seen("a"), tk.times_seen("zz"))
        class Sneaky(list):  # converting it runs Python code that calls remember()
            def __getitem__(self, i):
                tk.remember(["inner"])
                return list.__getitem__(self, i)
        print(tk.remember(Sneaky(["c", "a"])), tk.times_seen("inner"), tk.times_seen("a"))
        def work(t):
            batch = [f"t{t}", *(f"w{j}" for j in range(3000)), "shared"]
            for i in range(40):  # long calls: their polls would let others in
                tk.remember(batch)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads: th.start()
        for th in threads: th.join()
        print(tk.times_seen("shared"), tk.times_seen("t3"), tk.times_seen("w2999"))
        tk.forget()
        print(tk.times_seen("shared"), tk.remember(["x"]))
        words = [f"v{i}" for i in range(2000)]
        for _ in range(50):
            tk.forget(); tk.remember(words)
        rss, pages = peak_mb(), wasm_pages()
        for _ in range(500):
            tk.forget(); tk.remember(words)
        print(tk.remember([]), round(peak_mb() - rss) < 8, wasm_pages() - pages)
        """
    )
    out = textkit.run_script(script, env={"SPY_BACKEND": backend}).stdout.splitlines()
    assert out == ["2 2 0", "4 2 3", "320 40 320", "0 1", "2000 True 0"]


def test_the_wasm_backend_opens_files_only_where_spy_wasm_dirs_allows(
    textkit: Venv, tmp_path: Path
) -> None:
    """A wheel's wasm backend runs sandboxed: no file is reachable by
    default; SPY_WASM_DIRS names the folders it may use (relative paths
    resolve from the working folder at import), as a native call would."""
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (other / "secret.txt").write_text("hidden\n")
    script = f"""
        import textkit.words as tk
        def attempt(what, *args):
            try:
                return what(*args)
            except OSError as e:
                return type(e).__name__
        print(attempt(tk.save_words, "a.txt", ["x", "y"]), attempt(tk.load_words, "a.txt"))
        print(attempt(tk.load_words, {str(other / "secret.txt")!r}))
        """

    def run(extra: dict[str, str]) -> list[str]:
        env = {"SPY_BACKEND": "wasm", **extra}
        return textkit.run_script(script, env=env, cwd=allowed).stdout.splitlines()

    assert run({"SPY_WASM_DIRS": str(allowed)}) == ["2 ['x', 'y']", "FileNotFoundError"]
    assert (allowed / "a.txt").read_text() == "x\ny\n"
    assert run({}) == ["FileNotFoundError FileNotFoundError", "FileNotFoundError"]
