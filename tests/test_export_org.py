"""`trailkeeper export --organization | --accounts`: every account's trails, grouped by account as an
organization run groups them, an organization trail once from its owner, and an account that cannot be
read reported (exit 1), never hidden; the export plans in sync across the same accounts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import cfnlint.api
import pytest
import yaml
from devkit import organization
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.recording import RecordingClients
from moto.iam.models import iam_backends

from tests.conftest import Invoker
from trailkeeper import handler
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.cli.main import main
from trailkeeper.fleet import report

REGIONS = ("--region", "us-east-1", "--region", "eu-west-1")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def exported(text: str) -> dict[str, list[str]]:
    """account -> the names of its trails, from an exported state file."""
    found: dict[str, list[str]] = {}
    for trail in yaml.safe_load(text)["trails"]:
        account, name = trail["Name"].split(":")[4], trail["Name"].rsplit("/", 1)[1]
        found.setdefault(account, []).append(name)
    return found


def test_every_account_is_exported_grouped_and_plans_in_sync(org: organization.Organization, tmp_path: Path) -> None:
    target = tmp_path / "org.yaml"
    code, _, err = run("export", "--organization", "-o", str(target), *REGIONS)
    assert code == 0, err
    text = target.read_text()
    members = org.members
    assert exported(text) == {
        org.management: ["audit-trail"],
        **{members[name]: ["regional-trail", "audit-trail"] for name in ("lab", "payments", "web")},  # eu- < us-
    }
    headings = [line.strip() for line in text.splitlines() if line.startswith("  # account ")]
    names = {org.management: " (master)", **{members[name]: f" ({name})" for name in members}}  # moto names it
    assert headings == [f"# account {account}{names[account]}" for account in sorted(names)]  # grouped, in order
    assert "from 4 account(s)" in text.splitlines()[0]
    assert err.startswith("trailkeeper: exported 7 trail(s) from 2 region(s) in 4 account(s)")
    code, out, err = run("plan", "-f", str(target), "--organization", *REGIONS)
    assert code == report.EXIT_OK, out + err
    assert out.splitlines()[-1].startswith("plan: 7 trail(s) in 4 account(s), 0 failed: 7 in sync")


ROLE = "OrganizationAccountAccessRole"


def test_an_account_that_cannot_be_read_is_reported_and_exits_1(org: organization.Organization, tmp_path: Path) -> None:
    lab = org.members["lab"]
    iam_backends[lab]["aws"].roles.clear()  # an invited account: no OrganizationAccountAccessRole
    target = tmp_path / "org.yaml"
    code, _, err = run("export", "--organization", "-o", str(target), *REGIONS)
    assert code == report.EXIT_FAILED
    said = f"trailkeeper: not exported: AccessDenied: account {lab} (lab): cannot assume role {ROLE}"
    assert said in err
    assert "does not trust your credentials" in err and "this function's role" not in err  # a person ran it
    text = target.read_text()
    missing = "# INCOMPLETE: 1 part(s) could not be read and are not in this file:\n"
    assert f"{missing}#   AccessDenied: account {lab} (lab): cannot assume" in text
    assert lab not in exported(text) and len(exported(text)) == 3  # the others went on


def test_an_organization_trail_is_exported_once_from_its_owner(
    org: organization.Organization,
    real_aws_rules: dict[str, Any],
) -> None:
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    owner.create_trail(Name="org-trail", S3BucketName=seeding.BUCKET, IsMultiRegionTrail=True)
    real_aws_rules.update(next(t for t in owner.describe_trails()["trailList"] if t["Name"] == "org-trail"))
    real_aws_rules["IsOrganizationTrail"] = True

    code, out, err = run("export", "--organization", *REGIONS)
    assert code == 0, err
    assert [a for a, names in exported(out).items() if "org-trail" in names] == [org.management]

    # Without its owner in the run, its copies are noted once, as plan notes them.
    code, out, err = run("export", "--organization", "--ou", org.ous["prod"], *REGIONS)
    assert code == 0, err
    assert all("org-trail" not in names for names in exported(out).values())
    note = f"{real_aws_rules['TrailARN']}: an organization trail seen in 2 member account(s); only its owner"
    assert note in err
    assert f"Not exported here: {real_aws_rules['TrailARN']}" in out


def test_an_inventory_exports_its_accounts_in_their_own_regions(org: organization.Organization, tmp_path: Path) -> None:
    inventory = tmp_path / "accounts.yml"
    web, payments = org.members["web"], org.members["payments"]
    inventory.write_text(
        "accounts:\n"
        f"  - account_id: '{web}'\n    name: web\n    regions: [eu-west-1]\n"
        f"  - account_id: '{payments}'\n    name: payments\n    regions: [us-east-1]\n"
    )
    code, out, err = run("export", "--accounts", str(inventory))
    assert code == 0, err
    assert exported(out) == {payments: ["audit-trail"], web: ["regional-trail"]}


def test_an_account_selection_that_fails_is_a_clear_error(org: organization.Organization, tmp_path: Path) -> None:
    inventory = tmp_path / "accounts.yml"
    inventory.write_text("accounts:\n  - account_id: 'not-an-id'\n")
    code, out, err = run("export", "--accounts", str(inventory))
    assert (code, out) == (1, "") and "not-an-id" in err, err


def test_cloudformation_writes_one_template_per_account_each_adopting_its_trails_with_zero_writes(
    org: organization.Organization, tmp_path: Path, cfn: ResponseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A custom resource acts in its stack's account: one template cannot adopt several accounts' trails.
    folder = tmp_path / "adopt"
    code, out, err = run("export", "--organization", "--format", "cloudformation", "-o", str(folder), *REGIONS)
    assert (code, out) == (0, ""), err
    names = {org.management: "master", **{account: name for name, account in org.members.items()}}
    assert sorted(path.name for path in folder.iterdir()) == sorted(f"{account}.yaml" for account in names)
    for account, name in names.items():
        path = folder / f"{account}.yaml"
        text = path.read_text()
        resources = yaml.safe_load(text)["Resources"]
        assert f"trailkeeper: account {account} ({name}): {len(resources)} trail(s) to {path}\n" in err
        assert text.startswith(f"# Exported by trailkeeper {__import__('trailkeeper').__version__} at ")
        assert f" from account {account}, " in text.splitlines()[0]
        assert cfnlint.api.lint(text, regions=["us-east-1"]) == []
        assert {res["Properties"]["Name"].split(":")[4] for res in resources.values()} == {account}

        # Deployed in its account, each Create finds its trail as declared and writes nothing.
        clients = RecordingClients()
        if account != org.management:
            clients._session = organization.session_in(account)
        sender = response.Sender(ssl_context=cfn.client_context(), sleep=lambda _: None)
        monkeypatch.setattr(handler, "RESOURCE", TrailSettingsResource(clients=lambda c=clients: c, sender=sender))
        stack = f"arn:aws:cloudformation:us-east-1:{account}:stack/adopt/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
        for logical_id, declared in resources.items():
            token = f"arn:aws:lambda:us-east-1:{account}:function:tk"
            properties = dict(declared["Properties"], ServiceToken=token)
            answer = Invoker(cfn)("create", ResourceProperties=properties, StackId=stack, LogicalResourceId=logical_id)
            assert answer["Status"] == "SUCCESS", answer["Reason"]
            assert answer["Data"]["ChangedProperties"] == "", (account, logical_id, answer["Data"])
        assert clients.calls and not [
            c for c in clients.calls if not c.operation.startswith(("Describe", "Get", "List"))
        ]


def test_cloudformation_for_several_accounts_needs_a_folder(org: organization.Organization, tmp_path: Path) -> None:
    file = tmp_path / "adopt.yaml"
    code, out, err = run("export", "--organization", "--format", "cloudformation", "-o", str(file), *REGIONS)
    rule = "--format cloudformation writes a template per account (a custom resource acts in its stack's account)"
    assert (code, out) == (1, "") and f"names a file: {rule}: give -o DIR for DIR/ACCOUNT_ID.yaml\n" in err, err
    assert not file.exists()
