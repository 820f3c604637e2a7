"""An account inventory in Cloud Custodian c7n-org's `accounts.yml` format, for teams that keep one.

    accounts:
      - account_id: "111122223333"
        name: payments-prod
        role: arn:aws:iam::111122223333:role/TrailkeeperMember   # or a role name; default --role-name
        regions: [eu-west-1, us-east-1]    # the regions scanned in this account when --region is not given
        tags: [env:prod]                   # c7n-org's tags (a list of key:value); kept, not used here
        external_id: my-external-id

Every problem is reported at once (file, entry, key, rule), before any AWS call, as for the state file.
The file is read with the state file's bounded loader (size, depth, aliases, duplicate keys).

Account ids are strings of exactly twelve digits, whatever YAML makes of them. YAML 1.1 reads an
unquoted `012345670123` as an octal number (1402433619) and `111_122_223_333` as 111122223333; a
number is never turned back into an id by padding or reformatting, which could name another account.
An unquoted id is taken from its text as written when that text is twelve digits; anything else is
refused with a hint to quote it. A `role` ARN must be in the entry's own account: one in another
account would run that account under this one's id.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from trailkeeper.errors import InvalidState, show
from trailkeeper.fleet import state
from trailkeeper.org.accounts import ACCOUNT_ID, ROLE_ARN, ROLE_NAME, Account, role_arn
from trailkeeper.trail import rules

# c7n-org's schema for an AWS account entry; keys it knows that trailkeeper has no use for are accepted.
KNOWN_KEYS = frozenset(
    {"account_id", "name", "role", "regions", "tags", "external_id", "vars", "email", "display_name", "mfa_serial"}
)
_INT = "tag:yaml.org,2002:int"


class _Written(int):
    """A number YAML read from an unquoted scalar, with the text as written (an account id's digits)."""

    text: str


class _InventoryLoader(state.BoundedLoader):
    """The state files' bounded loader, keeping each number's text as written."""

    def construct_written_int(self, node: yaml.ScalarNode) -> int:
        number = _Written(super().construct_yaml_int(node))
        number.text = str(node.value)
        return number


_InventoryLoader.add_constructor(_INT, _InventoryLoader.construct_written_int)


def account_id(raw: object) -> tuple[str | None, str | None]:
    """(the id, None) or (None, what is wrong); never a number reformatted into an id.

    >>> account_id(yaml.load("012345670123", Loader=_InventoryLoader))
    ('012345670123', None)
    """
    if isinstance(raw, str):
        return (raw, None) if ACCOUNT_ID.match(raw) else (None, f"account_id {show(raw)} is not 12 digits")
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = raw.text if isinstance(raw, _Written) else str(raw)
        if ACCOUNT_ID.match(text):
            return text, None
        return None, (
            f"account_id {text} is not 12 digits (YAML read it as the number {int(raw)}): write the account's "
            '12 digits in quotes, leading zeros included, e.g. account_id: "012345678901"'
        )
    return None, f"account_id {show(raw)} must be the account's 12 digits, in quotes"


def _tags(value: Any) -> dict[str, str]:
    # c7n-org writes tags as a list of "key:value" (or bare keys); a mapping is accepted too.
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {str(t).partition(":")[0]: str(t).partition(":")[2] for t in value or []}


def _role_problems(role: object, account: str | None) -> list[str]:
    """What is wrong with an entry's `role`: a role name, or an IAM role ARN in the entry's own account."""
    if role is None:
        return []
    if not isinstance(role, str) or not role:
        return [f"role {show(role)} must be a role ARN or a role name"]
    if not role.startswith("arn:"):
        return [] if ROLE_NAME.match(role) else [f"role {show(role)} is not an IAM role name or ARN"]
    in_arn = ROLE_ARN.match(role)
    if in_arn is None:
        return [f"role {show(role)} is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"]
    if account and in_arn["account"] != account:
        return [
            f"role {role} is in account {in_arn['account']}, not in account_id {account}: the run would check "
            f"account {in_arn['account']} under {account}'s name; fix the role or the account_id"
        ]
    return []


def _entry(
    entry: Any, label: str, *, partition: str, role_name: str, caller_account: str | None, problems: list[str]
) -> Account | None:
    if not isinstance(entry, dict):
        problems.append(f"{label}: an entry is an object with account_id, name, role, regions, tags")
        return None
    before = len(problems)
    unknown = sorted(set(entry) - KNOWN_KEYS, key=repr)
    problems.extend(f"{label}: unknown key {show(key)} (c7n-org's accounts.yml keys only)" for key in unknown)
    found, problem = account_id(entry.get("account_id"))
    if problem:
        problems.append(f"{label}: {problem}")
    role = entry.get("role")
    problems.extend(f"{label}: {problem}" for problem in _role_problems(role, found))
    regions = entry.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) and rules.is_region(r) for r in regions):
        problems.append(f"{label}: regions {show(regions)} must be a list of region names such as eu-west-1")
    tags = entry.get("tags")
    if tags is not None and not isinstance(tags, list | dict):
        problems.append(f"{label}: tags {show(tags)} must be a list of key:value strings")
    external_id = entry.get("external_id")
    if external_id is not None and not isinstance(external_id, str):
        problems.append(f"{label}: external_id {show(external_id)} must be a string")
    if len(problems) > before or found is None:
        return None
    if found == caller_account and role is None:
        arn = None  # the caller's own account: its own credentials
    elif isinstance(role, str) and role.startswith("arn:"):
        arn = role
    else:
        arn = role_arn(partition, found, role or role_name)
    return Account(found, str(entry.get("name") or ""), arn, external_id, tuple(regions), _tags(tags))


def parse(
    document: Any,
    source: str = "<accounts>",
    *,
    partition: str = "aws",
    role_name: str,
    caller_account: str | None = None,
    exclude: Iterable[str] = (),
) -> list[Account]:
    """The accounts of an already-loaded inventory, minus `exclude`; InvalidState lists every problem."""
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise InvalidState([f"{source}: the document must be an object with an `accounts:` list (c7n-org format)"])
    problems: list[str] = []
    accounts: list[Account] = []
    seen: set[str] = set()
    for index, entry in enumerate(document["accounts"]):
        label = f"{source}: accounts[{index}]"
        account = _entry(
            entry, label, partition=partition, role_name=role_name, caller_account=caller_account, problems=problems
        )
        if account is None:
            continue
        if account.id in seen:
            problems.append(f"{label}: account_id {account.id} is listed twice")
            continue
        seen.add(account.id)
        accounts.append(account)
    if problems:
        raise InvalidState(problems)
    excluded = set(exclude)
    return [a for a in accounts if a.id not in excluded]


def load(path: str | Path, **options: Any) -> list[Account]:
    """The accounts of an inventory file (see `parse` for the options); InvalidState lists every problem."""
    source = str(path)
    return parse(state.document(state.read_file(path), source, _InventoryLoader), source, **options)
