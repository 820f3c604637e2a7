"""The audit's HTML page and its OCSF findings for one audit, held to reviewed files beside this test
(tests/test_report_files/): any change to a word, a class name, a field or a value shows as a diff to
review. After a change on purpose, regenerate them and read the diff before committing:

    .venv/bin/python -m pytest tests/test_report_files.py --force-regen

The audit is real (moto and the fidelity layer), its clock fixed; the delivery standard is left out, as
how long ago a trail last delivered depends on when the test runs."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from devkit import world as seeding
from devkit.recording import RecordingClients
from pytest_regressions.file_regression import FileRegressionFixture

from trailkeeper.audit import judge, ocsf, report_html
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Status
from trailkeeper.audit.findings import Audit, AuditError, Finding, Fix
from trailkeeper.fleet.report import Report

HOME, OTHER = seeding.HOME, "eu-west-1"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def audited(world: seeding.World, clients: RecordingClients) -> Audit:
    seeding.add_trail("far", OTHER)  # a single-region trail in another region, not logging
    result = judge.run(
        [judge.Target(seeding.ACCOUNT, clients)],
        [HOME, OTHER],
        standards=("fsbp", "cis-5.0", "cis-6.0"),
        home_region=HOME,
        clock=NOW.timestamp,
    )
    # An account of the run that could not be audited, as the CLI reports one whose role was refused.
    refused = AuditError("111111111111", "", "AccessDenied", "account 111111111111 (lab): cannot assume role")
    names = {seeding.ACCOUNT: "security <&> audit"}  # escaped on the page
    return dataclasses.replace(result, errors=(*result.errors, refused), names=names)


def test_the_html_page_is_the_reviewed_one(audited: Audit, file_regression: FileRegressionFixture) -> None:
    file_regression.check(report_html.render(audited, generated=NOW), extension=".html")


def test_the_ocsf_findings_are_the_reviewed_ones(audited: Audit, file_regression: FileRegressionFixture) -> None:
    documents = ocsf.ocsf(audited, int(NOW.timestamp() * 1000))
    file_regression.check(json.dumps(documents, indent=2, sort_keys=True) + "\n", extension=".json")


# --- made by hand: what a real audit of one account rarely shows at once ------------------------------------

TRAIL = f"arn:aws:cloudtrail:{HOME}:{seeding.ACCOUNT}:trail/audit-trail"
TOPIC = f"arn:aws:sns:{HOME}:{seeding.ACCOUNT}:trail-topic"
STRANGE = "a reason with \"quotes\", 'apostrophes', <tags> & an accent: é"


def _finding(control: str, standard: str, status: Status, resource: str = TRAIL, **kw: Any) -> Finding:
    account = kw.pop("account", seeding.ACCOUNT)
    return Finding(control, standard, status, resource, account, HOME, f"{control} title", "why", "do", **kw)


SCENARIOS = {
    # Every control judged passes: no finding to list, no error, no --fix.
    "clean": Audit(("fsbp",), (HOME,), (_finding("CloudTrail.1", "fsbp", PASS),), accounts=(seeding.ACCOUNT,)),
    # Every control judged passes or cannot be told (a control of the standard with no finding at all, too);
    # one account, no error; --fix --write-state wrote the state.
    "passing": Audit(
        ("fsbp", "cis-6.0"),
        (HOME,),
        (
            _finding("CloudTrail.1", "fsbp", PASS),
            _finding("CloudTrail.2", "fsbp", NOT_AVAILABLE, warnings=(STRANGE,)),
            _finding("4.1", "cis-6.0", PASS),
        ),
        accounts=(seeding.ACCOUNT,),
        fix=Fix((), state_file="state.yaml", state_trails=3),
    ),
    # Failures beside what cannot be told (failures first), warnings, a fix with an accent, a resource of no
    # mapped type, a finding of no account; --fix had nothing it could fix.
    "failing": Audit(
        ("fsbp",),
        (HOME,),
        (
            _finding("CloudTrail.2", "fsbp", NOT_AVAILABLE, warnings=(STRANGE, "second warning")),
            _finding("CloudTrail.4", "fsbp", FAIL, fix={"Name": TRAIL, "KmsKeyId": "alias/clé"}, warnings=(STRANGE,)),
            _finding("Delivery.5", "fsbp", FAIL, TOPIC, account=""),
            _finding("CloudTrail.4", "fsbp", PASS, TRAIL.replace("audit-trail", "other-trail")),  # one cell, two
        ),
        accounts=(seeding.ACCOUNT,),
        fix=Fix(({"Name": TRAIL},)),
    ),
    # --fix --dry-run: the engine's plan, as its table says it.
    "planned": Audit(
        ("fsbp",),
        (HOME,),
        (_finding("CloudTrail.4", "fsbp", FAIL, fix={"Name": TRAIL, "EnableLogFileValidation": True}),),
        accounts=(seeding.ACCOUNT,),
        fix=Fix(({"Name": TRAIL},), report=Report("plan", ())),
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_pages_made_by_hand_are_the_reviewed_ones(scenario: str, file_regression: FileRegressionFixture) -> None:
    page = report_html.render(SCENARIOS[scenario], generated=NOW)
    file_regression.check(page, extension=".html", basename=scenario)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_findings_made_by_hand_are_the_reviewed_ones(scenario: str, file_regression: FileRegressionFixture) -> None:
    documents = ocsf.ocsf(SCENARIOS[scenario], int(NOW.timestamp() * 1000))
    text = json.dumps(documents, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    file_regression.check(text, extension=".json", basename=f"{scenario}.ocsf")
