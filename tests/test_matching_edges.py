"""Which declarations cover which trail, and what the layers of one trail merge into (fleet/matching.py), told
from the DescribeTrails answers alone: names found in every region read, a shadow standing for its trail only
when its home was not read, patterns narrowed by Match and never matching shadows or another account's
organization trail, and the conflicts two layers' values make, in the words a person reads. No AWS."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from trailkeeper.errors import show
from trailkeeper.fleet import matching, state

ACCOUNT = "123456789012"
OWNER = "999988887777"  # the management account of an organization trail seen here


def arn(region: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def described(region: str, name: str, account: str = ACCOUNT, **more: Any) -> dict[str, Any]:
    """A trail as DescribeTrails answers it (HomeRegion always given, as CloudTrail gives it)."""
    return {"Name": name, "TrailARN": arn(region, name, account), "HomeRegion": region, **more}


OPS_WEST = described("us-west-2", "ops")
OPS_SYDNEY = described("ap-southeast-2", "ops")
WIDE = described("eu-west-1", "wide", IsMultiRegionTrail=True)  # a shadow in every other region
ORG = described("us-east-1", "org-trail", OWNER, IsMultiRegionTrail=True, IsOrganizationTrail=True)
EVERY_REGION: dict[str, list[dict[str, Any]]] = {
    "us-east-1": [WIDE, ORG],
    "us-west-2": [OPS_WEST, WIDE, ORG],
    "eu-west-1": [WIDE, ORG],
    "ap-southeast-2": [OPS_SYDNEY, WIDE, ORG],
}
WITHOUT_EU = {region: listed for region, listed in EVERY_REGION.items() if region != "eu-west-1"}

Outcome = tuple[list[tuple[str, list[int]]], list[int], list[int], list[str]]


def outcome(
    entries: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Sequence[Mapping[str, Any]]] = EVERY_REGION,
    *,
    attempted: Sequence[str] = (),
    tags: Mapping[str, Mapping[str, str]] | None = None,
    delegated: bool = False,
    only: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Outcome:
    """(each matched trail's ARN and its declarations, missing, unmatched patterns, not owned)."""
    declared = state.parse({"trails": [{"IsLogging": True, **entry} for entry in entries]})
    seen = matching.Seen.from_answers(answers, attempted)
    found = matching.match(declared, seen, caller_account=ACCOUNT, tags=tags, only=only, delegated=delegated)
    return (
        [(str(m.trail["TrailARN"]), list(m.declarations)) for m in found.trails],
        list(found.missing),
        list(found.unmatched_patterns),
        list(found.not_owned),
    )


# --- which trails each declaration covers --------------------------------------------------------------------

OPS_BOTH = [(arn("ap-southeast-2", "ops"), [0]), (arn("us-west-2", "ops"), [0])]

COVERED: list[tuple[str, list[dict[str, Any]], dict[str, Any], Outcome]] = [
    ("a name finds the trail of that name in every region", [{"Name": "ops"}], {}, (OPS_BOTH, [], [], [])),
    (
        "a multi-region trail is matched once, at home",
        [{"Name": "wide"}],
        {},
        ([(arn("eu-west-1", "wide"), [0])], [], [], []),
    ),
    (
        "its shadow stands for it when its home is not read",
        [{"Name": "wide"}],
        {"answers": WITHOUT_EU},
        ([(arn("eu-west-1", "wide"), [0])], [], [], []),
    ),
    (
        "but not when its home's read failed",
        [{"Name": "wide"}],
        {"answers": WITHOUT_EU, "attempted": ["eu-west-1"]},
        ([], [0], [], []),
    ),
    (
        "a pattern never matches a shadow",
        [{"Name": "w*"}],
        {"answers": WITHOUT_EU},
        ([], [], [0], []),
    ),
    ("a pattern matches at home", [{"Name": "w*"}], {}, ([(arn("eu-west-1", "wide"), [0])], [], [], [])),
    (
        "a pattern's Match.Regions keeps those home regions",
        [{"Name": "o*", "Match": {"Regions": ["us-west-2", "eu-west-1"]}}],
        {},
        ([(arn("us-west-2", "ops"), [0])], [], [], []),
    ),
    (
        "an ARN names one trail",
        [{"Name": arn("us-west-2", "ops")}, {"Name": arn("eu-west-1", "ops")}],
        {},
        ([(arn("us-west-2", "ops"), [0])], [1], [], []),
    ),
    (
        "a name found nowhere is missing, a pattern matching nothing is unmatched",
        [{"Name": "nowhere"}, {"Name": "legacy-*"}],
        {},
        ([], [0], [1], []),
    ),
    (
        "another account's organization trail is only noted for a pattern",
        [{"Name": "*"}],
        {},
        (
            [(arn("ap-southeast-2", "ops"), [0]), (arn("eu-west-1", "wide"), [0]), (arn("us-west-2", "ops"), [0])],
            [],
            [],
            [arn("us-east-1", "org-trail", OWNER)],
        ),
    ),
    (
        "and covered when named, for the engine to refuse",
        [{"Name": "*"}, {"Name": "org-trail"}],
        {"answers": {"us-east-1": [ORG]}},
        ([(arn("us-east-1", "org-trail", OWNER), [1])], [], [], []),
    ),
    (
        "and covered by a pattern from the delegated administrator",
        [{"Name": "org-*"}],
        {"delegated": True},
        ([(arn("us-east-1", "org-trail", OWNER), [0])], [], [], []),
    ),
    (
        "layers are listed in the state's order, trails by home region",
        [{"Name": arn("us-west-2", "ops")}, {"Name": "*"}, {"Name": "ops"}],
        {"answers": {"us-west-2": [OPS_WEST], "ap-southeast-2": [OPS_SYDNEY]}},
        ([(arn("ap-southeast-2", "ops"), [1, 2]), (arn("us-west-2", "ops"), [0, 1, 2])], [], [], []),
    ),
    (
        "only the trails `only` keeps are matched",
        [{"Name": "w*"}, {"Name": "ops"}],
        {"only": lambda trail: trail["HomeRegion"] == "us-west-2"},
        ([(arn("us-west-2", "ops"), [1])], [], [0], []),
    ),
    (
        "a pattern whose tags are not known leaves the trail to the declarations after it",
        [{"Name": "*", "Match": {"Tags": {"env": "prod"}}}, {"Name": "ops"}],
        {"answers": {"us-west-2": [OPS_WEST]}},
        ([(arn("us-west-2", "ops"), [1])], [], [0], []),
    ),
]


@pytest.mark.parametrize(("entries", "options", "expected"), [c[1:] for c in COVERED], ids=[c[0] for c in COVERED])
def test_each_declaration_covers_the_trails_its_name_and_match_say(
    entries: list[dict[str, Any]], options: dict[str, Any], expected: Outcome
) -> None:
    assert outcome(entries, **options) == expected


def test_a_shadow_standing_for_its_trail_is_the_trail_a_name_covers() -> None:
    declared = state.parse({"trails": [{"Name": "wide", "IsLogging": True}]})
    seen = matching.Seen.from_answers({"us-west-2": [{**WIDE, "Shadow": True}]})
    (found,) = matching.match(declared, seen, caller_account=ACCOUNT).trails
    assert found.trail == {**WIDE, "Shadow": True} and found.declarations == (0,)


def test_a_trail_answered_without_a_name_is_matched_only_by_a_pattern_matching_the_empty_name() -> None:
    nameless = {"TrailARN": arn("us-west-2", "gone"), "HomeRegion": "us-west-2"}
    answers = {"us-west-2": [nameless]}
    assert outcome([{"Name": "?*"}], answers) == ([], [], [0], [])
    assert outcome([{"Name": "*"}], answers) == ([(arn("us-west-2", "gone"), [0])], [], [], [])


# --- Match.Tags: which tags decide, and what they must hold -----------------------------------------------------

PROD = {"Name": "*", "Match": {"Tags": {"env": "prod"}}}
ANY_ENV = {"Name": "*", "Match": {"Tags": {"env": None}}}
TAGGED: list[tuple[str, dict[str, Any], dict[str, dict[str, str]], list[str]]] = [
    ("the value given", PROD, {"prod": {"env": "prod"}, "dev": {"env": "dev"}}, ["prod"]),
    ("null: any value", ANY_ENV, {"prod": {"env": "prod"}, "dev": {"env": "dev", "x": "y"}}, ["dev", "prod"]),
    ("null: the key itself", ANY_ENV, {"prod": {"team": "prod"}, "dev": {}}, []),
    ("tags not read", PROD, {}, []),
    ("every key", {"Name": "*", "Match": {"Tags": {"env": "prod", "team": None}}}, {"prod": {"env": "prod"}}, []),
]


@pytest.mark.parametrize(("pattern", "tags", "expected"), [c[1:] for c in TAGGED], ids=[c[0] for c in TAGGED])
def test_a_pattern_with_match_tags_covers_the_trails_carrying_those_tags(
    pattern: dict[str, Any], tags: dict[str, dict[str, str]], expected: list[str]
) -> None:
    answers = {"eu-west-1": [described("eu-west-1", "dev"), described("eu-west-1", "prod")]}
    by_arn = {arn("eu-west-1", name): carried for name, carried in tags.items()}
    matched, _, _, _ = outcome([pattern], answers, tags=by_arn)
    assert [trail.rsplit("/", 1)[-1] for trail, _ in matched] == expected


@pytest.mark.parametrize(
    ("entries", "delegated", "expected"),
    [
        (
            [{"Name": "*", "Match": {"Tags": {"env": None}}}],
            False,
            ["ap-southeast-2/ops", "eu-west-1/wide", "us-west-2/ops"],
        ),
        (
            [{"Name": "*", "Match": {"Tags": {"env": None}}}],
            True,
            [
                "ap-southeast-2/ops",
                "eu-west-1/wide",
                "us-east-1/org-trail",
                "us-west-2/ops",
            ],
        ),
        ([{"Name": "o*", "Match": {"Tags": {"env": None}, "Regions": ["us-west-2"]}}], False, ["us-west-2/ops"]),
        ([{"Name": "*", "Match": {"Regions": ["us-west-2"]}}, {"Name": "ops"}], False, []),
    ],
    ids=["own-trails-at-home", "delegated-reads-the-organizations", "narrowed-by-name-and-region", "no-match-tags"],
)
def test_tags_are_read_only_for_trails_a_tag_pattern_matches_by_name_and_region(
    entries: list[dict[str, Any]], delegated: bool, expected: list[str]
) -> None:
    declared = state.parse({"trails": [{"IsLogging": True, **entry} for entry in entries]})
    seen = matching.Seen.from_answers(EVERY_REGION)
    needed = matching.tags_needed(declared, seen, ACCOUNT, delegated)
    assert [f"{a.split(':')[3]}/{a.rsplit('/', 1)[-1]}" for a in needed] == expected


def test_tags_are_read_only_for_the_trails_only_keeps() -> None:
    declared = state.parse({"trails": [{"Name": "*", "Match": {"Tags": {"env": None}}, "IsLogging": True}]})
    seen = matching.Seen.from_answers(EVERY_REGION)
    kept = arn("us-west-2", "ops")
    needed = matching.tags_needed(declared, seen, ACCOUNT, only=lambda trail: trail["TrailARN"] == kept)
    assert needed == [kept]


def test_the_trails_seen_are_read_at_home_and_a_failed_home_is_known() -> None:
    seen = matching.Seen.from_answers(WITHOUT_EU, ["eu-west-1", "us-east-1"])
    assert set(seen.trails) == {
        arn("us-west-2", "ops"),
        arn("ap-southeast-2", "ops"),
        WIDE["TrailARN"],
        ORG["TrailARN"],
    }
    assert seen.at_home == {arn("us-west-2", "ops"), arn("ap-southeast-2", "ops"), ORG["TrailARN"]}
    assert seen.home_read == {arn("us-west-2", "ops"), arn("ap-southeast-2", "ops"), WIDE["TrailARN"], ORG["TrailARN"]}
    assert matching.Seen.from_answers(WITHOUT_EU).home_read == seen.at_home


# --- layers ------------------------------------------------------------------------------------------------------

TRAIL = arn("us-east-1", "audit-trail")


def layer(*entries: dict[str, Any], **options: Any) -> matching.Layered:
    declared = state.parse({"trails": list(entries)})
    return matching.layer(declared, list(range(len(entries))), TRAIL, **options)


def differently(first: str, second: str, what: str, shown: str) -> str:
    return (
        f"{first} and {second} both match {TRAIL} and declare {what} differently{shown}: give it one value, "
        "or narrow one of them"
    )


def test_one_declaration_is_its_own_layer_and_the_source_of_each_property() -> None:
    (declared,) = state.parse({"trails": [{"Name": "*", "S3KeyPrefix": "a", "IsLogging": True, "Tags": []}]})
    layered = matching.layer([declared], [0], TRAIL)
    assert layered.declaration is declared and layered.conflicts == ()
    assert layered.sources == {"S3KeyPrefix": (0,), "IsLogging": (0,), "Tags": (0,)}


def test_layers_merge_into_one_declaration_of_the_trail() -> None:
    merged = layer(
        {"Name": "*", "S3KeyPrefix": "base", "Tags": [{"Key": "owner", "Value": "sec"}]},
        {"Name": "audit-*", "IsLogging": True, "EnableLogFileValidation": True, "DryRun": True},
        {"Name": "audit-trail", "S3KeyPrefix": "base", "Tags": [{"Key": "team", "Value": "pay"}]},
    )
    assert merged.conflicts == () and merged.declaration is not None
    declared = merged.declaration
    assert declared.name == TRAIL and declared.dry_run is True and declared.allow_weakening == frozenset()
    assert dict(declared.settings) == {"S3KeyPrefix": "base", "EnableLogFileValidation": True}
    assert dict(declared.aspects) == {"tags": {"owner": "sec", "team": "pay"}, "logging": True}
    assert merged.sources == {
        "S3KeyPrefix": (0, 2),
        "Tags": (0, 2),
        "IsLogging": (1,),
        "EnableLogFileValidation": (1,),
    }


def test_without_dry_run_in_any_layer_the_merged_trail_is_written() -> None:
    merged = layer({"Name": "*", "IsLogging": True}, {"Name": "audit-trail", "S3KeyPrefix": "a"})
    assert merged.declaration is not None and merged.declaration.dry_run is False


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        (True, True, {"KmsKeyId", "IsLogging"}),
        (True, False, set()),
        (False, True, {"IsLogging"}),
        (["KmsKeyId"], True, {"KmsKeyId", "IsLogging"}),
        (["IsLogging"], ["KmsKeyId"], set()),
    ],
)
def test_a_property_may_weaken_audit_only_when_every_layer_declaring_it_allows_that(
    first: object, second: object, allowed: set[str]
) -> None:
    merged = layer(
        {"Name": "*", "KmsKeyId": "", "AllowWeakening": first},
        {"Name": "audit-trail", "KmsKeyId": "", "IsLogging": False, "AllowWeakening": second},
    )
    assert merged.declaration is not None and merged.declaration.allow_weakening == frozenset(allowed)


def test_tags_of_layers_are_one_set_and_each_key_given_two_values_is_named() -> None:
    merged = layer(
        {"Name": "*", "Tags": [{"Key": "owner", "Value": "sec"}, {"Key": "env", "Value": "prod"}]},
        {"Name": "audit-trail", "Tags": [{"Key": "owner", "Value": "pay"}, {"Key": "env", "Value": "dev"}]},
        numbers=[4, 9],
    )
    assert merged.declaration is None
    assert merged.conflicts == (
        differently(
            "trails[4] (*)", "trails[9] (audit-trail)", "Tags", " (owner: 'sec' vs 'pay'; env: 'prod' vs 'dev')"
        ),
    )


def test_a_third_layer_adds_tags_to_the_first_two() -> None:
    merged = layer(
        {"Name": "*", "Tags": [{"Key": "a", "Value": "1"}]},
        {"Name": "audit-*", "Tags": [{"Key": "b", "Value": "2"}]},
        {"Name": "audit-trail", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "c", "Value": "3"}]},
    )
    assert merged.declaration is not None
    assert merged.declaration.aspects["tags"] == {"a": "1", "b": "2", "c": "3"}
    assert merged.sources["Tags"] == (0, 1, 2)


def test_every_conflict_of_every_layer_is_named_not_only_the_first() -> None:
    merged = layer(
        {"Name": "*", "S3KeyPrefix": "a", "Tags": [{"Key": "k", "Value": "1"}], "IsLogging": True},
        {
            "Name": "audit-trail",
            "Tags": [{"Key": "k", "Value": "2"}],
            "S3KeyPrefix": "b",
            "IsLogging": False,
            "SnsTopicName": "topic",
        },
        numbers=[0, 3],
    )
    assert merged.conflicts == (
        differently("trails[0] (*)", "trails[3] (audit-trail)", "S3KeyPrefix", " ('a' vs 'b')"),
        differently("trails[0] (*)", "trails[3] (audit-trail)", "IsLogging", " (True vs False)"),
        differently("trails[0] (*)", "trails[3] (audit-trail)", "Tags", " (k: '1' vs '2')"),
    )


def test_basic_and_advanced_event_selectors_in_two_layers_conflict_naming_both_properties() -> None:
    merged = layer(
        {
            "Name": "*",
            "EventSelectors": [{"ReadWriteType": "All"}],
            "S3KeyPrefix": "a",
            "Tags": [{"Key": "k", "Value": "1"}],
        },
        {
            "Name": "audit-trail",
            "AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}],
            "S3KeyPrefix": "b",
            "Tags": [{"Key": "k", "Value": "2"}],
        },
        numbers=[1, 2],
    )
    assert merged.conflicts == (
        differently("trails[1] (*)", "trails[2] (audit-trail)", "S3KeyPrefix", " ('a' vs 'b')"),
        differently("trails[1] (*)", "trails[2] (audit-trail)", "EventSelectors/AdvancedEventSelectors", ""),
        differently("trails[1] (*)", "trails[2] (audit-trail)", "Tags", " (k: '1' vs '2')"),
    )


ACCOUNT_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALIAS_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/audit"
ROLE = {"CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-logs"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"SnsTopicName": "alerts"}, {"SnsTopicName": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"}),
        ({"SnsTopicName": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"}, {"SnsTopicName": "alerts"}),
        (
            {"CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:audit:*", **ROLE},
            {"CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:audit", **ROLE},
        ),
        ({"KmsKeyId": ALIAS_ARN}, {"KmsKeyId": ACCOUNT_KEY}),
        ({"KmsKeyId": ACCOUNT_KEY}, {"KmsKeyId": "alias/audit"}),
    ],
    ids=["topic-name-then-arn", "topic-arn-then-name", "log-group-star", "alias-arn-and-key", "key-and-alias"],
)
def test_one_value_in_two_forms_is_no_conflict_and_the_first_spelling_is_kept(
    first: dict[str, str], second: dict[str, str]
) -> None:
    keys = {"alias/audit": ACCOUNT_KEY, ALIAS_ARN: ACCOUNT_KEY}
    merged = layer({"Name": "*", **first}, {"Name": "audit-trail", **second}, key_arn=keys.__getitem__)
    assert merged.conflicts == () and merged.declaration is not None
    assert dict(merged.declaration.settings) == first


def test_an_alias_arn_is_looked_up_before_it_conflicts_with_another_key() -> None:
    other = ACCOUNT_KEY.replace("1234abcd", "5678abcd")
    merged = layer(
        {"Name": "*", "KmsKeyId": ALIAS_ARN},
        {"Name": "audit-trail", "KmsKeyId": other},
        key_arn={ALIAS_ARN: ACCOUNT_KEY}.__getitem__,
    )
    assert merged.conflicts == (
        differently(
            "trails[0] (*)",
            "trails[1] (audit-trail)",
            "KmsKeyId",
            f" ({show(ALIAS_ARN)} vs {show(other)}; {ALIAS_ARN} is the key {ACCOUNT_KEY})",
        ),
    )
