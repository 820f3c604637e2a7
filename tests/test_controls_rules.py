"""Every control's rule as `trailkeeper audit` reports it, judged on facts built by hand (no AWS, no moto).

What a reader of the report relies on, control by control: the status, the exact reason (which trail, what it
lacks, what could not be read), and the declaration `--fix` would make (or none):

- CloudTrail.1 / CIS 4.1 and CloudTrail.3: one trail seen in the region passes it; the fix goes to the trail of
  this account nearest to passing (or to --primary-trail), never to another account's;
- CloudTrail.2, .4, .5, .9: the trail's KMS key, validation, log group and tags, and the values --fix takes;
- CloudTrail.6, .7: the log bucket's exposure and access logging;
- the table's answers: which reads the asked standards need, and which controls a flag would change.
"""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.audit import controls
from trailkeeper.audit.facts import (
    BUCKET_LOGGING,
    BUCKET_PUBLIC,
    EVENTS,
    FAIL,
    NOT_AVAILABLE,
    PASS,
    STATUS,
    TAGS,
    BucketFacts,
    Options,
    Place,
    TrailFacts,
    Verdict,
)
from trailkeeper.trail import selectors
from trailkeeper.trail.record import Record

ACCOUNT, OTHER_ACCOUNT, HOME, ELSEWHERE = "123456789012", "210987654321", "us-east-1", "eu-west-1"
DENIED = "AccessDeniedException: not allowed"
KEY = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:trail-events:*"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/trail-to-logs"
EVERYWHERE = "no trail here records every management event in every region"
PASSES_EVERYWHERE = (
    "is multi-region, logging, and records every read and write management event in one selector, with no "
    "source excluded"
)
SEPARATE = (
    "records read and write management events only in separate selectors: the rule wants one selector of both "
    "(ReadWriteType All, or an advanced selector on eventCategory Management without readOnly) (by the events "
    "its selectors record (trailkeeper's model, the guard's) it records every read and write management event; "
    "Security Hub's rule reads each selector's fields, and fails it)"
)


def arn_of(name: str, account: str = ACCOUNT, region: str = HOME) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def trail(
    name: str,
    *,
    multi_region: bool = True,
    logging: bool | None = True,
    read: list[str] | None = None,
    account: str = ACCOUNT,
    region: str = HOME,
    settings: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    delivery_error: str = "",
    unread: str = "",
) -> TrailFacts:
    """A trail as the audit read it: `read` lists its basic selectors' ReadWriteType (management events;
    CloudTrail's default when not given); `logging=None`: GetTrailStatus was denied."""
    events = (
        selectors.from_read({"EventSelectors": [{"ReadWriteType": rw, "IncludeManagementEvents": True} for rw in read]})
        if read is not None
        else selectors.DEFAULT
    )
    record = Record.of({"IsMultiRegionTrail": multi_region, **(settings or {})}, logging=logging, events=events)
    why = unread or (DENIED if logging is None else "")
    return TrailFacts(
        arn_of(name, account, region),
        account,
        region,
        record,
        "logs",
        selectors=events,
        tags=tags,
        delivery_error=delivery_error,
        unread=why,
    )


def judged(key: str, subject: Any, options: Options | None = None) -> Verdict:
    return controls.BY_KEY[key].judge(subject, options or Options())


def region(*trails: TrailFacts) -> Place:
    return Place(ACCOUNT, HOME, trails)


# --- CloudTrail.1 / CIS 4.1: one trail here records every management event everywhere --------------------


def test_a_trail_recording_every_management_event_everywhere_passes_cloudtrail_1_by_name() -> None:
    verdict = judged("multi-region", region(trail("stopped", logging=False), trail("everywhere")))
    assert verdict == Verdict(PASS, f"{arn_of('everywhere')} {PASSES_EVERYWHERE}")


@pytest.mark.parametrize(
    ("facts", "lacks", "fix"),
    [
        (
            {"multi_region": False},
            "is not multi-region",
            {"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True},
        ),
        ({"logging": False}, "is not logging", {"IsLogging": True}),
        (
            {"multi_region": False, "logging": False},
            "is not multi-region; is not logging",
            {"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True, "IsLogging": True},
        ),
        (
            {"read": ["WriteOnly"]},
            "does not record read management events",
            {"EventSelectors": [{"ReadWriteType": "All"}]},
        ),
    ],
    ids=["single-region", "stopped", "both", "write-only"],
)
def test_a_failing_trail_is_named_with_what_it_lacks_and_fixed_by_the_smallest_declaration(
    facts: dict[str, Any], lacks: str, fix: dict[str, Any]
) -> None:
    verdict = judged("multi-region", region(trail("main", **facts)))
    assert verdict == Verdict(FAIL, f"{EVERYWHERE}: {arn_of('main')} {lacks}", {"Name": arn_of("main"), **fix})


def test_a_trail_whose_selectors_leave_no_room_for_a_management_selector_gets_no_fix() -> None:
    # Five basic selectors (CloudTrail's most), each of write events and one bucket's data: none can be widened
    # without paying for reads, and there is no room for one more. The owner must merge them: nothing to declare.
    full = selectors.from_read(
        {
            "EventSelectors": [
                {
                    "ReadWriteType": "WriteOnly",
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::bucket-{i}/"]}],
                }
                for i in range(selectors.MAX_BASIC_SELECTORS)
            ]
        }
    )
    facts = TrailFacts(
        arn_of("full"),
        ACCOUNT,
        HOME,
        Record.of({"IsMultiRegionTrail": True}, logging=True, events=full),
        "logs",
        selectors=full,
    )
    verdict = judged("multi-region", region(facts))
    assert verdict == Verdict(FAIL, f"{EVERYWHERE}: {arn_of('full')} does not record read management events")


def test_a_region_without_a_trail_fails_cloudtrail_1_with_nothing_to_fix() -> None:
    assert judged("multi-region", region()) == Verdict(FAIL, f"{EVERYWHERE}: there is no trail")


def test_where_only_security_hubs_rule_fails_a_trail_the_reason_says_the_events_model_differs() -> None:
    verdict = judged("multi-region", region(trail("apart", read=["ReadOnly", "WriteOnly"])))
    assert verdict.status == FAIL
    assert verdict.reason == f"{EVERYWHERE}: {arn_of('apart')} {SEPARATE}"


def test_unknown_trails_leave_the_region_not_available_naming_each_and_the_ones_known_to_fail() -> None:
    place = region(
        trail("denied-a", logging=None),
        trail("denied-b", logging=None),
        trail("single-a", multi_region=False),
        trail("single-b", multi_region=False),
    )
    unknown = f"its status (GetTrailStatus) could not be read ({DENIED})"
    assert judged("multi-region", place) == Verdict(
        NOT_AVAILABLE,
        "whether a trail here passes could not be told: "
        f"{arn_of('denied-a')} {unknown} | {arn_of('denied-b')} {unknown}; "
        f"the others fail it: {arn_of('single-a')} is not multi-region | {arn_of('single-b')} is not multi-region",
    )
    alone = judged("multi-region", region(trail("denied", logging=None)))
    assert alone == Verdict(
        NOT_AVAILABLE, f"whether a trail here passes could not be told: {arn_of('denied')} {unknown}"
    )


def test_a_not_available_reason_keeps_where_the_events_model_differs() -> None:
    verdict = judged(
        "multi-region", region(trail("denied", logging=None), trail("apart", read=["ReadOnly", "WriteOnly"]))
    )
    assert verdict.status == NOT_AVAILABLE
    assert verdict.reason.endswith(f"; the others fail it: {arn_of('apart')} {SEPARATE}")


@pytest.mark.parametrize(
    ("trails", "fixed"),
    [
        # Fewest shortfalls first: one lacking beats one lacking and one unread.
        ((trail("a-unread", multi_region=False, logging=None), trail("b-stopped", logging=False)), "b-stopped"),
        ((trail("a-both", multi_region=False, logging=False), trail("b-single", multi_region=False)), "b-single"),
        # As many shortfalls: the multi-region one is the nearer.
        ((trail("a-single", multi_region=False), trail("b-stopped", logging=False)), "b-stopped"),
        # Alike: the first by ARN.
        ((trail("b-single", multi_region=False), trail("a-single", multi_region=False)), "a-single"),
    ],
    ids=["unread-counts", "fewest-lacking", "multi-region-nearer", "by-arn"],
)
def test_the_fix_goes_to_the_trail_of_this_account_nearest_to_passing(
    trails: tuple[TrailFacts, ...], fixed: str
) -> None:
    verdict = judged("multi-region", region(*trails))
    assert verdict.status == FAIL and verdict.fix is not None
    assert verdict.fix["Name"] == arn_of(fixed)


def test_another_accounts_trail_seen_here_is_never_the_one_fixed() -> None:
    organization = trail("org", multi_region=False, account=OTHER_ACCOUNT)
    mine = trail("mine", multi_region=False, logging=False)
    assert judged("multi-region", region(organization)).fix is None
    assert judged("logging", region(trail("org", logging=False, account=OTHER_ACCOUNT))).fix is None
    verdict = judged("multi-region", region(organization, mine))
    assert verdict.fix is not None and verdict.fix["Name"] == arn_of("mine")


@pytest.mark.parametrize("primary", ["main", arn_of("main")], ids=["by-name", "by-arn"])
def test_primary_trail_is_the_one_fixed_even_when_another_is_nearer(primary: str) -> None:
    place = region(
        trail("main", multi_region=False, logging=False),
        trail("near", logging=False),
        trail("main", account=OTHER_ACCOUNT, multi_region=False),
    )
    verdict = judged("multi-region", place, Options(primary_trail=primary))
    assert verdict.status == FAIL
    assert verdict.fix == {
        "Name": arn_of("main"),
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "IsLogging": True,
    }
    assert "--primary-trail" not in verdict.reason


@pytest.mark.parametrize(
    ("primary", "trails"),
    [
        ("absent", (trail("main", multi_region=False),)),
        ("main", (trail("main", multi_region=False, account=OTHER_ACCOUNT),)),  # another account's
        ("main", (trail("main", multi_region=False), trail("main", multi_region=False, region=ELSEWHERE))),
    ],
    ids=["no-such-trail", "another-accounts", "two-of-that-name"],
)
def test_a_primary_trail_that_is_not_one_trail_of_this_account_gets_no_fix_and_the_reason_says_so(
    primary: str, trails: tuple[TrailFacts, ...]
) -> None:
    verdict = judged("multi-region", region(*trails), Options(primary_trail=primary))
    said = " | ".join(f"{t.arn} is not multi-region" for t in trails)
    assert verdict == Verdict(
        FAIL, f"{EVERYWHERE}: {said} (--primary-trail {primary} is not one trail of this account seen here)"
    )


# --- CloudTrail.3: one trail here is logging ----------------------------------------------------------------


def test_a_logging_trail_passes_cloudtrail_3_by_name() -> None:
    verdict = judged("logging", region(trail("stopped", logging=False), trail("single", multi_region=False)))
    assert verdict == Verdict(PASS, f"{arn_of('single')} is logging")


def test_stopped_trails_fail_cloudtrail_3_and_the_fix_starts_the_first() -> None:
    verdict = judged("logging", region(trail("b", logging=False), trail("a", logging=False)))
    assert verdict == Verdict(
        FAIL,
        f"no trail here is logging: {arn_of('b')} is not logging | {arn_of('a')} is not logging",
        {"Name": arn_of("a"), "IsLogging": True},
    )


def test_a_region_without_a_trail_fails_cloudtrail_3_with_nothing_to_start() -> None:
    assert judged("logging", region()) == Verdict(FAIL, "no trail here is logging: there is no trail")


def test_a_trail_whose_status_was_denied_leaves_cloudtrail_3_not_available() -> None:
    verdict = judged("logging", region(trail("denied", logging=None), trail("stopped", logging=False)))
    assert verdict == Verdict(
        NOT_AVAILABLE,
        f"whether a trail here passes could not be told: {arn_of('denied')} its status (GetTrailStatus) could not "
        f"be read ({DENIED}); the others fail it: {arn_of('stopped')} is not logging",
    )


# --- CloudTrail.2, .4, .5: the trail's key, digests and log group --------------------------------------------


def test_an_encrypted_trail_passes_cloudtrail_2_naming_its_key() -> None:
    verdict = judged("encryption", trail("t", settings={"KmsKeyId": KEY}))
    assert verdict == Verdict(PASS, f"log files are encrypted with {KEY}")


NOT_ENCRYPTED = "log files are not encrypted with a KMS key (KmsKeyId is not set)"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(), Verdict(FAIL, NOT_ENCRYPTED)),
        (
            Options(kms_keys={(ACCOUNT, HOME): KEY}),
            Verdict(FAIL, NOT_ENCRYPTED, {"Name": arn_of("t"), "KmsKeyId": KEY}),
        ),
        (Options(kms_keys={(ACCOUNT, ELSEWHERE): KEY}), Verdict(FAIL, NOT_ENCRYPTED)),  # a key serves its region
        (
            Options(kms_refused={(ACCOUNT, HOME): "alias/trails is pending deletion"}),
            Verdict(FAIL, f"{NOT_ENCRYPTED}; alias/trails is pending deletion"),
        ),
    ],
    ids=["no-key-given", "key-here", "key-elsewhere", "key-refused"],
)
def test_an_unencrypted_trail_fails_cloudtrail_2_and_takes_only_a_key_of_its_home_region(
    options: Options, expected: Verdict
) -> None:
    assert judged("encryption", trail("t", settings={"KmsKeyId": ""}), options) == expected


def test_cloudtrail_4_passes_with_validation_and_its_fix_turns_it_on() -> None:
    on = judged("validation", trail("t", settings={"EnableLogFileValidation": True}))
    assert on == Verdict(PASS, "log file validation is enabled")
    off = judged("validation", trail("t", settings={"EnableLogFileValidation": False}))
    assert off == Verdict(
        FAIL, "log file validation is disabled", {"Name": arn_of("t"), "EnableLogFileValidation": True}
    )


NO_GROUP = "no CloudWatch Logs log group is configured"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (Options(), Verdict(FAIL, NO_GROUP)),
        (
            Options(log_groups={(ACCOUNT, HOME): GROUP}, log_role=ROLE),
            Verdict(
                FAIL, NO_GROUP, {"Name": arn_of("t"), "CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE}
            ),
        ),
        (Options(log_groups={(ACCOUNT, ELSEWHERE): GROUP}, log_role=ROLE), Verdict(FAIL, NO_GROUP)),
        (
            Options(log_group_refused={(ACCOUNT, HOME): "log group trail-events does not exist in us-east-1"}),
            Verdict(FAIL, f"{NO_GROUP}; log group trail-events does not exist in us-east-1"),
        ),
    ],
    ids=["no-group-given", "group-here", "group-elsewhere", "group-refused"],
)
def test_a_trail_without_a_log_group_fails_cloudtrail_5_and_takes_only_a_group_of_its_home_region(
    options: Options, expected: Verdict
) -> None:
    assert judged("cloudwatch-logs", trail("t", settings={"CloudWatchLogsLogGroupArn": ""}), options) == expected


def test_a_trail_with_a_log_group_passes_cloudtrail_5_and_warns_only_of_a_reported_error() -> None:
    quiet = judged("cloudwatch-logs", trail("t", settings={"CloudWatchLogsLogGroupArn": GROUP}))
    assert quiet == Verdict(PASS, f"events also go to {GROUP}")
    erring = judged("cloudwatch-logs", trail("t", settings={"CloudWatchLogsLogGroupArn": GROUP}, delivery_error="x"))
    assert erring.warnings == (f"CloudTrail reports a delivery error to {GROUP}: x",)


# --- CloudTrail.9: tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unread", "why"), [(DENIED, DENIED), ("", "unknown")], ids=["denied", "no-reason"])
def test_tags_that_could_not_be_read_leave_cloudtrail_9_not_available(unread: str, why: str) -> None:
    verdict = judged("tagged", trail("t", tags=None, unread=unread))
    assert verdict == Verdict(NOT_AVAILABLE, f"its tags could not be read ({why})")


def tags_fix(**tags: str) -> dict[str, Any]:
    return {"Name": arn_of("t"), "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


@pytest.mark.parametrize(
    ("own", "options", "expected"),
    [
        ({"owner": "sec"}, Options(), Verdict(PASS, "has 1 user tag(s)")),
        ({"owner": "sec", "team": "a"}, Options(), Verdict(PASS, "has 2 user tag(s)")),
        ({}, Options(), Verdict(FAIL, "has no user tags (aws: tags do not count)")),
        (
            {},
            Options(tags={"owner": "audit"}),
            Verdict(FAIL, "has no user tags (aws: tags do not count)", tags_fix(owner="audit")),
        ),
        (
            {"owner": "sec", "team": "a"},
            Options(("owner", "team")),
            Verdict(PASS, "has the required tag key(s) owner, team"),
        ),
        (
            {"owner": "sec"},
            Options(("cost-center", "owner", "team")),
            Verdict(FAIL, "missing the required tag key(s) cost-center, team"),
        ),
        (  # --tag supplies only one of the missing keys: no fix would pass
            {"owner": "sec"},
            Options(("cost-center", "team"), tags={"team": "a"}),
            Verdict(FAIL, "missing the required tag key(s) cost-center, team"),
        ),
        (  # the trail's own values are kept: --fix only adds keys
            {"owner": "sec"},
            Options(("cost-center", "owner"), tags={"cost-center": "42", "owner": "audit"}),
            Verdict(
                FAIL, "missing the required tag key(s) cost-center", tags_fix(owner="sec", **{"cost-center": "42"})
            ),
        ),
    ],
    ids=["one-tag", "two-tags", "none", "none-fixed", "required-present", "required-missing", "partly-given", "fixed"],
)
def test_cloudtrail_9_judges_user_tags_and_required_keys_and_fix_only_adds_keys(
    own: dict[str, str], options: Options, expected: Verdict
) -> None:
    assert judged("tagged", trail("t", tags=own), options) == expected


# --- CloudTrail.6, .7: the log bucket ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "public", "logged"),
    [
        (
            BucketFacts("logs", unavailable="GetBucketAcl: AccessDenied"),
            Verdict(NOT_AVAILABLE, "GetBucketAcl: AccessDenied"),
            Verdict(NOT_AVAILABLE, "GetBucketAcl: AccessDenied"),
        ),
        (
            BucketFacts(
                "logs", public=("the ACL grants READ to AllUsers", "the policy is public"), access_logging=True
            ),
            Verdict(FAIL, "the ACL grants READ to AllUsers; the policy is public"),
            Verdict(PASS, "server access logging is enabled"),
        ),
        (
            BucketFacts("logs", access_logging=False),
            Verdict(PASS, "no public ACL grant, the policy is not public, or public access is blocked"),
            Verdict(FAIL, "server access logging is disabled"),
        ),
    ],
    ids=["unread", "public-logged", "private-unlogged"],
)
def test_the_log_bucket_controls_say_what_was_read(bucket: BucketFacts, public: Verdict, logged: Verdict) -> None:
    assert judged("bucket-not-public", bucket) == public
    assert judged("bucket-access-logging", bucket) == logged


# --- the table: the reads asked standards need, and the controls a flag would change -----------------------------


def test_the_reads_are_those_the_asked_standards_controls_need() -> None:
    assert controls.needs(("cis-6.0",)) == {STATUS, EVENTS, BUCKET_LOGGING}
    assert controls.needs(("fsbp",)) == {STATUS, EVENTS, TAGS, BUCKET_PUBLIC, BUCKET_LOGGING}
    assert controls.needs(()) == frozenset()


def test_a_flag_no_asked_control_uses_names_every_control_that_would() -> None:
    assert controls.unused("kms_keys", ["delivery"]) == "fsbp CloudTrail.2, cis-5.0 3.5, cis-6.0 4.5"
    assert controls.unused("kms_keys", ["cis-5.0"]) == ""
