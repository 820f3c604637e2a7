"""The `trailkeeper` command: plan or apply a declared state across trails and regions.

    trailkeeper plan  -f desired.yaml [--json] [--region R] [--profile P]
    trailkeeper apply -f desired.yaml [--json] [--region R] [--profile P]
    trailkeeper plan  -f desired.yaml --organization [--ou OU_ID ...] [--role-name NAME] [--exclude-account ID ...]
    trailkeeper plan  -f desired.yaml --accounts accounts.yml [--max-accounts N]

Exit codes: 0 in sync (plan) or everything fixed (apply); 2 drift found (plan); 1 any error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TextIO

import boto3
from botocore.exceptions import ProfileNotFound

from trailkeeper import __version__
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.drift import fleet, report, state
from trailkeeper.errors import AwsCallFailed, InvalidProperties, TrailkeeperError
from trailkeeper.org import command as org_command

EPILOG = """exit codes:
  0  plan: every trail is in sync; apply: every trail ends in sync
  1  an error (invalid file, AWS failure); with apply, some trail could not be fixed
  2  plan: drift was found

credentials and region come from --profile/--region, then the usual AWS environment variables
(AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, ...), as with the AWS CLI."""


class TerminalProgress:
    """One self-overwriting status line on a terminal; cleared when the run ends."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, stage: str, done: int, total: int) -> None:
        self._stream.write(f"\r\x1b[K{stage}: {done}/{total}")
        self._stream.flush()

    def clear(self) -> None:
        self._stream.write("\r\x1b[K")
        self._stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trailkeeper",
        description="Find CloudTrail trails that drifted from a declared state, and put them back.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trailkeeper {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,apply}")
    for name, text in (
        ("plan", "show each drifted property as current -> declared; write nothing"),
        ("apply", "fix drift: one minimal UpdateTrail per drifted trail, in its home region"),
    ):
        command = commands.add_parser(
            name, help=text, description=text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        command.add_argument("-f", "--file", required=True, help="declared state (YAML or JSON with a `trails:` list)")
        command.add_argument("--json", action="store_true", help="print the machine-readable report instead of a table")
        command.add_argument("--region", help="region for trails declared by name (default: as the AWS CLI)")
        command.add_argument("--profile", help="AWS profile to use (default: as the AWS CLI)")
        command.add_argument(
            "--allow-weakening",
            action="store_true",
            help="allow changes that weaken audit (StopLogging, fewer management events, no KMS key, ...) on "
            "every trail; without it, only what a trail's AllowWeakening lists",
        )
        org_command.add_arguments(command)
    return parser


def _session(profile: str | None) -> boto3.session.Session:
    # A session of its own: the profile must not leak into the process-wide botocore session.
    try:
        return boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    except ProfileNotFound as error:
        raise AwsCallFailed("ProfileNotFound", "configuration", f"{error}; check --profile or AWS_PROFILE") from error


def _fail(error: TrailkeeperError, err: TextIO) -> int:
    problems = error.problems if isinstance(error, InvalidProperties) else (error.reason,)
    err.write(f"trailkeeper: {error.error_code}\n" + "".join(f"  {p}\n" for p in problems))
    return report.EXIT_FAILED


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=err, format="trailkeeper: %(levelname)s %(message)s")
    try:
        org_command.check(args)
        declarations = state.load(args.file)
        session = _session(args.profile)
        region = args.region or os.environ.get("AWS_REGION") or session.region_name
        if not region:
            err.write("trailkeeper: no region: pass --region or set AWS_REGION (or a region in your profile)\n")
            return report.EXIT_FAILED
        clients, deadline = Clients(session), Deadline()
        identity = call(
            "GetCallerIdentity", lambda: clients.client("sts", region).get_caller_identity(), deadline=deadline
        )
        progress = TerminalProgress(err) if not args.json and out.isatty() and err.isatty() else None
        try:
            # Many accounts: the same engine in each, with each account's credentials (trailkeeper.org).
            engine_run = org_command.runner(args, identity) if org_command.wanted(args) else fleet.run
            result = engine_run(
                declarations,
                clients=clients,
                default_region=region,
                caller_account=identity["Account"],
                apply=args.command == "apply",
                deadline=deadline,
                progress=progress,
                allow_weakening=args.allow_weakening,
            )
        finally:
            if progress:
                progress.clear()
    except TrailkeeperError as error:
        return _fail(error, err)
    out.write(json.dumps(result.to_dict(), indent=2) + "\n" if args.json else report.table(result) + "\n")
    return result.exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
