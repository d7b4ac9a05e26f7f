"""The wasm backend: a package's `.wasm` in an engine instance, its exports
wrapped as Python functions that check arguments like the native extension.

Threads: one instance per package per process, so `var` globals mean the same
as natively (one value per process). A wasm store runs one call at a time:
each package has a re-entrant lock, held from writing the arguments to
reading the result, and re-entered by a callback on the same thread (print
to a Python sys.stdout that calls compiled code). Arguments are converted
before the lock is taken, since converting runs Python code (`__index__`).

Traps: a panic traps at a known point; the backend reads the panic, puts the
stack pointer back where the call began and lowers the module's nesting
depth, so the instance, its heap and its globals live on. A trap of unknown
cause (a bug) makes a fresh instance, since its state cannot be trusted.
"""

from __future__ import annotations

import keyword
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

from spy_abi import Function
from spy_abi.types import Kind, SpyType

from ._convert import to_bool, to_f32, to_float, to_int, to_str
from ._marshal import decoder, encoder, needs_marshal, write_back
from ._panic import SpyPanic, raise_panic
from ._structs import checker
from .engine import Engine, Instance, RawCall, WasmTrap

# libspy's SPY_PANIC_HOST (spy.h): the host's own exception is pending
PANIC_HOST = "<host exception>"


def wasm_kind(t: SpyType) -> str:
    """The wasm value type that carries a value of the type across the boundary."""
    if t.wasm is None:
        raise TypeError(f"{t} has no value to pass")
    return t.wasm


# how struct.pack writes a scalar field in wasm32 memory (little-endian);
# a str field is the address of its spy_Str
SCALAR_CODES = {
    ("int", 8, True): "b",
    ("int", 8, False): "B",
    ("int", 32, True): "i",
    ("int", 32, False): "I",
    ("int", 64, True): "q",
    ("int", 64, False): "Q",
    ("float", 32, True): "f",
    ("float", 64, True): "d",
}


class StructCodec:
    """Writes a struct instance into wasm memory and reads one back, at the
    offsets the type model gives for wasm32."""

    def __init__(self, t: SpyType, classes: Mapping[str, type]) -> None:
        self.type = t
        self.size = t.layout("wasm").size
        self.leaves: list[SpyType] = []
        fmt, end = ["<"], 0
        for offset, leaf in self._leaves(t, 0):
            fmt.append("x" * (offset - end))
            if leaf.kind is Kind.BOOL:
                fmt.append("?")
            elif leaf.kind is Kind.STR:
                fmt.append("I")
            else:
                fmt.append(SCALAR_CODES[(leaf.kind.value, leaf.bits, leaf.signed)])
            end = offset + leaf.layout("wasm").size
            self.leaves.append(leaf)
        fmt.append("x" * (self.size - end))
        self.packer = struct.Struct("".join(fmt))
        self.classes = classes

    def _leaves(self, t: SpyType, base: int) -> Iterator[tuple[int, SpyType]]:
        for f, offset in zip(t.fields, t.field_offsets("wasm"), strict=True):
            if f.type.kind is Kind.STRUCT:
                yield from self._leaves(f.type, base + offset)
            else:
                yield base + offset, f.type

    def pack(self, value: Any, pkg: WasmPackage, strs: list[int]) -> bytes:
        """The bytes of instance `value`; each str field becomes a spy_Str made
        in wasm memory, its address appended to `strs` to be freed."""
        flat: list[Any] = []
        self._flatten(value, flat)
        for i, leaf in enumerate(self.leaves):
            if leaf.kind is Kind.STR:
                flat[i] = pkg.host_str(flat[i].encode("utf-8"), strs)
        return self.packer.pack(*flat)

    def _flatten(self, value: Any, out: list[Any]) -> None:
        for v in value._spy_values:
            if hasattr(v, "_spy_values"):
                self._flatten(v, out)
            else:
                out.append(v)

    def unpack(self, data: bytes, pkg: WasmPackage) -> Any:
        flat = list(self.packer.unpack(data))
        for i, leaf in enumerate(self.leaves):
            if leaf.kind is Kind.STR:
                flat[i] = pkg.read_str(flat[i])
        return self._build(self.type, iter(flat))

    def _build(self, t: SpyType, flat: Iterator[Any]) -> Any:
        values = [
            self._build(f.type, flat) if f.type.kind is Kind.STRUCT else next(flat)
            for f in t.fields
        ]
        return self.classes[t.fqn]._spy_raw(*values)  # type: ignore[attr-defined]


class WasmPackage:
    """One compiled package's wasm module, instantiated once per process."""

    def __init__(
        self, engine: Engine, wasm: Path, sha256: str, classes: Mapping[str, type] | None = None
    ) -> None:
        self.engine = engine
        self.classes = classes or {}
        self.wasm = wasm
        self.sha256 = sha256
        self.lock = threading.RLock()
        self.depth = 0  # calls of this package running, nested by callbacks
        self.entry_sp: dict[int, int | None] = {}  # depth -> stack pointer at entry
        self.generation = 0  # counts fresh instances
        # symbol -> [RawCall]: wrappers read the cell, so a fresh instance
        # can replace every call at once
        self.cells: dict[str, list[RawCall]] = {}
        self.signatures: dict[str, tuple[list[str], list[str]]] = {}
        self._fresh()

    def _fresh(self) -> None:
        inst: Instance = self.engine.instantiate(self.wasm, self.sha256)
        self.instance = inst
        self.generation += 1
        self.base_sp = inst.stack_pointer
        self._panic_info = inst.raw_call("spy_panic_info", [], ["i32"])
        self._recover = inst.raw_call("spy_recover", ["i32"], [])
        out_buffer = inst.raw_call("spy_out_buffer", [], ["i32"])
        out_buffer()
        self._out_at = out_buffer.i32[0] & 0xFFFFFFFF
        self.out_len = inst.word(self._out_at + 4)  # print() output not handed over yet
        self._alloc = inst.raw_call("spy_alloc", ["i32"], ["i32"])
        self._free = inst.raw_call("spy_free", ["i32"], [])
        self._str_from_host = inst.raw_call("spy_str_from_host", ["i32", "i32"], ["i32"])
        self._str_free_host = inst.raw_call("spy_str_free_host", ["i32"], [])
        self._scratch, self._scratch_size = 0, 0  # see scratch()
        for symbol, (params, results) in self.signatures.items():
            self.cells[symbol][0] = inst.raw_call(symbol, params, results)
        self._init_globals(inst)

    def _init_globals(self, inst: Instance) -> None:
        """Run the modules' init (their run-time `var` globals), once per
        instance; a wheel built before runtime ABI 0.4 has none to run."""
        try:
            init = inst.raw_call("spy_init", [], [])
        except LookupError:
            return
        try:
            init()
        except WasmTrap as trap:
            self.drain_output()
            panic = self._read_panic()
            if panic is None:
                raise SpyPanic("WasmTrap", f"while setting the globals: {trap}") from None
            raise_panic(*panic)
        if self.out_len.value:
            self.drain_output()

    def cell(self, symbol: str, params: list[str], results: list[str]) -> list[RawCall]:
        with self.lock:
            if symbol not in self.cells:
                self.signatures[symbol] = (params, results)
                self.cells[symbol] = [self.instance.raw_call(symbol, params, results)]
            return self.cells[symbol]

    def save_sp(self, depth: int) -> None:
        """Before a nested call: where its trap must put the stack pointer back."""
        self.entry_sp[depth] = self.instance.stack_pointer

    # ---- strings across the boundary --------------------------------------

    def host_str(self, data: bytes, strs: list[int]) -> int:
        """A spy_Str in wasm memory holding `data`; returns its address, also
        appended to `strs` to be freed (release) after the call."""
        self._alloc.i32[0] = len(data) or 1
        self._call(self._alloc)
        buf = self._alloc.i32[0] & 0xFFFFFFFF
        if buf == 0:
            raise MemoryError(f"no room for a {len(data)}-byte string in the wasm module's memory")
        self.instance.write(buf, data)
        c = self._str_from_host
        c.i32[0] = buf
        c.i32[c.stride_32] = len(data)
        self._call(c)
        result = c.i32[0] & 0xFFFFFFFF
        self._free.i32[0] = buf
        self._call(self._free)
        if result == 0:
            raise MemoryError(f"no room for a {len(data)}-byte string in the wasm module's memory")
        strs.append(result)
        return result

    def struct_in(self, codec: StructCodec, value: Any, blocks: list[int], strs: list[int]) -> int:
        """A copy of struct instance `value` in wasm memory; returns its address.
        The block goes into `blocks`, its strings into `strs`, to be freed."""
        data = codec.pack(value, self, strs)
        address = self.block(len(data), blocks)
        self.instance.write(address, data)
        return address

    def block(self, size: int, blocks: list[int]) -> int:
        """`size` bytes of wasm memory, noted in `blocks` to be freed."""
        self._alloc.i32[0] = size
        self._call(self._alloc)
        address = self._alloc.i32[0] & 0xFFFFFFFF
        if address == 0:
            raise MemoryError(f"no room for a {size}-byte struct in the wasm module's memory")
        blocks.append(address)
        return address

    def scratch(self, size: int) -> int:
        """`size` bytes of wasm memory for an outermost marshalled call's
        arguments, kept from call to call (only an outermost call uses it:
        a nested call's arguments are the outer one's no longer), so that a
        call costs no allocation and free of its own."""
        if size > self._scratch_size:
            if self._scratch:
                self._free.i32[0] = self._scratch
                self._call(self._free)
                self._scratch, self._scratch_size = 0, 0
            grown = max(size, 2 * self._scratch_size, 256)
            self._scratch = self.block(grown, [])
            self._scratch_size = grown
        return self._scratch

    def struct_out(self, codec: StructCodec, address: int) -> Any:
        return codec.unpack(self.instance.read(address, codec.size), self)

    def release(self, blocks: list[int], strs: list[int], generation: int) -> None:
        """Free a call's struct copies and host strings once it returned or
        trapped (unless the instance they lived in was replaced)."""
        if generation != self.generation:
            return
        for address in strs:
            self._str_free_host.i32[0] = address
            self._call(self._str_free_host)
        for address in blocks:
            self._free.i32[0] = address
            self._call(self._free)

    def read_str(self, address: int) -> str:
        length, _ncp, utf8 = struct.unpack("<III", self.instance.read(address, 12))
        return self.instance.read(utf8, length).decode("utf-8")

    def _cstring(self, address: int) -> str:
        out = b""
        while True:
            chunk = self.instance.read(address + len(out), 64)
            end = chunk.find(b"\0")
            if end >= 0:
                return (out + chunk[:end]).decode("utf-8", "replace")
            out += chunk

    def _call(self, c: RawCall) -> None:
        try:
            c()
        except WasmTrap as trap:
            self.trapped(trap, self.depth)

    # ---- traps -------------------------------------------------------------

    def trapped(self, trap: WasmTrap, depth: int) -> NoReturn:
        """Raise the exception of a trap in a call that began at `depth`."""
        self.drain_output()
        panic = self._read_panic()
        if panic is None and self.instance.take_interrupt():
            # a poll trapped on Ctrl-C: Python's handler says what it raises
            self._unwind(depth)
            self.engine.run_signal_handlers()
            raise KeyboardInterrupt
        if panic is None and not trap.stack_overflow:
            self._fresh()  # not a panic: nothing known about the instance's state
            raise SpyPanic("WasmTrap", str(trap))
        self._unwind(depth)
        if panic is None:
            raise RecursionError("maximum recursion depth exceeded")
        if panic[0] == PANIC_HOST:  # print's write raised (spy.write)
            exc = self.engine.take_pending()
            if exc is None:
                raise SystemError("a SPy panic stood for a host exception, but none is pending")
            raise exc
        raise_panic(*panic)
        raise AssertionError("raise_panic returned")

    def drain_output(self) -> None:
        """Write what compiled code printed and has not handed over yet (after
        a call returns or traps: before the result or the exception, as in
        Python). Here, not in a callback from wasm: a Ctrl-C pending when
        wasmtime-py's trampoline starts kills the process."""
        length = self.out_len.value
        if length == 0:
            return
        data = struct.unpack("<I", self.instance.read(self._out_at, 4))[0]
        text = self.instance.read(data, length).decode("utf-8", "replace")
        self.out_len.value = 0
        if sys.stdout is not None:
            sys.stdout.write(text)

    def _unwind(self, depth: int) -> None:
        """Put back what the frames a trap discarded left behind."""
        self.instance.stack_pointer = self.base_sp if depth == 0 else self.entry_sp.get(depth)
        self._recover.i32[0] = depth
        self._recover()

    def _read_panic(self) -> tuple[str, str, str, int] | None:
        """The panic recorded by the trapped call, cleared so it is read once."""
        try:
            self._panic_info()
            info = self._panic_info.i32[0] & 0xFFFFFFFF
            kind, msg, msg_len, file, line = struct.unpack("<IIIIi", self.instance.read(info, 20))
            if kind == 0:
                return None
            self.instance.write(info, b"\0\0\0\0")
            message = self.instance.read(msg, msg_len).decode("utf-8", "replace")
            return self._cstring(kind), message, self._cstring(file), line
        except (WasmTrap, OSError, ValueError):
            return None

    # ---- Python functions ----------------------------------------------------

    def function(self, fn: Function, module: str) -> Callable[..., Any]:
        if needs_marshal([*(p.type for p in fn.params), fn.returns]):
            return self.marshalled(fn, module)
        symbol = fn.symbols["wasm"]
        params = [wasm_kind(p.type) for p in fn.params]
        results = [] if fn.returns.kind is Kind.NONE else [wasm_kind(fn.returns)]
        if fn.returns.kind is Kind.STRUCT:  # written through an address passed first
            params, results = ["i32", *params], []
        cell = self.cell(symbol, params, results)
        prefix = internal_prefix(fn)
        source = wrapper_source(fn, strides(cell[0]), prefix)
        structs = {
            t.fqn: StructCodec(t, self.classes)
            for t in [*(p.type for p in fn.params), fn.returns]
            if t.kind is Kind.STRUCT
        }
        namespace: dict[str, Any] = {
            **{
                f"{prefix}check{i}": checker(p.type, self.classes)
                for i, p in enumerate(fn.params)
                if p.type.kind is Kind.STRUCT
            },
            **{
                f"{prefix}codec{i}": structs[p.type.fqn]
                for i, p in enumerate(fn.params)
                if p.type.kind is Kind.STRUCT
            },
            f"{prefix}codec_r": structs.get(fn.returns.fqn),
            f"{prefix}cell": cell,
            f"{prefix}pkg": self,
            f"{prefix}lock": self.lock,
            f"{prefix}irq": self.engine.interrupts,
            f"{prefix}WasmTrap": WasmTrap,
            f"{prefix}to_int": to_int,
            f"{prefix}to_float": to_float,
            f"{prefix}to_f32": to_f32,
            f"{prefix}to_bool": to_bool,
            f"{prefix}to_str": to_str,
            # builtins too: a parameter may be named `type` or `int`
            f"{prefix}type": type,
            f"{prefix}int": int,
            f"{prefix}float": float,
        }
        exec(compile(source, f"<spy wrapper {module}.{fn.name}>", "exec"), namespace)
        func: Callable[..., Any] = namespace[fn.name]
        func.__module__ = module
        func.__qualname__ = fn.name
        sig = ", ".join(f"{p.name}: {p.type}" for p in fn.params)
        func.__doc__ = f"SPy function {fn.name}({sig}) -> {fn.returns}"
        return func

    def marshalled(self, fn: Function, module: str) -> Callable[..., Any]:
        """A function whose values hold containers: its arguments go in one
        buffer, checked and encoded before the lock is taken (which runs
        Python code), and its result comes back in one (_marshal.py)."""
        cell = self.cell(fn.symbols["wasm"], ["i32", "i32", "i32"], ["i32"])
        encoders = [(p.name, encoder(p.type, p.mutates, self.classes)) for p in fn.params]
        decode = decoder(fn.returns, self.classes)
        # array arguments the function writes: their items come back after the result
        back = [(i, p.type) for i, p in enumerate(fn.params) if p.mutates]
        fname = fn.name
        pkg = self

        def call(args: tuple[Any, ...]) -> Any:
            data = bytearray()
            views = [
                enc(value, data, fname, name)
                for (name, enc), value in zip(encoders, args, strict=True)
            ]
            irq = pkg.engine.interrupts
            if not irq.armed:
                irq.arm()
            with pkg.lock:
                c = cell[0]
                d = pkg.depth
                if d:
                    pkg.save_sp(d)
                pkg.depth = d + 1
                blocks: list[int] = []
                generation = pkg.generation
                try:
                    if d == 0:  # the result's length, then the arguments
                        out_len = pkg.scratch(len(data) + 8)
                        buf = out_len + 8
                    else:
                        buf = pkg.block(max(len(data), 1), blocks)
                        out_len = pkg.block(4, blocks)
                    pkg.instance.write(buf, data)
                    c.i32[0], c.i32[c.stride_32], c.i32[2 * c.stride_32] = buf, len(data), out_len
                    try:
                        c()
                    except WasmTrap as trap:
                        pkg.trapped(trap, d)
                    result_at = c.i32[0] & 0xFFFFFFFF
                    (n,) = struct.unpack("<I", pkg.instance.read(out_len, 4))
                    raw = pkg.instance.read(result_at, n) if n else b""
                    if result_at:
                        blocks.append(result_at)  # malloc'd by the call: freed with the rest
                    value, at = decode(raw, 0)
                    for i, t in back:
                        view = views[i]
                        assert view is not None
                        at = write_back(view, t, raw, at)
                    if pkg.out_len.value:
                        pkg.drain_output()
                    return value
                finally:
                    pkg.depth = d
                    pkg.release(blocks, [], generation)

        prefix = internal_prefix(fn)
        names = ", ".join(p.name for p in fn.params)
        source = f"def {fn.name}({names}):\n    return {prefix}call(({names}{',' if fn.params else ''}))\n"
        namespace: dict[str, Any] = {f"{prefix}call": call}
        exec(compile(source, f"<spy wrapper {module}.{fn.name}>", "exec"), namespace)
        func: Callable[..., Any] = namespace[fn.name]
        func.__module__ = module
        func.__qualname__ = fn.name
        sig = ", ".join(f"{p.name}: {p.type}" for p in fn.params)
        func.__doc__ = f"SPy function {fn.name}({sig}) -> {fn.returns}"
        return func


def internal_prefix(fn: Function) -> str:
    """A prefix for the wrapper's own names that no parameter or function name
    starts with, so user names never collide with them."""
    names = [fn.name, *(p.name for p in fn.params)]
    prefix = "_spy_"
    while any(n.startswith(prefix) for n in names):
        prefix = "_" + prefix
    return prefix


def strides(c: RawCall) -> dict[str, int]:
    return {"i32": c.stride_32, "f32": c.stride_32, "i64": c.stride_64, "f64": c.stride_64}


def wrapper_source(fn: Function, stride: dict[str, int], prefix: str) -> str:
    """Python source of a fast wrapper: Python binds the arguments (so errors
    read like any def's); each is checked and converted (which may run Python
    code), then, under the package's lock, written into its slot; the result
    is read back from slot 0. Internal names start with `prefix`.

    str and struct arguments are copied into wasm memory, and a struct result
    gets a block there whose address is passed first; these are freed when
    the call returns or traps."""
    P = prefix
    assert not any(keyword.iskeyword(p.name) for p in fn.params)
    names = [p.name for p in fn.params]
    fname = repr(fn.name)
    convert: list[str] = []
    store: list[str] = []
    struct_result = fn.returns.kind is Kind.STRUCT
    first = 1 if struct_result else 0  # the result's address is parameter 0
    for k, p in enumerate(fn.params):
        t, n = p.type, p.name
        kind = wasm_kind(t)
        slot = (k + first) * stride[kind]
        if t.kind is Kind.INT:
            lo, hi = t.min_value, t.max_value
            convert.append(
                f"    if {P}type({n}) is not {P}int or not {lo} <= {n} <= {hi}: {n} = {P}to_int({n}, {fname}, {n!r}, {t.name!r})"
            )
            store.append(f"            {P}c.{kind}[{slot}] = {n}")
        elif t.kind is Kind.FLOAT:
            convert.append(
                f"    if {P}type({n}) is not {P}float: {n} = {P}to_float({n}, {fname}, {n!r})"
            )
            if t.bits == 32:
                convert.append(f"    {n} = {P}to_f32({n}, {fname}, {n!r})")
            store.append(f"            {P}c.{kind}[{slot}] = {n}")
        elif t.kind is Kind.BOOL:
            convert.append(f"    {P}to_bool({n}, {fname}, {n!r})")
            store.append(f"            {P}c.{kind}[{slot}] = {n}")
        elif t.kind is Kind.STR:
            convert.append(f"    {n} = {P}to_str({n}, {fname}, {n!r})")
            store.append(f"            {P}c.{kind}[{slot}] = {P}pkg.host_str({n}, {P}s)")
        elif t.kind is Kind.STRUCT:
            convert.append(f"    {P}check{k}({n}, {fname}, {n!r})")
            store.append(
                f"            {P}c.{kind}[{slot}] = {P}pkg.struct_in({P}codec{k}, {n}, {P}b, {P}s)"
            )
        else:
            raise TypeError(f"{fn.name}(): no parameter of type {t.name} can be passed")
    if struct_result:
        size = fn.returns.layout("wasm").size
        store.append(f"            {P}o = {P}c.i32[0] = {P}pkg.block({size}, {P}b)")
    lines = [f"def {fn.name}({', '.join(names)}):", *convert]
    lines += [
        f"    if not {P}irq.armed: {P}irq.arm()",
        f"    with {P}lock:",
        f"        {P}c = {P}cell[0]",
        f"        {P}d = {P}pkg.depth",
        f"        if {P}d: {P}pkg.save_sp({P}d)",
        f"        {P}pkg.depth = {P}d + 1",
    ]
    result = f"{P}pkg.struct_out({P}codec_r, {P}o)" if struct_result else result_expr(fn.returns, P)
    if not any(
        t.kind in (Kind.STR, Kind.STRUCT) for t in (*(p.type for p in fn.params), fn.returns)
    ):
        # nothing can fail between raising the depth and the call (the
        # arguments are checked): the depth goes back on both paths
        lines += [
            *(line[4:] for line in store),
            "        try:",
            f"            {P}c()",
            f"        except {P}WasmTrap as {P}t:",
            f"            {P}pkg.depth = {P}d",
            f"            {P}pkg.trapped({P}t, {P}d)",
            f"        {P}pkg.depth = {P}d",
            f"        {P}r = {result}",
            # after reading the result: printing runs Python code, which
            # may call compiled code and reuse the argument slots
            f"        if {P}pkg.out_len.value: {P}pkg.drain_output()",
            f"        return {P}r",
        ]
    else:
        lines += [
            f"        {P}b = []",  # blocks of memory the call's copies live in
            f"        {P}s = []",  # spy_Str headers made for str arguments
            f"        {P}g = {P}pkg.generation",
            "        try:",
            *store,
            "            try:",
            f"                {P}c()",
            f"            except {P}WasmTrap as {P}t:",
            f"                {P}pkg.trapped({P}t, {P}d)",
            f"            {P}r = {result}",
            f"            if {P}pkg.out_len.value: {P}pkg.drain_output()",
            f"            return {P}r",
            "        finally:",
            f"            {P}pkg.depth = {P}d",
            f"            {P}pkg.release({P}b, {P}s, {P}g)",
        ]
    return "\n".join(lines) + "\n"


def result_expr(t: SpyType, P: str) -> str:
    """Python source reading the call's result of type `t` from slot 0."""
    if t.kind is Kind.NONE:
        return "None"
    slot = f"{P}c.{wasm_kind(t)}[0]"
    if t.kind is Kind.INT:
        mask = (1 << t.bits) - 1
        if not t.signed:
            return f"{slot} & {mask:#x}"
        if t.bits < 32:  # the i32 slot holds it sign- or zero-extended
            half = 1 << (t.bits - 1)
            return f"(({slot} + {half}) & {mask:#x}) - {half}"
        return slot
    if t.kind is Kind.FLOAT:
        return slot
    if t.kind is Kind.BOOL:
        return f"{slot} != 0"
    if t.kind is Kind.STR:
        return f"{P}pkg.read_str({slot} & 0xFFFFFFFF)"
    raise TypeError(f"no result of type {t} can be returned")
