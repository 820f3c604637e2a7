"""`trailkeeper audit --fix` on the fidelity layer: the minimal declared change for every failing control it can
fix, through the engine and the guard; --dry-run and --write-state write nothing to AWS; after --fix the audit
passes what it fixed, and a second --fix writes nothing."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from devkit import organization
from devkit import world as seeding
from devkit.recording import RecordingClients
from moto.iam.models import iam_backends

from trailkeeper.audit import findings
from trailkeeper.audit.findings import Audit
from trailkeeper.aws.calls import Deadline
from trailkeeper.cli import audit as audit_command
from trailkeeper.cli.main import _parser, main
from trailkeeper.export import read as export

ACCOUNT, HOME, OTHER = seeding.ACCOUNT, seeding.HOME, "eu-west-1"
PLACE = f"AWS::::Account:{ACCOUNT}"
IDENTITY = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/auditor"}
ALL_S3 = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]


def cloudtrail(region: str = HOME) -> Any:
    return boto3.client("cloudtrail", region_name=region)


def audit(clients: RecordingClients, *argv: str) -> Audit:
    """What `trailkeeper audit --region us-east-1 ARGV` does, with clients that count the calls."""
    args = _parser().parse_args(["audit", "--region", HOME, *argv])
    audit_command.check(args, {HOME, OTHER})
    result = audit_command.run(args, clients=clients, region=HOME, identity=IDENTITY, deadline=Deadline())
    if args.fix:
        fixed = audit_command.fix(args, result, clients=clients, region=HOME, identity=IDENTITY, deadline=Deadline())
        result = dataclasses.replace(result, fix=fixed)
    return result


def status(result: Audit, control: str, resource: str = PLACE) -> str:
    (finding,) = [f for f in result.findings if f.control == control and f.resource == resource]
    return finding.status


def writes(clients: RecordingClients) -> list[str]:
    return [c.operation for c in clients.calls if not c.operation.startswith(("Describe", "Get", "List"))]


def test_fix_then_audit_passes_what_it_fixed_and_a_second_fix_writes_nothing(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = seeding.add_trail("writes", HOME, IsMultiRegionTrail=True)  # stopped, write-only, with S3 data events
    cloudtrail().put_event_selectors(
        TrailName=arn, EventSelectors=[{"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}]
    )
    flags = ("--kms-key", seeding.ALIAS, "--log-group", seeding.LOG_GROUP, "--log-role", world.role_arn)
    first = audit(clients, "--fix", *flags, "--tag", "owner=security")
    assert first.fix is not None and first.fix.report is not None
    assert first.fix.report.action == "apply" and first.fix.report.count("fixed") == 2
    assert not [c for r in first.fix.report.results for c in r.changes if c.weakens]  # a fix never weakens
    assert first.exit_code == 2  # CIS 4.9 (S3 reads) and the bucket's access logging have no fix
    made = writes(clients)
    assert made.count("StartLogging") == 1 and made.count("PutEventSelectors") == 1

    clients.calls.clear()
    after = audit(clients)
    fixed = ("CloudTrail.1", "4.1", "CloudTrail.2", "4.5", "CloudTrail.4", "4.2", "CloudTrail.5", "CloudTrail.9")
    for control in fixed[:2]:
        assert status(after, control) == "PASS", control
    for control in fixed[2:]:
        for trail in (arn, world.trail_arn):
            assert status(after, control, trail) == "PASS", (control, trail)
    assert status(after, "4.8") == "PASS"  # the S3 write events were kept when management events were added
    assert status(after, "4.9") == "FAIL"

    clients.calls.clear()
    second = audit(clients, "--fix", *flags, "--tag", "owner=security")
    assert second.fix is not None and second.fix.declarations == () and second.fix.report is None
    assert writes(clients) == []


@pytest.mark.parametrize(
    ("put", "fixed"),
    [
        # The case: one selector excluding KMS. Appending {All} recorded every event, yet Security Hub
        # still failed it; the exclusion is removed where it stands.
        (
            {"EventSelectors": [{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]},
            {"EventSelectors": [{"ReadWriteType": "All"}]},
        ),
        (
            {"EventSelectors": [{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}]},
            {"EventSelectors": [{"ReadWriteType": "All"}]},
        ),
        (
            {
                "EventSelectors": [
                    {"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
                ]
            },
            {"EventSelectors": [{"ReadWriteType": "All"}]},
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {
                        "Name": "writes, no KMS",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "Equals": ["false"]},
                            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                        ],
                    }
                ]
            },
            {
                "AdvancedEventSelectors": [
                    {"Name": "writes, no KMS", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
                ]
            },
        ),
    ],
    ids=["exclusion", "read-and-write-apart", "write-only-excluding", "advanced"],
)
def test_fix_changes_the_selectors_in_place_and_both_verdicts_agree_after(
    world: seeding.World, clients: RecordingClients, put: dict[str, Any], fixed: dict[str, Any]
) -> None:
    arn = seeding.add_trail("everywhere", HOME, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
    cloudtrail().start_logging(Name=arn)
    cloudtrail().put_event_selectors(TrailName=arn, **put)
    before = audit(clients, "--standard", "fsbp", "--fix", "--dry-run")
    (finding,) = [f for f in before.findings if f.control == "CloudTrail.1"]
    assert finding.status == "FAIL" and finding.fix == {"Name": arn, **fixed}
    audit(clients, "--standard", "fsbp", "--fix")
    after = audit(clients, "--standard", "fsbp")
    assert status(after, "CloudTrail.1") == "PASS"
    read = cloudtrail().get_event_selectors(TrailName=arn)
    kind = next(iter(fixed))
    assert len(read[kind]) == len(fixed[kind])  # changed where they stood, nothing appended
    assert not any(s.get("ExcludeManagementEventSources") for s in read.get("EventSelectors", []))


def test_dry_run_shows_the_plan_and_writes_nothing(world: seeding.World, clients: RecordingClients) -> None:
    result = audit(clients, "--fix", "--dry-run")
    assert result.fix is not None and result.fix.report is not None and result.fix.report.action == "plan"
    (planned,) = result.fix.report.results
    assert sorted(c.name for c in planned.changes) == ["EnableLogFileValidation", "IsLogging", "IsMultiRegionTrail"]
    assert writes(clients) == []
    assert result.exit_code == 2
    trail = cloudtrail().describe_trails(trailNameList=[world.trail_arn])["trailList"][0]
    assert trail["IsMultiRegionTrail"] is False and trail["LogFileValidationEnabled"] is False


def good_trail(world: seeding.World) -> str:
    """A trail no trail-level control fails (encrypted, validated, to CloudWatch Logs, tagged), with Insights
    and advanced selectors: aspects the audit does not read (Insights) or reads as they are."""
    arn = seeding.add_trail(
        "good",
        HOME,
        KmsKeyId=world.key_arn,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=world.log_group_arn,
        CloudWatchLogsRoleArn=world.role_arn,
        TagsList=[{"Key": "owner", "Value": "security"}],
    )
    cloudtrail().put_event_selectors(
        TrailName=arn,
        AdvancedEventSelectors=[
            {"Name": "all", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
        ],
    )
    cloudtrail().put_insight_selectors(TrailName=arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    return arn


def s3_writes() -> dict[str, Any]:
    fields = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["false"]},
    ]
    return {"Name": "S3 writes", "FieldSelectors": fields}


def exported_now() -> export.Export:
    return export.export_account(RecordingClients(), [HOME], account=ACCOUNT, default_region=HOME)


def plan_file(path: Path, command: str = "plan") -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    code = main([command, "-f", str(path), "--region", HOME, "--json"], out=out, err=err)
    document = json.loads(out.getvalue())
    document["exit"] = code
    return document


def test_write_state_writes_the_export_with_the_fixes_that_plan_and_apply_then_keep(
    world: seeding.World, clients: RecordingClients, tmp_path: Path
) -> None:
    good = good_trail(world)
    writes_only = seeding.add_trail("writes", HOME)  # advanced selectors, S3 writes only: management is added
    cloudtrail().put_event_selectors(TrailName=writes_only, AdvancedEventSelectors=[s3_writes()])
    before = {t.trail_arn: dict(t.properties) for t in exported_now().trails}
    state = tmp_path / "baseline.yaml"
    flags = ("--kms-key", seeding.ALIAS, "--log-group", seeding.LOG_GROUP, "--log-role", world.role_arn)
    result = audit(clients, "--fix", "--write-state", str(state), *flags, "--tag", "team=audit")
    assert writes(clients) == [] and result.fix is not None and result.fix.state_file == str(state)
    assert result.fix.state_trails == 3 and result.exit_code == 2  # nothing applied: the failures stand
    text = state.read_text()
    assert (
        text.startswith("# Exported by trailkeeper ")
        and "\n# Written by `trailkeeper audit --fix --write-state`" in text
    )
    declared = {entry["Name"]: entry for entry in yaml.safe_load(text)["trails"]}
    fixes = {str(fix["Name"]): fix for fix in result.fix.declarations}
    assert set(declared) == {world.trail_arn, good, writes_only} and set(fixes) == {world.trail_arn, writes_only}

    # The trail no control fails is in the file exactly as `trailkeeper export` writes it; the others have
    # their fixes merged in (and a comment saying so), everything else as exported.
    assert declared[good] == before[good]
    for name, fix in fixes.items():
        assert {k: v for k, v in declared[name].items() if k not in fix} == {
            k: v for k, v in before[name].items() if k not in fix
        }
        assert f"  # audit --fix: {', '.join(k for k in fix if k != 'Name')} (for " in text

    # Plan before apply: only the fixes, nothing else; then apply, and the audit passes what was fixed.
    planned = plan_file(state)
    changes = {r["trail_arn"]: {c["property"] for c in r["changes"]} for r in planned["trails"]}
    assert planned["exit"] == 2 and changes[good] == set()
    for name, fix in fixes.items():
        differing = {k for k in fix if k != "Name" and declared[name][k] != before[name].get(k)}
        assert changes[name] == differing and differing, name
    assert plan_file(state, "apply")["exit"] == 0
    assert plan_file(state)["exit"] == 0  # a second plan finds nothing
    # The file is the canonical form: once applied, `trailkeeper export` writes exactly it.
    assert {t.trail_arn: dict(t.properties) for t in exported_now().trails} == declared
    after = audit(clients)
    for control, resource in (("CloudTrail.1", PLACE), ("4.1", PLACE), ("CloudTrail.3", PLACE)):
        assert status(after, control, resource) == "PASS", control
    for control in ("CloudTrail.2", "CloudTrail.4", "CloudTrail.5", "CloudTrail.9"):
        for name in (world.trail_arn, writes_only):
            assert status(after, control, name) == "PASS", (control, name)
    again = audit(clients, "--fix", "--dry-run", *flags, "--tag", "team=audit")
    assert again.fix is not None and again.fix.declarations == ()


def test_write_state_reads_only_what_the_audit_did_not(
    world: seeding.World, clients: RecordingClients, tmp_path: Path
) -> None:
    good = good_trail(world)

    def calls(*argv: str) -> tuple[Counter[str], Audit]:
        clients.calls.clear()
        result = audit(clients, *argv)
        return Counter(c.operation for c in clients.calls), result

    alone, _ = calls("--fix", "--dry-run")
    written, result = calls("--fix", "--write-state", str(tmp_path / "a.yaml"))
    extra = written - alone
    # Only Insights (the audit never reads them), for the one trail DescribeTrails says has them.
    assert extra == Counter({"GetInsightSelectors": 1}) and result.export_reads == 1, extra
    assert [c.params.get("TrailName") for c in clients.named("GetInsightSelectors")] == [good]
    assert result.fix is not None and result.fix.export_reads == 1

    # CIS alone does not read tags; the export reads them once (one ListTags for the region's trails).
    alone, _ = calls("--standard", "cis-6.0", "--fix", "--dry-run")
    written, result = calls("--standard", "cis-6.0", "--fix", "--write-state", str(tmp_path / "b.yaml"))
    assert written - alone == Counter({"GetInsightSelectors": 1, "ListTags": 1}) and result.export_reads == 2
    out = io.StringIO()
    audit_command.render(result, "table", out)
    assert f"fix: wrote 2 trail(s) to {tmp_path / 'b.yaml'}, 1 with their fixes merged in (2 read(s) beyond" in (
        out.getvalue()
    )


def test_write_state_is_checked_before_any_call(aws: None, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    missing = tmp_path / "no-such-folder" / "baseline.yaml"
    assert main(["audit", "--fix", "--write-state", str(missing), "--region", HOME], out=out, err=err) == 1
    said = err.getvalue()
    assert said.startswith("trailkeeper: InvalidArguments: --write-state '") and "does not exist" in said, said
    assert not missing.parent.exists()


def test_a_key_that_cannot_serve_the_home_region_is_refused_not_written(
    world: seeding.World, clients: RecordingClients
) -> None:
    foreign = boto3.client("kms", region_name=OTHER).create_key()["KeyMetadata"]["Arn"]
    result = audit(clients, "--fix", "--kms-key", foreign)
    (finding,) = [f for f in result.findings if f.control == "CloudTrail.2"]
    assert finding.fix is None and f"is in {OTHER}: it cannot serve a trail homed in {HOME}" in finding.reason
    assert "UpdateTrail" in writes(clients)  # the other fixes went on
    trail = cloudtrail().describe_trails(trailNameList=[world.trail_arn])["trailList"][0]
    assert not trail.get("KmsKeyId")
    # An alias that does not exist in the home region is refused the same way, after one lookup there.
    clients.calls.clear()
    result = audit(clients, "--fix", "--dry-run", "--kms-key", "alias/not-here")
    (finding,) = [f for f in result.findings if f.control == "CloudTrail.2"]
    assert finding.fix is None and "--kms-key alias/not-here cannot serve us-east-1" in finding.reason
    assert [c.region for c in clients.named("DescribeKey")] == [HOME]


def test_the_primary_trail_is_the_one_made_to_record_everywhere(
    world: seeding.World, clients: RecordingClients
) -> None:
    chosen = seeding.add_trail("chosen", HOME)
    result = audit(clients, "--fix", "--primary-trail", "chosen", "--dry-run")
    assert result.fix is not None
    (declared,) = [d for d in result.fix.declarations if d.get("IsMultiRegionTrail")]
    assert declared["Name"] == chosen
    assert not [d for d in result.fix.declarations if d["Name"] == world.trail_arn and "IsLogging" in d]


def test_fix_flags_are_checked_before_any_call(aws: None) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "--dry-run", "--log-group", "g", "--kms-key", "nope", "--tag", "aws:x=1", "--json"]
    assert main(argv, out=out, err=err) == 1
    reason = err.getvalue()
    for expected in ("need --fix", "--log-group and --log-role go together", "--kms-key 'nope'", "--tag 'aws:x=1'"):
        assert expected in reason, expected
    assert json.loads(out.getvalue())["error"]["code"] == "InvalidArguments"


def test_the_fix_document_follows_the_schema(world: seeding.World) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--region", HOME, "--fix", "--dry-run", "--json"], out=out, err=err)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    assert code == 2 and document["fix"]["report"]["action"] == "plan"
    assert document["fix"]["declarations"][0]["Name"] == world.trail_arn


def test_write_state_across_accounts_is_grouped_by_account_as_an_export_and_plans_only_the_fixes(
    org: organization.Organization, tmp_path: Path
) -> None:
    iam_backends[org.members["lab"]]["aws"].roles.clear()  # an account that cannot be audited
    state = tmp_path / "org.yaml"
    where = ("--organization", "--region", HOME, "--region", OTHER, "--max-accounts", "1")
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", *where, "--fix", "--write-state", str(state), "--json"], out=out, err=err)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    assert code == 1 and document["fix"]["state_file"] == str(state)  # 1: an account could not be audited
    text = state.read_text()
    assert " from 4 account(s), 2 region(s): " in text.splitlines()[0]
    assert "# INCOMPLETE: 1 part(s) could not be read" in text and f"account {org.members['lab']}" in text
    headings = [line.strip() for line in text.splitlines() if line.startswith("  # account ")]
    readable = [org.management, org.members["payments"], org.members["web"]]
    assert [h.split()[2] for h in headings] == sorted(readable)  # grouped by account, in order
    fixes = {entry["Name"]: entry for entry in document["fix"]["declarations"]}
    assert fixes and {name.split(":")[4] for name in fixes} == set(readable)

    accounts = tmp_path / "accounts.yml"  # plan the readable accounts (the lab account's role is gone)
    accounts.write_text("accounts:\n" + "".join(f'  - account_id: "{a}"\n' for a in readable))
    plan = ["-f", str(state), "--accounts", str(accounts), *where[1:], "--json"]
    out = io.StringIO()
    assert main(["plan", *plan], out=out, err=io.StringIO()) == 2
    planned = json.loads(out.getvalue())["trails"]
    for trail in planned:  # only the fixes, nothing else
        fix = fixes.get(trail["trail_arn"], {})
        assert {c["property"] for c in trail["changes"]} <= set(fix) - {"Name"}, trail
    assert {t["trail_arn"] for t in planned if t["changes"]} == set(fixes)
    assert main(["apply", *plan], out=io.StringIO(), err=io.StringIO()) == 0
    assert main(["plan", *plan], out=io.StringIO(), err=io.StringIO()) == 0


def test_the_in_place_fix_never_widens_what_a_selector_records_beyond_management_events() -> None:
    from trailkeeper.audit.selector_fix import management_fixed
    from trailkeeper.trail import selectors

    def fixed(read: dict[str, Any]) -> Any:
        return management_fixed(selectors.from_read(read))  # as GetEventSelectors answers, as the audit reads

    # A basic selector's ReadWriteType applies to its data events too: widening {WriteOnly, S3} would start
    # recording (and billing) every S3 read. A management selector is added beside it instead.
    data = {"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}
    assert fixed({"EventSelectors": [data]}) == {"EventSelectors": [data, {"ReadWriteType": "All"}]}
    # No room for another basic selector (five at most): no fix, the owner merges them.
    five = [
        {
            "ReadWriteType": "WriteOnly",
            "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::b{n}/"]}],
        }
        for n in range(5)
    ]
    assert fixed({"EventSelectors": five}) is None
    # An advanced management selector narrowed by eventName (read back; a declaration may not narrow so) keeps
    # its narrowing; a plain one is added.
    narrowed = {
        "Name": "logins",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "eventName", "Equals": ["ConsoleLogin"]},
        ],
    }
    added = fixed({"AdvancedEventSelectors": [narrowed]})
    assert added is not None and narrowed in added["AdvancedEventSelectors"]
    assert {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]} in (
        added["AdvancedEventSelectors"]
    )
    # Already as the rule wants: nothing to fix.
    assert fixed({"EventSelectors": [{"ReadWriteType": "All"}, data]}) is None
