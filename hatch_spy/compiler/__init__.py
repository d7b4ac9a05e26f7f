"""The SPy compiler: .spy source -> typed IR -> C."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from . import ir
from .boundary import container_kind, containers_reached
from .cgen import write_program
from .checker import ModuleChecker, specialized
from .errors import SpyCompileError, SpyError
from .limits import compiling
from .loader import LoadedModule, installed_finder, load_program
from .source import SourceFile
from .stdlib import BUILTIN_MODULES
from .types import I32, NONE, Kind

__all__ = [
    "SpyCompileError",
    "SpyError",
    "check_modules",
    "compile_program_to_c",
    "compiling",
]


def check_modules(
    loaded: Sequence[LoadedModule], own: Collection[str] | None = None
) -> list[ir.ModuleIR]:
    """Type-check modules given dependencies first; return their IR in that
    order. With `own`, only those modules' public functions are exported (a
    package's: the modules of other packages it imports are linked in, not
    part of its API)."""
    checkers: dict[str, ModuleChecker] = {}
    for mod in loaded:
        checker = ModuleChecker(mod, checkers)
        checkers[mod.name] = checker
        checker.declare()
    check_pending(checkers)
    for name, checker in checkers.items():
        # the standard library is no package's to export, nor another package's modules
        if name in BUILTIN_MODULES or (own is not None and name not in own):
            for func in checker.ir.funcs.values():
                func.exported = False
    prepare_boundary(checkers)
    return [c.ir for c in checkers.values()]


# what the Python boundary calls to make each container (cext.py): a list
# is made with room for its items, which the converter then writes; a dict
# gets its entries through _push, into room for all of them
BOUNDARY_METHODS = {
    Kind.LIST: ("with_capacity",),
    Kind.DICT: ("_with_capacity", "_push"),
    # an array is a view of a buffer: its items, offset, shape and strides
    Kind.ARRAY: ("_from_parts",),
}


def check_pending(checkers: Mapping[str, ModuleChecker]) -> None:
    """Check bodies until no module has any left: a module's call may
    specialize another module's closure."""
    while any(c.pending() for c in checkers.values()):
        for checker in checkers.values():
            checker.check_bodies()


def prepare_boundary(checkers: Mapping[str, ModuleChecker]) -> None:
    """Compile the container methods the boundary calls, for every container
    a public signature reaches, and record them in the container's module."""
    for t in containers_reached(c.ir for c in checkers.values()):
        owner = checkers[t.fqn.split("::")[0]]
        kind = container_kind(t)
        assert kind is not None
        for name in BOUNDARY_METHODS.get(kind, ()):
            owner.ir.boundary_methods[(t.fqn, name)] = specialized(
                owner.struct_info(t).methods[name].closure
            )
    check_pending(checkers)


def find_entry(module: ir.ModuleIR, src: SourceFile) -> ir.FuncDecl:
    main = module.funcs.get("main")
    if main is None:
        raise SpyCompileError(f"{module.filename} has no main() function to run", src.loc(1, 0))
    if len(main.params) > 1 or (main.params and main.params[0].type.name != "list[str]"):
        raise SpyCompileError("main() must take no parameters or one, argv: list[str]", main.loc)
    if main.ret not in (NONE, I32):
        raise SpyCompileError(f"main() must return None or i32, not {main.ret}", main.loc)
    return main


def compile_program_to_c(path: Path, search_paths: Sequence[Path] = ()) -> str:
    """C source of an executable running `main()` of the .spy file at `path`."""
    if not path.is_file():
        raise SpyError(f"no such file: {path}")
    if "." in path.stem or not path.stem:
        # the module would be named like a submodule (`a.b` is a/b.spy)
        raise SpyError(f"cannot compile {path.name}: rename it so that only '.spy' has a dot")
    finder = installed_finder(path.parent, search_paths)
    with compiling():
        loaded = load_program([path.stem], finder)
        modules = check_modules(loaded)
        return write_program(modules, find_entry(modules[-1], loaded[-1].src))
