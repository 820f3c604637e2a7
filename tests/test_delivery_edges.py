"""The delivery controls' verdicts, whole, judged on facts built by hand (no AWS, no moto).

Each row is one trail as the reads describe it and the verdict its owner is shown: the status, the reason word
for word (every failure, or every doubt, or every good sign, in the order they were found), the fix `--fix`
would make, and the warnings. Delivery.1 (log files), Delivery.2 (digest files), Delivery.3 (CloudWatch
Logs), Delivery.4's encrypted topic and Delivery.5 (the key), at their edges: the grace a trail that just
started logging has, the windows, a KMS error that is the key's to fail, a Deny that is never edited, a
disabled key that is never offered a fix, and times as CloudTrail gives them, whatever the machine's zone.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from trailkeeper.audit import delivery
from trailkeeper.audit.chain import (
    BUCKET,
    KEY,
    LOG_GROUP,
    ROLE,
    TOPIC,
    TOPIC_KEY,
    Delivery,
    Kind,
    Link,
    Resource,
    documented_policy,
    statements_bucket,
    statements_key,
    statements_topic,
)
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, TrailFacts, Verdict
from trailkeeper.audit.policy import SERVICE
from trailkeeper.audit.policy import parse as parse_policy
from trailkeeper.trail.record import Record

ACCOUNT, HOME = "123456789012", "us-east-1"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OPTIONS = Options(now=NOW.timestamp())
TRAIL = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/edge"
KEY_ARN = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP_ARN = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:trail-events"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-logs"
TOPIC_ARN = f"arn:aws:sns:{HOME}:{ACCOUNT}:trail-notices"
PLAN = Delivery(TRAIL, ACCOUNT, HOME, "aws", "logs", key=KEY_ARN, validation=True, log_group=GROUP_ARN, role=ROLE_ARN)
FOLDER = f"AWSLogs/{ACCOUNT}/"
KMS_ERROR = "KMS.DisabledException: arn:aws:kms:us-east-1:123456789012:key/1234abcd is disabled."
KEYS_WARNING = f"CloudTrail reports LatestDeliveryError {KMS_ERROR} (the key's: Delivery.5 judges it)"
BUCKET_FIX = {"PolicyOf": "arn:aws:s3:::logs", "Kind": BUCKET, "Trail": TRAIL}
KEY_FIX = {"PolicyOf": KEY_ARN, "Kind": KEY, "Trail": TRAIL}


def ago(**age: float) -> datetime:
    return NOW - timedelta(**age)


def logging(**status: Any) -> dict[str, Any]:
    """GetTrailStatus' answer for a trail that is logging."""
    return {"IsLogging": True, **status}


def statement(effect: str, actions: list[str], resource: str = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": {"Service": SERVICE}, "Action": actions, "Resource": resource, **more}


# --- the links, as the reads build them ---------------------------------------------------------------------


def bucket(document: Mapping[str, Any] | None = None, **changes: Any) -> Resource:
    """The bucket `logs`; its policy is CloudTrail's documented one unless `document` is given."""
    chosen = document if document is not None else documented_policy(statements_bucket("logs", "aws", [PLAN]))
    read = Resource(
        Link(BUCKET, "arn:aws:s3:::logs", "", ""),
        policies=(parse_policy(chosen, "the policy of bucket logs"),),
        details={"located": HOME},
    )
    return dataclasses.replace(read, **changes)


def key(state: str = "Enabled", document: Mapping[str, Any] | None = None, **changes: Any) -> Resource:
    owner = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"}  # fmt: skip
    chosen = document if document is not None else documented_policy([owner, *statements_key(KEY_ARN, [PLAN])])
    read = Resource(
        Link(KEY, KEY_ARN, ACCOUNT, HOME), policies=(parse_policy(chosen, f"the policy of key {KEY_ARN}"),), state=state
    )
    return dataclasses.replace(read, **changes)


TRUST_CLOUDTRAIL = {"Statement": [{"Effect": "Allow", "Principal": {"Service": SERVICE}, "Action": "sts:AssumeRole"}]}
TRUST_EC2 = {
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
}
STREAMS = {
    "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{GROUP_ARN}:*"}
    ]
}
NOTHING: dict[str, Any] = {"Statement": []}


def role(
    trust: Mapping[str, Any] = TRUST_CLOUDTRAIL,
    inline: Mapping[str, Any] | None = STREAMS,
    boundary: Mapping[str, Any] | None = None,
) -> Resource:
    """The CloudWatch Logs role as `chain_reads` reads it: its trust, its inline policy, its boundary."""
    name = "cloudtrail-logs"
    own = () if inline is None else (parse_policy(inline, f"inline policy cwl of role {name}"),)
    limit = None if boundary is None else parse_policy(boundary, f"the permissions boundary of role {name}")
    return Resource(
        Link(ROLE, ROLE_ARN, ACCOUNT, ""),
        policies=own,
        trust=parse_policy(trust, f"the trust policy of role {name}", trust=True),
        boundary=limit,
    )


GROUP = Resource(Link(LOG_GROUP, GROUP_ARN, ACCOUNT, HOME))


def trail(
    status: Mapping[str, Any] | None, chain: Mapping[Kind, Resource], *, unread: str = "", **plan: Any
) -> TrailFacts:
    return TrailFacts(
        TRAIL,
        ACCOUNT,
        HOME,
        Record.of({}),
        "logs",
        unread=unread,
        status=status,
        delivery=dataclasses.replace(PLAN, **plan),
        chain=chain,
    )


Control = Callable[[TrailFacts, Options], Verdict]


def judge(control: Control, status: Mapping[str, Any] | None, chain: Mapping[Kind, Resource], **kw: Any) -> Verdict:
    return control(trail(status, chain, **kw), OPTIONS)


# --- Delivery.1: log files reach the bucket ---------------------------------------------------------------------

BUCKET_GOOD = "the policy of bucket logs lets CloudTrail write there"
ACL_REFUSED = "GetBucketAcl of the bucket: the policy of bucket logs does not allow it"
LOG_REFUSED = f"PutObject of a log file under {FOLDER}: the policy of bucket logs does not allow it"


@pytest.mark.parametrize(
    ("status", "chain", "expected"),
    [
        pytest.param(
            logging(LatestDeliveryTime=ago(hours=1)),
            {BUCKET: bucket()},
            Verdict(PASS, f"CloudTrail delivered a log file at 2026-12-06 11:00 UTC; {BUCKET_GOOD}"),
            id="delivered, the bucket lets CloudTrail write: both said",
        ),
        pytest.param(
            logging(LatestDeliveryTime=ago(hours=1), LatestDeliveryError=KMS_ERROR),
            {BUCKET: bucket()},
            Verdict(PASS, BUCKET_GOOD, None, (KEYS_WARNING,)),
            id="the key's error: a warning, and no claim that delivery is well",
        ),
        pytest.param(
            logging(LatestDeliveryTime=ago(hours=30), LatestDeliveryError=KMS_ERROR),
            {BUCKET: bucket(NOTHING)},
            Verdict(
                FAIL,
                "the latest log file was delivered at 2026-12-05 06:00 UTC, 30.0 h ago (more than 24.0 h); "
                f"{ACL_REFUSED}; {LOG_REFUSED}",
                BUCKET_FIX,
                (KEYS_WARNING,),
            ),
            id="stale and refused: every failure, the fix, the key's warning kept",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(minutes=10), LatestDeliveryError=KMS_ERROR),
            {},
            Verdict(
                NOT_AVAILABLE,
                "logging started at 2026-12-06 11:50 UTC: no log file delivered yet; its bucket logs was not read",
                None,
                (KEYS_WARNING,),
            ),
            id="just started, bucket not read: every doubt, the key's warning kept",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(seconds=delivery.GRACE)),
            {BUCKET: bucket()},
            Verdict(FAIL, "CloudTrail reports no log file delivered (LatestDeliveryTime is empty) while logging"),
            id="nothing delivered when the grace has just run out",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(days=3), LatestDeliveryError="AccessDenied"),
            {BUCKET: bucket()},
            Verdict(FAIL, "CloudTrail reports LatestDeliveryError AccessDenied"),
            id="nothing delivered and an error: the error alone says why",
        ),
        pytest.param(
            {"IsLogging": False, "LatestDeliveryTime": ago(days=9)},
            {BUCKET: bucket()},
            Verdict(
                PASS, f"the trail is not logging (CloudTrail.3 judges that): only its chain is judged; {BUCKET_GOOD}"
            ),
            id="a stopped trail: its chain alone, and the reason says so",
        ),
        pytest.param(
            logging(LatestDeliveryTime=ago(hours=1)),
            {BUCKET: bucket(unavailable="bucket logs is in account 210987654321, outside this run")},
            Verdict(NOT_AVAILABLE, "bucket logs is in account 210987654321, outside this run"),
            id="a bucket that could not be read",
        ),
        pytest.param(
            logging(LatestDeliveryTime=ago(hours=1)),
            {BUCKET: bucket(missing="bucket logs does not exist")},
            Verdict(FAIL, "bucket logs does not exist"),
            id="a deleted bucket: failed, no fix",
        ),
    ],
)
def test_delivery_1_says_every_failure_doubt_or_good_sign_with_its_fix_and_warnings(
    status: dict[str, Any], chain: dict[Kind, Resource], expected: Verdict
) -> None:
    assert judge(delivery.logs, status, chain) == expected


@pytest.mark.parametrize(
    ("unread", "said"),
    [("AccessDeniedException: not allowed", "AccessDeniedException: not allowed"), ("", "not asked")],
)
def test_a_status_that_was_not_read_is_not_available_saying_why(unread: str, said: str) -> None:
    verdict = judge(delivery.logs, None, {BUCKET: bucket()}, unread=unread)
    assert verdict == Verdict(NOT_AVAILABLE, f"CloudTrail's status was not read ({said})")


DENY_CLOUDTRAIL = {
    "Statement": [
        *documented_policy(statements_bucket("logs", "aws", [PLAN]))["Statement"],
        statement("Deny", ["s3:PutObject"], "arn:aws:s3:::logs/*", Sid="NoCloudTrail"),
    ]
}
NOT_EDITED = " (not edited by --fix: it denies CloudTrail on purpose, a person decides)"
UNSURE = {
    "Statement": [
        statement("Allow", ["s3:GetBucketAcl", "s3:PutObject"], "arn:aws:s3:::logs*", Sid="OnlyThroughVpce",
                  Condition={"StringEquals": {"aws:SourceVpce": "vpce-1234"}}),
    ]
}  # fmt: skip


def test_a_deny_of_cloudtrail_fails_saying_it_is_never_edited_and_offers_no_fix() -> None:
    verdict = judge(delivery.logs, logging(LatestDeliveryTime=ago(hours=1)), {BUCKET: bucket(DENY_CLOUDTRAIL)})
    denied = f"PutObject of a log file under {FOLDER}: the policy of bucket logs denies it (statement 'NoCloudTrail')"
    assert verdict == Verdict(FAIL, denied + NOT_EDITED)


def test_a_policy_whose_grant_cannot_be_judged_is_not_available_saying_which_and_why() -> None:
    verdict = judge(delivery.logs, logging(LatestDeliveryTime=ago(hours=1)), {BUCKET: bucket(UNSURE)})
    unsure = "whether the policy of bucket logs's Allow (statement 'OnlyThroughVpce') applies cannot be told from here"
    assert verdict == Verdict(
        NOT_AVAILABLE, f"GetBucketAcl of the bucket: {unsure}; PutObject of a log file under {FOLDER}: {unsure}"
    )


def test_a_control_asked_of_a_trail_whose_delivery_was_not_read_refuses_naming_the_trail() -> None:
    unread = dataclasses.replace(trail(logging(), {}), delivery=None)
    with pytest.raises(ValueError, match=re.escape(f"{TRAIL}: no delivery was read")):
        delivery.logs(unread, OPTIONS)


# --- times as CloudTrail gives them, whatever the machine's zone ------------------------------------------------


@pytest.fixture
def far_east() -> Iterator[None]:
    """The machine's local zone is Tokyo's (UTC+9) for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


STALE = "the latest log file was delivered at 2026-12-05 06:00 UTC, 30.0 h ago (more than 24.0 h)"


@pytest.mark.parametrize(
    "delivered",
    [
        pytest.param(datetime(2026, 12, 5, 7, 0, tzinfo=timezone(timedelta(hours=1))), id="in another zone"),
        pytest.param(datetime(2026, 12, 5, 6, 0), id="without a zone: UTC"),
        pytest.param(datetime(2026, 12, 5, 6, 0, tzinfo=UTC), id="in UTC"),
    ],
)
def test_a_delivery_time_is_told_in_utc_whatever_its_zone_and_the_machines(far_east: None, delivered: datetime) -> None:
    verdict = judge(delivery.logs, logging(LatestDeliveryTime=delivered), {BUCKET: bucket()})
    assert verdict == Verdict(FAIL, STALE)


# --- Delivery.2: digest files, every hour ------------------------------------------------------------------------

DIGEST_REFUSED = f"PutObject of a digest file under {FOLDER}: the policy of bucket logs does not allow it"


@pytest.mark.parametrize(
    ("status", "chain", "expected"),
    [
        pytest.param(
            logging(LatestDigestDeliveryTime=ago(minutes=70), LatestDeliveryTime=ago(hours=30)),
            {BUCKET: bucket()},
            Verdict(PASS, f"CloudTrail delivered a digest file at 2026-12-06 10:50 UTC; {BUCKET_GOOD}"),
            id="a digest within two hours: the log files' age is Delivery.1's",
        ),
        pytest.param(
            logging(LatestDigestDeliveryTime=ago(hours=3), LatestDeliveryTime=ago(minutes=5)),
            {BUCKET: bucket()},
            Verdict(FAIL, "the latest digest file was delivered at 2026-12-06 09:00 UTC, 3.0 h ago (more than 2.0 h)"),
            id="three hours without a digest",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(minutes=90)),
            {BUCKET: bucket()},
            Verdict(NOT_AVAILABLE, "logging started at 2026-12-06 10:30 UTC: no digest file delivered yet"),
            id="started 90 minutes ago: within the digests' two hours of grace",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(hours=5)),
            {BUCKET: bucket()},
            Verdict(
                FAIL, "CloudTrail reports no digest file delivered (LatestDigestDeliveryTime is empty) while logging"
            ),
            id="five hours logging and no digest",
        ),
        pytest.param(
            logging(LatestDigestDeliveryTime=ago(minutes=30), LatestDigestDeliveryError="AccessDenied"),
            {BUCKET: bucket()},
            Verdict(FAIL, "CloudTrail reports LatestDigestDeliveryError AccessDenied"),
            id="an error CloudTrail reports",
        ),
        pytest.param(
            logging(LatestDigestDeliveryTime=ago(minutes=30), LatestDigestDeliveryError="KMS.NotFoundException"),
            {BUCKET: bucket()},
            Verdict(FAIL, "CloudTrail reports LatestDigestDeliveryError KMS.NotFoundException"),
            id="only a log file's KMS error is the key's: a digest's fails here",
        ),
        pytest.param(
            logging(LatestDigestDeliveryTime=ago(minutes=30)),
            {BUCKET: bucket(NOTHING)},
            Verdict(FAIL, DIGEST_REFUSED, BUCKET_FIX),
            id="a bucket policy without CloudTrail's grant: the digest write refused, fixed by appending",
        ),
    ],
)
def test_delivery_2_judges_digest_files_by_their_hour_and_the_bucket(
    status: dict[str, Any], chain: dict[Kind, Resource], expected: Verdict
) -> None:
    assert judge(delivery.digests, status, chain) == expected


# --- Delivery.3: CloudWatch Logs, through the role -------------------------------------------------------------

CW_GOOD = [
    "CloudTrail delivered a CloudWatch Logs delivery at 2026-12-06 11:55 UTC",
    "log group trail-events exists",
    "role cloudtrail-logs trusts CloudTrail and may write to the group's stream",
]
FRESH = logging(LatestCloudWatchLogsDeliveryTime=ago(minutes=5))
CHAIN = {LOG_GROUP: GROUP, ROLE: role()}
CREATE, PUT = "CreateLogStream to the log group", "PutLogEvents to the log group"
BOUNDED = {"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
NO_LOGS = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@pytest.mark.parametrize(
    ("status", "chain", "plan", "expected"),
    [
        pytest.param(FRESH, CHAIN, {}, Verdict(PASS, "; ".join(CW_GOOD)), id="the whole path"),
        pytest.param(
            FRESH,
            {**CHAIN, ROLE: role(boundary=BOUNDED)},
            {},
            Verdict(PASS, "; ".join(CW_GOOD)),
            id="a boundary that leaves the stream writable",
        ),
        pytest.param(
            FRESH,
            {**CHAIN, ROLE: role(boundary=NO_LOGS)},
            {},
            Verdict(
                FAIL,
                f"{CREATE}: the permissions boundary of role cloudtrail-logs does not allow it; "
                f"{PUT}: the permissions boundary of role cloudtrail-logs does not allow it",
            ),
            id="a boundary that takes the stream away",
        ),
        pytest.param(
            logging(LatestCloudWatchLogsDeliveryTime=ago(hours=30)),
            CHAIN,
            {},
            Verdict(
                FAIL,
                "the latest CloudWatch Logs delivery was delivered at 2026-12-05 06:00 UTC, "
                "30.0 h ago (more than 24.0 h)",
            ),
            id="a day without a delivery",
        ),
        pytest.param(
            logging(
                LatestCloudWatchLogsDeliveryTime=ago(minutes=5),
                LatestCloudWatchLogsDeliveryError="AccessDeniedException",
            ),
            CHAIN,
            {},
            Verdict(FAIL, "CloudTrail reports LatestCloudWatchLogsDeliveryError AccessDeniedException"),
            id="an error CloudTrail reports",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(minutes=10)),
            CHAIN,
            {},
            Verdict(
                NOT_AVAILABLE, "logging started at 2026-12-06 11:50 UTC: no CloudWatch Logs delivery delivered yet"
            ),
            id="started ten minutes ago: within the grace",
        ),
        pytest.param(
            logging(StartLoggingTime=ago(minutes=20)),
            CHAIN,
            {},
            Verdict(
                FAIL,
                "CloudTrail reports no CloudWatch Logs delivery delivered "
                "(LatestCloudWatchLogsDeliveryTime is empty) while logging",
            ),
            id="twenty minutes logging and nothing: past the grace",
        ),
        pytest.param(
            FRESH,
            {},
            {},
            Verdict(NOT_AVAILABLE, f"its log group {GROUP_ARN} was not read; its role {ROLE_ARN} was not read"),
            id="group and role not read",
        ),
        pytest.param(
            FRESH,
            {**CHAIN, LOG_GROUP: dataclasses.replace(GROUP, missing="log group trail-events does not exist")},
            {},
            Verdict(FAIL, "log group trail-events does not exist"),
            id="a deleted group",
        ),
        pytest.param(
            FRESH,
            {LOG_GROUP: GROUP},
            {"role": ""},
            Verdict(FAIL, "no CloudWatch Logs role is set (CloudTrail writes to the group with it)"),
            id="no role set",
        ),
        pytest.param(
            FRESH,
            {**CHAIN, ROLE: role(trust=TRUST_EC2)},
            {},
            Verdict(
                FAIL,
                "AssumeRole of the CloudWatch Logs role: the trust policy of role cloudtrail-logs does not allow it",
            ),
            id="a role that does not trust CloudTrail",
        ),
        pytest.param(
            FRESH,
            {**CHAIN, ROLE: role(inline=None)},
            {},
            Verdict(FAIL, f"{CREATE}: no policy does not allow it; {PUT}: no policy does not allow it"),
            id="a role without permissions",
        ),
    ],
)
def test_delivery_3_judges_the_group_the_role_and_what_cloudtrail_reports(
    status: dict[str, Any], chain: dict[Kind, Resource], plan: dict[str, Any], expected: Verdict
) -> None:
    assert judge(delivery.cloudwatch, status, chain, **plan) == expected


# --- Delivery.5: the key --------------------------------------------------------------------------------------------

KEY_GOOD = f"key {KEY_ARN} is enabled and its policy lets CloudTrail encrypt"
KEY_REFUSED = (
    f"GenerateDataKey for a log file: the policy of key {KEY_ARN} does not allow it; "
    f"DescribeKey: the policy of key {KEY_ARN} does not allow it"
)
KEY_DENIES = {
    "Statement": [
        *documented_policy(statements_key(KEY_ARN, [PLAN]))["Statement"],
        statement("Deny", ["kms:GenerateDataKey*"], Sid="NoCloudTrail"),
    ]
}


@pytest.mark.parametrize(
    ("status", "chain", "expected"),
    [
        pytest.param(logging(), {KEY: key(), BUCKET: bucket()}, Verdict(PASS, KEY_GOOD), id="enabled, and grants"),
        pytest.param(None, {KEY: key()}, Verdict(PASS, KEY_GOOD), id="no status and no bucket read: the key alone"),
        pytest.param(
            logging(LatestDeliveryError=KMS_ERROR),
            {KEY: key(), BUCKET: bucket()},
            Verdict(FAIL, f"CloudTrail reports LatestDeliveryError {KMS_ERROR}"),
            id="CloudTrail reports the key's error: failed here",
        ),
        pytest.param(
            logging(LatestDeliveryError="AccessDenied"),
            {KEY: key(), BUCKET: bucket()},
            Verdict(PASS, KEY_GOOD),
            id="an error that is not the key's is Delivery.1's",
        ),
        pytest.param(
            logging(),
            {KEY: key(document=NOTHING), BUCKET: bucket()},
            Verdict(FAIL, KEY_REFUSED, KEY_FIX),
            id="a key policy without CloudTrail's grant: fixed by appending",
        ),
        pytest.param(
            logging(),
            {KEY: key("Disabled", document=NOTHING), BUCKET: bucket()},
            Verdict(FAIL, f"key {KEY_ARN} is Disabled: CloudTrail cannot encrypt with it; {KEY_REFUSED}"),
            id="a disabled key: never offered a fix, even for its policy",
        ),
        pytest.param(
            logging(),
            {KEY: key("PendingDeletion"), BUCKET: bucket()},
            Verdict(FAIL, f"key {KEY_ARN} is PendingDeletion: CloudTrail cannot encrypt with it"),
            id="a key pending deletion",
        ),
        pytest.param(
            logging(),
            {KEY: key(""), BUCKET: bucket()},
            Verdict(FAIL, f"key {KEY_ARN} is in an unknown state: CloudTrail cannot encrypt with it"),
            id="a key whose state was not said",
        ),
        pytest.param(
            logging(),
            {KEY: key(document=KEY_DENIES), BUCKET: bucket()},
            Verdict(
                FAIL,
                f"GenerateDataKey for a log file: the policy of key {KEY_ARN} denies it (statement 'NoCloudTrail')"
                + NOT_EDITED,
            ),
            id="a key policy that denies CloudTrail: never edited",
        ),
        pytest.param(
            logging(),
            {KEY: key(), BUCKET: bucket(details={"located": "eu-west-1"})},
            Verdict(
                FAIL,
                f"key {KEY_ARN} is in {HOME} but the bucket in eu-west-1: "
                "CloudTrail needs a key in the bucket's region",
            ),
            id="a key in another region than the bucket",
        ),
        pytest.param(
            logging(), {BUCKET: bucket()}, Verdict(NOT_AVAILABLE, f"its key {KEY_ARN} was not read"), id="not read"
        ),
        pytest.param(
            logging(),
            {KEY: key(missing=f"key {KEY_ARN} does not exist"), BUCKET: bucket()},
            Verdict(FAIL, f"key {KEY_ARN} does not exist"),
            id="a deleted key",
        ),
    ],
)
def test_delivery_5_judges_the_key_its_state_its_region_and_its_policy(
    status: dict[str, Any] | None, chain: dict[Kind, Resource], expected: Verdict
) -> None:
    assert judge(delivery.encryption, status, chain) == expected


# --- Delivery.4: an encrypted topic's key ------------------------------------------------------------------------

TOPIC_KEY_ARN = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/feedface-12ab-34cd-56ef-1234567890ab"
TOPIC_GOOD = "the policy of topic trail-notices lets CloudTrail publish"


def topic(encryption: str) -> Resource:
    notified = dataclasses.replace(PLAN, topic=TOPIC_ARN)
    document = documented_policy(statements_topic(TOPIC_ARN, [notified]))
    return Resource(
        Link(TOPIC, TOPIC_ARN, ACCOUNT, HOME),
        policies=(parse_policy(document, "the policy of topic trail-notices"),),
        details={"KmsMasterKeyId": encryption},
    )


def topic_key(**changes: Any) -> Resource:
    """The topic's key; its policy names the key itself as its resource, as a key policy may."""
    grants = {"Statement": [statement("Allow", ["kms:GenerateDataKey*", "kms:Decrypt"], TOPIC_KEY_ARN)]}
    read = Resource(
        Link(TOPIC_KEY, TOPIC_KEY_ARN, ACCOUNT, HOME),
        policies=(parse_policy(grants, f"the policy of key {TOPIC_KEY_ARN}"),),
        state="Enabled",
    )
    return dataclasses.replace(read, **changes)


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        pytest.param(
            {TOPIC: topic(TOPIC_KEY_ARN), TOPIC_KEY: topic_key()},
            Verdict(PASS, f"{TOPIC_GOOD}; the topic's key lets CloudTrail use it"),
            id="a customer managed key that lets CloudTrail use it",
        ),
        pytest.param(
            {TOPIC: topic("alias/aws/sns")},
            Verdict(
                FAIL,
                "the topic is encrypted with the AWS managed key alias/aws/sns, whose policy cannot let CloudTrail "
                "publish: use a customer managed key",
            ),
            id="AWS's managed key for SNS",
        ),
        pytest.param(
            {TOPIC: topic(TOPIC_KEY_ARN), TOPIC_KEY: topic_key(unavailable="key is in account 210987654321")},
            Verdict(NOT_AVAILABLE, "key is in account 210987654321"),
            id="a key that could not be read: not available, not failed",
        ),
        pytest.param(
            {TOPIC: topic(TOPIC_KEY_ARN), TOPIC_KEY: topic_key(missing=f"key {TOPIC_KEY_ARN} does not exist")},
            Verdict(FAIL, f"key {TOPIC_KEY_ARN} does not exist"),
            id="a deleted key",
        ),
    ],
)
def test_delivery_4_judges_an_encrypted_topics_key(chain: dict[Kind, Resource], expected: Verdict) -> None:
    assert judge(delivery.notifications, logging(), chain, topic=TOPIC_ARN) == expected
