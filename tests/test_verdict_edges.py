"""Verdicts at their edges, judged on facts built by hand (no AWS, no moto).

- CIS 4.8 / 4.9 (3.8 / 3.9): which trail's S3 data event selectors pass, the reason a passing and a failing
  region get, and that a region whose only trail could not be read is not available;
- Delivery.4: which topics let CloudTrail's notifications through (its policy, its key, AWS's managed key
  for SNS) and what a topic that was not read is said to be;
- Delivery.1: how old the latest log file may be (a day, inclusive) and how its age is told;
- the Lambda's bounded answer: what its `dropped.reason` tells the reader.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trailkeeper.audit import answer, delivery
from trailkeeper.audit import controls as compliance
from trailkeeper.audit.chain import (
    BUCKET,
    TOPIC,
    TOPIC_KEY,
    Delivery,
    Kind,
    Link,
    Resource,
    documented_policy,
    statements_bucket,
    statements_topic,
)
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, Place, Status, TrailFacts
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.audit.policy import SERVICE
from trailkeeper.audit.policy import parse as parse_policy
from trailkeeper.trail import selectors
from trailkeeper.trail.record import Record

ACCOUNT, HOME = "123456789012", "us-east-1"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OPTIONS = Options(now=NOW.timestamp())
ALL_S3 = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]
ONE_BUCKET = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]
KIND_OF = {"s3-write-events": "write", "s3-read-events": "read"}


def trail_arn(name: str) -> str:
    return f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{name}"


# --- CIS 4.8 / 4.9: S3 object-level data events for all buckets --------------------------------------------


def s3_trail(
    name: str,
    read_write: str | None = "All",
    *,
    data: list[dict[str, Any]] | None = None,
    multi_region: bool = True,
    logging: bool | None = True,
    advanced: list[dict[str, Any]] | None = None,
) -> TrailFacts:
    """A trail whose GetEventSelectors answered one basic selector of `read_write` S3 data events on `data`
    (all buckets by default), or the `advanced` selectors; `read_write=None`: the selectors were not read."""
    if advanced is not None:
        read: selectors.Selectors | None = selectors.from_read({"AdvancedEventSelectors": advanced})
    elif read_write is None:
        read = None
    else:
        basic = {"ReadWriteType": read_write, "IncludeManagementEvents": True, "DataResources": data or ALL_S3}
        read = selectors.from_read({"EventSelectors": [basic]})
    record = Record.of({"IsMultiRegionTrail": multi_region}, logging=logging, events=read)
    unread = "AccessDeniedException: not allowed" if read is None else ""
    return TrailFacts(trail_arn(name), ACCOUNT, HOME, record, "logs", selectors=read, unread=unread)


def judged_s3(*trails: TrailFacts) -> dict[str, Any]:
    """Both S3 data event controls' verdicts for a region where `trails` are seen."""
    place = Place(ACCOUNT, HOME, trails)
    return {kind: compliance.BY_KEY[key].judge(place, Options()) for key, kind in KIND_OF.items()}


@pytest.mark.parametrize(
    ("read_write", "recorded"),
    [("All", {"write", "read"}), ("WriteOnly", {"write"}), ("ReadOnly", {"read"})],
)
def test_a_multi_region_logging_trail_passes_the_s3_control_of_each_kind_it_records(
    read_write: str, recorded: set[str]
) -> None:
    verdicts = judged_s3(s3_trail("data", read_write))
    arn = trail_arn("data")
    for kind, verdict in verdicts.items():
        if kind in recorded:
            assert verdict.status == PASS, verdict.reason
            assert verdict.reason == (
                f"{arn} is multi-region, logging, and records S3 object-level {kind} events for all buckets"
            )
        else:
            assert verdict.status == FAIL, verdict.reason
            assert verdict.reason == (
                f"no multi-region logging trail here records S3 object-level {kind} events for all buckets: "
                f"{arn} does not record S3 object-level {kind} events for all buckets"
            )
        assert verdict.fix is None  # which buckets' data events to pay for is the owner's choice


def test_an_advanced_selector_with_read_only_false_passes_writes_and_fails_reads() -> None:
    s3_writes = {
        "Name": "S3 writes",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["false"]},
        ],
    }
    verdicts = judged_s3(s3_trail("advanced", advanced=[s3_writes]))
    assert (verdicts["write"].status, verdicts["read"].status) == (PASS, FAIL)


def test_a_selector_trailkeeper_cannot_read_exactly_fails_the_s3_controls_and_the_reason_names_it() -> None:
    # eventName narrows what is recorded in a way the events model does not bound: it proves nothing.
    named = [
        {
            "Name": "puts only",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "eventName", "Equals": ["PutObject"]},
            ],
        }
    ]
    for kind, verdict in judged_s3(s3_trail("named", advanced=named)).items():
        assert verdict.status == FAIL, verdict.reason
        assert verdict.reason.endswith(
            f"does not record S3 object-level {kind} events for all buckets "
            "(trailkeeper cannot read exactly what 'puts only' records)"
        ), verdict.reason


def test_one_passing_trail_passes_the_region_and_is_the_one_named() -> None:
    stopped = s3_trail("a-stopped", logging=False)
    passing = s3_trail("b-everywhere")
    for verdict in judged_s3(stopped, passing).values():
        assert verdict.status == PASS
        assert verdict.reason.startswith(f"{trail_arn('b-everywhere')} is multi-region")
        assert trail_arn("a-stopped") not in verdict.reason


def test_a_failing_region_names_every_trail_seen_and_what_each_lacks() -> None:
    single = s3_trail("single", multi_region=False)
    stopped = s3_trail("stopped", logging=False)
    one_bucket = s3_trail("one-bucket", data=ONE_BUCKET)
    for kind, verdict in judged_s3(single, stopped, one_bucket).items():
        assert verdict.status == FAIL and verdict.fix is None
        opening = f"no multi-region logging trail here records S3 object-level {kind} events for all buckets: "
        assert verdict.reason.startswith(opening), verdict.reason
        said = verdict.reason.removeprefix(opening).split(" | ")
        assert said == [
            f"{trail_arn('single')} is not multi-region (the rule counts multi-region trails only)",
            f"{trail_arn('stopped')} is not logging",
            f"{trail_arn('one-bucket')} does not record S3 object-level {kind} events for all buckets",
        ]


def test_a_region_without_a_trail_fails_both_s3_controls_saying_so() -> None:
    for kind, verdict in judged_s3().items():
        assert verdict.status == FAIL
        assert verdict.reason == (
            f"no multi-region logging trail here records S3 object-level {kind} events for all buckets: "
            "there is no trail"
        )


def test_a_trail_whose_selectors_could_not_be_read_leaves_the_s3_controls_not_available() -> None:
    unread = s3_trail("denied", read_write=None)
    for verdict in judged_s3(unread).values():
        assert verdict.status == NOT_AVAILABLE
        assert trail_arn("denied") in verdict.reason and "AccessDeniedException" in verdict.reason
    # ... unless another trail seen there is known to pass.
    assert {v.status for v in judged_s3(unread, s3_trail("data")).values()} == {PASS}


# --- Delivery.4: notifications reach the SNS topic --------------------------------------------------------------

TOPIC_ARN = f"arn:aws:sns:{HOME}:{ACCOUNT}:trail-notices"
TOPIC_KEY_ARN = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def topic_delivery(name: str = "notified") -> Delivery:
    return Delivery(trail_arn(name), ACCOUNT, HOME, "aws", "logs", topic=TOPIC_ARN)


def topic_resource(encryption: str | None = None, *, policy: dict[str, Any] | None = None) -> Resource:
    """The topic as read: its policy lets CloudTrail publish unless `policy` is given."""
    document = policy if policy is not None else documented_policy(statements_topic(TOPIC_ARN, [topic_delivery()]))
    details = {"KmsMasterKeyId": encryption} if encryption is not None else {}
    return Resource(
        Link(TOPIC, TOPIC_ARN, ACCOUNT, HOME), policies=(parse_policy(document, "topic policy"),), details=details
    )


def key_policy(*actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"},
            *([{"Sid": "CloudTrail", "Effect": "Allow", "Principal": {"Service": SERVICE},
                "Action": list(actions), "Resource": "*"}] if actions else []),
        ],
    }  # fmt: skip


def topic_key(
    state: str = "Enabled", *, actions: tuple[str, ...] = ("kms:GenerateDataKey*", "kms:Decrypt")
) -> Resource:
    return Resource(
        Link(TOPIC_KEY, TOPIC_KEY_ARN, ACCOUNT, HOME),
        policies=(parse_policy(key_policy(*actions), "key policy"),),
        state=state,
    )


def notified(chain: dict[Kind, Resource], status: dict[str, Any] | None = None) -> Any:
    trail = TrailFacts(
        trail_arn("notified"),
        ACCOUNT,
        HOME,
        Record.of({}),
        "logs",
        status={"IsLogging": True} if status is None else status,
        delivery=topic_delivery(),
        chain=chain,
    )
    return delivery.notifications(trail, OPTIONS)


def test_an_unencrypted_topic_that_lets_cloudtrail_publish_passes() -> None:
    verdict = notified({TOPIC: topic_resource()})
    assert verdict.status == PASS, verdict.reason
    assert verdict.reason == "the policy of topic trail-notices lets CloudTrail publish"
    assert verdict.fix is None


def test_a_topic_encrypted_with_a_usable_customer_key_passes_saying_both() -> None:
    verdict = notified({TOPIC: topic_resource(TOPIC_KEY_ARN), TOPIC_KEY: topic_key()})
    assert verdict.status == PASS, verdict.reason
    assert "the policy of topic trail-notices lets CloudTrail publish" in verdict.reason
    assert "the topic's key lets CloudTrail use it" in verdict.reason


@pytest.mark.parametrize("managed", ["alias/aws/sns", f"arn:aws:kms:{HOME}:{ACCOUNT}:alias/aws/sns"])
def test_a_topic_encrypted_with_aws_managed_sns_key_fails_whatever_its_policy(managed: str) -> None:
    verdict = notified({TOPIC: topic_resource(managed)})
    assert verdict.status == FAIL
    assert "AWS managed key alias/aws/sns" in verdict.reason and "customer managed key" in verdict.reason
    assert verdict.fix is None  # no policy of the topic to append to: the key is the problem


def test_a_topic_key_that_cannot_be_used_fails_delivery_4() -> None:
    disabled = notified({TOPIC: topic_resource(TOPIC_KEY_ARN), TOPIC_KEY: topic_key("Disabled")})
    assert disabled.status == FAIL and f"the topic's key {TOPIC_KEY_ARN} is Disabled" in disabled.reason
    refused = notified({TOPIC: topic_resource(TOPIC_KEY_ARN), TOPIC_KEY: topic_key(actions=("kms:Decrypt",))})
    assert refused.status == FAIL and "GenerateDataKey" in refused.reason
    missing = dataclasses.replace(topic_key(), missing=f"key {TOPIC_KEY_ARN} does not exist")
    gone = notified({TOPIC: topic_resource(TOPIC_KEY_ARN), TOPIC_KEY: missing})
    assert gone.status == FAIL and f"key {TOPIC_KEY_ARN} does not exist" in gone.reason


def test_a_topic_key_that_was_not_read_leaves_delivery_4_not_available_naming_the_key() -> None:
    verdict = notified({TOPIC: topic_resource(TOPIC_KEY_ARN)})
    assert verdict.status == NOT_AVAILABLE
    assert verdict.reason == f"the topic's key {TOPIC_KEY_ARN} was not read"


def test_a_topic_that_was_not_read_is_not_available_naming_the_topic_and_no_key() -> None:
    verdict = notified({})
    assert verdict.status == NOT_AVAILABLE
    assert TOPIC_ARN in verdict.reason
    assert "key" not in verdict.reason  # an unread topic says nothing of a key it may not have


def test_a_deleted_topic_fails_and_speaks_of_no_key() -> None:
    gone = dataclasses.replace(topic_resource(), missing=f"topic {TOPIC_ARN} does not exist")
    verdict = notified({TOPIC: gone})
    assert verdict.status == FAIL and "does not exist" in verdict.reason and "key" not in verdict.reason


def test_a_topic_policy_without_cloudtrails_grant_fails_and_is_fixed_by_appending() -> None:
    verdict = notified({TOPIC: topic_resource(policy={"Version": "2012-10-17", "Statement": []})})
    assert verdict.status == FAIL
    assert verdict.fix == {"PolicyOf": TOPIC_ARN, "Kind": TOPIC, "Trail": trail_arn("notified")}


def test_a_notification_error_cloudtrail_reports_fails_delivery_4_and_needs_no_delivery_time() -> None:
    failing = notified({TOPIC: topic_resource()}, {"IsLogging": True, "LatestNotificationError": "AuthorizationError"})
    assert failing.status == FAIL and "LatestNotificationError AuthorizationError" in failing.reason
    # Notifications carry no delivery time: a trail long logging with no error is judged by its chain alone.
    quiet = notified({TOPIC: topic_resource()}, {"IsLogging": True, "StartLoggingTime": NOW - timedelta(days=90)})
    assert quiet.status == PASS


# --- Delivery.1: how old the latest log file may be, and how its age is said ------------------------------------


def logged(age: timedelta) -> Any:
    """Delivery.1 of a logging trail whose bucket lets CloudTrail write, its latest log file `age` old."""
    plan = Delivery(trail_arn("logged"), ACCOUNT, HOME, "aws", "logs")
    bucket_policy = documented_policy(statements_bucket("logs", "aws", [plan]))
    bucket = Resource(Link(BUCKET, "arn:aws:s3:::logs", "", ""), policies=(parse_policy(bucket_policy, "bucket"),))
    trail = TrailFacts(
        trail_arn("logged"),
        ACCOUNT,
        HOME,
        Record.of({}),
        "logs",
        status={"IsLogging": True, "LatestDeliveryTime": NOW - age},
        delivery=plan,
        chain={BUCKET: bucket},
    )
    return delivery.logs(trail, OPTIONS)


def said_age(reason: str) -> str:
    found = re.search(r", (.+?) ago \(more than (.+?)\)", reason)
    assert found, reason
    return found.group(1)


def test_a_log_file_exactly_a_day_old_is_still_recent_and_a_second_more_is_not() -> None:
    recent = logged(timedelta(hours=24))
    assert recent.status == PASS and "CloudTrail delivered a log file at 2026-12-05 12:00 UTC" in recent.reason
    stale = logged(timedelta(hours=24, seconds=1))
    assert stale.status == FAIL and "(more than 24.0 h)" in stale.reason


def test_a_log_file_just_past_the_day_is_said_to_be_older_than_the_day() -> None:
    # 24 h 3 min 20 s: the age shown must read as past the 24.0 h it is compared with
    assert said_age(logged(timedelta(seconds=86_600)).reason) == "24.1 h"


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(hours=47, minutes=54), "47.9 h"),  # under two days: in hours
        (timedelta(hours=48), "2 days"),  # two days and more: in days
        (timedelta(hours=48, minutes=30), "2 days"),
        (timedelta(days=3), "3 days"),
        (timedelta(days=30), "30 days"),
    ],
)
def test_a_stale_log_file_age_is_told_in_hours_under_two_days_and_in_days_after(age: timedelta, shown: str) -> None:
    verdict = logged(age)
    assert verdict.status == FAIL
    assert said_age(verdict.reason) == shown


# --- the Lambda's bounded answer: what `dropped.reason` tells ------------------------------------------------------


def _finding(index: int, status: Status) -> Finding:
    resource = trail_arn(f"trail-{index:04d}")
    return Finding("CloudTrail.4", "fsbp", status, resource, ACCOUNT, HOME, "title", "reason " * 20, "remedy")


def test_a_cut_answer_says_its_limit_what_it_kept_first_and_the_command_that_gives_everything() -> None:
    statuses: tuple[Status, ...] = (PASS, FAIL, NOT_AVAILABLE)
    result = Audit(("fsbp",), (HOME,), tuple(_finding(i, statuses[i % 3]) for i in range(300)), (), (ACCOUNT,))
    document = answer.bounded(result, 20_000)
    reason = document["dropped"]["reason"]
    assert "over 20000 bytes" in reason
    assert "failing findings first and passing ones last" in reason
    (command,) = re.findall(r"`([^`]*)`", reason)
    assert command == "trailkeeper audit --json"  # as typed: the CLI's command and flag are lower case
