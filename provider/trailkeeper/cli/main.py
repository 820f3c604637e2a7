"""The `trailkeeper` command: plan or apply a declared state across trails and regions.

    trailkeeper plan  -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper apply -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper plan  -f desired.yaml --organization [--ou OU_ID ...] [--role-name NAME] [--exclude-account ID ...]
    trailkeeper plan  -f desired.yaml --accounts accounts.yml [--max-accounts N]
    trailkeeper plan  -f - < desired.yaml
    trailkeeper export [-o FILE] [--region R ...] [--organization | --accounts FILE] [--format state|cloudformation]
    trailkeeper audit [--standard fsbp|cis-5.0|cis-6.0 ...] [--region R ...] [--format table|json|ocsf] [--json]

Exit codes: 0 in sync (plan) or everything fixed (apply); 2 drift found (plan); 1 any error, usage
errors included (argparse's own 2 would read as "drift found" to a pipeline), and a state whose
declarations matched no trail at all (NothingMatched). With --json, stdout always holds one JSON
document: the report, or an error document when the run failed before it.

Names and patterns are looked for in every region enabled for the account, or in the regions given
with --region (repeatable); docs/fleet.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import BinaryIO, NoReturn, TextIO

from trailkeeper import __version__
from trailkeeper.cli import audit, export, log_lines, plan
from trailkeeper.cli.plan import EPILOG
from trailkeeper.errors import InvalidArguments, InvalidProperties, TrailkeeperError
from trailkeeper.fleet import report


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error raises InvalidArguments (exit 1) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise InvalidArguments(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trailkeeper",
        description="Find CloudTrail trails that drifted from a declared state, and put them back.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trailkeeper {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,apply,export,audit}")
    plan.add_parsers(commands)
    export.add_parser(commands)
    audit.add_parser(commands, argparse.RawDescriptionHelpFormatter)
    return parser


def _fail(error: TrailkeeperError, err: TextIO, out: TextIO, as_json: bool) -> int:
    if isinstance(error, InvalidProperties):  # every problem, each on its line: the reason holds only the first
        err.write(f"trailkeeper: {error.error_code}\n" + "".join(f"  {p}\n" for p in error.problems))
    else:
        err.write(f"trailkeeper: {error.reason}\n")
    if as_json:  # a pipeline writing `--json > drift.json` gets a document, not an empty file
        out.write(json.dumps(report.error_document(error), indent=2) + "\n")
    return report.EXIT_FAILED


def main(
    argv: list[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: BinaryIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    argv = sys.argv[1:] if argv is None else argv
    as_json = any(len(arg) >= 3 and "--json".startswith(arg) for arg in argv)  # argparse takes --j too
    try:
        args = _parser().parse_args(argv)
    except TrailkeeperError as error:
        return _fail(error, err, out, as_json)
    try:
        with log_lines.to(err):  # every line names what it is about (the facts logged beside the message)
            if args.command == "export":
                return export.command(args, out, err)
            if args.command == "audit":
                return audit.command(args, out, err)
            return plan.command(args, out, err, stdin)
    except TrailkeeperError as error:
        return _fail(error, err, out, getattr(args, "json", False) or getattr(args, "format", None) in ("json", "ocsf"))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
