"""`trailkeeper plan|apply --organization | --accounts`: the same engine in every account of an
organization (moto's multi-account support), one AssumeRole per account, failures kept to their account."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import organization
from devkit import world as seeding
from moto.iam.models import iam_backends

from tests.org_gaps import account_of
from trailkeeper.cli.main import main
from trailkeeper.fleet import report

DESIRED = "trails:\n  - Name: audit-trail\n    EnableLogFileValidation: true\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(*argv, "--json")
    assert out, err
    document = json.loads(out)
    jsonschema.validate(document, report.SCHEMA)
    return code, document


@pytest.fixture
def desired(tmp_path: Path, org: organization.Organization) -> Path:
    # A name applies in every account; an ARN (here a trail homed in eu-west-1) only in the account it names.
    regional = f"arn:aws:cloudtrail:{organization.REGIONAL}:{org.members['payments']}:trail/regional-trail"
    path = tmp_path / "desired.yaml"
    path.write_text(DESIRED + f"  - Name: {regional}\n    S3KeyPrefix: payments\n")
    return path


def by_account(document: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for trail in document["trails"]:
        found.setdefault(trail["account"], []).append((trail["name"].rsplit("/", 1)[-1], trail["status"]))
    return found


def test_plan_then_apply_across_every_account_and_region(desired: Path, org: organization.Organization) -> None:
    code, document = run_json("plan", "-f", str(desired), "--organization")
    assert code == report.EXIT_DRIFT
    members = org.members
    assert by_account(document) == {
        org.management: [("audit-trail", "drifted")],
        members["web"]: [("audit-trail", "drifted")],
        members["payments"]: [("audit-trail", "drifted"), ("regional-trail", "drifted")],
        members["lab"]: [("audit-trail", "drifted")],
    }
    regional = next(t for t in document["trails"] if t["name"].endswith("regional-trail"))
    assert regional["home_region"] == "eu-west-1" and regional["account_name"] == "payments"
    counts = {a["account"]: (a["trails"], a["drifted"], a["error"]) for a in document["summary"]["accounts"]}
    assert counts[members["payments"]] == (2, 2, None) and len(counts) == 4
    assert document["not_owned"] == []

    code, document = run_json("apply", "-f", str(desired), "--organization")
    assert code == report.EXIT_OK and document["summary"]["fixed"] == 5
    assert run("plan", "-f", str(desired), "--organization")[0] == report.EXIT_OK


def test_the_table_groups_by_account(desired: Path, org: organization.Organization) -> None:
    _, out, _ = run("plan", "-f", str(desired), "--organization")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ACCOUNT", "TRAIL"]
    payments = next(i for i, line in enumerate(lines) if line.startswith(f"{org.members['payments']} (payments)"))
    assert "audit-trail" in lines[payments] and "regional-trail" in lines[payments + 1]
    assert not lines[payments + 1].startswith(org.members["payments"])  # the account is named once
    assert lines[-1] == "plan: 5 trail(s) in 4 account(s), 0 failed: 0 in sync, 5 drifted, 0 fixed, 0 failed"


def test_an_ou_selects_the_accounts_under_it_recursively(desired: Path, org: organization.Organization) -> None:
    _, document = run_json("plan", "-f", str(desired), "--organization", "--ou", org.ous["prod"])
    assert set(by_account(document)) == {org.members["web"], org.members["payments"]}  # payments is nested


def test_an_excluded_account_is_left_out(desired: Path, org: organization.Organization) -> None:
    _, document = run_json("plan", "-f", str(desired), "--organization", "--exclude-account", org.members["lab"])
    assert set(by_account(document)) == {org.management, org.members["web"], org.members["payments"]}


def test_suspended_accounts_are_left_out(desired: Path, org: organization.Organization) -> None:
    boto3.client("organizations", region_name="us-east-1").close_account(AccountId=org.members["lab"])
    _, document = run_json("plan", "-f", str(desired), "--organization")
    assert org.members["lab"] not in by_account(document)


def test_an_account_without_the_role_fails_alone_and_exits_1(
    desired: Path, org: organization.Organization, caplog: pytest.LogCaptureFixture
) -> None:
    lab = org.members["lab"]
    iam_backends[lab]["aws"].roles.clear()  # an invited account: no OrganizationAccountAccessRole
    code, document = run_json("apply", "-f", str(desired), "--organization")
    assert code == report.EXIT_FAILED
    assert document["summary"]["accounts_failed"] == 1  # counted at the top, not only in the account's entry
    failed = next(a for a in document["summary"]["accounts"] if a["account"] == lab)
    assert failed["error"]["code"] == "AccessDenied"
    # Worded for a person at the CLI: no function is involved; the role is missing or does not trust them.
    named = f"account {lab} (lab): cannot assume role OrganizationAccountAccessRole: no such role there"
    assert failed["error"]["reason"].startswith(f"AccessDenied: {named}, or its trust policy does not trust your")
    assert "function" not in failed["error"]["reason"]
    assert document["summary"]["fixed"] == 4 and lab not in by_account(document)  # the others went on
    caplog.clear()
    code, out, _ = run("plan", "-f", str(desired), "--organization")
    (row,) = [line for line in out.splitlines() if line.startswith(f"{lab} (lab)")]
    assert named in row and row.endswith("deploy member-role.yaml, --role-name)")  # whole, not cut
    assert out.splitlines()[-1].startswith("plan: 4 trail(s) in 4 account(s), 1 failed:")
    # The CLI prints a warning's message alone (trailkeeper: WARNING <message>): it names the account and role.
    assert any(r.getMessage().startswith(f"account failed: AccessDenied: {named}") for r in caplog.records)


def test_a_denied_call_names_the_account_and_the_role(desired: Path, org: organization.Organization) -> None:
    # A trail declared by an ARN in an account the caller's role cannot reach in that region is a
    # per-trail failure; a denial of every call in one account fails only that account's trails.
    web = org.members["web"]
    denied = f"arn:aws:iam::{web}:role/OrganizationAccountAccessRole"

    def deny(**_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeTrails")

    from trailkeeper.aws.calls import Clients

    original = Clients.client

    def client(self: Clients, service: str, region: str) -> Any:
        made = original(self, service, region)
        # The denial is in us-east-1, where web's trail lives: the other regions' reads still answer.
        if service == "cloudtrail" and region == "us-east-1" and getattr(self, "_denied", None) is None:
            self._denied = True  # type: ignore[attr-defined]
            if account_of(self) == web:
                made.meta.events.register("before-call.cloudtrail.DescribeTrails", deny)
        return made

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Clients, "client", client)
        code, document = run_json("plan", "-f", str(desired), "--organization")
    assert code == report.EXIT_FAILED
    (failed,) = [t for t in document["trails"] if t["status"] == "failed"]
    assert failed["account"] == web
    assert failed["error"]["reason"].startswith(f"AccessDeniedException: account {web} (web) via {denied}: ")
    assert sorted(t["status"] for t in document["trails"]) == ["drifted"] * 4 + ["failed"]


def test_an_organization_trail_is_reported_once_from_its_owner(
    desired: Path,
    org: organization.Organization,
    real_aws_rules: dict[str, Any],
) -> None:
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    owner.create_trail(Name="org-trail", S3BucketName=seeding.BUCKET, IsMultiRegionTrail=True)
    trails = owner.describe_trails()["trailList"]  # moto ignores trailNameList
    real_aws_rules.update(next(t for t in trails if t["Name"] == "org-trail"))
    real_aws_rules["IsOrganizationTrail"] = True
    desired.write_text("trails:\n  - Name: org-trail\n    EnableLogFileValidation: true\n")

    code, document = run_json("plan", "-f", str(desired), "--organization")
    assert code == report.EXIT_DRIFT  # drift, not a failure in each member account
    assert [(t["account"], t["status"]) for t in document["trails"]] == [(org.management, "drifted")]
    assert document["not_owned"] == []

    # Without the owner in the run, the copies are noted once, not failed.
    code, document = run_json("plan", "-f", str(desired), "--organization", "--ou", org.ous["prod"])
    assert code == report.EXIT_OK and document["trails"] == []
    assert document["not_owned"] == [
        {"trail_arn": real_aws_rules["TrailARN"], "owner_account": org.management, "seen_in_accounts": 2}
    ]
    _, out, _ = run("plan", "-f", str(desired), "--organization", "--ou", org.ous["prod"])
    assert f"only its owner, account {org.management} (not in this run), can change it" in out


def test_another_accounts_ordinary_trail_is_a_failure_not_an_organization_copy(
    desired: Path,
    org: organization.Organization,
    real_aws_rules: dict[str, Any],
) -> None:
    # Seen in a member account, a trail of another account with IsOrganizationTrail false is no copy
    # of an organization trail: the credentials act elsewhere than the account named. Reported, never noted.
    owner = boto3.client("cloudtrail", region_name="us-east-1")
    owner.create_trail(Name="org-trail", S3BucketName=seeding.BUCKET, IsMultiRegionTrail=True)
    real_aws_rules.update(next(t for t in owner.describe_trails()["trailList"] if t["Name"] == "org-trail"))
    real_aws_rules["IsOrganizationTrail"] = False
    desired.write_text("trails:\n  - Name: org-trail\n    EnableLogFileValidation: true\n")
    code, document = run_json("plan", "-f", str(desired), "--organization", "--ou", org.ous["prod"])
    assert code == report.EXIT_FAILED and document["not_owned"] == []
    failed = {t["account"]: t["error"] for t in document["trails"]}
    assert set(failed) == {org.members["web"], org.members["payments"]}
    assert all(
        e["code"] == "NotChangeableHere" and f"belongs to account {org.management}" in e["reason"]
        for e in failed.values()
    )


def test_an_empty_selection_is_an_error_naming_it(
    tmp_path: Path, desired: Path, org: organization.Organization
) -> None:
    # An OU with no account: exit 0 with "0 trails" would read as "in sync".
    empty = boto3.client("organizations", region_name="us-east-1").create_organizational_unit(
        ParentId=org.root, Name="empty"
    )["OrganizationalUnit"]["Id"]
    code, out, err = run("plan", "-f", str(desired), "--organization", "--ou", empty, "--json")
    assert code == report.EXIT_FAILED
    assert json.loads(out)["error"]["code"] == "InvalidArguments"
    assert f"--organization --ou {empty} selects no account (no ACTIVE account under the OUs" in err
    assert err.rstrip().endswith("nothing to check")

    inventory = tmp_path / "accounts.yml"
    inventory.write_text(f"accounts:\n  - account_id: '{org.members['web']}'\n")
    flags = ("--accounts", str(inventory), "--exclude-account", org.members["web"])
    code, _, err = run("plan", "-f", str(desired), *flags)
    assert code == report.EXIT_FAILED
    assert f"--accounts {inventory} --exclude-account {org.members['web']} selects no account" in err


def test_accounts_no_declaration_applies_to_warn_that_nothing_was_checked(
    tmp_path: Path, org: organization.Organization
) -> None:
    # A trail declared by ARN applies only in the account it names: none of these is that account.
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: arn:aws:cloudtrail:us-east-1:111111111111:trail/audit\n    IsLogging: true\n")
    # Nothing checked is never a quiet success (issue 16: a state that matches no trail is an error), and
    # the warning says why (issue 15 item 9).
    code, out, err = run("plan", "-f", str(path), "--organization", "--ou", org.ous["prod"], "--json")
    document = json.loads(out)
    jsonschema.validate(document, report.SCHEMA)
    assert code == report.EXIT_FAILED and document["error"]["code"] == "NothingMatched"
    assert (
        "warning: no declared trail applies to the 2 selected account(s): nothing was checked "
        "(a trail declared by ARN applies only in the account the ARN names)" in err
    )


def test_the_cli_makes_only_the_calls_docs_iam_lists_for_it(desired: Path, org: organization.Organization) -> None:
    # docs/iam.md's CLI columns come from the modules the CLI runs: hold them to the calls it makes.
    from devkit.docs import PRINCIPALS

    from trailkeeper import permissions
    from trailkeeper.aws.calls import Clients

    made: set[str] = set()
    original = Clients.client

    def client(self: Clients, service: str, region: str) -> Any:
        built = original(self, service, region)
        built.meta.events.register(
            "before-call", lambda model, **_: made.add(f"{service}:{model.name}"), unique_id="record-cli-calls"
        )
        return built

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Clients, "client", client)
        assert run("apply", "-f", str(desired), "--organization")[0] == report.EXIT_OK
    (needed,) = [permissions.required(modules) for who, _, modules in PRINCIPALS if who == "CLI, `--organization`"]
    assert {"organizations:ListAccounts", "sts:AssumeRole", "cloudtrail:UpdateTrail"} <= made
    assert made - {"sts:GetCallerIdentity"} <= needed  # GetCallerIdentity needs no permission


def test_an_accounts_yml_inventory(tmp_path: Path, desired: Path, org: organization.Organization) -> None:
    inventory = tmp_path / "accounts.yml"
    web, payments = org.members["web"], org.members["payments"]
    inventory.write_text(
        "accounts:\n"
        f"  - account_id: {web}\n    name: web-prod\n    regions: [us-east-1]\n    tags: [env:prod]\n"
        f"  - account_id: '{payments}'\n    name: payments\n"
        f"    role: arn:aws:iam::{payments}:role/OrganizationAccountAccessRole\n"
        "  - account_id: '111111111111'\n    name: unknown\n"
    )
    code, document = run_json(
        "plan", "-f", str(desired), "--accounts", str(inventory), "--exclude-account", "111111111111"
    )
    assert code == report.EXIT_DRIFT
    assert {t["account"]: t["account_name"] for t in document["trails"]} == {web: "web-prod", payments: "payments"}


def test_an_invalid_inventory_lists_every_problem_before_any_call(tmp_path: Path, desired: Path) -> None:
    inventory = tmp_path / "accounts.yml"
    inventory.write_text("accounts:\n  - account_id: 12345\n    regions: [mars-1]\n    colour: blue\n")
    code, out, err = run("plan", "-f", str(desired), "--accounts", str(inventory))
    assert code == report.EXIT_FAILED and out == ""
    assert "accounts[0]: unknown key 'colour'" in err
    assert "account_id 12345 is not 12 digits (YAML read it as the number 12345)" in err  # never padded
    assert "regions ['mars-1'] must be a list of region names" in err


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (("--ou", "ou-abcd-12345678"), "--ou selects accounts of the organization: add --organization"),
        (("--organization", "--ou", "prod"), "--ou 'prod' is not an OU id"),
        (("--organization", "--exclude-account", "42"), "--exclude-account '42' is not a 12-digit account id"),
        (("--organization", "--max-accounts", "0"), "--max-accounts 0 must be 1 or more"),
        (("--role-name", "Other"), "--role-name needs --organization or --accounts"),  # issue 23: "needs"
    ],
)
def test_organization_flags_are_checked_before_any_call(tmp_path: Path, flags: tuple[str, ...], problem: str) -> None:
    path = tmp_path / "desired.yaml"
    path.write_text(DESIRED)
    out, err = io.StringIO(), io.StringIO()
    assert main(["plan", "-f", str(path), *flags], out=out, err=err) == report.EXIT_FAILED
    assert problem in err.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_counts_accounts(desired: Path) -> None:
    out, err = Terminal(), Terminal()
    assert main(["plan", "-f", str(desired), "--organization", "--max-accounts", "1"], out=out, err=err) == 2
    shown = [part.split("\x1b[K", 1)[-1] for part in err.getvalue().split("\r") if part.strip("\x1b[K")]
    assert shown == ["accounts: 1/4", "accounts: 2/4", "accounts: 3/4", "accounts: 4/4"]
