"""Event selectors: every validation rule, the normalisation against CloudTrail's real read-backs, the guard.

Pure tests: no AWS. `cloudtrail_read_back` below plays GetEventSelectors as real CloudTrail answers it
(moto does not: it keeps field selectors in the order sent and omits unused operators), so the round trips
hold the module to CloudTrail's behaviour, not moto's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailkeeper.trail import record, selectors
from trailkeeper.trail.events import Coverage, describe, management_coverage
from trailkeeper.trail.selectors import (
    ADVANCED,
    BASIC,
    DEFAULT,
    Selectors,
    from_read,
    parse,
    to_doc,
    to_wire,
)

S3 = "AWS::S3::Object"


def weakenings(current: Selectors, desired: Selectors) -> list[str]:
    """What `desired` stops logging that `current` logs, in words, as the model (trail/record.py) says."""
    return [w.change for w in record.weakenings(record.Record.of(events=current), record.Record.of(events=desired))]


PUT_INPUT = (
    botocore.session.get_session().get_service_model("cloudtrail").operation_model("PutEventSelectors").input_shape
)
VALIDATOR = ParamValidator()


def cloudtrail_read_back(wire: Mapping[str, Any], shuffle: random.Random | None = None) -> dict[str, Any]:
    """GetEventSelectors after PutEventSelectors(**wire), as real CloudTrail answers it.

    Basic selectors come back with all four keys; advanced field selectors sorted by Field with all six
    operators present, unused ones []. Every list may come back in another order (`shuffle`).
    """
    rng = shuffle or random.Random(0)

    def mixed(items: list[Any]) -> list[Any]:
        items = list(items)
        if shuffle:
            rng.shuffle(items)
        return items

    answer: dict[str, Any] = {"TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"}
    if BASIC in wire:
        answer[BASIC] = mixed(
            [
                {
                    "ReadWriteType": s.get("ReadWriteType", "All"),
                    "IncludeManagementEvents": s.get("IncludeManagementEvents", True),
                    "DataResources": mixed(
                        [{"Type": d["Type"], "Values": mixed(d["Values"])} for d in s.get("DataResources", [])]
                    ),
                    "ExcludeManagementEventSources": mixed(s.get("ExcludeManagementEventSources", [])),
                }
                for s in wire[BASIC]
            ]
        )
    else:
        answer[ADVANCED] = mixed(
            [
                {
                    **({"Name": s["Name"]} if "Name" in s else {}),
                    "FieldSelectors": [
                        {"Field": f["Field"], **{op: mixed(f.get(op, [])) for op in selectors.OPERATORS}}
                        for f in sorted(s["FieldSelectors"], key=lambda f: f["Field"])
                    ],
                }
                for s in wire[ADVANCED]
            ]
        )
    return answer


def ok(props: Mapping[str, object]) -> selectors.Selectors:
    value, problems = parse(props)
    assert problems == []
    assert value is not None
    return value


def problems_of(props: Mapping[str, object]) -> list[str]:
    value, problems = parse(props)
    assert value is None
    return problems


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


def advanced(*fields: Mapping[str, object], name: str | None = None) -> dict[str, object]:
    return {ADVANCED: [{**({"Name": name} if name is not None else {}), "FieldSelectors": list(fields)}]}


# --- the model and the schema: constants held to their sources -----------------------------------------


@pytest.fixture(scope="module")
def model() -> Any:
    return botocore.session.get_session().get_service_model("cloudtrail")


def test_basic_shape_matches_botocore(model: Any) -> None:
    shape = model.shape_for("EventSelector")
    assert set(shape.members) == set(selectors.BASIC_KEYS)
    assert set(shape.members["ReadWriteType"].enum) == set(selectors.READ_WRITE_TYPES)
    assert set(model.shape_for("DataResource").members) == set(selectors.DATA_KEYS)
    assert set(model.shape_for("ExcludeManagementEventSources").member.name for _ in [0]) == {"String"}


def test_advanced_shape_matches_botocore(model: Any) -> None:
    advanced_shape = model.shape_for("AdvancedEventSelector")
    assert set(advanced_shape.members) == set(selectors.ADVANCED_KEYS)
    assert advanced_shape.required_members == ["FieldSelectors"]
    assert advanced_shape.members["Name"].metadata["max"] == selectors.NAME_MAX
    field_shape = model.shape_for("AdvancedFieldSelector")
    assert list(field_shape.members) == ["Field", *selectors.OPERATORS]
    assert field_shape.members["Field"].metadata["max"] == selectors.FIELD_MAX
    assert field_shape.members["Field"].metadata["pattern"] == selectors.FIELD_PATTERN.pattern
    assert model.shape_for("OperatorValue").metadata["max"] == selectors.VALUE_MAX
    put = model.operation_model("PutEventSelectors")
    assert set(put.input_shape.members) == {"TrailName", BASIC, ADVANCED}
    assert set(model.operation_model("GetEventSelectors").output_shape.members) >= {BASIC, ADVANCED}
    documentation = put.documentation
    assert "up to five event selectors" in documentation and "500 values" in documentation


def test_shapes_match_the_native_resource_schema() -> None:
    schemas = Path(__import__("cfnlint").__file__).parent / "data" / "schemas" / "resources"
    schema = next(
        json.loads(p.read_text())
        for p in schemas.glob("*.json")
        if '"typeName": "AWS::CloudTrail::Trail"' in p.read_text()
    )
    definitions = schema["definitions"]
    assert set(definitions["EventSelector"]["properties"]) == set(selectors.BASIC_KEYS)
    assert set(definitions["DataResource"]["properties"]) == set(selectors.DATA_KEYS)
    assert set(definitions["AdvancedEventSelector"]["properties"]) == set(selectors.ADVANCED_KEYS)
    assert set(definitions["AdvancedFieldSelector"]["properties"]) == set(selectors.FIELD_KEYS)
    assert schema["properties"][BASIC]["maxItems"] == selectors.MAX_BASIC_SELECTORS
    # The schema's type enum is wider than what basic selectors accept; the rest is advanced-only.
    assert set(definitions["DataResource"]["properties"]["Type"]["enum"]) == set(selectors.BASIC_DATA_SERVICES) | set(
        selectors.ADVANCED_ONLY_DATA_TYPES
    )


# --- parse: what is accepted, and how it normalises ------------------------------------------------------


def test_nothing_declared_is_not_managed() -> None:
    assert parse({"Name": "audit", "IsLogging": "true"}) == (None, [])


@pytest.mark.parametrize(
    "declared",
    [
        [],
        [{}],
        [{"ReadWriteType": "All", "IncludeManagementEvents": "true"}],
        [{"IncludeManagementEvents": "TRUE", "DataResources": [], "ExcludeManagementEventSources": []}],
        [{"IncludeManagementEvents": True}, {"ReadWriteType": "All"}],
    ],
)
def test_declarations_of_the_default(declared: object) -> None:
    assert ok({BASIC: declared}) == DEFAULT


def test_cloudformation_strings_become_booleans_any_case() -> None:
    declared = {
        BASIC: [{"IncludeManagementEvents": " False ", "DataResources": [{"Type": S3, "Values": ["arn:aws:s3"]}]}]
    }
    (selector,) = ok(declared).basic
    assert selector.management is False


def test_values_and_exclusions_are_sets_and_types_merge() -> None:
    one = ok(
        {
            BASIC: [
                {
                    "ExcludeManagementEventSources": ["rdsdata.amazonaws.com", "kms.amazonaws.com"],
                    "DataResources": [
                        {"Type": S3, "Values": ["arn:aws:s3:::b/", "arn:aws:s3:::a/"]},
                        {"Type": S3, "Values": ["arn:aws:s3:::c/", "arn:aws:s3:::a/"]},
                    ],
                }
            ]
        }
    )
    other = ok(
        {
            BASIC: [
                {
                    "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
                    "DataResources": [
                        {"Type": S3, "Values": ["arn:aws:s3:::c/", "arn:aws:s3:::b/", "arn:aws:s3:::a/"]}
                    ],
                }
            ]
        }
    )
    assert one == other


def test_exclusions_mean_nothing_without_management_events() -> None:
    data = [{"Type": S3, "Values": ["arn:aws:s3"]}]
    with_exclusion = ok(
        {
            BASIC: [
                {
                    "IncludeManagementEvents": False,
                    "DataResources": data,
                    "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                }
            ]
        }
    )
    assert with_exclusion == ok({BASIC: [{"IncludeManagementEvents": False, "DataResources": data}]})


def test_advanced_field_selectors_are_keyed_by_field_with_values_as_sets() -> None:
    first = ok(advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["TRUE"]}, name="m"))
    second = ok(advanced({"Field": "readOnly", "Equals": [True], "NotEquals": []}, MANAGEMENT, name="m"))
    assert first == second
    assert first != ok(advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}, name="other name"))


def test_an_empty_name_is_no_name() -> None:
    assert ok(advanced(MANAGEMENT, name="")) == ok(advanced(MANAGEMENT))


# --- parse: every rule, each with the problem it must produce -------------------------------------------


DATA = [{"Type": S3, "Values": ["arn:aws:s3"]}]

RULES: list[tuple[str, dict[str, object], str]] = [
    (
        "both kinds",
        {BASIC: [], ADVANCED: []},
        "EventSelectors and AdvancedEventSelectors: declare one of them, not both",
    ),
    ("basic not a list", {BASIC: {"ReadWriteType": "All"}}, "EventSelectors=(an object of 1 key): must be a list"),
    ("basic null", {BASIC: None}, "EventSelectors=None: must be a list"),
    ("selector not an object", {BASIC: ["All"]}, "EventSelectors[0]='All': must be an object"),
    ("six selectors", {BASIC: [{}] * 6}, "at most 5 event selectors per trail"),
    (
        "read write type",
        {BASIC: [{"ReadWriteType": "Both"}]},
        "EventSelectors[0].ReadWriteType='Both': must be All, ReadOnly or WriteOnly",
    ),
    ("read write case", {BASIC: [{"ReadWriteType": "readonly"}]}, "did you mean ReadOnly?"),
    (
        "yes is no boolean",
        {BASIC: [{"IncludeManagementEvents": "yes"}]},
        "IncludeManagementEvents='yes': must be true or false",
    ),
    (
        "number is no boolean",
        {BASIC: [{"IncludeManagementEvents": 1}]},
        "IncludeManagementEvents=1: must be true or false",
    ),
    (
        "management false alone",
        {BASIC: [{"IncludeManagementEvents": "false"}]},
        "IncludeManagementEvents=False: needs DataResources",
    ),
    (
        "unknown key",
        {BASIC: [{"ReadWriteTyp": "All"}]},
        "EventSelectors[0].ReadWriteTyp: unknown property; did you mean ReadWriteType?",
    ),
    ("unknown key far", {BASIC: [{"Zzz": 1}]}, "unknown property; known: ReadWriteType, IncludeManagementEvents"),
    (
        "data not a list",
        {BASIC: [{"DataResources": {"Type": S3}}]},
        "DataResources=(an object of 1 key): must be a list",
    ),
    (
        "data type missing",
        {BASIC: [{"DataResources": [{"Values": ["arn:aws:s3"]}]}]},
        "DataResources[0].Type: required",
    ),
    (
        "data type unknown",
        {BASIC: [{"DataResources": [{"Type": "AWS::S3::Bucket", "Values": ["arn:aws:s3"]}]}]},
        "must be AWS::DynamoDB::Table",
    ),
    (
        "data type advanced only",
        {BASIC: [{"DataResources": [{"Type": "AWS::S3::AccessPoint", "Values": ["arn:aws:s3"]}]}]},
        "use AdvancedEventSelectors",
    ),
    ("values missing", {BASIC: [{"DataResources": [{"Type": S3}]}]}, "DataResources[0].Values: required"),
    ("values empty", {BASIC: [{"DataResources": [{"Type": S3, "Values": []}]}]}, "needs at least one ARN"),
    (
        "values not strings",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": [5]}]}]},
        "Values[0]=5: must be a string",
    ),
    (
        "values a string",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": "arn:aws:s3"}]}]},
        "Values='arn:aws:s3': must be a list",
    ),
    (
        "value not an ARN",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": ["my-bucket"]}]}]},
        "must be an ARN or ARN prefix of AWS::S3::Object",
    ),
    (
        "value of another service",
        {BASIC: [{"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:s3"]}]}]},
        "arn:PARTITION:lambda",
    ),
    ("value bad partition", {BASIC: [{"DataResources": [{"Type": S3, "Values": ["arn:AWS:s3"]}]}]}, "ARN prefix"),
    (
        "251 data resources",
        {
            BASIC: [
                {"DataResources": [{"Type": S3, "Values": [f"arn:aws:s3:::b{i}/" for i in range(126)]}]},
                {"DataResources": [{"Type": S3, "Values": [f"arn:aws:s3:::c{i}/" for i in range(125)]}]},
            ]
        },
        "251 data resource values across the trail: at most 250",
    ),
    (
        "exclusion unknown",
        {BASIC: [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]},
        "CloudTrail can exclude only kms.amazonaws.com or rdsdata.amazonaws.com",
    ),
    (
        "exclusion near miss",
        {BASIC: [{"ExcludeManagementEventSources": ["kms.amazonaws.co"]}]},
        "did you mean kms.amazonaws.com?",
    ),
    (
        "advanced empty",
        {ADVANCED: []},
        "AdvancedEventSelectors=(a list of 0 items): declare at least one advanced selector",
    ),
    ("advanced not a list", {ADVANCED: "x"}, "AdvancedEventSelectors='x': must be a list"),
    ("field selectors missing", {ADVANCED: [{"Name": "n"}]}, "AdvancedEventSelectors[0].FieldSelectors: required"),
    (
        "field selectors empty",
        {ADVANCED: [{"FieldSelectors": []}]},
        "FieldSelectors=(a list of 0 items): needs at least one condition",
    ),
    ("name too long", advanced(MANAGEMENT, name="n" * 1001), "Name='nnn"),
    (
        "name on two lines",
        advanced(MANAGEMENT, name="a\nb"),
        "Name='a\\nb': must be a string of at most 1000 characters on one line",
    ),
    (
        "operator value on two lines",
        advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms\n"]}),
        "NotEquals[0]='kms\\n': must be 1-2048 characters on one line",
    ),
    ("name not a string", {ADVANCED: [{"Name": 3, "FieldSelectors": [MANAGEMENT]}]}, "Name=3: must be a string"),
    (
        "unknown advanced key",
        {ADVANCED: [{"Nme": "n", "FieldSelectors": [MANAGEMENT]}]},
        "AdvancedEventSelectors[0].Nme: unknown property; did you mean Name?",
    ),
    (
        "unknown operator",
        advanced(MANAGEMENT, {"Field": "readOnly", "Equal": ["true"]}),
        "FieldSelectors[1].Equal: unknown property; did you mean Equals?",
    ),
    ("field missing", advanced({"Equals": ["Management"]}), "FieldSelectors[0].Field: required"),
    (
        "field pattern",
        advanced(MANAGEMENT, {"Field": "event name", "Equals": ["x"]}),
        "Field='event name': must be 1-1000 letters",
    ),
    ("field too long", advanced(MANAGEMENT, {"Field": "a" * 1001, "Equals": ["x"]}), "must be 1-1000 letters"),
    (
        "field case",
        advanced({"Field": "EventCategory", "Equals": ["Management"]}),
        "field names are case-sensitive; did you mean eventCategory?",
    ),
    ("no operator", advanced(MANAGEMENT, {"Field": "readOnly"}), "FieldSelectors[1]: needs at least one of Equals"),
    ("only empty operators", advanced(MANAGEMENT, {"Field": "readOnly", "Equals": []}), "needs at least one of Equals"),
    (
        "operator not a list",
        advanced(MANAGEMENT, {"Field": "readOnly", "Equals": "true"}),
        "Equals='true': must be a list",
    ),
    (
        "operator value empty",
        advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": [""]}),
        "NotEquals[0]='': must be 1-2048 characters",
    ),
    (
        "operator value too long",
        advanced(
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [S3]},
            {"Field": "resources.ARN", "StartsWith": ["a" * 2049]},
        ),
        "must be 1-2048 characters",
    ),
    (
        "operator value number",
        advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": [7]}),
        "NotEquals[0]=7: must be a string",
    ),
    ("duplicate field", advanced(MANAGEMENT, MANAGEMENT), "FieldSelectors[1].Field='eventCategory': declared twice"),
    (
        "readOnly not Equals",
        advanced(MANAGEMENT, {"Field": "readOnly", "NotEquals": ["true"]}),
        "readOnly takes only the Equals operator, not NotEquals",
    ),
    (
        "eventCategory not Equals",
        advanced({"Field": "eventCategory", "StartsWith": ["Manage"]}),
        "eventCategory takes only the Equals operator",
    ),
    (
        "resources.type not Equals",
        advanced(
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "StartsWith": ["AWS::S3"]}
        ),
        "resources.type takes only the Equals operator",
    ),
    (
        "readOnly value",
        advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["yes"]}),
        "Equals='yes': readOnly equals 'true' (read events) or 'false' (write events)",
    ),
    ("eventCategory value", advanced({"Field": "eventCategory", "Equals": ["management"]}), "did you mean Management?"),
    (
        "eventCategory store-only",
        advanced({"Field": "eventCategory", "Equals": ["Insight"]}),
        "a trail's eventCategory is Management, Data, NetworkActivity",
    ),
    (
        "eventCategory missing",
        advanced({"Field": "readOnly", "Equals": ["true"]}),
        "FieldSelectors: needs an eventCategory condition",
    ),
    (
        "management narrowed by eventName",
        advanced(MANAGEMENT, {"Field": "eventName", "Equals": ["StopLogging"]}),
        "filters only on eventCategory, eventSource, readOnly, not eventName",
    ),
    (
        "management eventSource Equals",
        advanced(MANAGEMENT, {"Field": "eventSource", "Equals": ["kms.amazonaws.com"]}),
        "eventSource in a management selector takes only NotEquals",
    ),
    (
        "management excludes other source",
        advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["s3.amazonaws.com"]}),
        "eventSource NotEquals 's3.amazonaws.com': a trail can exclude only",
    ),
    (
        "data without type",
        advanced({"Field": "eventCategory", "Equals": ["Data"]}),
        "a data selector needs a resources.type condition",
    ),
    (
        "network without source",
        advanced({"Field": "eventCategory", "Equals": ["NetworkActivity"]}),
        "a network activity selector needs an eventSource condition",
    ),
    (
        "501 advanced values",
        {
            ADVANCED: [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": [S3]},
                        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::b{i}/" for i in range(499)]},
                    ]
                }
            ]
        },
        "501 values across all conditions: at most 500",
    ),
]


@pytest.mark.parametrize(("declared", "expected"), [(d, e) for _, d, e in RULES], ids=[n for n, _, _ in RULES])
def test_each_rule_names_path_value_and_rule(declared: dict[str, object], expected: str) -> None:
    problems = problems_of(declared)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    problems = problems_of(
        {BASIC: [{"ReadWriteType": "Both", "IncludeManagementEvents": "no", "ExcludeManagementEventSources": ["x"]}]}
    )
    assert len(problems) == 3


def test_limits_are_inclusive() -> None:
    ok({BASIC: [{}] * 5})
    values = [f"arn:aws:s3:::b{i}/" for i in range(250)]
    ok({BASIC: [{"DataResources": [{"Type": S3, "Values": [*values, "arn:aws:s3", "arn:aws-cn:lambda"][:250]}]}]})
    # Whole-service values do not count towards the 250 (DataResources documentation).
    ok({BASIC: [{"DataResources": [{"Type": S3, "Values": [*values, "arn:aws:s3", "arn:aws:s3:::"]}]}]})
    assert problems_of({BASIC: [{"DataResources": [{"Type": S3, "Values": [*values, "arn:aws:s3:::x"]}]}]})
    ok(
        advanced(
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [S3]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::b{i}/" for i in range(498)]},
        )
    )
    ok(advanced(MANAGEMENT, name="n" * 1000))


DATA_FIELDS = ({"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [S3]})


def starts_with(prefix: str, count: int) -> dict[str, object]:
    return {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{prefix}{i}/" for i in range(count)]}


EXACT: list[tuple[str, dict[str, object], list[str]]] = [
    (
        "a huge number is not printed",
        {BASIC: [{"ReadWriteType": 10**18}]},
        ["EventSelectors[0].ReadWriteType=(a very large number): must be All, ReadOnly or WriteOnly"],
    ),
    (
        "a large number is",
        {BASIC: [{"ReadWriteType": 10**18 - 1}]},
        ["EventSelectors[0].ReadWriteType=999999999999999999: must be All, ReadOnly or WriteOnly"],
    ),
    (
        "another Python type is named",
        {BASIC: [{"ReadWriteType": b"All"}]},
        ["EventSelectors[0].ReadWriteType=(a bytes): must be All, ReadOnly or WriteOnly"],
    ),
    (
        "a wrong case is a near miss",
        {BASIC: [{"ReadWriteType": "WRITEONLY"}]},
        ["EventSelectors[0].ReadWriteType='WRITEONLY': must be All, ReadOnly or WriteOnly; did you mean WriteOnly?"],
    ),
    (
        "every data resource is checked",
        {BASIC: [{"DataResources": ["x", {"Values": ["arn:aws:s3"]}]}]},
        [
            "EventSelectors[0].DataResources[0]='x': must be an object",
            "EventSelectors[0].DataResources[1].Type: required: one of AWS::DynamoDB::Table, AWS::Lambda::Function, "
            "AWS::S3::Object",
        ],
    ),
    (
        "an ARN needs its service",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": ["arn:aws", "s3"]}]}]},
        [
            f"EventSelectors[0].DataResources[0].Values[{i}]='{v}': must be an ARN or ARN prefix of AWS::S3::Object "
            "(arn:PARTITION:s3..., e.g. arn:aws:s3 for all)"
            for i, v in enumerate(["arn:aws", "s3"])
        ],
    ),
    (
        "exclusions are a list",
        {BASIC: [{"ExcludeManagementEventSources": "kms.amazonaws.com"}]},
        ["EventSelectors[0].ExcludeManagementEventSources='kms.amazonaws.com': must be a list"],
    ),
    (
        "a type only advanced selectors log",
        {BASIC: [{"DataResources": [{"Type": "AWS::DynamoDB::Stream", "Values": ["arn:aws:dynamodb"]}]}]},
        [
            "EventSelectors[0].DataResources[0].Type='AWS::DynamoDB::Stream': basic selectors log only "
            "AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object; use AdvancedEventSelectors with "
            "resources.type Equals this type"
        ],
    ),
    (
        "a near-miss type",
        {BASIC: [{"DataResources": [{"Type": "AWS::S3::Objects", "Values": ["arn:aws:s3"]}]}]},
        [
            "EventSelectors[0].DataResources[0].Type='AWS::S3::Objects': must be AWS::DynamoDB::Table, "
            "AWS::Lambda::Function, AWS::S3::Object; did you mean AWS::S3::Object?"
        ],
    ),
    (
        "missing values do not end the walk",
        {BASIC: [{"DataResources": [{"Type": S3}, {"Type": S3, "Values": "x"}]}]},
        [
            "EventSelectors[0].DataResources[0].Values: required: ARNs or ARN prefixes, e.g. arn:aws:s3:::bucket/",
            "EventSelectors[0].DataResources[1].Values='x': must be a list",
        ],
    ),
    (
        "no values",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": []}]}]},
        ["EventSelectors[0].DataResources[0].Values=(a list of 0 items): needs at least one ARN or ARN prefix"],
    ),
    (
        "data resources that are not a list are one problem, not also missing",
        {BASIC: [{"IncludeManagementEvents": False, "DataResources": "arn:aws:s3"}]},
        ["EventSelectors[0].DataResources='arn:aws:s3': must be a list"],
    ),
    (
        "keys that are not strings, and long ones, are shown bounded",
        {BASIC: [{5: "x", "k" * 100: 1}]},
        [
            f"EventSelectors[0].{key}: unknown property; known: ReadWriteType, IncludeManagementEvents, "
            "DataResources, ExcludeManagementEventSources"
            for key in ("5", "k" * 57 + "...")
        ],
    ),
    (
        "a boolean is not an event source",
        {BASIC: [{"ExcludeManagementEventSources": [True]}]},
        ["EventSelectors[0].ExcludeManagementEventSources[0]=True: must be a string"],
    ),
    (
        "the 250 data resource values",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": [f"arn:aws:s3:::b{i}/" for i in range(251)]}]}]},
        [
            "EventSelectors: 251 data resource values across the trail: at most 250 (CloudTrail quota; "
            "whole-service values such as arn:aws:s3 do not count)"
        ],
    ),
    (
        "the whole work budget is checked",
        {BASIC: [{}] * 19_999 + ["x"]},
        [
            "EventSelectors=(a list of 20000 items): at most 5 event selectors per trail (CloudTrail quota)",
            "EventSelectors[19999]='x': must be an object",
        ],
    ),
    (
        "and no more",
        {BASIC: [{}] * 20_001},
        [
            "EventSelectors=(a list of 20001 items): at most 5 event selectors per trail (CloudTrail quota)",
            "the selectors are too large to check in full: fix the problems listed first",
        ],
    ),
    (
        "the strings of a list with a non-string are still checked, at their own index",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": [5, "x"]}], "ExcludeManagementEventSources": [5, "x"]}]},
        [
            "EventSelectors[0].DataResources[0].Values[0]=5: must be a string",
            "EventSelectors[0].DataResources[0].Values[1]='x': must be an ARN or ARN prefix of AWS::S3::Object "
            "(arn:PARTITION:s3..., e.g. arn:aws:s3 for all)",
            "EventSelectors[0].ExcludeManagementEventSources[0]=5: must be a string",
            "EventSelectors[0].ExcludeManagementEventSources[1]='x': CloudTrail can exclude only kms.amazonaws.com "
            "or rdsdata.amazonaws.com",
        ],
    ),
    (
        "values that are all non-strings are not also empty",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": [5]}]}]},
        ["EventSelectors[0].DataResources[0].Values[0]=5: must be a string"],
    ),
    (
        "operator values likewise",
        advanced(*DATA_FIELDS, {"Field": "eventName", "Equals": [5, ""]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[2].Equals[0]=5: must be a string",
            "AdvancedEventSelectors[0].FieldSelectors[2].Equals[1]='': must be 1-2048 characters on one line",
        ],
    ),
    (
        "the 500 values are counted across selectors",
        {
            ADVANCED: [
                {"FieldSelectors": [*DATA_FIELDS, starts_with("a", 247)]},
                {"FieldSelectors": [*DATA_FIELDS, starts_with("b", 250)]},
            ]
        },
        ["AdvancedEventSelectors: 501 values across all conditions: at most 500 per trail (CloudTrail quota)"],
    ),
    (
        "a refused selector's values are not counted",
        {ADVANCED: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, starts_with("a", 500)]}]},
        ["AdvancedEventSelectors[0].FieldSelectors: a data selector needs a resources.type condition"],
    ),
    (
        "Values that is not a list is only that problem, not also empty",
        {BASIC: [{"DataResources": [{"Type": S3, "Values": ""}]}]},
        ["EventSelectors[0].DataResources[0].Values='': must be a list"],
    ),
    (
        "a selector refused for its data resources is not also refused for lacking them",
        {BASIC: [{"IncludeManagementEvents": False, "DataResources": [{"Type": S3}]}]},
        ["EventSelectors[0].DataResources[0].Values: required: ARNs or ARN prefixes, e.g. arn:aws:s3:::bucket/"],
    ),
    (
        "a refused basic selector's values are not counted",
        {
            BASIC: [
                {
                    "ExcludeManagementEventSources": ["kms.amazonaws.com", "x"],
                    "DataResources": [{"Type": S3, "Values": [f"arn:aws:s3:::b{i}/" for i in range(251)]}],
                }
            ]
        },
        [
            "EventSelectors[0].ExcludeManagementEventSources[1]='x': CloudTrail can exclude only "
            "kms.amazonaws.com or rdsdata.amazonaws.com"
        ],
    ),
    (
        "a refused condition does not make a later one of its field a duplicate",
        advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["maybe"]}, {"Field": "readOnly", "Equals": ["true"]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[1].Equals='maybe': readOnly equals 'true' (read events) or "
            "'false' (write events)"
        ],
    ),
    (
        "what was reached when the budget ran out is still checked",
        {BASIC: [{}] * 19_999 + [{"ReadWriteType": "Both", "IncludeManagementEvents": True}]},
        [
            "EventSelectors=(a list of 20000 items): at most 5 event selectors per trail (CloudTrail quota)",
            "EventSelectors[19999].ReadWriteType='Both': must be All, ReadOnly or WriteOnly",
            "the selectors are too large to check in full: fix the problems listed first",
        ],
    ),
    (
        "every field selector is checked",
        advanced(MANAGEMENT, {"Field": "eventName"}, {"Field": "Bad Field", "Equals": ["x"]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[1]: needs at least one of Equals, StartsWith, EndsWith, "
            "NotEquals, NotStartsWith, NotEndsWith with values",
            "AdvancedEventSelectors[0].FieldSelectors[2].Field='Bad Field': must be 1-1000 letters, digits, '.', '_' "
            "or '|'",
        ],
    ),
    (
        "a bad value is the only problem of its field and selector",
        advanced({"Field": "eventName", "Equals": [5]}),
        ["AdvancedEventSelectors[0].FieldSelectors[0].Equals[0]=5: must be a string"],
    ),
    (
        "field names are case-sensitive",
        advanced({"Field": "EventCategory", "Equals": ["Management"]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[0].Field='EventCategory': field names are case-sensitive; "
            "did you mean eventCategory?"
        ],
    ),
    (
        "Equals-only fields name the other operators",
        advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"], "NotEquals": ["false"], "StartsWith": ["t"]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[1]: readOnly takes only the Equals operator, "
            "not NotEquals, StartsWith"
        ],
    ),
    (
        "a trail's event categories",
        advanced({"Field": "eventCategory", "Equals": ["Managment"]}),
        [
            "AdvancedEventSelectors[0].FieldSelectors[0].Equals='Managment': a trail's eventCategory is Management, "
            "Data, NetworkActivity; did you mean Management?"
        ],
    ),
    (
        "the sources a trail can exclude",
        advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["s3.amazonaws.com"]}),
        [
            "AdvancedEventSelectors[0]: eventSource NotEquals 's3.amazonaws.com': a trail can exclude only "
            "kms.amazonaws.com or rdsdata.amazonaws.com from management events"
        ],
    ),
]


@pytest.mark.parametrize(("declared", "expected"), [(d, e) for _, d, e in EXACT], ids=[n for n, _, _ in EXACT])
def test_problems_read_exactly_and_only_once(declared: dict[str, object], expected: list[str]) -> None:
    assert problems_of(declared) == expected


def test_more_problems_than_shown_are_counted() -> None:
    found = problems_of({BASIC: [{"ExcludeManagementEventSources": [f"x{i}" for i in range(45)]}]})
    assert len(found) == 41 and found[-1] == "(+5 more problems)"
    assert found[39] == (
        "EventSelectors[0].ExcludeManagementEventSources[39]='x39': CloudTrail can exclude only kms.amazonaws.com "
        "or rdsdata.amazonaws.com"
    )


def test_booleans_from_a_state_file_are_the_strings_cloudtrail_takes() -> None:
    declared = ok(
        advanced(
            *DATA_FIELDS,
            {"Field": "sessionCredentialFromConsole", "Equals": [True], "NotEquals": [False]},
            {"Field": "readOnly", "Equals": [False]},
        )
    )
    fields = {f["Field"]: f for f in to_wire(declared)[ADVANCED][0]["FieldSelectors"]}
    assert fields["sessionCredentialFromConsole"]["Equals"] == ["true"]
    assert fields["sessionCredentialFromConsole"]["NotEquals"] == ["false"]
    assert fields["readOnly"]["Equals"] == ["false"]


def test_field_and_value_lengths_are_inclusive() -> None:
    ok(advanced(*DATA_FIELDS, {"Field": "x", "Equals": ["y"]}))
    ok(advanced(*DATA_FIELDS, {"Field": "x" * 1000, "Equals": ["y" * 2048]}))
    assert len(problems_of(advanced(*DATA_FIELDS, {"Field": "x" * 1001, "Equals": ["y" * 2049]}))) == 2
    longest = "arn:aws:s3:::" + "b" * (2048 - 13)
    ok({BASIC: [{"DataResources": [{"Type": S3, "Values": [longest]}]}]})
    assert problems_of({BASIC: [{"DataResources": [{"Type": S3, "Values": [longest + "c"]}]}]})


def test_valid_advanced_shapes_from_the_docs() -> None:
    ok(
        advanced(
            MANAGEMENT,
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
        )
    )
    ok(
        advanced(
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Stream"]},
            {"Field": "eventName", "NotStartsWith": ["Get"]},
        )
    )
    ok(
        advanced(
            {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
            {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com"]},
            {"Field": "errorCode", "Equals": ["VpceAccessDenied"]},
        )
    )


# Declarations as public material writes them (shapes re-typed here, values shortened), with the
# management coverage each must have. CloudFormation would deliver the booleans as strings.
PUBLIC: list[tuple[str, dict[str, object], Coverage]] = [
    (
        "AWS CLI put-event-selectors example 1 (advanced: management, S3, Lambda, SNS)",
        {
            ADVANCED: [
                {"Name": "Log all management events", "FieldSelectors": [MANAGEMENT]},
                {
                    "Name": "Log PutObject and DeleteObject events for all but one bucket",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        {"Field": "eventName", "Equals": ["PutObject", "DeleteObject"]},
                        {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::sample_bucket_name/"]},
                    ],
                },
                {
                    "Name": "Log all Publish API calls on a specific SNS topic",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::SNS::Topic"]},
                        {"Field": "eventName", "Equals": ["Publish"]},
                        {"Field": "resources.ARN", "Equals": ["arn:aws:sns:us-east-1:123456789012:myTopic.fifo"]},
                    ],
                },
            ]
        },
        Coverage(True, True, frozenset()),
    ),
    (
        "AWS CLI put-event-selectors example 3 (basic: all S3 and Lambda data events)",
        {
            BASIC: [
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": "true",
                    "DataResources": [
                        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]},
                        {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]},
                    ],
                }
            ]
        },
        Coverage(True, True, frozenset()),
    ),
    (
        "CDK Trail.logAllS3DataEvents snapshot",
        {
            BASIC: [
                {
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::"]}],
                    "IncludeManagementEvents": "true",
                    "ReadWriteType": "All",
                }
            ]
        },
        Coverage(True, True, frozenset()),
    ),
    (
        "Terraform import of a console-made trail (Glue data, management without KMS and RDS Data)",
        {
            ADVANCED: [
                {
                    "FieldSelectors": [
                        {"Equals": ["AWS::Glue::Table"], "Field": "resources.type"},
                        {"Equals": ["Data"], "Field": "eventCategory"},
                    ]
                },
                {
                    "Name": "Management events selector",
                    "FieldSelectors": [
                        {"Equals": ["Management"], "Field": "eventCategory"},
                        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
                    ],
                },
            ]
        },
        Coverage(True, True, frozenset(selectors.EXCLUDABLE_SOURCES)),
    ),
    (
        "Security baseline: write-only management events",
        {BASIC: [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": "true"}]},
        Coverage(False, True, frozenset()),
    ),
]


@pytest.mark.parametrize(("declared", "coverage"), [(d, c) for _, d, c in PUBLIC], ids=[n for n, _, _ in PUBLIC])
def test_public_declarations_parse_and_settle(declared: dict[str, object], coverage: Coverage) -> None:
    value = ok(declared)
    assert management_coverage(value) == coverage
    assert from_read(cloudtrail_read_back(to_wire(value), random.Random(1))) == value


def test_cdk_management_events_none_is_refused_as_cloudformation_refuses_it() -> None:
    # aws-cdk #14076/#13966: managementEvents NONE emits a selector of IncludeManagementEvents false alone,
    # which CloudTrail rejects ("When includeManagementEvents is false, DataResources must not be empty").
    declared = {
        BASIC: [
            {"IncludeManagementEvents": "false"},
            {
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket/"]}],
                "IncludeManagementEvents": "true",
                "ReadWriteType": "All",
            },
        ]
    }
    assert problems_of(declared) == [
        "EventSelectors[0].IncludeManagementEvents=False: needs DataResources: a selector without management "
        "events must log some data events"
    ]


# --- bounded: junk of any size or depth gives problems, quickly ------------------------------------------


def deep(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "junk",
    [
        {BASIC: deep(100_000)},
        {BASIC: [{"DataResources": [{"Type": S3, "Values": deep(100_000)}]}]},
        {BASIC: [{}] * 1_000_000},
        {BASIC: [{"ReadWriteType": "x" * 10_000_000}]},
        {BASIC: [{f"k{i}": i for i in range(200_000)}]},
        {BASIC: [{"IncludeManagementEvents": 10**10_000}]},
        {ADVANCED: [{"FieldSelectors": [MANAGEMENT] * 300_000}] * 300_000},
        {ADVANCED: [{"FieldSelectors": [{"Field": "eventName", "Equals": [str(i) for i in range(1_000_000)]}]}]},
        {ADVANCED: [{"FieldSelectors": [{"Field": "f" * 5_000_000, "Equals": deep(50_000)}]}]},
    ],
    ids=[
        "deep",
        "deep values",
        "huge list",
        "huge string",
        "many keys",
        "huge number",
        "huge advanced",
        "many values",
        "deep operator",
    ],
)
def test_junk_is_refused_quickly_and_briefly(junk: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    # Bounded work, counted rather than timed (timings belong to bench/): the walk stops at its budget.
    spent: list[int] = []
    original = selectors._Checker.spend

    def counting(self: selectors._Checker) -> bool:
        spent.append(1)
        return original(self)

    monkeypatch.setattr(selectors._Checker, "spend", counting)
    problems = problems_of(junk)
    assert len(spent) <= selectors.WORK_BUDGET + 10  # + one refused spend per enclosing loop
    assert problems
    assert len(problems) <= selectors.MAX_PROBLEMS + 2
    assert all(len(p) < 600 for p in problems)


# --- from_read and the round trip against CloudTrail's read-backs ---------------------------------------


def test_a_trail_never_configured_reads_back_the_default() -> None:
    answer = {
        "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
        BASIC: [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ],
    }
    assert from_read(answer) == DEFAULT == ok({BASIC: []})


def test_an_answer_with_no_selectors_is_the_default() -> None:
    assert from_read({"TrailARN": "arn"}) == DEFAULT
    assert from_read({BASIC: [], ADVANCED: []}) == DEFAULT
    # a basic selector read back without its defaults means them (All, management events included)
    assert from_read({BASIC: [{"IncludeManagementEvents": True}]}) == DEFAULT
    assert from_read({BASIC: [{"ReadWriteType": "All"}]}) == DEFAULT


def test_advanced_read_back_sorted_with_empty_operators_equals_the_declaration() -> None:
    declared = ok(
        advanced(
            {"Field": "resources.type", "Equals": [S3]},
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::b/", "arn:aws:s3:::a/"]},
            name="s3",
        )
    )
    answer = {
        ADVANCED: [
            {
                "Name": "s3",
                "FieldSelectors": [
                    {
                        "Field": "eventCategory",
                        "Equals": ["Data"],
                        "StartsWith": [],
                        "EndsWith": [],
                        "NotEquals": [],
                        "NotStartsWith": [],
                        "NotEndsWith": [],
                    },
                    {
                        "Field": "resources.ARN",
                        "Equals": [],
                        "StartsWith": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"],
                        "EndsWith": [],
                        "NotEquals": [],
                        "NotStartsWith": [],
                        "NotEndsWith": [],
                    },
                    {
                        "Field": "resources.type",
                        "Equals": [S3],
                        "StartsWith": [],
                        "EndsWith": [],
                        "NotEquals": [],
                        "NotStartsWith": [],
                        "NotEndsWith": [],
                    },
                ],
            }
        ]
    }
    assert from_read(answer) == declared


@pytest.mark.parametrize(
    ("answer", "doc"),
    [
        (
            {BASIC: [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": DATA}]},
            [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": DATA}],
        ),
        (
            {BASIC: [{"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]},
            [{"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}],
        ),
        (
            {ADVANCED: [{"FieldSelectors": [MANAGEMENT, {"Field": "eventSource", "NotEquals": "kms.amazonaws.com"}]}]},
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                    ]
                }
            ],
        ),
    ],
)
def test_a_read_back_keeps_what_stops_logging(answer: dict[str, Any], doc: list[dict[str, Any]]) -> None:
    # Management events switched off, sources excluded, a value read back bare: each narrows what is logged,
    # so dropping one would call a weakened trail in sync.
    assert to_doc(from_read(answer)) == doc


def test_an_advanced_answer_wins_over_an_empty_basic_one() -> None:
    answer = {BASIC: [], ADVANCED: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}
    assert from_read(answer) == ok(advanced(MANAGEMENT))


def test_wire_and_doc_are_deterministic_and_compact() -> None:
    declared = ok(
        {
            BASIC: [
                {
                    "ReadWriteType": "WriteOnly",
                    "ExcludeManagementEventSources": ["rdsdata.amazonaws.com", "kms.amazonaws.com"],
                },
                {
                    "IncludeManagementEvents": False,
                    "DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::b/", "arn:aws:s3:::a/"]}],
                },
            ]
        }
    )
    assert to_doc(declared) == [
        {
            "ReadWriteType": "All",  # kept at its default: [{}] would tell a reader nothing
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"]}],
        },
        {"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
    ]
    assert to_wire(declared)[BASIC][0] == {
        "ReadWriteType": "WriteOnly",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
    }
    adv = ok(advanced({"Field": "readOnly", "Equals": ["false"]}, MANAGEMENT))
    assert to_wire(adv) == {
        ADVANCED: [
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ]
            }
        ]
    }
    assert to_doc(adv) == to_wire(adv)[ADVANCED]


def test_wire_is_valid_for_botocore() -> None:
    for value in (
        DEFAULT,
        ok(PUBLIC[1][1]),
        ok(advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}, name="m")),
    ):
        report = VALIDATOR.validate({"TrailName": "audit", **to_wire(value)}, PUT_INPUT)
        assert not report.has_errors(), report.generate_report()


def test_selectors_of_both_kinds_cannot_exist() -> None:
    both = r"^a trail has basic or advanced event selectors, never both$"
    with pytest.raises(ValueError, match=both):
        selectors.Selectors(DEFAULT.basic, ok(advanced(MANAGEMENT)).advanced)
    # Nor by the NamedTuple's own ways round its constructor.
    with pytest.raises(ValueError, match=both):
        DEFAULT._replace(advanced=ok(advanced(MANAGEMENT)).advanced)
    with pytest.raises(ValueError, match=both):
        selectors.Selectors._make([DEFAULT.basic, ok(advanced(MANAGEMENT)).advanced])
    assert DEFAULT._replace(basic=frozenset()) == selectors.Selectors(frozenset(), frozenset())


# --- coverage and weakenings ---------------------------------------------------------------------------

READ_ONLY = {BASIC: [{"ReadWriteType": "ReadOnly"}]}
WRITE_ONLY = {BASIC: [{"ReadWriteType": "WriteOnly"}]}
NO_KMS = {BASIC: [{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}
NO_KMS_NO_RDS = {BASIC: [{"ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]}]}
DATA_ONLY = {BASIC: [{"IncludeManagementEvents": False, "DataResources": DATA}]}
SPLIT = {
    BASIC: [
        {"ReadWriteType": "ReadOnly"},
        {"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]},
    ]
}
ADV_ALL = advanced(MANAGEMENT)
ADV_WRITES = advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]})
ADV_READS = advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]})
ADV_NO_KMS = advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]})
DATA_SELECTOR = {
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [S3]}]
}
ADV_DATA = {ADVANCED: [DATA_SELECTOR]}


@pytest.mark.parametrize(
    ("declared", "coverage"),
    [
        ({BASIC: []}, Coverage(True, True, frozenset())),
        (READ_ONLY, Coverage(True, False, frozenset())),
        (WRITE_ONLY, Coverage(False, True, frozenset())),
        (NO_KMS, Coverage(True, True, frozenset({"kms.amazonaws.com"}))),
        (DATA_ONLY, Coverage(False, False, frozenset())),
        (SPLIT, Coverage(True, True, frozenset({"kms.amazonaws.com"}))),
        (ADV_ALL, Coverage(True, True, frozenset())),
        (ADV_WRITES, Coverage(False, True, frozenset())),
        (ADV_READS, Coverage(True, False, frozenset())),
        (ADV_NO_KMS, Coverage(True, True, frozenset({"kms.amazonaws.com"}))),
        (ADV_DATA, Coverage(False, False, frozenset())),
        (advanced(MANAGEMENT, {"Field": "readOnly", "Equals": ["true", "false"]}), Coverage(True, True, frozenset())),
    ],
)
def test_management_coverage(declared: dict[str, object], coverage: Coverage) -> None:
    assert management_coverage(ok(declared)) == coverage


def test_a_source_excluded_by_one_selector_is_logged_by_another() -> None:
    both = {BASIC: [{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}, {}]}
    assert management_coverage(ok(both)).excluded == frozenset()


@pytest.mark.parametrize(
    "answer",
    [
        # What CloudTrail could hold from elsewhere (console, another tool): narrowings parse refuses.
        advanced(MANAGEMENT, {"Field": "eventName", "Equals": ["RunInstances"]}),
        advanced(MANAGEMENT, {"Field": "eventSource", "Equals": ["ec2.amazonaws.com"]}),
        advanced({"Field": "eventCategory", "NotEquals": ["Data"]}),
        advanced({"Field": "eventCategory", "Equals": ["Management"], "NotEquals": ["Management"]}),
        advanced({"Field": "eventCategory", "Equals": ["Data"]}),
        advanced(MANAGEMENT, {"Field": "readOnly", "NotEquals": ["true"]}),
        # values that look like readOnly's do not make another field a readOnly condition
        advanced(MANAGEMENT, {"Field": "eventName", "Equals": ["true", "false"]}),
    ],
)
def test_narrowed_management_selectors_count_as_not_covering(answer: dict[str, Any]) -> None:
    assert management_coverage(from_read(answer)) == Coverage(False, False, frozenset())


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        ({BASIC: []}, {BASIC: []}, []),
        ({BASIC: []}, READ_ONLY, ["stops logging write management events"]),
        ({BASIC: []}, WRITE_ONLY, ["stops logging read management events"]),
        ({BASIC: []}, DATA_ONLY, ["stops logging read management events", "stops logging write management events"]),
        ({BASIC: []}, NO_KMS, ["excludes kms.amazonaws.com from management events"]),
        (NO_KMS, NO_KMS_NO_RDS, ["excludes rdsdata.amazonaws.com from management events"]),
        ({BASIC: []}, SPLIT, ["excludes kms.amazonaws.com from write management events"]),
        ({BASIC: []}, ADV_WRITES, ["stops logging read management events"]),
        ({BASIC: []}, ADV_NO_KMS, ["excludes kms.amazonaws.com from management events"]),
        ({BASIC: []}, ADV_DATA, ["stops logging read management events", "stops logging write management events"]),
        (READ_ONLY, {BASIC: []}, []),
        (NO_KMS, {BASIC: []}, []),
        (DATA_ONLY, ADV_DATA, []),
        (READ_ONLY, READ_ONLY, []),
        (READ_ONLY, DATA_ONLY, ["stops logging read management events"]),
        (WRITE_ONLY, ADV_WRITES, []),
        (ADV_ALL, {BASIC: []}, []),
        (ADV_NO_KMS, NO_KMS, []),
        (NO_KMS_NO_RDS, NO_KMS, []),
        (
            {BASIC: []},
            {BASIC: [{"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]},
            ["stops logging read management events", "excludes kms.amazonaws.com from write management events"],
        ),
        (
            READ_ONLY,
            NO_KMS,
            ["excludes kms.amazonaws.com from read management events"],
        ),
        # Issue 15 item 2: data events are part of the guard (they were not: removing them passed).
        (
            {BASIC: [{"DataResources": DATA}]},
            {BASIC: []},
            [
                "stops logging read data events of AWS::S3::Object: every resource",
                "stops logging write data events of AWS::S3::Object: every resource",
            ],
        ),
    ],
)
def test_weakenings(current: dict[str, object], desired: dict[str, object], expected: list[str]) -> None:
    assert weakenings(ok(current), ok(desired)) == expected


@pytest.mark.parametrize(
    ("declared", "line"),
    [
        ({BASIC: []}, "1 basic: All + management"),
        (NO_KMS, "1 basic: All + management excl. kms.amazonaws.com"),
        (DATA_ONLY, "1 basic: All data only, 1 data resource"),
        (SPLIT, "2 basic: ReadOnly + management; WriteOnly + management excl. kms.amazonaws.com"),
        (ADV_WRITES, "1 advanced: management write"),
        (
            {ADVANCED: [{"FieldSelectors": [MANAGEMENT]}, DATA_SELECTOR]},
            "2 advanced: management read+write, 1 other selector",
        ),
        (ADV_DATA, "1 advanced: no management events, 1 other selector"),
        (
            advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["rdsdata.amazonaws.com", "kms.amazonaws.com"]}),
            "1 advanced: management read+write excl. kms.amazonaws.com, rdsdata.amazonaws.com",
        ),
        (
            {
                BASIC: [
                    {
                        "ReadWriteType": "WriteOnly",
                        "ExcludeManagementEventSources": ["rdsdata.amazonaws.com", "kms.amazonaws.com"],
                    },
                    {"ReadWriteType": "ReadOnly"},
                    {"DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::b/"]}]},
                    {"IncludeManagementEvents": False, "DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::a/"]}]},
                ]
            },
            # in the order of the selectors' full documents, whatever the declared order
            "4 basic: All data only; All + management; ReadOnly + management; "
            "WriteOnly + management excl. kms.amazonaws.com, rdsdata.amazonaws.com, 2 data resources",
        ),
    ],
)
def test_describe(declared: dict[str, object], line: str) -> None:
    assert describe(ok(declared)) == line


# --- property tests ---------------------------------------------------------------------------------

_arn = st.sampled_from(["arn:aws:s3", "arn:aws:s3:::a/", "arn:aws:s3:::b/logs", "arn:aws-cn:s3:::c/"])
_data_resource = st.one_of(
    st.fixed_dictionaries({"Type": st.just(S3), "Values": st.lists(_arn, max_size=3)}),
    st.fixed_dictionaries(
        {
            "Type": st.just("AWS::Lambda::Function"),
            "Values": st.lists(
                st.sampled_from(["arn:aws:lambda", "arn:aws:lambda:us-east-1:123456789012:function:f"]), max_size=2
            ),
        }
    ),
    st.fixed_dictionaries(
        {"Type": st.sampled_from(["AWS::S3::AccessPoint", "s3"])}, optional={"Values": st.lists(_arn, max_size=2)}
    ),
)
_boolean = st.sampled_from([True, False, "true", "FALSE", "True", "yes", 1, None])
_basic_selector = st.fixed_dictionaries(
    {},
    optional={
        "ReadWriteType": st.sampled_from(["All", "ReadOnly", "WriteOnly", "Both", "all"]),
        "IncludeManagementEvents": _boolean,
        "DataResources": st.lists(_data_resource, max_size=3),
        "ExcludeManagementEventSources": st.lists(
            st.sampled_from(["kms.amazonaws.com", "rdsdata.amazonaws.com", "s3.amazonaws.com"]), max_size=3
        ),
        "Junk": st.integers(),
    },
)
_values = st.lists(
    st.sampled_from(
        [
            "true",
            "false",
            "Management",
            "Data",
            "NetworkActivity",
            S3,
            "kms.amazonaws.com",
            "rdsdata.amazonaws.com",
            "x",
            "",
        ]
    ),
    max_size=3,
)
_field = st.fixed_dictionaries(
    {
        "Field": st.sampled_from(
            ["eventCategory", "readOnly", "eventSource", "eventName", "resources.type", "resources.ARN", "bad field"]
        )
    },
    optional={op: _values for op in selectors.OPERATORS},
)
_advanced_selector = st.fixed_dictionaries(
    {"FieldSelectors": st.lists(_field, max_size=4)},
    optional={"Name": st.sampled_from(["", "management", "n" * 1001])},
)
_true = st.sampled_from([True, "true", "TRUE", " True "])
_false = st.sampled_from([False, "false", "False"])
_some_arns = st.lists(_arn, min_size=1, max_size=3)
_valid_data = st.lists(
    st.one_of(
        st.fixed_dictionaries({"Type": st.just(S3), "Values": _some_arns}),
        st.fixed_dictionaries({"Type": st.just("AWS::DynamoDB::Table"), "Values": st.just(["arn:aws:dynamodb"])}),
    ),
    min_size=1,
    max_size=3,
)
_excluded = st.lists(st.sampled_from(selectors.EXCLUDABLE_SOURCES), max_size=2)
_rw = {"ReadWriteType": st.sampled_from(selectors.READ_WRITE_TYPES)}
_valid_basic_selector = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            **_rw,
            "IncludeManagementEvents": _true,
            "DataResources": _valid_data,
            "ExcludeManagementEventSources": _excluded,
        },
    ),
    st.fixed_dictionaries(
        {"IncludeManagementEvents": _false, "DataResources": _valid_data},
        optional={**_rw, "ExcludeManagementEventSources": _excluded},
    ),
)


def _conditions(
    *required: dict[str, object], optional: list[dict[str, object]]
) -> st.SearchStrategy[dict[str, object]]:
    """An advanced selector: the required conditions, any of the optional ones, in any order, maybe named."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, object]:
        chosen = [*required, *(c for c in optional if draw(st.booleans()))]
        # Unused operators spelled as CloudTrail shows them ([]) must mean the same as absent ones.
        chosen = [{**c, **({"EndsWith": []} if draw(st.booleans()) else {})} for c in chosen]
        selector: dict[str, object] = {"FieldSelectors": draw(st.permutations(chosen))}
        if draw(st.booleans()):
            selector["Name"] = draw(st.sampled_from(["", "management events", "s3 objects"]))
        return selector

    return build()


_valid_advanced_selector = st.one_of(
    _conditions(
        MANAGEMENT,
        optional=[
            {"Field": "readOnly", "Equals": ["true"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
        ],
    ),
    _conditions(
        MANAGEMENT,
        optional=[
            {"Field": "readOnly", "Equals": [False]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
        ],
    ),
    _conditions(
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": [S3]},
        optional=[
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::b/", "arn:aws:s3:::a/"]},
            {"Field": "eventName", "NotEquals": ["GetObject"], "NotStartsWith": ["Head"]},
            {"Field": "readOnly", "Equals": ["FALSE"]},
        ],
    ),
    _conditions(
        {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
        {"Field": "eventSource", "Equals": ["kms.amazonaws.com"]},
        optional=[{"Field": "errorCode", "Equals": ["VpceAccessDenied"]}],
    ),
)
_valid_declaration = st.one_of(
    st.fixed_dictionaries({BASIC: st.lists(_valid_basic_selector, max_size=5)}),
    st.fixed_dictionaries({ADVANCED: st.lists(_valid_advanced_selector, min_size=1, max_size=4)}),
)


@settings(max_examples=300, deadline=None)
@given(declared=_valid_declaration, seed=st.integers(0, 2**32 - 1))
def test_any_valid_declaration_parses_and_settles(declared: dict[str, object], seed: int) -> None:
    value = ok(declared)
    wire = {"TrailName": "audit", **to_wire(value)}
    assert not VALIDATOR.validate(wire, PUT_INPUT).has_errors()
    read_back = from_read(cloudtrail_read_back(to_wire(value), random.Random(seed)))
    assert read_back == value
    assert to_wire(read_back) == to_wire(value)
    assert parse({selectors.kind(value): to_doc(value)}) == (value, [])
    assert weakenings(value, read_back) == []


_declaration = st.one_of(
    st.fixed_dictionaries({BASIC: st.lists(_basic_selector, max_size=6)}),
    st.fixed_dictionaries({ADVANCED: st.lists(_advanced_selector, max_size=3)}),
    st.fixed_dictionaries({BASIC: st.lists(st.one_of(_basic_selector, _valid_basic_selector), max_size=6)}),
    st.fixed_dictionaries({ADVANCED: st.lists(st.one_of(_advanced_selector, _valid_advanced_selector), max_size=3)}),
    st.fixed_dictionaries(
        {BASIC: st.lists(_basic_selector, max_size=1), ADVANCED: st.lists(_advanced_selector, max_size=1)}
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=_declaration, seed=st.integers(0, 2**32 - 1))
def test_any_declaration_has_problems_or_round_trips(declared: dict[str, object], seed: int) -> None:
    value, problems = parse(declared)
    if problems:
        assert value is None
        return
    assert value is not None
    # Written, then read back as CloudTrail answers (every list in another order): equal, so no rewrite.
    assert from_read(cloudtrail_read_back(to_wire(value), random.Random(seed))) == value
    # The report's document is itself a declaration of the same selectors.
    assert parse({selectors.kind(value): to_doc(value)}) == (value, [])
    assert weakenings(value, value) == []
    assert describe(value)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(junk=st.dictionaries(st.sampled_from([BASIC, ADVANCED, "Name"]), _json, min_size=1))
def test_json_junk_never_raises(junk: dict[str, object]) -> None:
    value, problems = parse(junk)
    assert (value is None) == bool(problems) or (BASIC not in junk and ADVANCED not in junk)
    if value is not None:
        assert from_read(cloudtrail_read_back(to_wire(value))) == value
