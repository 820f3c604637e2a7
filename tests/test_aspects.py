"""The whole trail, pure: each aspect's parse, compare, writes and weakenings, the guard, and the call order."""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.errors import InvalidProperties, WeakensAudit
from trailkeeper.trail import aspect, aspects, guard, settings
from trailkeeper.trail.declaration import parse
from trailkeeper.trail.insights import INSIGHTS_ASPECT
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.status import LOGGING
from trailkeeper.trail.tags import TAGS_ASPECT

ARN = "arn:aws:cloudtrail:us-east-1:111122223333:trail/audit"
S3_DATA = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::logs/"]}]


def problems(props: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidProperties) as caught:
        parse({"Name": "audit", **props})
    return list(caught.value.problems)


# --- IsLogging -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [(True, True), ("false", False), (" TRUE ", True)])
def test_is_logging_takes_booleans_and_cloudformation_strings(raw: object, value: bool) -> None:
    assert parse({"Name": "audit", "IsLogging": raw}).aspects["logging"] is value


@pytest.mark.parametrize("raw", ["yes", "on", 1, None, ["true"]])
def test_is_logging_refuses_anything_else(raw: object) -> None:
    (problem,) = problems({"IsLogging": raw})
    assert problem.startswith("IsLogging=") and problem.endswith("must be true or false")


def test_starting_logging_is_the_last_write_and_stopping_the_first() -> None:
    (start,) = LOGGING.writes(True, False, ARN)
    (stop,) = LOGGING.writes(False, True, ARN)
    assert (start.operation, start.arguments) == ("StartLogging", {"Name": ARN})
    assert (stop.operation, stop.arguments) == ("StopLogging", {"Name": ARN})
    assert stop.phase == min(aspect.STOP_LOGGING, aspect.UPDATE_TRAIL) < aspect.UPDATE_TRAIL
    assert start.phase > aspect.TAGS > aspect.SELECTORS_REMOVING > aspect.INSIGHTS > aspect.SELECTORS_ADDING
    assert LOGGING.writes(True, True, ARN) == []


def test_stopping_logging_weakens_audit_and_starting_it_does_not() -> None:
    (weakening,) = LOGGING.weakenings(False, True)
    assert weakening.property == "IsLogging" and "CloudTrail.1" in weakening.control
    assert LOGGING.weakenings(True, False) == []
    assert LOGGING.weakenings(False, False) == []  # already stopped, stays stopped: not a change
    (change,) = LOGGING.changes(False, True)
    assert change.weakens and (change.current, change.desired) == (True, False)


def test_the_logging_status_is_read_by_arn_so_a_shadow_trail_answers() -> None:
    assert LOGGING.read(ARN) == aspect.Call("GetTrailStatus", {"Name": ARN})
    assert LOGGING.known({"TrailARN": ARN}) is None
    assert LOGGING.current({"IsLogging": True}, None) is True
    # a status that does not say counts as stopped: a declared IsLogging true then starts it (harmless if it
    # was logging), where assuming "logging" could leave a stopped trail stopped
    assert LOGGING.current({}, None) is False


# --- InsightSelectors ------------------------------------------------------------------------------

CALLS = {"InsightType": "ApiCallRateInsight"}
ERRORS = {"InsightType": "ApiErrorRateInsight"}


def insights(raw: object) -> object:
    return parse({"Name": "audit", "InsightSelectors": raw}).aspects["insights"]


def test_insights_compare_as_a_set_and_management_is_the_default_category() -> None:
    assert insights([CALLS, ERRORS]) == insights([ERRORS, CALLS])
    assert insights([{**CALLS, "EventCategories": ["Management"]}]) == insights([CALLS])
    assert insights([{**CALLS, "EventCategories": ["Data"]}]) != insights([CALLS])
    assert insights([]) == frozenset()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ApiCallRateInsight", "InsightSelectors='ApiCallRateInsight': must be a list ([] turns Insights off)"),
        (
            [{"InsightType": "ApiCallInsight"}],
            "InsightSelectors[0].InsightType='ApiCallInsight': must be ApiCallRateInsight or ApiErrorRateInsight",
        ),
        ([CALLS, CALLS], "InsightSelectors[1]: ApiCallRateInsight is declared twice"),
        (
            [{**CALLS, "EventCategories": ["Other"]}],
            "InsightSelectors[0].EventCategories: 'Other' must be Management or Data",
        ),
        ([{**CALLS, "EventCategories": "Data"}], "InsightSelectors[0].EventCategories='Data': must be a list"),
        ([{**CALLS, "Colour": 1}], "InsightSelectors[0].Colour: unknown key; expected InsightType, EventCategories"),
        ([CALLS, ERRORS, CALLS], "InsightSelectors: 3 selectors; at most 2 (one per InsightType)"),
        (["x"], "InsightSelectors[0]='x': must be an object with InsightType"),
    ],
)
def test_insights_refuse_what_cloudtrail_would(raw: object, expected: str) -> None:
    assert problems({"InsightSelectors": raw}) == [expected]


def test_a_trail_without_insights_needs_no_read_and_insight_not_enabled_means_none() -> None:
    assert INSIGHTS_ASPECT.known({"HasInsightSelectors": False}) == frozenset()
    assert INSIGHTS_ASPECT.known({"HasInsightSelectors": True}) is None
    assert INSIGHTS_ASPECT.known({}) is None  # not said: read
    assert "InsightNotEnabledException" in INSIGHTS_ASPECT.absent_when
    assert INSIGHTS_ASPECT.current(None, "InsightNotEnabledException") == frozenset()
    read_back = {"InsightSelectors": [ERRORS, CALLS]}  # another order than sent
    assert INSIGHTS_ASPECT.current(read_back, None) == insights([CALLS, ERRORS])


def test_removing_an_insight_weakens_audit_and_adding_or_keeping_does_not() -> None:
    both, calls_only = insights([CALLS, ERRORS]), insights([CALLS])
    (weakening,) = INSIGHTS_ASPECT.weakenings(calls_only, both)
    assert weakening.describe() == (
        "InsightSelectors ApiErrorRateInsight removed breaks CloudTrail Insights "
        "(unusual call and error rates go unseen)"
    )
    assert INSIGHTS_ASPECT.weakenings(both, calls_only) == []
    assert INSIGHTS_ASPECT.weakenings(frozenset(), frozenset()) == []
    (write,) = INSIGHTS_ASPECT.writes(frozenset(), both, ARN)
    assert write.operation == "PutInsightSelectors" and write.arguments["InsightSelectors"] == []
    assert INSIGHTS_ASPECT.writes(both, both, ARN) == []


# --- Tags -------------------------------------------------------------------------------------------


def tags(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def test_tags_are_the_whole_user_set_and_aws_tags_are_never_touched() -> None:
    desired = parse({"Name": "audit", "Tags": tags(("team", "sec"), ("env", "prod"))}).aspects["tags"]
    answer = {
        "ResourceTagList": [
            {
                "ResourceId": ARN,
                "TagsList": tags(("env", "dev"), ("old", "x"), ("aws:cloudformation:stack-name", "s")),
            }
        ]
    }
    current = TAGS_ASPECT.current(answer, None)
    assert current == {"env": "dev", "old": "x"}
    remove, add = TAGS_ASPECT.writes(desired, current, ARN)
    assert (remove.operation, remove.arguments["TagsList"]) == ("RemoveTags", [{"Key": "old"}])
    assert (add.operation, add.arguments["TagsList"]) == ("AddTags", tags(("env", "prod"), ("team", "sec")))
    assert TAGS_ASPECT.writes(desired, {"team": "sec", "env": "prod"}, ARN) == []
    assert TAGS_ASPECT.weakenings(desired, current) == []


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (tags(("aws:owner", "x")), "keys starting 'aws:' are reserved"),
        (tags(("a", "1"), ("a", "2")), "Tags[1].Key='a': declared twice"),
        (tags(*[(f"k{i}", "v") for i in range(51)]), "51 tags; a trail takes at most 50"),
        (tags(("k" * 129, "v")), "must be a string of 1-128 characters"),
        (tags(("k", "")), "Tags[0].Value='': must be a string of 1-256 characters"),
        ({"team": "sec"}, "must be a list of {Key, Value}"),
        ([{"Key": "a", "Value": "b", "Extra": 1}], "Tags[0].Extra: unknown key"),
    ],
)
def test_tags_refuse_what_cloudtrail_would(raw: object, fragment: str) -> None:
    found = problems({"Tags": raw})
    assert any(fragment in p for p in found), found


# --- Declarations: aliases, AllowWeakening, DryRun, cross-aspect rules ------------------------------


def test_native_spellings_are_accepted() -> None:
    declared = parse({"TrailName": "audit", "KMSKeyId": "alias/audit"})
    assert (declared.name, declared.settings["KmsKeyId"]) == ("audit", "alias/audit")
    same = parse({"TrailName": "audit", "Name": "audit"})
    assert same.name == "audit"


def test_both_spellings_with_different_values_are_an_error_naming_both() -> None:
    with pytest.raises(InvalidProperties) as caught:
        parse({"TrailName": "audit", "Name": "other"})
    assert any("TrailName and Name" in p for p in caught.value.problems)
    (problem,) = problems({"KMSKeyId": "alias/a", "KmsKeyId": "alias/b"})
    assert "KMSKeyId and KmsKeyId" in problem


@pytest.mark.parametrize(
    ("raw", "allowance"),
    [
        (True, True),
        ("true", True),
        ("False", False),
        (["IsLogging", "KmsKeyId"], frozenset({"IsLogging", "KmsKeyId"})),
        ([], frozenset()),
    ],
)
def test_allow_weakening_is_a_boolean_or_a_list_of_property_names(raw: object, allowance: object) -> None:
    assert parse({"Name": "audit", "AllowWeakening": raw}).allow_weakening == allowance


@pytest.mark.parametrize("raw", [["S3BucketName"], ["Tags"], ["Nope"], "yes", [1], ["IsLogging"] * 100_000])
def test_allow_weakening_refuses_names_that_cannot_weaken(raw: object) -> None:
    (problem,) = problems({"AllowWeakening": raw})
    assert problem.startswith("AllowWeakening")


def test_allow_weakening_may_list_every_name_that_can_weaken_and_says_which_ones_cannot() -> None:
    every = sorted(guard.weakenable())
    assert parse({"Name": "audit", "AllowWeakening": every}).allow_weakening == frozenset(every)
    (problem,) = problems({"AllowWeakening": ["Tags", 5, "a", "b", "c", "d"]})
    assert problem == f"AllowWeakening: 'Tags', 5, 'a', 'b', 'c' cannot weaken audit; list some of {', '.join(every)}"


def test_dry_run_is_a_boolean() -> None:
    assert parse({"Name": "audit", "DryRun": "true"}).dry_run is True
    assert parse({"Name": "audit"}).dry_run is False
    (problem,) = problems({"DryRun": "maybe"})
    assert problem.startswith("DryRun='maybe'")


def test_insights_need_the_management_events_they_watch_when_both_are_declared() -> None:
    reads_only = [{"ReadWriteType": "ReadOnly"}]
    (problem,) = problems({"EventSelectors": reads_only, "InsightSelectors": [CALLS]})
    assert "ApiCallRateInsight needs" in problem
    parse({"Name": "audit", "EventSelectors": reads_only, "InsightSelectors": [ERRORS]})  # reads are enough
    parse({"Name": "audit", "InsightSelectors": [CALLS]})  # selectors not declared: CloudTrail decides


def test_every_declared_property_belongs_to_exactly_one_aspect() -> None:
    owned = [p for a in aspects.OTHERS for p in a.properties]
    assert len(owned) == len(set(owned))
    assert not set(owned) & set(settings.table())


# --- The guard ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "current", "desired", "weakens"),
    [
        ("IsMultiRegionTrail", True, False, True),
        ("IncludeGlobalServiceEvents", True, False, True),
        ("EnableLogFileValidation", True, False, True),
        ("EnableLogFileValidation", False, True, False),
        ("EnableLogFileValidation", False, False, False),  # already weak, stays weak
        ("KmsKeyId", "arn:aws:kms:us-east-1:111122223333:key/k", "", True),
        ("KmsKeyId", "", "", False),
        ("KmsKeyId", "arn:aws:kms:us-east-1:111122223333:key/k", "arn:aws:kms:us-east-1:111122223333:key/j", False),
        ("CloudWatchLogsLogGroupArn", "arn:aws:logs:us-east-1:111122223333:log-group:g", "", True),
        ("S3KeyPrefix", "logs", "", False),  # not an audit control
    ],
)
def test_which_setting_changes_weaken_audit(name: str, current: object, desired: object, weakens: bool) -> None:
    found = guard.setting_weakenings({name: desired}, {name: current})
    assert bool(found) is weakens
    if weakens:
        assert found[0].property == name and "Security Hub CloudTrail." in found[0].control


def test_a_weakening_reads_as_what_goes_and_the_control_it_breaks() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/k"
    (removed,) = guard.setting_weakenings({"KmsKeyId": ""}, {"KmsKeyId": key})
    assert removed.describe() == f"KmsKeyId {key} -> removed breaks Security Hub CloudTrail.2, CIS 4.5"
    reads_only = parse({"Name": "audit", "EventSelectors": [{"ReadWriteType": "ReadOnly"}]}).aspects["selectors"]
    everything = parse({"Name": "audit", "EventSelectors": []}).aspects["selectors"]
    (narrowed,) = SELECTORS_ASPECT.weakenings(reads_only, everything)
    assert narrowed.describe() == (
        "EventSelectors stops logging write management events breaks Security Hub CloudTrail.1, CIS 4.1"
    )


def test_the_guard_refuses_what_is_not_allowed_and_says_how_to_allow_it() -> None:
    found = [*guard.setting_weakenings({"EnableLogFileValidation": False}, {"EnableLogFileValidation": True})]
    found += LOGGING.weakenings(False, True)
    with pytest.raises(WeakensAudit) as caught:
        guard.check(found, False, ARN)
    reason = caught.value.reason
    assert reason.startswith("WeakensAudit: ") and len(reason) <= 256
    assert "AllowWeakening: [EnableLogFileValidation, IsLogging]; nothing was written" in reason
    assert "IsLogging true -> false breaks Security Hub CloudTrail.1, CIS 4.1" in reason
    assert "EnableLogFileValidation true -> false breaks Security Hub CloudTrail.4, CIS 4.2" in " ".join(
        caught.value.problems
    )
    guard.check(found, True, ARN)
    guard.check(found, frozenset({"EnableLogFileValidation", "IsLogging"}), ARN)
    with pytest.raises(WeakensAudit) as partly:
        guard.check(found, frozenset({"IsLogging"}), ARN)
    assert "AllowWeakening: [EnableLogFileValidation]" in partly.value.reason


# --- Edges the mutation run showed untested -----------------------------------------------------------


def test_tags_at_their_limits_are_accepted_and_one_past_is_not() -> None:
    at_limit = tags(*[(f"k{i}", "v") for i in range(50)])
    assert len(parse({"Name": "audit", "Tags": at_limit}).aspects["tags"]) == 50  # type: ignore[arg-type]
    longest = tags(("k" * 128, "v" * 256))
    assert parse({"Name": "audit", "Tags": longest}).aspects["tags"] == {"k" * 128: "v" * 256}
    found = problems({"Tags": tags(("k" * 129, "v"), ("k", "v" * 257))})
    assert found == [
        f"Tags[0].Key='{'k' * 57}...': must be a string of 1-128 characters",
        f"Tags[1].Value='{'v' * 57}...': must be a string of 1-256 characters",
    ]


def test_every_bad_tag_is_reported_not_only_the_first() -> None:
    found = problems({"Tags": ["x", {"Key": 1, "Value": "v"}, {"Key": "aws:a", "Value": "v"}, {"Key": "k"}]})
    assert found == [
        "Tags[0]='x': must be an object with Key and Value",
        "Tags[1].Key=1: must be a string of 1-128 characters",
        "Tags[2].Key='aws:a': keys starting 'aws:' are reserved for AWS",
        "Tags[3].Value=None: must be a string of 1-256 characters",
    ]
    assert problems({"Tags": "team=sec"}) == ["Tags='team=sec': must be a list of {Key, Value}"]
    # a bad value does not end the walk either
    assert problems({"Tags": [{"Key": "a", "Value": ""}, {"Key": "b", "Value": 2}]}) == [
        "Tags[0].Value='': must be a string of 1-256 characters",
        "Tags[1].Value=2: must be a string of 1-256 characters",
    ]


def test_insight_categories_are_sent_with_management_and_in_a_stable_order() -> None:
    both = insights([{**ERRORS, "EventCategories": ["Data"]}, CALLS])
    (write,) = INSIGHTS_ASPECT.writes(both, frozenset(), ARN)
    assert write.arguments["InsightSelectors"] == [
        {"InsightType": "ApiCallRateInsight"},
        {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data", "Management"]},
    ]
    (change,) = INSIGHTS_ASPECT.changes(both, frozenset())
    assert (change.current, change.weakens) == ([], None)
    # sorted by type, whatever the categories
    (write,) = INSIGHTS_ASPECT.writes(insights([ERRORS, {**CALLS, "EventCategories": ["Data"]}]), frozenset(), ARN)
    assert [i["InsightType"] for i in write.arguments["InsightSelectors"]] == [
        "ApiCallRateInsight",
        "ApiErrorRateInsight",
    ]


def test_api_error_rate_insights_need_some_management_events_when_selectors_are_declared() -> None:
    data_only = [
        {"IncludeManagementEvents": False, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
    ]
    (problem,) = problems({"EventSelectors": data_only, "InsightSelectors": [ERRORS]})
    assert problem.startswith("InsightSelectors: ApiErrorRateInsight needs")
    parse({"Name": "audit", "EventSelectors": [{"ReadWriteType": "WriteOnly"}], "InsightSelectors": [ERRORS, CALLS]})
    # both Insights without management events: both problems at once
    assert problems({"EventSelectors": data_only, "InsightSelectors": [ERRORS, CALLS]}) == [
        "InsightSelectors: ApiCallRateInsight needs the event selectors to log write management events",
        "InsightSelectors: ApiErrorRateInsight needs the event selectors to log management events",
    ]


def test_values_are_shown_in_tables_as_people_read_them() -> None:
    assert [aspect.show_value(v) for v in (None, "", "x", True, False)] == ["?", "''", "x", "true", "false"]
    assert aspect.show_value({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'  # keys sorted: the same value reads the same
    long = aspect.show_value(["x" * 100])
    assert len(long) == 60 and long.endswith("...")
    assert aspect.show_value(["x" * 100], limit=200) == '["' + "x" * 100 + '"]'
    exactly = ["x" * 56]  # 60 characters as JSON: kept whole
    assert aspect.show_value(exactly) == '["' + "x" * 56 + '"]'


def test_tags_read_back_without_a_value_compare_as_empty() -> None:
    answer = {"ResourceTagList": [{"ResourceId": ARN, "TagsList": [{"Key": "team"}]}]}
    assert TAGS_ASPECT.current(answer, None) == {"team": ""}
    assert TAGS_ASPECT.current({}, None) == {}


@pytest.mark.parametrize(
    ("current", "desired", "phase"),
    [
        ([{"ReadWriteType": "ReadOnly"}], [{"ReadWriteType": "All"}], aspect.SELECTORS_ADDING),
        ([{"ReadWriteType": "All"}], [{"ReadWriteType": "All", "DataResources": S3_DATA}], aspect.SELECTORS_ADDING),
        ([{"ReadWriteType": "All"}], [{"ReadWriteType": "WriteOnly"}], aspect.SELECTORS_REMOVING),
        ([{"ReadWriteType": "All"}], [{"ReadWriteType": "ReadOnly"}], aspect.SELECTORS_REMOVING),
        (
            [{"ReadWriteType": "All"}],
            [{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}],
            aspect.SELECTORS_REMOVING,
        ),
    ],
)
def test_selectors_that_log_fewer_management_events_are_written_after_insights(
    current: list[dict[str, Any]], desired: list[dict[str, Any]], phase: int
) -> None:
    def selectors_of(declared: list[dict[str, Any]]) -> Any:
        return parse({"Name": "audit", "EventSelectors": declared, "AllowWeakening": "true"}).aspects["selectors"]

    (write,) = SELECTORS_ASPECT.writes(selectors_of(desired), selectors_of(current), ARN)
    assert (write.operation, write.phase) == ("PutEventSelectors", phase)
