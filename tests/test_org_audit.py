"""The organization reconcile's `audit`: one account audited through its role (moto + the fidelity layer),
its fields refused before any call, its answer bounded to fit a Step Functions state, and the run's
totals, metrics and message from the Map's results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import organization
from devkit import world as seeding
from devkit.lambda_context import LambdaContext
from moto.iam.models import iam_backends

from tests.conftest import RESULTS_BUCKET, RecordingClients, metric_lines
from trailkeeper import handler, permissions
from trailkeeper.audit import answer as audit_lambda
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.aws import locate
from trailkeeper.errors import AwsCallFailed, MalformedEvent
from trailkeeper.fleet import request
from trailkeeper.org import audit as org_audit
from trailkeeper.org import audit_totals

BUCKET = RESULTS_BUCKET
HOME = seeding.HOME
ARCHIVE_BUCKET = "org-log-archive"


pytestmark = pytest.mark.usefixtures("state_machine_steps")  # tests/conftest.py


def invoke(event: dict[str, Any]) -> Any:
    return handler.lambda_handler(event, LambdaContext())


def audit_event(account: str, **fields: Any) -> dict[str, Any]:
    return {"action": "audit", "account": account, "regions": [HOME], **fields}


def statuses(answer: dict[str, Any], control: str) -> dict[str, str]:
    return {f["resource"]: f["status"] for f in answer["findings"] if f["control"] == control}


# --- one account -----------------------------------------------------------------------------------------


def test_an_account_is_audited_through_its_role_and_answers_the_audit_json(
    org: organization.Organization, clients: RecordingClients
) -> None:
    payments = org.members["payments"]
    answer = invoke(audit_event(payments, standards=["fsbp"], account_name="payments"))
    jsonschema.validate(answer, org_audit.ANSWER_SCHEMA)
    (assumed,) = clients.named("AssumeRole")
    assert assumed.params["RoleArn"] == f"arn:aws:iam::{payments}:role/OrganizationAccountAccessRole"
    assert answer["accounts"] == [payments] and answer["standards"] == ["fsbp"] and answer["regions"] == [HOME]
    trail = f"arn:aws:cloudtrail:{HOME}:{payments}:trail/{seeding.TRAIL}"
    # The member's trail was created and never started, without validation: judged in its own account.
    assert statuses(answer, "CloudTrail.4") == {trail: "FAIL"}
    assert statuses(answer, "CloudTrail.1") == {f"AWS::::Account:{payments}": "FAIL"}
    # Its log bucket is its own: judged, not NOT_AVAILABLE (CloudTrail.7: no access logging).
    assert statuses(answer, "CloudTrail.7") == {f"arn:aws:s3:::trails-{payments}": "FAIL"}
    assert {f["account"] for f in answer["findings"]} == {payments}
    # A small answer is whole: the summary counts exactly the findings it holds.
    assert "dropped" not in answer
    assert answer["summary"]["PASS"] == sum(1 for f in answer["findings"] if f["status"] == "PASS")
    assert answer["summary"]["FAIL"] == sum(1 for f in answer["findings"] if f["status"] == "FAIL")
    assert answer["summary"]["controls"] and answer["summary"]["errors"] == 0


def test_the_functions_own_account_is_audited_with_its_own_credentials(
    org: organization.Organization, clients: RecordingClients
) -> None:
    answer = invoke(audit_event(seeding.ACCOUNT, required_tags=["owner"]))
    assert not clients.named("AssumeRole")
    assert {c.operation for c in clients.calls} >= {"DescribeTrails", "GetTrailStatus", "ListBuckets"}
    assert statuses(answer, "CloudTrail.9")  # the required tag key was passed on: the trail is judged for it
    assert all(f["status"] == "FAIL" for f in answer["findings"] if f["control"] == "CloudTrail.9")


def test_every_enabled_region_of_the_account_by_default(org: organization.Organization) -> None:
    payments = org.members["payments"]
    answer = invoke({"action": "audit", "account": payments})
    assert organization.REGIONAL in answer["regions"] and HOME in answer["regions"]
    regional = f"arn:aws:cloudtrail:{organization.REGIONAL}:{payments}:trail/regional-trail"
    assert statuses(answer, "CloudTrail.4")[regional] == "FAIL"


# --- the CLI's audit of many accounts: each account's own regions (issue 23) -----------------------------


def cli_audit(*argv: str, clients: RecordingClients) -> Audit:
    from trailkeeper.aws.calls import Deadline
    from trailkeeper.cli import audit as audit_command
    from trailkeeper.cli.main import _parser

    args = _parser().parse_args(["audit", "--standard", "fsbp", *argv])
    identity = {"Account": seeding.ACCOUNT, "Arn": f"arn:aws:iam::{seeding.ACCOUNT}:user/auditor"}
    return audit_command.run(args, clients=clients, region=HOME, identity=identity, deadline=Deadline())


def regions_judged(result: Audit, account: str) -> set[str]:
    return {f.region for f in result.findings if f.control == "CloudTrail.1" and f.account == account}


def test_audit_accounts_scans_the_regions_the_inventory_lists_for_each_account(
    org: organization.Organization, clients: RecordingClients, tmp_path: Any
) -> None:
    web, payments = org.members["web"], org.members["payments"]
    inventory = tmp_path / "accounts.yml"
    inventory.write_text(
        f'accounts:\n  - account_id: "{web}"\n    regions: [eu-west-1]\n'
        f'  - account_id: "{payments}"\n    regions: [us-east-1, {organization.REGIONAL}]\n'
    )
    result = cli_audit("--accounts", str(inventory), clients=clients)
    assert not result.errors
    assert regions_judged(result, web) == {"eu-west-1"}
    assert regions_judged(result, payments) == {"us-east-1", organization.REGIONAL}
    assert clients.named("DescribeRegions") == []  # every account's regions were named
    assert set(result.regions) == {"eu-west-1", "us-east-1", organization.REGIONAL}


def test_audit_organization_scans_each_members_own_enabled_regions(
    org: organization.Organization, clients: RecordingClients
) -> None:
    from devkit import regions as world_regions

    lab = org.members["lab"]
    with world_regions.opted_in(lab, "af-south-1"):  # only lab has opted in
        result = cli_audit("--organization", clients=clients)
    assert "af-south-1" in regions_judged(result, lab)
    for name, account in org.members.items():
        if account != lab:
            assert "af-south-1" not in regions_judged(result, account), name
    assert "af-south-1" not in regions_judged(result, seeding.ACCOUNT)  # the caller's own answer is its own
    assert result.scope[lab] == (*sorted([*world_regions.ENABLED_BY_DEFAULT, "af-south-1"]),)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"standards": ["fsbp", "pci"]}, r"standards: 'pci' is not a standard \(fsbp, cis-5.0, cis-6.0, delivery\)"),
        ({"standards": "fsbp"}, "standards='fsbp': must be a non-empty list of strings"),
        ({"regions": ["us-east-1", "mars-1"]}, "regions: 'mars-1' is not a region CloudTrail has"),
        ({"required_tags": ["aws:owner"]}, "required_tags: 'aws:owner' must be 1-128 characters"),
        ({"required_tags": [""]}, "must be 1-128 characters, not starting aws:"),
        ({"account": "1234"}, "account '1234' is not a 12-digit account id"),
        ({"role_name": "bad role"}, "role_name 'bad role' is not an IAM role name"),
        ({"fix": True}, "fix=True: the Lambda's audit is read-only"),
        ({"standard": ["cis-5.0"]}, "'standard': not a field of an audit"),
        ({"account": "1" * 1_000_000}, r"^account '1{10,100}\.\.\.' is not a 12-digit account id$"),  # shortened
    ],
)
def test_malformed_audit_fields_are_refused_before_any_call(
    org: organization.Organization, clients: RecordingClients, fields: dict[str, Any], problem: str
) -> None:
    clients.calls.clear()
    with pytest.raises(MalformedEvent, match=problem):
        invoke({**audit_event(org.members["web"]), **fields})
    assert clients.calls == []  # not even AssumeRole


def test_list_accounts_refuses_a_malformed_audit_once_before_listing(
    org: organization.Organization, clients: RecordingClients
) -> None:
    clients.calls.clear()
    event = {"action": "list-accounts", "bucket": BUCKET, "key": "k", "run_action": "audit", "standards": ["cis"]}
    with pytest.raises(MalformedEvent, match="'cis' is not a standard"):
        invoke(event)
    assert clients.calls == []
    assert invoke({**event, "standards": ["cis-5.0"]})["accounts"] == 4  # the same run, well formed


@pytest.mark.parametrize(
    ("run", "problems"),
    [
        ({"action": "audit", "standard": ["cis-5.0"]}, ["'standard': not a field of an organization run's input"]),
        (
            {"action": "plan", "ou_id": ["ou-ab12-cdefgh12"], "exclude_account": []},
            ["'ou_id': not a field", "'exclude_account': not a field"],
        ),
        ({"action": "audit", "regions": ["mars-1"], "colour": 1}, ["'colour': not a field", "'mars-1' is not a"]),
        ("audit", ["the execution input must be a JSON object"]),
    ],
)
def test_list_accounts_refuses_a_misspelt_field_of_the_runs_input_naming_it_before_listing(
    org: organization.Organization, clients: RecordingClients, run: Any, problems: list[str]
) -> None:
    """The state machine passed list-accounts only the fields it knew (`standards`, ...): a misspelt
    `standard` vanished, and the run audited the default standards as if asked to (issue 23). The step now
    gets the execution's whole input (org-reconcile.asl.json) and refuses what no run takes, by name."""
    clients.calls.clear()
    fields = run if isinstance(run, dict) else {}
    event = {
        "action": "list-accounts",
        "bucket": BUCKET,
        "key": "k",
        "run_action": fields.get("action", "plan"),
        "execution_input": run,
    }
    with pytest.raises(MalformedEvent) as raised:
        invoke(event)
    for problem in problems:
        assert problem in str(raised.value), str(raised.value)
    assert clients.calls == []


def test_list_accounts_takes_every_field_a_run_documents(org: organization.Organization) -> None:
    run = {
        "action": "audit",
        "ou_ids": [],
        "exclude_accounts": [],
        "standards": ["fsbp"],
        "regions": ["us-east-1"],
        "required_tags": ["owner"],
    }
    event = {"action": "list-accounts", "bucket": BUCKET, "key": "k", "run_action": "audit", "execution_input": run}
    assert invoke({**event, **{k: v for k, v in run.items() if k != "action"}})["accounts"] == 4


def test_an_account_whose_role_cannot_be_assumed_raises_naming_it(org: organization.Organization) -> None:
    lab = org.members["lab"]
    iam_backends[lab]["aws"].roles.clear()
    with pytest.raises(AwsCallFailed, match=f"account {lab}: cannot assume role Custom: no such role there"):
        invoke(audit_event(lab, role_name="Custom"))


def test_an_account_where_nothing_can_be_read_raises_and_a_partial_one_reports_its_errors(
    org: organization.Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = org.members["web"]
    scan = locate.scan

    def denied_in(denied: set[str]) -> Any:
        def scanned(clients: Any, region: str, deadline: Any) -> Any:
            if region in denied:
                raise AwsCallFailed("AccessDenied", "DescribeTrails", f"DescribeTrails in {region}: access denied")
            return scan(clients, region, deadline)

        return scanned

    monkeypatch.setattr(locate, "scan", denied_in({HOME, organization.REGIONAL}))
    with pytest.raises(
        AwsCallFailed, match=f"account {web}: nothing could be audited: AccessDenied: DescribeTrails in"
    ):
        invoke(audit_event(web, regions=[HOME, organization.REGIONAL]))
    monkeypatch.setattr(locate, "scan", denied_in({organization.REGIONAL}))
    answer = invoke(audit_event(web, regions=[HOME, organization.REGIONAL]))
    assert answer["summary"]["errors"] == 1 and answer["errors"][0]["code"] == "AccessDenied"
    assert statuses(answer, "CloudTrail.4")  # the region that could be read is judged


def test_every_call_the_organization_audit_makes_is_declared(
    org: organization.Organization, clients: RecordingClients
) -> None:
    invoke({"action": "audit", "account": seeding.ACCOUNT})  # the regions listed too
    made = {f"{c.service}:{c.operation}" for c in clients.calls}
    renamed = {"s3:ListBuckets": "s3:ListAllMyBuckets", "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock"}
    made = {renamed.get(m, m) for m in made}
    assert {"ec2:DescribeRegions", "cloudtrail:DescribeTrails", "s3:ListAllMyBuckets", "s3:GetBucketAcl"} <= made
    assert made <= set(org_audit.PERMISSIONS)
    assert set(org_audit.PERMISSIONS) <= permissions.required(permissions.MEMBER_MODULES)


# --- the answer fits a Step Functions state ---------------------------------------------------------------


def finding(n: int, status: str, resource: str = "") -> dict[str, Any]:
    return {
        "control": "CloudTrail.4",
        "standard": "fsbp",
        "status": status,
        "resource": resource or f"arn:aws:cloudtrail:us-east-1:111122223333:trail/trail-{n:05d}",
        "account": "111122223333",
        "region": "us-east-1",
        "title": "CloudTrail log file validation should be enabled",
        "reason": "log file validation is disabled " + "x" * 200,
        "remedy": "declare EnableLogFileValidation: true",
        "fix": {"Name": f"trail-{n:05d}", "EnableLogFileValidation": True} if status == "FAIL" else None,
        "warnings": [],
    }


def document(found: list[dict[str, Any]], errors: int = 0) -> dict[str, Any]:
    counts = {s: sum(1 for f in found if f["status"] == s) for s in ("PASS", "FAIL", "NOT_AVAILABLE")}
    return {
        "standards": ["fsbp"],
        "regions": ["us-east-1"],
        "accounts": ["111122223333"],
        "summary": {
            "findings": len(found),
            **counts,
            "errors": errors,
            "controls": [{"control": "CloudTrail.4", "standard": "fsbp", **counts}],
        },
        "findings": found,
        "errors": [
            {"account": "111122223333", "region": f"r-{n}", "code": "AccessDenied", "reason": "denied"}
            for n in range(errors)
        ],
    }


def _bound(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The account step's answer for an audit that found `found` (org_audit.run's bounding)."""
    result = Audit(
        ("fsbp",),
        ("us-east-1",),
        tuple(Finding(**{**f, "warnings": tuple(f["warnings"])}) for f in found),
        (),
        ("111122223333",),
    )
    return audit_lambda.bounded(result, org_audit.MAX_ANSWER_BYTES, rank=org_audit.keep_first)


def test_an_answer_that_fits_is_whole_and_the_log_buckets_come_right_after_the_failures() -> None:
    bucket = "arn:aws:s3:::logs"
    found = [finding(0, "PASS"), finding(1, "FAIL"), finding(2, "PASS", bucket), finding(3, "NOT_AVAILABLE")]
    ranked = sorted(found, key=org_audit.keep_first)
    assert [f["resource"] for f in ranked[:2]] == [found[1]["resource"], bucket]  # a failure, then the bucket
    assert ranked[2:] == [found[3], found[0]]


def test_a_large_answer_is_trimmed_under_the_limit_failures_first_with_counts() -> None:
    found = [finding(n, "FAIL") for n in range(3000)] + [finding(n, "PASS") for n in range(3000, 5000)]
    assert len(json.dumps(document(found))) > 1_000_000  # an account of 5,000 trails
    answer = _bound(found)
    size = len(json.dumps(answer).encode())
    assert org_audit.MAX_ANSWER_BYTES - 1_000 < size <= org_audit.MAX_ANSWER_BYTES
    kept = len(answer["findings"])
    assert 0 < kept < 3000 and all(f["status"] == "FAIL" for f in answer["findings"])
    assert [f["resource"] for f in answer["findings"]] == [f["resource"] for f in found[:kept]]  # first failures
    dropped = answer["dropped"]
    assert (dropped["PASS"], dropped["FAIL"], dropped["NOT_AVAILABLE"], dropped["errors"]) == (2000, 3000 - kept, 0, 0)
    assert answer["summary"]["FAIL"] == 3000  # the summary is whole
    jsonschema.validate(answer, org_audit.ANSWER_SCHEMA)


# --- summarise: the run's totals from the Map's results -------------------------------------------------


def child(account: str, answer: dict[str, Any], name: str = "") -> dict[str, Any]:
    item = {"action": "audit", "account": account, "account_name": name}
    return {"Input": json.dumps(item), "Output": json.dumps(answer), "Status": "SUCCEEDED"}


def write_results(prefix: str, succeeded: list[dict[str, Any]], failed: list[dict[str, Any]]) -> str:
    s3 = boto3.client("s3", region_name=HOME)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}SUCCEEDED_0.json", Body=json.dumps(succeeded))
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}FAILED_0.json", Body=json.dumps(failed))
    files = {"SUCCEEDED": [{"Key": f"{prefix}SUCCEEDED_0.json"}], "FAILED": [{"Key": f"{prefix}FAILED_0.json"}]}
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=json.dumps({"ResultFiles": files}))
    return f"{prefix}manifest.json"


def summarise(key: str) -> dict[str, Any]:
    result: dict[str, Any] = invoke(
        {"action": "summarise", "run_action": "audit", "result_writer": {"Bucket": BUCKET, "Key": key}}
    )
    return result


def central_trail(org: organization.Organization, *, archive_trail: bool) -> str:
    """An organization-style trail in the management account, delivering to a bucket of the `lab` account
    (standing in for the Log Archive); with `archive_trail`, a trail of lab's own delivers there too."""
    lab = organization.session_in(org.members["lab"])
    lab.client("s3", region_name=HOME).create_bucket(Bucket=ARCHIVE_BUCKET)
    if archive_trail:
        lab.client("cloudtrail", region_name=HOME).create_trail(Name="archive", S3BucketName=ARCHIVE_BUCKET)
    cloudtrail = boto3.client("cloudtrail", region_name=HOME)
    arn = str(cloudtrail.create_trail(Name="central", S3BucketName=ARCHIVE_BUCKET, IsMultiRegionTrail=True)["TrailARN"])
    cloudtrail.start_logging(Name=arn)
    return arn


def run_children(org: organization.Organization, prefix: str, failed: Sequence[dict[str, Any]] = ()) -> str:
    """Every account audited by the real invocation, its answers written as the ResultWriter writes them."""
    names = {org.management: "management", **{v: k for k, v in org.members.items()}}
    succeeded = [
        child(account, invoke(audit_event(account, standards=["fsbp"])), name)
        for account, name in names.items()
        if account not in {json.loads(f["Input"])["account"] for f in failed}
    ]
    return write_results(prefix, succeeded, list(failed))


def test_a_bucket_of_another_account_is_listed_once_unless_its_owner_judged_it(
    org: organization.Organization,
) -> None:
    central_trail(org, archive_trail=False)
    management = invoke(audit_event(org.management, standards=["fsbp"]))
    assert statuses(management, "CloudTrail.6")[f"arn:aws:s3:::{ARCHIVE_BUCKET}"] == "NOT_AVAILABLE"
    summary = summarise(run_children(org, "alone/"))
    (unseen,) = summary["buckets_not_available"]
    assert unseen["bucket"] == f"arn:aws:s3:::{ARCHIVE_BUCKET}" and unseen["accounts"] == [org.management]
    assert "belongs to another account" in unseen["reason"]


def test_a_bucket_its_owner_judged_is_not_listed_as_not_available(org: organization.Organization) -> None:
    central_trail(org, archive_trail=True)
    summary = summarise(run_children(org, "judged/"))
    assert summary["buckets_not_available"] == []  # lab's own trail delivers there: lab's child judged it
    assert {c["control"] for c in summary["failing_controls"]} >= {"CloudTrail.7"}


def test_a_control_no_account_could_judge_has_no_datapoint_never_a_zero(capsys: pytest.CaptureFixture[str]) -> None:
    def row(control: str, **counts: int) -> dict[str, Any]:
        return {"standard": "fsbp", "control": control, "PASS": 0, "FAIL": 0, "NOT_AVAILABLE": 0, **counts}

    answer = {
        "standards": ["fsbp"],
        "summary": {"controls": [row("CloudTrail.6", NOT_AVAILABLE=2), row("CloudTrail.4", PASS=1)]},
    }
    totals = audit_totals.AuditTotals()
    totals.add("SUCCEEDED", {"Input": json.dumps({"account": "111122223333"}), "Output": json.dumps(answer)})
    capsys.readouterr()
    totals.count()
    metric = audit_totals.CONTROL_FAILING
    published = {m["Control"]: m[metric] for m in metric_lines(capsys.readouterr().out) if metric in m}
    assert published == {"CloudTrail.4": [0.0]}  # passed where judged; CloudTrail.6 was judged nowhere


def test_a_control_an_accounts_failed_reads_left_unknown_has_no_datapoint(capsys: pytest.CaptureFixture[str]) -> None:
    """An account whose GetTrailStatus was denied has CloudTrail.1 NOT_AVAILABLE (issue 23): passing in the
    others, the run does not know it passes everywhere, so no 0; a failure elsewhere is known, and counted."""

    def row(control: str, **counts: int) -> dict[str, Any]:
        return {"standard": "fsbp", "control": control, "PASS": 0, "FAIL": 0, "NOT_AVAILABLE": 0, **counts}

    def child(account: str, errors: int, *rows: dict[str, Any]) -> dict[str, str]:
        answer = {"standards": ["fsbp"], "summary": {"errors": errors, "controls": list(rows)}}
        return {"Input": json.dumps({"account": account}), "Output": json.dumps(answer)}

    totals = audit_totals.AuditTotals()
    totals.add("SUCCEEDED", child("111122223333", 0, row("CloudTrail.1", PASS=2), row("CloudTrail.3", FAIL=1)))
    totals.add(
        "SUCCEEDED",
        child("444455556666", 1, row("CloudTrail.1", NOT_AVAILABLE=2), row("CloudTrail.3", NOT_AVAILABLE=2)),
    )
    capsys.readouterr()
    totals.count()
    metric = audit_totals.CONTROL_FAILING
    published = {m["Control"]: m[metric] for m in metric_lines(capsys.readouterr().out) if metric in m}
    assert published == {"CloudTrail.3": [1.0]}


def test_summarise_totals_an_audit_run_counts_metrics_and_notifies(
    org: organization.Organization,
    clients: RecordingClients,
    world: seeding.World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    lab = org.members["lab"]
    failed = [
        {
            "Input": json.dumps({"action": "audit", "account": lab}),
            "Error": "AccessDenied",
            "Cause": f"account {lab}: cannot assume role TrailkeeperMember: no such role there",
            "Status": "FAILED",
        }
    ]
    key = run_children(org, "results/run-1/abc/", failed)
    capsys.readouterr()
    summary = summarise(key)
    members = [org.members["web"], org.members["payments"]]
    assert summary["action"] == "audit" and summary["standards"] == ["fsbp"]
    assert (summary["accounts"], summary["accounts_audited"]) == (4, 3)
    assert summary["accounts_failed"] == [{"account": lab, "reason": failed[0]["Cause"]}]
    # The seeded trails (the management account's and the members') were never started and have no
    # validation: every audited account fails these; lab, not audited, is counted in none.
    failing = {c["control"]: c for c in summary["failing_controls"]}
    assert failing["CloudTrail.4"]["accounts"] == failing["CloudTrail.1"]["accounts"] == 3
    worst = [a["account"] for a in summary["worst_accounts"]]
    assert set(members) <= set(worst) and summary["accounts_with_failures"] == len(worst)
    assert summary["worst_accounts"][0]["FAIL"] >= summary["worst_accounts"][-1]["FAIL"]
    assert {a["account_name"] for a in summary["worst_accounts"] if a["account"] in members} == {"web", "payments"}
    assert summary["findings"]["FAIL"] == sum(c["FAIL"] for c in summary["failing_controls"])
    # Metrics: failing findings per control (each control judged, 0 when it passed), accounts audited and failed.
    lines = metric_lines(capsys.readouterr().out)
    metric = audit_totals.CONTROL_FAILING
    per_control = {(m["Standard"], m["Control"]): m[metric][0] for m in lines if metric in m}
    assert per_control[("fsbp", "CloudTrail.4")] == failing["CloudTrail.4"]["FAIL"]
    assert set(per_control) >= {("fsbp", c) for c in failing}
    assert all(value == 0 for key_, value in per_control.items() if key_[1] not in failing)
    totals = {name: m[name] for m in lines for name in ("AccountsAudited", "AccountsFailed") if name in m}
    assert totals == {"AccountsAudited": [3.0], "AccountsFailed": [1.0]}
    (published,) = clients.named("Publish")
    assert published.params["Subject"] == (
        f"trailkeeper audit: {summary['findings']['FAIL']} failing in "
        f"{summary['accounts_with_failures']} of 4 accounts, 1 not audited"
    )
    text = published.params["Message"]
    assert f"  fsbp CloudTrail.4: {failing['CloudTrail.4']['FAIL']} in" in text
    assert f"  {org.members['web']} (web): " in text and f"  {lab}: account {lab}: cannot assume" in text
    assert f"s3://{BUCKET}/results/run-1/abc/" in text


def test_an_audit_where_every_control_passes_sends_no_message(
    org: organization.Organization, clients: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(request.NOTIFY_TOPIC, world.topic_arn)
    passing = document([finding(0, "PASS")])
    summary = summarise(write_results("passing/", [child("111122223333", _bound(passing["findings"]))], []))
    assert summary["failing_controls"] == [] and summary["accounts_with_failures"] == 0
    assert summary["findings"] == {"PASS": 1, "FAIL": 0, "NOT_AVAILABLE": 0}
    assert not clients.named("Publish")


def test_a_failed_audit_map_is_totalled_as_an_audit(org: organization.Organization, clients: RecordingClients) -> None:
    listed = [{"account": f"{n:012d}", "account_name": ""} for n in (111111111111, 222222222222)]
    boto3.client("s3", region_name=HOME).put_object(
        Bucket=BUCKET, Key="runs/run-7/accounts.json", Body=json.dumps(listed)
    )
    summary = invoke(
        {
            "action": "summarise",
            "run_action": "audit",
            "results": {"Bucket": BUCKET, "Prefix": "results/run-7/"},
            "accounts": {"bucket": BUCKET, "key": "runs/run-7/accounts.json"},
            "map_error": {"Error": "States.ItemReaderFailed", "Cause": "NoSuchKey"},
        }
    )
    assert summary["action"] == "audit" and summary["accounts"] == 2 and summary["accounts_audited"] == 0
    assert summary["run_failed"]["error"] == "States.ItemReaderFailed"


def test_plan_results_are_still_totalled_as_plan_without_run_action(org: organization.Organization) -> None:
    # A summarise without run_action (an execution started before audit existed) keeps plan's totals.
    key = write_results("plan/", [], [])
    summary = invoke({"action": "summarise", "result_writer": {"Bucket": BUCKET, "Key": key}})
    assert set(summary) == {"accounts", "accounts_failed", "trails", "not_owned"}
