"""len() of a string is an i32: past 2**31 - 1 characters it is an OverflowError
on every target, never a wrapped length."""

from __future__ import annotations

import subprocess

import pytest
import wasmtime

from conftest import SpyRunner
from hatch_spy.toolchain import Toolchain, get_target

# A string header claiming n characters (no bytes behind it: len() reads only the count).
HARNESS = r"""
#include <stdio.h>
#include "spy.h"

int main(void) {
    static const size_t counts[] = {0, 1, 2147483647u, 2147483648u, 4294967295u};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        spy_Str s = {.length = 0, .ncp = counts[i], .utf8 = "", .kind = SPY_STR_STATIC};
        printf("%d\n", (int)spy_str_len(&s, "harness", 7));
        fflush(stdout);
    }
    return 0;
}
"""


def run(toolchain: Toolchain, target: str) -> tuple[str, str, int]:
    exe = toolchain.build_executable(HARNESS, get_target(target))
    if target == "native":
        proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
        return proc.stdout, proc.stderr, proc.returncode
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasi = wasmtime.WasiConfig()
    out, err = exe.with_suffix(".out"), exe.with_suffix(".err")
    wasi.stdout_file, wasi.stderr_file = str(out), str(err)
    store.set_wasi(wasi)
    start = linker.instantiate(store, wasmtime.Module.from_file(engine, str(exe)))
    func = start.exports(store)["_start"]
    assert isinstance(func, wasmtime.Func)
    code = 0
    try:
        func(store)
    except wasmtime.ExitTrap as e:
        code = e.code
    return out.read_text(), err.read_text(), code


@pytest.mark.parametrize("target", ["native", "wasm"])
def test_len_past_int32_max_is_an_overflow_error(toolchain: Toolchain, target: str) -> None:
    out, err, code = run(toolchain, target)
    assert out.split() == ["0", "1", "2147483647"]
    assert code == 1
    assert err.splitlines() == [
        '  File "harness", line 7',
        "OverflowError: len() of a string of more than 2147483647 characters (len is an i32)",
    ]


def available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


@pytest.mark.skipif(
    available_memory() < 8 << 30,
    reason="builds a 2 GiB string by doubling: about 4.3 GB natively",
)
def test_len_of_a_huge_string_in_a_program(spy: SpyRunner) -> None:
    """2**31 one-byte characters, by doubling with `+` (the intermediates stay
    in the arena: 4 GiB in all). Natively len() raises. wasm32-wasi's malloc
    stops at about 2 GiB, so there the string cannot be made: MemoryError
    (that it does not print a length is what matters)."""
    result = spy.run(
        """
        def main() -> None:
            s = "a"
            for i in range(31):
                s = s + s
            print(len(s))
        """
    )
    assert result.returncode == 1
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    if spy.target == "native":
        assert last == (
            "OverflowError: len() of a string of more than 2147483647 characters (len is an i32)"
        )
    else:
        assert last.startswith(("MemoryError: ", "OverflowError: len() "))
