"""Reconcile one trail: read each declared aspect, compare, guard, and (when asked) write in the home region.

Both front doors use this: the custom resource (one trail per event) and the drift-fix pipelines (many).
The trail has already been read (`locate`: one DescribeTrails, which answers the UpdateTrail settings and
whether there are custom selectors or Insights). Each other declared aspect costs at most one read of its
own, and none where DescribeTrails already answers. The settings may cost one KMS lookup (an alias whose
string differs from the current key). Nothing is written when nothing differs; otherwise one call per
aspect that differs, in the order of `trail.aspect`'s phases, after the guard against weakening audit.
A write that fails does not stop the writes that do not depend on it (`trail.aspect.DEPENDENCIES`):
StartLogging above all is attempted unless the logs could not be put back in the declared bucket.

Before any read, who may change the trail from here (`trail/standing.py`): its owner, or, for an organization
trail of the management account, CloudTrail's delegated administrator, which Organizations names
(`aws/delegation.py`: one question per set of clients, only when such a trail is met). Every call names the
trail by its ARN in its home region, the only form CloudTrail accepts from another account than the owner.
Where Organizations could not be asked, CloudTrail decides: its refusal of a read or a write
(`error_table.NOT_THIS_ACCOUNT`) becomes the same NotChangeableHere, naming who may change the trail, and the
writes stop there. What could not be checked from here (a KMS alias of another account) is said in
`Outcome.unchecked`, never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore import xform_name

from trailkeeper.aws import delegation
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.error_table import NOT_THIS_ACCOUNT
from trailkeeper.aws.locate import Trail, home_region
from trailkeeper.errors import AwsCallFailed, InvalidProperties, OutOfTime, TrailkeeperError, Writes
from trailkeeper.trail import aspects, consistency, guard, standing
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.aspect import UPDATE_TRAIL, Aspect, Call, Change, Weakening, changed_names, unmet_dependency
from trailkeeper.trail.declaration import Declaration
from trailkeeper.trail.normalise import KMS, SNS, current_view, desired_view, kms_key_arn
from trailkeeper.trail.plan import drift, plan
from trailkeeper.trail.settings import Value
from trailkeeper.trail.status import LOGGING
from trailkeeper.typed_tuple import TypedTuple

log = logging.getLogger(__name__)

# UpdateTrail on the account's trails; kms:DescribeKey to resolve an alias; iam:PassRole because
# sending CloudWatchLogsRoleArn passes that role to CloudTrail; then each aspect's read and writes. Who
# CloudTrail's delegated administrator is, aws/delegation.py declares (a member role never asks it).
PERMISSIONS = (
    *aspects.SETTINGS_PERMISSIONS,
    "kms:DescribeKey",
    "iam:PassRole",
    *(action for aspect in aspects.OTHERS for action in aspect.permissions),
)
ORGANIZATION = "IsOrganizationTrail"
KMS_NOT_HERE = frozenset({"NotFoundException", "AccessDeniedException", "AccessDenied"})  # DescribeKey of an alias

Hook = Callable[[str], None]  # called with the home region before a read or a write (pacing)


class Outcome(TypedTuple):
    """What reconciling one trail found and did."""

    trail_arn: str
    home_region: str
    changes: tuple[Change, ...]
    writes: tuple[Call, ...]  # the planned calls, in the order they run; empty when in sync
    applied: bool  # True when every planned write was made and succeeded
    sns_topic_arn: str
    refused: tuple[Weakening, ...] = ()  # weakenings the declaration does not allow (apply would refuse)
    is_logging: bool | None = None  # after the call; None when IsLogging is not declared (not read)
    standing: standing.Standing = standing.OWNER  # how this account may change the trail (trail/standing.py)
    unchecked: tuple[str, ...] = ()  # what could not be checked from this account, in words, each complete

    @property
    def changed_properties(self) -> list[str]:
        return changed_names(self.changes)


class Caller(TypedTuple):
    """The calling account, and how it stands to the trail being reconciled: what it may do, and what to say when
    CloudTrail refuses it (`trail/standing.py`)."""

    kind: standing.Standing
    caller: str | None
    administrators: standing.Administrators | None = None

    def unconfirmed(self, trail_arn: str) -> str:
        """What an UNCONFIRMED run says of the trail: CloudTrail, not Organizations, decides."""
        why = self.administrators.unknown if self.administrators is not None else "not asked"
        name = TrailHome.from_arn(trail_arn).name
        return (
            f"account {self.caller} may change organization trail {name} only as CloudTrail's delegated "
            f"administrator, which Organizations did not confirm ({why}): CloudTrail decides at the first write"
        )

    def refused(self, trail_arn: str, error: TrailkeeperError, operation: str) -> TrailkeeperError | None:
        """CloudTrail's refusal of this account, as the reason a refusal of ours would give; None otherwise.

        Only where Organizations could not say (UNCONFIRMED): an owner's or a confirmed delegated
        administrator's error is CloudTrail's own about the call, and keeps its remedy."""
        if self.kind != standing.UNCONFIRMED or self.administrators is None:
            return None
        if not isinstance(error, AwsCallFailed) or error.aws_code not in NOT_THIS_ACCOUNT:
            return None
        # Why Organizations did not say (denied; or, in a stack not set up as the administrator's, not asked)
        # does not fit the reason's 256 characters: the log says it, with CloudTrail's own words.
        log.warning(
            "CloudTrail refused this account an organization trail of another account",
            extra={
                "trail": trail_arn,
                "operation": operation,
                "error_code": error.aws_code,
                "organizations": self.administrators.unknown,
                "aws_message": error.message,
            },
        )
        return standing.refusal(trail_arn, self.caller, self.administrators, f"{operation}: {error.aws_code}")


def check_owner(
    trail: Trail, caller_account: str | None, *, clients: Clients, deadline: Deadline, try_unconfirmed: bool = True
) -> Caller:
    """Who may change `trail` from `caller_account` (trail/standing.py); raises NotChangeableHere for a trail
    it may not. Organizations is asked (once per `clients`) only for an organization trail of another account.
    `try_unconfirmed` False refuses such a trail when Organizations could not say (an organization run: its
    owner, or its delegated administrator, covers it there)."""
    asked = standing.standing(
        trail, caller_account, lambda: delegation.administrators(clients, home_region(trail), deadline)
    )
    kind, administrators = asked
    if kind == standing.UNCONFIRMED and not try_unconfirmed and administrators is not None:
        raise standing.refusal(str(trail["TrailARN"]), caller_account, administrators)
    return Caller(kind, caller_account, administrators)


def may_call(
    declaration: Declaration,
    trail: Trail,
    *,
    apply: bool,
    caller_account: str | None,
    aliases: Mapping[tuple[str, str], str],
) -> bool:
    """Whether `reconcile` could call AWS for this trail beyond the DescribeTrails already made: a write when
    applying, a declared aspect DescribeTrails does not answer, a KMS alias not yet resolved in the trail's
    region, Organizations for another account's organization trail. False means it only compares (a fleet
    run then spares the trail a thread: nothing would wait)."""
    if apply or standing.is_foreign_organization_trail(trail, caller_account):
        return True
    if any(aspect.known(trail) is None for aspect in aspects.OTHERS if aspect.name in declaration.aspects):
        return True
    key = declaration.settings.get(KMS)
    region = home_region(trail)
    alias = isinstance(key, str) and (key.startswith("alias/") or ":alias/" in key)
    return alias and (region, key) not in aliases


def _check_conversion(declaration: Declaration, current: Mapping[str, Value | None], who: Caller, arn: str) -> None:
    """Only the management account converts a trail to or from an organization trail (UpdateTrail's docs):
    refused, before any call, when declared from the delegated administrator."""
    declared = declaration.settings.get(ORGANIZATION)
    if who.kind == standing.OWNER or declared is None or declared == current.get(ORGANIZATION):
        return
    home = TrailHome.from_arn(arn)
    raise InvalidProperties(
        [
            f"{ORGANIZATION}={str(declared).lower()}: only the management account {home.account} may convert "
            f"{home.name} to or from an organization trail (CloudTrail's rule), not account {who.caller}: declare "
            f"it there, or leave {ORGANIZATION} out"
        ]
    )


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
    who: Caller,
    unchecked: list[str],
) -> dict[str, Value]:
    """The declared settings in compare form; a KMS alias is resolved to its key ARN when that matters.

    From another account than the trail's owner, an alias KMS does not find here (aliases are per account) is
    not compared: the current key stays, and `unchecked` says why, rather than a write nobody can verify."""
    region, home = home_region(trail), TrailHome.from_arn(str(trail["TrailARN"]))
    declared = dict(declaration.settings)
    if isinstance(declared.get(KMS), str):
        facts = _facts(trail, declared, region)
        known = aliases if aliases is not None else {}

        def describe_key(alias: str) -> str:
            return key_arn_of(alias, clients=clients, region=region, deadline=deadline, known=known, facts=facts)

        try:
            declared[KMS] = kms_key_arn(str(declared[KMS]), current.get(KMS), home, describe_key)
        except AwsCallFailed as error:
            if who.kind == standing.OWNER or error.aws_code not in KMS_NOT_HERE:
                raise
            unchecked.append(
                f"KmsKeyId {declared[KMS]} not compared: account {who.caller} cannot resolve it (DescribeKey: "
                f"{error.aws_code}); the trail's key is {current.get(KMS)}: declare that key's ARN to compare it"
            )
            declared[KMS] = str(current.get(KMS) or "")
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
    # An UpdateTrail naming a log group and role created in the same stack waits for IAM to propagate them.
    waits = request.operation == "UpdateTrail" and "CloudWatchLogsRoleArn" in request.arguments
    return call(
        request.operation, lambda: method(**request.arguments), deadline=deadline, facts=facts, propagation=waits
    )


OWNED = Caller(standing.OWNER, None)  # reads as the trail's owner (export and the audit: their own trails)


def _current(
    aspect: Aspect,
    trail: Trail,
    *,
    clients: Clients,
    deadline: Deadline,
    before_read: Hook | None,
    facts: Mapping[str, str],
    who: Caller = OWNED,
) -> object:
    """The aspect's current value: from DescribeTrails when it answers, else from the aspect's one read."""
    known = aspect.known(trail)
    if known is not None:
        return known
    region = home_region(trail)
    if before_read:
        before_read(region)
    request = aspect.read(str(trail["TrailARN"]))
    try:
        answer = _send(clients, region, request, deadline, facts)
    except AwsCallFailed as error:
        if error.aws_code in aspect.absent_when:  # e.g. InsightNotEnabledException: "none", not a failure
            return aspect.current(None, error.aws_code)
        refusal = who.refused(str(trail["TrailARN"]), error, request.operation)
        if refusal is None:
            raise
        raise refusal from error
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
    try_unconfirmed: bool = True,
    after_write: Hook | None = None,
) -> Outcome:
    """Make `trail` (as DescribeTrails returned it) match `declaration`; with apply=False, only plan.

    `before_write(region)` / `before_read(region)` run just before each write / per-trail read, and
    `after_write(region)` once each write is answered or failed (the drift-fix pipelines pace calls per
    region with them, a write an interval after the previous one ended). `aliases` memoises (region, alias) -> key ARN
    across the trails of one run. `allow_weakening` allows every weakening (the CLI's --allow-weakening),
    on top of what the declaration's AllowWeakening allows. A declaration with DryRun plans only.
    `try_unconfirmed`: see `check_owner`.
    """
    trail_arn = str(trail["TrailARN"])
    region = home_region(trail)
    home = TrailHome.from_arn(trail_arn)
    who = check_owner(trail, caller_account, clients=clients, deadline=deadline, try_unconfirmed=try_unconfirmed)
    current_settings = current_view(trail)
    consistency.check(declaration.settings, current_settings)
    _check_conversion(declaration, current_settings, who, trail_arn)
    unchecked: list[str] = [who.unconfirmed(trail_arn)] if who.kind == standing.UNCONFIRMED else []
    desired_settings = _resolve_settings(
        declaration,
        trail,
        current_settings,
        clients=clients,
        deadline=deadline,
        aliases=aliases,
        who=who,
        unchecked=unchecked,
    )
    drifted = drift(desired_settings, current_settings)
    weakenings, moved = guard.setting_effects({c.name: c.desired for c in drifted}, current_settings)
    weakened = {w.property: w.control for w in weakenings}
    changes = [Change(c.name, c.current, c.desired, weakened.get(c.name), c.name in moved) for c in drifted]
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
        current = _current(
            aspect, trail, clients=clients, deadline=deadline, before_read=before_read, facts=facts, who=who
        )
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
        trail_arn,
        region,
        tuple(changes),
        tuple(writes),
        False,
        str(topic or ""),
        tuple(refused),
        is_logging,
        who.kind,
        tuple(unchecked),
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
        who=who,
    )
    log.info("trail updated", extra={"trail": trail_arn, "changed": outcome.changed_properties, "calls": landed})
    if LOGGING.name in declaration.aspects:  # written, so now as declared
        is_logging = bool(declaration.aspects[LOGGING.name])
    return outcome._replace(applied=True, is_logging=is_logging)


def _write(
    writes: list[Call],
    trail_arn: str,
    region: str,
    *,
    clients: Clients,
    deadline: Deadline,
    hooks: tuple[Hook | None, Hook | None],
    facts: Mapping[str, str],
    who: Caller = OWNED,
) -> list[str]:
    """Make `writes` in order; the operations written. A failed write does not stop the writes that do not
    depend on it (`aspect.DEPENDENCIES`); when any failed, the first failure is raised, carrying what
    every write did (`errors.Writes`), so the reason names what was written, what failed and what waits.
    CloudTrail refusing this account the trail (`Caller.refused`) stops them all: the next would be refused
    too; when it is the first write, that refusal alone is the reason (nothing was written)."""
    landed: list[str] = []
    failed: list[tuple[Call, TrailkeeperError]] = []
    waiting: list[tuple[Call, str]] = []
    written_after_failure = False
    before, after = hooks
    for position, request in enumerate(writes):
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
            refusal = who.refused(trail_arn, error, request.operation)
            if refusal is not None:
                if not landed and not failed:
                    raise refusal from error
                failed.append((request, refusal))
                waiting += [(later, "CloudTrail refused this account the trail") for later in writes[position + 1 :]]
                break
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
