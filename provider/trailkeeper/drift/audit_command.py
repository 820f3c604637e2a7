"""`trailkeeper audit`: its flags, the accounts and regions it covers, and how its report is printed.

    trailkeeper audit [--standard fsbp|cis-5.0|cis-6.0 ...] [--region R ...] [--required-tag KEY ...]
                      [--organization [--ou OU_ID ...] | --accounts accounts.yml] [--format table|json|ocsf] [--json]

Read-only. The CLI (`drift/cli.py`) parses and calls `run`; accounts are chosen as plan chooses them
(`org.command`), and each account gets the caller's credentials or its assumed role.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.drift import audit, findings
from trailkeeper.errors import InvalidArguments, TrailkeeperError
from trailkeeper.org import accounts
from trailkeeper.org import command as org_command
from trailkeeper.org.credentials import AccountSessions
from trailkeeper.trail import controls
from trailkeeper.trail.tags import KEY_MAX

FORMATS = ("table", "json", "ocsf")
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
    command.add_argument(
        "--region", action="append", metavar="R", help="audit this region (repeatable; default: every enabled region)"
    )
    command.add_argument(
        "--required-tag",
        action="append",
        default=[],
        metavar="KEY",
        help="CloudTrail.9: a tag key every trail must have",
    )
    command.add_argument("--format", choices=FORMATS, help="table (default), json, or ocsf (OCSF Detection Findings)")
    command.add_argument("--json", action="store_true", help="the same as --format json")
    command.add_argument("--profile", help="AWS profile to use (default: as the AWS CLI)")
    org_command.add_arguments(command)


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
    if problems:
        raise InvalidArguments("; ".join(problems))


def run(
    args: argparse.Namespace,
    *,
    clients: Clients,
    region: str,
    identity: Mapping[str, Any],
    deadline: Deadline,
    make_clients: Callable[[Any], Clients] = Clients,
    progress: audit.Progress | None = None,
) -> findings.Audit:
    """Choose the accounts and regions, then audit them."""
    caller = str(identity["Account"])
    partition = accounts.partition_of(str(identity.get("Arn", ""))) or "aws"
    scanned = list(dict.fromkeys(args.region)) if args.region else enabled_regions.enabled(clients, region, deadline)
    if not scanned:
        raise InvalidArguments("no region to audit: pass --region")
    targets = [audit.Target(caller, clients)]
    failed: list[findings.AuditError] = []
    if org_command.wanted(args):
        selected = org_command.select(args, clients=clients, region=region, identity=identity, deadline=deadline)
        if not selected:
            raise InvalidArguments("the account selection is empty: nothing to audit (check --ou / --accounts)")
        sessions = AccountSessions(clients, region, deadline)
        targets = []
        for account in selected:
            try:
                acting = clients if account.role_arn is None else make_clients(sessions.session(account))
            except TrailkeeperError as error:
                failed.append(findings.AuditError(account.id, "", error.error_code, f"{account.label}: {error.reason}"))
                continue
            targets.append(audit.Target(account.id, acting, account.name))
    standards = list(dict.fromkeys(args.standard or controls.DEFAULT_STANDARDS))
    return audit.run(
        targets,
        scanned,
        standards=standards,
        options=controls.Options(tuple(args.required_tag)),
        deadline=deadline,
        partition=partition,
        max_accounts=args.max_accounts,
        progress=progress,
        failed_accounts=failed,
    )


def render(result: findings.Audit, form: str, out: TextIO, clock: Callable[[], float] = time.time) -> None:
    if form == "json":
        out.write(json.dumps(result.to_dict(), indent=2) + "\n")
    elif form == "ocsf":
        out.write(json.dumps(findings.ocsf(result, int(clock() * 1000)), indent=2) + "\n")
    else:
        out.write(findings.table(result) + "\n")
