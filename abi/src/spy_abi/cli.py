"""The `spy-abi` command. Exit status: 0 done (for `check`: compatible), 1
`check` found changes the new version does not admit or `env` found broken
pairs, 2 the command could not run (bad input: one line on stderr naming
the target and what is wrong)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import check, env, show
from .config import read_levels
from .diff import diff, required_bump
from .model import AbiFile
from .sources import AbiSourceError, load

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_CANNOT_RUN = 2
FORMATS = ("text", "json", "markdown", "github")
TARGET_HELP = (
    "a wheel, a spy-abi.json, an installed distribution's name, or name==version "
    "(fetched with pip download)"
)


def add_pip_options(cmd: argparse.ArgumentParser) -> None:
    """How a name==version target is fetched."""
    cmd.add_argument("--index-url", help="for name==version: the index pip downloads from")
    cmd.add_argument(
        "--find-links", action="append", default=[], help="for name==version: a folder of wheels"
    )
    cmd.add_argument(
        "--no-index", action="store_true", help="for name==version: only the --find-links folders"
    )


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spy-abi", description="Inspect and compare the ABI of compiled SPy packages."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser(
        "show",
        help="print a package's ABI: exports with signatures, structs with layouts, runtime "
        "ABI, artifacts, dependencies",
    )
    cmd.add_argument("target", help=TARGET_HELP)
    add_pip_options(cmd)
    for name, text in (
        ("diff", "list every change from OLD to NEW with its rule, bump and level"),
        ("check", "fail (exit 1) when NEW's version does not admit the changes from OLD"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("old", help="the baseline (the last release): " + TARGET_HELP)
        cmd.add_argument("new", help="the release to compare: " + TARGET_HELP)
        add_pip_options(cmd)
        cmd.add_argument(
            "--config",
            type=Path,
            help="the pyproject.toml whose [tool.spy-abi.rules] sets rule levels "
            "(default: ./pyproject.toml, if there is one)",
        )
        if name == "check":
            cmd.add_argument("--format", choices=FORMATS, default="text")
    sub.add_parser(
        "env",
        help="check the installed SPy packages against each other, as pip check does: runtime "
        "ABI served, and every symbol a package links dynamically still there",
    )
    return parser


def run_env() -> int:
    packages, runtime = env.installed()
    found = env.problems(packages, runtime)
    for line in found:
        print(line)
    if found:
        return EXIT_VIOLATIONS
    print(f"{len(packages)} SPy package{'s' if len(packages) != 1 else ''}: no ABI problem found")
    return EXIT_OK


def pip_args(args: argparse.Namespace) -> list[str]:
    out = ["--index-url", args.index_url] if args.index_url else []
    out += ["--no-index"] if args.no_index else []
    for link in args.find_links:
        out += ["--find-links", link]
    return out


def levels(args: argparse.Namespace) -> dict[str, str]:
    config = args.config or Path("pyproject.toml")
    if args.config is None and not config.is_file():
        return {}
    return read_levels(config)


def load_pair(args: argparse.Namespace) -> tuple[AbiFile, AbiFile]:
    return load(args.old, pip_args(args)), load(args.new, pip_args(args))


def run_diff(args: argparse.Namespace) -> int:
    old, new = load_pair(args)
    changes = diff(old, new, levels(args))
    for change in changes:
        print(change.line())
    print(
        f"{len(changes)} change{'s' if len(changes) != 1 else ''} from {old.name} {old.version} "
        f"to {new.name} {new.version}; they require a {required_bump(changes)} version bump"
        if changes
        else f"no change from {old.name} {old.version} to {new.name} {new.version}"
    )
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    old, new = load_pair(args)
    if old.name != new.name:
        raise AbiSourceError(
            f"{args.new}: is {new.name}, not {old.name}: compare two releases of one package"
        )
    try:
        v = check.verdict(new.name, old.version, new.version, diff(old, new, levels(args)))
    except check.VersionError as exc:
        raise AbiSourceError(f"{args.new}: {exc}") from None
    sys.stdout.write(check.render(v, args.format))
    return EXIT_OK if v.ok else EXIT_VIOLATIONS


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        if args.command == "diff":
            return run_diff(args)
        if args.command == "check":
            return run_check(args)
        if args.command == "env":
            return run_env()
        abi = load(args.target, pip_args(args))
    except AbiSourceError as exc:
        print(f"spy-abi: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    sys.stdout.write(show.render(abi))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
