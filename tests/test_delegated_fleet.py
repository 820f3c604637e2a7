"""plan, apply, export and audit (and --fix) from CloudTrail's delegated administrator: the management account's
organization trail covered once (not once per region it shows in, nor per account of a run), every call by ARN
in its home region; a plain member sees it as before, a copy only its owner or administrator may change."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from devkit import organization
from devkit.recording import Call, RecordingClients

from tests.test_delegated_resource import by_name, writes
from trailkeeper.cli import connection
from trailkeeper.cli.main import main
from trailkeeper.fleet import report

REGIONS = ("--region", "us-east-1", "--region", "eu-west-1")
ORG_TRAIL = organization.ORGANIZATION_TRAIL


class Runs:
    """The CLI run as one account (its credentials in the environment), each run's calls recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.made: list[RecordingClients] = []

    def act_as(self, account: str) -> None:
        issued = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="cli"
        )["Credentials"]
        self.monkeypatch.setenv("AWS_ACCESS_KEY_ID", issued["AccessKeyId"])
        self.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", issued["SecretAccessKey"])
        self.monkeypatch.setenv("AWS_SESSION_TOKEN", issued["SessionToken"])

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.made.clear()
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def json(self, *argv: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self(*argv, "--json")
        assert out, err
        return code, json.loads(out)

    @property
    def calls(self) -> list[Call]:
        return [c for made in self.made for c in made.calls]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    runs = Runs(monkeypatch)

    def recording(session: Any, config: Any = None) -> RecordingClients:
        made = RecordingClients(session=session)
        runs.made.append(made)
        return made

    monkeypatch.setattr(connection, "Clients", recording)
    yield runs


def state(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desired.yaml"
    path.write_text(text)
    return path


def test_plan_and_apply_from_the_delegated_administrator_cover_the_organization_trail_once_by_arn(
    delegated: organization.Delegated, cli: Runs, tmp_path: Path
) -> None:
    cli.act_as(delegated.administrator)
    desired = state(tmp_path, "trails:\n  - Name: '*'\n    EnableLogFileValidation: true\n    IsLogging: true\n")
    code, document = cli.json("plan", "-f", str(desired), *REGIONS)
    jsonschema.validate(document, report.SCHEMA)
    assert code == report.EXIT_DRIFT
    # Seen in both regions (a multi-region trail), covered once, at home; no longer "not owned" here.
    assert [(t["trail_arn"], t["home_region"], t["status"]) for t in document["trails"]] == [
        (delegated.trail_arn, "us-east-1", "drifted")
    ]
    assert "not_owned" not in document and "warnings" not in document
    assert len([c for c in cli.calls if c.operation == "ListDelegatedAdministrators"]) == 1

    code, document = cli.json("apply", "-f", str(desired), *REGIONS)
    assert code == report.EXIT_OK and [t["status"] for t in document["trails"]] == ["fixed"]
    assert writes(cli.calls) == ["UpdateTrail", "StartLogging"]
    assert by_name(cli.calls) == []
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    assert owner.get_trail(Name=delegated.trail_arn)["Trail"]["LogFileValidationEnabled"] is True

    code, document = cli.json("plan", "-f", str(desired), *REGIONS)
    assert code == report.EXIT_OK and [t["status"] for t in document["trails"]] == ["in_sync"]
    by_trail_name = state(tmp_path, f"trails:\n  - Name: {ORG_TRAIL}\n    EnableLogFileValidation: true\n")
    code, document = cli.json("apply", "-f", str(by_trail_name), *REGIONS)  # by name: the same trail, in sync
    assert code == report.EXIT_OK and [t["status"] for t in document["trails"]] == ["in_sync"]
    assert writes(cli.calls) == []


def test_a_plain_member_notes_the_copy_and_is_refused_when_it_names_it(
    delegated: organization.Delegated, cli: Runs, tmp_path: Path
) -> None:
    web = delegated.organization.members["web"]
    cli.act_as(web)
    pattern = state(tmp_path, "trails:\n  - Name: 'org-*'\n    EnableLogFileValidation: true\n")
    code, document = cli.json("plan", "-f", str(pattern), *REGIONS)
    assert code == report.EXIT_OK and document["trails"] == []
    assert document["not_owned"] == [
        {"trail_arn": delegated.trail_arn, "owner_account": delegated.organization.management, "seen_in_accounts": 1}
    ]
    named = state(tmp_path, f"trails:\n  - Name: {ORG_TRAIL}\n    EnableLogFileValidation: true\n")
    code, document = cli.json("plan", "-f", str(named), *REGIONS)
    assert code == report.EXIT_DRIFT  # read by ARN, as a member may; Organizations would not say, so a warning
    assert document["warnings"] == [
        f"{delegated.trail_arn}: account {web} may change organization trail org-trail only as CloudTrail's "
        "delegated administrator, which Organizations did not confirm (ListDelegatedAdministrators: "
        "AccessDeniedException): CloudTrail decides at the first write"
    ]
    code, document = cli.json("apply", "-f", str(named), *REGIONS)
    assert code == report.EXIT_FAILED
    (failed,) = document["trails"]
    assert failed["error"]["code"] == "NotChangeableHere"
    assert failed["error"]["reason"].endswith(
        f"CloudTrail refused account {web} (UpdateTrail: NotOrganizationMasterAccountException)"
    )
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    assert owner.get_trail(Name=delegated.trail_arn)["Trail"]["LogFileValidationEnabled"] is False


def test_export_from_the_delegated_administrator_declares_the_organization_trail_once_and_plans_in_sync(
    delegated: organization.Delegated, cli: Runs, tmp_path: Path
) -> None:
    cli.act_as(delegated.administrator)
    target = tmp_path / "exported.yaml"
    code, _, err = cli("export", "-o", str(target), *REGIONS)
    assert code == 0, err
    declared = yaml.safe_load(target.read_text())["trails"]
    assert [t["Name"] for t in declared] == [delegated.trail_arn]
    assert declared[0]["IsOrganizationTrail"] is True
    assert "Not exported here" not in target.read_text()
    code, out, err = cli("plan", "-f", str(target), *REGIONS)
    assert code == report.EXIT_OK, out + err
    assert by_name(cli.calls) == []


def findings_of(document: dict[str, Any], resource: str) -> dict[str, str]:
    return {f"{f['standard']}:{f['control']}": f["status"] for f in document["findings"] if f["resource"] == resource}


def test_the_audit_from_the_delegated_administrator_judges_the_organization_trail_as_its_owner_does(
    delegated: organization.Delegated, cli: Runs
) -> None:
    cli.act_as(delegated.administrator)
    code, document = cli.json("audit", "--standard", "fsbp", "--region", "us-east-1")
    as_administrator = findings_of(document, delegated.trail_arn)
    assert as_administrator["fsbp:CloudTrail.4"] == "FAIL"  # trail-level controls: judged here, once
    assert {f["account"] for f in document["findings"] if f["resource"] == delegated.trail_arn} == {
        delegated.organization.management  # the trail's account, as its owner's audit says it
    }
    # Its log bucket is the management account's (a Log Archive's, in a landing zone): not judged from here.
    bucket = [f for f in document["findings"] if f["resource"] == "arn:aws:s3:::trailkeeper-demo-logs"]
    assert bucket and {f["status"] for f in bucket} == {"NOT_AVAILABLE"}
    assert "belongs to another account" in bucket[0]["reason"]
    assert document["errors"] == []  # what could not be checked is said, not a failed run
    cli.act_as(delegated.organization.management)
    _, owners = cli.json("audit", "--standard", "fsbp", "--region", "us-east-1")
    assert {k: v for k, v in findings_of(owners, delegated.trail_arn).items()} == as_administrator

    cli.act_as(delegated.administrator)
    code, document = cli.json("audit", "--standard", "fsbp", "--region", "us-east-1", "--fix", "--tag", "owner=sec")
    assert code == 2 and document["errors"] == []  # exit 2: controls failed when read (then fixed)
    fixed = document["fix"]["report"]["trails"]
    assert [(t["trail_arn"], t["status"]) for t in fixed] == [(delegated.trail_arn, "fixed")]
    assert by_name(cli.calls) == []
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    assert owner.get_trail(Name=delegated.trail_arn)["Trail"]["LogFileValidationEnabled"] is True


def once_judged(document: dict[str, Any], arn: str) -> bool:
    return len([f for f in document["findings"] if f["resource"] == arn and f["control"] == "CloudTrail.4"]) == 1


def inventory(tmp_path: Path, delegated: organization.Delegated, *accounts: str) -> Path:
    """A c7n-org inventory of `accounts`, each through the role the management account's stack would create."""
    path = tmp_path / "accounts.yml"
    entries = [
        {"account_id": account, "name": account, "role": "OrganizationAccountAccessRole"} for account in accounts
    ]
    path.write_text(yaml.safe_dump({"accounts": entries}))
    return path


@pytest.fixture
def management_role(delegated: organization.Delegated) -> None:
    """The role an organization run from the delegated administrator assumes in the management account (which has
    no OrganizationAccountAccessRole: docs/organizations.md deploys member-role.yaml there)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=json.dumps(trust)
    )


def test_a_run_over_accounts_reports_the_organization_trail_once_from_its_owner_else_its_administrator(
    delegated: organization.Delegated, cli: Runs, tmp_path: Path, management_role: None
) -> None:
    cli.act_as(delegated.administrator)
    org = delegated.organization
    desired = state(tmp_path, "trails:\n  - Name: '*'\n    EnableLogFileValidation: true\n")
    everyone = inventory(tmp_path, delegated, org.management, delegated.administrator, org.members["web"])
    code, document = cli.json("plan", "-f", str(desired), "--accounts", str(everyone), *REGIONS)
    jsonschema.validate(document, report.SCHEMA)
    org_rows = [(t["account"], t["status"]) for t in document["trails"] if t["trail_arn"] == delegated.trail_arn]
    assert org_rows == [(org.management, "drifted")]  # its owner reports it; not the administrator nor the member
    assert document["not_owned"] == []
    # Organizations asked once, by the caller, for every account of the run; the administrator's own account
    # (the caller's clients) does not even read the trail its owner reports.
    assert len([c for c in cli.calls if c.operation == "ListDelegatedAdministrators"]) == 1
    assert [c.operation for c in cli.calls if delegated.trail_arn in repr(c.params)] == []

    without_owner = inventory(tmp_path, delegated, delegated.administrator, org.members["web"])
    code, document = cli.json("plan", "-f", str(desired), "--accounts", str(without_owner), *REGIONS)
    org_rows = [(t["account"], t["status"]) for t in document["trails"] if t["trail_arn"] == delegated.trail_arn]
    assert org_rows == [(delegated.administrator, "drifted")]  # the administrator reports it
    assert document["not_owned"] == []

    code, _, err = cli("export", "--accounts", str(everyone), "-o", str(tmp_path / "all.yaml"), *REGIONS)
    assert code == 0, err
    names = [t["Name"] for t in yaml.safe_load((tmp_path / "all.yaml").read_text())["trails"]]
    assert names.count(delegated.trail_arn) == 1

    code, document = cli.json("audit", "--standard", "fsbp", "--accounts", str(without_owner), "--region", "us-east-1")
    judged = [
        f for f in document["findings"] if f["resource"] == delegated.trail_arn and f["control"] == "CloudTrail.4"
    ]
    assert len(judged) == 1
    code, document = cli.json("audit", "--standard", "fsbp", "--accounts", str(everyone), "--region", "us-east-1")
    judged = [
        f for f in document["findings"] if f["resource"] == delegated.trail_arn and f["control"] == "CloudTrail.4"
    ]
    assert len(judged) == 1


def test_the_state_machine_leaves_the_organization_trail_to_its_owners_child(
    delegated: organization.Delegated, state_machine_steps: None, clients: RecordingClients
) -> None:
    # One account per child: each owner reports its own organization trails, so the delegated administrator's
    # child, like any member's, notes the trail rather than planning or changing it a second time.
    from devkit.lambda_context import LambdaContext

    from trailkeeper import handler

    trails = [{"Name": "*", "EnableLogFileValidation": True}]
    child = handler.lambda_handler(
        {"action": "apply", "account": delegated.administrator, "trails": trails}, LambdaContext()
    )
    assert child["trails"] == []
    assert [n["trail_arn"] for n in child["not_owned"]] == [delegated.trail_arn]
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    assert owner.get_trail(Name=delegated.trail_arn)["Trail"]["LogFileValidationEnabled"] is False
    own = handler.lambda_handler(
        {"action": "plan", "account": delegated.organization.management, "trails": trails}, LambdaContext()
    )
    assert [(t["trail_arn"], t["status"]) for t in own["trails"] if t["trail_arn"] == delegated.trail_arn] == [
        (delegated.trail_arn, "drifted")
    ]
