"""The `trailkeeper` command: tables for people, a documented JSON report for machines, exit codes
pipelines can branch on, progress only on a terminal."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from devkit import world as seeding

from trailkeeper.drift import report
from trailkeeper.drift.cli import main


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv: str, out: io.StringIO | None = None, err: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = out or io.StringIO(), err or io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def desired(tmp_path: Path, world: seeding.World) -> Path:
    seeding.add_trail("ops-trail", "eu-west-1", IsMultiRegionTrail=True)
    path = tmp_path / "desired.yaml"
    path.write_text(
        "trails:\n"
        "  - Name: audit-trail\n    EnableLogFileValidation: true\n    KmsKeyId: alias/trailkeeper-demo\n"
        "  - Name: ops-trail\n    S3KeyPrefix: ops\n"
    )
    return path


def test_plan_prints_a_table_and_exits_2_on_drift(desired: Path, world: seeding.World) -> None:
    code, out, err = run("plan", "-f", str(desired))
    assert code == report.EXIT_DRIFT, err
    lines = out.splitlines()
    assert lines[0].split() == ["TRAIL", "HOME", "REGION", "STATUS", "PROPERTY", "CURRENT", "->", "DECLARED"]
    assert lines[1].split()[:5] == ["audit-trail", "us-east-1", "drifted", "EnableLogFileValidation", "false"]
    assert "KmsKeyId '' -> alias/trailkeeper-demo" in " ".join(lines[2].split())  # no key yet: no lookup
    assert lines[3].split() == ["ops-trail", "eu-west-1", "drifted", "S3KeyPrefix", "''", "->", "ops"]
    assert lines[-1] == "plan: 2 trail(s): 0 in sync, 2 drifted, 0 fixed, 0 failed"


def test_apply_fixes_then_plan_and_apply_find_nothing(desired: Path) -> None:
    code, out, _ = run("apply", "-f", str(desired))
    assert code == report.EXIT_OK and out.splitlines()[-1].endswith("0 in sync, 0 drifted, 2 fixed, 0 failed")
    assert run("plan", "-f", str(desired))[0] == report.EXIT_OK
    code, out, _ = run("apply", "-f", str(desired), "--json")
    assert code == 0 and json.loads(out)["summary"]["in_sync"] == 2


def test_the_json_report_follows_its_schema(desired: Path) -> None:
    for command in ("plan", "apply", "plan"):
        code, out, _ = run(command, "-f", str(desired), "--json")
        document = json.loads(out)
        jsonschema.validate(document, report.SCHEMA)
        assert document["action"] == command
    assert code == 0


def test_a_failed_trail_is_reported_and_exits_1(tmp_path: Path, world: seeding.World) -> None:
    path = tmp_path / "desired.json"
    path.write_text(
        json.dumps(
            {"trails": [{"Name": "missing-trail", "S3KeyPrefix": "x"}, {"Name": "audit-trail", "S3KeyPrefix": "ok"}]}
        )
    )
    code, out, _ = run("apply", "-f", str(path), "--json")
    document = json.loads(out)
    jsonschema.validate(document, report.SCHEMA)
    assert code == report.EXIT_FAILED
    assert [t["status"] for t in document["trails"]] == ["failed", "fixed"]
    assert document["trails"][0]["error"]["code"] == "TrailNotFound"


def test_an_invalid_file_fails_before_any_aws_call_with_every_problem(tmp_path: Path, aws: None) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("trails:\n  - Name: audit-trail\n    KmsKeyId: nope\n    Colour: red\n")
    code, out, err = run("apply", "-f", str(path))
    assert code == report.EXIT_FAILED and out == ""
    assert err.splitlines()[0] == "trailkeeper: InvalidState"
    assert "bad.yaml: trails[0] (audit-trail): KmsKeyId='nope'" in err and "Colour: unknown property" in err


def test_region_comes_from_the_flag_then_the_environment_then_the_profile(
    tmp_path: Path, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeding.add_trail("sydney-trail", "ap-southeast-2")
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: sydney-trail\n    S3KeyPrefix: syd\n")
    assert run("plan", "-f", str(path))[0] == report.EXIT_FAILED  # looked up in us-east-1: not there
    assert run("plan", "-f", str(path), "--region", "ap-southeast-2")[0] == report.EXIT_DRIFT
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert run("plan", "-f", str(path))[0] == report.EXIT_DRIFT
    config = tmp_path / "config"
    config.write_text("[profile sydney]\nregion = ap-southeast-2\n")
    credentials = tmp_path / "credentials"  # an explicit profile ignores the environment's keys, as the AWS CLI does
    credentials.write_text("[sydney]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable)
    assert run("plan", "-f", str(path), "--profile", "sydney")[0] == report.EXIT_DRIFT
    code, _, err = run("plan", "-f", str(path))
    assert code == report.EXIT_FAILED and "no region" in err


def test_an_unknown_profile_is_a_clear_error(desired: Path) -> None:
    code, out, err = run("plan", "-f", str(desired), "--profile", "no-such-profile")
    assert code == report.EXIT_FAILED and out == ""
    assert err.startswith("trailkeeper: ProfileNotFound\n") and "no-such-profile" in err


def test_progress_shows_on_a_terminal_only(desired: Path) -> None:
    err = Terminal()
    run("plan", "-f", str(desired), out=Terminal(), err=err)
    assert "read regions: 1/1" in err.getvalue() and "plan trails: 2/2" in err.getvalue()
    assert err.getvalue().endswith("\r\x1b[K")  # the line is cleared at the end
    for argv, out in (
        (("plan", "-f", str(desired)), io.StringIO()),
        (("plan", "-f", str(desired), "--json"), Terminal()),
    ):
        err = Terminal()
        run(*argv, out=out, err=err)
        assert err.getvalue() == ""


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "trailkeeper"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "exit codes:" in result.stdout
