"""Reconcile one trail: read each declared aspect, compare, guard, and (when asked) write in the home region.

Both front doors use this: the custom resource (one trail per event) and the drift-fix pipelines (many).
The trail has already been read (`locate`: one DescribeTrails, which answers the UpdateTrail settings and
whether there are custom selectors or Insights). Each other declared aspect costs at most one read of its
own, and none where DescribeTrails already answers. The settings may cost one KMS lookup (an alias whose
string differs from the current key). Nothing is written when nothing differs; otherwise one call per
aspect that differs, in the order of `trail.aspect`'s phases, after the guard against weakening audit.
A write that fails does not stop the writes that do not depend on it (`trail.aspect.DEPENDENCIES`):
StartLogging above all is attempted unless the logs could not be put back in the declared bucket.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.locate import Trail, home_region
from trailkeeper.errors import AwsCallFailed, NotChangeableHere, OutOfTime, TrailkeeperError, Writes
from trailkeeper.trail import arns, aspects, consistency, guard
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.aspect import UPDATE_TRAIL, Aspect, Call, Change, Weakening, changed_names, unmet_dependency
from trailkeeper.trail.declaration import Declaration
from trailkeeper.trail.normalise import KMS, SNS, current_view, desired_view, kms_key_arn
from trailkeeper.trail.plan import drift, plan
from trailkeeper.trail.settings import Value
from trailkeeper.trail.status import LOGGING

log = logging.getLogger(__name__)

# UpdateTrail on the account's trails; kms:DescribeKey to resolve an alias; iam:PassRole because
# sending CloudWatchLogsRoleArn passes that role to CloudTrail; then each aspect's read and writes.
PERMISSIONS = (
    *aspects.SETTINGS_PERMISSIONS,
    "kms:DescribeKey",
    "iam:PassRole",
    *(action for aspect in aspects.OTHERS for action in aspect.permissions),
)

Hook = Callable[[str], None]  # called with the home region before a read or a write (pacing)


@dataclass(frozen=True)
class Outcome:
    """What reconciling one trail found and did."""

    trail_arn: str
    home_region: str
    changes: tuple[Change, ...]
    writes: tuple[Call, ...]  # the planned calls, in the order they run; empty when in sync
    applied: bool  # True when every planned write was made and succeeded
    sns_topic_arn: str
    refused: tuple[Weakening, ...] = ()  # weakenings the declaration does not allow (apply would refuse)
    is_logging: bool | None = None  # after the call; None when IsLogging is not declared (not read)

    @property
    def changed_properties(self) -> list[str]:
        return changed_names(self.changes)


def check_owner(trail: Trail, caller_account: str | None) -> None:
    """Refuse a trail this account cannot change (an organization trail seen from a member account)."""
    owner = arns.account_of(str(trail["TrailARN"]))
    if not caller_account or owner == caller_account:
        return
    if trail.get("IsOrganizationTrail"):
        raise NotChangeableHere(
            f"{trail['TrailARN']} is an organization trail owned by account {owner}: change it from that "
            "account (the organization's management account), not from this one",
            organization_trail=True,
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


def _resolve_settings(
    declaration: Declaration,
    trail: Trail,
    current: Mapping[str, Value | None],
    *,
    clients: Clients,
    deadline: Deadline,
    aliases: dict[tuple[str, str], str] | None,
) -> dict[str, Value]:
    """The declared settings in compare form; a KMS alias is resolved to its key ARN when that matters."""
    region, home = home_region(trail), TrailHome.from_arn(str(trail["TrailARN"]))
    declared = dict(declaration.settings)
    if isinstance(declared.get(KMS), str):
        facts = _facts(trail, declared, region)
        known = aliases if aliases is not None else {}

        def describe_key(alias: str) -> str:
            return key_arn_of(alias, clients=clients, region=region, deadline=deadline, known=known, facts=facts)

        declared[KMS] = kms_key_arn(str(declared[KMS]), current.get(KMS), home, describe_key)
    return desired_view(declared, home)


def key_arn_of(
    alias: str,
    *,
    clients: Clients,
    region: str,
    deadline: Deadline,
    known: dict[tuple[str, str], str],
    facts: Mapping[str, str] | None = None,
) -> str:
    """The key ARN an alias names in `region`: one DescribeKey, remembered in `known` ((region, alias) -> ARN)
    for the rest of the run (a fleet run shares it between layering and reconciling)."""
    if (region, alias) not in known:
        answer = call(
            "DescribeKey",
            lambda: clients.kms(region).describe_key(KeyId=alias),
            deadline=deadline,
            facts=facts or {"key": alias, "region": region},
        )
        known[(region, alias)] = str(answer["KeyMetadata"]["Arn"])
    return known[(region, alias)]


def _send(clients: Clients, region: str, request: Call, deadline: Deadline, facts: Mapping[str, str]) -> Any:
    method = getattr(clients.cloudtrail(region), xform_name(request.operation))
    return call(request.operation, lambda: method(**request.arguments), deadline=deadline, facts=facts)


def _current(
    aspect: Aspect,
    trail: Trail,
    *,
    clients: Clients,
    deadline: Deadline,
    before_read: Hook | None,
    facts: Mapping[str, str],
) -> object:
    """The aspect's current value: from DescribeTrails when it answers, else from the aspect's one read."""
    known = aspect.known(trail)
    if known is not None:
        return known
    region = home_region(trail)
    if before_read:
        before_read(region)
    try:
        answer = _send(clients, region, aspect.read(str(trail["TrailARN"])), deadline, facts)
    except AwsCallFailed as error:
        if error.aws_code in aspect.absent_when:  # e.g. InsightNotEnabledException: "none", not a failure
            return aspect.current(None, error.aws_code)
        raise
    return aspect.current(answer, None)


def read_current(
    aspect: Aspect,
    trail: Trail,
    *,
    clients: Clients,
    deadline: Deadline,
    before_read: Hook | None = None,
) -> object:
    """One aspect's current value in compare form, read as `reconcile` reads it (export uses this).

    No call when DescribeTrails already answers (`aspect.known`); otherwise the aspect's one read, in the
    trail's home region, `before_read(region)` first.
    """
    facts = _facts(trail, {}, home_region(trail))
    return _current(aspect, trail, clients=clients, deadline=deadline, before_read=before_read, facts=facts)


def reconcile(
    declaration: Declaration,
    trail: Trail,
    *,
    clients: Clients,
    caller_account: str | None,
    deadline: Deadline,
    apply: bool = True,
    before_write: Hook | None = None,
    before_read: Hook | None = None,
    aliases: dict[tuple[str, str], str] | None = None,
    allow_weakening: bool = False,
    after_write: Hook | None = None,
) -> Outcome:
    """Make `trail` (as DescribeTrails returned it) match `declaration`; with apply=False, only plan.

    `before_write(region)` / `before_read(region)` run just before each write / per-trail read, and
    `after_write(region)` once each write is answered or failed (the drift-fix pipelines pace calls per
    region with them, a write an interval after the previous one ended). `aliases` memoises (region, alias) -> key ARN
    across the trails of one run. `allow_weakening` allows every weakening (the CLI's --allow-weakening),
    on top of what the declaration's AllowWeakening allows. A declaration with DryRun plans only.
    """
    trail_arn = str(trail["TrailARN"])
    region = home_region(trail)
    home = TrailHome.from_arn(trail_arn)
    check_owner(trail, caller_account)
    current_settings = current_view(trail)
    consistency.check(declaration.settings, current_settings)
    desired_settings = _resolve_settings(
        declaration, trail, current_settings, clients=clients, deadline=deadline, aliases=aliases
    )
    weakenings = guard.setting_weakenings(desired_settings, current_settings)
    weakened = {w.property: w.control for w in weakenings}
    moved = guard.setting_moves(desired_settings, current_settings)
    changes = [
        Change(c.name, c.current, c.desired, weakened.get(c.name), c.name in moved)
        for c in drift(desired_settings, current_settings)
    ]
    writes: list[Call] = []
    arguments = plan(desired_settings, current_settings, home)
    if arguments:
        writes.append(Call("UpdateTrail", {"Name": trail_arn, **arguments}, UPDATE_TRAIL, tuple(arguments)))

    facts = _facts(trail, desired_settings, region)
    is_logging: bool | None = None
    for aspect in aspects.OTHERS:
        if aspect.name not in declaration.aspects:
            continue
        desired = declaration.aspects[aspect.name]
        current = _current(aspect, trail, clients=clients, deadline=deadline, before_read=before_read, facts=facts)
        changes += aspect.changes(desired, current)
        writes += aspect.writes(desired, current, trail_arn)
        weakenings += aspect.weakenings(desired, current)
        if aspect.name == LOGGING.name:
            is_logging = bool(current)
    writes.sort(key=lambda request: request.phase)  # stable: within a phase, the aspects' own order

    allowance = True if allow_weakening else declaration.allow_weakening
    refused = guard.refused(weakenings, allowance)
    topic = desired_settings.get(SNS, current_settings.get(SNS))
    outcome = Outcome(
        trail_arn, region, tuple(changes), tuple(writes), False, str(topic or ""), tuple(refused), is_logging
    )
    if not writes or not apply or declaration.dry_run:
        return outcome

    guard.check(weakenings, allowance, trail_arn)  # before any write: a refusal writes nothing
    landed = _write(
        writes,
        trail_arn,
        region,
        clients=clients,
        deadline=deadline,
        hooks=(before_write, after_write),
        facts=facts,
    )
    log.info("trail updated", extra={"trail": trail_arn, "changed": outcome.changed_properties, "calls": landed})
    if LOGGING.name in declaration.aspects:  # written, so now as declared
        is_logging = bool(declaration.aspects[LOGGING.name])
    return dataclasses.replace(outcome, applied=True, is_logging=is_logging)


def _write(
    writes: list[Call],
    trail_arn: str,
    region: str,
    *,
    clients: Clients,
    deadline: Deadline,
    hooks: tuple[Hook | None, Hook | None],
    facts: Mapping[str, str],
) -> list[str]:
    """Make `writes` in order; the operations written. A failed write does not stop the writes that do not
    depend on it (`aspect.DEPENDENCIES`); when any failed, the first failure is raised, carrying what
    every write did (`errors.Writes`), so the reason names what was written, what failed and what waits."""
    landed: list[str] = []
    failed: list[tuple[Call, TrailkeeperError]] = []
    waiting: list[tuple[Call, str]] = []
    written_after_failure = False
    before, after = hooks
    for request in writes:
        unmet = unmet_dependency(request, [c for c, _ in failed] + [c for c, _ in waiting])
        if unmet is not None:
            waiting.append((request, unmet[1]))
            continue
        try:
            if deadline.expired:
                done = "nothing was written" if not landed else "the rest was not written"
                raise OutOfTime(f"no time left to call {request.operation} on {trail_arn}; {done}")
            if before:
                before(region)
            try:
                _send(clients, region, request, deadline, facts)
            finally:  # answered or failed, it reached CloudTrail (or may have): the next is spaced from now
                if after:
                    after(region)
        except TrailkeeperError as error:
            failed.append((request, error))
            facts_logged = {"trail": trail_arn, "operation": request.operation, "error_code": error.error_code}
            log.warning("write failed; the writes that do not depend on it go on", extra=facts_logged)
            if isinstance(error, OutOfTime):  # the deadline is over (or CloudFormation was answered): no more
                break
            continue
        landed.append(request.operation)
        written_after_failure = written_after_failure or bool(failed)
    if not failed:
        return landed
    first = failed[0][1]
    first.writes = Writes(
        tuple(landed),
        tuple((request.operation, error) for request, error in failed),
        tuple((request.operation, why) for request, why in waiting),
        written_after_failure,
    )
    raise first
