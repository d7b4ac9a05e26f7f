"""Statements, functions, globals and boolean logic, on both targets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SpyRunner


def test_if_elif_else(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def sign(x: i32) -> str:
            if x < 0:
                return "negative"
            elif x == 0:
                return "zero"
            elif x < 10:
                return "small"
            else:
                return "large"

        def main() -> None:
            print(sign(-5), sign(0), sign(3), sign(99))
        """
    )
    assert out.split() == ["negative", "zero", "small", "large"]


def test_while_with_break_and_continue(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            i = 0
            total = 0
            while True:
                i += 1
                if i % 2 == 0:
                    continue
                if i > 9:
                    break
                total += i
            print(i, total)
        """
    )
    assert out.split() == ["11", "25"]


@pytest.mark.parametrize(
    "args",
    [
        "5",
        "2, 7",
        "0, 10, 3",
        "10, 0, -3",
        "10, 0, -1",
        "5, 5",
        "5, 0",
        "0, 5, -1",
        "-5, 5, 4",
        "3, -3, -2",
    ],
)
def test_for_range_matches_python(spy: SpyRunner, args: str) -> None:
    out = spy.output(
        f"""
        def main() -> None:
            for i in range({args}):
                print(i)
        """
    )
    assert out.split() == [str(i) for i in eval(f"range({args})")]


def test_range_near_the_type_limit_does_not_overflow(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            n = 0
            for i in range(2147483640, 2147483647, 3):
                n += 1
                print(i)
            for j in range(-2147483640, -2147483648, -5):
                print(j)
            print(n)
        """
    )
    expected = [*range(2147483640, 2147483647, 3), *range(-2147483640, -2147483648, -5), 3]
    assert out.split() == [str(v) for v in expected]


def test_loop_variable_survives_the_loop_and_body_changes_do_not_steer_it(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            count = 0
            for i in range(5):
                count += 1
                i = 100
            print(i, count)
            for k in range(1, 10, 4):
                pass
            print(k)
        """
    )
    assert out.split() == ["100", "5", "9"]


def test_range_step_zero_is_a_valueerror(spy: SpyRunner) -> None:
    result = spy.run(
        """
        def main() -> None:
            step = 0
            for i in range(0, 10, step):
                print(i)
        """
    )
    assert result.returncode == 1
    assert "ValueError: range() arg 3 must not be zero" in result.stderr


def test_nested_loops_break_only_the_inner(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            for i in range(3):
                for j in range(3):
                    if j > i:
                        break
                    print(i, j)
        """
    )
    assert out.splitlines() == ["0 0", "1 0", "1 1", "2 0", "2 1", "2 2"]


def test_recursion_and_calls_in_any_order(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            print(fact(10), is_even(10), is_odd(7), fib(20))

        def fact(n: i64) -> i64:
            if n <= 1:
                return 1
            return n * fact(n - 1)

        def is_even(n: i32) -> bool:
            if n == 0:
                return True
            return is_odd(n - 1)

        def is_odd(n: i32) -> bool:
            if n == 0:
                return False
            return is_even(n - 1)

        def fib(n: int) -> int:
            if n <= 1:
                return n
            else:
                return fib(n - 1) + fib(n - 2)
        """
    )
    assert out.split() == ["3628800", "True", "True", "6765"]


def test_keyword_arguments(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def sub(a: i32, b: i32) -> i32:
            return a - b

        def main() -> None:
            print(sub(10, 3), sub(b=10, a=3), sub(10, b=1))
        """
    )
    assert out.split() == ["7", "-7", "9"]


def test_module_constants_and_var_globals(spy: SpyRunner) -> None:
    out = spy.output(
        """
        N: i32 = 10
        M = N * 2 + 1
        GREETING = "hi " + "there"
        SCALE: f64 = 1.5
        var counter: i32 = 0
        var label: str = "start"

        def increment() -> None:
            counter = counter + 1

        def main() -> None:
            const LIMIT = 5
            print(N + 1, M, GREETING, SCALE * 2)
            for i in range(LIMIT):
                increment()
            counter += 10
            label = "end"
            print(counter, label)
        """
    )
    assert out.splitlines() == ["11 21 hi there 3.0", "15 end"]


def test_annotated_locals_and_inference_from_first_assignment(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            a = 1
            b = 2.5
            c = "s"
            d = True
            e: i64 = 1
            e = e << 40
            f: u8 = 250
            f += 10
            print(a, b, c, d, e, f)
        """
    )
    assert out.split() == ["1", "2.5", "s", "True", str(1 << 40), "4"]


def test_chained_comparisons(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            x = 5
            print(1 < x < 10, 1 < x > 10, 0 <= x <= 5 < 6, 3 == 3 != 4, 1 < x < 10 < 7)
        """
    )
    assert out.split() == ["True", "False", "True", "True", "False"]


def test_chained_comparison_evaluates_each_operand_once_and_in_order(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def v(x: i32) -> i32:
            print("eval", x)
            return x

        def main() -> None:
            print(v(1) < v(2) < v(3))
            print(v(5) < v(2) < v(3))
        """
    )
    assert out.splitlines() == [
        "eval 1",
        "eval 2",
        "eval 3",
        "True",
        "eval 5",
        "eval 2",
        "False",
    ]


def test_operands_and_arguments_evaluate_left_to_right(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def v(x: i32) -> i32:
            print("eval", x)
            return x

        def three(a: i32, b: i32, c: i32) -> i32:
            return a * 100 + b * 10 + c

        def main() -> None:
            print(v(1) - v(2))
            print(three(v(3), v(4), v(5)))
        """
    )
    assert out.splitlines() == ["eval 1", "eval 2", "-1", "eval 3", "eval 4", "eval 5", "345"]


def test_print_evaluates_every_argument_before_printing(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def v(x: i32) -> i32:
            print("eval", x)
            return x

        def main() -> None:
            print("first", v(1), v(2))
        """
    )
    assert out.splitlines() == ["eval 1", "eval 2", "first 1 2"]


def test_tail_recursion_keeps_python_semantics(spy: SpyRunner) -> None:
    # the backend turns these into loops (accumulator tail-recursion
    # elimination): results, wrapping and evaluation order must not change
    out = spy.output(
        """
        def fib(n: i32) -> i32:
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)

        def fact(n: i64) -> i64:
            if n <= 1:
                return 1
            return n * fact(n - 1)

        def count(n: i32, acc: i32) -> i32:
            if n == 0:
                return acc
            return count(n - 1, acc + 1)

        def wrap(n: i32) -> i32:
            if n == 0:
                return 2147483647
            return 1 + wrap(n - 1)

        def loud(x: i32) -> i32:
            print("loud", x)
            return x

        def order(n: i32) -> i32:
            if n == 0:
                return 0
            return loud(n) + order(n - 1)

        def main() -> None:
            print(fib(25), fact(20), fact(25), count(10000000, 0), wrap(3))
            print(order(3))
        """
    )
    fact25 = 15511210043330985984000000 % (1 << 64)  # 25! wrapped to i64
    fact25 = fact25 - (1 << 64) if fact25 >= 1 << 63 else fact25
    assert out.splitlines() == [
        f"75025 2432902008176640000 {fact25} 10000000 -2147483646",
        "loud 3",
        "loud 2",
        "loud 1",
        "6",
    ]


def test_keyword_arguments_evaluate_in_written_order(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def v(x: i32) -> i32:
            print("eval", x)
            return x

        def sub(a: i32, b: i32) -> i32:
            return a - b

        def main() -> None:
            print(sub(b=v(1), a=v(2)))
        """
    )
    assert out.splitlines() == ["eval 1", "eval 2", "1"]


def test_and_or_not_short_circuit(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def loud(b: bool) -> bool:
            print("called")
            return b

        def main() -> None:
            print(False and loud(True))
            print(True or loud(True))
            print(True and loud(False))
            print(not 0, not "x", 1 < 2 and 2 < 3 or False)
        """
    )
    assert out.splitlines() == ["False", "True", "called", "False", "True False True"]


def test_conditional_expression(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            for i in range(3):
                print("even" if i % 2 == 0 else "odd", 1.5 if i == 1 else 2)
        """
    )
    assert out.splitlines() == ["even 2.0", "odd 1.5", "even 2.0"]


def test_main_return_value_is_the_exit_code(spy: SpyRunner) -> None:
    result = spy.run(
        """
        def main() -> i32:
            print("bye")
            return 42
        """
    )
    assert (result.returncode, result.stdout) == (42, "bye\n")


@pytest.mark.parametrize(("status", "code"), [(300, 44), (-1, 255), (256, 0), (255, 255)])
def test_main_exit_status_is_its_low_byte_on_both_targets(
    spy: SpyRunner, status: int, code: int
) -> None:
    # on wasm a status outside 0..255 used to be an internal error
    result = spy.run(
        f"""
        def main() -> i32:
            return {status}
        """
    )
    assert result.returncode == code, result.stderr


def test_break_and_continue_across_poll_chunks(spy: SpyRunner) -> None:
    # `for` runs in chunks of 4096 iterations (two C loops): a break must
    # leave both, continue and the loop variable must behave as in Python
    source = """
        def main() -> None:
            total: i64 = 0
            last = 0
            for i in range(3, 20000):
                if i % 3 == 0:
                    continue
                if i == 13000:
                    break
                total += i
                last = i
            print(total, last)
            k = 0
            for j in range(50000, -7, -7):
                k = j
                if j < 4100:
                    break
            print(k)
            n: u8 = 0
            for b in range(250):
                n = u8(b)
            print(n)
            count = 0
            for x in range(-2147483648, -2147483648 + 9000):
                count += 1
            print(count)
        """
    total, last = 0, 0
    for i in range(3, 20000):
        if i % 3 == 0:
            continue
        if i == 13000:
            break
        total += i
        last = i
    k = next(j for j in range(50000, -7, -7) if j < 4100)
    assert spy.output(source) == f"{total} {last}\n{k}\n249\n9000\n"


def test_deep_recursion_is_a_recursion_error(spy: SpyRunner) -> None:
    # natively the stack overflowed and the process died of SIGSEGV
    result = spy.run(
        """
        def deep(n: i32) -> i32:
            if n <= 0:
                return 0
            r = deep(n - 1)
            return (r * 3 + n) % 1000003

        def main() -> None:
            print(deep(1000))
            print(deep(100000000))
        """
    )
    assert (result.returncode, result.stdout) == (1, "304412\n"), result.stderr
    assert result.stderr.splitlines()[-1] == "RecursionError: maximum recursion depth exceeded"


def test_a_loop_without_side_effects_runs_forever(spy: SpyRunner, tmp_path: Path) -> None:
    # C lets the compiler assume such a loop ends (and delete it); SPy's
    # semantics do not: it must still be running when we give up waiting
    spy.write(
        """
        def count(n: i32) -> i32:
            c = 0
            while n > 0:
                c = c + 1
            return c

        def main() -> None:
            print(count(1))
        """
    )
    cmd = [
        sys.executable,
        "-m",
        "hatch_spy",
        "run",
        str(tmp_path / "main.spy"),
        "--target",
        spy.target,
    ]
    # a session of its own, so that the program the runner started dies too
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, start_new_session=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.communicate(timeout=3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def test_truthiness_in_conditions(spy: SpyRunner) -> None:
    out = spy.output(
        """
        def main() -> None:
            n = 3
            s = ""
            while n:
                n -= 1
            if not s:
                print("empty", n)
        """
    )
    assert out.strip() == "empty 0"
