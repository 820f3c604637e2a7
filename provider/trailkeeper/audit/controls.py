"""The Security Hub and CIS controls `trailkeeper audit` judges, in one table, and the judgement. Pure.

Each `Control` says once how each standard names it, what it judges, what it needs read, the remedy,
and how it is judged. docs/controls.md is rendered from `CONTROLS` (devkit/docs.py); the audit's AWS
edge (`audit/judge.py`) reads only what the asked controls need and hands the facts here. (The guard's
words for the control a weakening breaks are `trail/control_names.py`'s; this is the audit's table.)

The status is the verdict of the standard's own documented rule (`audit/sources.py` names each and its
source): CloudTrail.1 is AWS Config's `multi-region-cloudtrail-enabled`, read per trail in
`audit/standing.py`, where trailkeeper's model of recorded events (`record.py`) judging otherwise is said
in the reason. What a trail records is read by that model, not by names or shapes: an advanced selector
equivalent to the default records what it does; an advanced S3 selector with `readOnly = false` records
writes, not reads. A selector trailkeeper cannot read exactly proves nothing, and neither does a read
that was refused: a control whose evidence could not be read is NOT_AVAILABLE, at every level.

Three levels, as the standards judge them:

- account and region: at least one trail seen in the region (its own or a multi-region trail's shadow,
  an organization trail included) does it (CloudTrail.1, CloudTrail.3, CIS S3 data events);
- trail: each trail the account owns, once, judged in its home region (CloudTrail.2, .4, .5, .9);
- log bucket: each bucket trails deliver to, once, read in the account that owns it (CloudTrail.6, .7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from trailkeeper.audit import delivery, selector_fix, standing
from trailkeeper.audit.facts import (
    BUCKET_LOGGING,
    BUCKET_PUBLIC,
    CHAIN_BUCKET,
    CHAIN_KEY,
    CHAIN_LOGS,
    CHAIN_TOPIC,
    EVENTS,
    FAIL,
    NOT_AVAILABLE,
    PASS,
    STATUS,
    TAGS,
    BucketFacts,
    Level,
    Options,
    Place,
    TrailFacts,
    Verdict,
)
from trailkeeper.trail import record
from trailkeeper.trail.control_names import READ, WRITE

# Standard -> its title. Security Hub's control ids (CloudTrail.N) are audited under `fsbp`; CloudTrail.6
# and .7 also belong to Security Hub's older CIS v1.2/1.4 lines and CloudTrail.9 to its Resource Tagging
# standard, but they carry the same security control id in every one of them.
STANDARDS: Mapping[str, str] = MappingProxyType(
    {
        "fsbp": "AWS Foundational Security Best Practices v1.0.0 (Security Hub control ids)",
        "cis-5.0": "CIS AWS Foundations Benchmark v5.0.0",
        "cis-6.0": "CIS AWS Foundations Benchmark v6.0.0",
        "delivery": "trailkeeper delivery: every trail's logs reach their destinations (audit/delivery.py)",
    }
)
DEFAULT_STANDARDS = ("fsbp", "cis-6.0", "delivery")  # FSBP, the newest CIS, and whether logs arrive


@dataclass(frozen=True)
class Control:
    """One control, as every standard that has it names it."""

    key: str
    level: Level
    ids: Mapping[str, str]  # standard -> the control's id in it
    title: str
    judges: str  # what it judges, for docs/controls.md
    remedy: str
    needs: frozenset[str]
    judge: Callable[[Any, Options], Verdict] = field(repr=False, compare=False)
    # Whether the control says anything of a subject (digest files only with validation on...): None, always.
    applies: Callable[[Any], bool] | None = field(default=None, repr=False, compare=False)
    uses: frozenset[str] = frozenset()  # the `Options` its judgement reads (what a flag given for it sets)

    def id_in(self, standard: str) -> str | None:
        return self.ids.get(standard)


# --- account level: one trail seen in the region passes, as the standard's rule reads it --------------

TrailStanding = Callable[[TrailFacts], standing.Standing]


def _said(trail: TrailFacts, stands: standing.Standing) -> str:
    return f"{trail.arn} {stands.words()}" + (f" ({stands.differs})" if stands.differs else "")


def _nearest(place: Place, stands: TrailStanding) -> TrailFacts | None:
    """The trail of this account closest to passing (fewest shortfalls), the one a fix would declare."""
    mine = [t for t in place.trails if t.account == place.account]

    def distance(trail: TrailFacts) -> tuple[int, bool, str]:
        found = stands(trail)
        return (len(found.lacking) + len(found.unread), not trail.record.multi_region, trail.arn)

    return min(mine, key=distance, default=None)


def _account_level(place: Place, stands: TrailStanding, passes: str) -> Verdict | None:
    """PASS when a trail seen here passes; NOT_AVAILABLE when none is known to fail but some could not be
    read (a denied read proves nothing, as Security Hub's NOT_AVAILABLE); None: FAIL, for the caller to
    word with its fix (`_failing`). `passes` follows a passing trail's ARN."""
    standings = [(trail, stands(trail)) for trail in place.trails]
    passing = [trail for trail, found in standings if found.passes]
    if passing:
        return Verdict(PASS, f"{passing[0].arn} {passes}")
    unknown = [(trail, found) for trail, found in standings if found.unknown]
    if unknown:
        known = [(trail, found) for trail, found in standings if not found.unknown]
        return Verdict(
            NOT_AVAILABLE,
            f"whether a trail here passes could not be told: {' | '.join(_said(t, f) for t, f in unknown)}"
            + (f"; the others fail it: {' | '.join(_said(t, f) for t, f in known)}" if known else ""),
        )
    return None


def _failing(place: Place, stands: TrailStanding, none: str) -> str:
    return f"{none}: " + (" | ".join(_said(t, stands(t)) for t in place.trails) or "there is no trail")


# --- fixes: the smallest declaration that passes -----------------------------------------------------


def _fix(trail: TrailFacts, **declared: Any) -> dict[str, Any]:
    return {"Name": trail.arn, **declared}


def _everywhere_fix(trail: TrailFacts) -> dict[str, Any] | None:
    declared: dict[str, Any] = {}
    if not trail.record.multi_region:
        declared.update(IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    if trail.record.logging is False:
        declared["IsLogging"] = True
    declared.update(selector_fix.management_fixed(trail.selectors) or {})  # in place: Config's rule passes too
    return _fix(trail, **declared) if declared else None


# --- judgements ---------------------------------------------------------------------------------------


def _multi_region(place: Place, options: Options) -> Verdict:
    judged = _account_level(
        place,
        standing.everywhere,
        "is multi-region, logging, and records every read and write management event in one selector, with no "
        "source excluded",
    )
    if judged is not None:
        return judged
    nearest = _nearest(place, standing.everywhere)
    reason = _failing(place, standing.everywhere, "no trail here records every management event in every region")
    if options.primary_trail:
        named = [t for t in place.trails if options.primary_trail in (t.arn, t.name) and t.account == place.account]
        nearest = named[0] if len(named) == 1 else None
        if nearest is None:
            reason += f" (--primary-trail {options.primary_trail} is not one trail of this account seen here)"
    return Verdict(FAIL, reason, _everywhere_fix(nearest) if nearest else None)


def _any_logging(place: Place, _: Options) -> Verdict:
    judged = _account_level(place, standing.logging, "is logging")
    if judged is not None:
        return judged
    nearest = _nearest(place, standing.logging)
    fix = _fix(nearest, IsLogging=True) if nearest and nearest.record.logging is False else None
    return Verdict(FAIL, _failing(place, standing.logging, "no trail here is logging"), fix)


def _s3_data(kind: str, place: Place, _: Options) -> Verdict:
    """CIS's S3 object-level `kind` events (a partial per kind in CONTROLS: built at run time, in mutmut's reach)."""

    def stands(trail: TrailFacts) -> standing.Standing:
        return standing.s3_data(trail, kind)

    none = f"no multi-region logging trail here records S3 object-level {kind} events for all buckets"
    passes = f"is multi-region, logging, and records S3 object-level {kind} events for all buckets"
    judged = _account_level(place, stands, passes)
    # Which buckets' data events to pay for is the owner's choice: no fix.
    return judged if judged is not None else Verdict(FAIL, _failing(place, stands, none))


def _encrypted(trail: TrailFacts, options: Options) -> Verdict:
    if trail.record.encrypted:
        return Verdict(PASS, f"log files are encrypted with {trail.record.settings.get(record.KMS_KEY)}")
    reason = "log files are not encrypted with a KMS key (KmsKeyId is not set)"
    key = options.kms_keys.get((trail.account, trail.home_region))
    if key:
        return Verdict(FAIL, reason, _fix(trail, KmsKeyId=key))
    refused = options.kms_refused.get((trail.account, trail.home_region))
    return Verdict(FAIL, f"{reason}; {refused}" if refused else reason)


def _validated(trail: TrailFacts, _: Options) -> Verdict:
    if trail.record.validation:
        return Verdict(PASS, "log file validation is enabled")
    return Verdict(FAIL, "log file validation is disabled", _fix(trail, EnableLogFileValidation=True))


def _log_group_fix(trail: TrailFacts, options: Options) -> tuple[dict[str, Any] | None, str]:
    """The log group and role --fix would declare for `trail` (the group in its home region), or why none."""
    where = (trail.account, trail.home_region)
    group = options.log_groups.get(where)
    if group is None:
        return None, options.log_group_refused.get(where, "")
    return _fix(trail, CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=options.log_role), ""


def _cloudwatch(trail: TrailFacts, options: Options) -> Verdict:
    group = trail.record.log_group
    if not group:
        fix, refused = _log_group_fix(trail, options)
        reason = "no CloudWatch Logs log group is configured"
        return Verdict(FAIL, f"{reason}; {refused}" if refused else reason, fix)
    warnings = (
        (f"CloudTrail reports a delivery error to {group}: {trail.delivery_error}",) if trail.delivery_error else ()
    )
    return Verdict(PASS, f"events also go to {group}", warnings=warnings)


def _tagged(trail: TrailFacts, options: Options) -> Verdict:
    if trail.tags is None:
        return Verdict(NOT_AVAILABLE, f"its tags could not be read ({trail.unread or 'unknown'})")
    tagged = {**options.tags, **trail.tags}  # the trail's own values are kept: --fix only adds keys
    fix = _fix(trail, Tags=[{"Key": k, "Value": v} for k, v in sorted(tagged.items())])
    if options.required_tags:
        missing = [key for key in options.required_tags if key not in trail.tags]
        if missing:
            fixed = all(key in tagged for key in options.required_tags)
            return Verdict(FAIL, f"missing the required tag key(s) {', '.join(missing)}", fix if fixed else None)
        return Verdict(PASS, f"has the required tag key(s) {', '.join(options.required_tags)}")
    if not trail.tags:
        return Verdict(FAIL, "has no user tags (aws: tags do not count)", fix if tagged else None)
    return Verdict(PASS, f"has {len(trail.tags)} user tag(s)")


def _not_public(bucket: BucketFacts, _: Options) -> Verdict:
    if bucket.unavailable:
        return Verdict(NOT_AVAILABLE, bucket.unavailable)
    if bucket.public:
        return Verdict(FAIL, "; ".join(bucket.public))
    return Verdict(PASS, "no public ACL grant, the policy is not public, or public access is blocked")


def _access_logged(bucket: BucketFacts, _: Options) -> Verdict:
    if bucket.unavailable:
        return Verdict(NOT_AVAILABLE, bucket.unavailable)
    if bucket.access_logging:
        return Verdict(PASS, "server access logging is enabled")
    return Verdict(FAIL, "server access logging is disabled")


CONTROLS: tuple[Control, ...] = (
    Control(
        "multi-region",
        "account",
        MappingProxyType({"fsbp": "CloudTrail.1", "cis-5.0": "3.1", "cis-6.0": "4.1"}),
        "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read "
        "and write management events",
        "at least one multi-region trail seen in the region is logging and has a selector of read and write "
        "management events, and no selector excluding a source (AWS Config's multi-region-cloudtrail-enabled)",
        "make a trail multi-region (with global service events), start its logging, and change its selectors in "
        "place: remove every excluded source, widen a ReadOnly / WriteOnly management selector to All (or add "
        "one), keeping its data events",
        frozenset({STATUS, EVENTS}),
        _multi_region,
        uses=frozenset({"primary_trail"}),
    ),
    Control(
        "logging",
        "account",
        MappingProxyType({"fsbp": "CloudTrail.3"}),
        "At least one CloudTrail trail should be enabled",
        "at least one trail seen in the region is logging",
        "start logging on a trail (StartLogging), or create one",
        frozenset({STATUS}),
        _any_logging,
    ),
    Control(
        "encryption",
        "trail",
        MappingProxyType({"fsbp": "CloudTrail.2", "cis-5.0": "3.5", "cis-6.0": "4.5"}),
        "CloudTrail should have encryption at-rest enabled",
        "the trail encrypts its log files with a KMS key (KmsKeyId)",
        "declare KmsKeyId: a KMS key in the trail's home region whose policy lets CloudTrail use it",
        frozenset(),
        _encrypted,
        uses=frozenset({"kms_keys"}),
    ),
    Control(
        "validation",
        "trail",
        MappingProxyType({"fsbp": "CloudTrail.4", "cis-5.0": "3.2", "cis-6.0": "4.2"}),
        "CloudTrail log file validation should be enabled",
        "the trail writes digest files (EnableLogFileValidation)",
        "declare EnableLogFileValidation: true",
        frozenset(),
        _validated,
    ),
    Control(
        "cloudwatch-logs",
        "trail",
        MappingProxyType({"fsbp": "CloudTrail.5"}),
        "CloudTrail trails should be integrated with Amazon CloudWatch Logs",
        "the trail also sends its events to a CloudWatch Logs group (CloudWatchLogsLogGroupArn); a delivery "
        "error GetTrailStatus reports is shown beside it as a warning, not a failure",
        "declare CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn: a log group in the trail's home region "
        "and a role CloudTrail may assume to write to it",
        frozenset({STATUS}),
        _cloudwatch,
        uses=frozenset({"log_groups", "log_role"}),
    ),
    Control(
        "tagged",
        "trail",
        MappingProxyType({"fsbp": "CloudTrail.9"}),
        "CloudTrail trails should be tagged",
        "the trail has user tags (aws: tags do not count), and every required key when --required-tag is given",
        "declare Tags with the required keys",
        frozenset({TAGS}),
        _tagged,
        uses=frozenset({"required_tags", "tags"}),
    ),
    Control(
        "s3-write-events",
        "account",
        MappingProxyType({"cis-5.0": "3.8", "cis-6.0": "4.8"}),
        "Ensure that object-level logging for write events is enabled for S3 buckets",
        "at least one multi-region logging trail seen in the region records S3 object-level write data events "
        "for all buckets (a basic selector on arn:aws:s3 with ReadWriteType All or WriteOnly, or an advanced one "
        "on AWS::S3::Object whose readOnly admits false)",
        "add an S3 data event selector for all buckets that records write events to a multi-region logging trail",
        frozenset({STATUS, EVENTS}),
        partial(_s3_data, WRITE),
    ),
    Control(
        "s3-read-events",
        "account",
        MappingProxyType({"cis-5.0": "3.9", "cis-6.0": "4.9"}),
        "Ensure that object-level logging for read events is enabled for S3 buckets",
        "at least one multi-region logging trail seen in the region records S3 object-level read data events "
        "for all buckets (ReadWriteType All or ReadOnly, or an advanced selector whose readOnly admits true)",
        "add an S3 data event selector for all buckets that records read events to a multi-region logging trail",
        frozenset({STATUS, EVENTS}),
        partial(_s3_data, READ),
    ),
    Control(
        "bucket-not-public",
        "bucket",
        MappingProxyType({"fsbp": "CloudTrail.6"}),
        "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible",
        "the log bucket's ACL grants nothing to AllUsers or AuthenticatedUsers (unless its public access block "
        "has IgnorePublicAcls) and its policy is not public (unless RestrictPublicBuckets)",
        "remove the public ACL grants and policy statements, or turn on the bucket's Block Public Access",
        frozenset({BUCKET_PUBLIC}),
        _not_public,
    ),
    Control(
        "bucket-access-logging",
        "bucket",
        MappingProxyType({"fsbp": "CloudTrail.7", "cis-5.0": "3.4", "cis-6.0": "4.4"}),
        "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket",
        "the log bucket has server access logging enabled",
        "enable server access logging on the log bucket (PutBucketLogging), to another bucket",
        frozenset({BUCKET_LOGGING}),
        _access_logged,
    ),
    Control(
        "delivery-logs",
        "trail",
        MappingProxyType({"delivery": "Delivery.1"}),
        "CloudTrail log files should reach the trail's S3 bucket",
        "CloudTrail reports no delivery error and, while logging, a log file within a day; and the bucket policy "
        "as it stands lets CloudTrail check the bucket's ACL and write its log files (an explicit Deny that its "
        "requests meet counts, one they do not meet does not)",
        "give CloudTrail the bucket policy statements it needs (audit --fix appends them), or recreate the bucket",
        frozenset({STATUS, CHAIN_BUCKET}),
        delivery.logs,
        delivery.APPLIES["delivery-logs"],
    ),
    Control(
        "delivery-digests",
        "trail",
        MappingProxyType({"delivery": "Delivery.2"}),
        "CloudTrail digest files should reach the trail's S3 bucket",
        "with log file validation on: no digest delivery error, a digest file within two hours (one comes every "
        "hour), and a bucket policy that lets CloudTrail write its digest files (always SSE-S3, AES256)",
        "let CloudTrail write digest files: the bucket policy's statements for CloudTrail (audit --fix), and "
        "AES256 beside aws:kms wherever the policy requires an encryption header",
        frozenset({STATUS, CHAIN_BUCKET}),
        delivery.digests,
        delivery.APPLIES["delivery-digests"],
    ),
    Control(
        "delivery-cloudwatch",
        "trail",
        MappingProxyType({"delivery": "Delivery.3"}),
        "CloudTrail events should reach the trail's CloudWatch Logs group",
        "with a log group set: no CloudWatch Logs delivery error, a delivery within a day while logging, the "
        "group exists, and the role exists, trusts cloudtrail.amazonaws.com and may CreateLogStream and "
        "PutLogEvents on the group's stream",
        "recreate the log group, or give the role the trust and permissions CloudTrail needs (never edited by "
        "trailkeeper: a role's policies are the owner's to decide)",
        frozenset({STATUS, CHAIN_LOGS}),
        delivery.cloudwatch,
        delivery.APPLIES["delivery-cloudwatch"],
    ),
    Control(
        "delivery-notifications",
        "trail",
        MappingProxyType({"delivery": "Delivery.4"}),
        "CloudTrail notifications should reach the trail's SNS topic",
        "with a topic set: no notification error, the topic exists, its policy lets CloudTrail publish, and its "
        "key (when encrypted) lets CloudTrail use it",
        "give CloudTrail the topic policy statement it needs (audit --fix appends it), or recreate the topic",
        frozenset({STATUS, CHAIN_TOPIC}),
        delivery.notifications,
        delivery.APPLIES["delivery-notifications"],
    ),
    Control(
        "delivery-encryption",
        "trail",
        MappingProxyType({"delivery": "Delivery.5"}),
        "The trail's KMS key should be usable by CloudTrail",
        "with a KMS key set: the key exists, is enabled (not disabled, not pending deletion), is in the bucket's "
        "region, and its policy lets CloudTrail GenerateDataKey in this trail's encryption context and "
        "DescribeKey; no KMS error in CloudTrail's latest delivery",
        "re-enable the key or cancel its deletion (a person's decision: never done by trailkeeper), or give "
        "CloudTrail the key policy statements it needs (audit --fix appends them)",
        frozenset({STATUS, CHAIN_KEY}),
        delivery.encryption,
        delivery.APPLIES["delivery-encryption"],
    ),
)
BY_KEY: Mapping[str, Control] = MappingProxyType({c.key: c for c in CONTROLS})


def asked(standards: Sequence[str]) -> list[tuple[Control, str]]:
    """(control, standard) for every control the standards asked have, in table order."""
    return [(c, s) for c in CONTROLS for s in standards if c.id_in(s)]


def needs(standards: Sequence[str]) -> frozenset[str]:
    """The reads the asked standards need."""
    return frozenset().union(*(c.needs for c, _ in asked(standards)))


def unused(option: str, standards: Sequence[str]) -> str:
    """'' when a control of `standards` reads `option` (an `Options` field); else the controls that would,
    as the standards name them ('fsbp CloudTrail.9'): a flag setting it would change nothing.

    >>> unused("required_tags", ["cis-6.0"]), unused("required_tags", ["fsbp"])
    ('fsbp CloudTrail.9', '')
    """
    if any(option in control.uses for control, _ in asked(standards)):
        return ""
    users = [(c, s) for c in CONTROLS for s in STANDARDS if option in c.uses and c.id_in(s)]
    return ", ".join(f"{standard} {control.id_in(standard)}" for control, standard in users)
