"""Generated inputs for the drift-fix front doors: any state document, any direct invocation, any command
line gets a clear error or a report, never a traceback, and within bounded time (hypothesis' deadline).

The hand-written cases that found the problems are in test_state.py, test_cli.py and test_direct.py;
these generalise them: aliases and anchors, deep nesting, duplicate keys, odd bytes and encodings.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import fidelity
from devkit.lambda_context import LambdaContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from trailkeeper import handler
from trailkeeper.aws.calls import Clients
from trailkeeper.cli.main import main
from trailkeeper.errors import REASON_LIMIT, InvalidState, TrailkeeperError
from trailkeeper.fleet import change_event, report, request, state
from trailkeeper.invocations import direct_run as direct

# Each example must finish well inside this (a billion laughs took minutes before the loader's bounds).
QUICK = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
PROPERTIES = ["Name", "S3BucketName", "S3KeyPrefix", "EnableLogFileValidation", "KmsKeyId", "IsMultiRegionTrail"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["audit-trail", "true", "yes", "off", "", "alias/audit", "arn:aws:cloudtrail:us-east-1:1:trail/x"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(PROPERTIES) | st.text(max_size=8), inner)
    ),
    max_leaves=20,
)


def check_problems(error: InvalidState) -> None:
    assert error.problems and len(error.reason) <= REASON_LIMIT
    assert all(len(problem) < 2000 for problem in error.problems)  # every value shown bounded


def load(text: str, source: str) -> None:
    try:
        state.loads(text, source)
    except InvalidState as error:
        check_problems(error)


@st.composite
def alias_bombs(draw: st.DrawFn) -> str:
    """Nested anchors and aliases (fan-out x levels), as a block or a flow mapping, under a property or not."""
    fanout, levels = draw(st.integers(1, 12)), draw(st.integers(0, 12))
    lines = [f"a0: &a0 [{', '.join(['lol'] * fanout)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels + 1)]
    where = draw(st.sampled_from(["property", "top", "name"]))
    body = "{" + ", ".join(lines) + "}"
    if where == "property":
        return f"trails:\n  - Name: audit\n    S3KeyPrefix: {body}\n"
    if where == "name":
        return f"trails:\n  - Name: {body}\n"
    return "\n".join(lines) + f"\ntrails: [*a{levels}]\n"


YAML_PIECES = st.sampled_from(
    [
        "trails:",
        "\n",
        "  ",
        "- ",
        "Name: audit",
        "Name: audit",  # twice: duplicate keys
        "EnableLogFileValidation: yes",
        "S3KeyPrefix: ",
        "&x ",
        "*x",
        "&y [*x, *x]",
        "<<: *x",
        "[",
        "]",
        "{",
        "}",
        ",",
        "? ",
        ": ",
        "!!bool ",
        "!!binary ",
        "!!python/object:os.system ",
        "'",
        '"',
        "#",
        "---",
        "...",
        "\t",
        "%YAML 1.2\n",
        "2026-11-27",
        "0o17",
        "~",
    ]
)


@QUICK
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_any_yaml_text_is_a_declaration_or_one_clear_error(text: str) -> None:
    load(text, "desired.yaml")


@QUICK
@given(alias_bombs())
def test_any_alias_structure_is_refused_or_parsed_quickly(text: str) -> None:
    load(text, "desired.yaml")


@QUICK
@given(st.integers(1, 5000), st.sampled_from(["[", "{a: ", "- ", '{"a": ']), st.sampled_from(["x.yaml", "x.json"]))
def test_any_nesting_depth_is_refused_or_parsed(depth: int, opener: str, source: str) -> None:
    load("trails: " + opener * depth, source)
    load('{"trails": ' + opener * depth, source)


@QUICK
@given(JSON_VALUES, st.sampled_from(["x.json", "x.yaml", "ssm:/p"]))
def test_any_json_document_is_a_declaration_or_one_clear_error(value: Any, source: str) -> None:
    load(json.dumps({"trails": value if isinstance(value, list) else [value]}), source)
    load(json.dumps(value), source)


@QUICK
@given(st.binary(max_size=200), st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"]))
def test_any_bytes_in_any_encoding_are_text_or_one_clear_error(data: bytes, encoding: str) -> None:
    candidates = [data, "trails:\n  - Name: caf\u00e9-trail\n".encode(encoding)]
    for raw in candidates:
        try:
            state.read(io.BytesIO(raw))
        except InvalidState as error:
            check_problems(error)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # With the fidelity layer: it serves moto's in-process calls one at a time. Bare, the plan's parallel region
    # scans could change moto's backends while another iterated them ("dictionary changed size during iteration").
    with fidelity.cloudtrail_as_aws(), mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name="/tk/state", Value="trails:\n  - Name: audit-trail\n", Type="String"
        )
        made = Clients()
        monkeypatch.setattr(direct, "clients", lambda: made)
        yield


CLOUDTRAIL_DETAIL = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.sampled_from([*change_event.TRAIL_PARAMETER, "DescribeTrails"]) | SCALARS,
        "requestParameters": JSON_VALUES,
        "errorCode": SCALARS,
        "userIdentity": JSON_VALUES,
        "awsRegion": SCALARS,
    },
)
PAYLOADS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {},
        optional={"action": st.sampled_from(["plan", "apply"]) | SCALARS, "trails": JSON_VALUES},
    ),
    st.fixed_dictionaries(
        {
            "detail-type": st.sampled_from(["AWS API Call via CloudTrail", "Scheduled Event"]),
            "detail": CLOUDTRAIL_DETAIL | JSON_VALUES,
        }
    ),
)


@QUICK
@given(PAYLOADS, st.booleans())
def test_any_direct_invocation_gets_a_report_or_an_error_by_name(
    mocked: None, monkeypatch: pytest.MonkeyPatch, payload: Any, with_state: bool
) -> None:
    if with_state:
        monkeypatch.setenv(request.STATE_PARAMETER, "/tk/state")
    else:
        monkeypatch.delenv(request.STATE_PARAMETER, raising=False)
    try:
        result = handler.lambda_handler(payload, LambdaContext())
    except TrailkeeperError as error:
        assert len(error.reason) <= REASON_LIMIT
        return
    jsonschema.validate(result, report.SCHEMA)


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "desired.yaml"
    path.write_text("trails:\n  - Name: audit-trail\n    S3KeyPrefix: x\n")
    return str(path)


WORDS = st.sampled_from(
    [
        *("plan", "apply", "plna", "-f", "--file", "-", "--file=-", "desired.yaml", "", "--", "-x", "-h"),
        *("--json", "--jsno", "--js", "--j", "--version"),
        *("--region", "us-east-1", "mars-1", "--region=eu-west-1", "--profile", "nobody"),
    ]
)


@QUICK
@given(st.lists(WORDS | st.text(max_size=10), max_size=7), st.binary(max_size=60))
def test_any_command_line_exits_0_1_or_2_with_a_message_never_a_traceback(
    mocked: None, state_file: str, argv: list[str], stdin: bytes
) -> None:
    argv = [state_file if word == "desired.yaml" else word for word in argv]
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(argv, out=out, err=err, stdin=io.BytesIO(stdin))
    except SystemExit as done:  # --help and --version only
        assert done.code == 0
        return
    assert code in (report.EXIT_OK, report.EXIT_FAILED, report.EXIT_DRIFT)
    assert "Traceback" not in err.getvalue()
    if code == report.EXIT_FAILED and not out.getvalue():
        assert err.getvalue().startswith("trailkeeper: ")
    if code == report.EXIT_DRIFT:
        assert (
            json.loads(out.getvalue())["summary"]["drifted"]
            if out.getvalue().startswith("{")
            else "drifted" in out.getvalue()
        )
    if out.getvalue().startswith("{"):
        jsonschema.validate(json.loads(out.getvalue()), report.SCHEMA)


def test_a_state_file_on_the_command_line_with_generated_flags(mocked: None, state_file: str) -> None:
    """The property above with the real file: the plan runs and reports (no trail exists: exit 1)."""
    out, err = io.StringIO(), io.StringIO()
    assert main(["plan", "-f", state_file, "--json"], out=out, err=err) == report.EXIT_FAILED
    jsonschema.validate(json.loads(out.getvalue()), report.SCHEMA)
    assert Path(state_file).exists()
