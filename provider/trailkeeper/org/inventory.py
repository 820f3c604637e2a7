"""An account inventory in Cloud Custodian c7n-org's `accounts.yml` format, for teams that keep one.

    accounts:
      - account_id: "111122223333"
        name: payments-prod
        role: arn:aws:iam::111122223333:role/TrailkeeperMember   # or a role name; default --role-name
        regions: [eu-west-1, us-east-1]    # the first is where trails declared by name are looked up
        tags: [env:prod]                   # c7n-org's tags (a list of key:value); kept, not used here
        external_id: my-external-id

Every problem is reported at once (file, entry, key, rule), before any AWS call, as for the state file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from trailkeeper.errors import InvalidState
from trailkeeper.org.accounts import Account, role_arn

# c7n-org's schema for an AWS account entry; keys it knows that trailkeeper has no use for are accepted.
KNOWN_KEYS = frozenset(
    {"account_id", "name", "role", "regions", "tags", "external_id", "vars", "email", "display_name", "mfa_serial"}
)
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _tags(value: Any) -> dict[str, str]:
    # c7n-org writes tags as a list of "key:value" (or bare keys); a mapping is accepted too.
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {str(t).partition(":")[0]: str(t).partition(":")[2] for t in value or []}


def _entry(
    entry: Any, label: str, *, partition: str, role_name: str, caller_account: str | None, problems: list[str]
) -> Account | None:
    if not isinstance(entry, dict):
        problems.append(f"{label}: an entry is an object with account_id, name, role, regions, tags")
        return None
    before = len(problems)
    unknown = sorted(set(entry) - KNOWN_KEYS)
    problems.extend(f"{label}: unknown key {key!r} (c7n-org's accounts.yml keys only)" for key in unknown)
    raw_id = entry.get("account_id")
    # YAML reads an unquoted id as a number (and drops leading zeros): put them back.
    account_id = f"{raw_id:012d}" if isinstance(raw_id, int) and not isinstance(raw_id, bool) else str(raw_id or "")
    if not ACCOUNT_ID.match(account_id):
        problems.append(f"{label}: account_id {raw_id!r} is not a 12-digit AWS account id")
    role = entry.get("role")
    if role is not None and not (isinstance(role, str) and role):
        problems.append(f"{label}: role {role!r} must be a role ARN or a role name")
    regions = entry.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) and REGION.match(r) for r in regions):
        problems.append(f"{label}: regions {regions!r} must be a list of region names such as eu-west-1")
    tags = entry.get("tags")
    if tags is not None and not isinstance(tags, list | dict):
        problems.append(f"{label}: tags {tags!r} must be a list of key:value strings")
    external_id = entry.get("external_id")
    if external_id is not None and not isinstance(external_id, str):
        problems.append(f"{label}: external_id {external_id!r} must be a string")
    if len(problems) > before:
        return None
    if account_id == caller_account and role is None:
        arn = None  # the caller's own account: its own credentials
    elif isinstance(role, str) and role.startswith("arn:"):
        arn = role
    else:
        arn = role_arn(partition, account_id, role or role_name)
    return Account(account_id, str(entry.get("name") or ""), arn, external_id, tuple(regions), _tags(tags))


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
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise InvalidState([f"{path}: cannot read: {error.strerror or error}"]) from error
    except yaml.YAMLError as error:
        raise InvalidState([f"{path}: not valid YAML: {error}"]) from error
    return parse(document, str(path), **options)
