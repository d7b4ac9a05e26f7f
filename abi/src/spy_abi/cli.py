"""The `spy-abi` command. Exit status: 0 done, 2 the command could not run
(bad input: one line on stderr naming the target and what is wrong)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import show
from .diff import diff, required_bump
from .sources import AbiSourceError, load

EXIT_OK = 0
EXIT_CANNOT_RUN = 2


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spy-abi", description="Inspect the ABI of compiled SPy packages."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser(
        "show",
        help="print a package's ABI: exports with signatures, structs with layouts, runtime "
        "ABI, artifacts, dependencies",
    )
    cmd.add_argument(
        "target",
        help="a wheel, a spy-abi.json, an installed distribution's name, or name==version "
        "(fetched with pip download)",
    )
    cmd.add_argument("--index-url", help="for name==version: the index pip downloads from")
    cmd.add_argument(
        "--find-links", action="append", default=[], help="for name==version: a folder of wheels"
    )
    cmd.add_argument(
        "--no-index", action="store_true", help="for name==version: only the --find-links folders"
    )
    cmd = sub.add_parser(
        "diff",
        help="list every change from OLD to NEW with its rule, the version bump it requires "
        "and its level",
    )
    cmd.add_argument("old", help="the baseline: a target as for show")
    cmd.add_argument("new", help="the release to compare: a target as for show")
    for option in ("--index-url",):
        cmd.add_argument(option, help="for name==version: the index pip downloads from")
    cmd.add_argument("--find-links", action="append", default=[], help="a folder of wheels")
    cmd.add_argument("--no-index", action="store_true", help="only the --find-links folders")
    return parser


def run_diff(args: argparse.Namespace) -> int:
    old = load(args.old, pip_args(args))
    new = load(args.new, pip_args(args))
    changes = diff(old, new)
    for change in changes:
        print(change.line())
    print(
        f"{len(changes)} change{'s' if len(changes) != 1 else ''} from {old.name} {old.version} "
        f"to {new.name} {new.version}; they require a {required_bump(changes)} version bump"
        if changes
        else f"no change from {old.name} {old.version} to {new.name} {new.version}"
    )
    return EXIT_OK


def pip_args(args: argparse.Namespace) -> list[str]:
    out = ["--index-url", args.index_url] if args.index_url else []
    out += ["--no-index"] if args.no_index else []
    for link in args.find_links:
        out += ["--find-links", link]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        if args.command == "diff":
            return run_diff(args)
        abi = load(args.target, pip_args(args))
    except AbiSourceError as exc:
        print(f"spy-abi: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    sys.stdout.write(show.render(abi))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
