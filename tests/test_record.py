"""The model of what a trail records and how its record is protected (trail/record.py, trail/events.py), and
the guard it makes.

Pure: no AWS. Issue 15's items are named in the tests: 1 (organization trails), 2 (SNS, data events,
Insights categories, booleans botocore adds), 3 (a read-back the code does not understand counts as
present), the moves of audit logs, and the API the audit (issue 17) will judge controls on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from trailkeeper import botocore_model as model
from trailkeeper.trail import control_names as controls
from trailkeeper.trail import declaration, guard, record, selectors, settings
from trailkeeper.trail.control_names import READ, WRITE
from trailkeeper.trail.events import S3_OBJECT, Events
from trailkeeper.trail.insights import INSIGHTS_ASPECT
from trailkeeper.trail.insights import from_read as insights_read
from trailkeeper.trail.record import Record
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.selectors import ADVANCED, BASIC, Selectors

TOPIC = "arn:aws:sns:us-east-1:123456789012:deliveries"
KEY_A = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
KEY_B = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
GROUP_A = "arn:aws:logs:us-east-1:123456789012:log-group:a"
GROUP_B = "arn:aws:logs:us-east-1:123456789012:log-group:b"
MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}
DATA = {"Field": "eventCategory", "Equals": ["Data"]}
S3_TYPE = {"Field": "resources.type", "Equals": [S3_OBJECT]}


def declared(props: dict[str, Any]) -> Selectors:
    value, problems = selectors.parse(props)
    assert value is not None, problems
    return value


def advanced(*selectors_: list[dict[str, Any]]) -> dict[str, Any]:
    return {ADVANCED: [{"FieldSelectors": fields} for fields in selectors_]}


def read_back(*selectors_: list[dict[str, Any]], names: tuple[str, ...] = ()) -> Selectors:
    """Advanced selectors as GetEventSelectors could answer them, whatever the declaration rules allow: one per
    list of conditions, named in order when `names` is given."""
    answer = [
        {"FieldSelectors": fields, **({"Name": names[i]} if names else {})} for i, fields in enumerate(selectors_)
    ]
    return selectors.from_read({ADVANCED: answer})


def lost(current: Selectors, desired: Selectors) -> list[str]:
    return [w.change for w in SELECTORS_ASPECT.weakenings(desired, current)]


# --- item 1: an organization trail cannot be switched off without consent ----------------------------


def test_item_1_an_organization_trail_turned_into_an_account_trail_weakens_audit() -> None:
    (found,) = guard.setting_weakenings({"IsOrganizationTrail": False}, {"IsOrganizationTrail": True})
    assert found.describe() == (
        "IsOrganizationTrail true -> false breaks Security Hub CloudTrail.1, CIS 4.1 in every member account"
    )
    assert guard.setting_weakenings({"IsOrganizationTrail": True}, {"IsOrganizationTrail": False}) == []
    assert guard.setting_weakenings({"IsOrganizationTrail": False}, {"IsOrganizationTrail": False}) == []


def test_item_1_allow_weakening_may_name_is_organization_trail() -> None:
    parsed = declaration.parse({"Name": "audit", "AllowWeakening": ["IsOrganizationTrail"]})
    assert parsed.allow_weakening == frozenset({"IsOrganizationTrail"})
    (found,) = guard.setting_weakenings({"IsOrganizationTrail": False}, {"IsOrganizationTrail": True})
    assert guard.refused([found], parsed.allow_weakening) == []


# --- item 2: the other reductions ---------------------------------------------------------------------


def test_item_2_removing_the_sns_topic_weakens_audit_and_another_topic_does_not() -> None:
    (found,) = guard.setting_weakenings({"SnsTopicName": ""}, {"SnsTopicName": TOPIC})
    assert (found.property, found.change) == ("SnsTopicName", f"{TOPIC} -> removed")
    assert "no longer hear of new log files" in found.control
    other = TOPIC.replace("deliveries", "other")
    assert guard.setting_weakenings({"SnsTopicName": other}, {"SnsTopicName": TOPIC}) == []
    assert "SnsTopicName" in guard.weakenable()


S3_ALL = {"Type": S3_OBJECT, "Values": ["arn:aws:s3"]}
S3_ONE = {"Type": S3_OBJECT, "Values": ["arn:aws:s3:::logs/"]}
LAMBDA_ALL = {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        # removed
        (
            {BASIC: [{"DataResources": [S3_ALL]}]},
            {BASIC: []},
            [
                "stops logging read data events of AWS::S3::Object: every resource",
                "stops logging write data events of AWS::S3::Object: every resource",
            ],
        ),
        # narrowed by type
        (
            {BASIC: [{"DataResources": [S3_ALL, LAMBDA_ALL]}]},
            {BASIC: [{"DataResources": [S3_ALL]}]},
            [
                "stops logging read data events of AWS::Lambda::Function: every resource",
                "stops logging write data events of AWS::Lambda::Function: every resource",
            ],
        ),
        # narrowed by resource
        (
            {BASIC: [{"DataResources": [S3_ALL]}]},
            {BASIC: [{"DataResources": [S3_ONE]}]},
            [
                "stops logging read data events of AWS::S3::Object: every resource",
                "stops logging write data events of AWS::S3::Object: every resource",
            ],
        ),
        (
            {BASIC: [{"DataResources": [{"Type": S3_OBJECT, "Values": ["arn:aws:s3:::logs/", "arn:aws:s3:::x/"]}]}]},
            {BASIC: [{"DataResources": [S3_ONE]}]},
            [
                "stops logging read data events of AWS::S3::Object: arn:aws:s3:::x/*",
                "stops logging write data events of AWS::S3::Object: arn:aws:s3:::x/*",
            ],
        ),
        # narrowed by read/write
        (
            {BASIC: [{"DataResources": [S3_ALL]}]},
            {BASIC: [{"ReadWriteType": "WriteOnly", "DataResources": [S3_ALL]}, {"ReadWriteType": "ReadOnly"}]},
            ["stops logging read data events of AWS::S3::Object: every resource"],
        ),
        (
            advanced([DATA, S3_TYPE]),
            advanced([DATA, S3_TYPE, {"Field": "readOnly", "Equals": ["true"]}]),
            ["stops logging write data events of AWS::S3::Object: every resource"],
        ),
        # widened, or the same events by another kind of selector: nothing lost
        ({BASIC: [{"DataResources": [S3_ONE]}]}, {BASIC: [{"DataResources": [S3_ALL]}]}, []),
        ({BASIC: [{"IncludeManagementEvents": False, "DataResources": [S3_ALL]}]}, advanced([DATA, S3_TYPE]), []),
        (
            {BASIC: [{"IncludeManagementEvents": False, "DataResources": [S3_ALL]}]},
            advanced([DATA, S3_TYPE, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]}]),
            [],
        ),
        (
            {BASIC: [{"IncludeManagementEvents": False, "DataResources": [S3_ONE]}]},
            advanced([DATA, S3_TYPE, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::logs/"]}]),
            [],
        ),
    ],
)
def test_item_2_data_events_removed_or_narrowed_weaken_audit(
    current: dict[str, Any], desired: dict[str, Any], expected: list[str]
) -> None:
    assert lost(declared(current), declared(desired)) == expected


def test_item_2_s3_data_events_name_the_cis_controls_and_other_types_say_what_goes_unlogged() -> None:
    found = SELECTORS_ASPECT.weakenings(declared({BASIC: []}), declared({BASIC: [{"DataResources": [S3_ALL]}]}))
    assert [w.control for w in found] == [
        "CIS 4.9 (S3 object-level read events)",
        "CIS 4.8 (S3 object-level write events)",
    ]
    assert {w.property for w in found} == {BASIC}
    (change,) = SELECTORS_ASPECT.changes(declared({BASIC: []}), declared({BASIC: [{"DataResources": [S3_ALL]}]}))
    assert change.weakens == "CIS 4.9 (S3 object-level read events); CIS 4.8 (S3 object-level write events)"
    other = SELECTORS_ASPECT.weakenings(declared({BASIC: []}), declared({BASIC: [{"DataResources": [LAMBDA_ALL]}]}))
    assert {w.control for w in other} == {controls.CONTROL_DATA}


def test_item_2_an_insights_category_dropped_weakens_audit_not_only_a_whole_type() -> None:
    with_data = insights_read([{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Data"]}])
    management_only = insights_read([{"InsightType": "ApiCallRateInsight"}])
    (found,) = INSIGHTS_ASPECT.weakenings(management_only, with_data)
    assert found.describe() == (
        "InsightSelectors ApiCallRateInsight stops watching Data events breaks CloudTrail Insights "
        "(unusual call and error rates go unseen)"
    )
    assert INSIGHTS_ASPECT.weakenings(with_data, management_only) == []
    (change,) = INSIGHTS_ASPECT.changes(management_only, with_data)
    assert change.weakens == controls.CONTROL_INSIGHTS


@pytest.fixture
def newer_botocore(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UpdateTrail gains a boolean the code has never heard of, readable like RecursiveLogging is."""
    parameters = {**model.update_trail_parameters(), "FutureCoverage": "boolean"}
    fields = model.trail_fields() | {"FutureCoverage"}
    monkeypatch.setattr(model, "update_trail_parameters", lambda: parameters)
    monkeypatch.setattr(model, "trail_fields", lambda: fields)
    settings.table.cache_clear()
    yield
    settings.table.cache_clear()


def test_item_2_recursive_logging_true_to_false_weakens_audit() -> None:
    (found,) = guard.setting_weakenings({"RecursiveLogging": False}, {"RecursiveLogging": True})
    assert found.describe() == (
        "RecursiveLogging true -> false breaks what the trail records "
        "(log the events CloudTrail itself causes when it delivers logs)"
    )
    assert guard.setting_weakenings({"RecursiveLogging": True}, {"RecursiveLogging": False}) == []
    assert "RecursiveLogging" in guard.weakenable()


def test_item_2_a_boolean_botocore_adds_later_is_guarded_without_a_code_change(newer_botocore: None) -> None:
    assert "FutureCoverage" in record.switches()
    assert "FutureCoverage" in guard.weakenable()
    (found,) = guard.setting_weakenings({"FutureCoverage": False}, {"FutureCoverage": True})
    assert (found.property, found.change) == ("FutureCoverage", "true -> false")
    assert "botocore's model" in found.control
    assert declaration.parse({"Name": "audit", "AllowWeakening": ["FutureCoverage"]}).allow_weakening == {
        "FutureCoverage"
    }
    # CloudTrail not saying counts as on (item 3's rule): false is a weakening there too.
    (unknown,) = guard.setting_weakenings({"FutureCoverage": False}, {})
    assert unknown.change == "(not read back) -> false"


def test_item_2_a_table_can_say_a_boolean_does_not_weaken(
    newer_botocore: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "NEUTRAL_SWITCHES", {"FutureCoverage": "a display preference"})
    assert "FutureCoverage" not in guard.weakenable()
    assert guard.setting_weakenings({"FutureCoverage": False}, {"FutureCoverage": True}) == []


def test_the_known_booleans_have_their_own_meaning_and_every_boolean_of_botocore_is_covered() -> None:
    booleans = {name for name, kind in model.update_trail_parameters().items() if kind == "boolean"}
    assert booleans <= guard.weakenable()
    assert set(record.switches()) == {"RecursiveLogging"}  # the rest are dimensions of the model


# --- item 3: what is read back and not understood counts as present ------------------------------------


def test_item_3_an_unknown_insights_category_read_back_is_kept_not_taken_as_none() -> None:
    answer = {"InsightSelectors": [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management", "Future"]}]}
    current = INSIGHTS_ASPECT.current(answer, None)
    assert current == frozenset({("ApiCallRateInsight", frozenset({"Future"}))})
    desired, _ = INSIGHTS_ASPECT.parse({"InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]})
    (found,) = INSIGHTS_ASPECT.weakenings(desired, current)
    assert found.change == "ApiCallRateInsight stops watching Future events"
    assert guard.refused([found], False) == [found]


def test_item_3_an_unknown_insights_type_read_back_is_kept() -> None:
    current = INSIGHTS_ASPECT.current({"InsightSelectors": [{"InsightType": "ApiFutureInsight"}]}, None)
    (found,) = INSIGHTS_ASPECT.weakenings(frozenset(), current)
    assert found.change == "ApiFutureInsight removed"


def test_item_3_insight_not_enabled_still_means_none() -> None:
    assert INSIGHTS_ASPECT.current(None, "InsightNotEnabledException") == frozenset()


NARROWED = [MANAGEMENT, {"Field": "eventName", "Equals": ["ConsoleLogin"]}]


def test_item_3_a_selector_read_back_that_cannot_be_read_exactly_counts_as_present() -> None:
    current = read_back(NARROWED, names=("logins",))
    # Dropped for a selector that records less: a weakening, named by the selector.
    assert lost(current, declared({BASIC: [{"IncludeManagementEvents": False, "DataResources": [S3_ALL]}]})) == [
        "drops the selector 'logins'"
    ]
    # Kept as it is, or replaced by selectors recording all it could (every management event): nothing lost.
    assert lost(current, current) == []
    assert lost(current, declared({BASIC: []})) == []
    # Replaced by write management events only: it could have logged reads too.
    assert lost(current, declared({BASIC: [{"ReadWriteType": "WriteOnly"}]})) == ["drops the selector 'logins'"]


def test_item_3_a_selector_of_another_category_read_back_is_kept_unless_kept_as_it_is() -> None:
    network = [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}, {"Field": "eventSource", "Equals": ["s3"]}]
    current = read_back([MANAGEMENT], network)
    assert lost(current, declared(advanced([MANAGEMENT]))) == [
        "drops the selector [eventCategory Equals NetworkActivity; eventSource Equals s3]"
    ]
    assert lost(current, current) == []


def test_item_3_an_operator_this_code_does_not_know_is_kept_and_counts_as_present() -> None:
    answer = [DATA, S3_TYPE, {"Field": "resources.ARN", "Equals": [], "MatchesGlob": ["arn:aws:s3:::logs/*"]}]
    current = read_back(answer)
    (field,) = [f for s in current.advanced for f in s.fields if f.field == "resources.ARN"]
    assert field.values("MatchesGlob") == {"arn:aws:s3:::logs/*"}
    assert "MatchesGlob" in json.dumps(selectors.to_doc(current))  # the plan shows what was read
    assert lost(current, current) == []
    assert lost(current, declared({BASIC: []})) == [
        "drops the selector [eventCategory Equals Data; resources.ARN MatchesGlob arn:aws:s3:::logs/*; "
        "resources.type Equals AWS::S3::Object]"
    ]
    assert lost(current, declared(advanced([DATA, S3_TYPE]))) == []  # every S3 object: covers what it could


def test_item_3_a_basic_read_write_type_this_code_does_not_know_counts_as_present() -> None:
    current = selectors.from_read({BASIC: [{"ReadWriteType": "Future", "IncludeManagementEvents": True}]})
    assert lost(current, current) == []
    assert lost(current, declared({BASIC: []})) == []  # all management events, both kinds: covers it
    assert lost(current, declared({BASIC: [{"ReadWriteType": "ReadOnly"}]})) == [
        'drops the selector {"ReadWriteType":"Future"}'
    ]


def test_item_3_a_narrowing_declared_proves_nothing() -> None:
    # The current trail logs every write management event; a declared eventName narrowing does not.
    writes = declared({BASIC: [{"ReadWriteType": "WriteOnly"}]})
    narrowed = read_back(
        [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}, {"Field": "eventName", "Equals": ["X"]}]
    )
    assert lost(writes, narrowed) == ["stops logging write management events"]


# --- moves: where logs go -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "current", "desired", "moves", "weakens"),
    [
        ("S3BucketName", "old-logs", "new-logs", True, False),
        ("S3KeyPrefix", "", "trails", True, False),
        ("S3KeyPrefix", "trails", "", True, False),
        ("KmsKeyId", KEY_A, KEY_B, True, False),
        ("KmsKeyId", KEY_A, "", False, True),
        ("KmsKeyId", "", KEY_A, False, False),
        ("CloudWatchLogsLogGroupArn", GROUP_A, GROUP_B, True, False),
        ("CloudWatchLogsLogGroupArn", GROUP_A, "", False, True),
        ("S3BucketName", "same", "same", False, False),
    ],
)
def test_moving_where_logs_go_is_not_a_weakening_but_is_named(
    name: str, current: str, desired: str, moves: bool, weakens: bool
) -> None:
    assert (name in guard.setting_moves({name: desired}, {name: current})) is moves
    assert bool(guard.setting_weakenings({name: desired}, {name: current})) is weakens


# --- the API the audit will judge controls on --------------------------------------------------------------


def test_management_events_are_judged_by_what_is_recorded_not_by_names() -> None:
    default_equivalent = Events.of(declared(advanced([MANAGEMENT])))
    assert default_equivalent.records_management()
    assert Events.of(read_back([MANAGEMENT], names=("anything at all",))).records_management()
    write_only = Events.of(declared(advanced([MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}])))
    assert not write_only.records_management() and write_only.records_management([WRITE])
    no_kms = Events.of(declared({BASIC: [{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}))
    assert not no_kms.records_management() and no_kms.records_management(exclusions=True)
    assert not Events.of(read_back(NARROWED)).records_management()  # a narrowing proves nothing


@pytest.mark.parametrize(
    ("declared_selectors", "writes", "reads"),
    [
        ({BASIC: [{"DataResources": [S3_ALL]}]}, True, True),
        ({BASIC: [{"DataResources": [{"Type": S3_OBJECT, "Values": ["arn:aws:s3:::"]}]}]}, True, True),
        ({BASIC: [{"ReadWriteType": "WriteOnly", "DataResources": [S3_ALL]}]}, True, False),
        ({BASIC: [{"DataResources": [S3_ONE]}]}, False, False),
        (advanced([DATA, S3_TYPE]), True, True),
        (advanced([DATA, S3_TYPE, {"Field": "readOnly", "Equals": ["false"]}]), True, False),
        (advanced([DATA, S3_TYPE, {"Field": "readOnly", "Equals": ["true"]}]), False, True),
        (advanced([DATA, S3_TYPE, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::logs/"]}]), False, False),
        (advanced([DATA, S3_TYPE, {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]}]), True, True),
        (
            advanced(
                [
                    DATA,
                    {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]},
                ]
            ),
            False,
            False,
        ),
        ({BASIC: []}, False, False),
    ],
)
def test_s3_object_data_events_for_all_buckets_by_basic_or_advanced_selectors(
    declared_selectors: dict[str, Any], writes: bool, reads: bool
) -> None:
    events = Events.of(declared(declared_selectors))
    assert (events.records_data(S3_OBJECT, WRITE), events.records_data(S3_OBJECT, READ)) == (writes, reads)


def test_a_record_says_what_the_trail_protects() -> None:
    trail = Record.of(
        {
            "IsMultiRegionTrail": True,
            "IsOrganizationTrail": False,
            "EnableLogFileValidation": True,
            "KmsKeyId": KEY_A,
            "CloudWatchLogsLogGroupArn": "",
            "SnsTopicName": TOPIC,
        },
        logging=True,
        events=declared({BASIC: [{"DataResources": [S3_ALL]}]}),
        insights=frozenset(),
    )
    assert (trail.multi_region, trail.organization, trail.validation, trail.encrypted) == (True, False, True, True)
    assert (trail.log_group, trail.topic, trail.logging) == ("", TOPIC, True)
    assert Record.of().multi_region is None and Record.of().events is None  # not known: not judged
    weak = Record.of(
        {
            "IsMultiRegionTrail": False,
            "IsOrganizationTrail": False,
            "EnableLogFileValidation": False,
            "KmsKeyId": "",
            "CloudWatchLogsLogGroupArn": "",
            "SnsTopicName": "",
        },
        logging=False,
        events=declared({BASIC: [{"IncludeManagementEvents": False, "DataResources": [S3_ONE]}]}),
        insights=frozenset(),
    )
    found = [(w.property, w.change) for w in record.weakenings(trail, weak)]
    assert found == [
        ("IsLogging", "true -> false"),
        ("IsMultiRegionTrail", "true -> false"),
        (BASIC, "stops logging read management events"),
        (BASIC, "stops logging write management events"),
        (BASIC, "stops logging read data events of AWS::S3::Object: every resource"),
        (BASIC, "stops logging write data events of AWS::S3::Object: every resource"),
        ("EnableLogFileValidation", "true -> false"),
        ("KmsKeyId", f"{KEY_A} -> removed"),
        ("SnsTopicName", f"{TOPIC} -> removed"),
    ]
    assert record.weakenings(weak, trail) == []


def test_a_record_is_read_from_describe_trails_with_cloudtrails_defaults() -> None:
    trail = {
        "Name": "org",
        "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org",
        "S3BucketName": "logs",
        "IsOrganizationTrail": True,
        "IsMultiRegionTrail": True,
        "LogFileValidationEnabled": True,
        "KmsKeyId": KEY_A,
        "CloudWatchLogsLogGroupArn": GROUP_A + ":*",
    }
    found = Record.from_trail(trail, logging=True)
    assert (found.organization, found.multi_region, found.global_events) == (True, True, True)  # global: default
    assert (found.validation, found.encrypted, found.log_group, found.topic) == (True, True, GROUP_A, "")
    assert found.settings["RecursiveLogging"] is True  # absent from the read: CloudTrail's default
    weaker = Record.from_trail({**trail, "IsOrganizationTrail": False, "RecursiveLogging": False}, logging=True)
    assert [w.property for w in record.weakenings(found, weaker)] == ["IsOrganizationTrail", "RecursiveLogging"]


def test_the_insights_a_declaration_may_name_are_botocores_enums() -> None:
    from trailkeeper.trail import insights

    shape = model.cloudtrail_model().shape_for("InsightSelector")
    assert insights.known_types() == tuple(shape.members["InsightType"].enum)
    assert insights.known_categories() == tuple(shape.members["EventCategories"].member.enum)


def test_the_guard_names_each_control_as_the_audit_judges_it() -> None:
    # One numbering: a weakening cites the ids the audit's control table gives (FSBP, CIS v6.0).
    from trailkeeper.audit import controls as compliance
    from trailkeeper.trail import control_names as controls

    def cited(key: str) -> str:
        control = compliance.BY_KEY[key]
        fsbp, cis = control.id_in("fsbp"), control.id_in("cis-6.0")
        return ", ".join([*([f"Security Hub {fsbp}"] if fsbp else []), *([f"CIS {cis}"] if cis else [])])

    assert cited("multi-region") == controls.CONTROL_RECORDING
    assert cited("multi-region") + " in every member account" == controls.CONTROL_ORGANIZATION
    assert cited("validation") == controls.CONTROL_VALIDATION
    assert cited("encryption") == controls.CONTROL_KMS
    assert cited("cloudwatch-logs") == controls.CONTROL_LOG_GROUP
    assert controls.CONTROL_S3_DATA[controls.WRITE].startswith(cited("s3-write-events") + " ")
    assert controls.CONTROL_S3_DATA[controls.READ].startswith(cited("s3-read-events") + " ")


def test_a_removal_from_a_value_never_read_back_still_weakens_and_says_it_was_not_read() -> None:
    # A trail whose topic CloudTrail did not say (None) is taken to have one: what is not known counts as there.
    (found,) = record.weakenings(Record.of({"SnsTopicName": None}), Record.of({"SnsTopicName": ""}))
    assert (found.property, found.change) == ("SnsTopicName", "(not read back) -> removed")


def test_events_known_on_one_side_only_weigh_nothing_either_way() -> None:
    # Without the selectors on both sides there is nothing to compare: not a loss, and not an error.
    read = selectors.from_read({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]})
    assert record.weakenings(Record.of(), Record.of(events=read)) == []
    assert record.weakenings(Record.of(events=read), Record.of()) == []
