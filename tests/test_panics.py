"""Panics: raise, assert and run-time errors carry kind, message and the
.spy location, print like Python's traceback tail and exit 1."""

from __future__ import annotations

import pytest

from conftest import SpyRunner


def test_raise_reports_kind_message_and_location(spy: SpyRunner) -> None:
    result = spy.run(
        """
        def check(x: i32) -> i32:
            if x < 0:
                raise ValueError("negative: " + str(x))
            return x

        def main() -> None:
            print("before")
            check(-3)
            print("after")
        """
    )
    assert result.returncode == 1
    assert result.stdout == "before\n"
    assert result.stderr.splitlines() == ['  File "main.spy", line 4', "ValueError: negative: -3"]


@pytest.mark.parametrize(
    "kind",
    [
        "ValueError",
        "TypeError",
        "IndexError",
        "KeyError",
        "RuntimeError",
        "OverflowError",
        "Exception",
    ],
)
def test_builtin_exception_kinds(spy: SpyRunner, kind: str) -> None:
    result = spy.run(f'def main() -> None:\n    raise {kind}("boom")\n')
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"{kind}: boom"


def test_raise_without_message(spy: SpyRunner) -> None:
    result = spy.run("def main() -> None:\n    raise NotImplementedError\n")
    assert result.stderr.splitlines()[-1] == "NotImplementedError"


def test_assert(spy: SpyRunner) -> None:
    ok = spy.run("def main() -> None:\n    assert 1 + 1 == 2, 'math'\n    print('fine')\n")
    assert (ok.returncode, ok.stdout) == (0, "fine\n")
    failed = spy.run("def main() -> None:\n    x = 3\n    assert x == 2, 'x is ' + str(x)\n")
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == ['  File "main.spy", line 3', "AssertionError: x is 3"]
    bare = spy.run("def main() -> None:\n    assert False\n")
    assert bare.stderr.splitlines()[-1] == "AssertionError"


def test_panic_location_names_the_imported_module(spy: SpyRunner) -> None:
    result = spy.run(
        """
        import helpers

        def main() -> None:
            print(helpers.div(6, 3))
            print(helpers.div(1, 0))
        """,
        files={"helpers.spy": "def div(a: i32, b: i32) -> i32:\n    return a // b\n"},
    )
    assert result.returncode == 1
    assert result.stdout == "2\n"
    assert result.stderr.splitlines() == [
        '  File "helpers.spy", line 2',
        "ZeroDivisionError: integer division or modulo by zero",
    ]


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("math.sqrt(-1.0)", "ValueError", "math domain error"),
        ("math.log(0.0)", "ValueError", "math domain error"),
        ("math.exp(1000.0)", "OverflowError", "math range error"),
        ("2 ** -1", "ValueError", "negative exponent in integer power"),
        ("1 << -1", "ValueError", "negative shift count"),
    ],
)
def test_runtime_errors_follow_python(spy: SpyRunner, call: str, kind: str, message: str) -> None:
    result = spy.run(f"import math\n\ndef main() -> None:\n    print({call})\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"{kind}: {message}"
