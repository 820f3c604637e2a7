"""`trailkeeper export`: every trail once, every aspect in the form the engine compares, and it round-trips.

The world is every shape of trail the fidelity layer can make (devkit.fidelity holds moto to CloudTrail's
behaviour): the default selector, basic selectors with data events and exclusions, advanced selectors,
Insights with categories, a KMS alias given at creation, an SNS topic by name, a log group, tags (and
CloudFormation's own `aws:` tags), a stopped trail, a multi-region trail homed elsewhere, an organization
trail. An export of it, planned with `trailkeeper plan -f`, finds every trail in sync and writes nothing.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import cfnlint.api
import pytest
import yaml
from devkit import fidelity, regions, template
from devkit.cfn_server import ResponseServer
from devkit.recording import RecordingClients
from moto import mock_aws

from tests.conftest import CLOUDTRAIL_WRITES as WRITES
from tests.conftest import Invoker
from trailkeeper import handler, permissions
from trailkeeper.aws.calls import Deadline
from trailkeeper.aws.pacing import Pacer
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.cli import connection, output_file
from trailkeeper.cli import main as cli
from trailkeeper.cli.main import main
from trailkeeper.errors import InvalidArguments
from trailkeeper.export import declare as trail_export
from trailkeeper.export import read as export
from trailkeeper.export import write as export_files
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state
from trailkeeper.trail import aspects, declaration

ACCOUNT, HOME, OTHER = "111122223333", "us-east-1", "eu-west-1"
BUCKET = "audit-logs-111122223333"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def arn(name: str, region: str = HOME) -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setattr(output_file, "now", lambda: NOW)
    with fidelity.cloudtrail_as_aws(), mock_aws():
        yield


def _make_every_shape() -> dict[str, str]:
    """One trail of each shape; returns name -> ARN."""
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    boto3.client("sns", region_name=HOME).create_topic(Name="deliveries")
    kms = boto3.client("kms", region_name=HOME)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/audit", TargetKeyId=key["KeyId"])
    boto3.client("logs", region_name=HOME).create_log_group(logGroupName="trail-events")
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    role = boto3.client("iam").create_role(RoleName="trail-to-logs", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    boto3.client("organizations", region_name=HOME).create_organization(FeatureSet="ALL")
    home = boto3.client("cloudtrail", region_name=HOME)

    def make(name: str, client: Any = home, **settings: Any) -> str:
        return str(client.create_trail(Name=name, S3BucketName=BUCKET, **settings)["TrailARN"])

    made = {"default": make("default")}
    made["basic-data"] = make("basic-data")
    home.put_event_selectors(
        TrailName="basic-data",
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [
                    {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/", "arn:aws:s3:::b/"]}
                ],
                "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            },
            {
                "ReadWriteType": "ReadOnly",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}],
            },
        ],
    )
    made["advanced"] = make("advanced")
    home.put_event_selectors(
        TrailName="advanced",
        AdvancedEventSelectors=[
            {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {
                "Name": "s3 writes",
                "FieldSelectors": [
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                    {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{BUCKET}/"], "NotEndsWith": [".tmp"]},
                ],
            },
        ],
    )
    made["insights"] = make("insights")
    home.put_event_selectors(
        TrailName="insights",
        EventSelectors=[
            {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
        ],
    )
    home.put_insight_selectors(
        TrailName="insights",
        InsightSelectors=[
            {"InsightType": "ApiCallRateInsight"},
            {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Management", "Data"]},
        ],
    )
    made["kms-alias"] = make("kms-alias", KmsKeyId="alias/audit")
    made["sns-name"] = make("sns-name", SnsTopicName="deliveries")
    made["log-group"] = make(
        "log-group",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:trail-events:*",
        CloudWatchLogsRoleArn=role["Arn"],
        EnableLogFileValidation=True,
        S3KeyPrefix="cw",
    )
    made["tagged"] = make("tagged", TagsList=[{"Key": "team", "Value": "security"}, {"Key": "cost", "Value": "audit"}])
    fidelity.seed_cloudformation_tags(made["tagged"])
    made["stopped"] = make("stopped")
    home.start_logging(Name="stopped")
    home.stop_logging(Name="stopped")
    for name in ("default", "basic-data", "advanced", "insights", "tagged", "log-group"):
        home.start_logging(Name=name)
    other = boto3.client("cloudtrail", region_name=OTHER)
    made["multi"] = make("multi", other, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    other.start_logging(Name="multi")
    made["organization"] = make("organization", IsOrganizationTrail=True, IsMultiRegionTrail=True)
    return made


@pytest.fixture
def every_shape(account: None) -> dict[str, str]:
    return _make_every_shape()


def _export(clients: RecordingClients, regions: tuple[str, ...] = (HOME, OTHER)) -> export.Export:
    return export.export_account(
        clients,
        list(regions),
        account=ACCOUNT,
        default_region=HOME,
        read_pacer=Pacer(interval=0),
    )


def _plan(text: str, clients: RecordingClients, apply: bool = False) -> Any:
    return fleet.run(
        state.loads(text, "export.yaml"),
        clients=clients,
        default_region=HOME,
        caller_account=ACCOUNT,
        apply=apply,
        pacer=Pacer(interval=0),
        read_pacer=Pacer(interval=0),
        deadline=Deadline(),
    )


def test_every_shape_round_trips_plan_finds_every_trail_in_sync_and_writes_nothing(every_shape: dict[str, str]) -> None:
    result = _export(RecordingClients())
    assert result.complete and [t.trail_arn for t in result.trails] == sorted(
        every_shape.values(), key=lambda a: (a.split(":")[3], a)
    )
    text = export_files.state_file(result, caller_account=ACCOUNT, now=NOW)
    clients = RecordingClients()
    for apply in (False, True):
        report = _plan(text, clients, apply=apply)
        assert {r.status for r in report.results} == {"in_sync"}, [r.to_dict() for r in report.results if r.changes]
        assert len(report.results) == len(every_shape)
    assert [c.operation for c in clients.calls if c.operation in WRITES] == []


def test_each_aspect_is_exported_in_the_form_the_engine_compares(every_shape: dict[str, str]) -> None:
    by_name = {t.properties["Name"].rsplit("/", 1)[1]: t.properties for t in _export(RecordingClients()).trails}
    key = boto3.client("kms", region_name=HOME).describe_key(KeyId="alias/audit")["KeyMetadata"]["Arn"]
    assert by_name["kms-alias"]["KmsKeyId"] == key  # the key's ARN, not the alias given at creation
    assert by_name["sns-name"]["SnsTopicName"] == f"arn:aws:sns:{HOME}:{ACCOUNT}:deliveries"
    assert by_name["log-group"]["CloudWatchLogsLogGroupArn"].endswith("log-group:trail-events:*")
    assert by_name["tagged"]["Tags"] == [{"Key": "cost", "Value": "audit"}, {"Key": "team", "Value": "security"}]
    assert by_name["default"]["EventSelectors"] == [{"ReadWriteType": "All"}]
    assert "AdvancedEventSelectors" in by_name["advanced"] and "EventSelectors" not in by_name["advanced"]
    assert by_name["insights"]["InsightSelectors"] == [
        {"InsightType": "ApiCallRateInsight"},
        {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data", "Management"]},
    ]
    assert by_name["default"]["InsightSelectors"] == []
    assert (by_name["stopped"]["IsLogging"], by_name["default"]["IsLogging"]) == (False, True)
    assert by_name["multi"]["IsMultiRegionTrail"] is True and by_name["organization"]["IsOrganizationTrail"] is True
    assert list(by_name["default"])[:2] == ["Name", "S3BucketName"]  # Name first, then the settings table's order


def test_reads_are_at_the_limit(every_shape: dict[str, str]) -> None:
    clients = RecordingClients()
    _export(clients)
    counts: dict[str, int] = {}
    for made in clients.calls:
        counts[made.operation] = counts.get(made.operation, 0) + 1
    trails = len(every_shape)
    with_selectors = 3  # basic-data, advanced, insights: the others answer from HasCustomEventSelectors false
    assert counts == {
        "DescribeTrails": 2,  # one per region
        "ListTags": 2,  # one per home region (at most 20 trails each)
        "GetTrailStatus": trails,
        "GetEventSelectors": with_selectors,
        "GetInsightSelectors": 1,  # only the trail whose HasInsightSelectors is true
    }
    assert all(
        c.region == c.params.get("TrailName", c.params.get("Name", "x")).split(":")[3]
        for c in clients.calls
        if c.operation.startswith("Get")
    )  # in each trail's home region


def test_an_export_nobody_watches_collects_its_regions_at_once(
    every_shape: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An organization's export gives each account no progress: as in its plan, no thread wakes for each region.
    watched = export.export_account(
        RecordingClients(), [HOME, OTHER], account=ACCOUNT, default_region=HOME, progress=lambda *_: None
    )

    def one_by_one(*_: object) -> None:
        raise AssertionError("waited on each region's answer in turn, with nobody watching")

    monkeypatch.setattr(fleet, "as_completed", one_by_one)
    alone = _export(RecordingClients())
    assert (
        sorted(t.trail_arn for t in alone.trails)
        == sorted(t.trail_arn for t in watched.trails)
        == sorted(every_shape.values())
    )


def test_list_tags_takes_at_most_20_trails_per_call(account: None) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    home = boto3.client("cloudtrail", region_name=HOME)
    for number in range(45):
        home.create_trail(Name=f"t{number:02}", S3BucketName=BUCKET)
    clients = RecordingClients()
    result = _export(clients, (HOME,))
    assert len(result.trails) == 45
    assert [len(c.params["ResourceIdList"]) for c in clients.named("ListTags")] == [20, 20, 5]


def test_reads_are_paced_per_region(every_shape: dict[str, str]) -> None:
    waited: list[str] = []

    class Counting(Pacer):
        def wait(self, region: str) -> None:
            waited.append(region)

    clients = RecordingClients()
    export.export_account(
        clients,
        [HOME, OTHER],
        account=ACCOUNT,
        default_region=HOME,
        read_pacer=Counting(interval=0),
    )
    per_trail_reads = [c for c in clients.calls if c.operation != "DescribeTrails"]
    assert len(waited) == len(per_trail_reads) and sorted(waited) == sorted(c.region for c in per_trail_reads)


def test_shadows_are_skipped_and_an_unscanned_home_is_not_exported(every_shape: dict[str, str]) -> None:
    result = _export(RecordingClients(), (HOME,))
    exported = {t.trail_arn for t in result.trails}
    assert every_shape["multi"] not in exported  # homed in eu-west-1, seen in us-east-1 only as a shadow
    assert len(exported) == len(every_shape) - 1
    result = _export(RecordingClients(), (OTHER,))
    assert [t.trail_arn for t in result.trails] == [every_shape["multi"]]  # the org trail's shadow skipped


def test_an_organization_trail_seen_from_a_member_account_is_noted_not_exported(account: None) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    boto3.client("cloudtrail", region_name=HOME).create_trail(Name="mine", S3BucketName=BUCKET)
    clients = RecordingClients()
    stubber_answer = boto3.client("cloudtrail", region_name=HOME).describe_trails(includeShadowTrails=True)
    org = {
        "Name": "org",
        "TrailARN": "arn:aws:cloudtrail:us-east-1:999999999999:trail/org",
        "HomeRegion": HOME,
        "IsOrganizationTrail": True,
        "IsMultiRegionTrail": True,
        "S3BucketName": "org-logs",
    }
    stubber = clients.stub("cloudtrail", HOME)
    stubber.add_response("describe_trails", {"trailList": [*stubber_answer["trailList"], org]})
    stubber.add_response("list_tags", {"ResourceTagList": []})
    stubber.add_response("get_trail_status", {"IsLogging": True})
    result = export.export_account(clients, [HOME], account=ACCOUNT, default_region=HOME, read_pacer=Pacer(interval=0))
    assert [t.trail_arn for t in result.trails] == [arn("mine")]
    assert result.copies == (org["TrailARN"],)
    stubber.assert_no_pending_responses()


def test_a_trail_that_cannot_be_read_is_a_failure_not_a_silent_gap(every_shape: dict[str, str], tmp_path: Path) -> None:
    clients = RecordingClients()
    real = clients.cloudtrail(HOME)

    class Denied:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def get_event_selectors(self, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            if kwargs["TrailName"].endswith("/advanced"):
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetEventSelectors")
            return real.get_event_selectors(**kwargs)

    clients.stubbed[("cloudtrail", HOME)] = Denied()
    result = _export(clients)
    assert [f.where for f in result.failures] == [every_shape["advanced"]]
    assert every_shape["advanced"] not in {t.trail_arn for t in result.trails}
    text = export_files.state_file(result, caller_account=ACCOUNT, now=NOW)
    assert "INCOMPLETE: 1 part(s) could not be read" in text and every_shape["advanced"] in text.split("trails:")[0]


def test_the_aspect_renderers_cover_every_aspect_and_parse_back() -> None:
    assert set(trail_export.RENDER) == {aspect.name for aspect in aspects.OTHERS}


# --- the command ---------------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_command_writes_a_state_that_plan_finds_in_sync(every_shape: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "trails.yaml"
    code, out, err = run("export", "-o", str(target), "--region", HOME, "--region", OTHER)
    assert (code, out) == (0, ""), err
    assert err.startswith(f"trailkeeper: exported {len(every_shape)} trail(s) from 2 region(s) to {target}")
    text = target.read_text()
    assert text.splitlines()[0] == (
        f"# Exported by trailkeeper {__import__('trailkeeper').__version__} at 2026-11-30T09:30:00Z from account "
        f"{ACCOUNT}, 2 region(s): us-east-1, eu-west-1: {len(every_shape)} trail(s)."
    )
    code, out, err = run("plan", "-f", str(target))
    assert code == 0, out + err
    assert (
        out.splitlines()[-1]
        == f"plan: {len(every_shape)} trail(s): {len(every_shape)} in sync, 0 drifted, 0 fixed, 0 failed"
    )


def test_the_same_trails_export_to_the_same_text(every_shape: dict[str, str]) -> None:
    first = run("export", "--region", HOME, "--region", OTHER)[1]
    assert first == run("export", "--region", OTHER, "--region", HOME)[1].replace(
        "eu-west-1, us-east-1", "us-east-1, eu-west-1"
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--region", "mars-north-1"], "unknown region 'mars-north-1'"),
        (["-o", "/nonexistent-folder/x.yaml"], "does not exist"),
        (["-o", "/"], "is a directory"),
        (["-o", "trails.json"], "trailkeeper writes YAML"),
        (["--format", "cloudformation", "--organization"], "no -o with --organization / --accounts: --format"),
        (["--format", "cloudformation", "--accounts", "a.yml", "-o", "adopt.yaml"], "names a file: --format"),
        (["--format", "cloudformation", "--organization", "-o", "/no-such-folder/t"], "does not exist"),
        (["--ou", "ou-ab12-abcdefgh"], "--ou selects accounts of the organization"),
        (["--format", "terraform"], "invalid choice"),
    ],
)
def test_bad_input_is_a_clear_error_exit_1_and_no_call(argv: list[str], words: str, account: None) -> None:
    code, out, err = run("export", *argv)
    assert code == 1 and out == "" and words in err, err


def test_an_unwritable_output_is_refused_before_any_call(account: None, tmp_path: Path) -> None:
    # /sys refuses new files even to root (tests may run as root, to whom permission bits mean nothing).
    code, out, err = run("export", "-o", "/sys/trails.yaml")
    assert (code, out) == (1, "") and "cannot write in '/sys'" in err, err
    existing = tmp_path / "trails.yaml"
    existing.write_text("kept")
    code, _, err = run("export", "-o", str(existing), "--region", "mars-north-1")
    assert code == 1 and existing.read_text() == "kept" and not list(tmp_path.glob(".*tmp"))


def test_declaration_parse_of_an_export_gives_the_values_read(every_shape: dict[str, str]) -> None:
    for trail in _export(RecordingClients()).trails:
        declared = declaration.parse(dict(trail.properties))
        assert set(declared.aspects) == {aspect.name for aspect in aspects.OTHERS}


def test_the_state_file_is_yaml_with_the_header_as_comments(every_shape: dict[str, str]) -> None:
    text = export_files.state_file(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW)
    assert text.startswith("# Exported by trailkeeper")
    assert next(line for line in text.splitlines() if not line.startswith("#")) == "trails:"
    assert len(yaml.safe_load(text)["trails"]) == len(every_shape)


def test_every_call_export_makes_is_one_the_templates_grant(every_shape: dict[str, str]) -> None:
    # member-role.yaml grants permissions.required() in each account of an organization run.
    clients = RecordingClients()
    _export(clients)
    made = {f"{c.service}:{c.operation}" for c in clients.calls}
    assert made == {
        f"cloudtrail:{name}"
        for name in ("DescribeTrails", "ListTags", "GetTrailStatus", "GetEventSelectors", "GetInsightSelectors")
    }
    assert made <= permissions.required()


# --- --format cloudformation ---------------------------------------------------------------------------


def _resources(text: str) -> dict[str, Any]:
    return dict(yaml.safe_load(text)["Resources"])


def test_the_template_is_cfn_lint_clean(every_shape: dict[str, str]) -> None:
    text = export_files.template(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW)
    assert cfnlint.api.lint(text, regions=[HOME]) == []
    assert cfnlint.api.lint(text.replace("Custom::TrailSettings", "AWS::CloudTrail::Nope"), regions=[HOME]) != []


def test_the_template_imports_the_providers_token_and_spells_values_as_cloudformation_passes_them(
    every_shape: dict[str, str],
) -> None:
    loaded = yaml.safe_load(export_files.template(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW))
    assert loaded["Parameters"]["ProviderStackName"]["Default"] == "trailkeeper"
    provider_export = template.load()["Outputs"]["ServiceToken"]["Export"]["Name"]
    assert provider_export == {"Fn::Sub": "${AWS::StackName}-ServiceToken"}  # what the import names
    for resource in loaded["Resources"].values():
        properties = resource["Properties"]
        assert resource["Type"] == "Custom::TrailSettings"
        assert properties["ServiceToken"] == {"Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}}
        scalars: list[object] = []
        pending: list[object] = [v for k, v in properties.items() if k != "ServiceToken"]
        while pending:
            value = pending.pop()
            if isinstance(value, dict):
                pending.extend(value.values())
            elif isinstance(value, list):
                pending.extend(value)
            else:
                scalars.append(value)
        assert all(isinstance(scalar, str) for scalar in scalars)  # CloudFormation passes strings


def test_deploying_the_template_adopts_every_trail_with_zero_writes(
    every_shape: dict[str, str], cfn: ResponseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = RecordingClients()
    resource = TrailSettingsResource(
        clients=lambda: clients, sender=response.Sender(ssl_context=cfn.client_context(), sleep=lambda _: None)
    )
    monkeypatch.setattr(handler, "RESOURCE", resource)
    invoke = Invoker(cfn)
    text = export_files.template(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW)
    stack = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:stack/adopted/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
    adopted = []
    for logical_id, declared in _resources(text).items():
        properties = dict(declared["Properties"], ServiceToken="arn:aws:lambda:us-east-1:111122223333:function:tk")
        answer = invoke("create", ResourceProperties=properties, StackId=stack, LogicalResourceId=logical_id)
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert answer["Data"]["ChangedProperties"] == "", (logical_id, answer["Data"])
        adopted.append(answer["PhysicalResourceId"])
    assert sorted(adopted) == sorted(every_shape.values())
    assert [c.operation for c in clients.calls if c.operation in WRITES] == []


def test_logical_ids_are_unique_valid_and_derived_from_the_names(account: None) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    for region, name in ((HOME, "audit"), (OTHER, "audit"), (HOME, "org.audit"), (HOME, "org_audit"), (HOME, "9lives")):
        boto3.client("cloudtrail", region_name=region).create_trail(Name=name, S3BucketName=BUCKET)
    text = export_files.template(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW)
    names = {logical: res["Properties"]["Name"] for logical, res in _resources(text).items()}
    assert len(names) == 5 and all(re.fullmatch(r"[A-Za-z0-9]{1,255}", logical) for logical in names)
    # Each id says the trail's name and region, and a digest of its ARN tells apart what the name's letters
    # cannot (org.audit and org_audit): the same id whatever other trails exist (issue 23).
    assert sorted(logical[: -export_files.DIGEST_LENGTH] for logical in names) == sorted(
        ["TrailAuditUsEast1", "TrailAuditEuWest1", "TrailOrgAuditUsEast1", "TrailOrgAuditUsEast1", "Trail9livesUsEast1"]
    )
    assert cfnlint.api.lint(text, regions=[HOME]) == []


def test_a_trails_logical_id_is_the_same_whichever_other_trails_are_exported(account: None) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    boto3.client("cloudtrail", region_name=HOME).create_trail(Name="audit", S3BucketName=BUCKET)
    alone = {res["Properties"]["Name"]: logical for logical, res in _resources(_template()).items()}
    # A second trail of the same name in another region used to rename the first (TrailAudit -> TrailAuditUsEast1):
    # a re-export that CloudFormation would deploy as a replacement.
    boto3.client("cloudtrail", region_name=OTHER).create_trail(Name="audit", S3BucketName=BUCKET)
    boto3.client("cloudtrail", region_name=HOME).create_trail(Name="Audit", S3BucketName=BUCKET)
    together = {res["Properties"]["Name"]: logical for logical, res in _resources(_template()).items()}
    assert len(together) == 3 and together[arn("audit")] == alone[arn("audit")]
    assert len(set(together.values())) == 3


def _template() -> str:
    return export_files.template(_export(RecordingClients()), caller_account=ACCOUNT, now=NOW)


def test_a_template_over_the_direct_upload_limit_says_how_to_deploy_it(account: None, tmp_path: Path) -> None:
    def trails(count: int) -> export.Export:
        return export.Export(
            tuple(
                export.ExportedTrail(
                    ACCOUNT, HOME, arn(f"trail-{n:03}"), {"Name": arn(f"trail-{n:03}"), "S3BucketName": BUCKET}
                )
                for n in range(count)
            ),
            (HOME,),
        )

    small = export_files.template(trails(2), caller_account=ACCOUNT, now=NOW)
    assert "51,200" not in small
    big = export_files.template(trails(200), caller_account=ACCOUNT, now=NOW)
    assert len(big.encode()) > export_files.DIRECT_UPLOAD_LIMIT
    head = big.split("AWSTemplateFormatVersion")[0]
    assert "over CloudFormation's limit of 51,200 bytes" in head and "--s3-bucket" in head
    assert "aws cloudformation deploy" in head
    assert cfnlint.api.lint(big, regions=[HOME]) == []
    assert export_files.deploy_note(small) == "" and "--s3-bucket" in export_files.deploy_note(big)


def test_the_command_says_when_a_template_must_go_through_s3(account: None, tmp_path: Path) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    for n in range(70):
        boto3.client("cloudtrail", region_name=HOME).create_trail(Name=f"trail-{n:03}", S3BucketName=BUCKET)
    target = tmp_path / "adopt.yaml"
    code, _, err = run("export", "--format", "cloudformation", "-o", str(target), "--region", HOME)
    assert code == 0, err
    assert len(target.read_bytes()) > export_files.DIRECT_UPLOAD_LIMIT
    assert f"trailkeeper: {target}: This template is " in err and "--s3-bucket BUCKET" in err


def test_non_ascii_is_written_as_it_is(account: None, tmp_path: Path) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    tags = [{"Key": "équipe", "Value": "sécurité ✓"}]
    boto3.client("cloudtrail", region_name=HOME).create_trail(Name="audit", S3BucketName=BUCKET, TagsList=tags)
    target = tmp_path / "trails.yaml"
    code, _, err = run("export", "-o", str(target), "--region", HOME)
    assert code == 0, err
    text = target.read_text(encoding="utf-8")
    assert "Key: équipe" in text and "Value: sécurité ✓" in text and "\\x" not in text and "\\u" not in text
    assert yaml.safe_load(text)["trails"][0]["Tags"] == tags
    template = _template()
    assert "sécurité ✓" in template and yaml.safe_load(template)


def test_the_cloudformation_command_writes_a_template(every_shape: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "adopt.yaml"
    code, _, err = run("export", "--format", "cloudformation", "-o", str(target), "--region", HOME)
    assert code == 0, err
    text = target.read_text()
    assert text.startswith("# Exported by trailkeeper") and "deploy it after the provider stack" in text
    assert len(_resources(text)) == len(every_shape) - 1  # the multi-region trail is homed in eu-west-1


def test_by_default_every_region_enabled_for_the_account_is_scanned(
    account: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("s3", region_name=HOME).create_bucket(Bucket=BUCKET)
    for region in (HOME, "ap-southeast-2", "af-south-1"):
        boto3.client("cloudtrail", region_name=region).create_trail(Name=f"in-{region}", S3BucketName=BUCKET)
    made: list[RecordingClients] = []

    def recording(*_: Any, **__: Any) -> RecordingClients:
        made.append(RecordingClients())
        return made[-1]

    monkeypatch.setattr(connection, "Clients", recording)
    code, out, err = run("export")
    assert code == 0, err
    names = [t["Name"].rsplit("/", 1)[1] for t in yaml.safe_load(out)["trails"]]
    assert names == ["in-ap-southeast-2", "in-us-east-1"]  # af-south-1 is an opt-in region, not opted in
    assert "17 region(s)" in out.splitlines()[0]
    (clients,) = made
    assert len(clients.named("DescribeRegions")) == 1 and len(clients.named("DescribeTrails")) == 17
    with regions.opted_in(ACCOUNT, "af-south-1"):
        code, out, err = run("export")
    assert [t["Name"].rsplit("/", 1)[1] for t in yaml.safe_load(out)["trails"]] == ["in-af-south-1", *names]


# --- docs/export.md ------------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "export.md"


def _blocks(kind: str) -> list[str]:
    page = DOCS.read_text(encoding="utf-8")
    return [block.split("\n```", 1)[0] for block in page.split(f"```{kind}\n")[1:]]


def test_the_docs_example_is_a_valid_state_with_the_header_the_code_writes() -> None:
    (example,) = _blocks("yaml")
    assert len(state.loads(example, "docs/export.md")) == 2
    trails = tuple(export.ExportedTrail(ACCOUNT, region, arn("x", region), {}) for region in (OTHER, HOME))
    written = export_files.header(
        export.Export(trails, (OTHER, HOME)),
        caller_account=ACCOUNT,
        now=NOW,
        kind="`trailkeeper plan -f` this file",
    )
    version = __import__("trailkeeper").__version__
    assert [line.replace("0.1.0", version) for line in example.splitlines()[:2]] == [f"# {line}" for line in written]


def test_every_command_in_the_docs_parses() -> None:
    import shlex

    commands = [
        shlex.split(line.split("#", 1)[0].split(">", 1)[0])
        for block in _blocks("sh")
        for line in block.splitlines()
        if line.startswith("trailkeeper ")
    ]
    assert len(commands) >= 7
    for command in commands:
        cli._parser().parse_args(command[1:])  # raises InvalidArguments on a flag that does not exist


def test_a_template_needs_a_trail_in_one_account_and_at_most_500(account: None) -> None:
    def trails(count: int, accounts: int = 1) -> export.Export:
        return export.Export(
            tuple(
                export.ExportedTrail(
                    f"{n % accounts:012}", HOME, f"arn:aws:cloudtrail:{HOME}:{n % accounts:012}:trail/t{n}", {}
                )
                for n in range(count)
            ),
            (HOME,),
        )

    for made, words in (
        (trails(0), "needs at least one resource"),
        (trails(2, 2), "several accounts"),
        (trails(501), "at most 500 resources"),
    ):
        with pytest.raises(InvalidArguments, match=words):
            export_files.template(made, caller_account=ACCOUNT, now=NOW)
    assert len(_resources(export_files.template(trails(500), caller_account=ACCOUNT, now=NOW))) == 500
    code, out, err = run("export", "--format", "cloudformation", "--region", "ap-south-1")
    assert (code, out) == (1, "") and "no trail to export in 1 region(s): ap-south-1" in err


def test_progress_shows_on_a_terminal_only(every_shape: dict[str, str]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = io.StringIO(), Terminal()
    assert main(["export", "--region", HOME, "--region", OTHER], out=out, err=err) == 0
    assert (
        "\r\x1b[Kread regions: 2/2" in err.getvalue()
        and f"read trails: {len(every_shape)}/{len(every_shape)}" in err.getvalue()
    )
    assert "\x1b" not in out.getvalue()
    assert "\x1b" not in run("export", "--region", HOME)[2]


def test_a_fix_merges_into_an_export_in_the_exports_form_and_order() -> None:
    # `audit --fix --write-state`: settings as export writes them, an aspect rendered in its own place.
    name = arn("audit")
    declared = {
        "Name": name,
        "EnableLogFileValidation": False,
        "CloudWatchLogsLogGroupArn": "",
        "CloudWatchLogsRoleArn": "",
        "IsLogging": True,
        "EventSelectors": [{"ReadWriteType": "All"}],
        "InsightSelectors": [],
        "Tags": [{"Key": "b", "Value": "2"}],
    }
    group = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:events"
    advanced = [{"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
    role = f"arn:aws:iam::{ACCOUNT}:role/to-logs"
    fix = {"Name": name, "CloudWatchLogsLogGroupArn": group, "CloudWatchLogsRoleArn": role}
    fix["AdvancedEventSelectors"] = advanced
    fix["Tags"] = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    merged = trail_export.with_fix(declared, fix)
    assert list(merged) == [
        "Name",
        "EnableLogFileValidation",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsRoleArn",
        "IsLogging",
        "AdvancedEventSelectors",  # in the place of the kind it replaces
        "InsightSelectors",
        "Tags",
    ]
    assert merged["CloudWatchLogsLogGroupArn"] == group + ":*"  # as CloudTrail reads it back
    assert merged["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]  # sorted, as exported
    assert declaration.parse(merged).aspects  # still a valid declaration
    with pytest.raises(ValueError, match="cannot merge"):
        trail_export.with_fix(declared, {"Name": arn("other"), "IsLogging": True})


def test_every_warning_line_names_its_trail_and_its_reason(every_shape: dict[str, str]) -> None:
    """`trailkeeper: WARNING trail not exported` said three times with neither the trail nor why (the facts were
    in `extra`, which the CLI's line format dropped): every line now names what it is about."""
    from botocore.exceptions import ClientError

    from trailkeeper.aws.calls import Clients

    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetEventSelectors")

    original = Clients.client

    def client(self: Clients, service: str, region: str) -> Any:
        made = original(self, service, region)
        if service == "cloudtrail":
            made.meta.events.register("before-call.cloudtrail.GetEventSelectors", deny, unique_id="deny-selectors")
        return made

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Clients, "client", client)
        code, _, err = run("export", "--region", HOME)
    assert code == 1
    warnings = [line for line in err.splitlines() if line.startswith("trailkeeper: WARNING")]
    assert warnings, err
    for line in warnings:
        assert "trail not exported" in line and "arn:aws:cloudtrail:us-east-1:111122223333:trail/" in line, line
        assert "AccessDeniedException" in line and "GetEventSelectors" in line, line
