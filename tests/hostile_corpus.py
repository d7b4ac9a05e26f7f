"""A corpus of malformed and hostile SPy programs (issue 6).

Every program must either give a clean compile error or compile and behave
the same on both targets. A case is one or more files (bytes, so that BOMs,
NUL bytes, CRLF and invalid UTF-8 can be written), the entry being main.spy.
"""

from __future__ import annotations

import itertools
import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes]
    # "error": must be a compile error (containing `fragment`); "ok": must
    # compile and run (printing `out` when given); None: either
    expect: str | None = None
    fragment: str = ""
    out: str | None = None
    # (line, column) the error must point at, 1-based as printed
    at: tuple[int, int] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def single_file(self) -> bool:
        return list(self.files) == ["main.spy"]


def src(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode("utf-8")


def main_only(body: str) -> bytes:
    """A main() whose body is `body` (one statement a line)."""
    lines = body.strip("\n").split("\n")
    return ("def main() -> None:\n" + "".join(f"    {line}\n" for line in lines)).encode()


CASES: list[Case] = []


def add(
    name: str,
    files: bytes | dict[str, bytes],
    expect: str | None = None,
    fragment: str = "",
    out: str | None = None,
    at: tuple[int, int] | None = None,
) -> None:
    if isinstance(files, bytes):
        files = {"main.spy": files}
    CASES.append(Case(name, files, expect, fragment, out, at))


# ---- malformed syntax -----------------------------------------------------------

SYNTAX = {
    "unclosed-paren": "def main() -> None:\n    print((1 + 2)\n",
    "unclosed-bracket-eof": "def main() -> None:\n    x = [1, 2\n",
    "stray-close": "def main() -> None:\n    x = 1)\n",
    "bad-indent": "def main() -> None:\n  x = 1\n    y = 2\n",
    "unindent-mismatch": "def main() -> None:\n    if True:\n        x = 1\n      y = 2\n",
    "no-body": "def main() -> None:\n",
    "lone-elif": "def main() -> None:\n    elif x:\n        pass\n",
    "lone-else": "def main() -> None:\n    else:\n        pass\n",
    "double-equals-assign": "def main() -> None:\n    x = = 1\n",
    "unterminated-string": "def main() -> None:\n    print('abc)\n",
    "unterminated-triple": 'def main() -> None:\n    print("""abc)\n',
    "backslash-eof": "def main() -> None:\n    x = 1 + \\",
    "print-statement": "def main() -> None:\n    print 1\n",
    "missing-colon": "def main() -> None\n    pass\n",
    "keyword-as-name": "def main() -> None:\n    class = 1\n",
    "def-no-name": "def () -> None:\n    pass\n",
    "bad-arrow": "def main() => None:\n    pass\n",
    "var-alone": "var\n",
    "var-equals": "var = 1\ndef main() -> None:\n    print(var)\n",
    "const-no-name": "const = 2\ndef main() -> None:\n    pass\n",
    "var-var": "var var x = 1\n",
    "var-in-expression": "def main() -> None:\n    x = var y\n",
    "star-call": "def main() -> None:\n    print(*)\n",
    "walrus": "def main() -> None:\n    if (x := 1):\n        print(x)\n",
    "lambda": "def main() -> None:\n    f = lambda: 1\n",
    "decorator": "@foo\ndef main() -> None:\n    pass\n",
    "async-def": "async def main() -> None:\n    pass\n",
    "match-stmt": "def main() -> None:\n    match 1:\n        case 1:\n            pass\n",
    "yield": "def main() -> None:\n    yield 1\n",
    "nested-def": "def main() -> None:\n    def g() -> None:\n        pass\n",
    "class-in-func": "def main() -> None:\n    class A:\n        pass\n",
    "global-stmt-bad": "def main() -> None:\n    global nothing\n",
    "nonlocal": "def main() -> None:\n    nonlocal x\n",
    "return-outside": "return 1\n",
    "break-outside": "def main() -> None:\n    break\n",
    "continue-outside": "def main() -> None:\n    continue\n",
    "tuple-assign": "def main() -> None:\n    a, b = 1, 2\n",
    "chained-assign": "def main() -> None:\n    a = b = 1\n",
    "subscript": "def main() -> None:\n    s = 'ab'\n    print(s[0])\n",
    "fstring": "def main() -> None:\n    x = 1\n    print(f'{x}')\n",
    "dict-literal": "def main() -> None:\n    d = {1: 2}\n",
    "try-except": "def main() -> None:\n    try:\n        pass\n    except:\n        pass\n",
    "with-stmt": "def main() -> None:\n    with x:\n        pass\n",
    "del-stmt": "def main() -> None:\n    x = 1\n    del x\n",
    "bare-raise": "def main() -> None:\n    raise\n",
    "raise-from": "def main() -> None:\n    raise ValueError('a') from None\n",
    "while-else": "def main() -> None:\n    while False:\n        pass\n    else:\n        pass\n",
    "for-else": "def main() -> None:\n    for i in range(3):\n        pass\n    else:\n        pass\n",
    "range-4-args": "def main() -> None:\n    for i in range(1, 2, 3, 4):\n        pass\n",
    "range-float": "def main() -> None:\n    for i in range(1.5):\n        pass\n",
    "range-u64": "def main() -> None:\n    n: u64 = 3\n    for i in range(n):\n        pass\n",
    "for-over-str": "def main() -> None:\n    for c in 'abc':\n        pass\n",
    "is-operator": "def main() -> None:\n    print(1 is 1)\n",
    "in-operator": "def main() -> None:\n    print('a' in 'abc')\n",
    "matmul": "def main() -> None:\n    print(1 @ 2)\n",
    "ellipsis": "def main() -> None:\n    x = ...\n",
    "complex-literal": "def main() -> None:\n    x = 1j\n",
    "bytes-literal": "def main() -> None:\n    x = b'a'\n",
    "default-param": "def f(x: i32 = 1) -> None:\n    pass\ndef main() -> None:\n    f()\n",
    "kwonly-param": "def f(*, x: i32) -> None:\n    pass\ndef main() -> None:\n    pass\n",
    "varargs": "def f(*a: i32) -> None:\n    pass\ndef main() -> None:\n    pass\n",
    "star-import": "from math import *\ndef main() -> None:\n    pass\n",
    "import-in-func": "def main() -> None:\n    import math\n",
    "attr-on-local": "def main() -> None:\n    x = 1\n    print(x.real)\n",
    "call-non-function": "def main() -> None:\n    x = 1\n    x()\n",
    "call-call": "def main() -> None:\n    print(1)(2)\n",
    "module-level-expr": "print(1)\ndef main() -> None:\n    pass\n",
    "module-level-if": "if True:\n    pass\ndef main() -> None:\n    pass\n",
    "tab-space-mix": "def main() -> None:\n\tx = 1\n        y = 2\n",
    "only-tabs-error": "def main() -> None:\n\tprint(undefined)\n",
    "semicolons": "def main() -> None:\n    x = 1; y = 2; print(x + y)\n",
}
for name, text in SYNTAX.items():
    add(name, text.encode(), None)

# ---- type errors and their neighbours ---------------------------------------------

TYPE_ERRORS = {
    "str-plus-int": ("x = 'a' + 1", "unsupported operand types for +"),
    "bool-plus-bool": ("x = True + False", "unsupported operand types"),
    "str-minus": ("x = 'a' - 'b'", "unsupported operand types for -"),
    "float-bitand": ("x = 1.5 & 2.0", "unsupported operand types for &"),
    "str-lt": ("print('a' < 1)", "unsupported operand types for <"),
    "none-value": ("x = print(1)", "print() returns None"),
    "len-int": ("print(len(5))", "has no len()"),
    "int-of-none": ("x = i32(None)", ""),
    "u8-300": ("x: u8 = 300", "out of range for u8"),
    "i8-neg-200": ("x: i8 = -200", "out of range for i8"),
    "literal-too-big": ("x = 18446744073709551616", "too large for any SPy integer type"),
    "literal-huge": ("x = " + "9" * 500, "too large"),
    "unknown-type": ("x: list = 1", "unknown type"),
    "type-as-value": ("x = 1\nx = i32", "'i32' is a type, known only at compile time"),
    "redeclare-type": ("x = 1\nx: str = 'a'", "already declared"),
    "assign-str-to-int": ("x = 1\nx = 'a'", "mismatched types"),
    "not-a-function": ("x = 1\nprint(x(2))", "not a function"),
    "undefined-name": ("print(nothing_here)", "is not defined"),
    "undefined-call": ("nothing_here()", "is not defined"),
    "range-as-value": ("x = range(3)", "range()"),
    "raise-unknown": ("raise Nope('x')", "can only raise a builtin exception"),
    "raise-two-args": ("raise ValueError('a', 'b')", "takes at most 1 argument"),
    "raise-int-msg": ("raise ValueError(1)", "mismatched types"),
    "assert-int-msg": ("assert True, 1", "mismatched types"),
    "cast-str-to-bool-kw": ("x = i32(x=1)", "keyword"),
    "cast-two-args": ("x = i32(1, 2)", "exactly one argument"),
    "truth-of-none": ("if print(1):\n    pass", "print() returns None"),
    "unary-not-str-minus": ("x = -'a'", "bad operand type"),
    "invert-float": ("x = ~1.5", "bad operand type"),
    "shift-float": ("x = 1.0 << 2", "unsupported operand types for <<"),
    "str-times": ("x = 'a' * 1.5", "unsupported operand types for *"),
    "ifexp-mismatch": ("x = 1 if True else 'a'", "unsupported operand types"),
    "const-local-reassign": ("const k = 1\nk = 2", "cannot assign to const"),
    "math-missing": ("import_math = 1\nprint(math.sqrt(2.0))", "name 'math' is not defined"),
}
for name, (body, frag) in TYPE_ERRORS.items():
    add(name, main_only(body), "error", frag)

add(
    "global-not-const",
    src("""
        def f() -> i32:
            return 1

        X = f()

        def main() -> None:
            print(X)
    """),
    "error",
    "must be a constant expression",
)
add("no-main", b"def f() -> None:\n    pass\n", "error", "has no main() function")
add("main-with-param", b"def main(x: i32) -> None:\n    pass\n", "error", "no parameters")
add("main-returns-str", b"def main() -> str:\n    return 'a'\n", "error", "must return None or i32")
add("missing-return", b"def f() -> i32:\n    pass\ndef main() -> None:\n    pass\n", "error")
add("redefined-function", b"def main() -> None:\n    pass\ndef main() -> None:\n    pass\n")
add("param-none", b"def f(x: None) -> None:\n    pass\ndef main() -> None:\n    pass\n", "error")
add("param-no-annotation", b"def f(x) -> None:\n    pass\ndef main() -> None:\n    pass\n")
add("global-none", b"X = None\ndef main() -> None:\n    pass\n", "error")
add(
    "global-no-value", b"X: i32\ndef main() -> None:\n    pass\n", "error", "needs an initial value"
)

# ---- empty and near-empty files -----------------------------------------------------

add("empty", b"", "error", "has no main() function")
add("only-newlines", b"\n\n\n", "error", "has no main() function")
add("only-comment", b"# nothing here\n", "error", "has no main() function")
add("only-spaces", b"      ", "error")
add("only-docstring", b'"""doc"""\n', "error", "has no main() function")
add("no-final-newline", b"def main() -> None:\n    print(1)", "ok", out="1\n")

# ---- bytes and encodings ----------------------------------------------------------

add("bom", b"\xef\xbb\xbf" + main_only("print('bom')"), "ok", out="bom\n")
add("bom-var", b"\xef\xbb\xbfvar n: i32 = 3\n" + main_only("print(n)"), "ok", out="3\n")
add("bom-error-col", b"\xef\xbb\xbfx = nope\n", "error", "not defined", at=(1, 5))
add("double-bom", b"\xef\xbb\xbf\xef\xbb\xbf" + main_only("pass"), "error")
add(
    "latin1-in-string",
    b"def main() -> None:\n    print('caf\xe9')\n",
    "error",
    "not valid UTF-8",
    at=(2, 15),
)
add("latin1-in-comment", b"# \xff\xfe\ndef main() -> None:\n    pass\n", "error", "not valid UTF-8")
add("utf16-file", "def main() -> None:\n    pass\n".encode("utf-16"), "error", "not valid UTF-8")
add("truncated-utf8", b"def main() -> None:\n    print('\xe2\x82')\n", "error", "not valid UTF-8")
add(
    "encoded-surrogate",
    b"def main() -> None:\n    print('\xed\xa0\x80')\n",
    "error",
    "not valid UTF-8",
)
add("overlong-utf8", b"def main() -> None:\n    print('\xc0\xaf')\n", "error", "not valid UTF-8")
add("nul-in-code", b"def main() -> None:\n    x = 1\x00\n", "error", "NUL", at=(2, 10))
add("nul-in-string", b"def main() -> None:\n    print('a\x00b')\n", "error", "NUL")
add("nul-in-comment", b"# \x00\ndef main() -> None:\n    pass\n", "error", "NUL", at=(1, 3))
add("nul-escape-ok", main_only("print('a\\x00b', len('a\\x00b'))"), "ok", out="a\x00b 3\n")
add("crlf", b"def main() -> None:\r\n    print(1)\r\n", "ok", out="1\n")
add("crlf-error", b"def main() -> None:\r\n    print(nope)\r\n", "error", "not defined", at=(2, 11))
add("cr-only", b"def main() -> None:\r    print(2)\r", "ok", out="2\n")
add("cr-only-error", b"def main() -> None:\r    x = 1\r    print(nope)\r", "error", at=(3, 11))
add("mixed-newlines", b"def main() -> None:\r\n    x = 1\n    print(x)\r", "ok", out="1\n")
add("formfeed-comment", b"# a\x0cb\ndef main() -> None:\n    print(nope)\n", "error", at=(3, 11))
add(
    "line-separator-comment",
    "# a\u2028b\ndef main() -> None:\n    print(nope)\n".encode(),
    "error",
    at=(3, 11),
)
add("line-separator-string", main_only("print('a\u2028b')"), "ok", out="a\u2028b\n")
add("next-line-char-in-string", main_only("print('a\x85b')"), "ok", out="a\x85b\n")
add("vertical-tab-string", main_only("print(len('a\\x0bb'))"), "ok", out="3\n")
add("lone-surrogate", main_only("print('\\ud800')"), "error", "surrogate", at=(2, 11))
add("lone-low-surrogate", main_only("x = '\\udfff'"), "error", "surrogate")
add("surrogate-pair-escapes", main_only("x = '\\ud83d\\ude00'"), "error", "surrogate")
add(
    "surrogate-global",
    b"S = 'a' + '\\ud800'\ndef main() -> None:\n    print(S)\n",
    "error",
    "surrogate",
)
add("emoji", main_only("s = '\U0001f600x'\nprint(s, len(s))"), "ok", out="\U0001f600x 2\n")
add(
    "rtl-text",
    main_only("print('\u05e9\u05dc\u05d5\u05dd')"),
    "ok",
    out="\u05e9\u05dc\u05d5\u05dd\n",
)
add("zwj-string", main_only("print(len('\U0001f468\u200d\U0001f469'))"), "ok", out="3\n")
add("max-codepoint", main_only("print(len('\\U0010ffff'))"), "ok", out="1\n")
add("caret-after-accents", main_only("s = 'éé' + nope"), "error", "not defined", at=(2, 16))
add("caret-after-cjk", main_only("s = '漢字' + nope"), "error", "not defined", at=(2, 16))
add("caret-after-emoji", main_only("s = '\U0001f600' + nope"), "error", "not defined", at=(2, 15))
add("caret-after-combining", main_only("s = 'e\u0301' + nope"), "error", at=(2, 16))
add("tab-before-error", b"def main() -> None:\n\tx = 'a\xc3\xa9' + 1\n", "error", at=(2, 6))
add("var-after-unicode", "var é: i32 = 'a'\n".encode(), "error", "mismatched", at=(1, 14))

# ---- identifiers that meet in C -----------------------------------------------------

add(
    "escape-collision",
    src("""
        def xé() -> i32:
            return 1

        def x_u00e9() -> i32:
            return 2

        def x__u00e9_() -> i32:
            return 3

        def main() -> None:
            print(xé(), x_u00e9(), x__u00e9_())
    """),
    "ok",
    out="1 2 3\n",
)
add(
    "escape-collision-locals",
    main_only("ñ = 1\nn_u00f1 = 2\nn__u00f1 = 3\nñ_ = 4\nprint(ñ, n_u00f1, n__u00f1, ñ_)"),
    "ok",
    out="1 2 3 4\n",
)
add(
    "hex-length-collision",
    # U+1040 then "0" once read as U+10400
    main_only("a\u10400 = 1\na\U00010400 = 2\nprint(a\u10400, a\U00010400)"),
    "ok",
    out="1 2\n",
)
add(
    "cjk-names",
    src("""
        総計: i32 = 10

        def 足す(甲: i32, 乙: i32) -> i32:
            return 甲 + 乙 + 総計

        def main() -> None:
            print(足す(1, 2))
    """),
    "ok",
    out="13\n",
)
add(
    "nfkc-collision",
    main_only("ﬁ = 1\nfi = 2\nprint(ﬁ)"),
    "ok",
    out="2\n",
)
add(
    "c-keywords",
    src("""
        def static(int: i32, char: i32) -> i32:
            return int + char

        def main() -> None:
            auto = 1
            register = 2
            unsigned = 3
            goto = static(auto, register) + unsigned
            sizeof = 1
            typedef = 2
            struct = sizeof + typedef
            print(goto, struct)
    """),
    "ok",
    out="6 3\n",
)
add(
    "c-library-names",
    src("""
        def printf(x: i32) -> i32:
            return x + 1

        def malloc(x: i32) -> i32:
            return x * 2

        def spy_print_i64(x: i32) -> i32:
            return x - 1

        def main() -> None:
            exit = printf(1) + malloc(2) + spy_print_i64(3)
            print(exit)
    """),
    "ok",
    out="8\n",
)
add(
    "backend-temp-names",
    main_only(
        "_acc = 1\n_tail = 2\n_e1 = 3\n_i1 = 4\n_a = 5\n_p0 = 6\nv_x = 7\nx = 8\n"
        "for _k1 in range(2):\n    _acc += _k1\nprint(_acc, _tail, _e1, _i1, _a, _p0, v_x, x)"
    ),
    "ok",
    out="2 2 3 4 5 6 7 8\n",
)
add(
    "clone-suffix-names",
    src("""
        def f(n: i32) -> i32:
            if n < 2:
                return n
            return f(n - 1) + f(n - 2)

        def f_r1(n: i32) -> i32:
            return 100

        def r1() -> i32:
            return 7

        def main() -> None:
            print(f(10), f_r1(1), r1())
    """),
    "ok",
    out="55 100 7\n",
)
add(
    "globals-vs-functions",
    src("""
        lit = 1
        var spy_lit_0: i32 = 2
        spy_file_0 = "x"

        def main() -> None:
            global spy_lit_0
            spy_lit_0 += lit
            print(spy_lit_0, spy_file_0, "lit")
    """),
    "ok",
    out="3 x lit\n",
)
add(
    "long-identifier",
    main_only(f"{'a' * 5000} = 1\nprint({'a' * 5000})"),
    "ok",
    out="1\n",
)
add(
    "long-unicode-identifier",
    main_only(f"{'é' * 2000} = 2\nprint({'é' * 2000})"),
    "ok",
    out="2\n",
)
add("dollar-not-identifier", main_only("a$b = 1"), "error", "invalid syntax")

# ---- modules that meet in C -----------------------------------------------------------

add(
    "module-dollar-vs-package",
    {
        "main.spy": src("""
            import a.b as ab
            import a_b

            def main() -> None:
                print(ab.f(), a_b.f())
        """),
        "a/b.spy": b"def f() -> i32:\n    return 1\n",
        "a_b.spy": b"def f() -> i32:\n    return 2\n",
    },
    "ok",
    out="1 2\n",
)
add(
    "module-named-like-clone",
    {
        "main.spy": src("""
            import m
            import m.f as mf

            def main() -> None:
                print(m.f(10), mf.r1(), mf.export())
        """),
        "m.spy": b"def f(n: i32) -> i32:\n    if n < 2:\n        return n\n    return f(n - 1) + f(n - 2)\n",
        "m/f.spy": b"def r1() -> i32:\n    return 5\n\ndef export() -> i32:\n    return 6\n",
    },
    "ok",
    out="55 5 6\n",
)
add(
    "module-unicode-name",
    {
        "main.spy": b"import \xc3\xa9t\xc3\xa9\n\ndef main() -> None:\n    print(\xc3\xa9t\xc3\xa9.f())\n",
        "\u00e9t\u00e9.spy": b"def f() -> i32:\n    return 3\n",
    },
    "ok",
    out="3\n",
)
add(
    "import-missing", b"import nothere\ndef main() -> None:\n    pass\n", "error", "no module named"
)
add(
    "from-missing",
    b"from nothere import x\ndef main() -> None:\n    pass\n",
    "error",
    "no module named",
)
add(
    "import-dotted-missing",
    b"import a.b.c as x\ndef main() -> None:\n    pass\n",
    "error",
    "no module",
)
add("import-self", b"import main\ndef main() -> None:\n    pass\n", "error", "import cycle")
add(
    "relative-outside",
    b"from . import x\ndef main() -> None:\n    pass\n",
    "error",
    "outside a package",
)
add("relative-too-far", b"from ... import x\ndef main() -> None:\n    pass\n", "error")
add(
    "import-math-attr",
    b"import math\ndef main() -> None:\n    print(math.tan(1.0))\n",
    "error",
    "no attribute",
)
add(
    "import-dotted-no-as",
    {"main.spy": b"import a.b\ndef main() -> None:\n    pass\n", "a/b.spy": b"X = 1\n"},
    "error",
    "import a.b as NAME",
)
add(
    "import-cycle",
    {
        "main.spy": b"import a\ndef main() -> None:\n    pass\n",
        "a.spy": b"import b\n",
        "b.spy": b"import a\n",
    },
    "error",
    "import cycle",
)
add(
    "import-broken-module",
    {"main.spy": b"import lib\ndef main() -> None:\n    pass\n", "lib.spy": b"def f(:\n"},
    "error",
    "invalid syntax",
)
add(
    "import-non-utf8-module",
    {"main.spy": b"import lib\ndef main() -> None:\n    pass\n", "lib.spy": b"X = '\xff'\n"},
    "error",
    "not valid UTF-8",
)
add(
    "import-module-that-is-a-folder",
    {"main.spy": b"import lib\ndef main() -> None:\n    pass\n", "lib.spy/x.spy": b""},
    "error",
    "no module named",
)
add(
    "import-private-name",
    {
        "main.spy": b"from lib import math\ndef main() -> None:\n    pass\n",
        "lib.spy": b"import math\n",
    },
    "error",
    "has no attribute",
)
add(
    "import-function-twice",
    {
        "main.spy": b"from lib import f\nfrom lib import f\ndef main() -> None:\n    pass\n",
        "lib.spy": b"def f() -> None:\n    pass\n",
    },
    "error",
    "already defined",
)

# ---- deep nesting and big programs ------------------------------------------------------


def chain(op: str, n: int) -> bytes:
    return main_only("x = 1\ny = " + f"x {op} " * n + "x\nprint(y)")


add("plus-199", chain("+", 198), "ok", out="199\n")
add("plus-250", chain("+", 250), "error", "nested too deeply", at=(3, 9))
add("plus-100000", chain("+", 100_000), "error", "nested too deeply")
add("minus-chain-190", chain("-", 190), "ok", out="-189\n")
add(
    "unary-minus-5000",
    main_only("x = 1\ny = " + "-" * 5000 + "x\nprint(y)"),
    "error",
    "nested too deeply",
)
add("unary-not-150", main_only("y = " + "not " * 150 + "True\nprint(y)"), "ok", out="True\n")
add("parens-150", main_only("y = " + "(" * 150 + "1" + ")" * 150 + "\nprint(y)"), "ok", out="1\n")
add("parens-300", main_only("y = " + "(" * 300 + "1" + ")" * 300), "error")
add(
    "and-chain-3000",
    main_only("x = True\ny = " + " and ".join(["x"] * 3000) + "\nprint(y)"),
    "ok",
    out="True\n",
)
add(
    "compare-chain-500",
    main_only("x = 1\nprint(" + " <= ".join(["x"] * 500) + ")"),
    "ok",
    out="True\n",
)
add(
    "ifexp-chain-150",
    main_only(
        "x = 3\ny = " + "".join(f"{i} if x == {i} else " for i in range(150)) + "-1\nprint(y)"
    ),
    "ok",
    out="3\n",
)
add(
    "ifexp-chain-1000",
    main_only("x = 3\ny = " + "".join(f"{i} if x == {i} else " for i in range(1000)) + "-1"),
    "error",
    "nested too deeply",
)
add(
    "nested-calls-150",
    src("def f(x: i32) -> i32:\n    return x + 1\n")
    + main_only("print(" + "f(" * 150 + "0" + ")" * 150 + ")"),
    "ok",
    out="150\n",
)
add(
    "str-concat-150",
    main_only("s = " + " + ".join(["'a'"] * 150) + "\nprint(len(s))"),
    "ok",
    out="150\n",
)


def elifs(n: int) -> bytes:
    lines = ["def main() -> None:", "    x = 7", "    if x == 0:", "        print(0)"]
    for i in range(1, n):
        lines += [f"    elif x == {i}:", f"        print({i})"]
    lines += ["    else:", "        print(-1)"]
    return ("\n".join(lines) + "\n").encode()


add("elif-900", elifs(900), "ok", out="7\n")
add("elif-1500", elifs(1500), "error", "nested too deeply")
add("elif-5000", elifs(5000), "error", "nested too deeply")
add("elif-12000", elifs(12000), "error", "nested too deeply")


def nested_ifs(n: int) -> bytes:
    lines = ["def main() -> None:", "    x = 1"]
    for i in range(n):
        lines.append("    " * (i + 1) + "if x > 0:")
    lines.append("    " * (n + 1) + "print('deep')")
    return ("\n".join(lines) + "\n").encode()


add("nested-ifs-90", nested_ifs(90), "ok", out="deep\n")
add("nested-ifs-120", nested_ifs(120), "error", "invalid syntax")
add(
    "nested-loops-30",
    main_only(
        "n = 0\n"
        + "".join("    " * i + f"for i{i} in range(1):\n" for i in range(30))
        + "    " * 30
        + "n += 1\nprint(n)"
    ),
    "ok",
    out="1\n",
)
add("many-statements", main_only("x = 0\n" + "x = x + 1\n" * 3000 + "print(x)"), "ok", out="3000\n")
add(
    "many-functions",
    b"".join(f"def f{i}() -> i32:\n    return {i}\n".encode() for i in range(500))
    + main_only("print(f499() + f1())"),
    "ok",
    out="500\n",
)
add(
    "many-globals",
    b"".join(f"G{i} = {i}\n".encode() for i in range(1000)) + main_only("print(G999)"),
    "ok",
    out="999\n",
)
add(
    "long-line-string",
    main_only("s = '" + "x" * 200_000 + "'\nprint(len(s))"),
    "ok",
    out="200000\n",
)
add("long-line-error", main_only("s = '" + "x" * 100_000 + "' + 1"), "error", "unsupported operand")
add("long-comment", b"#" + b"c" * 500_000 + b"\n" + main_only("print(1)"), "ok", out="1\n")
add("deep-string-escapes", main_only("print('" + "\\n" * 1000 + "'.__len__)"), "error")

# ---- huge and odd constants ----------------------------------------------------------

CONSTS = {
    "pow-huge-exponent": ("X: i32 = 2 ** 10000000000", "ok", "0\n"),
    "pow-huge-odd-base": ("X: i64 = 3 ** 10000000001", "ok", None),
    "shl-huge": ("X: i64 = 1 << (1 << 62)", "ok", "1\n"),  # the inner shift is i32: 0
    "shl-huge-i64": ("N: i64 = 1\nX: i64 = 1 << (N << 62)", "ok", "0\n"),
    "shr-huge-negative": ("X: i64 = -5 >> 100000", "ok", "-1\n"),
    "shl-64": ("X: u64 = u64(1) << 64", "ok", "0\n"),
    "shl-negative": ("X: i32 = 1 << -1", "error", "negative shift count"),
    "pow-negative-int": ("X: i32 = 2 ** -1", "error", "negative exponent"),
    "float-pow-overflow": ("X = 10.0 ** 400", "error", "OverflowError"),
    "float-pow-fraction-of-negative": ("X = (-8.0) ** 0.5", "error", "ValueError"),
    "float-pow-zero-negative": ("X = 0.0 ** -1.0", "error", "ZeroDivisionError"),
    "float-pow-ok": ("X = 2.0 ** 0.5", "ok", "1.4142135623730951\n"),
    "float-pow-negative-int": ("X = (-2.0) ** 3.0", "ok", "-8.0\n"),
    "int-div-zero": ("X = 1 // 0", "error", "ZeroDivisionError"),
    "int-mod-zero": ("X = 1 % 0", "error", "ZeroDivisionError"),
    "true-div-zero": ("X = 1 / 0", "error", "ZeroDivisionError"),
    "float-div-zero": ("X = 1.0 / 0.0", "error", "ZeroDivisionError"),
    "float-floordiv-zero": ("X = 1.0 // 0.0", "error", "ZeroDivisionError"),
    "float-mod-zero": ("X = 1.0 % 0.0", "error", "ZeroDivisionError"),
    "i64-true-div": ("X = 9007199254740993 / 3", "ok", "3002399751580330.5\n"),
    "u64-true-div": ("X: u64 = 18446744073709551615\nY = X / 7", "ok", None),
    "min-floordiv-minus-one": ("X: i32 = -2147483648 // -1", "ok", "-2147483648\n"),
    "min-mod-minus-one": ("X: i64 = -9223372036854775808 % -1", "ok", "0\n"),
    "f32-overflow": ("X: f32 = 1e300", "ok", "inf\n"),
    "f32-neg-overflow": ("X: f32 = -1e39", "ok", "-inf\n"),
    "float-inf-literal": ("X = 1e999", "ok", "inf\n"),
    "float-nan": ("X = 1e999 - 1e999", "ok", "nan\n"),
    "int-literal-4301-digits": ("X = " + "1" * 4301, "error", ""),
    "u64-max-plus-one": ("X: u64 = 18446744073709551615\nY: u64 = X + 1", "ok", "0\n"),
    "i64-min": ("X: i64 = -9223372036854775808", "ok", "-9223372036854775808\n"),
    "i32-wrap-mul": ("X: i32 = 65536 * 65536", "ok", "0\n"),
    "float-to-int-global": ("X: i32 = i32(1.5)", "error", "constant expression"),
    "u8-wrap-cast": ("X = u8(300)", "ok", "44\n"),
    "string-concat-global": ("X = 'a' + 'b' * 1", "error", ""),
}
for name, (decl, expect, out) in CONSTS.items():
    add(
        name,
        (decl + "\n").encode() + main_only("print(Y)" if "\nY" in decl else "print(X)"),
        expect,
        (out or "") if expect == "error" else "",
        out if expect == "ok" else None,
    )

add(
    "i64-div-fold-matches-runtime",
    src("""
        X = 9007199254740993 / 3

        def main() -> None:
            a: i64 = 9007199254740993
            print(X, a / 3, X == a / 3)
    """),
    "ok",
    out="3002399751580330.5 3002399751580330.5 True\n",
)
add(
    "runtime-pow-huge",
    main_only("e: i64 = 10000000000\nprint(2 ** e, 3 ** e)"),
    "ok",
)

# ---- blue code, structs and unsafe ---------------------------------------------------

BLUE_CASES: list[tuple[str, str, str | None, str]] = [
    (
        "blue-self-struct",
        "@struct\nclass A:\n    a: A\ndef main() -> None:\n    pass\n",
        "error",
        "a struct cannot hold itself: use a pointer (gc_ptr[A])",
    ),
    (
        "blue-recursive-generic-struct",
        "@struct\nclass N[T]:\n    n: N[T]\ndef main() -> None:\n    x = N[i32]\n",
        "error",
        "blue calls nested deeper than",
    ),
    (
        "blue-returns-itself",
        "@blue\ndef f(x):\n    return f\ndef main() -> None:\n    print(f(1)(2))\n",
        "error",
        "known only at compile time",
    ),
    (
        "blue-metafunc-no-opspec",
        "@blue.metafunc\ndef m(x):\n    return 1\ndef main() -> None:\n    m(1)\n",
        "error",
        "must return an OpSpec",
    ),
    (
        "blue-generic-of-function",
        "def g[T](x: T) -> T:\n    return x\ndef main() -> None:\n    print(g[g](1))\n",
        "error",
        "is not a type",
    ),
    (
        "blue-dict-missing-key",
        "@blue\ndef f():\n    d = {1: 2}\n    return d[3]\ndef main() -> None:\n    print(f())\n",
        "error",
        "KeyError: 3",
    ),
    (
        "blue-tuple-index",
        "@blue\ndef f():\n    t = (1, 2)\n    return t[5]\ndef main() -> None:\n    print(f())\n",
        "error",
        "tuple index out of range",
    ),
    (
        "blue-getattr-red-name",
        "@struct\nclass P:\n    x: i32\ndef main() -> None:\n    n = 'x'\n    n = 'y'\n    print(getattr(P(1), n))\n",
        "error",
        "must be blue",
    ),
    (
        "in-on-int",
        "def main() -> None:\n    print(1 in 2)\n",
        "error",
        "'in' is not supported for i32",
    ),
    (
        "struct-eq-returns-int",
        "@struct\nclass P:\n    x: i32\n    def __eq__(self, o: P) -> i32:\n        return self.x - o.x\ndef main() -> None:\n    print(P(1) == P(2), P(1) != P(1))\n",
        "ok",
        "True True\n",  # != is not __eq__, whose 0 is false
    ),
    (
        "unsafe-alloc-wraps-negative",
        "from unsafe import gc_alloc\ndef main() -> None:\n    p = gc_alloc[i32](10**18)\n",
        None,
        "",
    ),
    (
        "unsafe-index-i64-max",
        "from unsafe import gc_alloc\ndef main() -> None:\n    p = gc_alloc[u8](1)\n    print(p[9223372036854775807])\n",
        None,
        "",
    ),
    (
        "struct-huge-field-count",
        "@struct\nclass S:\n"
        + "".join(f"    f{i}: i64\n" for i in range(2000))
        + "def main() -> None:\n    pass\n",
        "ok",
        "",
    ),
]
for blue_name, blue_text, blue_expect, blue_detail in BLUE_CASES:
    if blue_expect == "ok":
        add(blue_name, blue_text.encode(), "ok", out=blue_detail or None)
    else:
        add(blue_name, blue_text.encode(), blue_expect, blue_detail)

# ---- every pair of types meets every operator once -------------------------------------

VALUES = {
    "i8": "-5",
    "u8": "200",
    "i32": "-7",
    "u32": "4000000000",
    "i64": "9007199254740993",
    "u64": "18446744073709551615",
    "f32": "1.5",
    "f64": "0.1",
    "bool": "True",
    "str": "'s'",
}
OPS = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "==", "<"]
for i, (t1, t2) in enumerate(itertools.product(VALUES, repeat=2)):
    op = OPS[i % len(OPS)]
    body = f"a: {t1} = {VALUES[t1]}\nb: {t2} = {VALUES[t2]}\nprint(a {op} b)"
    add(f"types-{t1}-{op}-{t2}", main_only(body))
