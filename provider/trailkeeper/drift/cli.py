"""The `trailkeeper` command: plan or apply a declared state across trails and regions.

    trailkeeper plan  -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper apply -f desired.yaml [--json] [--region R ...] [--profile P]
    trailkeeper plan  -f desired.yaml --organization [--ou OU_ID ...] [--role-name NAME] [--exclude-account ID ...]
    trailkeeper plan  -f desired.yaml --accounts accounts.yml [--max-accounts N]
    trailkeeper plan  -f - < desired.yaml

Exit codes: 0 in sync (plan) or everything fixed (apply); 2 drift found (plan); 1 any error, usage
errors included (argparse's own 2 would read as "drift found" to a pipeline), and a state whose
declarations matched no trail at all (NothingMatched). With --json, stdout always holds one JSON
document: the report, or an error document when the run failed before it.

Names and patterns are looked for in every region enabled for the account, or in the regions given
with --region (repeatable); docs/fleet.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from typing import Any, BinaryIO, NoReturn, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from trailkeeper import __version__
from trailkeeper.aws.calls import CLIENT_CONFIG, Clients, Deadline, call
from trailkeeper.drift import fleet, report, state
from trailkeeper.errors import AwsCallFailed, InvalidArguments, InvalidProperties, TrailkeeperError, show
from trailkeeper.org import command as org_command
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

EPILOG = """exit codes:
  0  plan: every trail is in sync; apply: every trail ends in sync
  1  an error (usage, invalid file, AWS failure); with apply, some trail could not be fixed
  2  plan: drift was found (and nothing else)

credentials come from --profile, then the usual AWS environment variables (AWS_PROFILE, AWS_ACCESS_KEY_ID,
...), as with the AWS CLI. Trails are looked for in every region enabled for the account, or in the
regions given with --region; API calls that are not per region (STS, DescribeRegions) go to the first
--region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's region."""


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


# A person at a terminal: an unreachable endpoint is reported after a few seconds, not a minute.
CLI_CONFIG = CLIENT_CONFIG.merge(Config(connect_timeout=3))
FIRST_CALL_ATTEMPTS = 2  # the identity check: the first call tells whether AWS can be reached at all


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
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,apply}")
    for name, text in (
        ("plan", "show each drifted property as current -> declared; write nothing"),
        ("apply", "fix drift: one minimal UpdateTrail per drifted trail, in its home region"),
    ):
        command = commands.add_parser(
            name, help=text, description=text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        command.add_argument(
            "-f", "--file", required=True, help="declared state (YAML or JSON with a `trails:` list); - reads stdin"
        )
        command.add_argument("--json", action="store_true", help="print the machine-readable report instead of a table")
        command.add_argument(
            "--region",
            action="append",
            metavar="REGION",
            help="a region to look for trails in (repeatable; default: every region enabled for the account)",
        )
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


def _credentials_present(session: boto3.session.Session) -> None:
    """Fail once, saying what to do, before any call would fail with botocore's NoCredentialsError."""
    try:
        found = session.get_credentials()
    except BotoCoreError as error:  # e.g. an expired SSO session, a broken credential_process
        raise AwsCallFailed(type(error).__name__, "configuration", f"cannot load credentials: {error}") from error
    if found is None:
        raise AwsCallFailed(
            "NoCredentials",
            "configuration",
            "no AWS credentials found: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws configure` (or `aws sso login`)",
        )


def _check_regions(
    session: boto3.session.Session, region: str, given: list[str], declarations: list[Declaration]
) -> None:
    """Refuse a region botocore does not know at once (it would be retried as unreachable for seconds)."""
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudtrail", partition_name=partition)
    }
    used = {name: "--region" for name in given}
    used.setdefault(region, "AWS_REGION (or the profile)")
    for declared in declarations:
        used.setdefault(arns.region_of(declared.name) or region, f"the ARN {declared.name}")
    unknown = [f"{show(name)} from {where}" for name, where in used.items() if name not in known]
    if unknown:
        raise InvalidArguments(f"unknown region {'; '.join(unknown)}: CloudTrail has no such region")


def _fail(error: TrailkeeperError, err: TextIO, out: TextIO, as_json: bool) -> int:
    if isinstance(error, InvalidProperties):  # every problem, each on its line: the reason holds only the first
        err.write(f"trailkeeper: {error.error_code}\n" + "".join(f"  {p}\n" for p in error.problems))
    else:
        err.write(f"trailkeeper: {error.reason}\n")
    if as_json:  # a pipeline writing `--json > drift.json` gets a document, not an empty file
        out.write(json.dumps(report.error_document(error), indent=2) + "\n")
    return report.EXIT_FAILED


def _load(file: str, stdin: BinaryIO | None) -> list[Declaration]:
    if file == "-":
        return state.read(stdin or sys.stdin.buffer, "<stdin>")
    return state.load(file)


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
    logging.basicConfig(level=logging.WARNING, stream=err, format="trailkeeper: %(levelname)s %(message)s")
    try:
        return _run(args, out, err, stdin)
    except TrailkeeperError as error:
        return _fail(error, err, out, args.json)


def _run(args: Any, out: TextIO, err: TextIO, stdin: BinaryIO | None) -> int:
    org_command.check(args)  # the organization flags' problems, all at once, before any file or call
    declarations = _load(args.file, stdin)
    source = "<stdin>" if args.file == "-" else args.file
    warnings = [] if declarations else [state.empty_warning(source)]
    for warning in warnings:
        err.write(f"trailkeeper: warning: {warning}\n")
    session = _session(args.profile)
    given: list[str] = args.region or []
    region = (given[0] if given else None) or os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise InvalidArguments("no region: pass --region or set AWS_REGION (or a region in your profile)")
    _check_regions(session, region, given, declarations)
    _credentials_present(session)
    clients, deadline = Clients(session, config=CLI_CONFIG), Deadline()
    identity = call(
        "GetCallerIdentity",
        lambda: clients.client("sts", region).get_caller_identity(),
        deadline=deadline,
        attempts=FIRST_CALL_ATTEMPTS,
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
            regions=given or None,
        )
    finally:
        if progress:
            progress.clear()
    result = dataclasses.replace(result, warnings=(*warnings, *result.warnings))
    nothing = fleet.nothing_matched(declarations, result)
    if nothing is not None:  # patterns that found nothing say which: the error alone would not
        for warning in result.warnings:
            err.write(f"trailkeeper: warning: {warning}\n")
        raise nothing
    out.write(json.dumps(result.to_dict(), indent=2) + "\n" if args.json else report.table(result) + "\n")
    return result.exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
