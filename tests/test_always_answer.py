"""Every invocation that carries a ResponseURL gets exactly one answer, whatever goes wrong."""

from __future__ import annotations

from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from tests.conftest import HangingClient, Invoker, RecordingClients, failure_codes
from trailkeeper import handler
from trailkeeper.aws.calls import Deadline
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.cfn.watchdog import Watchdog


def answers(cfn: ResponseServer, event: dict[str, Any], context: LambdaContext | None = None) -> list[dict[str, Any]]:
    handler.lambda_handler(event, context or LambdaContext())
    return [r.body for r in cfn.for_url(event["ResponseURL"])]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"RequestType": "Replace"}, "MalformedEvent: RequestType 'Replace' is not Create, Update or Delete"),
        ({"ResourceProperties": ["Name", "audit"]}, "MalformedEvent: ResourceProperties must be an object"),
        ({"ResourceProperties": None}, "MalformedEvent: ResourceProperties must be an object"),
        ({"StackId": None, "RequestId": ""}, "MalformedEvent: the event lacks StackId, RequestId"),
    ],
)
def test_malformed_events_get_failed(
    world: seeding.World, provider: Any, cfn: ResponseServer, clients: RecordingClients, change: dict, reason: str
) -> None:
    event = load("create", cfn.url(), **change)
    (answer,) = answers(cfn, event)
    assert answer["Status"] == "FAILED" and answer["Reason"] == reason
    assert answer["PhysicalResourceId"]  # never empty: CloudFormation would reject the answer
    assert clients.calls == []


def test_an_update_without_physical_id_is_malformed(world: seeding.World, provider: Any, cfn: ResponseServer) -> None:
    event = load("update", cfn.url())
    del event["PhysicalResourceId"]
    (answer,) = answers(cfn, event)
    assert answer["Reason"] == "MalformedEvent: the event lacks PhysicalResourceId"


def test_a_direct_invocation_never_takes_the_custom_resource_path(
    world: seeding.World, provider: Any, cfn: ResponseServer
) -> None:
    before = len(cfn.received)
    result = handler.lambda_handler({"action": "plan", "trails": []}, LambdaContext())
    assert isinstance(result, dict) and len(cfn.received) == before


def test_a_hanging_aws_call_gets_failed_before_time_runs_out_and_nothing_is_written_after(
    world: seeding.World, provider: Any, cfn: ResponseServer, clients: RecordingClients
) -> None:
    hanging = HangingClient(clients.cloudtrail("us-east-1"), hang=2.5)
    clients.stubbed[("cloudtrail", "us-east-1")] = hanging
    context = LambdaContext(timeout_seconds=2.0)
    event = load("create", cfn.url())
    handler.lambda_handler(event, context)
    (received,) = cfn.for_url(event["ResponseURL"])
    answer = received.body
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("OutOfTime: the function ran out of time")
    assert answer["PhysicalResourceId"] == "trailkeeper-failed-create-0b7a1c52-1f0e-4a47-9d7b-5c0e4e3b0a01"
    assert hanging.updates == 0  # the work went on after the answer, but wrote nothing


def test_an_update_out_of_time_answers_with_the_physical_id_it_was_given(
    world: seeding.World, provider: Any, cfn: ResponseServer, clients: RecordingClients
) -> None:
    # Another id would be a replacement: CloudFormation would then send a Delete for the old one.
    clients.stubbed[("cloudtrail", "us-east-1")] = HangingClient(clients.cloudtrail("us-east-1"), hang=2.5)
    event = load("update", cfn.url())
    handler.lambda_handler(event, LambdaContext(timeout_seconds=2.0))
    (received,) = cfn.for_url(event["ResponseURL"])
    assert received.body["Reason"].startswith("OutOfTime: ")
    assert received.body["PhysicalResourceId"] == event["PhysicalResourceId"]


def test_a_failing_response_put_is_retried_a_bounded_number_of_times(
    world: seeding.World, invoke: Invoker, cfn: ResponseServer
) -> None:
    cfn.statuses[:] = [500, 403]
    url = cfn.url()
    handler.lambda_handler(load("delete", url), LambdaContext())
    assert [r.body["Status"] for r in cfn.for_url(url)] == ["SUCCESS"] * 3  # two failures, then delivered
    cfn.statuses[:] = [500] * 10
    url = cfn.url()
    handler.lambda_handler(load("delete", url), LambdaContext())
    assert len(cfn.for_url(url)) == 4  # gave up after 4 attempts: no endless loop
    cfn.statuses.clear()


def test_a_refused_connection_is_retried_then_given_up() -> None:
    slept: list[float] = []
    sender = response.Sender(attempts=3, timeout=1, sleep=slept.append)
    document = response.body({}, status="SUCCESS", physical_id="x")
    assert sender.send("https://127.0.0.1:9/cfn?X-Amz-Signature=abc", document, Deadline(30)) is False
    assert slept == [0.5, 1.0]


def test_the_sender_stops_retrying_at_the_deadline() -> None:
    slept: list[float] = []
    sender = response.Sender(attempts=10, timeout=1, sleep=slept.append)
    assert (
        sender.send("https://127.0.0.1:9/x", response.body({}, status="FAILED", physical_id="x"), Deadline(0.8))
        is False
    )
    assert slept == []


def test_the_response_url_is_used_exactly_as_given(world: seeding.World, provider: Any, cfn: ResponseServer) -> None:
    url = cfn.url().replace("?", "/odd%2Fpath%7C;x=1?a=%2F&") + "&empty="
    handler.lambda_handler(load("delete", url), LambdaContext())
    (received,) = cfn.for_url(url)
    assert received.path == url.split(f":{cfn.port}", 1)[1]
    assert received.headers.get("content-type") == ""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_slow_success_put_raises_no_false_alarm(
    world: seeding.World,
    clients: RecordingClients,
    cfn: ResponseServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    dog = Watchdog(clock=clock)
    provider = TrailSettingsResource(
        clients=lambda: clients,
        sender=response.Sender(ssl_context=cfn.client_context(), sleep=lambda _: None),
        watchdog=dog,
    )
    monkeypatch.setattr(handler, "RESOURCE", provider)
    rang: list[bool] = []

    def time_runs_out_while_the_answer_is_in_flight() -> None:
        clock.now += 10_000  # far past the work's deadline, as a PUT hanging for minutes would be
        with dog._condition:
            dog._condition.notify_all()  # the watchdog looks at its clock again
            rang.append(dog._condition.wait_for(lambda: dog._deadline is None and not dog._ringing, timeout=10))

    cfn.while_answering = time_runs_out_while_the_answer_is_in_flight
    try:
        event = load("create", cfn.url())
        handler.lambda_handler(event, LambdaContext())
    finally:
        cfn.while_answering = None
    assert rang == [True]
    assert [r.body["Status"] for r in cfn.for_url(event["ResponseURL"])] == ["SUCCESS"]
    out = capsys.readouterr().out
    assert "out of time" not in out and failure_codes(out) == []
    assert '"message":"response delivered"' in out and '"status":"SUCCESS"' in out


def test_a_hung_aws_call_counts_out_of_time_once(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    clients: RecordingClients,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hanging = HangingClient(clients.cloudtrail("us-east-1"), hang=2.5)
    clients.stubbed[("cloudtrail", "us-east-1")] = hanging
    event = load("create", cfn.url())
    handler.lambda_handler(event, LambdaContext(timeout_seconds=2.0))
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Status"] == "FAILED"
    assert answer.body["Reason"] == (  # what to do, not only what happened
        "OutOfTime: the function ran out of time waiting for AWS; raise its timeout, then retry"
    )
    out = capsys.readouterr().out
    assert failure_codes(out) == ["OutOfTime"]  # once: the work that ends after the answer counts nothing
    assert out.count("out of time; answering FAILED") == 1 and "already answered FAILED (OutOfTime)" in out
