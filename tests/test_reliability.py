"""The runtime under threads, callbacks, panics, interrupts, deep recursion,
planted caches and long runs: a real wheel of sample-packages/probes in a
fresh virtual environment, on both backends."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wheelkit import SAMPLES, Venv, build_wheel, installed_env, memory_meters, other_pythons

BACKENDS = ["native", "wasm"]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="native wheels are Linux-only so far"
)


@pytest.fixture(scope="session")
def probes_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(SAMPLES / "probes", tmp_path_factory.mktemp("probes-wheel"))


@pytest.fixture(scope="session")
def probes(
    tmp_path_factory: pytest.TempPathFactory, local_wheels: Path, probes_wheel: Path
) -> Venv:
    return installed_env(
        tmp_path_factory, "probes", local_wheels, str(probes_wheel), "spy-runtime[wasm]"
    )


@pytest.mark.parametrize("python", other_pythons(), ids=lambda p: p.parent.parent.name)
def test_the_abi3_wheel_on_other_pythons(
    python: Path, tmp_path: Path, local_wheels: Path, probes_wheel: Path
) -> None:
    from wheelkit import run

    env = Venv(tmp_path / "venv")
    run([str(python), "-m", "venv", str(env.path)])
    env.pip_install(str(probes_wheel), "spy-runtime[wasm]", find_links=local_wheels)
    code = """
    import threading
    bad = []
    def work(k):
        for i in range(500):
            if p.label("t", k + i) != f"t:{k + i}": bad.append(k)
    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    p.remember("alice")
    try:
        p.deep(10**8)
    except RecursionError as e:
        print(e)
    class Sneaky:
        def __index__(self):
            p.greet("x" * 100)
            return 7
    print(len(bad), p.remember("bob"), p.label("n", Sneaky()), p.busy(1000))
    """
    want = "maximum recursion depth exceeded\n0 alice n:7 2997\n"
    for backend in BACKENDS:
        assert run_probe(env, backend, code) == want, backend


def run_probe(env: Venv, backend: str, code: str, **extra_env: str) -> str:
    proc = env.run_script(
        "import spyprobes.core as p\n" + textwrap.dedent(code),
        env={"SPY_BACKEND": backend, **extra_env},
    )
    return proc.stdout


# ---- memory -------------------------------------------------------------------


MEMORY_PROBE = memory_meters("spyprobes") + textwrap.dedent(
    """
    def wasm_mb():
        return wasm_pages() / 16
    p.grow(10)
    before, pages = peak_mb(), wasm_mb()
    """
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_string_built_with_plus_equals_takes_memory_in_proportion(
    probes: Venv, backend: str
) -> None:
    """40,000 characters by `s += "x"` in one call: each step's old string is
    garbage; without collection during the call the peak was 785 MB."""
    out = run_probe(
        probes,
        backend,
        MEMORY_PROBE
        + "print(p.grow(40000), round(peak_mb() - before), round(wasm_mb() - pages))\n",
    )
    length, grown_mb, wasm_grown_mb = map(int, out.split())
    assert length == 40000
    assert grown_mb < 30 and wasm_grown_mb < 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_ten_million_temporaries_in_one_call_run_in_bounded_memory(
    probes: Venv, backend: str
) -> None:
    out = run_probe(
        probes,
        backend,
        MEMORY_PROBE
        + "print(p.churn(10_000_000), round(peak_mb() - before), round(wasm_mb() - pages))\n",
    )
    total, grown_mb, wasm_grown_mb = map(int, out.split())
    assert total == sum(len(str(i)) + 1 for i in range(10_000_000))
    assert grown_mb < 30 and wasm_grown_mb < 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_calls_allocating_blocks_of_structs_leave_memory_flat(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        MEMORY_PROBE
        + "for _ in range(2000): p.stack_up(100)\n"
        + "before, pages = peak_mb(), wasm_mb()\n"
        + "for _ in range(200_000): assert p.stack_up(100) == 5240\n"
        + "print(round(peak_mb() - before), round(wasm_mb() - pages))\n",
    )
    grown_mb, wasm_grown_mb = map(int, out.split())
    assert grown_mb < 8 and wasm_grown_mb < 8


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_block_stored_in_a_global_outlives_its_call(
    probes: Venv, backend: str, stress: bool
) -> None:
    """Item 0 holds the str argument itself (natively, a view of the Python
    object, which is gone when the call returns): the block keeps a copy."""
    out = run_probe(
        probes,
        backend,
        """
        import gc
        label = "".join(["sh", "elf"])
        p.shelve(100, label)
        del label
        gc.collect()
        for _ in range(50):
            p.stack_up(1000)
            p.churn(2000)
        print(p.shelved(0), p.shelved(57), p.shelved(99))
        """,
        **({"SPY_GC_STRESS": "1"} if stress else {}),
    )
    assert out == "Tally(0, 'shelf') Tally(57, 'shelf57') Tally(99, 'shelf99')\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_replaced_global_block_is_freed(probes: Venv, backend: str) -> None:
    """Each shelve() replaces the global's block (1,000 structs with their
    strings): the old one is freed once no call can see globals."""
    out = run_probe(
        probes,
        backend,
        MEMORY_PROBE
        + "label = 'x' * 50\n"
        + "for _ in range(20): p.shelve(1000, label)\n"
        + "before, pages = peak_mb(), wasm_mb()\n"
        + "for _ in range(2000): p.shelve(1000, label)\n"
        + "print(round(peak_mb() - before), round(wasm_mb() - pages), p.shelved(999)[-8:])\n",
    )
    grown_mb, wasm_grown_mb, tail = out.split()
    assert tail == "xxx999')"
    assert int(grown_mb) < 16 and int(wasm_grown_mb) < 16


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_python_code_replacing_a_global_block_during_a_call(
    probes: Venv, backend: str, stress: bool
) -> None:
    """A print's Python sys.stdout replaces the global's block while the call
    holds the old one: the old block lives until no call can see it."""
    out = run_probe(
        probes,
        backend,
        """
        import sys
        class Replacer:
            def write(self, s):
                if s.strip():
                    p.shelve(100, "new")
                    p.stack_up(500)
            def flush(self):
                pass
        p.shelve(100, "old")
        real, sys.stdout = sys.stdout, Replacer()
        try:
            held = p.shelved_after_print(57)
        finally:
            sys.stdout = real
        print(held, p.shelved(57))
        """,
        **({"SPY_GC_STRESS": "1"} if stress else {}),
    )
    # on wasm the print reaches Python after the call, so nothing replaces it during
    assert out == "Tally(57, 'old57') Tally(57, 'new57')\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_replacing_and_reading_a_global_block(probes: Venv, backend: str) -> None:
    """Old blocks are freed while other threads' calls may hold them: only
    when no call that can see globals runs."""
    out = run_probe(
        probes,
        backend,
        """
        import threading
        bad = []
        def work():
            for i in range(300):
                p.shelve(100, "t")
                got = p.shelved(57)
                # another thread may have just stored a fresh block (its items
                # zero until filled): a race of the program, never garbage
                if got not in ("Tally(57, 't57')", "Tally(0, '')"): bad.append(got)
                p.stack_up(50)
        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(bad), bad[:2])
        """,
    )
    assert out == "0 []\n"


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_collecting_at_once(probes: Venv, backend: str, stress: bool) -> None:
    """Each thread collects its own temporaries; long native calls run
    without the GIL, so the collections overlap."""
    out = run_probe(
        probes,
        backend,
        """
        import threading
        bad = []
        def work(k):
            for i in range(20):
                n = 3000 + 7 * k + i
                if p.grow(n) != n: bad.append(("grow", k, i))
                if p.churn(n) != sum(len(str(j)) + 1 for j in range(n)): bad.append(("churn", k, i))
        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(bad), bad[:3])
        """,
        **({"SPY_GC_STRESS": "1"} if stress else {}),
    )
    assert out == "0 []\n"


@pytest.mark.parametrize("stress", [False, True], ids=["normal", "stress"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_python_code_collecting_during_a_collecting_call(
    probes: Venv, backend: str, stress: bool
) -> None:
    """Every print of `babble` runs a Python sys.stdout that calls compiled
    code which collects its own temporaries: the outer call's string, held
    only by its frame, survives every nested collection."""
    out = run_probe(
        probes,
        backend,
        """
        import sys
        class Busy:
            def __init__(self):
                self.lines = []
            def write(self, s):
                p.grow(500)
                p.churn(200)
                self.lines.append(s)
            def flush(self):
                pass
        real, sys.stdout = sys.stdout, Busy()
        try:
            result = p.babble(300)
        finally:
            busy, sys.stdout = sys.stdout, real
        text = "".join(busy.lines).splitlines()
        want = "".join(str(i % 10) for i in range(300))
        print(result == want, len(text), text[-1] == "at 299 " + want + "!")
        """,
        **({"SPY_GC_STRESS": "1"} if stress else {}),
    )
    assert out == "True 300 True\n"


# ---- threads ----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_calling_at_once_get_correct_results(probes: Venv, backend: str) -> None:
    # the wasm backend used to share one argument buffer: add(3601, 0) gave 1000000
    out = run_probe(
        probes,
        backend,
        """
        import threading
        bad = []
        def work(k):
            for i in range(3000):
                if p.add(k, i) != k + i: bad.append(("add", k, i))
                if p.label("t" + str(k), i) != f"t{k}:{i}": bad.append(("label", k, i))
                p.busy(50)
        threads = [threading.Thread(target=work, args=(k * 100000,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(bad), bad[:3])
        """,
    )
    assert out == "0 []\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_printing_lose_no_line(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        import threading, io, contextlib
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            threads = [threading.Thread(target=p.chatter, args=(200,)) for _ in range(6)]
            for t in threads: t.start()
            for t in threads: t.join()
        # print writes piece by piece, as Python's does: threads may
        # interleave pieces, but none is lost or garbled
        text = buf.getvalue()
        want = "".join(f"line {i} Hello, {i}!" + chr(10) for i in range(200)) * 6
        print(text.count(chr(10)), sorted(text) == sorted(want))
        """,
    )
    assert out == "1200 True\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_long_call_lets_other_python_threads_run(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        import threading
        done = threading.Event()
        spins = 0
        # hold(): a loop clang cannot vectorize, a few hundred ms long
        t = threading.Thread(target=lambda: (p.hold(300_000_000), done.set()))
        t.start()
        while not done.is_set():
            spins += 1
        t.join()
        print(spins > 1000)
        """,
    )
    # holding the GIL, the main thread would not run at all during the call
    assert out == "True\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_var_globals_are_one_per_process_under_threads(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        import threading
        def work():
            for _ in range(5000): p.bump()
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(p.bump())
        """,
    )
    # bump() is short: it runs under the GIL (native) or the module's lock
    # (wasm), so no increment is lost
    assert out == "20001\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_str_global_value_held_by_a_running_call_stays_valid(probes: Venv, backend: str) -> None:
    # hold() keeps the global's value in a local through a long call while
    # other threads replace it: the replaced value must not be freed under it
    out = run_probe(
        probes,
        backend,
        """
        import threading, time
        def replace_soon():
            time.sleep(0.02)  # hold() has read the value by now, most likely
            for k in range(200):
                p.remember("w" * (k % 50))
        stored = {"w" * k for k in range(50)}
        good = 0
        for r in range(10):
            big = chr(65 + r) * (20000 + r)  # a length no other value has
            stored.add(big)
            p.remember(big)
            t = threading.Thread(target=replace_soon)
            t.start()
            held = p.hold(50_000_000)
            t.join()
            # a value that was stored (big, unless the writer came first on
            # a busy machine), never the garbage of a freed one
            good += held[:-1] in stored and held[-1] == "0"
        print(good)
        """,
    )
    assert out == "10\n"


# ---- callbacks: Python code running during a call -----------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_callback_calling_compiled_code(probes: Venv, backend: str) -> None:
    # an __index__ ran during the native call and freed the call's strings
    out = run_probe(
        probes,
        backend,
        """
        class Sneaky:
            def __index__(self):
                for i in range(50):
                    p.greet("x" * 100)
                p.remember("from __index__")
                return p.add(3, 4)
        print(p.label("name" * 10, Sneaky()), p.remember("after"))
        class Floaty:
            def __float__(self):
                p.chatter(1)
                return 2.5
        print(p.scale(Floaty()))
        """,
    )
    assert out == f"{'name' * 10}:7 from __index__\nline 0 Hello, 0!\n2.5\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_to_a_python_stdout_that_calls_compiled_code(probes: Venv, backend: str) -> None:
    # the writer calls compiled code that prints through this same writer.
    # Natively print() writes piece by piece, as CPython's does; the wasm
    # backend hands over buffered lines: where the nested lines land may
    # differ, what is written may not
    out = run_probe(
        probes,
        backend,
        """
        import sys
        class Tee:
            def __init__(self):
                self.parts = []
                self.nested = False
                self.greetings = 0
            def write(self, s):
                self.parts.append(s)
                if "1" in s and not self.nested:
                    self.nested = True
                    p.chatter(2)  # nested: prints through this same object
                if s.strip():
                    self.greetings += p.greet("cb") == "Hello, cb!"
                return len(s)
            def flush(self): pass
        tee, real = Tee(), sys.stdout
        sys.stdout = tee
        p.chatter(3)
        sys.stdout = real
        text = "".join(tee.parts)
        outer = "".join(f"line {i} Hello, {i}!" + chr(10) for i in range(3))
        nested = "".join(f"line {i} Hello, {i}!" + chr(10) for i in range(2))
        print(sorted(text) == sorted(outer + nested), tee.nested, tee.greetings > 0)
        """,
    )
    assert out == "True True True\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_raising_propagates_and_the_module_lives_on(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        import sys
        class Broken:
            def write(self, s): raise OSError("disk full")
            def flush(self): pass
        real = sys.stdout
        sys.stdout = Broken()
        try:
            p.chatter(3)
        except OSError as e:
            err = repr(e)
        sys.stdout = real
        print(err, p.add(1, 2), p.remember("x"))
        """,
    )
    assert out == "OSError('disk full') 3 nobody\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_output_printed_before_a_panic_comes_before_it(probes: Venv, backend: str) -> None:
    # wasm buffers print() output: what a trapped call left must not be lost
    out = run_probe(
        probes,
        backend,
        """
        import io, contextlib
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                p.chatter_then_fail(3)
            except ValueError as e:
                print("raised:", e)
        print(repr(buf.getvalue()))
        """,
    )
    lines = "line 0 Hello, 0!\nline 1 Hello, 1!\nline 2 Hello, 2!\n"
    assert out == repr(lines + "raised: after the output\n") + "\n"


def test_a_printed_line_arrives_while_the_native_call_still_runs(probes: Venv) -> None:
    # the call works for hours after its print: it ends only if the line
    # reaches sys.stdout during the call, whose write then raises. (On wasm a
    # call's output arrives when it ends: see mode_wasm.c.)
    out = run_probe(
        probes,
        "native",
        """
        import sys
        class Stop:
            def write(self, s):
                raise LookupError(s)
            def flush(self): pass
        real, sys.stdout = sys.stdout, Stop()
        try:
            p.announce(10**15)
        except LookupError as e:
            got = str(e)
        sys.stdout = real
        print(repr(got), p.add(1, 2))
        """,
    )
    assert out == "'started' 3\n"


# ---- panics ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_panic_keeps_var_globals(probes: Venv, backend: str) -> None:
    # on wasm a panic used to replace the instance: globals started over
    out = run_probe(
        probes,
        backend,
        """
        p.remember("alice"); p.bump(); p.bump()
        for _ in range(3):
            try:
                p.fail("boom")
            except ValueError:
                pass
        try:
            p.deep(10**8)
        except RecursionError:
            pass
        print(p.remember("bob"), p.bump())
        """,
    )
    assert out == "alice 3\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_panic_message_keeps_embedded_nul(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        try:
            p.nul_message()
        except ValueError as e:
            print(repr(str(e)))
        """,
    )
    assert out == "'before\\x00after'\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_deep_recursion_raises_recursion_error_and_the_module_lives_on(
    probes: Venv, backend: str
) -> None:
    out = run_probe(
        probes,
        backend,
        """
        for f in (p.deep, p.ping):
            try:
                f(10**8)
            except RecursionError as e:
                print("RecursionError")
        print(p.deep(1000), p.ping(1001), p.add(1, 1))
        """,
    )

    def unrolled(n: int, factors: tuple[int, int]) -> int:
        """deep/ping in a loop: the innermost level (1) first; level k
        multiplies by factors[k % 2] (ping alternates with pong)."""
        value = 0
        for k in range(1, n + 1):
            value = (value * factors[(n - k) % 2] + k) % 1000003
        return value

    assert out == (
        f"RecursionError\nRecursionError\n{unrolled(1000, (3, 3))} {unrolled(1001, (3, 5))} 2\n"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_deep_recursion_in_several_threads_at_once(probes: Venv, backend: str) -> None:
    # each thread has its own stack and so its own limit
    out = run_probe(
        probes,
        backend,
        """
        import threading
        results = []
        def work():
            try:
                p.deep(10**8)
                results.append("no error")
            except RecursionError:
                results.append(p.deep(1000))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(results)
        """,
    )
    assert out == "[304412, 304412, 304412, 304412]\n"


# ---- arguments -----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrapper_names_never_collide_with_user_names(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        print(p.collide(1, 2, 3, 4, 5), p.collide(c=1, type=2, result=3, to_str=4, WasmTrap=5))
        print(p.cell(4, 1), p.cell(cell=4, pkg=1))
        """,
    )
    assert out == "12345 12345\n9 9\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_f64_out_of_f32_range_is_overflow_error(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        for x in (1e39, -1e39, 2.0**128 - 2.0**103):
            try:
                p.scale(x)
            except OverflowError as e:
                print(e)
        print(p.scale(3.4028235e38), p.scale(float("inf")), p.scale(2.0**128 - 2.0**104))
        """,
    )
    assert out.splitlines() == [
        "scale() argument 'x' is out of range for f32: 1e+39",
        "scale() argument 'x' is out of range for f32: -1e+39",
        "scale() argument 'x' is out of range for f32: 3.4028235677973366e+38",
        "3.4028234663852886e+38 inf 3.4028234663852886e+38",
    ]


def test_signatures_are_the_declared_parameters(probes: Venv) -> None:
    out = run_probe(
        probes, "native", "import inspect; print(inspect.signature(p.label), p.label.__name__)"
    )
    assert out == "(name, n) label\n"


# ---- memory ------------------------------------------------------------------------


# remember_nonempty stores only inside an `if`: the compiler once missed
# such stores, and natively their old values were never freed
@pytest.mark.parametrize("store", ["remember", "remember_nonempty"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_str_globals_free_the_values_they_replace(probes: Venv, backend: str, store: str) -> None:
    out = run_probe(
        probes,
        backend,
        memory_meters("spyprobes")
        + textwrap.dedent(
            """
            store = p.STORE
            big = "x" * 1000
            for _ in range(2000):
                store(big)
            rss, pg = peak_mb(), wasm_pages()
            for _ in range(200_000):
                store(big)
            print(p.swap("carol"), p.swap("dave")[:6], round(peak_mb() - rss), wasm_pages() - pg)
            """
        ).replace("STORE", store),
    )
    swapped, tail, grown_mb, grown_pages = out.split()
    assert swapped == "x" * 1000 + "|carol" and tail == "carol|"
    assert int(grown_pages) < 16  # allocator slack; leaking, this grew by 3,000 pages
    assert int(grown_mb) < 20  # leaking, 200,000 values of 1 kB are 200 MB


# ---- Ctrl-C ---------------------------------------------------------------------

INTERRUPTED = """
import os, sys, asyncio, threading
how = sys.argv[1]
def body():
    import spyprobes.core as p
    print("ready", flush=True)
    try:
        p.spin(1)  # endless, and free of side effects
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print("next", p.add(2, 3), flush=True)
    try:
        p.deep(50)
        p.busy(10**15)
    except KeyboardInterrupt:
        print("interrupted again", flush=True)
if how == "plain":
    body()
elif how == "asyncio":
    async def main():
        body()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
elif how == "thread-import":
    t = threading.Thread(target=__import__, args=("spyprobes.core",))
    t.start(); t.join()
    body()
elif how == "fork":
    import spyprobes.core
    spyprobes.core.add(1, 2)
    pid = os.fork()
    if pid == 0:
        body()
        os._exit(0)
    try:
        os.waitpid(pid, 0)
    except KeyboardInterrupt:
        os.waitpid(pid, 0)
"""


def start_script(probes: Venv, backend: str, script: Path, *args: str) -> subprocess.Popen[str]:
    """`script` in the probes' Python, in a session of its own (to signal it and
    everything it forks), its output in text pipes."""
    return subprocess.Popen(
        [probes.python, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SPY_BACKEND": backend},
        start_new_session=True,
    )


def interrupt_until_line(proc: subprocess.Popen[str]) -> str:
    """Send SIGINT to the process group every half second until a line comes
    (asyncio's handler lets the first Ctrl-C only cancel its task, as it
    does for pure Python)."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    for _ in range(20):
        os.killpg(proc.pid, signal.SIGINT)
        if sel.select(timeout=0.5):
            return proc.stdout.readline()
    return "(no answer)"


@pytest.mark.parametrize("how", ["plain", "asyncio", "thread-import", "fork"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_interrupts_long_calls_and_the_next_call_runs(
    probes: Venv, backend: str, how: str, tmp_path: Path
) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    proc = start_script(probes, backend, script, how)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.2)
        first = interrupt_until_line(proc)
        after = proc.stdout.readline()
        time.sleep(0.2)
        second = interrupt_until_line(proc)
        _, err = proc.communicate(timeout=20)
    finally:  # the whole session: a forked child too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert (first, after, second) == ("interrupted\n", "next 5\n", "interrupted again\n"), err
    assert "Traceback" not in err.replace("KeyboardInterrupt", "") or how != "plain", err


PRINTING = """
import io, sys
import spyprobes.core as p
p.add(1, 2)
sys.__stdout__.write("ready\\n")
sys.__stdout__.flush()
sys.stdout = io.StringIO()
try:
    p.chatter(10**8)
except KeyboardInterrupt:
    sys.__stdout__.write("interrupted\\n")
    sys.__stdout__.flush()
sys.__stdout__.write(f"next {p.add(2, 3)}\\n")
sys.__stdout__.flush()  # at exit Python flushes sys.stdout, which is not this
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_during_a_print_heavy_call(probes: Venv, backend: str, tmp_path: Path) -> None:
    # on wasm, output handed over during a call went through a host callback,
    # and a Ctrl-C that met wasmtime-py's trampoline killed the process (8
    # runs of 10 with hand-overs every 4 KiB, 1 of 20 every 50 ms)
    script = tmp_path / "printing.py"
    script.write_text(PRINTING)
    for _ in range(3):
        proc = start_script(probes, backend, script)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
            time.sleep(0.3)
            first = interrupt_until_line(proc)
            after = proc.stdout.readline()  # from the text buffer, which may hold it
            out, err = proc.communicate(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        assert (proc.returncode, first + after + out) == (0, "interrupted\nnext 5\n"), err


# ---- the compiled-module cache -----------------------------------------------------


def test_planted_or_damaged_cache_entries_are_recompiled_not_run(
    probes: Venv, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    env = {"SPY_RUNTIME_CACHE_DIR": str(cache)}
    assert run_probe(probes, "wasm", "print(p.add(2, 3))", **env) == "5\n"
    (entry,) = (cache / "wasm").glob("*.cwasm")
    genuine = entry.read_bytes()
    # a foreign module under the genuine key: another package's compiled code
    other = tmp_path / "other.cwasm"
    code = f"""
    import wasmtime
    e = wasmtime.Engine()
    m = wasmtime.Module(e, '(module (func (export "f") (result i32) i32.const -1))')
    open({str(other)!r}, "wb").write(m.serialize())
    """
    probes.run_script(code)
    plants = {
        "foreign": other.read_bytes(),
        "foreign with its own checksum": other.read_bytes() + genuine[-32:],
        "flipped machine code": bytes(
            b ^ 0xFF if 4000 <= i < 4008 else b for i, b in enumerate(genuine)
        ),
        "truncated": genuine[: len(genuine) // 2],
        "empty": b"",
    }
    for name, data in plants.items():
        entry.write_bytes(data)
        out = run_probe(probes, "wasm", "print(p.add(2, 3), p.greet('z'))", **env)
        assert out == "5 Hello, z!\n", name
        assert entry.read_bytes() == genuine, name  # replaced by a good entry


def test_a_cache_folder_others_can_write_is_not_used(probes: Venv, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "wasm").mkdir(parents=True)
    os.chmod(cache / "wasm", 0o777)
    out = run_probe(probes, "wasm", "print(p.add(2, 3))", SPY_RUNTIME_CACHE_DIR=str(cache))
    assert out == "5\n"
    assert list((cache / "wasm").iterdir()) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_between_calls_does_not_reach_the_next_call(probes: Venv, backend: str) -> None:
    """A Ctrl-C that Python handled while no compiled call ran is spent: the
    next long call runs to its end."""
    out = run_probe(
        probes,
        backend,
        """
        import os, signal, time
        p.add(1, 2)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            print("python had it")
        time.sleep(0.3)
        print(p.busy(3_000_000))
        """,
    )
    assert out == f"python had it\n{sum(i % 7 for i in range(3_000_000))}\n"


def run_with_one_ctrl_c(probes: Venv, backend: str, script: Path, *args: str) -> tuple[str, str]:
    """Run `script` (which prints "ready" before its long call), send one
    SIGINT 0.3 s later, and return what it printed after "ready"."""
    proc = start_script(probes, backend, script, *args)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        return proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


LEFT_TO_HANDLER = """
import asyncio, signal, sys
import spyprobes.core as p
N = 1_500_000_000  # about 1.5 s of loop on either backend
expected = N // 7 * 21 + (N % 7) * (N % 7 - 1) // 2
def long_call():
    print("ready", flush=True)
    print("finished", p.busy(N) == expected, flush=True)
if sys.argv[1] == "asyncio":
    async def main():
        long_call()
        await asyncio.sleep(0)  # where the cancelled task learns of it
        print("not reached")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("KeyboardInterrupt after the call")
else:
    heard = []
    signal.signal(signal.SIGINT, lambda *args: heard.append(1))
    long_call()
    print("handler ran", len(heard))
"""


@pytest.mark.parametrize("handler", ["asyncio", "own"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_one_ctrl_c_is_left_to_the_program_s_own_handler(
    probes: Venv, backend: str, handler: str, tmp_path: Path
) -> None:
    """Under a SIGINT handler of the program's own, a Ctrl-C does what it does
    to pure Python: the handler runs (asyncio's cancels the task, to be raised
    at the next await) and the compiled call finishes with its result. The
    wasm backend once trapped the call and raised KeyboardInterrupt."""
    script = tmp_path / "handled.py"
    script.write_text(LEFT_TO_HANDLER)
    out, err = run_with_one_ctrl_c(probes, backend, script, handler)
    last = "KeyboardInterrupt after the call" if handler == "asyncio" else "handler ran 1"
    assert out == f"finished True\n{last}\n", err


IN_A_WORKER = """
import threading, time
import spyprobes.core as p
N = 1_500_000_000
expected = N // 7 * 21 + (N % 7) * (N % 7 - 1) // 2
results = []
def work():
    try:
        results.append(p.busy(N) == expected)
    except BaseException as e:
        results.append(type(e).__name__)
t = threading.Thread(target=work)
t.start()
print("ready", flush=True)
try:
    time.sleep(30)
except KeyboardInterrupt:
    print("main interrupted", flush=True)
t.join()
print("worker", results)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_goes_to_the_main_thread_not_to_a_worker_s_call(
    probes: Venv, backend: str, tmp_path: Path
) -> None:
    """KeyboardInterrupt is the main thread's, as in Python: a long call in
    another thread runs to its end (on wasm it used to trap too)."""
    script = tmp_path / "worker.py"
    script.write_text(IN_A_WORKER)
    out, err = run_with_one_ctrl_c(probes, backend, script)
    assert out == "main interrupted\nworker [True]\n", err


# ---- structs, gc_alloc and repr() inside a call -----------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_calling_struct_code_at_once(probes: Venv, backend: str) -> None:
    out = run_probe(
        probes,
        backend,
        """
        import threading, io, contextlib
        bad = []
        def work(k):
            for i in range(150):
                n = k + i
                want = f"Tally({3 * n * (n - 1) // 2}, 't{k}')"
                if p.tally(n, f"t{k}") != want: bad.append((k, i))
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            threads = [threading.Thread(target=work, args=(k * 10,)) for k in range(6)]
            for t in threads: t.start()
            for t in threads: t.join()
        print(len(bad), bad[:3], buf.getvalue().count(chr(10)))
        """,
    )
    assert out == "0 [] 900\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_struct_code_whose_print_calls_back_into_it(probes: Venv, backend: str) -> None:
    """Python code runs during the call (a sys.stdout whose write() calls
    compiled code again): the outer call's struct and block are untouched."""
    out = run_probe(
        probes,
        backend,
        """
        import sys
        class Writer:
            def __init__(self):
                self.lines, self.inner, self.nested = [], [], False
            def write(self, s):
                self.lines.append(s)
                if len(self.inner) < 3 and not self.nested:
                    self.nested = True  # the inner call prints too
                    self.inner.append(p.tally(4, "inner"))
                    self.nested = False
            def flush(self):
                pass
        w, real = Writer(), sys.stdout
        sys.stdout = w
        try:
            result = p.tally(1000, "outer")
        finally:
            sys.stdout = real
        print(result, sorted(set(w.inner)), "Tally(1498500, 'outer')" in "".join(w.lines))
        """,
    )
    assert out == "Tally(1498500, 'outer') [\"Tally(18, 'inner')\"] True\n"
