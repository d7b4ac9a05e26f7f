"""The SPy compiler: .spy source -> typed IR -> C."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import ir
from .cgen import write_program
from .checker import ModuleChecker
from .errors import SpyCompileError, SpyError
from .limits import compiling
from .loader import LoadedModule, ModuleFinder, load_program
from .source import SourceFile
from .stdlib import BUILTIN_MODULES
from .types import I32, NONE

__all__ = [
    "SpyCompileError",
    "SpyError",
    "check_modules",
    "compile_program_to_c",
    "compiling",
]


def check_modules(loaded: Sequence[LoadedModule]) -> list[ir.ModuleIR]:
    """Type-check modules given dependencies first; return their IR in that order."""
    checkers: dict[str, ModuleChecker] = {}
    for mod in loaded:
        checker = ModuleChecker(mod, checkers)
        checkers[mod.name] = checker
        checker.declare()
    # a module's call may specialize another module's closure: check until
    # no module has bodies left
    while any(c.pending() for c in checkers.values()):
        for checker in checkers.values():
            checker.check_bodies()
    for name in BUILTIN_MODULES:  # the standard library is no package's to export
        for func in checkers[name].ir.funcs.values():
            func.exported = False
    return [c.ir for c in checkers.values()]


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
    finder = ModuleFinder((path.parent, *search_paths))
    with compiling():
        loaded = load_program([path.stem], finder)
        modules = check_modules(loaded)
        return write_program(modules, find_entry(modules[-1], loaded[-1].src))
