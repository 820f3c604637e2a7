"""The organization reconcile's `audit` in one account: what the state machine's child asks, and its answer.

    {"action": "audit", "account": "111122223333", "role_name": ..., "standards": ["fsbp", ...],
     "regions": ["us-east-1", ...], "required_tags": ["owner", ...]}

`standards`, `regions` and `required_tags` are optional (empty: FSBP and the newest CIS, every region
enabled for the account, no required tag). Every field is checked before any AWS call. The account is
audited alone, with the same reads as `trailkeeper audit` (`drift/audit.py`), through the member role
(its own account with the function's credentials), and the answer is the audit JSON bounded to fit a
Step Functions state (`bound`).

One account alone cannot see another account's buckets: a trail delivering to the Log Archive
account's bucket has that bucket NOT_AVAILABLE in its account's report; the summary groups those
buckets once, and drops one that another account of the run judged (`org/audit_totals.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from trailkeeper.aws import model
from trailkeeper.aws import regions as enabled_regions
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.drift import audit
from trailkeeper.drift.findings import AUDIT_SCHEMA
from trailkeeper.errors import AwsCallFailed, MalformedEvent
from trailkeeper.trail import compliance
from trailkeeper.trail.compliance import FAIL, NOT_AVAILABLE, STATUSES
from trailkeeper.trail.tags import KEY_MAX, RESERVED

# The audit's reads in one account (drift/audit.py's READS) but the identity check: the event names the
# account. The member role grants exactly these beside the engine's calls, and the reconcile role too (it
# audits its own account with them). GetTrailStatus and GetEventSelectors also on the organization trail a
# member account shows (its owner's): CloudTrail.1 is often met by it.
PERMISSIONS = tuple(action for action in audit.READS if action != "sts:GetCallerIdentity")
FIELDS = ("standards", "regions", "required_tags")

# Step Functions refuses a state's output over 256 KiB (262,144 bytes), and the Lambda task's result
# wraps the payload in its own fields: the answer stays well under, whatever the account holds.
MAX_ANSWER_BYTES = 200_000

# The answer: the audit JSON, and what `bound` left out of its findings and errors (the summary counts all).
ANSWER_SCHEMA: dict[str, Any] = {
    **AUDIT_SCHEMA,
    "title": "trailkeeper organization audit: one account's answer",
    "required": [*AUDIT_SCHEMA["required"], "omitted"],
    "properties": {
        **AUDIT_SCHEMA["properties"],
        "omitted": {
            "type": "object",
            "required": [*STATUSES, "errors"],
            "additionalProperties": False,
            "properties": {key: {"type": "integer", "minimum": 0} for key in (*STATUSES, "errors")},
        },
    },
}


@dataclass(frozen=True)
class Request:
    """What to audit in the account: the standards, the regions (empty: every enabled one), the tag keys."""

    standards: tuple[str, ...]
    regions: tuple[str, ...]
    required_tags: tuple[str, ...]


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows CloudTrail in, across partitions (no call: the shipped model)."""
    session = model.botocore_session()
    return frozenset(
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudtrail", partition_name=partition)
    )


def _strings(event: Mapping[str, Any], key: str, rule: str, ok: Callable[[str], bool]) -> tuple[str, ...]:
    value = event.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedEvent(f"{key} {value!r} must be a list of strings")
    wrong = [v for v in value if not ok(v)]
    if wrong:
        raise MalformedEvent(f"{key} {value!r}: {', '.join(map(repr, wrong))} {rule}")
    return tuple(dict.fromkeys(value))


def read(event: Mapping[str, Any]) -> Request:
    """The audit's fields of the event, checked (MalformedEvent naming the field, the value and the rule)."""
    standards = _strings(
        event,
        "standards",
        f"not a standard trailkeeper judges ({', '.join(compliance.STANDARDS)})",
        lambda s: s in compliance.STANDARDS,
    )
    regions = _strings(event, "regions", "not a region CloudTrail has", lambda r: r in known_regions())
    tags = _strings(
        event,
        "required_tags",
        f"must be 1-{KEY_MAX} characters, not starting {RESERVED}",
        lambda k: 1 <= len(k) <= KEY_MAX and not k.lower().startswith(RESERVED),
    )
    return Request(standards or compliance.DEFAULT_STANDARDS, regions, tags)


def run(
    asked: Request, account: str, name: str, clients: Clients, *, region: str, partition: str, deadline: Deadline
) -> dict[str, Any]:
    """Audit `account` alone with `clients` (acting there); its bounded JSON answer.

    Raises when the account cannot be audited at all (its regions cannot be listed, or every read failed):
    the Map counts the child as failed, its Cause the reason. Reads that fail in some regions only are
    the report's `errors`, beside the findings of the others.
    """
    regions = list(asked.regions) or enabled_regions.enabled(clients, region, deadline)
    result = audit.run(
        [audit.Target(account, clients, name)],
        regions,
        standards=asked.standards,
        options=compliance.Options(asked.required_tags),
        deadline=deadline,
        partition=partition,
    )
    if result.errors and not result.findings:
        first = result.errors[0]
        raise AwsCallFailed(first.code, "audit", f"account {account}: nothing could be audited: {first.reason}")
    return bound(result.to_dict())


def _size(value: Any) -> int:
    return len(json.dumps(value).encode())


def _keep_first(finding: Mapping[str, Any]) -> int:
    """Which findings an answer keeps first: failures, then log buckets (the summary matches them across
    accounts), then what is not available; PASS on trails and regions only as room allows (the summary
    counts them all)."""
    if finding["status"] == FAIL:
        return 0
    if finding["resource"].startswith("arn:") and finding["resource"].split(":")[2] == "s3":
        return 1
    return 2 if finding["status"] == NOT_AVAILABLE else 3


def bound(document: Mapping[str, Any], limit: int = MAX_ANSWER_BYTES) -> dict[str, Any]:
    """The audit JSON within `limit` bytes: its summary whole; errors, then findings by `_keep_first`, while
    they fit; PASS findings on trails and regions never (the summary counts them). `omitted` counts what
    was left out, by status."""
    findings: Sequence[Mapping[str, Any]] = document["findings"]
    omitted = dict.fromkeys((*STATUSES, "errors"), 0)
    answer: dict[str, Any] = {**document, "findings": [], "errors": [], "omitted": omitted}
    room = limit - _size(answer) - 200  # the counts in `omitted` grow by a few digits at most
    for error in document["errors"]:
        size = _size(error) + 2
        if size <= room:
            answer["errors"].append(error)
            room -= size
        else:
            omitted["errors"] += 1
    for finding in sorted(findings, key=_keep_first):  # stable: the audit's order within each rank
        size = _size(finding) + 2
        if _keep_first(finding) < 3 and size <= room:
            answer["findings"].append(finding)
            room -= size
        else:
            omitted[finding["status"]] += 1
    order = {id(f): i for i, f in enumerate(findings)}
    answer["findings"].sort(key=lambda f: order[id(f)])  # back in the audit's order (controls' table order)
    return answer
