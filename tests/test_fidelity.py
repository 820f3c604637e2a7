"""devkit.fidelity: boto3 against moto with the layer on answers as CloudTrail does; where it tells
something, the same call against bare moto shows what moto does on its own (and why the layer exists).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devkit import fidelity
from devkit import world as seeding
from moto.core.botocore_stubber import BotocoreStubber
from moto.server import ThreadedMotoServer

HOME, OTHER = "us-east-1", "us-west-2"
TRAIL = seeding.TRAIL  # single-region, homed in us-east-1
DEFAULT = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}
CALL_RATE, ERROR_RATE = {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}
S3_DATA = {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trailkeeper-demo-logs/"]}


@pytest.fixture
def layer() -> Iterator[None]:
    with fidelity.cloudtrail_as_aws():
        yield


@contextlib.contextmanager
def bare_moto() -> Iterator[None]:
    """moto as it is, even if a caller installed the layer for the session."""
    was = fidelity.installed()
    fidelity.uninstall()
    try:
        yield
    finally:
        if was:
            fidelity.install()


@pytest.fixture
def bare() -> Iterator[None]:
    with bare_moto():
        yield


def cloudtrail(region: str = HOME) -> Any:
    return boto3.client("cloudtrail", region_name=region)


def code_of(call: Callable[..., Any], *args: Any) -> str:
    """The error code CloudTrail (or moto) answers `call(*args)` with."""
    with pytest.raises(ClientError) as raised:
        call(*args)
    return str(raised.value.response["Error"]["Code"])


def trail_of(name: str = TRAIL, region: str = HOME) -> dict[str, Any]:
    return dict(cloudtrail(region).describe_trails(trailNameList=[name])["trailList"][0])


def multi_region_trail() -> str:
    """A multi-region trail homed in us-east-1 (seen in us-west-2 as a shadow); its ARN."""
    return seeding.add_trail("everywhere", HOME, IsMultiRegionTrail=True)


# --- 1. the default selector -------------------------------------------------------------------------


def test_a_trail_never_configured_reads_back_the_one_default_selector(layer: None, world: seeding.World) -> None:
    answer = cloudtrail().get_event_selectors(TrailName=TRAIL)
    assert answer["EventSelectors"] == [DEFAULT]
    assert "AdvancedEventSelectors" not in answer  # only the kind in use is answered


def test_bare_moto_reads_back_no_selector_for_a_fresh_trail(bare: None, world: seeding.World) -> None:
    assert cloudtrail().get_event_selectors(TrailName=TRAIL)["EventSelectors"] == []


def test_a_basic_selector_reads_back_with_its_defaults_filled_in(layer: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    assert cloudtrail().get_event_selectors(TrailName=TRAIL)["EventSelectors"] == [
        dict(DEFAULT, ReadWriteType="WriteOnly")
    ]


# --- 2. DescribeTrails' flags ------------------------------------------------------------------------


def test_has_custom_event_selectors_turns_true_with_any_put_even_the_default(layer: None, world: seeding.World) -> None:
    assert trail_of()["HasCustomEventSelectors"] is False
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[DEFAULT])
    assert trail_of()["HasCustomEventSelectors"] is True
    assert cloudtrail().get_trail(Name=TRAIL)["Trail"]["HasCustomEventSelectors"] is True


def test_bare_moto_never_reports_custom_selectors_or_insights(bare: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[dict(DEFAULT, ReadWriteType="ReadOnly")])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[ERROR_RATE])
    assert (trail_of()["HasCustomEventSelectors"], trail_of()["HasInsightSelectors"]) == (False, False)


def test_has_insight_selectors_follows_insights_on_and_off(layer: None, world: seeding.World) -> None:
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE])
    assert trail_of()["HasInsightSelectors"] is True
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[])
    assert trail_of()["HasInsightSelectors"] is False


# --- 3. Insights -------------------------------------------------------------------------------------


def test_insights_never_enabled_raise_insight_not_enabled(layer: None, world: seeding.World) -> None:
    assert code_of(lambda: cloudtrail().get_insight_selectors(TrailName=TRAIL)) == "InsightNotEnabledException"


def test_bare_moto_answers_no_insights_without_an_error(bare: None, world: seeding.World) -> None:
    assert "InsightSelectors" not in cloudtrail().get_insight_selectors(TrailName=TRAIL)


def test_insights_come_back_in_another_order_and_empty_turns_them_off(layer: None, world: seeding.World) -> None:
    put = cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE, ERROR_RATE])
    assert put["InsightSelectors"] == [ERROR_RATE, CALL_RATE]
    assert cloudtrail().get_insight_selectors(TrailName=TRAIL)["InsightSelectors"] == [ERROR_RATE, CALL_RATE]
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[])
    assert code_of(lambda: cloudtrail().get_insight_selectors(TrailName=TRAIL)) == "InsightNotEnabledException"


def test_a_put_replaces_insights(layer: None, world: seeding.World) -> None:
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE, ERROR_RATE])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[ERROR_RATE])
    assert cloudtrail().get_insight_selectors(TrailName=TRAIL)["InsightSelectors"] == [ERROR_RATE]


def test_bare_moto_appends_insights_and_keeps_them_on_empty(bare: None, world: seeding.World) -> None:
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[])
    assert cloudtrail().get_insight_selectors(TrailName=TRAIL)["InsightSelectors"] == [CALL_RATE, CALL_RATE]


@pytest.mark.parametrize(
    "insight",
    [{"InsightType": "ApiCallVolumeInsight"}, {"InsightType": "ApiCallRateInsight", "EventCategories": ["Network"]}],
)
def test_an_unknown_insight_type_or_category_is_refused(
    layer: None, world: seeding.World, insight: dict[str, Any]
) -> None:
    assert (
        code_of(lambda: cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[insight]))
        == "InvalidInsightSelectorsException"
    )


def test_bare_moto_accepts_any_insight_type(bare: None, world: seeding.World) -> None:
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[{"InsightType": "ApiCallVolumeInsight"}])


@pytest.mark.parametrize(
    ("selectors", "refused"),
    [
        ([dict(DEFAULT, ReadWriteType="ReadOnly")], [CALL_RATE]),  # call rate needs write management events
        ([dict(DEFAULT, IncludeManagementEvents=False, DataResources=[S3_DATA])], [ERROR_RATE]),  # none at all
    ],
)
def test_insights_need_the_management_events_they_analyse(
    layer: None, world: seeding.World, selectors: list[dict[str, Any]], refused: list[dict[str, Any]]
) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=selectors)
    assert (
        code_of(lambda: cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=refused))
        == "InvalidInsightSelectorsException"
    )


def test_error_rate_insights_run_on_read_only_management_events(layer: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[dict(DEFAULT, ReadWriteType="ReadOnly")])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[ERROR_RATE])


def test_advanced_selectors_count_for_insights_by_event_category_and_read_only(
    layer: None, world: seeding.World
) -> None:
    reads_only = [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"FieldSelectors": reads_only}])
    assert (
        code_of(lambda: cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE]))
        == "InvalidInsightSelectorsException"
    )
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[ERROR_RATE])


def test_data_insights_need_data_events(layer: None, world: seeding.World) -> None:
    data_rate = {"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}
    assert (
        code_of(lambda: cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[data_rate]))
        == "InvalidInsightSelectorsException"
    )
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[dict(DEFAULT, DataResources=[S3_DATA])])
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[data_rate])


def test_management_events_cannot_go_while_insights_need_them(layer: None, world: seeding.World) -> None:
    """The write order the issue prescribes: clear Insights before removing management events."""
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[CALL_RATE])
    data_only = [dict(DEFAULT, IncludeManagementEvents=False, DataResources=[S3_DATA])]
    assert (
        code_of(lambda: cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=data_only))
        == "InvalidEventSelectorsException"
    )
    cloudtrail().put_insight_selectors(TrailName=TRAIL, InsightSelectors=[])
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=data_only)


# --- 4. PutEventSelectors ----------------------------------------------------------------------------

FIELDS = [
    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    {"Field": "eventCategory", "Equals": ["Data"]},
    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::trailkeeper-demo-logs/"]},
]


def test_both_selector_kinds_in_one_call_are_refused(layer: None, world: seeding.World) -> None:
    def both() -> Any:
        return cloudtrail().put_event_selectors(
            TrailName=TRAIL, EventSelectors=[DEFAULT], AdvancedEventSelectors=[{"FieldSelectors": FIELDS}]
        )

    assert code_of(both) == "InvalidParameterCombinationException"


def test_bare_moto_accepts_both_selector_kinds_and_keeps_advanced_under_basic(bare: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"FieldSelectors": FIELDS}])
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[DEFAULT])
    answer = cloudtrail().get_event_selectors(TrailName=TRAIL)
    assert answer["EventSelectors"] and answer["AdvancedEventSelectors"]


def test_one_selector_kind_replaces_the_other(layer: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"FieldSelectors": FIELDS}])
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[DEFAULT])
    answer = cloudtrail().get_event_selectors(TrailName=TRAIL)
    assert answer["EventSelectors"] == [DEFAULT] and "AdvancedEventSelectors" not in answer
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"FieldSelectors": FIELDS}])
    assert "EventSelectors" not in cloudtrail().get_event_selectors(TrailName=TRAIL)


def test_advanced_field_selectors_read_back_sorted_with_all_six_operators(layer: None, world: seeding.World) -> None:
    put = cloudtrail().put_event_selectors(
        TrailName=TRAIL, AdvancedEventSelectors=[{"Name": "log deliveries", "FieldSelectors": FIELDS}]
    )
    [selector] = cloudtrail().get_event_selectors(TrailName=TRAIL)["AdvancedEventSelectors"]
    assert put["AdvancedEventSelectors"] == [selector]
    assert selector["Name"] == "log deliveries"
    assert [f["Field"] for f in selector["FieldSelectors"]] == ["eventCategory", "resources.ARN", "resources.type"]
    assert selector["FieldSelectors"][1] == {
        "Field": "resources.ARN",
        "Equals": [],
        "StartsWith": ["arn:aws:s3:::trailkeeper-demo-logs/"],
        "EndsWith": [],
        "NotEquals": [],
        "NotStartsWith": [],
        "NotEndsWith": [],
    }


def test_bare_moto_keeps_field_selectors_as_sent(bare: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=[{"FieldSelectors": FIELDS}])
    [selector] = cloudtrail().get_event_selectors(TrailName=TRAIL)["AdvancedEventSelectors"]
    assert selector["FieldSelectors"] == FIELDS


def many_values(count: int) -> list[dict[str, Any]]:
    return [{"FieldSelectors": [*FIELDS[:2], {"Field": "resources.ARN", "Equals": [f"v{i}" for i in range(count)]}]}]


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"EventSelectors": [dict(DEFAULT, IncludeManagementEvents=False)]}, id="no-management-no-data"),
        pytest.param({"EventSelectors": [DEFAULT] * 6}, id="six-basic-selectors"),
        pytest.param({"EventSelectors": []}, id="no-basic-selector"),
        pytest.param({"AdvancedEventSelectors": []}, id="no-advanced-selector"),
        pytest.param({"EventSelectors": [dict(DEFAULT, ReadWriteType="read-only")]}, id="read-write-type"),
        pytest.param(
            {"EventSelectors": [dict(DEFAULT, DataResources=[{"Type": "AWS::SNS::Topic", "Values": ["x"]}])]},
            id="data-resource-type",
        ),
        pytest.param(
            {"EventSelectors": [dict(DEFAULT, DataResources=[dict(S3_DATA, Values=[str(i) for i in range(251)])])]},
            id="251-data-resources",
        ),
        pytest.param(
            {"EventSelectors": [dict(DEFAULT, ExcludeManagementEventSources=["s3.amazonaws.com"])]},
            id="excluded-source",
        ),
        pytest.param(
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "readOnly", "StartsWith": ["t"]}]}]},
            id="equals-only-field",
        ),
        pytest.param({"AdvancedEventSelectors": many_values(499)}, id="501-advanced-values"),
    ],
)
def test_selectors_cloudtrail_refuses(layer: None, world: seeding.World, kwargs: dict[str, Any]) -> None:
    assert code_of(lambda: cloudtrail().put_event_selectors(TrailName=TRAIL, **kwargs)) == (
        "InvalidEventSelectorsException"
    )


def test_500_advanced_values_are_allowed(layer: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, AdvancedEventSelectors=many_values(498))


def test_bare_moto_accepts_management_off_without_data_and_six_selectors(bare: None, world: seeding.World) -> None:
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[dict(DEFAULT, IncludeManagementEvents=False)])
    cloudtrail().put_event_selectors(TrailName=TRAIL, EventSelectors=[DEFAULT] * 6)


# --- 5. home region ----------------------------------------------------------------------------------

WRITES: dict[str, Callable[[Any, str], Any]] = {
    "StartLogging": lambda client, trail: client.start_logging(Name=trail),
    "StopLogging": lambda client, trail: client.stop_logging(Name=trail),
    "PutEventSelectors": lambda client, trail: client.put_event_selectors(TrailName=trail, EventSelectors=[DEFAULT]),
    "PutInsightSelectors": lambda client, trail: client.put_insight_selectors(
        TrailName=trail, InsightSelectors=[CALL_RATE]
    ),
    "UpdateTrail": lambda client, trail: client.update_trail(Name=trail, S3KeyPrefix="elsewhere"),
    "DeleteTrail": lambda client, trail: client.delete_trail(Name=trail),
}


@pytest.mark.parametrize("operation", WRITES)
def test_writes_outside_the_home_region_are_refused(layer: None, world: seeding.World, operation: str) -> None:
    everywhere = multi_region_trail()
    for trail in (world.trail_arn, everywhere, "everywhere"):  # by ARN, and a shadow by its name
        assert code_of(WRITES[operation], cloudtrail(OTHER), trail) == "InvalidHomeRegionException", trail
    WRITES[operation](cloudtrail(HOME), world.trail_arn)  # and accepted at home


def test_bare_moto_answers_trail_not_found_or_writes_from_a_shadow_region(bare: None, world: seeding.World) -> None:
    multi_region_trail()
    assert code_of(lambda: cloudtrail(OTHER).start_logging(Name=world.trail_arn)) == "TrailNotFoundException"
    cloudtrail(OTHER).get_trail_status(Name="everywhere")  # a shadow read by name: moto answers
    cloudtrail(OTHER).add_tags(ResourceId=world.trail_arn, TagsList=[{"Key": "team", "Value": "audit"}])


@pytest.mark.parametrize("operation", ["AddTags", "RemoveTags", "ListTags"])
def test_tag_calls_take_an_arn_of_the_calling_region(layer: None, world: seeding.World, operation: str) -> None:
    tags = [{"Key": "team", "Value": "audit"}]
    client = cloudtrail(OTHER)
    calls = {
        "AddTags": lambda: client.add_tags(ResourceId=world.trail_arn, TagsList=tags),
        "RemoveTags": lambda: client.remove_tags(ResourceId=world.trail_arn, TagsList=tags),
        "ListTags": lambda: client.list_tags(ResourceIdList=[world.trail_arn]),
    }
    assert code_of(calls[operation]) == fidelity.TAGS_OUTSIDE_HOME_REGION == "CloudTrailARNInvalidException"


def test_a_shadow_is_read_by_its_arn_from_any_region(layer: None, world: seeding.World) -> None:
    arn = multi_region_trail()
    cloudtrail(HOME).put_insight_selectors(TrailName=arn, InsightSelectors=[CALL_RATE])
    shadow = cloudtrail(OTHER)
    assert shadow.get_trail_status(Name=arn)["IsLogging"] is False
    assert shadow.get_event_selectors(TrailName=arn)["EventSelectors"] == [DEFAULT]
    assert shadow.get_insight_selectors(TrailName=arn)["InsightSelectors"] == [CALL_RATE]
    for read in (
        lambda: shadow.get_trail_status(Name="everywhere"),  # a shadow's name is not enough
        lambda: shadow.get_event_selectors(TrailName="everywhere"),
        lambda: shadow.get_trail_status(Name=world.trail_arn),  # a single-region trail has no shadow
    ):
        assert code_of(read) == "TrailNotFoundException"


# --- 6. logging --------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_layer", [True, False], ids=["layer", "bare"])
def test_a_trail_created_by_the_api_starts_not_logging(aws: None, with_layer: bool) -> None:
    with fidelity.cloudtrail_as_aws() if with_layer else bare_moto():
        seeding.seed()
        assert cloudtrail().get_trail_status(Name=TRAIL)["IsLogging"] is False
        cloudtrail().start_logging(Name=TRAIL)
        assert cloudtrail().get_trail_status(Name=TRAIL)["IsLogging"] is True


# --- 7. tags -----------------------------------------------------------------------------------------


def user_tags(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": str(i)} for i in range(count)]


def test_at_most_50_user_tags_and_cloudformations_own_do_not_count(layer: None, world: seeding.World) -> None:
    seeded = fidelity.seed_cloudformation_tags(world.trail_arn, stack_name="audit", logical_id="AuditTrail")
    client = cloudtrail()
    client.add_tags(ResourceId=world.trail_arn, TagsList=user_tags(50))
    client.add_tags(ResourceId=world.trail_arn, TagsList=user_tags(50))  # overwriting values adds no key
    assert (
        code_of(lambda: client.add_tags(ResourceId=world.trail_arn, TagsList=user_tags(1, "extra")))
        == "TagsLimitExceededException"
    )
    [listed] = client.list_tags(ResourceIdList=[world.trail_arn])["ResourceTagList"]
    assert len(listed["TagsList"]) == 53
    assert [t for t in listed["TagsList"] if t["Key"].startswith("aws:")] == seeded
    assert {t["Key"] for t in seeded} == {
        "aws:cloudformation:stack-name",
        "aws:cloudformation:stack-id",
        "aws:cloudformation:logical-id",
    }


def test_bare_moto_takes_any_number_of_tags(bare: None, world: seeding.World) -> None:
    cloudtrail().add_tags(ResourceId=world.trail_arn, TagsList=user_tags(51))


@pytest.mark.parametrize("key", ["aws:cloudformation:stack-name", "AWS:owner"])
def test_users_cannot_add_or_remove_aws_tags(layer: None, world: seeding.World, key: str) -> None:
    fidelity.seed_cloudformation_tags(world.trail_arn)
    tag = [{"Key": key, "Value": "x"}]
    client = cloudtrail()
    assert code_of(lambda: client.add_tags(ResourceId=world.trail_arn, TagsList=tag)) == "InvalidTagParameterException"
    assert (
        code_of(lambda: client.remove_tags(ResourceId=world.trail_arn, TagsList=tag)) == "InvalidTagParameterException"
    )
    assert (
        code_of(lambda: client.create_trail(Name="tagged", S3BucketName=seeding.BUCKET, TagsList=tag))
        == "InvalidTagParameterException"
    )


def test_tags_of_a_trail_that_does_not_exist(layer: None, world: seeding.World) -> None:
    missing = world.trail_arn.replace(TRAIL, "no-such-trail")
    assert code_of(lambda: cloudtrail().list_tags(ResourceIdList=[missing])) == "ResourceNotFoundException"


# --- 8. KMS keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["alias name", "alias ARN", "key id", "key ARN"])
def test_the_key_is_stored_as_its_arn_whatever_form_was_sent(layer: None, world: seeding.World, form: str) -> None:
    sent = {
        "alias name": seeding.ALIAS,
        "alias ARN": f"arn:aws:kms:{HOME}:{seeding.ACCOUNT}:{seeding.ALIAS}",
        "key id": world.key_id,
        "key ARN": world.key_arn,
    }[form]
    assert cloudtrail().update_trail(Name=TRAIL, KmsKeyId=sent)["KmsKeyId"] == world.key_arn
    assert trail_of()["KmsKeyId"] == world.key_arn
    created = cloudtrail().create_trail(Name="encrypted", S3BucketName=seeding.BUCKET, KmsKeyId=sent)
    assert created["KmsKeyId"] == world.key_arn


def test_bare_moto_stores_the_key_as_sent_and_takes_unknown_keys(bare: None, world: seeding.World) -> None:
    cloudtrail().update_trail(Name=TRAIL, KmsKeyId=seeding.ALIAS)
    assert trail_of()["KmsKeyId"] == seeding.ALIAS
    cloudtrail().update_trail(Name=TRAIL, KmsKeyId="alias/no-such-key")


@pytest.mark.parametrize("key", ["alias/no-such-key", "0d1e2f3a-0000-4000-8000-000000000000"])
def test_an_unknown_key_is_refused(layer: None, world: seeding.World, key: str) -> None:
    assert code_of(lambda: cloudtrail().update_trail(Name=TRAIL, KmsKeyId=key)) == "KmsKeyNotFoundException"
    assert (
        code_of(lambda: cloudtrail().create_trail(Name="encrypted", S3BucketName=seeding.BUCKET, KmsKeyId=key))
        == "KmsKeyNotFoundException"
    )


def test_a_log_group_that_does_not_exist_in_the_trails_region_is_refused(layer: None, world: seeding.World) -> None:
    role = world.role_arn
    missing = world.log_group_arn.replace(seeding.LOG_GROUP, "no-such-group")
    elsewhere = world.log_group_arn.replace(seeding.HOME, "eu-west-1")  # the name exists, in another region
    for group in (missing, elsewhere, missing + ":*"):
        refused = code_of(
            lambda group=group: cloudtrail().update_trail(
                Name=TRAIL, CloudWatchLogsLogGroupArn=group, CloudWatchLogsRoleArn=role
            )
        )
        assert refused == "InvalidCloudWatchLogsLogGroupArnException", group
    assert not trail_of().get("CloudWatchLogsLogGroupArn")
    assert (
        code_of(
            lambda: cloudtrail().create_trail(
                Name="logged",
                S3BucketName=seeding.BUCKET,
                CloudWatchLogsLogGroupArn=missing,
                CloudWatchLogsRoleArn=role,
            )
        )
        == "InvalidCloudWatchLogsLogGroupArnException"
    )
    cloudtrail().update_trail(
        Name=TRAIL, CloudWatchLogsLogGroupArn=world.log_group_arn + ":*", CloudWatchLogsRoleArn=role
    )
    assert trail_of()["CloudWatchLogsLogGroupArn"].removesuffix(":*") == world.log_group_arn


# --- the rest of the trail and the layer itself ------------------------------------------------------


def test_get_trail_answers_the_home_region_and_delete_knows_unknown_trails(layer: None, world: seeding.World) -> None:
    assert cloudtrail().get_trail(Name=TRAIL)["Trail"]["HomeRegion"] == HOME
    assert code_of(lambda: cloudtrail().delete_trail(Name="no-such-trail")) == "TrailNotFoundException"
    cloudtrail().delete_trail(Name=TRAIL)
    assert cloudtrail().describe_trails()["trailList"] == []


def test_update_trail_cannot_leave_a_multi_region_trail_without_global_events(
    layer: None, world: seeding.World
) -> None:
    multi_region_trail()
    assert (
        code_of(lambda: cloudtrail().update_trail(Name="everywhere", IncludeGlobalServiceEvents=False))
        == "InvalidParameterCombinationException"
    )
    cloudtrail().update_trail(Name="everywhere", IsMultiRegionTrail=False, IncludeGlobalServiceEvents=False)


def test_bare_moto_lets_update_trail_drop_global_events_of_a_multi_region_trail(
    bare: None, world: seeding.World
) -> None:
    multi_region_trail()
    cloudtrail().update_trail(Name="everywhere", IncludeGlobalServiceEvents=False)


def test_recursive_logging_is_read_back_as_cloudtrail_does(layer: None, world: seeding.World) -> None:
    """Issue 15 item 15: botocore's Trail shape reads RecursiveLogging back (default true), so the layer models
    it rather than leaving it out of what is compared."""
    import botocore.session

    assert (
        "RecursiveLogging" in botocore.session.get_session().get_service_model("cloudtrail").shape_for("Trail").members
    )
    assert cloudtrail().describe_trails()["trailList"][0]["RecursiveLogging"] is True  # never set: the default
    answer = cloudtrail().update_trail(Name=TRAIL, RecursiveLogging=False)
    assert answer["RecursiveLogging"] is False
    assert cloudtrail().get_trail(Name=TRAIL)["Trail"]["RecursiveLogging"] is False
    cloudtrail().update_trail(Name=TRAIL, S3KeyPrefix="other")  # an update without it keeps it
    assert cloudtrail().describe_trails()["trailList"][0]["RecursiveLogging"] is False
    created = cloudtrail().create_trail(Name="quiet", S3BucketName=seeding.BUCKET, RecursiveLogging=False)
    assert created["RecursiveLogging"] is False


def test_bare_moto_ignores_recursive_logging(bare: None, world: seeding.World) -> None:
    cloudtrail().update_trail(Name=TRAIL, RecursiveLogging=False)
    assert "RecursiveLogging" not in cloudtrail().get_trail(Name=TRAIL)["Trail"]


def test_install_and_uninstall_are_idempotent_and_a_with_block_leaves_an_install_in_force(bare: None) -> None:
    assert not fidelity.installed()
    fidelity.install()
    fidelity.install()
    with fidelity.cloudtrail_as_aws():
        assert fidelity.installed()
    assert fidelity.installed()
    fidelity.uninstall()
    fidelity.uninstall()
    assert not fidelity.installed()
    with fidelity.cloudtrail_as_aws():
        assert fidelity.installed()
    assert not fidelity.installed()


def test_the_layer_holds_for_moto_server_in_this_process_and_reset_forgets(layer: None) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        world = seeding.seed(endpoint)
        client = boto3.client("cloudtrail", region_name=HOME, endpoint_url=endpoint)
        assert client.get_event_selectors(TrailName=TRAIL)["EventSelectors"] == [DEFAULT]
        elsewhere = boto3.client("cloudtrail", region_name=OTHER, endpoint_url=endpoint)
        assert code_of(lambda: elsewhere.stop_logging(Name=world.trail_arn)) == "InvalidHomeRegionException"
        fidelity.reset()
        assert client.describe_trails()["trailList"] == []
    finally:
        fidelity.reset()
        server.stop()


# --- the process: moto's in-process calls one at a time ----------------------------------------------


def test_in_process_calls_are_served_one_at_a_time(layer: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fleet reads regions in parallel threads; in-process moto would let two calls change one backend
    # dictionary at once. The first call waits (up to 1 s) for a second to start beside it: none may.
    assert BotocoreStubber.process_request is fidelity._serial_process_request
    active, most, count = 0, 0, threading.Lock()
    second = threading.Event()

    def slow(stubber: Any, request: Any) -> None:
        nonlocal active, most
        with count:
            active += 1
            most = max(most, active)
        if active > 1:
            second.set()
        second.wait(1)
        with count:
            active -= 1

    monkeypatch.setitem(fidelity._ORIGINAL, "serial_requests", slow)
    threads = [threading.Thread(target=fidelity._serial_process_request, args=(object(), None)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 1
