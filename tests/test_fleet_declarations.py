"""Declare once for the fleet (issue 16): names found in every region scanned, patterns narrowed by Match,
layers merged per trail, and the AWS calls each costs, counted by operation."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import regions
from devkit import world as seeding

from tests.conftest import RecordingClients
from trailkeeper.aws import locate
from trailkeeper.aws.pacing import Pacer
from trailkeeper.cli.main import main
from trailkeeper.errors import AwsCallFailed, ConflictingDeclarations, show
from trailkeeper.fleet import matching, report, state
from trailkeeper.fleet import reconcile as fleet

ACCOUNT = seeding.ACCOUNT
ENABLED = len(regions.ENABLED_BY_DEFAULT)  # 17


def arn(region: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


def run(entries: list[dict[str, Any]], clients: RecordingClients, **options: Any) -> report.Report:
    options.setdefault("apply", False)
    return fleet.run(
        state.parse({"trails": entries}),
        clients=clients,
        default_region="us-east-1",
        caller_account=ACCOUNT,
        pacer=Pacer(interval=0),
        read_pacer=Pacer(interval=0),
        **options,
    )


def operations(clients: RecordingClients) -> Counter[str]:
    return Counter(c.operation for c in clients.calls)


def found(result: report.Report) -> list[tuple[str | None, str, list[int]]]:
    return [(r.trail_arn, r.status, [index for index, _ in r.declared_by]) for r in result.results]


@pytest.fixture
def fleet_world(world: seeding.World) -> None:
    """audit-trail (us-east-1, from the seed); `ops` single-region in two regions; `wide` multi-region
    homed in eu-west-1 (so a shadow in every other region)."""
    seeding.add_trail("ops", "us-west-2")
    seeding.add_trail("ops", "ap-southeast-2")
    seeding.add_trail("wide", "eu-west-1", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)


# --- names are found wherever they are homed ---------------------------------------------------------


def test_a_name_finds_each_single_region_trail_of_that_name_in_every_enabled_region(
    fleet_world: None, clients: RecordingClients
) -> None:
    result = run([{"Name": "ops", "S3KeyPrefix": "ops"}], clients)
    assert found(result) == [
        (arn("ap-southeast-2", "ops"), "drifted", [0]),
        (arn("us-west-2", "ops"), "drifted", [0]),
    ]
    assert [r.name for r in result.results] == ["ops", "ops"]
    # One DescribeRegions, then one DescribeTrails per enabled region, shared: nothing else before a write.
    assert operations(clients) == Counter({"DescribeRegions": 1, "DescribeTrails": ENABLED})
    assert sorted(c.region for c in clients.named("DescribeTrails")) == sorted(regions.ENABLED_BY_DEFAULT)


def test_a_multi_region_trail_is_matched_once_in_its_home_region(fleet_world: None, clients: RecordingClients) -> None:
    result = run([{"Name": "wide", "S3KeyPrefix": "w"}], clients, apply=True)
    assert found(result) == [(arn("eu-west-1", "wide"), "fixed", [0])]
    (update,) = clients.named("UpdateTrail")
    assert update.region == "eu-west-1"


def test_a_shadow_stands_for_its_trail_when_the_home_region_is_not_scanned(
    fleet_world: None, clients: RecordingClients
) -> None:
    result = run([{"Name": "wide", "S3KeyPrefix": "w"}], clients, regions=["us-east-1"])
    assert found(result) == [(arn("eu-west-1", "wide"), "drifted", [0])]
    assert operations(clients) == Counter({"DescribeTrails": 1})  # regions given: no DescribeRegions


def test_an_opt_in_region_is_scanned_only_once_opted_in(world: seeding.World, clients: RecordingClients) -> None:
    seeding.add_trail("cape", "af-south-1")
    entries = [{"Name": "cape", "S3KeyPrefix": "c"}]
    assert run(entries, clients).results[0].error is not None  # not enabled: not scanned, not found
    assert "af-south-1" not in {c.region for c in clients.named("DescribeTrails")}
    clients.calls.clear()
    with regions.opted_in(ACCOUNT, "af-south-1"):
        assert found(run(entries, clients)) == [(arn("af-south-1", "cape"), "drifted", [0])]
    assert len(clients.named("DescribeTrails")) == ENABLED + 1


def test_regions_given_are_the_only_ones_read(fleet_world: None, clients: RecordingClients) -> None:
    result = run([{"Name": "ops", "S3KeyPrefix": "ops"}], clients, regions=["us-west-2", "eu-west-1"])
    assert found(result) == [(arn("us-west-2", "ops"), "drifted", [0])]
    assert sorted(c.region for c in clients.named("DescribeTrails")) == ["eu-west-1", "us-west-2"]


def test_arns_of_one_region_read_that_region_only_and_list_no_regions(
    fleet_world: None, clients: RecordingClients
) -> None:
    entries = [
        {"Name": arn("us-west-2", "ops"), "S3KeyPrefix": "a"},
        {"Name": arn("us-west-2", "x-y"), "IsLogging": True},
    ]
    result = run(entries, clients)
    assert [r.status for r in result.results] == ["drifted", "failed"]
    assert result.results[1].error is not None and result.results[1].error.error_code == "TrailNotFound"
    assert operations(clients) == Counter({"DescribeTrails": 1}) and clients.calls[0].region == "us-west-2"


def test_a_name_found_nowhere_says_where_it_was_looked_for(world: seeding.World, clients: RecordingClients) -> None:
    (result,) = run([{"Name": "nowhere", "S3KeyPrefix": "n"}], clients).results
    assert result.status == "failed" and result.error is not None
    assert f"no trail named 'nowhere' in the {ENABLED} region(s) scanned (ap-northeast-1, " in result.error.reason
    assert f"and {ENABLED - 5} more; shadow trails included)" in result.error.reason
    assert result.declared_by == ((0, "nowhere"),)


def test_a_region_whose_read_fails_fails_alone(fleet_world: None, clients: RecordingClients) -> None:
    stubber = clients.stub("cloudtrail", "us-west-2")
    stubber.add_client_error("describe_trails", "AccessDeniedException", "no")
    result = run([{"Name": "ops", "S3KeyPrefix": "ops"}], clients, regions=["us-west-2", "ap-southeast-2"])
    outcome = [(r.home_region, r.status, r.error.error_code if r.error else None) for r in result.results]
    assert outcome == [("ap-southeast-2", "drifted", None), ("us-west-2", "failed", "AccessDeniedException")]


# --- patterns ----------------------------------------------------------------------------------------


def test_a_baseline_for_every_trail_fixes_each_once_then_writes_nothing(
    fleet_world: None, clients: RecordingClients
) -> None:
    entries = [{"Name": "*", "EnableLogFileValidation": True}]
    result = run(entries, clients, apply=True)
    assert sorted(r.trail_arn or "" for r in result.results) == sorted(
        [
            arn("us-east-1", "audit-trail"),
            arn("us-west-2", "ops"),
            arn("ap-southeast-2", "ops"),
            arn("eu-west-1", "wide"),
        ]
    )  # the shadows of `wide` are not matched
    assert {r.status for r in result.results} == {"fixed"} and result.warnings == ()
    # At the limit: one DescribeRegions, one DescribeTrails per region, one UpdateTrail per drifted trail,
    # each in its home region; no ListTags (no Match.Tags).
    assert operations(clients) == Counter({"DescribeRegions": 1, "DescribeTrails": ENABLED, "UpdateTrail": 4})
    assert all(c.params["Name"].split(":")[3] == c.region for c in clients.named("UpdateTrail"))
    clients.calls.clear()
    again = run(entries, clients, apply=True)
    assert again.summary()["in_sync"] == 4 and clients.writes() == 0
    assert operations(clients) == Counter({"DescribeRegions": 1, "DescribeTrails": ENABLED})


def test_match_regions_reads_only_those_regions(fleet_world: None, clients: RecordingClients) -> None:
    entries = [{"Name": "o?s", "Match": {"Regions": ["us-west-2", "eu-west-1"]}, "S3KeyPrefix": "x"}]
    result = run(entries, clients)
    assert found(result) == [(arn("us-west-2", "ops"), "drifted", [0])]
    assert operations(clients) == Counter({"DescribeRegions": 1, "DescribeTrails": 2})


def test_match_tags_lists_tags_of_the_name_matches_only_twenty_at_a_time(
    world: seeding.World, clients: RecordingClients
) -> None:
    client = boto3.client("cloudtrail", region_name="eu-west-1")
    for index in range(25):
        made = seeding.add_trail(f"team-{index:02d}", "eu-west-1")
        tags = [{"Key": "team", "Value": "sec" if index % 2 else "ops"}] + (
            [{"Key": "pci", "Value": "1"}] if index < 3 else []
        )
        client.add_tags(ResourceId=made, TagsList=tags)
    seeding.add_trail("other", "eu-west-1")  # the name does not match: its tags are never read
    entries = [
        {"Name": "team-*", "Match": {"Tags": {"team": "sec"}}, "S3KeyPrefix": "sec"},
        {"Name": "team-*", "Match": {"Tags": {"pci": None}, "Regions": ["eu-west-1"]}, "IsLogging": True},
    ]
    result = run(entries, clients, regions=["eu-west-1", "us-east-1"])
    by_trail = {r.name: [i for i, _ in r.declared_by] for r in result.results}
    assert by_trail == {
        **{f"team-{i:02d}": [0] for i in range(3, 25, 2)},
        "team-00": [1], "team-01": [0, 1], "team-02": [1],
    }  # fmt: skip
    batches = [len(c.params["ResourceIdList"]) for c in clients.named("ListTags")]
    assert sorted(batches) == [5, 20] and all(c.region == "eu-west-1" for c in clients.named("ListTags"))
    assert arn("eu-west-1", "other") not in {a for c in clients.named("ListTags") for a in c.params["ResourceIdList"]}


def test_a_pattern_that_matched_nothing_is_a_warning(fleet_world: None, clients: RecordingClients) -> None:
    result = run([{"Name": "ops", "S3KeyPrefix": "o"}, {"Name": "legacy-*", "IsLogging": True}], clients)
    assert result.warnings == (f"trails[1] (legacy-*) matched no trail in the {ENABLED} region(s) scanned",)
    assert "warning: trails[1] (legacy-*) matched no trail" in report.table(result)
    assert result.to_dict()["warnings"] == list(result.warnings)


def test_an_organization_trail_of_another_account_is_noted_once_never_failed(
    fleet_world: None,
    clients: RecordingClients,
    real_aws_rules: dict[str, Any],
) -> None:
    owner = "999988887777"
    org_arn = f"arn:aws:cloudtrail:us-east-1:{owner}:trail/org-trail"
    real_aws_rules.update(
        Name="org-trail", TrailARN=org_arn, HomeRegion="us-east-1", IsMultiRegionTrail=True, IsOrganizationTrail=True
    )
    result = run([{"Name": "*", "IsLogging": True}], clients, apply=True)
    assert org_arn not in {r.trail_arn for r in result.results} and result.count("failed") == 0
    assert [(n.trail_arn, n.owner_account, n.seen_in_accounts) for n in result.not_owned] == [(org_arn, owner, 1)]
    assert org_arn not in {a for c in clients.calls for a in [c.params.get("Name"), c.params.get("TrailName")]}
    assert result.to_dict()["not_owned"] == [{"trail_arn": org_arn, "owner_account": owner, "seen_in_accounts": 1}]


# --- layers ------------------------------------------------------------------------------------------


def test_layers_take_the_union_of_their_properties(fleet_world: None, clients: RecordingClients) -> None:
    entries = [
        {"Name": "*", "EnableLogFileValidation": True},
        {"Name": "ops", "S3KeyPrefix": "ops"},
        {"Name": arn("us-west-2", "ops"), "EnableLogFileValidation": True, "IsLogging": True},
    ]
    result = run(entries, clients, apply=True, regions=["us-west-2"])
    (trail,) = result.results
    assert trail.declared_by == ((0, "*"), (1, "ops"), (2, arn("us-west-2", "ops")))
    assert sorted(c.name for c in trail.changes) == ["EnableLogFileValidation", "IsLogging", "S3KeyPrefix"]
    (update,) = clients.named("UpdateTrail")
    assert set(update.params) == {"Name", "EnableLogFileValidation", "S3KeyPrefix"}
    assert len(clients.named("StartLogging")) == 1


def test_conflicting_layers_are_refused_naming_both_before_any_write(
    fleet_world: None, clients: RecordingClients
) -> None:
    entries = [
        {"Name": "*", "S3KeyPrefix": "base", "EnableLogFileValidation": True},
        {"Name": "audit-trail", "EnableLogFileValidation": True},  # the same value: no conflict
        {"Name": "o*", "S3KeyPrefix": "ops"},
    ]
    with pytest.raises(ConflictingDeclarations) as raised:
        run(entries, clients, apply=True)
    assert raised.value.problems == (
        f"trails[0] (*) and trails[2] (o*) both match {arn('ap-southeast-2', 'ops')} and declare S3KeyPrefix "
        "differently ('base' vs 'ops'): give it one value, or narrow one of them",
        f"trails[0] (*) and trails[2] (o*) both match {arn('us-west-2', 'ops')} and declare S3KeyPrefix "
        "differently ('base' vs 'ops'): give it one value, or narrow one of them",
    )
    assert clients.writes() == 0 and set(operations(clients)) == {"DescribeRegions", "DescribeTrails"}


def test_allow_weakening_applies_to_what_its_own_declaration_declares(
    world: seeding.World, clients: RecordingClients
) -> None:
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(
        Name="audit-trail", EnableLogFileValidation=True, KmsKeyId=world.key_arn
    )
    allowing = {
        "Name": "*",
        "EnableLogFileValidation": False,
        "AllowWeakening": ["EnableLogFileValidation", "KmsKeyId"],
    }
    removing_key = {"Name": "audit-trail", "KmsKeyId": ""}  # allows nothing
    result = run([allowing, removing_key], clients, apply=True, regions=["us-east-1"])
    (trail,) = result.results
    assert trail.status == "failed" and trail.error is not None and trail.error.error_code == "WeakensAudit"
    assert "KmsKeyId" in trail.error.reason and "EnableLogFileValidation" not in trail.error.reason
    assert clients.writes() == 0
    clients.calls.clear()
    removing_key["AllowWeakening"] = True
    (trail,) = run([allowing, removing_key], clients, apply=True, regions=["us-east-1"]).results
    assert trail.status == "fixed" and len(clients.named("UpdateTrail")) == 1


def test_a_layer_that_allows_does_not_allow_for_another_that_declares_the_same_value() -> None:
    declared = state.parse(
        {
            "trails": [
                {"Name": "*", "KmsKeyId": "", "AllowWeakening": True},
                {"Name": "audit-trail", "KmsKeyId": "", "IsLogging": False, "AllowWeakening": ["IsLogging"]},
            ]
        }
    )
    layered = matching.layer(declared, [0, 1], arn("us-east-1", "audit-trail"))
    assert layered.declaration is not None and layered.declaration.allow_weakening == frozenset({"IsLogging"})
    assert layered.sources == {"KmsKeyId": (0, 1), "IsLogging": (1,)}


def test_insights_in_one_layer_need_management_events_from_the_merged_selectors() -> None:
    declared = state.parse(
        {
            "trails": [
                {"Name": "*", "EventSelectors": [{"ReadWriteType": "ReadOnly"}]},
                {"Name": "audit-trail", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]},
            ]
        }
    )
    layered = matching.layer(declared, [0, 1], arn("us-east-1", "audit-trail"))
    assert layered.declaration is None
    assert layered.conflicts == (
        f"{arn('us-east-1', 'audit-trail')}, declared by 2 declarations: InsightSelectors: ApiCallRateInsight "
        "needs the event selectors to log write management events",
    )


@pytest.mark.parametrize(
    ("baseline", "own"),
    [
        ({"SnsTopicName": seeding.TOPIC}, {"SnsTopicName": f"arn:aws:sns:us-east-1:{ACCOUNT}:{seeding.TOPIC}"}),
        (
            {"CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{seeding.LOG_GROUP}:*"},
            {"CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{seeding.LOG_GROUP}"},
        ),
        ({"KmsKeyId": "KEY_ID"}, {"KmsKeyId": "KEY_ARN"}),
        ({"KmsKeyId": seeding.ALIAS}, {"KmsKeyId": "KEY_ARN"}),
        ({"KmsKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:{seeding.ALIAS}"}, {"KmsKeyId": "KEY_ARN"}),
    ],
    ids=["sns-name-and-arn", "log-group-with-and-without-star", "key-id-and-arn", "alias-and-arn", "alias-arn-and-arn"],
)
def test_layers_declaring_one_value_in_two_forms_do_not_conflict(
    world: seeding.World, clients: RecordingClients, baseline: dict[str, str], own: dict[str, str]
) -> None:
    """`export` writes the ARN forms; a baseline `Name: "*"` layer written by hand names a key by its alias, a
    topic by its name: the engine compares them alike, so layering does too (issue 23)."""

    def spelled(values: dict[str, str]) -> dict[str, str]:
        known = {"KEY_ID": world.key_id, "KEY_ARN": world.key_arn}
        role = {"CloudWatchLogsRoleArn": world.role_arn} if "CloudWatchLogsLogGroupArn" in values else {}
        return {**{k: known.get(v, v) for k, v in values.items()}, **role}

    entries = [{"Name": "*", **spelled(baseline)}, {"Name": arn("us-east-1", "audit-trail"), **spelled(own)}]
    result = run(entries, clients, apply=True, regions=["us-east-1"])
    (trail,) = result.results
    assert trail.status == "fixed", trail.error
    assert len(clients.named("DescribeKey")) <= 1  # an alias: the one lookup the engine makes, shared
    clients.calls.clear()
    (again,) = run(entries, clients, regions=["us-east-1"]).results
    assert again.status == "in_sync" and clients.writes() == 0


def test_one_key_by_alias_and_another_by_arn_still_conflict(world: seeding.World, clients: RecordingClients) -> None:
    other = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    entries = [{"Name": "*", "KmsKeyId": seeding.ALIAS}, {"Name": "audit-trail", "KmsKeyId": other}]
    with pytest.raises(ConflictingDeclarations) as raised:
        run(entries, clients, apply=True, regions=["us-east-1"])
    (problem,) = raised.value.problems
    assert "declare KmsKeyId differently" in problem and seeding.ALIAS in problem and world.key_arn in problem
    assert clients.writes() == 0 and len(clients.named("DescribeKey")) == 1


def test_an_alias_that_cannot_be_looked_up_is_a_conflict_saying_why(
    world: seeding.World, clients: RecordingClients
) -> None:
    entries = [{"Name": "*", "KmsKeyId": "alias/nothing-here"}, {"Name": "audit-trail", "KmsKeyId": world.key_arn}]
    with pytest.raises(ConflictingDeclarations) as raised:
        run(entries, clients, apply=True, regions=["us-east-1"])
    (problem,) = raised.value.problems
    assert "alias/nothing-here" in problem and "NotFoundException" in problem
    assert clients.writes() == 0


def test_tags_of_two_layers_merge_and_only_one_key_with_two_values_conflicts(
    world: seeding.World, clients: RecordingClients
) -> None:
    baseline = {"Name": "*", "Tags": [{"Key": "owner", "Value": "security"}]}
    own = {"Name": "audit-trail", "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "owner", "Value": "security"}]}
    (trail,) = run([baseline, own], clients, apply=True, regions=["us-east-1"]).results
    assert trail.status == "fixed", trail.error
    listed = boto3.client("cloudtrail", region_name="us-east-1").list_tags(ResourceIdList=[world.trail_arn])
    assert {t["Key"]: t["Value"] for t in listed["ResourceTagList"][0]["TagsList"]} == {
        "owner": "security",
        "team": "payments",
    }
    clashing = {"Name": "audit-trail", "Tags": [{"Key": "owner", "Value": "payments"}]}
    with pytest.raises(ConflictingDeclarations) as raised:
        run([baseline, clashing], clients, apply=True, regions=["us-east-1"])
    (problem,) = raised.value.problems
    assert "declare Tags differently" in problem and "owner" in problem and "'security' vs 'payments'" in problem


# --- the CLI -----------------------------------------------------------------------------------------


def cli(tmp_path: Path, text: str, *argv: str) -> tuple[int, str, str]:
    path = tmp_path / "desired.yaml"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    return main(["plan", "-f", str(path), *argv], out=out, err=err), out.getvalue(), err.getvalue()


def test_plan_of_a_state_that_matches_no_trail_is_an_error(tmp_path: Path, fleet_world: None) -> None:
    code, out, err = cli(tmp_path, "trails:\n  - Name: legacy-*\n    IsLogging: true\n", "--json")
    assert code == report.EXIT_FAILED
    document = json.loads(out)
    jsonschema.validate(document, report.SCHEMA)
    assert document["error"]["code"] == "NothingMatched"
    assert "trailkeeper: warning: trails[0] (legacy-*) matched no trail in the 17 region(s) scanned" in err


def test_the_json_report_says_which_declarations_matched_each_trail(tmp_path: Path, fleet_world: None) -> None:
    text = "trails:\n  - Name: '*'\n    S3KeyPrefix: base\n  - Name: wide\n    EnableLogFileValidation: true\n"
    code, out, _ = cli(tmp_path, text, "--json", "--region", "eu-west-1")
    document = json.loads(out)
    jsonschema.validate(document, report.SCHEMA)
    assert code == report.EXIT_DRIFT
    (trail,) = document["trails"]
    assert trail["name"] == "wide" and trail["declared_by"] == [{"index": 0, "name": "*"}, {"index": 1, "name": "wide"}]
    code, out, _ = cli(tmp_path, text, "--region", "eu-west-1")
    assert out.splitlines()[1].split()[:6] == ["wide", "[0]", "*,", "[1]", "wide", "eu-west-1"]


def test_a_declaration_can_only_narrow_a_pattern_with_match() -> None:
    with pytest.raises(Exception, match="Match: narrows a pattern"):
        state.parse({"trails": [{"Name": "ops", "Match": {"Regions": ["eu-west-1"]}}]})


def test_regions_to_read_follow_the_declarations() -> None:
    declared = state.parse(
        {
            "trails": [
                {"Name": arn("eu-west-1", "a-trail")},
                {"Name": "ops-*", "Match": {"Regions": ["us-west-2", "ca-west-1"]}},
            ]
        }
    )
    assert matching.regions_to_read(declared, ["us-east-1", "us-west-2"]) == ["us-west-2", "eu-west-1"]
    assert matching.regions_to_read(declared[:1], ["us-east-1", "us-west-2"]) == ["eu-west-1"]
    assert not matching.needs_region_list(declared[:1]) and matching.needs_region_list(declared)


def test_list_tags_is_batched_per_home_region(aws: None, clients: RecordingClients) -> None:
    from trailkeeper.aws.calls import Deadline

    trails = [arn("eu-west-1", f"t-{i:02d}") for i in range(21)] + [arn("us-east-1", "solo")]
    for region in ("eu-west-1", "us-east-1"):
        stubber = clients.stub("cloudtrail", region)
        mine = [t for t in trails if f":{region}:" in t]
        for start in range(0, len(mine), 20):
            batch = mine[start : start + 20]
            answer = {
                "ResourceTagList": [{"ResourceId": t, "TagsList": [{"Key": "k", "Value": t[-2:]}]} for t in batch]
            }
            stubber.add_response("list_tags", answer, {"ResourceIdList": batch})
    tags = locate.tags(clients, trails, Deadline())
    assert len(tags) == 22 and tags[arn("eu-west-1", "t-20")] == {"k": "20"}
    assert [len(c.params["ResourceIdList"]) for c in clients.named("ListTags")] == [20, 1, 1]


def test_a_pattern_may_repeat_with_another_match_but_a_name_may_not() -> None:
    prod = {"Name": "*", "Match": {"Tags": {"env": "prod"}}, "IsLogging": True}
    dev = {"Name": "*", "Match": {"Tags": {"env": "dev"}}, "IsLogging": False}
    assert len(state.parse({"trails": [prod, dev]})) == 2
    with pytest.raises(
        Exception, match=r"trails\[1\] \(\*\): Name '\*' is already declared by trails\[0\] \(\*\) with the same Match"
    ):
        state.parse({"trails": [prod, {**prod, "IsLogging": False}]})
    with pytest.raises(Exception, match="already declared by trails"):
        state.parse({"trails": [{"Name": "ops"}, {"Name": "ops", "IsLogging": True}]})


def test_the_examples_in_docs_fleet_are_valid_states() -> None:
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "fleet.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    assert len(blocks) == 3
    for block in blocks:
        assert state.loads(block, "docs/fleet.md")


def test_a_denied_region_listing_says_what_to_grant_or_pass(world: seeding.World, clients: RecordingClients) -> None:
    from trailkeeper.errors import AwsCallFailed

    clients.stub("ec2", "us-east-1").add_client_error("describe_regions", "UnauthorizedOperation", "not authorized")
    with pytest.raises(AwsCallFailed) as raised:
        run([{"Name": "*", "IsLogging": True}], clients)
    assert raised.value.reason == (
        "UnauthorizedOperation: may not call ec2:DescribeRegions, which lists the regions enabled for the account "
        "(names and patterns are looked for in each): grant it, or name the regions (--region on the command line, "
        '"regions" in an audit event)'
    )
    assert clients.named("DescribeTrails") == []


def test_a_failed_home_region_is_reported_not_stood_in_for_by_a_shadow(
    fleet_world: None, clients: RecordingClients
) -> None:
    clients.stub("cloudtrail", "eu-west-1").add_client_error("describe_trails", "AccessDeniedException", "no")
    result = run([{"Name": "wide", "S3KeyPrefix": "w"}], clients, regions=["eu-west-1", "us-east-1"])
    outcome = [(r.home_region, r.status, r.error.error_code if r.error else None) for r in result.results]
    assert outcome == [("eu-west-1", "failed", "AccessDeniedException")]


# --- two layers' values compared as the engine compares them (matching.layer, no AWS) ---------------------------

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5678abcd-12ab-34cd-56ef-1234567890ab"
KEYS = {"alias/audit": KEY, "alias/other": OTHER_KEY}


def layered(first: dict[str, Any], second: dict[str, Any], **kw: Any) -> matching.Layered:
    declared = state.parse({"trails": [{"Name": "*", **first}, {"Name": "audit-trail", **second}]})
    return matching.layer(declared, [0, 1], arn("us-east-1", "audit-trail"), **kw)


def looked_up(alias: str) -> str:
    if alias not in KEYS:
        raise AwsCallFailed("NotFoundException", "DescribeKey", f"Alias {alias} is not found.")
    return KEYS[alias]


def differently(what: str, shown: str) -> str:
    return (
        f"trails[0] (*) and trails[1] (audit-trail) both match {arn('us-east-1', 'audit-trail')} and declare "
        f"{what} differently{shown}: give it one value, or narrow one of them"
    )


def test_a_key_id_and_its_arn_are_one_value() -> None:
    merged = layered({"KmsKeyId": KEY}, {"KmsKeyId": KEY.rsplit("/", 1)[-1]})
    assert merged.conflicts == () and merged.declaration is not None
    assert merged.declaration.settings["KmsKeyId"] == KEY  # the first layer's spelling


def test_an_alias_and_the_arn_of_another_key_conflict_naming_the_key_the_alias_is() -> None:
    assert layered({"KmsKeyId": KEY}, {"KmsKeyId": "alias/other"}, key_arn=looked_up).conflicts == (
        differently("KmsKeyId", f" ({show(KEY)} vs 'alias/other'; alias/other is the key {OTHER_KEY})"),
    )
    assert layered({"KmsKeyId": "alias/audit"}, {"KmsKeyId": OTHER_KEY}, key_arn=looked_up).conflicts == (
        differently("KmsKeyId", f" ('alias/audit' vs {show(OTHER_KEY)}; alias/audit is the key {KEY})"),
    )


def test_two_aliases_of_two_keys_conflict_naming_both() -> None:
    assert layered({"KmsKeyId": "alias/audit"}, {"KmsKeyId": "alias/other"}, key_arn=looked_up).conflicts == (
        differently(
            "KmsKeyId",
            f" ('alias/audit' vs 'alias/other'; alias/audit is the key {KEY}, alias/other is the key {OTHER_KEY})",
        ),
    )


def test_an_alias_of_the_same_key_is_one_value() -> None:
    assert layered({"KmsKeyId": KEY}, {"KmsKeyId": "alias/audit"}, key_arn=looked_up).conflicts == ()


def test_an_alias_that_cannot_be_looked_up_is_named_whichever_layer_gives_it() -> None:
    for first, second in ((KEY, "alias/gone"), ("alias/gone", KEY)):
        (conflict,) = layered({"KmsKeyId": first}, {"KmsKeyId": second}, key_arn=looked_up).conflicts
        assert conflict == differently(
            "KmsKeyId",
            f" ({show(first)} vs {show(second)}; alias/gone could not be looked up to compare: "
            "NotFoundException: Alias alias/gone is not found.)",
        )


def test_without_a_lookup_an_alias_and_an_arn_are_two_values() -> None:
    assert layered({"KmsKeyId": KEY}, {"KmsKeyId": "alias/audit"}).conflicts == (
        differently("KmsKeyId", f" ({show(KEY)} vs 'alias/audit')"),
    )


def test_only_a_key_is_read_as_a_key() -> None:
    key_id = KEY.rsplit("/", 1)[-1]  # as a prefix, a key's id is not that key's ARN
    assert layered({"S3KeyPrefix": key_id}, {"S3KeyPrefix": KEY}).conflicts == (
        differently("S3KeyPrefix", f" ('{key_id}' vs {show(KEY)})"),
    )


def test_two_values_too_long_for_a_line_are_not_shown() -> None:
    (conflict,) = layered(
        {"EventSelectors": [{"ReadWriteType": "All"}]}, {"EventSelectors": [{"ReadWriteType": "ReadOnly"}]}
    ).conflicts
    assert conflict == differently("EventSelectors", "")
