"""hello-spy: functions written in SPy, compiled ahead of time."""

from hello.core import (
    add,
    clamp,
    collatz_total,
    fib,
    greet,
    mean_of_squares,
    remember,
    report,
    safe_div,
)

__all__ = [
    "add",
    "clamp",
    "collatz_total",
    "fib",
    "greet",
    "mean_of_squares",
    "remember",
    "report",
    "safe_div",
]
