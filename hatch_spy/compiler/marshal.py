"""The wasm backend's exports for functions whose arguments or result hold
containers (list, dict, tuple, bytes): one call takes all the arguments as a
buffer the host wrote and gives the result as a buffer the host reads, so
that the containers are built and read inside the call's region (libspy's
marshal.c has the format; spy_runtime's _marshal.py is the host's side)."""

from __future__ import annotations

from . import ir
from .boundary import (
    ContainerTable,
    abi_type,
    array_ndim,
    container_items,
    container_kind,
    is_array,
    public_functions,
    signature_types,
)
from .cgen import array_walk_c, c_field_name, c_type, heap_leaves, symbol_name
from .mutation import written_params
from .types import PYTHON_CONTAINER_KINDS, Kind, SpyType

# the suffix of a marshalled export's name: spy-abi.json records the whole
MARSHAL_SUFFIX = "$m"


def needs_marshal(func: ir.FuncDecl) -> bool:
    return any(abi_type(t).kind in PYTHON_CONTAINER_KINDS for t in signature_types(func))


def wasm_symbol(func: ir.FuncDecl) -> str:
    """The name of `func`'s wasm export."""
    return symbol_name(func) + (MARSHAL_SUFFIX if needs_marshal(func) else "")


class MarshalUnit:
    """The decoders and encoders of the containers marshalled functions use,
    numbered items first, and the exports."""

    def __init__(self, modules: list[ir.ModuleIR]) -> None:
        # every public function with a container is marshalled, so these
        # are the native extension's containers too
        self.containers = ContainerTable.of(modules)
        self.types = self.containers.types
        marshalled = [f for f in public_functions(modules) if needs_marshal(f)]
        self.written = written_params(modules)
        self.exports = [self.export(f) for f in marshalled]

    def method(self, t: SpyType, name: str) -> str:
        return symbol_name(self.containers.method(t, name))

    # ---- one value ---------------------------------------------------------------

    def read(self, t: SpyType, dest: str) -> list[str]:
        """C reading a value of type `t` from reader `r` into lvalue `dest`."""
        if container_kind(t) is not None:
            return [f"spy_dec{self.types.index(t)}(r, &{dest});"]
        if t.kind is Kind.STR:
            return [f"{dest} = spy_read_str(r);"]
        if t.kind is Kind.BOOL:
            return [f"{dest} = *spy_read(r, 1) != 0;"]
        if t.kind in (Kind.INT, Kind.FLOAT):
            return [f"spy_read_into(r, &{dest}, sizeof {dest});"]
        if t.kind is Kind.STRUCT:  # its fields in order
            return [
                c for f in t.fields for c in self.read(f.type, f"{dest}.{c_field_name(f.name)}")
            ]
        raise AssertionError(f"no marshalling of {t}")

    def write(self, t: SpyType, value: str) -> list[str]:
        """C writing `value` of type `t` to writer `w`."""
        if container_kind(t) is not None:
            return [f"spy_enc{self.types.index(t)}(w, &{value});"]
        if t.kind is Kind.STR:
            return [f"spy_write_str(w, {value});"]
        if t.kind is Kind.BOOL:
            return [f"{{ uint8_t x = {value} ? 1 : 0; spy_write(w, &x, 1); }}"]
        if t.kind in (Kind.INT, Kind.FLOAT):
            return [f"{{ {c_type(t)} x = {value}; spy_write(w, &x, sizeof x); }}"]
        if t.kind is Kind.NONE:
            return []
        if t.kind is Kind.STRUCT:  # its fields in order
            return [
                c for f in t.fields for c in self.write(f.type, f"{value}.{c_field_name(f.name)}")
            ]
        raise AssertionError(f"no marshalling of {t}")

    # ---- one container type -------------------------------------------------------

    def array_codec(self, t: SpyType) -> str:
        """An array comes in as a new block holding a copy of the caller's
        items; it goes out, and an argument the call wrote goes back
        (spy_back<k>), as its items in C order."""
        k = self.types.index(t)
        (dtype,) = container_items(t)
        ndim = array_ndim(t)
        item = c_type(dtype)
        ptr = self.containers.method(t, "_from_parts").params[0].type
        walk = ["    " + c for c in array_walk_c("v", ndim)]
        return "\n".join(
            [
                f"static void spy_dec{k}(spy_Reader *r, {t.c_name} *out) {{",
                "    int32_t n[3];",
                f"    {item} *items = spy_read_array(r, {ndim}, sizeof({item}), n);",
                f"    *out = {self.method(t, '_from_parts')}(({ptr.c_name}){{items, "
                "(size_t)n[0] * (size_t)n[1] * (size_t)n[2]}, 0, n[0], n[1], n[2], n[1] * n[2], n[2], 1);",
                "}",
                f"static void spy_enc{k}(spy_Writer *w, const {t.c_name} *v) {{",
                *walk,
                f"    spy_write_array(w, first, {ndim}, sizeof({item}), shape, strides, true);",
                "}",
                f"static void spy_back{k}(spy_Writer *w, const {t.c_name} *v) {{",
                *walk,
                f"    spy_write_array(w, first, {ndim}, sizeof({item}), shape, strides, false);",
                "}",
            ]
        )

    def codec(self, t: SpyType) -> str:
        k = self.types.index(t)
        kind = container_kind(t)
        if kind is Kind.ARRAY:
            return self.array_codec(t)
        items = container_items(t)
        dec = [f"static void spy_dec{k}(spy_Reader *r, {t.c_name} *out) {{"]
        enc = [f"static void spy_enc{k}(spy_Writer *w, const {t.c_name} *v) {{"]
        ind = "    "
        if kind is Kind.BYTES:
            raw = c_field_name("__raw__")
            dec.append(f"{ind}out->{raw} = spy_read_str(r);")
            enc.append(f"{ind}spy_write_str(w, v->{raw});")
        elif kind is Kind.LIST:
            (item,) = items
            data, vdata = (f"{x}->{c_field_name('__ll__')}.p" for x in ("out", "v"))
            dec += [
                f"{ind}uint32_t n = spy_read_u32(r);",
                f'{ind}if (n > 0x3FFFFFFF) spy_panic("MemoryError", "list too long", "<marshal>", 0);',
                f"{ind}*out = {self.method(t, 'with_capacity')}(n > 4 ? (int32_t)n : 4);",
                f"{ind}for (uint32_t i = 0; i < n; i++) {{",
                *(ind * 2 + c for c in self.read(item, f"{data}->{c_field_name('items')}.p[i]")),
                f"{ind * 2}{data}->{c_field_name('length')} = (int32_t)(i + 1);",
                f"{ind}}}",
            ]
            enc += [
                f"{ind}int32_t n = {vdata}->{c_field_name('length')};",
                f"{ind}spy_write_u32(w, (uint32_t)n);",
                f"{ind}for (int32_t i = 0; i < n; i++) {{",
                *(ind * 2 + c for c in self.write(item, f"{vdata}->{c_field_name('items')}.p[i]")),
                f"{ind}}}",
            ]
        elif kind is Kind.DICT:
            key, value = items
            vdata = f"v->{c_field_name('__dd__')}.p"
            entry = f"{vdata}->{c_field_name('entries')}.p[i]"
            dec += [
                f"{ind}uint32_t n = spy_read_u32(r);",
                f'{ind}if (n > 0x3FFFFFFF) spy_panic("MemoryError", "dict too large", "<marshal>", 0);',
                f"{ind}*out = {self.method(t, '_with_capacity')}((int32_t)n);",
                f"{ind}for (uint32_t i = 0; i < n; i++) {{",
                f"{ind * 2}{c_type(key)} kv;",
                f"{ind * 2}{c_type(value)} vv;",
                *(ind * 2 + c for c in self.read(key, "kv")),
                *(ind * 2 + c for c in self.read(value, "vv")),
                f"{ind * 2}*out = {self.method(t, '_push')}(*out, kv, vv);",
                f"{ind}}}",
            ]
            enc += [
                f"{ind}spy_write_u32(w, (uint32_t){vdata}->{c_field_name('length')});",
                f"{ind}for (int32_t i = 0; i < {vdata}->{c_field_name('used')}; i++) {{",
                f"{ind * 2}if (!{entry}.{c_field_name('alive')}) continue;",
                *(ind * 2 + c for c in self.write(key, f"{entry}.{c_field_name('key')}")),
                *(ind * 2 + c for c in self.write(value, f"{entry}.{c_field_name('value')}")),
                f"{ind}}}",
            ]
        else:  # a tuple: its fields in order
            for f, item in zip(t.fields, items, strict=True):
                dec += [ind + c for c in self.read(item, f"out->{c_field_name(f.name)}")]
                enc += [ind + c for c in self.write(item, f"v->{c_field_name(f.name)}")]
        dec.append("}")
        enc.append("}")
        return "\n".join([*dec, *enc])

    # ---- the export ---------------------------------------------------------------

    def export(self, func: ir.FuncDecl) -> str:
        sym = symbol_name(func)
        lines = [
            f'__attribute__((export_name("{sym}{MARSHAL_SUFFIX}"))) uint8_t *{sym}$$marshal('
            "const uint8_t *in, uint32_t n_in, uint32_t *out_len) {",
            "    spy_wasm_enter();",
            "    spy_Reader rd = {in, in + n_in};",
            "    spy_Reader *r = &rd;",
        ]
        written = self.written.get((func.module, func.name), frozenset())
        back = [i for i, p in enumerate(func.params) if i in written and is_array(p.type)]
        for i, p in enumerate(func.params):
            lines += [
                f"    {c_type(p.type)} a{i};",
                *("    " + c for c in self.read(p.type, f"a{i}")),
            ]
            # what the host reads back after the call stays alive through it
            if i in back:
                lines += [f"    spy_keep_block({x});" for x in heap_leaves(p.type, f"a{i}")[1]]
        call = f"{sym}({', '.join(f'a{i}' for i in range(len(func.params)))})"
        lines += ["    spy_Writer wr = {NULL, 0, 0};", "    spy_Writer *w = &wr;"]
        if func.ret.kind is Kind.NONE:
            lines.append(f"    {call};")
        else:
            lines += [
                f"    {c_type(func.ret)} res = {call};",
                *("    " + c for c in self.write(func.ret, "res")),
            ]
        lines += [f"    spy_back{self.types.index(func.params[i].type)}(w, &a{i});" for i in back]
        lines += [
            "    (void)r;",
            "    spy_wasm_leave();",
            "    *out_len = (uint32_t)wr.len;",
            "    return wr.buf;",
            "}",
        ]
        return "\n".join(lines)

    def render(self) -> list[str]:
        protos = [
            f"static void spy_dec{k}(spy_Reader *r, {t.c_name} *out);\n"
            f"static void spy_enc{k}(spy_Writer *w, const {t.c_name} *v);"
            for k, t in enumerate(self.types)
        ]
        return [*protos, *(self.codec(t) for t in self.types), *self.exports]
