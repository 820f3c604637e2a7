"""Structured logs with the request's correlation id, EMF metrics, and no secret in any line at any level."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from tests.conftest import SECRET_KEY, SESSION_TOKEN, Invoker, RecordingClients, metric_lines
from trailkeeper import engine, handler, observability, redaction


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> Any:
    """Everything at DEBUG: the root logger, our logger, and the libraries that would leak if allowed."""
    caplog.set_level(logging.DEBUG)
    observability.logger.setLevel(logging.DEBUG)
    yield caplog
    observability.logger.setLevel(logging.INFO)


def test_no_secret_reaches_any_log_at_debug(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    clients: RecordingClients,
    debug_everywhere: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = []
    for name, changes in [
        ("create", {}),
        ("update", {}),
        ("delete", {}),
        ("invalid", {}),
        ("create", {"RequestType": "Bogus"}),
    ]:
        url = cfn.url()
        urls.append(url)
        handler.lambda_handler(load(name, url, **changes), LambdaContext())
        assert len(cfn.for_url(url)) == 1
    cfn.statuses[:] = [500]  # a retried PUT logs a warning: still no URL in it
    url = cfn.url()
    urls.append(url)
    handler.lambda_handler(load("delete", url), LambdaContext())
    logged = capsys.readouterr().out + debug_everywhere.text
    assert '"level":"DEBUG"' in logged or any(r.levelno == logging.DEBUG for r in debug_everywhere.records)
    assert '"message":"response delivered"' in logged  # Powertools' own lines were captured too
    for url in urls:
        assert url not in logged
        assert url.split("X-Amz-Signature=")[1] not in logged
        assert url.split("?")[0].split(":", 2)[2] not in logged  # not even the path part
    assert SECRET_KEY not in logged and SESSION_TOKEN not in logged


def test_the_filter_masks_urls_and_credentials_in_messages_and_extras(caplog: pytest.LogCaptureFixture) -> None:
    url = "https://cfn.example/abc?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIA"
    redactor = redaction.protect({"ResponseURL": url})
    record = logging.LogRecord("crhelper", logging.DEBUG, __file__, 1, "event: %s", ({"ResponseURL": url},), None)
    record.event = {"ResponseURL": url}
    record.headers = f"X-Amz-Security-Token: {SESSION_TOKEN}"
    redactor.filter(record)
    text = record.getMessage() + str(record.event) + str(record.headers)
    assert "deadbeefcafe" not in text and SESSION_TOKEN not in text and redaction.MASK in text
    assert redactor.redact(f"aws_secret_access_key = {SECRET_KEY}") == f"aws_secret_access_key = {redaction.MASK}"
    other = "https://other.example/p?X-Amz-Signature=0123456789abcdef"  # a URL we were never told about
    assert "0123456789abcdef" not in redactor.redact(f"PUT {other} failed")


def test_crhelper_and_botocore_stay_quiet_whatever_the_level(debug_everywhere: pytest.LogCaptureFixture) -> None:
    redaction.protect()
    for name in ("crhelper.resource_helper", "botocore.endpoint", "urllib3.connectionpool"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)


def test_logs_are_json_with_the_request_id_as_correlation_id(
    world: seeding.World, invoke: Invoker, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke("create")
    lines = [line for line in json_lines(capsys.readouterr().out) if "level" in line]
    assert lines and {line["correlation_id"] for line in lines} == {"0b7a1c52-1f0e-4a47-9d7b-5c0e4e3b0a01"}
    assert {line["service"] for line in lines} == {"trailkeeper"}


def test_a_sentence_is_logged_as_written_and_a_json_message_as_structure(capsys: pytest.CaptureFixture[str]) -> None:
    for message in ("trail reconciled", "[x] not JSON although it starts like a list", '{"trail": "a", "n": 1}'):
        observability.logger.info(message)
    sentence, bracketed, structured = (line["message"] for line in json_lines(capsys.readouterr().out))
    assert sentence == "trail reconciled" and bracketed == "[x] not JSON although it starts like a list"
    assert structured == {"trail": "a", "n": 1}


def test_metrics_count_applied_in_sync_and_failures_by_code(
    world: seeding.World, invoke: Invoker, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke("create")
    (applied,) = metric_lines(capsys.readouterr().out)
    assert applied["SettingsApplied"] == [7.0] and applied["TrailsUpdated"] == [1.0]
    assert applied["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Trailkeeper"
    invoke("create")
    (in_sync,) = metric_lines(capsys.readouterr().out)
    assert in_sync["TrailsInSync"] == [1.0] and "SettingsApplied" not in in_sync
    invoke("invalid")
    (failure,) = metric_lines(capsys.readouterr().out)
    assert failure["Failures"] == [1.0] and failure["ErrorCode"] == "InvalidProperties"
    assert ["service", "ErrorCode"] in failure["_aws"]["CloudWatchMetrics"][0]["Dimensions"]


def test_the_redactor_keeps_only_the_current_requests_url() -> None:
    first = "https://cfn.example/first-request-path"  # no signature: only the exact match can mask it
    second = "https://cfn.example/second-request-path"
    redactor = redaction.protect({"ResponseURL": first})
    assert redactor.redact(first) == redaction.MASK
    redaction.protect({"ResponseURL": second})
    assert redactor.redact(second) == redaction.MASK
    assert redactor._request == {second}  # a warm environment does not accumulate every request's URL
    assert redactor.redact(f"x {SECRET_KEY}") == f"x {redaction.MASK}"  # credentials stay remembered


class LeakyError(Exception):
    """An unexpected failure whose message carries secrets, as a library's message sometimes does."""


def test_an_exception_carrying_secrets_is_masked_in_the_traceback_and_the_reason(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    clients: RecordingClients,
    debug_everywhere: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = cfn.url()

    def explode(*_: Any, **__: Any) -> Any:
        raise LeakyError(f"PUT {url} failed; aws_secret_access_key={SECRET_KEY} token {SESSION_TOKEN}")

    monkeypatch.setattr(engine, "reconcile", explode)
    handler.lambda_handler(load("create", url), LambdaContext())
    (answer,) = cfn.for_url(url)
    reason = answer.body["Reason"]
    assert reason.startswith("InternalError: LeakyError: PUT <redacted> failed") and answer.body["Status"] == "FAILED"
    logged = capsys.readouterr().out
    (line,) = [line for line in json_lines(logged) if line.get("message") == "unexpected error"]
    assert "LeakyError" in line["exception"] and "Traceback" in line["exception"]  # the traceback is kept
    for text in (logged + debug_everywhere.text, reason):
        assert url not in text and url.split("X-Amz-Signature=")[1] not in text
        assert SECRET_KEY not in text and SESSION_TOKEN not in text
