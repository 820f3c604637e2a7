"""The benchmark keeps running (a quick pass); it reports, it never judges speed here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from bench import audit_export, peer, peer_inputs, run
from bench.common import Row
from devkit import fidelity
from devkit.recording_server import RecordingMotoServer, Request, smallest_write_gap, write_gaps

from trailkeeper.fleet import state

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_quick_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    sections = {row["section"] for row in results["rows"]}
    assert {"AWS calls per event", "Cold start", "Warm overhead per event", "Package size"} <= sections
    assert any(s.startswith("Fleet apply") for s in sections)
    organization = [row for row in results["rows"] if row["section"].startswith("Organization plan")]
    assert organization and organization[0]["verdict"].startswith("calls at the limit")  # counts, not timings
    audited = [row for row in results["rows"] if row["section"].startswith("Audit and export")]
    assert len(audited) == 4 and all(row["verdict"].startswith("calls at the limit") for row in audited)
    phases = [row for row in results["rows"] if row["section"].startswith("Audit, organization: where the time goes")]
    assert len(phases) == 6 and all(row["data"] for row in phases)  # the audit's phases and its CPU
    calls = [row for row in results["rows"] if row["section"] == "AWS calls per event"]
    assert all(row["verdict"].startswith("within") for row in calls)  # counts are exact, not timings
    assert {"IsLogging: start a stopped trail", "Every aspect declared, in sync"} <= {row["measure"] for row in calls}
    whole = [row for row in results["rows"] if row["section"].startswith("Fleet, every aspect declared")]
    assert len(whole) == 3 and all(row["verdict"].startswith("calls at the limit") for row in whole)
    assert "| Section | Measure |" in (tmp_path / "results.md").read_text()
    beside = [row for row in results["rows"] if row["section"].startswith(peer.SECTION)]
    ours = [row for row in beside if row["data"]["tool"] == "trailkeeper"]
    assert len(ours) == 3 and all(row["verdict"].startswith("calls at the limit") for row in ours)
    assert f"**{beside[0]['section']}**" in (tmp_path / "results.md").read_text()  # its own table


# --- beside Cloud Custodian: the harness without Custodian installed, and with it when .venv-peer exists ---


def test_custodian_policies_filter_on_what_describe_trails_answers_and_write_the_baseline() -> None:
    policies = {p["name"]: p for p in peer_inputs.custodian_policies()["policies"]}
    trail_fields = set(botocore.session.get_session().get_service_model("cloudtrail").shape_for("Trail").members)
    settings_policy, logging_policy = policies["trail-settings"], policies["trail-logging"]
    assert settings_policy["resource"] == logging_policy["resource"] == "aws.cloudtrail"
    for policy in (settings_policy, logging_policy):
        assert policy["filters"][0] == {"type": "is-shadow", "state": False}  # shadows are written by their home
    differs = settings_policy["filters"][1]["or"]
    # Each setting is filtered on its read name (EnableLogFileValidation is read as LogFileValidationEnabled).
    assert {(f["key"], f["value"]) for f in differs} == {("LogFileValidationEnabled", True), ("S3KeyPrefix", "fleet")}
    assert {f["key"] for f in differs} <= trail_fields
    assert settings_policy["actions"] == [
        {"type": "update-trail", "attributes": {"EnableLogFileValidation": True, "S3KeyPrefix": "fleet"}}
    ]
    assert logging_policy["filters"][1] == {"type": "status", "key": "IsLogging", "value": False}
    assert logging_policy["actions"] == [{"type": "set-logging", "enabled": True}]


def test_the_benchmarks_page_shows_the_policies_custodian_is_given() -> None:
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert f"```yaml\n{yaml.safe_dump(peer_inputs.custodian_policies(), sort_keys=False)}```" in page


def test_the_world_is_declared_by_arn_by_name_and_by_one_pattern() -> None:
    arns = [
        f"arn:aws:cloudtrail:{r}:123456789012:trail/fleet-{i}" for r in ("us-east-1", "eu-west-1") for i in range(3)
    ]
    by_arn = peer_inputs.trailkeeper_state("ARN", arns)["trails"]
    assert [t["Name"] for t in by_arn] == arns
    assert all(t["IsLogging"] is True and t["S3KeyPrefix"] == "fleet" for t in by_arn)
    assert [t["Name"] for t in peer_inputs.trailkeeper_state("name", arns)["trails"]] == [
        "fleet-0",
        "fleet-1",
        "fleet-2",
    ]
    assert [t["Name"] for t in peer_inputs.trailkeeper_state("pattern", arns)["trails"]] == ["*"]
    for mode, declared in (("ARN", len(arns)), ("name", 3), ("pattern", 1)):  # valid state files
        assert len(state.parse(peer_inputs.trailkeeper_state(mode, arns))) == declared


def test_trailkeepers_limit_is_counted_per_account_region_and_trail() -> None:
    one = peer_inputs.World(1, 17, 5)
    assert peer_inputs.trailkeeper_limit(one, "plan", assumed=False) == Counter(
        GetCallerIdentity=1, DescribeTrails=17, GetTrailStatus=85
    )
    assert peer_inputs.trailkeeper_limit(one, "apply", assumed=False) == Counter(
        GetCallerIdentity=1, DescribeTrails=17, GetTrailStatus=85, UpdateTrail=85, StartLogging=85
    )
    five = peer_inputs.World(5, 17, 5)
    assert peer_inputs.trailkeeper_limit(five, "again", assumed=True) == Counter(
        GetCallerIdentity=1, AssumeRole=5, DescribeTrails=85, GetTrailStatus=425
    )
    accounts = peer_inputs.accounts_file(["210000000001", "210000000002"], "Member")["accounts"]
    assert [a["role"] for a in accounts] == [
        "arn:aws:iam::210000000001:role/Member",
        "arn:aws:iam::210000000002:role/Member",
    ]


def _peer_row(stage: str, tool: str, how: str, verdict: str, **data: Any) -> Row:
    base = {"tool": tool, "how": how, "stage": stage, "wall_s": 1.25, "cpu_s": 0.5, "writes": 0}
    return Row(f"{peer.SECTION}: 1 account x 2 regions x 1 trails (0 ms per call)", "", "", "", verdict, base | data)


def test_the_peer_table_shows_each_run_side_by_side_with_its_calls_by_operation() -> None:
    rows = [
        Row("Package size", "artifact", "3 MiB", "50 MiB", "6%"),
        _peer_row(
            "plan",
            "trailkeeper",
            "by ARN",
            "calls at the limit; 2/2 drifted",
            operations={"DescribeTrails": 2, "GetTrailStatus": 2, "GetCallerIdentity": 1},
            smallest_write_gap_s=None,
            median_write_gap_s=None,
        ),
        _peer_row(
            "again",
            "Custodian",
            "--cache-period 15 (default)",
            "re-sent 2 writes",
            writes=2,
            operations={"UpdateTrail": 2, "GetTrailStatus": 2},
            smallest_write_gap_s=0.004,
            median_write_gap_s=0.0055,
        ),
    ]
    table = peer.table(rows)
    lines = table.strip().splitlines()
    assert lines[0] == f"**{rows[1].section}**"
    assert "Package size" not in table  # only the peer rows
    assert lines[4] == (
        "| plan / dry run | trailkeeper, by ARN | 1.2 s | 0.5 s | 5: 2 DescribeTrails, 2 GetTrailStatus, "
        "1 GetCallerIdentity | 0 | none | calls at the limit; 2/2 drifted |"
    )
    assert lines[5].startswith("| second run | Custodian, --cache-period 15 (default) |")
    assert "| 4: 2 GetTrailStatus, 2 UpdateTrail | 2 | 4 ms (6 ms) | re-sent 2 writes |" in lines[5]
    assert peer.table(rows[:1]) == ""


def test_the_recording_server_counts_each_request_by_account_region_and_operation() -> None:
    with fidelity.cloudtrail_as_aws(), RecordingMotoServer() as server:
        cloudtrail = boto3.client("cloudtrail", region_name="eu-west-1", endpoint_url=server.url)
        cloudtrail.describe_trails()
        boto3.client("sts", region_name="us-east-1", endpoint_url=server.url).get_caller_identity()
        assert [(r.account, r.region, r.service, r.operation, r.is_write) for r in server.requests] == [
            ("123456789012", "eu-west-1", "cloudtrail", "DescribeTrails", False),
            ("123456789012", "us-east-1", "sts", "GetCallerIdentity", False),
        ]
        server.reset()
        assert server.requests == []


def test_the_smallest_write_gap_is_between_two_writes_to_one_account_and_region() -> None:
    def at(seconds: float, operation: str, region: str = "us-east-1", account: str = "111111111111") -> Request:
        return Request(seconds, account, region, "cloudtrail", operation)

    requests = [
        at(0.0, "UpdateTrail"),
        at(0.1, "UpdateTrail", region="eu-west-1"),  # another region: its own schedule
        at(0.2, "UpdateTrail", account="222222222222"),  # another account too
        at(0.5, "DescribeTrails"),  # a read, not a write
        at(1.0, "StartLogging"),
        at(1.3, "UpdateTrail", region="eu-west-1"),
    ]
    assert write_gaps(requests) == pytest.approx([1.0, 1.2])
    assert smallest_write_gap(requests) == pytest.approx(1.0)
    assert smallest_write_gap(requests[:3]) is None


def test_the_peer_harness_holds_trailkeeper_to_its_limit_in_every_mode_in_one_account_and_in_several(
    tmp_path: Path,
) -> None:
    rows = peer.run((peer_inputs.World(1, 2, 1),), latency=0.0, peer=tmp_path)
    rows += peer.run((peer_inputs.World(2, 1, 1),), latency=0.0, peer=tmp_path, modes=("pattern",))
    stages = [(f"by {m}", s) for m in ("ARN", "name", "pattern", "pattern") for s in ("plan", "apply", "again")]
    assert [(r.data["how"], r.data["stage"]) for r in rows] == stages
    assert all(r.verdict.startswith("calls at the limit") for r in rows), [r.verdict for r in rows]
    applied = [r for r in rows if r.data["stage"] == "apply"]
    assert [r.data["in_baseline_after"] for r in applied] == [2] * 4
    assert rows[-1].data["operations"]["AssumeRole"] == 2  # once per account, not per region
    assert [r.data["writes"] for r in rows if r.data["stage"] == "again"] == [0] * 4


@pytest.mark.skipif(not (peer.PEER_VENV / "bin" / "custodian").exists(), reason="no .venv-peer (make bench makes it)")
def test_custodian_runs_beside_trailkeeper_and_its_default_cache_resends_updates() -> None:
    relative = Path(os.path.relpath(peer.PEER_VENV))  # as make bench passes it
    rows = peer.run((peer_inputs.World(1, 2, 1),), latency=0.0, peer=relative, modes=("ARN",))
    custodian = {(r.data["how"], r.data["stage"]): r for r in rows if r.data["tool"] == "Custodian"}
    assert custodian[("--cache-period 0", "apply")].data["in_baseline_after"] == 2
    assert custodian[("--cache-period 0", "again")].data["writes"] == 0
    # The default cache answers the second run with the trails as they were before the first: sent again.
    assert custodian[("--cache-period 15 (default)", "again")].data["operations"]["UpdateTrail"] == 2


# --- audit and export at scale (bench/audit_export.py): counts at the limit on small worlds, no timings ---


def test_the_audit_and_export_limit_is_computed_from_the_world() -> None:
    def trail(custom: bool = False, insights: bool = False) -> dict[str, bool]:
        return {"HasCustomEventSelectors": custom, "HasInsightSelectors": insights}

    homes = {"us-east-1": [trail(custom=True)] * 21 + [trail(insights=True)], "eu-west-1": [], "eu-west-2": [trail()]}
    # 22 trails homed in us-east-1: two ListTags there (twenty a call); none in a region without trails.
    assert audit_export.limit(homes, "audit", buckets=2) == Counter(
        DescribeRegions=1,
        DescribeTrails=3,
        GetTrailStatus=23,
        GetEventSelectors=21,
        ListTags=3,
        ListBuckets=1,
        GetPublicAccessBlock=2,
        GetBucketAcl=2,
        GetBucketPolicyStatus=2,
        GetBucketLogging=2,
        GetBucketPolicy=2,  # the delivery standard
    )
    # The delivery chain's links once each, whatever the number of trails that share them.
    key, role = "arn:aws:kms:us-east-1:111122223333:key/k", "arn:aws:iam::111122223333:role/cwl"
    shared = [{"KmsKeyId": key, "CloudWatchLogsRoleArn": role, "CloudWatchLogsLogGroupArn": "g"}] * 3
    assert audit_export.chain_limit([*shared, {"SnsTopicARN": "t"}], inline_policies=2) == Counter(
        DescribeKey=1,
        GetKeyPolicy=1,
        DescribeLogGroups=1,
        GetTopicAttributes=1,
        GetRole=1,
        ListRolePolicies=1,
        ListAttachedRolePolicies=1,
        GetRolePolicy=2,
    )
    assert audit_export.limit(homes, "export", accounts=10) == Counter(
        DescribeRegions=10,  # each account lists its own enabled regions
        AssumeRole=10,
        DescribeTrails=30,
        GetTrailStatus=230,
        GetEventSelectors=210,
        GetInsightSelectors=10,
        ListTags=30,
    )
    # The busiest home region: 22 status + 21 selector reads + 2 ListTags, spaced by the read pacer.
    assert audit_export.busiest(homes, "audit", latency=0.0) == pytest.approx(44 * 0.1)
    assert audit_export.paced(0, 0.05) == 0.0


def test_audit_and_export_of_one_account_make_exactly_their_limit_on_every_shape_of_trail() -> None:
    rows = audit_export.run_fleet(regions=2, trails=5, latency=0.0, repeat=1)
    assert [row.data["command"] for row in rows] == ["audit", "export"]
    for row in rows:
        assert row.data["operations"] == row.data["limit"], row.figure
        assert row.verdict.startswith("calls at the limit") and row.data["done"] == row.data["trails"] == 10
    audit, exported = (row.data["operations"] for row in rows)
    assert audit["GetEventSelectors"] == 4  # the basic and the advanced custom selectors, in both regions
    assert audit["GetBucketAcl"] == 3 and audit["GetTrailStatus"] == 10  # per bucket once, per trail once
    assert exported["GetInsightSelectors"] == 2 and "ListBuckets" not in exported


def test_audit_and_export_across_accounts_make_exactly_their_limit() -> None:
    rows = audit_export.run_organization(accounts=20, regions=3, latency=0.0)
    phases = [row for row in rows if row.section.startswith("Audit, organization: where the time goes")]
    assert len(phases) == 6 and sum(row.data.get("s", 0.0) for row in phases) > 0  # the audit's phases, its CPU
    rows = [row for row in rows if row not in phases]
    assert [row.data["command"] for row in rows] == ["audit", "export"]
    for row in rows:
        assert row.data["operations"] == row.data["limit"], row.figure
        assert row.verdict.startswith("calls at the limit") and row.data["done"] == 20
    audit = rows[0].data["operations"]
    # Per account: one AssumeRole, one bucket read once whatever the number of trails delivering to it.
    assert audit["AssumeRole"] == audit["ListBuckets"] == audit["GetBucketLogging"] == 20
    assert audit["DescribeTrails"] == 60 and audit["GetTrailStatus"] == 80  # 3 + the multi-region trail
    # Each account's clients are let go once it is read: at most the accounts running at once hold theirs
    # (17 regions' CloudTrail clients and S3, EC2 and STS ones), not every account of the run.
    assert all(row.data["clients_alive_at_most"] <= 16 * (3 + 3) for row in rows)


def test_only_some_sections_replace_their_rows_and_keep_the_others() -> None:
    before = {
        "when": "2026-11-30 12:02 UTC",
        "rows": [
            asdict(Row("Fleet plan", "a", "1", "1", "ok")),
            asdict(Row("Audit", "old", "1", "1", "ok")),
            asdict(Row("Package size", "b", "1", "1", "ok")),
        ],
    }
    fresh = [Row("Audit", "new", "2", "2", "ok"), Row("Audit", "newer", "3", "3", "ok")]
    rows, when = run.merged(before, fresh, "audit", "2026-11-30 14:30 UTC")
    assert [r.measure for r in rows] == ["a", "new", "newer", "b"]
    assert when == "2026-11-30 12:02 UTC; audit rows 2026-11-30 14:30 UTC"
    rows, _ = run.merged(before, [Row("New", "c", "1", "1", "ok")], "new", "2026-11-30 14:30 UTC")
    assert [r.measure for r in rows] == ["a", "old", "b", "c"]


@pytest.mark.parametrize("name", ["PROVIDER", "BASELINE", "BARE_EVENT", "BARE_FLOOR"])
def test_each_cold_start_pays_for_every_import_its_work_needs(name: str) -> None:
    # The bare yardstick once loaded ssl and http.client before its clock started: 24 ms of the imports boto3
    # needs went uncounted on its side only (docs/benchmarks.md).
    from bench import coldstart

    script = getattr(coldstart, name)
    before_the_clock = script.split("t0 = time.perf_counter()")[0]
    loaded = {
        module.strip().split(".")[0]
        for line in before_the_clock.splitlines()
        if line.startswith("import ")
        for module in line[len("import ") :].split(",")
    }
    assert loaded <= {"json", "os", "sys", "time"}, loaded


def test_the_floor_is_the_bare_work_with_our_dependencies_made_after_the_clock() -> None:
    from bench import coldstart

    before, after = coldstart.BARE_FLOOR.split("t0 = time.perf_counter()")
    assert before == coldstart.BARE_EVENT.split("t0 = time.perf_counter()")[0]
    for needed in ("import crhelper", "Logger(", "Metrics(", "update_trail", 'put.request("PUT"'):
        assert needed in after, needed
    assert set(coldstart.BARE_EVENT.splitlines()) <= set(coldstart.BARE_FLOOR.splitlines())
