"""Reconcile one trail: normalise, check, plan, and (when asked) write the plan in the home region.

Both front doors use this: the custom resource (one trail per event) and the drift-fix CLI (many). The
trail has already been read (`locate`), so this performs at most one KMS lookup (an alias whose string
differs from the current key) and at most one UpdateTrail, and only when the plan is not empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.locate import Trail, home_region
from trailkeeper.errors import NotChangeableHere, OutOfTime
from trailkeeper.trail import arns, consistency
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.declaration import Declaration
from trailkeeper.trail.normalise import KMS, SNS, current_view, desired_view, kms_key_arn
from trailkeeper.trail.plan import Change, drift, plan
from trailkeeper.trail.settings import Value

log = logging.getLogger(__name__)

# UpdateTrail on the account's trails; kms:DescribeKey to resolve an alias; iam:PassRole because
# sending CloudWatchLogsRoleArn passes that role to CloudTrail.
PERMISSIONS = ("cloudtrail:UpdateTrail", "kms:DescribeKey", "iam:PassRole")


@dataclass(frozen=True)
class Outcome:
    """What reconciling one trail found and did."""

    trail_arn: str
    home_region: str
    changes: tuple[Change, ...]
    arguments: Mapping[str, Value]  # UpdateTrail's arguments (without Name); empty when in sync
    applied: bool  # True when UpdateTrail was called and succeeded
    sns_topic_arn: str

    @property
    def changed_properties(self) -> list[str]:
        return [change.name for change in self.changes]


def check_owner(trail: Trail, caller_account: str | None) -> None:
    """Refuse a trail this account cannot change (an organization trail seen from a member account)."""
    owner = arns.account_of(str(trail["TrailARN"]))
    if not caller_account or owner == caller_account:
        return
    if trail.get("IsOrganizationTrail"):
        raise NotChangeableHere(
            f"{trail['TrailARN']} is an organization trail owned by account {owner}: change it from that "
            "account (the organization's management account), not from this one"
        )
    raise NotChangeableHere(f"{trail['TrailARN']} belongs to account {owner}; deploy this in that account")


def _facts(trail: Trail, desired: Mapping[str, Value], region: str) -> dict[str, str]:
    def pick(setting: str, read_as: str) -> str:
        return str(desired.get(setting, trail.get(read_as, "")) or "")

    return {
        "trail": str(trail["TrailARN"]),
        "region": region,
        "bucket": pick("S3BucketName", "S3BucketName"),
        "prefix": (prefix := pick("S3KeyPrefix", "S3KeyPrefix")),
        "log_path": f"{prefix}/AWSLogs/" if prefix else "AWSLogs/",  # where CloudTrail writes in the bucket
        "topic": pick("SnsTopicName", "SnsTopicARN"),
        "key": pick("KmsKeyId", "KmsKeyId"),
    }


def reconcile(
    declaration: Declaration,
    trail: Trail,
    *,
    clients: Clients,
    caller_account: str | None,
    deadline: Deadline,
    apply: bool = True,
    before_write: Callable[[str], None] | None = None,
    aliases: dict[tuple[str, str], str] | None = None,
) -> Outcome:
    """Make `trail` (as DescribeTrails returned it) match `declaration`; with apply=False, only plan.

    `before_write(region)` runs just before UpdateTrail (the CLI paces writes per region with it).
    `aliases` memoises (region, alias) -> key ARN across the trails of one run, so a fleet that
    declares one alias asks KMS once per region, not once per trail.
    """
    trail_arn = str(trail["TrailARN"])
    region = home_region(trail)
    home = TrailHome.from_arn(trail_arn)
    check_owner(trail, caller_account)
    current = current_view(trail)
    consistency.check(declaration.settings, current)

    declared = dict(declaration.settings)
    if isinstance(declared.get(KMS), str):
        facts = _facts(trail, declared, region)
        known = aliases if aliases is not None else {}

        def describe_key(alias: str) -> str:
            if (region, alias) not in known:
                answer = call(
                    "DescribeKey", lambda: clients.kms(region).describe_key(KeyId=alias), deadline=deadline, facts=facts
                )
                known[(region, alias)] = str(answer["KeyMetadata"]["Arn"])
            return known[(region, alias)]

        declared[KMS] = kms_key_arn(str(declared[KMS]), current.get(KMS), home, describe_key)
    desired = desired_view(declared, home)
    changes = tuple(drift(desired, current))
    arguments = plan(desired, current, home)
    topic = desired.get(SNS, current.get(SNS))
    outcome = Outcome(trail_arn, region, changes, arguments, False, str(topic or ""))
    if not arguments or not apply:
        return outcome

    if deadline.expired:
        raise OutOfTime(f"no time left to update {trail_arn}; nothing was written")
    if before_write:
        before_write(region)
    call(
        "UpdateTrail",
        lambda: clients.cloudtrail(region).update_trail(Name=trail_arn, **arguments),
        deadline=deadline,
        facts=_facts(trail, desired, region),
    )
    log.info("trail updated", extra={"trail": trail_arn, "changed": outcome.changed_properties})
    return Outcome(trail_arn, region, changes, arguments, True, outcome.sns_topic_arn)
