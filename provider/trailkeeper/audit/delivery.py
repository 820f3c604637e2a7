"""The `delivery` standard's judgement: does each trail's log actually arrive? Pure.

A trail can be configured right, logging, pass every FSBP and CIS control, and record nothing: its bucket
was deleted, its bucket policy replaced, its key disabled, its role's trust lost. Two kinds of evidence are
used, both at once:

- **What CloudTrail reports** (GetTrailStatus): the `Latest*Error` fields, and whether the latest delivery is
  recent for a trail that is logging. Digest files come every hour even when nothing happens, so a digest
  older than `DIGEST_WINDOW` (two hours: one hour and its slack) is a failure; log files and CloudWatch Logs
  deliveries come about every five minutes *when there is activity*, so only one older than `LOG_WINDOW`
  (a day, as CIS's own audit step reads "recent") is. A trail that started logging less than `GRACE` ago
  (two hours for digests) has not had its chance yet: not available. A trail that is not logging is
  CloudTrail.3's business, not a delivery failure: only the chain is judged.
- **The chain as it stands now** (`audit/chain.py`): the bucket, key, log group, role and topic exist, the
  key is enabled, and their policies let CloudTrail's own requests through (`audit/policy.py`), which
  predicts the next delivery before it fails.

A failure of either is FAIL, with its reason; otherwise what cannot be told (a link in an account outside
the run, a policy condition that cannot be judged, a read that failed) is NOT_AVAILABLE; only when both
kinds of evidence say the logs arrive is it PASS. Each control judges one path; a trail is judged once,
in its home region, by its owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trailkeeper.audit import policy
from trailkeeper.audit.chain import BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, TOPIC_KEY, Delivery, Kind, Resource
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, TrailFacts, Verdict

LOG_WINDOW = 24 * 3600.0  # log files and CloudWatch Logs: only when there is activity, about every 5 minutes
DIGEST_WINDOW = 2 * 3600.0  # digest files: every hour, even when nothing happened
GRACE = 15 * 60.0  # a trail that just started logging has not delivered yet
DIGEST_GRACE = 2 * 3600.0
ENABLED = "Enabled"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


@dataclass
class Evidence:
    """What one control found: failures, what could not be told, and what went right (for PASS's reason)."""

    failures: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: list[Kind] = field(default_factory=list)  # links whose policy lacks CloudTrail's grant (an append fixes)
    explicit: list[Kind] = field(default_factory=list)  # links whose policy denies CloudTrail: never edited

    def verdict(self, fix: Mapping[str, Any] | None = None) -> Verdict:
        if self.failures:
            return Verdict(FAIL, "; ".join(self.failures), fix, tuple(self.warnings))
        if self.unknown:
            return Verdict(NOT_AVAILABLE, "; ".join(self.unknown), None, tuple(self.warnings))
        return Verdict(PASS, "; ".join(self.good), None, tuple(self.warnings))


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _age(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def kms_error(text: object) -> bool:
    """Whether a delivery error is the key's (Delivery.5 judges the key; CloudTrail reports it for log files)."""
    return "kms" in str(text or "").lower()


def reported(
    trail: TrailFacts,
    evidence: Evidence,
    *,
    error: str,
    latest: str | None,
    what: str,
    window: float,
    grace: float,
    now: float,
) -> None:
    """What CloudTrail says of one path (`error` and `latest` name GetTrailStatus' fields). A KMS error is the
    key's path, Delivery.5's: here it is a warning, so one cause fails one control."""
    status = trail.status
    if status is None:
        evidence.unknown.append(f"CloudTrail's status was not read ({trail.unread or 'not asked'})")
        return
    if status.get(error) and error == "LatestDeliveryError" and kms_error(status[error]):
        evidence.warnings.append(f"CloudTrail reports {error} {status[error]!s} (the key's: Delivery.5 judges it)")
    elif status.get(error):
        evidence.failures.append(f"CloudTrail reports {error} {status[error]!s}")
    if not status.get("IsLogging"):
        evidence.good.append("the trail is not logging (CloudTrail.3 judges that): only its chain is judged")
        return
    if latest is None:
        return
    last = _when(status.get(latest))
    started = _when(status.get("StartLoggingTime"))
    if last is None:
        if started is not None and now - started.timestamp() < grace:
            evidence.unknown.append(f"logging started at {_stamp(started)}: no {what} delivered yet")
        elif not status.get(error):
            evidence.failures.append(f"CloudTrail reports no {what} delivered ({latest} is empty) while logging")
        return
    age = now - last.timestamp()
    if age > window:
        evidence.failures.append(
            f"the latest {what} was delivered at {_stamp(last)}, {_age(age)} ago (more than {_age(window)})"
        )
    elif not status.get(error):
        evidence.good.append(f"CloudTrail delivered a {what} at {_stamp(last)}")


def _link(trail: TrailFacts, kind: Kind, evidence: Evidence, label: str) -> Resource | None:
    """The link of `kind`, when it can be judged; None after saying why it cannot."""
    found = (trail.chain or {}).get(kind)
    if found is None:
        evidence.unknown.append(f"its {label} was not read")
        return None
    if found.missing:
        evidence.failures.append(found.missing)
        return None
    if found.unavailable:
        evidence.unknown.append(found.unavailable)
        return None
    return found


def allowed(
    policies: Sequence[policy.Policy], requests: Sequence[policy.Request], evidence: Evidence, kind: Kind | None = None
) -> bool:
    """Each request judged against `policies`; True when every one is allowed. A refusal of `kind`'s own
    policy is noted as one an appended statement fixes (no grant) or one it never edits (an explicit Deny)."""
    ok = True
    for request in requests:
        decision = policy.evaluate(policies, request)
        if decision.outcome == policy.DENIED:
            explicit = bool(decision.statements)
            note = (
                " (not edited by --fix: it denies CloudTrail on purpose, a person decides)" if explicit and kind else ""
            )
            evidence.failures.append(decision.reason + note)
            if kind is not None:
                (evidence.explicit if explicit else evidence.refused).append(kind)
            ok = False
        elif decision.outcome == policy.UNDECIDED:
            evidence.unknown.append(decision.reason)
            ok = False
    return ok


def _bucket(trail: TrailFacts, delivery: Delivery, evidence: Evidence, requests: Sequence[policy.Request]) -> None:
    bucket = _link(trail, BUCKET, evidence, f"bucket {delivery.bucket}")
    if bucket is None:
        return
    if allowed(bucket.policies, requests, evidence, BUCKET):
        evidence.good.append(f"the policy of bucket {delivery.bucket} lets CloudTrail write there")


def _delivery(trail: TrailFacts) -> Delivery:
    if trail.delivery is None:  # judge() only asks for trails the reads described
        raise ValueError(f"{trail.arn}: no delivery was read")
    return trail.delivery


def _fix(trail: TrailFacts, evidence: Evidence, kind: Kind) -> Mapping[str, Any] | None:
    """What --fix would do for this trail: append CloudTrail's statements to `kind`'s policy, when only a missing
    grant of that policy fails it (a Deny is never edited; a deleted or disabled link is the owner's call)."""
    link = (trail.chain or {}).get(kind)
    if link is None or kind not in evidence.refused or kind in evidence.explicit:
        return None
    return {"PolicyOf": link.link.arn, "Kind": kind, "Trail": trail.arn}


def logs(trail: TrailFacts, options: Options) -> Verdict:
    """Delivery.1: log files reach the S3 bucket."""
    delivery, evidence = _delivery(trail), Evidence()
    reported(
        trail,
        evidence,
        error="LatestDeliveryError",
        latest="LatestDeliveryTime",
        what="log file",
        window=LOG_WINDOW,
        grace=GRACE,
        now=options.now,
    )
    _bucket(trail, delivery, evidence, delivery.bucket_requests())
    return evidence.verdict(_fix(trail, evidence, BUCKET))


def digests(trail: TrailFacts, options: Options) -> Verdict:
    """Delivery.2: digest files reach the S3 bucket (validation on)."""
    delivery, evidence = _delivery(trail), Evidence()
    reported(
        trail,
        evidence,
        error="LatestDigestDeliveryError",
        latest="LatestDigestDeliveryTime",
        what="digest file",
        window=DIGEST_WINDOW,
        grace=DIGEST_GRACE,
        now=options.now,
    )
    _bucket(trail, delivery, evidence, delivery.digest_requests())
    return evidence.verdict(_fix(trail, evidence, BUCKET))


def cloudwatch(trail: TrailFacts, options: Options) -> Verdict:
    """Delivery.3: events reach the CloudWatch Logs group (a log group set)."""
    delivery, evidence = _delivery(trail), Evidence()
    reported(
        trail,
        evidence,
        error="LatestCloudWatchLogsDeliveryError",
        latest="LatestCloudWatchLogsDeliveryTime",
        what="CloudWatch Logs delivery",
        window=LOG_WINDOW,
        grace=GRACE,
        now=options.now,
    )
    group = _link(trail, LOG_GROUP, evidence, f"log group {delivery.log_group}")
    if group is not None:
        evidence.good.append(f"log group {group.link.name} exists")
    role = _link(trail, ROLE, evidence, f"role {delivery.role}") if delivery.role else None
    if not delivery.role:
        evidence.failures.append("no CloudWatch Logs role is set (CloudTrail writes to the group with it)")
    if role is not None:
        trusted = allowed([role.trust] if role.trust else [], [delivery.trust_request()], evidence)
        identity = [*role.policies]
        may = allowed(identity, delivery.stream_requests(), evidence)
        bounded = role.boundary is None or allowed([role.boundary], delivery.stream_requests(), evidence)
        if trusted and may and bounded:
            evidence.good.append(f"role {role.link.name} trusts CloudTrail and may write to the group's stream")
    return evidence.verdict()


def notifications(trail: TrailFacts, options: Options) -> Verdict:
    """Delivery.4: notifications reach the SNS topic (a topic set)."""
    delivery, evidence = _delivery(trail), Evidence()
    reported(
        trail,
        evidence,
        error="LatestNotificationError",
        latest=None,
        what="notification",
        window=LOG_WINDOW,
        grace=GRACE,
        now=options.now,
    )
    topic = _link(trail, TOPIC, evidence, f"topic {delivery.topic}")
    if topic is not None and allowed(topic.policies, [delivery.topic_request()], evidence, TOPIC):
        evidence.good.append(f"the policy of topic {topic.link.name} lets CloudTrail publish")
    encryption = topic.details.get("KmsMasterKeyId", "") if topic is not None else ""
    if encryption:
        _topic_key(trail, delivery, encryption, evidence)
    return evidence.verdict(_fix(trail, evidence, TOPIC))


def _topic_key(trail: TrailFacts, delivery: Delivery, encryption: str, evidence: Evidence) -> None:
    """An encrypted topic: CloudTrail needs its key's GenerateDataKey and Decrypt, which AWS's managed key
    for SNS cannot give (its policy cannot be edited)."""
    if encryption.endswith(AWS_MANAGED_SNS_KEY):
        evidence.failures.append(
            f"the topic is encrypted with the AWS managed key {AWS_MANAGED_SNS_KEY}, whose policy cannot let "
            "CloudTrail publish: use a customer managed key"
        )
        return
    key = (trail.chain or {}).get(TOPIC_KEY)
    if key is None:
        evidence.unknown.append(f"the topic's key {encryption} was not read")
        return
    if key.missing or key.unavailable:
        (evidence.failures if key.missing else evidence.unknown).append(key.missing or key.unavailable)
        return
    if key.state != ENABLED:
        evidence.failures.append(f"the topic's key {key.link.arn} is {key.state}")
        return
    if allowed(key.policies, delivery.topic_key_requests(key.link.arn), evidence):
        evidence.good.append("the topic's key lets CloudTrail use it")


def encryption(trail: TrailFacts, options: Options) -> Verdict:
    """Delivery.5: the KMS key can be used (a key set)."""
    delivery, evidence = _delivery(trail), Evidence()
    status = trail.status or {}
    error = str(status.get("LatestDeliveryError") or "")
    if kms_error(error):
        evidence.failures.append(f"CloudTrail reports LatestDeliveryError {error}")
    key = _link(trail, KEY, evidence, f"key {delivery.key}")
    if key is not None:
        if key.state != ENABLED:
            evidence.failures.append(
                f"key {key.link.arn} is {key.state or 'in an unknown state'}: CloudTrail cannot encrypt with it"
            )
        bucket = (trail.chain or {}).get(BUCKET)
        bucket_region = bucket.details.get("located", "") if bucket is not None else ""  # as S3 says it
        if bucket_region and key.link.region and bucket_region != key.link.region:
            evidence.failures.append(
                f"key {key.link.arn} is in {key.link.region} but the bucket in {bucket_region}: CloudTrail needs a key "
                "in the bucket's region"
            )
        if allowed(key.policies, delivery.key_requests(), evidence, KEY) and key.state == ENABLED:
            evidence.good.append(f"key {key.link.arn} is enabled and its policy lets CloudTrail encrypt")
    editable = key is not None and key.state == ENABLED  # a disabled key is a person's decision, not a policy's
    return evidence.verdict(_fix(trail, evidence, KEY) if editable else None)


APPLIES: Mapping[str, Callable[[TrailFacts], bool]] = {
    "delivery-logs": lambda t: t.delivery is not None and bool(t.delivery.bucket),
    "delivery-digests": lambda t: t.delivery is not None and t.delivery.validation,
    "delivery-cloudwatch": lambda t: t.delivery is not None and bool(t.delivery.log_group),
    "delivery-notifications": lambda t: t.delivery is not None and bool(t.delivery.topic),
    "delivery-encryption": lambda t: t.delivery is not None and bool(t.delivery.key),
}
