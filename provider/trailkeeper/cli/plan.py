"""`trailkeeper plan` and `trailkeeper apply`: a declared state, in one account or in many.

    trailkeeper plan  -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper apply -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper plan  -f desired.yaml --organization [--ou OU_ID ...] [--role-name NAME] [--exclude-account ID ...]
    trailkeeper plan  -f desired.yaml --accounts accounts.yml [--max-accounts N]
    trailkeeper plan  -f - < desired.yaml

Names and patterns are looked for in every region enabled for the account, or in the regions given with
--region (repeatable); docs/fleet.md. Many accounts run the same engine in each (`cli/flags.py` chooses
them, `org/reconcile.py` runs them).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any, BinaryIO, TextIO

from trailkeeper.cli import flags
from trailkeeper.cli.connection import connect
from trailkeeper.cli.progress import TerminalProgress
from trailkeeper.fleet import reconcile, report, state
from trailkeeper.trail.declaration import Declaration

EPILOG = """exit codes:
  0  plan: every trail is in sync; apply: every trail ends in sync
  1  an error (usage, invalid file, AWS failure); with apply, some trail could not be fixed
  2  plan: drift was found (and nothing else)

credentials come from --profile, then the usual AWS environment variables (AWS_PROFILE, AWS_ACCESS_KEY_ID,
...), as with the AWS CLI. Trails are looked for in every region enabled for the account, or in the
regions given with --region; API calls that are not per region (STS, DescribeRegions) go to the first
--region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's region."""


# What apply writes: each aspect of a trail is its own call (UpdateTrail for the settings, StartLogging,
# PutEventSelectors, ...), so a trail that differs in three aspects gets three writes, never one.
APPLY_HELP = (
    "fix drift: in each trail's home region, one write per aspect that differs "
    "(UpdateTrail with only the differing settings, StartLogging, PutEventSelectors, ...); nothing when in sync"
)


def add_parsers(commands: Any) -> None:
    """`plan` and `apply`, with the same flags."""
    for name, text in (
        ("plan", "show each drifted property as current -> declared; write nothing"),
        ("apply", APPLY_HELP),
    ):
        command = commands.add_parser(
            name, help=text, description=text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        command.add_argument(
            "-f", "--file", required=True, help="declared state (YAML or JSON with a `trails:` list); - reads stdin"
        )
        command.add_argument("--json", action="store_true", help="print the machine-readable report instead of a table")
        flags.add_aws_arguments(command)
        command.add_argument(
            "--allow-weakening",
            action="store_true",
            help="allow changes that weaken audit (StopLogging, fewer management events, no KMS key, ...) on "
            "every trail; without it, only what a trail's AllowWeakening lists",
        )
        flags.add_arguments(command)


def _load(file: str, stdin: BinaryIO | None) -> list[Declaration]:
    if file == "-":
        return state.read(stdin or sys.stdin.buffer, "<stdin>")
    return state.load(file)


def command(args: Any, out: TextIO, err: TextIO, stdin: BinaryIO | None = None) -> int:
    """Run `plan` or `apply` as `args` say; the exit code."""
    flags.check(args)  # the organization flags' problems, all at once, before any file or call
    declarations = _load(args.file, stdin)
    source = "<stdin>" if args.file == "-" else args.file
    warnings = [] if declarations else [state.empty_warning(source)]
    for warning in warnings:
        err.write(f"trailkeeper: warning: {warning}\n")
    link = connect(args, declarations)
    clients, region, identity, deadline, given = link.clients, link.region, link.identity, link.deadline, link.given
    progress = TerminalProgress(err) if not args.json and out.isatty() and err.isatty() else None
    try:
        # Many accounts: the same engine in each, with each account's credentials (trailkeeper.org).
        engine_run = flags.runner(args, identity) if flags.wanted(args) else reconcile.run
        result = engine_run(
            declarations,
            clients=clients,
            default_region=region,
            caller_account=identity["Account"],
            apply=args.command == "apply",
            deadline=deadline,
            progress=progress,
            allow_weakening=args.allow_weakening,
            regions=given or None,
        )
    finally:
        if progress:
            progress.clear()
    result = dataclasses.replace(result, warnings=(*warnings, *result.warnings))  # the run's own, e.g. org runs
    nothing = reconcile.nothing_matched(declarations, result)
    if nothing is not None:  # patterns that found nothing say which: the error alone would not
        for warning in result.warnings:
            err.write(f"trailkeeper: warning: {warning}\n")
        raise nothing
    out.write(json.dumps(result.to_dict(), indent=2) + "\n" if args.json else report.table(result) + "\n")
    return result.exit_code
