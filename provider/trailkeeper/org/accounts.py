"""Which accounts an organization run covers: AWS Organizations' ACTIVE accounts, all or under some OUs.

An account is run with the credentials of a role assumed in it (`role_arn`), except the caller's own
account, which uses the caller's credentials (`role_arn` None). Discovery pages through
ListAccounts, or walks each given OU recursively with ListAccountsForParent and
ListOrganizationalUnitsForParent; suspended and closing accounts are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, TrailkeeperError

PERMISSIONS = (
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
)
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
# Exactly twelve ASCII digits: `\d` would take other scripts' digits and `$` a trailing newline.
ACCOUNT_ID = re.compile(r"^[0-9]{12}\Z")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,512}\Z", re.ASCII)
ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,512}\Z", re.ASCII)


@dataclass(frozen=True)
class Account:
    """One account of a run; `role_arn` None means the caller's own credentials."""

    id: str
    name: str = ""
    role_arn: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"account {self.id}" + (f" ({self.name})" if self.name else "")


def named_for(error: TrailkeeperError, account: Account) -> TrailkeeperError:
    """An AWS failure's reason, prefixed with the account and the role it was made with."""
    if not isinstance(error, AwsCallFailed) or error.message.startswith(account.label):
        return error
    via = f" via {account.role_arn}" if account.role_arn else " (caller's credentials)"
    return AwsCallFailed(error.aws_code, error.operation, f"{account.label}{via}: {error.message}")


def role_arn(partition: str, account_id: str, role_name: str) -> str:
    """`arn:<partition>:iam::<account>:role/<name>`; a name may carry a path (`path/name`).

    >>> role_arn("aws", "111122223333", "OrganizationAccountAccessRole")
    'arn:aws:iam::111122223333:role/OrganizationAccountAccessRole'
    """
    return f"arn:{partition}:iam::{account_id}:role/{role_name.strip('/')}"


def partition_of(arn: str) -> str:
    """The partition an ARN names (`aws`, `aws-cn`, `aws-us-gov`)."""
    return arn.split(":")[1] if arn.count(":") >= 5 else "aws"


def _pages(operation: str, send: Callable[[dict[str, str]], Any], key: str, deadline: Deadline) -> Iterator[Any]:
    token: dict[str, str] = {}
    while True:
        answer = call(operation, lambda t=token: send(t), deadline=deadline)  # type: ignore[misc]
        yield from answer.get(key, [])
        if not answer.get("NextToken"):
            return
        token = {"NextToken": answer["NextToken"]}


def _active(accounts: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    # `State` is the newer field (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED); `Status` the older one.
    for account in accounts:
        if (account.get("State") or account.get("Status")) == "ACTIVE":
            yield account


def _under(organizations: Any, parent: str, deadline: Deadline) -> Iterator[Mapping[str, Any]]:
    """Every account under `parent` (an OU or root id), its child OUs walked recursively."""
    pending = [parent]
    while pending:
        current = pending.pop()
        yield from _pages(
            "ListAccountsForParent",
            lambda token, p=current: organizations.list_accounts_for_parent(ParentId=p, **token),  # type: ignore[misc]
            "Accounts",
            deadline,
        )
        pending.extend(
            str(ou["Id"])
            for ou in _pages(
                "ListOrganizationalUnitsForParent",
                lambda token, p=current: organizations.list_organizational_units_for_parent(  # type: ignore[misc]
                    ParentId=p, **token
                ),
                "OrganizationalUnits",
                deadline,
            )
        )


def discover(
    clients: Clients,
    region: str,
    deadline: Deadline,
    *,
    caller_account: str,
    partition: str,
    role_name: str = DEFAULT_ROLE_NAME,
    ous: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[Account]:
    """The organization's ACTIVE accounts (under `ous` when given), minus `exclude`, sorted by id."""
    organizations = clients.client("organizations", region)
    ous = list(ous)
    if ous:
        listed: Iterable[Mapping[str, Any]] = (a for ou in ous for a in _under(organizations, ou, deadline))
    else:
        listed = _pages("ListAccounts", lambda token: organizations.list_accounts(**token), "Accounts", deadline)
    excluded = set(exclude)
    found: dict[str, Account] = {}
    for account in _active(listed):
        account_id = str(account["Id"])
        if account_id in excluded:
            continue
        role = None if account_id == caller_account else role_arn(partition, account_id, role_name)
        found[account_id] = Account(account_id, str(account.get("Name", "")), role)
    return [found[key] for key in sorted(found)]
