"""The README promises the ResponseURL and credentials are masked at every level: each layer is held here.

Three layers stand between a secret and a log line: the filter on every handler (`protect`), the exact
values it was told (this request's ResponseURL, the credentials in the environment) and the patterns
that recognise a presigned URL or a token by its shape. Each test below trips one layer only, so
removing any one of them fails a test.
"""

from __future__ import annotations

import logging
import os
import sys
import types
from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from tests.conftest import SECRET_KEY, SESSION_TOKEN
from trailkeeper import handler, observability, redaction
from trailkeeper.trail import declaration


@pytest.fixture(autouse=True)
def fresh_environment() -> None:
    """A new Lambda execution environment: no handler filtered yet, no secret remembered yet."""
    for handler_ in redaction._all_handlers():
        handler_.removeFilter(redaction.REDACTOR)
    redaction.REDACTOR._secrets.clear()
    redaction.REDACTOR._request = set()


@pytest.fixture
def at_debug() -> Any:
    observability.logger.setLevel(logging.DEBUG)
    yield
    observability.logger.setLevel(logging.INFO)


def test_a_traceback_carrying_the_response_url_is_masked_in_the_functions_log(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    at_debug: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = cfn.url()

    def crash(props: object) -> declaration.Declaration:
        # An unexpected error whose message (and so its traceback) quotes the whole event.
        raise RuntimeError(f"cannot answer {url} for {load('create', url)!r}")

    monkeypatch.setattr(declaration, "parse", crash)
    handler.lambda_handler(load("create", url), LambdaContext())
    (answer,) = cfn.for_url(url)
    logged = capsys.readouterr().out
    assert '"message":"unexpected error"' in logged and "RuntimeError" in logged  # the traceback was logged
    assert '"exception_name":"RuntimeError"' in logged  # and Powertools still names the exception's class
    assert url not in logged and url.split("X-Amz-Signature=")[1] not in logged
    reason = answer.body["Reason"]  # the stack's events show the reason: no part of the URL there either
    assert reason.startswith("InternalError: RuntimeError: cannot answer <redacted> for")
    assert "cfn-response" not in reason


def test_every_handler_gets_the_filter_so_a_secret_logged_anywhere_is_masked(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    at_debug: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = cfn.url()
    handler.lambda_handler(load("delete", url), LambdaContext())
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]  # the function's own credential (moto's, here)
    # A line written after the invocation set up logging, the way crhelper logs an event at DEBUG.
    observability.logger.debug("event: %s", {"ResponseURL": url, "secret": secret})
    logged = capsys.readouterr().out
    assert '"message":"event:' in logged
    assert url not in logged and secret not in logged and redaction.MASK in logged


def test_a_handler_made_after_start_up_is_covered_at_the_next_invocation(
    world: seeding.World, provider: Any, cfn: ResponseServer
) -> None:
    handler.lambda_handler(load("delete", cfn.url()), LambdaContext())
    # A library that sets up its own logging between two invocations: a logger nobody had made, and a
    # handler on no logger at all (a QueueListener's target, say).
    late = logging.StreamHandler(sys.stdout)
    logging.getLogger("a.library.made.later").addHandler(late)
    detached = logging.StreamHandler(sys.stdout)
    try:
        assert redaction.REDACTOR not in late.filters and redaction.REDACTOR not in detached.filters
        handler.lambda_handler(load("delete", cfn.url()), LambdaContext())
        assert redaction.REDACTOR in late.filters and redaction.REDACTOR in detached.filters
    finally:
        logging.getLogger("a.library.made.later").removeHandler(late)


def test_this_requests_url_is_masked_by_its_value_even_without_a_signature() -> None:
    url = "https://cfn-responses.example/stack-abc/Settings%7Crequest-123"
    redactor = redaction.protect({"ResponseURL": url})
    assert redactor.redact(f"PUT {url} failed") == f"PUT {redaction.MASK} failed"


def test_credentials_in_the_environment_are_masked_by_value_whatever_surrounds_them() -> None:
    redactor = redaction.protect()
    assert redactor.redact(f"token={SESSION_TOKEN[:4]} then {SESSION_TOKEN}") == (
        f"token={SESSION_TOKEN[:4]} then {redaction.MASK}"
    )
    assert redactor.redact(f"({SECRET_KEY})") == f"({redaction.MASK})"


def test_short_or_empty_values_are_never_remembered_as_secrets() -> None:
    redactor = redaction.Redactor()
    redactor.remember(["", "abc", "1234567"])
    redactor.for_request(["", "short"])
    assert redactor.redact("abc 1234567 short") == "abc 1234567 short"
    redactor.remember(["12345678"])
    assert redactor.redact("x 12345678") == f"x {redaction.MASK}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A presigned URL we were never told about: recognised by its signature alone.
        ("PUT https://b.s3.amazonaws.com/k?X-Amz-Signature=f00d failed", "PUT <redacted> failed"),
        ("see https://h.example/p?a=1&Signature=abc123 now", "see <redacted> now"),
        ("https://h.example/p?AWSAccessKeyId=AKIAX&Expires=1", "<redacted>"),
        ("http://h.example/p?X-Amz-Credential=AKIA%2F", "<redacted>"),
        # A session token or secret key in headers or config we were never told about: recognised by its key.
        ("X-Amz-Security-Token: FQoGZXIvYXdzEAAaDNEWTOKEN, next", "X-Amz-Security-Token: <redacted>, next"),
        ("{'x-amz-security-token': 'FQoGZXIvYXdzEAAaDNEWTOKEN'}", "{'x-amz-security-token': '<redacted>'}"),
        ("aws_secret_access_key=wJalrXUtnFEMIK7MDENGbPxRfiCYNEWKEY", "aws_secret_access_key=<redacted>"),
        ('"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYNEWKEY"', '"AWS_SECRET_ACCESS_KEY": "<redacted>"'),
        # What is not a secret stays readable.
        ("https://h.example/p?a=1", "https://h.example/p?a=1"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_secrets_nobody_told_us_about_are_masked_by_their_shape(text: str, expected: str) -> None:
    assert redaction.Redactor().redact(text) == expected


def test_extras_are_masked_in_strings_and_in_containers_and_left_alone_otherwise() -> None:
    url = "https://h.example/p?X-Amz-Signature=f00d"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None)
    record.text, record.nested, record.listed, record.count, record.clean = (
        url,
        {"u": url},
        [url],
        3,
        {"ok": 1},
    )
    clean = record.clean
    assert redaction.Redactor().filter(record) is True  # never drops a record
    assert record.text == redaction.MASK
    assert "f00d" not in str(record.nested) and "f00d" not in str(record.listed)
    assert record.count == 3 and record.clean is clean  # untouched objects are kept as they are
    assert record.getMessage() == "plain"


def test_a_message_with_arguments_is_masked_after_formatting() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "PUT %s -> %d", ("https://h/p?Signature=s", 500), None)
    redaction.Redactor().filter(record)
    assert record.getMessage() == "PUT <redacted> -> 500"


def test_a_traceback_is_masked_for_standard_formatters_too() -> None:
    url = "https://h.example/p?X-Amz-Signature=f00d"
    try:
        raise ValueError(url)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    redaction.Redactor().filter(record)
    assert "f00d" not in logging.Formatter().format(record)


def test_a_record_asking_for_a_traceback_outside_any_exception_is_kept_and_named_exception() -> None:
    # logger.error(..., exc_info=True) with no exception in flight: the record carries (None, None, None).
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, (None, None, None))
    assert redaction.Redactor().filter(record) is True
    fields = vars(record)  # the fields Powertools reads before its own
    assert (record.exc_info, fields["exception_name"], fields["exception"]) == (None, "Exception", "NoneType: None")


def test_without_cpythons_list_of_handlers_every_loggers_handlers_still_get_the_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another logging implementation keeps no `_handlerList`: the handlers are found on the loggers instead.
    # (The real module keeps its list: CPython's handlers remove themselves from it when they go.)
    another = types.ModuleType("logging")
    another.__dict__.update({name: value for name, value in vars(logging).items() if name != "_handlerList"})
    monkeypatch.setattr(redaction, "logging", another)
    on_a_logger = logging.StreamHandler(sys.stdout)
    logging.getLogger("a.library.of.another.logging").addHandler(on_a_logger)
    try:
        redaction.protect()
        assert redaction.REDACTOR in on_a_logger.filters
        assert all(redaction.REDACTOR in handler_.filters for handler_ in logging.getLogger().handlers)
    finally:
        logging.getLogger("a.library.of.another.logging").removeHandler(on_a_logger)


def test_an_already_formatted_traceback_and_a_stack_are_masked_and_kept() -> None:
    url = "https://h.example/p?X-Amz-Signature=f00d"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None, sinfo=f"Stack: {url}")
    record.exc_text = f"Traceback: ValueError: {url}"  # a record formatted once already (no exc_info left)
    redaction.Redactor().filter(record)
    assert record.exc_text == "Traceback: ValueError: <redacted>"
    assert record.stack_info == "Stack: <redacted>"


def test_chatty_libraries_are_held_at_warning_but_not_raised_above_it() -> None:
    botocore = logging.getLogger("botocore")
    botocore.setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    try:
        redaction.protect()
        assert botocore.level == logging.WARNING
        assert logging.getLogger("urllib3").level == logging.ERROR  # quieter already: left as it is
    finally:
        logging.getLogger("urllib3").setLevel(logging.NOTSET)


def test_a_response_url_that_is_not_a_string_is_not_remembered_and_does_not_crash() -> None:
    redactor = redaction.protect({"ResponseURL": 12345678})
    assert redactor._request == set()


def test_a_request_value_of_eight_characters_is_masked_and_shorter_ones_are_not() -> None:
    redactor = redaction.Redactor()
    redactor.for_request(["8chars!!", "7chars!"])
    assert redactor.redact("8chars!! 7chars!") == f"{redaction.MASK} 7chars!"
