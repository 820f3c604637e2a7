"""`make demo` keeps working: the provider on every sample event, then the drift-fix CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the whole demo, once: make test-fast leaves it out

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_every_event_and_the_drift_fix_cycle() -> None:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "HOME": "/tmp"}
    done = subprocess.run(
        [sys.executable, "-m", "devkit.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for name in ("create", "update", "update-noop", "whole-trail", "weaken-dry-run", "weaken", "delete", "invalid"):
        assert f"== events/{name}.json" in out
    assert out.count('"Status": "SUCCESS"') == 8 and out.count('"Status": "FAILED"') == 3
    assert "plan      EnableLogFileValidation: false -> true" in out
    # The whole trail: a stopped trail started, selectors, Insights and tags applied, then in sync.
    whole = out[out.index("== events/whole-trail.json") :]
    assert '"ChangedProperties": "IsLogging,EventSelectors,InsightSelectors,Tags", "IsLogging": "true"' in whole
    again = whole[whole.index("== events/whole-trail.json", 10) :]
    assert '"ChangedProperties": "", "IsLogging": "true"' in again.split("== events/")[1]
    # A weakening: planned by a DryRun, then refused with nothing written.
    assert '"Plan": "StopLogging: IsLogging true -> false (weakens audit); UpdateTrail:' in out
    assert "WeakensAudit: allow it with AllowWeakening: [EnableLogFileValidation, IsLogging]" in out
    assert '"ChangedProperties": ""' in out  # the no-op update wrote nothing
    exits = [line.strip() for line in out.splitlines() if line.strip().startswith("exit code")]
    assert exits[:3] == ["exit code 2", "exit code 0", "exit code 0"]  # plan, apply, plan
    assert "plan: 3 trail(s): 3 in sync" in out
    # Adopt: export what exists, and plan on the export finds it in sync.
    adopt = out[out.index("== trailkeeper export") :]
    assert "exported 4 trail(s) from 17 region(s)" in adopt
    assert "plan: 4 trail(s): 4 in sync, 0 drifted" in adopt
    # Audit, fix through the guard (refusing a key or log group that cannot serve a region), audit again.
    audits = adopt[: adopt.index("== trailkeeper audit --standard delivery")].split("== trailkeeper audit")[1:]
    assert len(audits) == 3 and exits[3:8] == [
        "exit code 0",
        "exit code 0",
        "exit code 2",
        "exit code 2",
        "exit code 2",
    ]
    assert "42 pass, 10 fail" in audits[0]
    assert "--log-group trailkeeper-demo does not exist in eu-west-1" in audits[1]
    assert "apply: 2 trail(s): 0 in sync, 0 drifted, 2 fixed, 0 failed" in audits[1]
    assert "47 pass, 5 fail" in audits[2]
    # The last audit is the HTML page: written, and where is said (issue 23).
    report = ROOT / "build" / "audit-report.html"
    assert f"the audit report: {report}" in out and "wrote the audit report (html) to build/audit-report.html" in out
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Where the failures are" in page
    # Delivery: the chain whole, then the bucket policy replaced: the guard tells within the event, the audit
    # fails the trails that deliver there, --fix shows then appends CloudTrail's statements, and it passes.
    delivery = out[out.index("== trailkeeper audit --standard delivery") :]
    before, after = delivery.split("== someone replaces the policy of bucket trailkeeper-demo-logs")
    assert " 0 fail" in before and exits[8] == "exit code 0"
    trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
    assert f"guard     {trail} Delivery.1 FAIL: CloudTrail reports LatestDeliveryError AccessDenied" in after
    assert "metrics   DeliveryBroken=1" in after and "the guard judged the event and told in " in after
    runs = after.split("== trailkeeper audit")[1:]
    assert "Delivery.1  delivery  0     3" in runs[0] and "does not allow it" in runs[0]
    assert (
        "fix: would append CloudTrail's statements to the bucket policy" in runs[1]
        and '+      "Sid": "TrailkeeperCloudTrailWrite"' in runs[1]
    )
    assert "fix: appended CloudTrail's statements to the bucket policy" in runs[2]
    assert " 0 fail" in runs[3] and exits[9:] == ["exit code 2", "exit code 2", "exit code 0", "exit code 0"]
    # An organization: the Create from CloudTrail's delegated administrator manages the management account's
    # organization trail, every call naming it by ARN; the same Create from a plain member writes nothing.
    delegated, member = out.split("(CloudTrail's delegated administrator): Name org-trail")[1].split("(a plain member)")
    calls = [line.split("call", 1)[1].strip() for line in delegated.splitlines() if line.strip().startswith("call ")]
    trail_calls = [c for c in calls if not c.startswith(("DescribeTrails", "ListDelegatedAdministrators"))]
    assert [c.split("(")[0] for c in trail_calls] == [
        "GetTrailStatus",
        "ListTags",
        "UpdateTrail",
        "AddTags",
        "StartLogging",
    ]
    assert all(":trail/org-trail" in c for c in trail_calls)
    assert (
        '"Status": "SUCCESS"' in delegated
        and '"ChangedProperties": "EnableLogFileValidation,IsLogging,Tags"' in delegated
    )
    assert (
        '"Status": "FAILED"' in member
        and "NotChangeableHere: org-trail is an organization trail of management" in member
    )
    assert "UpdateTrail(" not in member and "StartLogging(" not in member
