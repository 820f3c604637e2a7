"""The `trailkeeper` command: tables for people, a documented JSON report for machines, exit codes
pipelines can branch on, progress only on a terminal."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from devkit import world as seeding

from trailkeeper.cli import flags as org_command
from trailkeeper.cli.main import _parser, main
from trailkeeper.fleet import report


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
    assert lines[0].split() == [
        "TRAIL", "DECLARED", "BY", "HOME", "REGION", "STATUS", "PROPERTY", "CURRENT", "->", "DECLARED",
    ]  # fmt: skip
    assert lines[1].split()[:7] == [
        "audit-trail", "[0]", "audit-trail", "us-east-1", "drifted", "EnableLogFileValidation", "false",
    ]  # fmt: skip
    assert "KmsKeyId '' -> alias/trailkeeper-demo" in " ".join(lines[2].split())  # no key yet: no lookup
    # Issue 15: another prefix moves audit logs; not a weakening, but the plan says so.
    assert lines[3].split()[0] == "ops-trail" and lines[3].split()[3:] == [
        "eu-west-1",
        "drifted",
        "S3KeyPrefix",
        "''",
        "->",
        "ops",
        "[moves",
        "audit",
        "logs]",
    ]
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


def test_names_are_found_in_every_enabled_region_or_in_the_regions_given(
    tmp_path: Path, world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeding.add_trail("sydney-trail", "ap-southeast-2")
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: sydney-trail\n    S3KeyPrefix: syd\n")
    assert run("plan", "-f", str(path))[0] == report.EXIT_DRIFT  # every enabled region is scanned
    code, _, err = run("plan", "-f", str(path), "--region", "us-east-1")  # only there: not found
    assert code == report.EXIT_FAILED and "no trail named 'sydney-trail' in the 1 region(s) scanned (us-east-1;" in (
        " ".join(run("plan", "-f", str(path), "--region", "us-east-1", "--json")[1].split())
    )
    assert run("plan", "-f", str(path), "--region", "us-east-1", "--region", "ap-southeast-2")[0] == report.EXIT_DRIFT
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
    assert err.startswith("trailkeeper: ProfileNotFound: ") and "no-such-profile" in err and err.count("\n") == 1


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


def run_json(*argv: str, stdin: bytes = b"") -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--json"], out=out, err=err, stdin=io.BytesIO(stdin))
    document = json.loads(out.getvalue())
    jsonschema.validate(document, report.SCHEMA)
    return code, document, err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [[], ["plna", "-f", "x.yaml"], ["plan", "-f", "x.yaml", "--jsno"], ["plan"], ["apply", "-f"], ["--region"]],
)
def test_a_usage_error_exits_1_never_2(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == report.EXIT_FAILED and out == ""
    assert err.startswith("trailkeeper: InvalidArguments: ") and err.endswith(" --help)\n") and err.count("\n") == 1


def test_help_and_version_still_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["plan", "--help"], ["--version"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 0
    assert "exit codes:" in capsys.readouterr().out


def test_with_json_a_usage_error_is_still_a_json_document() -> None:
    code, document, _ = run_json("plna", "-f", "x.yaml")
    assert code == report.EXIT_FAILED and document["error"]["code"] == "InvalidArguments"


def test_with_json_an_invalid_file_gives_an_error_document_with_every_problem(tmp_path: Path, aws: None) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("trails:\n  - Name: audit-trail\n    KmsKeyId: nope\n    Colour: red\n")
    code, document, err = run_json("plan", "-f", str(path))
    assert code == report.EXIT_FAILED
    assert document["error"]["code"] == "InvalidState" and len(document["error"]["problems"]) == 2
    assert err.startswith("trailkeeper: InvalidState\n")


def test_with_json_missing_credentials_give_one_line_and_an_error_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: audit-trail\n")
    code, document, err = run_json("plan", "-f", str(path))
    assert code == report.EXIT_FAILED and document["error"]["code"] == "NoCredentials"
    assert err.count("\n") == 1 and err.count("NoCredentials") == 1 and "aws configure" in err


def test_a_state_on_standard_input(world: seeding.World) -> None:
    code, document, _ = run_json("plan", "-f", "-", stdin=b"trails:\n  - Name: audit-trail\n    S3KeyPrefix: x\n")
    assert code == report.EXIT_DRIFT and document["trails"][0]["changes"][0]["property"] == "S3KeyPrefix"
    code, document, _ = run_json("plan", "-f", "-", stdin=b"\xfftrails: []")
    assert code == report.EXIT_FAILED and document["error"]["problems"] == [
        "<stdin>: not UTF-8 text: byte 0xff at offset 0 (invalid start byte)"
    ]


def test_a_file_that_is_not_utf8_is_one_line_and_exit_1(tmp_path: Path, aws: None) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"trails:\n  - Name: caf\xe9\n")
    code, out, err = run("plan", "-f", str(path))
    assert code == report.EXIT_FAILED and out == "" and "Traceback" not in err
    assert err.splitlines()[1] == f"  {path}: not UTF-8 text: byte 0xe9 at offset 21 (invalid continuation byte)"


def test_an_empty_state_warns_and_says_so_in_the_report(world: seeding.World) -> None:
    code, document, err = run_json("plan", "-f", "-", stdin=b"trails: []\n")
    assert code == report.EXIT_OK and document["summary"]["trails"] == 0
    assert (
        err == "trailkeeper: warning: <stdin> declares no trails: nothing was checked (an emptied file or parameter?)\n"
    )
    assert document["warnings"] == [err.removeprefix("trailkeeper: warning: ").strip()]
    out, err_text = io.StringIO(), io.StringIO()
    assert main(["plan", "-f", "-"], out=out, err=err_text, stdin=io.BytesIO(b"trails: []")) == report.EXIT_OK
    assert out.getvalue().endswith(
        "\nwarning: <stdin> declares no trails: nothing was checked (an emptied file or parameter?)\n"
    )


def test_an_unknown_region_is_refused_at_once(tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailkeeper.aws import calls

    slept: list[float] = []
    monkeypatch.setattr(calls, "_sleep", slept.append)
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: arn:aws:cloudtrail:eu-venus-2:123456789012:trail/audit\n")
    code, _, err = run("plan", "-f", str(path), "--region", "mars-1")
    assert code == report.EXIT_FAILED and slept == []
    assert err == (
        "trailkeeper: InvalidArguments: unknown region 'mars-1' from --region; "
        "'eu-venus-2' from the ARN arn:aws:cloudtrail:eu-venus-2:123456789012:trail/audit: "
        "CloudTrail has no such region\n"
    )


def test_an_unreachable_endpoint_is_given_up_after_one_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailkeeper.aws import calls

    slept: list[float] = []
    monkeypatch.setattr(calls, "_sleep", slept.append)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: audit-trail\n")
    code, _, err = run("plan", "-f", str(path))
    assert code == report.EXIT_FAILED and len(slept) == 1
    # The one retry is said as a person's terminal shows it (issue 23: a line names what it is about), then the error.
    retried, failed = err.splitlines()
    assert retried.startswith("trailkeeper: WARNING retrying AWS call (operation: GetCallerIdentity, error: Endpoint")
    assert failed.startswith("trailkeeper: EndpointConnectionError: could not reach AWS for GetCallerIdentity")


@pytest.mark.parametrize("command", [["plan", "-f", "x.yaml"], ["apply", "-f", "x.yaml"], ["export"], ["audit"]])
def test_every_command_takes_region_and_profile_alike(command: list[str]) -> None:
    # One definition (cli.flags.add_aws_arguments) for all four: the same parsing and the same help text.
    parser = _parser()
    args = parser.parse_args([*command, "--region", "eu-west-1", "--profile", "ops", "--region", "us-east-1"])
    assert (args.region, args.profile) == (["eu-west-1", "us-east-1"], "ops")
    assert (parser.parse_args(command).region, parser.parse_args(command).profile) == (None, None)
    subcommands = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[union-attr]
    flags = {a.dest: a for a in subcommands[command[0]]._actions}
    assert (flags["region"].help, flags["region"].metavar, flags["region"].option_strings) == (
        org_command.REGION_HELP,
        "REGION",
        ["--region"],
    )
    assert flags["profile"].help == org_command.PROFILE_HELP


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["audit", "--dry-run"], "--dry-run needs --fix"),
        (["audit", "--dry-run", "--tag", "a=b"], "--dry-run, --tag need --fix"),
        (["export", "--role-name", "Other"], "--role-name needs --organization or --accounts"),
        (["export", "--role-name", "Other", "--max-accounts", "3"], "--max-accounts, --role-name need --organization"),
    ],
)
def test_a_flag_that_needs_another_says_so_in_good_grammar(argv: list[str], said: str, aws: None) -> None:
    code, _, err = run(*argv)
    assert code == report.EXIT_FAILED and said in err, err


def _plan_one(tmp_path: Path, name: str) -> dict[str, Any]:
    path = tmp_path / "desired.yaml"
    path.write_text(f"trails:\n  - Name: {name}\n    EnableLogFileValidation: true\n")
    code, out, err = run("plan", "-f", str(path), "--region", "us-east-1", "--json")
    assert code == report.EXIT_FAILED, err
    (result,) = json.loads(out)["trails"]
    return dict(result["error"])


def test_an_arn_of_another_account_names_both_accounts(tmp_path: Path, world: seeding.World) -> None:
    error = _plan_one(tmp_path, "arn:aws:cloudtrail:us-east-1:999999999999:trail/audit")
    assert error["code"] == "TrailNotFound"
    assert "account 999999999999" in error["reason"] and f"account {seeding.ACCOUNT}" in error["reason"]


def test_an_arn_of_another_partition_names_both_partitions_and_is_not_looked_for(
    tmp_path: Path, world: seeding.World
) -> None:
    error = _plan_one(tmp_path, f"arn:aws-cn:cloudtrail:cn-north-1:{seeding.ACCOUNT}:trail/audit")
    assert error["code"] == "TrailNotFound"
    assert "partition aws-cn" in error["reason"] and "partition aws " in error["reason"]
