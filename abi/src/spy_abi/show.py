"""`spy-abi show`: a package's ABI as a person reads it."""

from __future__ import annotations

from .model import AbiFile, Function, struct_hash
from .types import LAYOUT_TARGETS, SpyType


def short(digest: str) -> str:
    """`sha256:1a2b3c4d5e6f` from a full `sha256:...` hash."""
    kind, _, hexdigest = digest.partition(":")
    return f"{kind}:{hexdigest[:12]}" if hexdigest else digest[:12]


def signature(f: Function) -> str:
    params = ", ".join(
        f"{p.name}: {p.type.fqn}{' (written)' if p.mutates else ''}" for p in f.params
    )
    return f"def {f.name}({params}) -> {f.returns.fqn}"


def layout(t: SpyType) -> str:
    return ", ".join(
        f"{target} {t.layout(target).size} bytes (align {t.layout(target).align})"
        for target in LAYOUT_TARGETS
    )


def struct_lines(t: SpyType) -> list[str]:
    lines = [f"    struct {t.fqn}: {layout(t)}  {short(struct_hash(t))}"]
    offsets = {target: t.field_offsets(target) for target in LAYOUT_TARGETS}
    for i, fld in enumerate(t.fields):
        at = ", ".join(f"{target} +{offsets[target][i]}" for target in LAYOUT_TARGETS)
        lines.append(f"        {fld.name}: {fld.type.fqn}  ({at})")
    return lines


def render(abi: AbiFile) -> str:
    major, minor = abi.runtime_abi
    lines = [
        f"{abi.name} {abi.version}",
        f"  spy-abi.json format {abi.format_version}, SPy runtime ABI {major}.{minor}",
        f"  built by hatch-spy {abi.toolchain.hatch_spy} with zig {abi.toolchain.zig}"
        + (f" ({' '.join(abi.toolchain.flags)})" if abi.toolchain.flags else ""),
    ]
    for m in abi.modules:
        lines.append(f"  module {m.name} ({m.source})  interface {short(m.interface_hash)}")
        for f in m.functions:
            lines.append(f"    {signature(f)}  {short(f.signature_hash)}")
        for t in m.structs:
            lines += struct_lines(t)
    if abi.artifacts:
        lines.append("  artifacts")
        lines += [f"    {a.target:6s} {a.path}  sha256:{a.sha256[:12]}" for a in abi.artifacts]
    if abi.dependencies:
        lines.append("  dependencies")
        for d in abi.dependencies:
            lines.append(
                f"    {d.name} {d.version} ({d.link}), admits {d.requirement or 'any version'}"
            )
            lines += [f"      uses {s}  {short(h)}" for s, h in sorted(d.symbols.items())]
    return "\n".join(lines) + "\n"
