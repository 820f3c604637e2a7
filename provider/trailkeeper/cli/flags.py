"""`trailkeeper plan|apply --organization | --accounts FILE`: choose the accounts, then run them all.

The CLI parses its flags and calls `run`; this module checks the organization flags (every problem at
once, before any AWS call), selects the accounts (Organizations or a c7n-org inventory) and hands them
to `org.reconcile`.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import InvalidArguments, InvalidProperties
from trailkeeper.fleet.reconcile import Progress
from trailkeeper.fleet.report import Report
from trailkeeper.org import accounts, inventory
from trailkeeper.org import reconcile as org_reconcile
from trailkeeper.trail.declaration import Declaration

OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")


REGION_HELP = "a region to look for trails in (repeatable; default: every region enabled for the account)"
PROFILE_HELP = "AWS profile to use (default: as the AWS CLI)"


def add_aws_arguments(command: argparse.ArgumentParser) -> None:
    """--region and --profile: where and as whom every command (plan, apply, export, audit) calls AWS, alike."""
    command.add_argument("--region", action="append", metavar="REGION", help=REGION_HELP)
    command.add_argument("--profile", help=PROFILE_HELP)


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The organization flags of `plan`, `apply`, `export` and `audit`."""
    group = command.add_argument_group("organization (run in many accounts)")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--organization", action="store_true", help="every ACTIVE account of the organization (AWS Organizations)"
    )
    where.add_argument("--accounts", metavar="FILE", help="the accounts of a c7n-org accounts.yml inventory")
    group.add_argument(
        "--ou",
        action="append",
        default=[],
        metavar="OU_ID",
        help="only accounts under this OU, recursively (repeatable)",
    )
    group.add_argument(
        "--role-name",
        default=accounts.DEFAULT_ROLE_NAME,
        help="role assumed in each account (default: %(default)s; your own account uses your credentials)",
    )
    group.add_argument("--exclude-account", action="append", default=[], metavar="ID", help="leave out (repeatable)")
    group.add_argument(
        "--max-accounts",
        type=int,
        default=org_reconcile.MAX_ACCOUNTS,
        metavar="N",
        help="accounts run at once (default: %(default)s)",
    )


def needing(given: Sequence[str], what: str) -> str:
    """Flags given without the one they need, said as a sentence says it.

    >>> needing(["--dry-run"], "--fix"), needing(["--dry-run", "--tag"], "--fix")
    ('--dry-run needs --fix', '--dry-run, --tag need --fix')
    """
    return f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} {what}"


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.organization or args.accounts)


def check(args: argparse.Namespace) -> None:
    """Every problem with the organization flags at once, before any AWS call."""
    problems = [
        f"--ou {ou!r} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
        for ou in args.ou
        if not OU_ID.fullmatch(ou)
    ]
    problems += [
        f"--exclude-account {a!r} is not a 12-digit account id"
        for a in args.exclude_account
        if not accounts.ACCOUNT_ID.match(a)
    ]
    if not accounts.ROLE_NAME.match(args.role_name):
        problems.append(f"--role-name {args.role_name!r} is not an IAM role name")
    if args.max_accounts < 1:
        problems.append(f"--max-accounts {args.max_accounts} must be 1 or more")
    if args.ou and not args.organization:
        problems.append("--ou selects accounts of the organization: add --organization")
    used = [flag for flag, value in (("--ou", args.ou), ("--exclude-account", args.exclude_account)) if value]
    if args.max_accounts != org_reconcile.MAX_ACCOUNTS:
        used.append("--max-accounts")
    if args.role_name != accounts.DEFAULT_ROLE_NAME:
        used.append("--role-name")
    if used and not wanted(args):
        problems.append(needing(used, "--organization or --accounts"))
    if problems:
        raise InvalidProperties(problems)


def selection(args: argparse.Namespace) -> str:
    """The flags that chose the accounts, as typed: what an empty selection's error names."""
    chosen = [f"--accounts {args.accounts}"] if args.accounts else ["--organization", *(f"--ou {o}" for o in args.ou)]
    return " ".join(chosen + [f"--exclude-account {a}" for a in args.exclude_account])


def select(
    args: argparse.Namespace, *, clients: Clients, region: str, identity: Mapping[str, Any], deadline: Deadline
) -> list[accounts.Account]:
    """The accounts to run; InvalidArguments when there are none (an empty selection must not pass as in sync)."""
    caller, partition = str(identity["Account"]), accounts.partition_of(str(identity.get("Arn", "")))
    if args.accounts:
        selected = inventory.load(
            args.accounts,
            partition=partition,
            role_name=args.role_name,
            caller_account=caller,
            exclude=args.exclude_account,
        )
        where = "the inventory lists none, or all are excluded"
    else:
        selected = accounts.discover(
            clients,
            region,
            deadline,
            caller_account=caller,
            partition=partition,
            role_name=args.role_name,
            ous=args.ou,
            exclude=args.exclude_account,
        )
        where = "no ACTIVE account" + (" under the OUs" if args.ou else "") + ", or all are excluded"
    if not selected:
        raise InvalidArguments(f"{selection(args)} selects no account ({where}): nothing to check")
    return selected


def runner(args: argparse.Namespace, identity: Mapping[str, Any]) -> Callable[..., Report]:
    """A drop-in for `fleet.run` (same keywords) that selects the accounts and runs plan/apply in each."""

    def run_accounts(
        declarations: Sequence[Declaration],
        *,
        clients: Clients,
        default_region: str,
        caller_account: str | None,
        apply: bool,
        deadline: Deadline,
        progress: Progress | None = None,
        allow_weakening: bool = False,
        regions: Sequence[str] | None = None,
    ) -> Report:
        selected = select(args, clients=clients, region=default_region, identity=identity, deadline=deadline)
        return org_reconcile.run(
            declarations,
            selected,
            clients=clients,
            default_region=default_region,
            apply=apply,
            deadline=deadline,
            progress=progress,
            max_accounts=args.max_accounts,
            allow_weakening=allow_weakening,
            caller="cli",  # a person's credentials: remedies say "your credentials", not "the function's role"
            regions=regions,
        )

    return run_accounts
