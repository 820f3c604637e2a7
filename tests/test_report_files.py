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

import pytest
from devkit import world as seeding
from devkit.recording import RecordingClients
from pytest_regressions.file_regression import FileRegressionFixture

from trailkeeper.audit import judge, ocsf, report_html
from trailkeeper.audit.findings import Audit, AuditError

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
