"""One test per kind of compile error: `file:line:col: error: message`, the
source line and a caret under the offending column."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SpyRunner, hatch_spy_cli

CASES = [
    # (id, source, line, col, message fragment)
    ("syntax", "def main() -> None:\n    x = (1 +\n", 2, 9, "invalid syntax"),
    (
        "indentation",
        "def main() -> None:\nprint(1)\n",
        2,
        1,
        "invalid syntax: expected an indented block",
    ),
    ("unknown-name", "def main() -> None:\n    print(y)\n", 2, 11, "name 'y' is not defined"),
    ("unknown-function", "def main() -> None:\n    frob(1)\n", 2, 5, "name 'frob' is not defined"),
    (
        "type-mismatch-arg",
        "def f(x: i32) -> i32:\n    return x\n\ndef main() -> None:\n    f('no')\n",
        5,
        7,
        "mismatched types: expected i32, got str",
    ),
    (
        "type-mismatch-assign",
        "def main() -> None:\n    x = 1\n    x = 'a'\n",
        3,
        9,
        "mismatched types: expected i32, got str",
    ),
    (
        "type-mismatch-return",
        "def f() -> i32:\n    return 1.5\n",
        2,
        12,
        "mismatched types: expected i32, got f64",
    ),
    (
        "bad-operands",
        "def main() -> None:\n    x = 'a' + 1\n",
        2,
        9,
        "unsupported operand types for +: 'str' and 'i32'",
    ),
    (
        "too-many-args",
        "def f(x: i32) -> None:\n    pass\n\ndef main() -> None:\n    f(1, 2)\n",
        5,
        5,
        "f() takes 1 positional argument but 2 were given",
    ),
    (
        "missing-arg",
        "def f(x: i32, y: i32) -> None:\n    pass\n\ndef main() -> None:\n    f(1)\n",
        5,
        5,
        "f() missing 1 required argument: 'y'",
    ),
    (
        "bad-keyword",
        "def f(x: i32) -> None:\n    pass\n\ndef main() -> None:\n    f(z=1)\n",
        5,
        7,
        "f() got an unexpected keyword argument 'z'",
    ),
    (
        "unsupported-class",
        "class A:\n    pass\n",
        1,
        1,
        "classes must be '@struct' classes",
    ),
    (
        "unsupported-set",
        "def main() -> None:\n    x = {1, 2}\n",
        2,
        9,
        "set literals are not supported",
    ),
    (
        "unsupported-try",
        "def main() -> None:\n    try:\n        pass\n    except ValueError:\n        pass\n",
        2,
        5,
        "try statements are not supported",
    ),
    (
        "unsupported-for",
        "def main() -> None:\n    for c in 1.5:\n        pass\n",
        2,
        14,
        "'f64' object is not iterable",
    ),
    (
        "missing-annotation",
        "def f(x) -> None:\n    pass\n",
        1,
        7,
        "parameter 'x' needs a type annotation",
    ),
    ("unknown-type", "def f(x: set[i32]) -> None:\n    pass\n", 1, 10, "unknown type 'set[i32]'"),
    (
        "missing-return",
        "def f(x: i32) -> i32:\n    if x > 0:\n        return 1\n",
        1,
        1,
        "function 'f' can reach its end without returning a value of type i32",
    ),
    (
        "none-value",
        "def f() -> None:\n    pass\n\ndef main() -> None:\n    x = f()\n",
        5,
        9,
        "function 'f' returns None: it has no value to use",
    ),
    (
        "literal-range",
        "def main() -> None:\n    x: u8 = 300\n",
        2,
        13,
        "integer literal 300 is out of range for u8",
    ),
    (
        "const-global",
        "N = 1\n\ndef main() -> None:\n    N = 2\n",
        4,
        5,
        "cannot assign to const 'N'",
    ),
    (
        "const-local",
        "def main() -> None:\n    const K = 1\n    K = 2\n",
        3,
        5,
        "cannot assign to const 'K'",
    ),
    ("break-outside", "def main() -> None:\n    break\n", 2, 5, "'break' outside a loop"),
    (
        "global-not-constant",
        "def f() -> i32:\n    return 1\n\nX = f()\n",
        4,
        5,
        "the value of global 'X' must be a constant expression",
    ),
    (
        "redefinition",
        "def f() -> None:\n    pass\n\ndef f() -> None:\n    pass\n",
        4,
        1,
        "'f' is already defined at line 1",
    ),
    (
        "raise-non-exception",
        "def main() -> None:\n    raise Foo('x')\n",
        2,
        11,
        "can only raise a builtin exception, not 'Foo'",
    ),
    ("no-main", "def f() -> None:\n    pass\n", 1, 1, "main.spy has no main() function to run"),
    ("bad-main", "def main(x: i32) -> None:\n    pass\n", 1, 1, "main() must take no parameters"),
    ("unknown-module", "import nothere\n", 1, 8, "no module named 'nothere'"),
    (
        "unknown-attribute",
        "import math\n\ndef main() -> None:\n    print(math.tan(1.0))\n",
        4,
        11,
        "module 'math' has no attribute 'tan'",
    ),
    ("var-keyword-col", "var x: i32 = 'a'\n", 1, 14, "mismatched types: expected i32, got str"),
]


@pytest.mark.parametrize(
    ("source", "line", "col", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_compile_error(checker: SpyRunner, source: str, line: int, col: int, message: str) -> None:
    err = checker.compile_error(source)
    text = err.format()
    head, src_line, caret = text.splitlines()
    assert head.startswith(f"main.spy:{line}:{col}: error: ")
    assert message in head
    assert src_line.strip() == source.splitlines()[line - 1].strip()
    # the caret stands under column `col` of the source line shown above it
    assert caret.index("^") == src_line.index(source.splitlines()[line - 1]) + col - 1


def test_import_cycle_is_reported_at_the_import(checker: SpyRunner) -> None:
    err = checker.compile_error(
        "import a\n\ndef main() -> None:\n    pass\n",
        files={"a.spy": "import b\n", "b.spy": "from a import x\n"},
    )
    assert str(err.loc) == "b.spy:1:1"
    assert "import cycle: a -> b -> a" in err.message


def test_error_in_imported_module_names_that_file(checker: SpyRunner) -> None:
    err = checker.compile_error(
        "import lib\n\ndef main() -> None:\n    pass\n",
        files={"lib.spy": "def f() -> i32:\n    return 'x'\n"},
    )
    assert (
        err.format().splitlines()[0]
        == "lib.spy:2:12: error: mismatched types: expected i32, got str"
    )


def test_cli_prints_the_error_without_traceback_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.spy"
    bad.write_text("def main() -> None:\n    print(undefined_name)\n")
    proc = hatch_spy_cli("run", str(bad))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "bad.spy:2:11: error: name 'undefined_name' is not defined",
        "        print(undefined_name)",
        "              ^",
    ]
