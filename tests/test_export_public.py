"""The public declarations (tests/fixtures/public_trails/) once adopted: export them, plan the export.

Each declaration is applied to an existing trail as tests/test_public_declarations.py does; the trail is
then exported and the export planned and applied: every trail in sync, zero writes. The CloudFormation
export of the same trail lints clean.
"""

from __future__ import annotations

from pathlib import Path

import cfnlint.api
import pytest
import yaml
from devkit.recording import RecordingClients

from tests.test_export import ACCOUNT, NOW, WRITES
from tests.test_public_declarations import (
    FIXTURES,
    KEY_ID,
    REGION,
    WEAKENING,
    _run,
    _world,
    account,  # noqa: F401 - a fixture
)
from trailkeeper.aws.calls import Deadline
from trailkeeper.aws.pacing import Pacer
from trailkeeper.export import read as export
from trailkeeper.export import write as export_files
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state
from trailkeeper.fleet.report import Report
from trailkeeper.trail.selectors import ADVANCED, BASIC


def _plan(text: str, clients: RecordingClients, *, apply: bool) -> Report:
    return fleet.run(
        state.loads(text, "export.yaml"),
        clients=clients,
        default_region=REGION,
        caller_account=ACCOUNT,
        apply=apply,
        regions=[REGION],
        pacer=Pacer(interval=0),
        read_pacer=Pacer(interval=0),
        deadline=Deadline(),
    )


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_an_adopted_public_declaration_exports_to_a_state_that_plans_in_sync(
    path: Path,
    account: None,  # noqa: F811 - the fixture imported above
) -> None:
    text = path.read_text(encoding="utf-8")
    key_id = _world(yaml.safe_load(text)["properties"])
    properties = yaml.safe_load(text.replace(KEY_ID, key_id))["properties"]
    _run({"trails": [properties]}, apply=True, allow_weakening=path.stem[:2] in WEAKENING)

    result = export.export_account(
        RecordingClients(), [REGION], account=ACCOUNT, default_region=REGION, read_pacer=Pacer(interval=0)
    )
    assert result.complete and len(result.trails) == 1
    (exported,) = result.trails
    declared_kind = ADVANCED if ADVANCED in properties else BASIC
    assert declared_kind in exported.properties  # basic or advanced, as the trail has them
    exported_text = export_files.state_file(result, caller_account=ACCOUNT, now=NOW)
    clients = RecordingClients()
    for apply in (False, True):
        report = _plan(exported_text, clients, apply=apply)
        assert [r.status for r in report.results] == ["in_sync"], [r.to_dict() for r in report.results]
    assert [c.operation for c in clients.calls if c.operation in WRITES] == []
    template = export_files.template(result, caller_account=ACCOUNT, now=NOW)
    assert cfnlint.api.lint(template, regions=[REGION]) == []
