"""list, tuple and dict (the standard library written in SPy): the same programs
under CPython and compiled on both targets print the same, normally and with
SPY_GC_STRESS=1 (a collection at every safe point), so that a block the
collector frees too early shows up as a wrong value or a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import SpyRunner, hatch_spy_cli

PRELUDE = "i8 = u8 = i32 = u32 = i64 = u64 = int\nf32 = f64 = float\n"

PROGRAMS = {
    "list_basics": """
        def total(xs: list[i32]) -> i32:
            t = 0
            for x in xs:
                t = t + x
            return t

        def main() -> None:
            l = [1, 2, 3]
            l.append(10)
            print(l, len(l), total(l), l[0], l[-1], l[-4])
            e: list[str] = []
            e.append("a")
            e.append("b'c")
            e.append('q"uote')
            print(e, e[-1], e.pop(), e.pop(0), e)
            n = [[1, 2], [3]]
            n[1].append(4)
            n.append([])
            print(n, len(n[2]), l == [1, 2, 3, 10], l != [1, 2, 3], 3 in l, 7 in l, 7 not in l)
            print(l + l, l * 2, l * 0, l.index(10), l.count(2))
            l.insert(0, -5)
            l.insert(-1, 99)
            l.insert(100, 7)
            l.insert(-100, 8)
            print(l)
            l.reverse()
            print(l)
            l.remove(99)
            c = l.copy()
            c[0] = 1000
            print(l, c, c.pop(2))
            l.extend(l)
            print(l)
            l.clear()
            print(l, len(l))
            f = [1.5, -0.0, 1e300]
            b = [True, False]
            print(f, b, [[["deep"]]])
    """,
    "list_slices": """
        def main() -> None:
            l = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
            for a in range(-12, 13, 3):
                for b in range(-12, 13, 4):
                    print(l[a:b], l[a:], l[:b], l[a:b:2], l[b:a:-1], l[a::-3])
            print(l[:], l[::-1], l[::4], l[100:], l[-100:2])
            d = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
            del d[1]
            del d[-1]
            print(d)
            del d[1:3]
            print(d)
            del d[::2]
            print(d)
            del d[::-1]
            print(d)
            s = ["a", "b", "c", "d", "e"]
            del s[4:0:-2]
            print(s, s[1:2] + s[0:1])
    """,
    "tuples": """
        def pair(x: i32) -> tuple[i32, str]:
            return (x, "n" + str(x))

        def swap(t: tuple[i32, f64]) -> tuple[f64, i32]:
            a, b = t
            return b, a

        def main() -> None:
            a = (2, "SPy")
            print(a[0], a[1], a[-1], a, len(a))
            x, y = pair(7)
            print(x, y, pair(1) == (1, "n1"), pair(1) == (2, "n1"), pair(1) != (2, "n1"))
            print((1,), (1.5, True, "a'b"), 3 in (1, 2, 3), 4 in (1, 2, 3), swap((1, 2.5)))
            print(hash((1, "a")) == hash((1, "a")))
            l = [(1, "a"), (2, "b")]
            for n, s in l:
                print(n, s)
            print(l, ((1, 2), (3, (4, 5))))
            p = 10
            q = 3
            p, q = q, p % q
            print(p, q)
    """,
    "dicts": """
        def count_words(text: str) -> dict[str, i32]:
            counts: dict[str, i32] = {}
            word = ""
            for ch in text + " ":
                if ch == " ":
                    if word != "":
                        counts[word] = counts.get(word, 0) + 1
                    word = ""
                else:
                    word = word + ch
            return counts

        def main() -> None:
            b = {"a": 20}
            print(b["a"], b, {1: 1.5, 2: -0.5}, {"k": [1, 2]}, {(1, 2): "t"})
            c = count_words("the cat and the dog and the bird")
            print(c, len(c), "cat" in c, "cow" in c, "cow" not in c)
            for k in c:
                print(k, c[k])
            for w, n in c.items():
                print(w, n)
            print(c.keys(), c.values(), c.items(), len(c.items()), "dog" in c.keys())
            del c["the"]
            print(c, c == {"cat": 1, "and": 2, "dog": 1, "bird": 1}, c == {"cat": 1})
            c["the"] = 9
            print(c, c.pop("cat"), c, c.setdefault("x", 5), c.setdefault("x", 6))
            d = c.copy()
            d["new"] = 1
            d.update({"the": 0, "z": 26})
            print(c, d)
            d.clear()
            print(d, len(d))
            m: dict[i32, f64] = {}
            for i in range(1000):
                m[i * 1024] = f64(i) / 2.0
            for i in range(0, 1000, 3):
                del m[i * 1024]
            for i in range(0, 1000, 6):
                m[i * 1024] = -1.0
            s = 0.0
            for key in m:
                s = s + m[key]
            print(len(m), s, m[2048], m.get(3072, 7.5), list_keys(m)[:5])
            print(positions("a b a c b a".split()))

        def positions(words: list[str]) -> dict[str, list[i32]]:
            where: dict[str, list[i32]] = {}
            for i in range(len(words)):
                if words[i] not in where:
                    where[words[i]] = []
                where[words[i]].append(i)
            return where

        def list_keys(m: dict[i32, f64]) -> list[i32]:
            out: list[i32] = []
            for k in m:
                out.append(k)
            return out
    """,
    "str_split_join_strip": """
        def main() -> None:
            s = "  the quick\tbrown  fox\u3000jumps \u2028 over  "
            words = s.split()
            print(words, len(words), "a,b,,c".split(","), "abc".split("abc"), "".split(), "".split(","))
            print("-".join(words), "".join(["x", "y"]), ", ".join([]), "+".join(["solo"]))
            print("é::ü::".split("::"), "::".join("a b c d e".split()), "aaa".split("a"))
            print(repr("xxhixyx".strip("xy")), repr("ééaé".lstrip("é")), repr("abc".rstrip("")))
            print(repr("<<a>>".rstrip(">")), "ΟΔΥΣΣΕΥΣ".lower(), "straße".upper(), "İ".lower() == "i\u0307")
            long = ""
            for i in range(300):
                long = long + str(i) + ("," if i % 7 else ",,")
            parts = long.split(",")
            print(len(parts), parts[:5], ",".join(parts) == long)
    """,
    "bytes": """
        def main() -> None:
            b = b"a\\x00\\xff'q\\"\\\\\\t\\r\\n~\\x7f"
            print(b, len(b), b[1], b[-1], b[2:5], b[::-1], b[::3], b"x" * 3, b"" * 2, b"" == bytes())
            print(b"ff" in b"coffee", b"z" in b"coffee", hash(b"ab") == hash(b"a" + b"b"))
            print(repr(b"'"), str(b'"'), b"'\\"", b"ab" != b"ab", b"ab" != b"ac")
            for x in b"hi":
                print(x)
            s = "àèìòù €"
            e = s.encode()
            byte: u8 = e[0]
            print(e, len(e), e.decode() == s, "x".encode("UTF_8"), ord(b"A"), byte)
            d = {b"k": 1}
            print(d[b"k"], d, [b"x", b""], (b"t",))
    """,
    "churn": """
        def words(n: i32) -> list[str]:
            out: list[str] = []
            for i in range(n):
                out.append("w" + str(i % 17))
            return out

        def main() -> None:
            keep: dict[str, list[str]] = {}
            for r in range(40):
                ws = words(30 + r)
                key = "k" + str(r % 7)
                if key in keep:
                    keep[key].extend(ws[::5])
                else:
                    keep[key] = ws[:3]
            total = 0
            for k, v in keep.items():
                total = total + len(v)
            print(total, keep["k3"][:6], sorted_keys(keep))

        def sorted_keys(d: dict[str, list[str]]) -> list[str]:
            out: list[str] = []
            for k in d:
                out.append(k)
            return out
    """,
}


def run_cpython(source: str) -> str:
    code = PRELUDE + textwrap.dedent(source) + "\nmain()\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_collections_match_cpython(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, name: str, stress: bool
) -> None:
    source = PROGRAMS[name]
    expected = run_cpython(source)
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    assert spy.output(source) == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("l = [1]\n    print(l[1])", "IndexError: list index out of range"),
        ("l = [1]\n    print(l[-2])", "IndexError: list index out of range"),
        ("l: list[i32] = []\n    l.pop()", "IndexError: pop from empty list"),
        ("l = [1]\n    l[5] = 2", "IndexError: list index out of range"),
        ("l = [1]\n    print(l[::0])", "ValueError: slice step cannot be zero"),
        ("l = [1]\n    l.remove(2)", "ValueError: list.remove(x): x not in list"),
        ('d = {"a": 1}\n    print(d["b"])', "KeyError: 'b'"),
        ("d = {1: 1}\n    del d[2]", "KeyError: 2"),
        ('print(b"ab"[2])', "IndexError: index out of range"),
        (
            'print(b"a\\xffb".decode())',
            "ValueError: 'utf-8' codec can't decode byte 0xff in position 1",
        ),
        ('print("x".encode("latin-9"))', "LookupError: unknown encoding: latin-9"),
        (
            'print(ord(b"ab"))',
            "TypeError: ord() expected a character, but string of length 2 found",
        ),
    ],
)
def test_collection_errors_are_pythons(spy: SpyRunner, body: str, error: str) -> None:
    result = spy.run(f"def main() -> None:\n    {body}\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == error


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_main_receives_argv_and_sets_the_exit_status(tmp_path: object, target: str) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    prog = tmp_path / "prog.spy"
    prog.write_text(
        "def main(argv: list[str]) -> i32:\n"
        "    for arg in argv:\n"
        "        print(arg)\n"
        "    return len(argv) + 40\n"
    )
    proc = hatch_spy_cli("run", str(prog), "--target", target, "--", "a b", "é", "")
    assert (proc.returncode, proc.stdout.splitlines()) == (44, [str(prog), "a b", "é", ""])


def test_main_with_another_parameter_is_an_error(checker: SpyRunner) -> None:
    from hatch_spy.compiler import SpyCompileError, compile_program_to_c

    main = checker.write("def main(n: i32) -> None:\n    pass\n")
    with pytest.raises(SpyCompileError, match=r"argv: list\[str\]"):
        compile_program_to_c(main)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def main() -> None:\n    x = [1, 'a']\n", "list items must have one type: i32 and str"),
        ("def main() -> None:\n    x = {1: 2, 'a': 3}\n", "dict key items must have one type"),
        (
            "def main() -> None:\n    a, b = (1, 2, 3)\n",
            "too many values to unpack (expected 2, got 3)",
        ),
        (
            "def main() -> None:\n    a, b, c = (1, 2)\n",
            "not enough values to unpack (expected 3, got 2)",
        ),
        ("def main() -> None:\n    t = (1, 2)\n    print(t[2])\n", "tuple index out of range"),
        ("def main() -> None:\n    for x in 5:\n        pass\n", "'i32' object is not iterable"),
    ],
)
def test_collection_compile_errors(checker: SpyRunner, source: str, message: str) -> None:
    assert message in checker.compile_error(source).message


VAR_GLOBALS = """
from array import array

var words: list[str] = []
var counts: dict[str, i32] = {}
var total: i32 = 0
var grid: array[f64, 2] = array[f64, 2](2, 3)
var label: str = "n" + str(2)
var pairs: list[tuple[str, i32]] = [("a", 1)]

def add(w: str) -> i32:
    words.append(w)
    counts[w] = counts.get(w, 0) + 1
    total = total + 1
    grid[1, 2] = grid[1, 2] + 1.0
    return len(words)

def main() -> None:
    for i in range(20000):
        add("w" + str(i % 7))
    pairs.append((label, total))
    print(len(words), words[0], words[-1], counts["w3"], total, grid[1, 2], label)
    print(pairs)
    words = ["fresh"]
    print(words, len(counts))
"""


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
def test_var_globals_made_at_run_time(
    spy: SpyRunner, monkeypatch: pytest.MonkeyPatch, stress: bool
) -> None:
    """`var` globals whose value is a list, dict, array or computed str are
    made when the program starts and keep what is stored in them through
    collections (every safe point collects under stress)."""
    if stress:
        monkeypatch.setenv("SPY_GC_STRESS", "1")
    assert spy.output(VAR_GLOBALS).splitlines() == [
        "20000 w0 w0 2857 20000 20000.0 n2",
        "[('a', 1), ('n2', 20000)]",
        "['fresh'] 7",
    ]
