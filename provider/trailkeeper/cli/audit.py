"""`trailkeeper audit`: its flags, the accounts and regions it covers, and how its report is printed.

    trailkeeper audit [--standard fsbp|cis-5.0|cis-6.0 ...] [--region R ...] [--required-tag KEY ...]
                      [--organization [--ou OU_ID ...] | --accounts accounts.yml]
                      [--format table|json|ocsf|html] [--json] [-o FILE]
    trailkeeper audit --fix [--kms-key KEY] [--log-group GROUP --log-role ROLE] [--primary-trail NAME]
                      [--tag KEY=VALUE ...] [--dry-run | --write-state FILE]

Read-only without --fix. The CLI (`cli/main.py`) parses and calls `run`; accounts are chosen as plan
chooses them (`cli.flags`), and each account gets the caller's credentials or its assumed role. With
--fix, the failing findings' fixes (`audit/fix.py`) are planned and applied by the same engine as
`apply`, in the same accounts.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from trailkeeper.audit import chain_fix, controls, facts, findings, judge, ocsf, reads, report_html, table
from trailkeeper.audit import fix as audit_fix
from trailkeeper.aws import delegation
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.cli import flags, output_file
from trailkeeper.cli.connection import CLI_CONFIG, connect
from trailkeeper.cli.progress import TerminalProgress
from trailkeeper.errors import InvalidArguments, TrailkeeperError
from trailkeeper.export.read import Export
from trailkeeper.fleet import reconcile, state
from trailkeeper.org import accounts
from trailkeeper.org.accounts import Account
from trailkeeper.org.credentials import connect_ahead
from trailkeeper.trail import arns, rules
from trailkeeper.trail.tags import KEY_MAX

FORMATS = ("table", "json", "ocsf", "html")
DESCRIPTION = (
    "judge every trail against Security Hub (FSBP) and CIS CloudTrail controls, by the events each trail "
    "records; write nothing"
)
EPILOG = """exit codes:
  0  no control fails (NOT_AVAILABLE alone, e.g. a log bucket in an account outside the run, is not a failure)
  1  an error (usage, AWS failure, a read that failed)
  2  some control fails

standards: """ + "; ".join(f"{key} = {title}" for key, title in controls.STANDARDS.items())


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    command = commands.add_parser(
        "audit", help=DESCRIPTION, description=DESCRIPTION, epilog=EPILOG, formatter_class=formatter
    )
    command.add_argument(
        "--standard",
        action="append",
        choices=list(controls.STANDARDS),
        metavar="STANDARD",
        help=f"{', '.join(controls.STANDARDS)} (repeatable; default: {' and '.join(controls.DEFAULT_STANDARDS)})",
    )
    flags.add_aws_arguments(command)
    command.add_argument(
        "--required-tag",
        action="append",
        default=[],
        metavar="KEY",
        help="CloudTrail.9: a tag key every trail must have",
    )
    command.add_argument(
        "--format",
        choices=FORMATS,
        help="table (default), json, ocsf (OCSF Detection Findings), or html (one self-contained page for people)",
    )
    command.add_argument("--json", action="store_true", help="the same as --format json")
    command.add_argument(
        "-o", "--output", metavar="FILE", help="write the report here (replaced whole) instead of standard output"
    )
    fixing = command.add_argument_group("fix (strengthen through the guard; never creates or deletes anything)")
    fixing.add_argument("--fix", action="store_true", help="declare and apply the fix of every failing control it can")
    fixing.add_argument("--dry-run", action="store_true", help="with --fix: show the plan, write nothing")
    fixing.add_argument(
        "--write-state",
        metavar="FILE",
        help="with --fix: apply nothing; write every trail audited, as `export` writes it, with the fixes merged in",
    )
    fixing.add_argument(
        "--kms-key", metavar="KEY", help="CloudTrail.2: a key ARN, id or alias, resolved in each trail's home region"
    )
    fixing.add_argument(
        "--log-group", metavar="GROUP", help="CloudTrail.5: a log group name (in each home region) or ARN"
    )
    fixing.add_argument("--log-role", metavar="ROLE", help="CloudTrail.5: the role ARN CloudTrail writes to it with")
    fixing.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="CloudTrail.9: a tag to add (repeatable)"
    )
    fixing.add_argument(
        "--primary-trail", metavar="NAME", help="CloudTrail.1: the trail to make record everywhere (name or ARN)"
    )
    flags.add_arguments(command)


def output_format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise InvalidArguments(f"--json and --format {args.format} disagree: give one")
    return "json" if args.json else args.format or "table"


def check(args: argparse.Namespace, known_regions: set[str]) -> None:
    """Every problem with the audit's own flags at once, before any AWS call."""
    problems = [f"--region {r!r} is not a region CloudTrail has" for r in args.region or [] if r not in known_regions]
    problems += [
        f"--required-tag {k!r} must be 1-{KEY_MAX} characters, not starting aws:"
        for k in args.required_tag
        if not 1 <= len(k) <= KEY_MAX or k.lower().startswith("aws:")
    ]
    problems += _fix_problems(args)
    problems += _output_problems(args)
    problems += _unused(args)
    if problems:
        raise InvalidArguments("; ".join(problems))


# The flags that set an audit option (`facts.Options`), and the option: refused when no control asked reads it.
OPTION_FLAGS = (
    ("--required-tag", "required_tag", "required_tags"),
    ("--tag", "tag", "tags"),
    ("--kms-key", "kms_key", "kms_keys"),
    ("--log-group", "log_group", "log_groups"),
    ("--primary-trail", "primary_trail", "primary_trail"),
)


def _unused(args: argparse.Namespace) -> list[str]:
    """A flag that no asked control reads would change nothing, and its silence would read as if it had
    (`--required-tag` without FSBP: no tag was checked). Refused, naming the flag and who would read it."""
    standards = list(dict.fromkeys(args.standard or controls.DEFAULT_STANDARDS))
    problems = []
    for flag, attribute, option in OPTION_FLAGS:
        values = getattr(args, attribute)
        users = controls.unused(option, standards) if values else ""
        if users:
            shown = " ".join(values) if isinstance(values, list) else str(values)
            asked = " ".join(f"--standard {s}" for s in standards)
            problems.append(
                f"{flag} {shown} does nothing with {asked}: only {users} reads it; add that standard, or drop {flag}"
            )
    return problems


def _fix_problems(args: argparse.Namespace) -> list[str]:
    given = [
        flag
        for flag, value in (
            ("--dry-run", args.dry_run),
            ("--write-state", args.write_state),
            ("--kms-key", args.kms_key),
            ("--log-group", args.log_group),
            ("--log-role", args.log_role),
            ("--tag", args.tag),
            ("--primary-trail", args.primary_trail),
        )
        if value
    ]
    problems = [flags.needing(given, "--fix")] if given and not args.fix else []
    if bool(args.log_group) != bool(args.log_role):
        problems.append("--log-group and --log-role go together (CloudTrail writes to the group with the role)")
    if args.kms_key and rules.kms_key(args.kms_key):
        problems.append(f"--kms-key {args.kms_key!r} is not a key ARN, key id, alias name (alias/...) or alias ARN")
    if args.log_role and rules.iam_role_arn(args.log_role):
        problems.append(f"--log-role {args.log_role!r} is not an IAM role ARN")
    if args.log_group and args.log_group.startswith("arn:") and rules.log_group_arn(args.log_group):
        problems.append(f"--log-group {args.log_group!r} is not a log group ARN")
    for tag in args.tag:
        key, equals, value = tag.partition("=")
        if not equals or not 1 <= len(key) <= KEY_MAX or key.lower().startswith("aws:") or not value:
            problems.append(f"--tag {tag!r} must be KEY=VALUE (a key of 1-{KEY_MAX} characters, not aws:)")
    if args.fix and args.format == "ocsf":
        problems.append("--fix reports its plan as a table or JSON, not OCSF: drop --format ocsf")
    if args.dry_run and args.write_state:
        problems.append("--dry-run and --write-state: give one (--write-state writes nothing to AWS either)")
    if args.write_state:
        try:  # now, not after minutes of reads
            output_file.check(args.write_state, "--write-state")
        except InvalidArguments as error:
            problems.append(error.message)
    return problems


def _output_problems(args: argparse.Namespace) -> list[str]:
    """-o FILE: writable (checked now, not after minutes of reads), and not the --write-state file."""
    if not args.output:
        return []
    problems = []
    try:
        output_file.check(args.output, "-o", yaml=False)
    except InvalidArguments as error:
        problems.append(error.message)
    if args.write_state and Path(args.output).resolve() == Path(args.write_state).resolve():
        problems.append(f"-o and --write-state name one file ({args.output}): give each its own")
    return problems


def options(args: argparse.Namespace) -> facts.Options:
    return facts.Options(
        tuple(args.required_tag),
        log_role=args.log_role or "",
        tags=dict(tag.split("=", 1) for tag in args.tag),
        primary_trail=args.primary_trail or "",
    )


class _Pool(ThreadPoolExecutor):
    """A thread pool whose closing drops the tasks not yet started."""

    def close(self) -> None:
        self.shutdown(wait=True, cancel_futures=True)


def run(
    args: argparse.Namespace,
    *,
    clients: Clients,
    region: str,
    identity: Mapping[str, Any],
    deadline: Deadline,
    make_clients: Callable[[Any], Clients] = Clients,
    progress: reconcile.Progress | None = None,
) -> findings.Audit:
    """Choose the accounts and regions, then audit them."""
    # Accounts' roles are assumed --max-accounts at a time on a pool of their own (`connect_ahead`), beside the
    # audit, which reads the first accounts meanwhile; a run that ends early drops the roles not yet asked.
    with contextlib.closing(_Pool(max_workers=max(1, args.max_accounts))) as connecting:
        caller = str(identity["Account"])
        partition = accounts.partition_of(str(identity.get("Arn", ""))) or "aws"
        targets: list[reads.Target | reads.Pending] = [reads.Target(caller, clients)]
        # Many accounts: each in its own regions (--region, else its inventory's, else its own enabled ones:
        # audit/judge.py asks each account). One: its regions now, so that none to audit is said at once.
        scanned: list[str] | None = enabled_regions.chosen(args.region)
        if not flags.wanted(args):
            scanned = enabled_regions.of_account(args.region, (), clients=clients, region=region, deadline=deadline)
            if not scanned:
                raise InvalidArguments("no region to audit: pass --region")
        else:
            selected = flags.select(args, clients=clients, region=region, identity=identity, deadline=deadline)
            if not selected:
                raise InvalidArguments("the account selection is empty: nothing to audit (check --ou / --accounts)")
            owners = frozenset(account.id for account in selected)  # each judges its own organization trails
            futures = connect_ahead(
                selected, connecting, clients=clients, region=region, deadline=deadline, make_clients=make_clients
            )
            targets = [
                reads.Pending(account.id, _ready(future, account, clients, owners), account.name, account.regions)
                for account, future in zip(selected, futures, strict=True)
            ]
        standards = list(dict.fromkeys(args.standard or controls.DEFAULT_STANDARDS))
        return judge.run(
            targets,
            scanned,
            standards=standards,
            options=options(args),
            kms_key=args.kms_key or "",
            log_group=args.log_group or "",
            deadline=deadline,
            partition=partition,
            max_accounts=args.max_accounts,
            progress=progress,
            export_trails=bool(args.fix and args.write_state),  # the state written is the export plus the fixes
            home_region=region,
        )


def fix(
    args: argparse.Namespace,
    result: findings.Audit,
    *,
    clients: Clients,
    region: str,
    identity: Mapping[str, Any],
    deadline: Deadline,
    now: datetime | None = None,
) -> findings.Fix:
    """Plan (--dry-run) or apply the failing findings' fixes with the engine, or write the declared state that
    passes them (--write-state: the export of every trail audited with the fixes merged in; `now` dates it).

    The delivery chain's fixes (CloudTrail's statements appended to a bucket, key or topic policy:
    audit/chain_fix.py) are planned alike, written only without --dry-run and --write-state, each with the
    clients of the account that owns the policy."""
    entries = audit_fix.declarations(result)
    policies = chain_fix.plan(chain_fix.failing_fixes(result.findings), result.deliveries, result.chains)
    if policies and not (args.dry_run or args.write_state):
        policies = chain_fix.apply(policies, result.clients.get, deadline)
    if args.write_state:
        exported = result.exported or Export((), result.regions)
        document, trails = audit_fix.state_document(
            exported, entries, result, caller_account=str(identity["Account"]), now=now or datetime.now(UTC)
        )
        output_file.write(args.write_state, document, "--write-state")
        return findings.Fix(
            tuple(entries),
            state_file=args.write_state,
            state_trails=trails,
            export_reads=result.export_reads,
            policies=tuple(policies),
        )
    if not entries:
        return findings.Fix((), policies=tuple(policies))
    declared = state.parse({"trails": entries}, "audit --fix")
    homes = sorted({arns.region_of(str(e["Name"])) for e in entries})
    engine_run = flags.runner(args, identity) if flags.wanted(args) else reconcile.run
    outcome = engine_run(
        declared,
        clients=clients,
        default_region=region,
        caller_account=str(identity["Account"]),
        apply=not args.dry_run,
        deadline=deadline,
        regions=homes,
    )
    return findings.Fix(tuple(entries), report=outcome, policies=tuple(policies))


def render(result: findings.Audit, form: str, out: TextIO, clock: Callable[[], float] = time.time) -> None:
    if form == "json":
        out.write(json.dumps(result.to_dict(), indent=2) + "\n")  # with --fix, its "fix" too
    elif form == "ocsf":
        out.write(json.dumps(ocsf.ocsf(result, int(clock() * 1000)), indent=2) + "\n")
    elif form == "html":
        out.write(report_html.render(result, generated=datetime.fromtimestamp(clock(), UTC)))
    else:
        out.write(table.table(result) + "\n")


def _written(result: findings.Audit, form: str, path: str, err: TextIO) -> None:
    """Where the report went, and its totals: the terminal shows no report when it goes to a file."""
    err.write(
        f"trailkeeper: wrote the audit report ({form}) to {path}: {len(result.findings)} finding(s) in "
        f"{len(result.accounts)} account(s), {len(result.regions)} region(s): {result.count(facts.PASS)} pass, "
        f"{result.count(facts.FAIL)} fail, {result.count(facts.NOT_AVAILABLE)} not available, "
        f"{len(result.errors)} read error(s)\n"
    )


def command(args: Any, out: TextIO, err: TextIO) -> int:
    """`trailkeeper audit`: the same session, identity check and account selection as plan; read-only."""
    form = output_format(args)
    flags.check(args)
    link = connect(args, check=lambda known: check(args, known))
    clients, region, identity, deadline = link.clients, link.region, link.identity, link.deadline
    # The progress line shares the terminal with a table, or with nothing when the report goes to a file.
    to_terminal = out.isatty() and (form == "table" or bool(args.output))
    progress = TerminalProgress(err) if to_terminal and err.isatty() else None
    try:
        result = run(
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
        fixed = fix(
            args, result, clients=clients, region=region, identity=identity, deadline=deadline, now=output_file.now()
        )
        result = dataclasses.replace(result, fix=fixed)
    if args.output:
        page = io.StringIO()
        render(result, form, page)
        output_file.write(args.output, page.getvalue(), "-o")
        _written(result, form, args.output, err)
    else:
        render(result, form, out)
    return result.exit_code


def _ready(
    future: Future[Clients | TrailkeeperError], account: Account, clients: Clients, owners: frozenset[str]
) -> Callable[[], Clients | findings.AuditError]:
    """How the audit waits for `account`'s clients, or gets the error naming the account whose role could
    not be assumed."""

    def connect() -> Clients | findings.AuditError:
        acting = future.result()
        if isinstance(acting, TrailkeeperError):
            return findings.AuditError(account.id, "", acting.error_code, f"{account.label}: {acting.reason}")
        delegation.share(clients, acting, owners)  # Organizations asked once, by the caller
        return acting

    return connect
