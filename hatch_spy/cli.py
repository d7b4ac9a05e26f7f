"""The `hatch-spy` command: compile and run or build single SPy programs."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .compiler import compile_program_to_c
from .compiler.errors import SpyCompileError, SpyError
from .runner import exec_native, run_native, run_wasm
from .toolchain import OPT_LEVELS, Toolchain, ToolchainError, get_target


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hatch-spy", description="Compile SPy programs to native code and WebAssembly."
    )
    parser.add_argument("--version", action="version", version=f"hatch-spy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", type=Path, help="the .spy file whose main() runs")
        p.add_argument("--target", choices=("native", "wasm"), default="native")
        p.add_argument(
            "-O", dest="opt_level", choices=OPT_LEVELS, default="2", help="optimisation level"
        )
        p.add_argument(
            "-I",
            dest="search_paths",
            type=Path,
            action="append",
            default=[],
            help="another folder to look for imported .spy modules in",
        )

    run = sub.add_parser("run", help="compile FILE and run its main(); arguments after -- go to it")
    common(run)
    run.add_argument(
        "--sandbox",
        type=Path,
        action="append",
        metavar="DIR",
        help="--target wasm: let the program open files only in DIR (repeatable); "
        "without it, it sees the file system as a native program does",
    )
    build = sub.add_parser("build", help="compile FILE into an executable or a WASI module")
    common(build)
    build.add_argument("-o", dest="output", type=Path, required=True, help="where to write it")
    deps = sub.add_parser(
        "deps",
        help="print the installed SPy packages that a project's (or FILE's) imports resolve to: "
        "name, version, folder, link mode and the modules used",
    )
    deps.add_argument("file", type=Path, nargs="?", default=Path("."))
    deps.add_argument("-I", dest="search_paths", type=Path, action="append", default=[])
    emit = sub.add_parser("emit-c", help="print the C that FILE compiles to")
    emit.add_argument("file", type=Path)
    emit.add_argument("-I", dest="search_paths", type=Path, action="append", default=[])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    program_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1 :]
    args = make_parser().parse_args(argv)
    try:
        return dispatch(args, program_args)
    except SpyCompileError as exc:
        print(exc.format(), file=sys.stderr)
        return 1
    except ToolchainError as exc:
        print(f"hatch-spy: error: {exc}", file=sys.stderr)
        return 2
    except SpyError as exc:
        print(f"hatch-spy: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug of ours: say so, with what to report
        import traceback

        traceback.print_exc()
        print(
            f"hatch-spy: internal compiler error ({type(exc).__name__}): this is a bug in hatch-spy, "
            "please report it with the traceback above and the .spy file",
            file=sys.stderr,
        )
        return 3


def dispatch(args: argparse.Namespace, program_args: list[str]) -> int:
    if args.command == "deps":
        from .deps import resolve

        for dep in resolve(args.file, args.search_paths):
            print(dep.line())
        return 0
    if args.command == "emit-c":
        # what blue code prints while compiling must not mix into the C
        with contextlib.redirect_stdout(sys.stderr):
            c_source = compile_program_to_c(args.file, args.search_paths)
    else:
        c_source = compile_program_to_c(args.file, args.search_paths)
    if args.command == "emit-c":
        sys.stdout.write(c_source)
        return 0
    target = get_target(args.target)
    built = Toolchain(opt_level=args.opt_level).build_executable(c_source, target)
    if args.command == "build":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_name(args.output.name + ".tmp")
        shutil.copyfile(built, tmp)
        tmp.chmod(0o755)
        tmp.replace(args.output)
        return 0
    argv0 = str(args.file)
    if target.name == "wasm":
        return run_wasm(built, argv0, program_args, sandbox=args.sandbox)
    if args.sandbox:
        raise SpyError("--sandbox applies to --target wasm: a native program sees every file")
    if os.name == "posix":
        exec_native(built, argv0, program_args)
    return run_native(built, argv0, program_args)
