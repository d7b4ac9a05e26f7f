"""open(): writing, reading and iterating over lines as Python does, on both
targets (wasm through WASI, with `/` mapped as SPy's runner maps it)."""

from __future__ import annotations

from pathlib import Path

from conftest import SpyRunner, hatch_spy_cli


def test_write_then_read_and_iterate_lines(spy: SpyRunner, tmp_path: Path) -> None:
    path = tmp_path / "data é.txt"
    out = spy.output(
        f"""
        def main() -> None:
            f = open({str(path)!r}, "w")
            for i in range(3):
                f.write("line " + str(i) + "\\n")
            f.write("no newline")
            f.close()
            print(repr(open({str(path)!r}).read()))
            for line in open({str(path)!r}, "r"):
                print(repr(line))
            a = open({str(path)!r}, "a")
            print(a.write("+ü"))
            a.close()
        """
    )
    expected_lines = ["line 0\n", "line 1\n", "line 2\n", "no newline"]
    assert out.splitlines() == [
        repr("".join(expected_lines)),
        *(repr(x) for x in expected_lines),
        "2",
    ]
    assert path.read_text(encoding="utf-8") == "".join(expected_lines) + "+ü"


def test_missing_file_is_pythons_error(spy: SpyRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "x.txt"
    result = spy.run(f"def main() -> None:\n    f = open({str(missing)!r})\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"FileNotFoundError: [Errno 2] No such file or directory: '{missing}'"
    )


def test_closed_file_and_bad_mode_are_value_errors(spy: SpyRunner, tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    result = spy.run(
        f"def main() -> None:\n    f = open({str(path)!r}, 'w')\n    f.close()\n    f.write('x')\n"
    )
    assert result.stderr.splitlines()[-1] == "ValueError: I/O operation on closed file."
    result = spy.run(f"def main() -> None:\n    f = open({str(path)!r}, 'wz')\n")
    assert result.stderr.splitlines()[-1] == "ValueError: invalid mode: 'wz'"


def test_relative_paths_are_the_working_folder_s_on_both_targets(tmp_path: Path) -> None:
    prog = tmp_path / "prog.spy"
    prog.write_text(
        'def main() -> None:\n    f = open("rel.txt", "w")\n    f.write("hi")\n    f.close()\n'
    )
    for target in ("native", "wasm"):
        work = tmp_path / target
        work.mkdir()
        proc = hatch_spy_cli("run", str(prog), "--target", target, cwd=work)
        assert proc.returncode == 0, proc.stderr
        assert (work / "rel.txt").read_text() == "hi"


def test_a_closed_file_never_reaches_a_file_opened_after_it(spy: SpyRunner, tmp_path: Path) -> None:
    """A closed file's slot is taken by the next open: writing through the
    closed one is a ValueError, never a write into the other file."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    result = spy.run(
        f"""
        def main() -> None:
            old = open({str(a)!r}, "w")
            old.close()
            old.close()
            new = open({str(b)!r}, "w")
            new.write("mine")
            old.write("stray")
        """
    )
    assert result.stderr.splitlines()[-1] == "ValueError: I/O operation on closed file."
    assert b.read_text() == "mine" and a.read_text() == ""
