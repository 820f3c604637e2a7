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
import dataclasses
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from trailkeeper import __version__
from trailkeeper.aws.calls import CLIENT_CONFIG, Clients, Deadline, call
from trailkeeper.cli import audit as audit_command
from trailkeeper.cli import flags as org_command
from trailkeeper.cli import output_file
from trailkeeper.errors import AwsCallFailed, InvalidArguments, InvalidProperties, TrailkeeperError, show
from trailkeeper.export import read as export
from trailkeeper.export import write as export_files
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import report, state
from trailkeeper.org import export as org_export
from trailkeeper.org.accounts import Account
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

# What apply writes: each aspect of a trail is its own call (UpdateTrail for the settings, StartLogging,
# PutEventSelectors, ...), so a trail that differs in three aspects gets three writes, never one.
APPLY_HELP = (
    "fix drift: in each trail's home region, one write per aspect that differs "
    "(UpdateTrail with only the differing settings, StartLogging, PutEventSelectors, ...); nothing when in sync"
)


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
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plan,apply,export,audit}")
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
        org_command.add_aws_arguments(command)
        command.add_argument(
            "--allow-weakening",
            action="store_true",
            help="allow changes that weaken audit (StopLogging, fewer management events, no KMS key, ...) on "
            "every trail; without it, only what a trail's AllowWeakening lists",
        )
        org_command.add_arguments(command)
    _export_arguments(commands)
    audit_command.add_parser(commands, argparse.RawDescriptionHelpFormatter)
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


def _known_regions(session: boto3.session.Session) -> set[str]:
    """Every region botocore knows CloudTrail in, across partitions."""
    return {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudtrail", partition_name=partition)
    }


def _check_regions(known: set[str], region: str, given: list[str], declarations: Sequence[Declaration]) -> None:
    """Refuse a region botocore does not know at once (it would be retried as unreachable for seconds)."""
    used = {name: "--region" for name in given}
    used.setdefault(region, "AWS_REGION (or the profile)")
    for declared in declarations:
        used.setdefault(arns.region_of(declared.name) or region, f"the ARN {declared.name}")
    unknown = [f"{show(name)} from {where}" for name, where in used.items() if name not in known]
    if unknown:
        raise InvalidArguments(f"unknown region {'; '.join(unknown)}: CloudTrail has no such region")


@dataclass(frozen=True)
class Connection:
    """What every command starts from: the caller's clients, checked to reach AWS, and where to call."""

    region: str  # where calls that are not per region go (STS, DescribeRegions)
    given: list[str]  # the regions named with --region, each once, in order ([]: those enabled)
    clients: Clients
    deadline: Deadline
    identity: Mapping[str, Any]  # GetCallerIdentity's answer


def _connect(
    args: Any, declarations: Sequence[Declaration] = (), check: Callable[[set[str]], None] | None = None
) -> Connection:
    """The session, the regions (refused at once when unknown), `check`'s own flag problems, then one identity
    call, tried twice with a short connect timeout: an unreachable endpoint fails within seconds."""
    session = _session(args.profile)
    given: list[str] = list(dict.fromkeys(args.region or []))
    region = (given[0] if given else None) or os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise InvalidArguments("no region: pass --region or set AWS_REGION (or a region in your profile)")
    known = _known_regions(session)
    if check is not None:  # a command's own flags, every problem at once (its --region among them)
        check(known)
    _check_regions(known, region, given, declarations)
    _credentials_present(session)
    clients, deadline = Clients(session, config=CLI_CONFIG), Deadline()
    identity = call(
        "GetCallerIdentity",
        lambda: clients.client("sts", region).get_caller_identity(),
        deadline=deadline,
        attempts=FIRST_CALL_ATTEMPTS,
    )
    return Connection(region, given, clients, deadline, identity)


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
        if args.command == "export":
            return _export(args, out, err)
        return _run(args, out, err, stdin)
    except TrailkeeperError as error:
        return _fail(error, err, out, getattr(args, "json", False) or getattr(args, "format", None) in ("json", "ocsf"))


def _audit(args: Any, out: TextIO, err: TextIO) -> int:
    """`trailkeeper audit`: the same session, identity check and account selection as plan; read-only."""
    form = audit_command.output_format(args)
    org_command.check(args)
    link = _connect(args, check=lambda known: audit_command.check(args, known))
    clients, region, identity, deadline = link.clients, link.region, link.identity, link.deadline
    progress = TerminalProgress(err) if form == "table" and out.isatty() and err.isatty() else None
    try:
        result = audit_command.run(
            args,
            clients=clients,
            region=region,
            identity=identity,
            deadline=deadline,
            make_clients=lambda s: Clients(s, config=CLI_CONFIG),
            progress=progress,
        )
    finally:
        if progress:
            progress.clear()
    if args.fix:
        fixed = audit_command.fix(
            args, result, clients=clients, region=region, identity=identity, deadline=deadline, now=_now()
        )
        result = dataclasses.replace(result, fix=fixed)
    audit_command.render(result, form, out)
    return result.exit_code


def _run(args: Any, out: TextIO, err: TextIO, stdin: BinaryIO | None) -> int:
    if args.command == "audit":
        return _audit(args, out, err)
    org_command.check(args)  # the organization flags' problems, all at once, before any file or call
    declarations = _load(args.file, stdin)
    source = "<stdin>" if args.file == "-" else args.file
    warnings = [] if declarations else [state.empty_warning(source)]
    for warning in warnings:
        err.write(f"trailkeeper: warning: {warning}\n")
    link = _connect(args, declarations)
    clients, region, identity, deadline, given = link.clients, link.region, link.identity, link.deadline, link.given
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
    result = dataclasses.replace(result, warnings=(*warnings, *result.warnings))  # the run's own, e.g. org runs
    nothing = fleet.nothing_matched(declarations, result)
    if nothing is not None:  # patterns that found nothing say which: the error alone would not
        for warning in result.warnings:
            err.write(f"trailkeeper: warning: {warning}\n")
        raise nothing
    out.write(json.dumps(result.to_dict(), indent=2) + "\n" if args.json else report.table(result) + "\n")
    return result.exit_code


# --- trailkeeper export: the declared state of what exists (export/read.py reads, export_files.py writes) ---

EXPORT_HELP = "write every existing trail as a declared state (or a template) that plans nothing"
EXPORT_EPILOG = """exit codes:
  0  every trail of every region (and account) scanned was exported
  1  an error (usage, unwritable output, AWS failure), or some region, trail or account could not be
     read: what could be read is still written, and the file's header names what is missing

plan the export to check it: `trailkeeper plan -f FILE` finds every trail in sync (docs/export.md)."""
FORMATS = ("state", "cloudformation")


def _now() -> datetime:
    """When the export is made (its header says so); tests replace it."""
    return datetime.now(UTC)


def _export_arguments(commands: Any) -> None:
    command = commands.add_parser(
        "export",
        help=EXPORT_HELP,
        description=EXPORT_HELP,
        epilog=EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("-o", "--output", metavar="FILE", help="write here (YAML) instead of standard output")
    command.add_argument(
        "--format",
        choices=FORMATS,
        default="state",
        help="state: a state file for plan/apply (default); cloudformation: a template of Custom::TrailSettings",
    )
    org_command.add_aws_arguments(command)
    org_command.add_arguments(command)


def _export_summary(result: export.Export, args: Any, err: TextIO) -> None:
    where = f" in {len(result.accounts)} account(s)" if result.accounts else ""
    target = f" to {args.output}" if args.output else ""
    err.write(
        f"trailkeeper: exported {len(result.trails)} trail(s) from {len(result.regions)} region(s){where}{target}\n"
    )
    for failure in result.failures:
        err.write(f"trailkeeper: not exported: {failure.describe()}\n")
    for note in result.not_owned:
        err.write(
            f"trailkeeper: {note.trail_arn}: an organization trail seen in {note.seen_in_accounts} member "
            f"account(s); only its owner, account {note.owner_account} (not in this run), exports it\n"
        )


def _export(args: Any, out: TextIO, err: TextIO) -> int:
    org_command.check(args)  # every flag problem at once, before any file or call
    per_account = args.format == "cloudformation" and org_command.wanted(args)
    if per_account:
        _check_template_folder(args.output)
    else:
        output_file.check(args.output, "-o")
    link = _connect(args)
    clients, region, identity, deadline, given = link.clients, link.region, link.identity, link.deadline, link.given
    caller = str(identity["Account"])

    def regions_of(account: Account | None) -> list[str] | None:
        """--region, else an inventory's own regions for that account, else (None) those enabled for it."""
        return given or (list(account.regions) if account is not None and account.regions else None)

    progress = TerminalProgress(err) if err.isatty() else None  # stdout may be the export itself
    try:
        if org_command.wanted(args):
            selected = org_command.select(args, clients=clients, region=region, identity=identity, deadline=deadline)
            result = org_export.run(
                selected,
                clients=clients,
                regions_of=regions_of,
                region=region,
                deadline=deadline,
                max_accounts=args.max_accounts,
                progress=progress,
            )
        else:
            result = export.export_account(
                clients, regions_of(None), account=caller, default_region=region, deadline=deadline, progress=progress
            )
    finally:
        if progress:
            progress.clear()
    if per_account:
        _write_templates(result, args.output, err)
    else:
        write = export_files.template if args.format == "cloudformation" else export_files.state_file
        text = write(result, caller_account=caller, now=_now())
        if args.output:
            output_file.write(args.output, text, "-o")
        else:
            out.write(text)
    _export_summary(result, args, err)
    return report.EXIT_FAILED if result.failures else report.EXIT_OK


# Short enough to be said whole (a reason holds 256 characters) after "-o PATH names a file: ".
PER_ACCOUNT_RULE = (
    "--format cloudformation writes a template per account (a custom resource acts in its stack's account): "
    "give -o DIR for DIR/ACCOUNT_ID.yaml"
)


def _check_template_folder(path: str | None) -> None:
    """The folder the templates of several accounts go to: refused when none, or when it names a file."""
    if path is None:
        raise InvalidArguments(f"no -o with --organization / --accounts: {PER_ACCOUNT_RULE}")
    if Path(path).suffix.lower() in (".yaml", ".yml", ".json", ".template") or Path(path).is_file():
        raise InvalidArguments(f"-o {show(path)} names a file: {PER_ACCOUNT_RULE}")
    output_file.check_folder(path, "-o")


def _write_templates(result: export.Export, folder: str, err: TextIO) -> None:
    """Every account's template (all made before any is written: a refused one leaves the folder as it was)."""
    texts = export_files.templates(result, now=_now())
    names = {run.account: run.name for run in result.accounts}
    counts = Counter(trail.account for trail in result.trails)
    for account, text in texts.items():
        path = str(Path(folder) / f"{account}.yaml")
        output_file.write(path, text, "-o")
        label = f"account {account}" + (f" ({names[account]})" if names.get(account) else "")
        err.write(f"trailkeeper: {label}: {counts[account]} trail(s) to {path}\n")
    for run in result.accounts:
        if run.error is None and run.account not in texts:
            err.write(f"trailkeeper: account {run.account}: no trail to adopt, no template\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
