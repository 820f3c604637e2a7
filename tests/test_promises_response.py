"""The README promises an answer to CloudFormation, exactly once, before the function's time runs out.

These tests hold that promise where the suite did not: an endpoint that accepts the connection and never
answers (the PUT must give up within the function's deadline, not after its own fixed timeout, and never
wait forever), and the answer's fields at CloudFormation's limits.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from tests.conftest import failure_codes
from trailkeeper import handler
from trailkeeper.aws.calls import Deadline
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource


class SilentEndpoint:
    """Accepts TCP connections and never sends a byte: a response endpoint that hangs."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections.append(connection)

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/cfn-response/stack%7CSettings?X-Amz-Signature=0123456789abcdef"

    def close(self) -> None:
        self._socket.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


def finished(call: Any, limit: float) -> Any:
    """Run `call` in a thread and return its result. A generous guard against a hang, not a speed check:
    how long each try may wait is read from the timeouts the sender gives its sockets (`Recorded`)."""
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still waiting after {limit} s: the PUT is not bounded"
    return outcome[0]


@pytest.fixture
def timeouts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The socket timeout of every PUT try, as the sender sets it (the tries still go to the real endpoint)."""
    seen: list[float] = []
    original = response.Sender._put_once

    def recording(self: response.Sender, url: str, payload: bytes, timeout: float) -> int:
        seen.append(timeout)
        return original(self, url, payload, timeout)

    monkeypatch.setattr(response.Sender, "_put_once", recording)
    return seen


def test_a_silent_endpoint_is_given_up_within_the_functions_deadline(
    silent: SilentEndpoint, timeouts: list[float]
) -> None:
    slept: list[float] = []
    sender = response.Sender(attempts=4, timeout=10.0, sleep=slept.append)
    document = response.body({}, status="SUCCESS", physical_id="x")
    assert finished(lambda: sender.send(silent.url(), document, Deadline(1.5)), limit=8.0) is False
    (only,) = timeouts  # one try, bounded by the deadline, not by its own 10 s
    assert 1.0 <= only <= 1.5
    assert slept == []  # no time left for another try


def test_without_a_deadline_each_try_waits_its_own_timeout_and_no_longer(
    silent: SilentEndpoint, timeouts: list[float]
) -> None:
    slept: list[float] = []
    sender = response.Sender(attempts=2, timeout=0.6, sleep=slept.append)
    document = response.body({}, status="SUCCESS", physical_id="x")
    assert finished(lambda: sender.send(silent.url("http"), document), limit=8.0) is False
    assert slept == [0.5] and timeouts == [0.6, 0.6]  # two tries of its own 0.6 s


def test_a_try_is_never_shorter_than_half_a_second(silent: SilentEndpoint, timeouts: list[float]) -> None:
    sender = response.Sender(attempts=1, timeout=10.0, sleep=lambda _: None)
    document = response.body({}, status="SUCCESS", physical_id="x")
    assert finished(lambda: sender.send(silent.url(), document, Deadline(0.05)), limit=8.0) is False
    assert timeouts == [0.5]


def test_the_sender_tries_exactly_as_often_as_it_is_told(cfn: ResponseServer) -> None:
    cfn.statuses[:] = [500] * 5
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=3, sleep=lambda _: None)
    url = cfn.url()
    assert sender.send(url, response.body({}, status="SUCCESS", physical_id="x"), Deadline(60)) is False
    assert len(cfn.for_url(url)) == 3  # not one more: each try costs the function's time
    cfn.statuses.clear()


def test_a_sender_told_to_make_no_try_delivers_nothing(cfn: ResponseServer) -> None:
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=0, sleep=lambda _: None)
    url = cfn.url()
    assert sender.send(url, response.body({}, status="SUCCESS", physical_id="x")) is False
    assert cfn.for_url(url) == []


def test_the_handler_returns_before_the_function_times_out_when_cloudformation_never_answers(
    world: seeding.World,
    cfn: ResponseServer,
    silent: SilentEndpoint,
    timeouts: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The provider as deployed: the default sender (10 s per try), only trusting the local certificate.
    resource = TrailSettingsResource(sender=response.Sender(ssl_context=cfn.client_context()))
    monkeypatch.setattr(handler, "RESOURCE", resource)
    context = LambdaContext(timeout_seconds=2.5)
    finished(lambda: handler.lambda_handler(load("delete", silent.url()), context), limit=15.0)
    # Waited for CloudFormation as long as it could, and no longer than Lambda's time less 0.2 s.
    assert timeouts and sum(timeouts) <= 2.5 - 0.2
    assert timeouts[0] >= 2.0
    assert silent.connections  # it did try


def test_a_retry_waits_longer_each_time_and_every_try_sends_the_same_answer(cfn: ResponseServer) -> None:
    slept: list[float] = []
    cfn.statuses[:] = [500, 502, 503]
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=4, sleep=slept.append)
    url = cfn.url()
    document = response.body({"StackId": "s"}, status="SUCCESS", physical_id="id")
    assert sender.send(url, document, Deadline(60)) is True
    assert slept == [0.5, 1.0, 2.0]
    assert [r.body for r in cfn.for_url(url)] == [document] * 4
    cfn.statuses.clear()


@pytest.mark.parametrize("status", [199, 300, 404])
def test_only_a_2xx_counts_as_delivered(cfn: ResponseServer, status: int) -> None:
    cfn.statuses[:] = [status]
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=1, sleep=lambda _: None)
    assert sender.send(cfn.url(), response.body({}, status="SUCCESS", physical_id="x")) is False
    cfn.statuses.clear()


def test_a_299_is_delivered(cfn: ResponseServer) -> None:
    cfn.statuses[:] = [299]
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=1, sleep=lambda _: None)
    assert sender.send(cfn.url(), response.body({}, status="SUCCESS", physical_id="x")) is True


def test_a_url_without_a_path_is_put_to_the_root(cfn: ResponseServer, silent: SilentEndpoint) -> None:
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=1, sleep=lambda _: None)
    before = len(cfn.received)
    assert sender.send(f"https://localhost:{cfn.port}", response.body({}, status="SUCCESS", physical_id="x"))
    assert [r.path for r in cfn.received[before:]] == ["/"]


def test_failed_with_an_empty_reason_still_carries_one() -> None:
    document = response.body({}, status=response.FAILED, physical_id="x", reason="")
    assert document["Reason"] == "FAILED without a reason"  # CloudFormation rejects FAILED without a Reason
    assert response.body({}, status=response.SUCCESS, physical_id="x")["Reason"] == ""


def test_the_answer_copies_the_request_ids_and_never_echoes_no_echo() -> None:
    event = {"StackId": "arn:stack", "RequestId": "req-1", "LogicalResourceId": "Settings"}
    document = response.body(event, status=response.SUCCESS, physical_id="pid", data={"TrailArn": "arn"})
    assert document == {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": "pid",
        "StackId": "arn:stack",
        "RequestId": "req-1",
        "LogicalResourceId": "Settings",
        "NoEcho": False,
        "Data": {"TrailArn": "arn"},
    }
    assert response.encode(document) == (
        b'{"Status":"SUCCESS","Reason":"","PhysicalResourceId":"pid","StackId":"arn:stack","RequestId":"req-1",'
        b'"LogicalResourceId":"Settings","NoEcho":false,"Data":{"TrailArn":"arn"}}'
    )


def test_a_physical_id_over_1024_characters_is_cut_to_1024_and_an_empty_one_is_replaced() -> None:
    long_id = "arn:aws:cloudtrail:us-east-1:123456789012:trail/" + "t" * 1100
    assert response.body({}, status="SUCCESS", physical_id=long_id)["PhysicalResourceId"] == long_id[:1024]
    exact = "p" * 1024
    assert response.body({}, status="SUCCESS", physical_id=exact)["PhysicalResourceId"] == exact
    assert response.body({}, status="SUCCESS", physical_id="")["PhysicalResourceId"] == "trailkeeper-unknown"


def test_data_that_fits_is_kept_whole_and_data_that_does_not_is_dropped() -> None:
    fits = {"Big": "x" * 3800}
    document = response.body({}, status="SUCCESS", physical_id="p", data=fits)
    assert document["Data"] == fits and len(response.encode(document)) <= response.BODY_LIMIT
    too_big = {"Big": "x" * 4000}
    assert response.body({}, status="SUCCESS", physical_id="p", data=too_big)["Data"] == {}


def test_a_body_of_exactly_4096_bytes_keeps_its_data() -> None:
    empty = response.encode(response.body({}, status="SUCCESS", physical_id="p", data={"D": ""}))
    data = {"D": "x" * (response.BODY_LIMIT - len(empty))}
    document = response.body({}, status="SUCCESS", physical_id="p", data=data)
    assert len(response.encode(document)) == response.BODY_LIMIT and document["Data"] == data


def test_a_malformed_event_without_a_request_id_is_still_answered_with_an_id(
    world: seeding.World, provider: Any, cfn: ResponseServer
) -> None:
    event = load("create", cfn.url())
    del event["RequestId"]
    handler.lambda_handler(event, LambdaContext())
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Status"] == "FAILED" and answer.body["Reason"] == "MalformedEvent: the event lacks RequestId"
    assert answer.body["PhysicalResourceId"] == "trailkeeper-failed-create-unknown"


def test_a_malformed_update_keeps_its_physical_id_so_nothing_is_replaced(
    world: seeding.World, invoke: Any, cfn: ResponseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke("create")["Status"] == "SUCCESS"  # a warm environment remembers its last answer
    capsys.readouterr()
    old_id = "arn:aws:cloudtrail:us-east-1:123456789012:trail/the-trail-it-had"
    event = load("update", cfn.url(), ResourceProperties="not an object", PhysicalResourceId=old_id)
    handler.lambda_handler(event, LambdaContext())
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Status"] == "FAILED"
    assert answer.body["PhysicalResourceId"] == old_id  # a new id would mean replacement
    assert failure_codes(capsys.readouterr().out) == ["MalformedEvent"]


def test_an_event_without_a_request_type_says_it_lacks_one(
    world: seeding.World, provider: Any, cfn: ResponseServer
) -> None:
    event = load("create", cfn.url())
    del event["RequestType"]
    handler.lambda_handler(event, LambdaContext())
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Reason"] == "MalformedEvent: the event lacks RequestType"


def test_a_delete_needs_its_physical_id_but_no_properties(
    world: seeding.World, provider: Any, cfn: ResponseServer
) -> None:
    event = load("delete", cfn.url())
    del event["PhysicalResourceId"]
    handler.lambda_handler(event, LambdaContext())
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Reason"] == "MalformedEvent: the event lacks PhysicalResourceId"
    without = load("delete", cfn.url())
    del without["ResourceProperties"]
    for event in (load("delete", cfn.url(), ResourceProperties=None), without):
        handler.lambda_handler(event, LambdaContext())
        (answer,) = cfn.for_url(event["ResponseURL"])
        assert answer.body["Status"] == "SUCCESS", answer.body["Reason"]


def test_a_url_whose_query_repeats_its_host_is_put_to_its_own_path(cfn: ResponseServer) -> None:
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=1, sleep=lambda _: None)
    url = f"https://localhost:{cfn.port}/cfn-response/abc?redirect=localhost:{cfn.port}/elsewhere"
    assert sender.send(url, response.body({}, status="SUCCESS", physical_id="x"))
    assert [r.path for r in cfn.for_url(url)] == [f"/cfn-response/abc?redirect=localhost:{cfn.port}/elsewhere"]


def test_a_retry_is_made_only_while_the_deadline_leaves_room_for_its_wait_and_half_a_second(
    cfn: ResponseServer,
) -> None:
    cfn.statuses[:] = [500] * 5
    slept: list[float] = []
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=4, sleep=slept.append)
    always_one_second_left = Deadline(1.0, clock=lambda: 0.0)
    url = cfn.url()
    assert sender.send(url, response.body({}, status="SUCCESS", physical_id="x"), always_one_second_left) is False
    # 1 s is room for the first wait (0.5 s) and half a second more, not for the second wait (1 s)
    assert slept == [0.5] and len(cfn.for_url(url)) == 2
    cfn.statuses.clear()


def test_an_undelivered_answer_is_logged_with_why(cfn: ResponseServer, caplog: pytest.LogCaptureFixture) -> None:
    cfn.statuses[:] = [503]
    sender = response.Sender(ssl_context=cfn.client_context(), attempts=1, sleep=lambda _: None)
    with caplog.at_level("ERROR", logger="trailkeeper"):
        assert sender.send(cfn.url(), response.body({}, status="SUCCESS", physical_id="x")) is False
    (record,) = [r for r in caplog.records if r.getMessage() == "response not delivered"]
    assert (record.attempts, record.last_error) == (1, "HTTP 503")  # type: ignore[attr-defined]
    cfn.statuses.clear()
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    caplog.clear()
    with caplog.at_level("ERROR", logger="trailkeeper"):
        assert sender.send(f"http://127.0.0.1:{port}/x", response.body({}, status="SUCCESS", physical_id="x")) is False
    (record,) = [r for r in caplog.records if r.getMessage() == "response not delivered"]
    assert record.last_error == "ConnectionRefusedError"  # type: ignore[attr-defined]


def test_a_malformed_event_is_answered_with_empty_ids_rather_than_none() -> None:
    document = response.body({}, status="FAILED", physical_id="x", reason="no RequestId")
    assert (document["StackId"], document["RequestId"], document["LogicalResourceId"]) == ("", "", "")


def test_a_plain_http_url_is_put_to_its_own_host_and_port() -> None:
    # CloudFormation's URLs are https; a local stand-in may use http. 127.0.0.2 is loopback too, but not
    # where an empty or default host would connect, and the port is not http's default.
    received: list[tuple[str, bytes]] = []

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sender = response.Sender(attempts=1, sleep=lambda _: None)
        document = response.body({}, status="SUCCESS", physical_id="x")
        url = f"http://127.0.0.2:{server.server_address[1]}/cfn-response?X-Amz-Signature=f00d"
        assert sender.send(url, document, Deadline(10)) is True
        assert received == [("/cfn-response?X-Amz-Signature=f00d", response.encode(document))]
    finally:
        server.shutdown()
        server.server_close()


def test_by_default_a_sender_tries_four_times_for_up_to_ten_seconds_each(
    cfn: ResponseServer, timeouts: list[float]
) -> None:
    cfn.statuses[:] = [500] * 5
    slept: list[float] = []
    sender = response.Sender(ssl_context=cfn.client_context(), sleep=slept.append)
    url = cfn.url()
    assert sender.send(url, response.body({}, status="SUCCESS", physical_id="x")) is False
    assert (timeouts, slept, len(cfn.for_url(url))) == ([10.0] * 4, [0.5, 1.0, 2.0], 4)
    cfn.statuses.clear()


def test_a_fitted_value_is_offered_every_byte_left_and_may_fill_the_answer_exactly() -> None:
    offered: list[int] = []

    def plan(room: int) -> str:
        offered.append(room)
        return "x" * room

    document = response.body({}, status="SUCCESS", physical_id="p", fitted={"Plan": plan})
    assert len(response.encode(document)) == response.BODY_LIMIT
    (room,) = offered
    assert document["Data"] == {"Plan": "x" * room}


def test_a_fitted_value_is_offered_no_bytes_when_the_rest_already_fills_the_answer() -> None:
    offered: list[int] = []

    def plan(room: int) -> str:
        offered.append(room)
        return "x" * room

    document = response.body({}, status="SUCCESS", physical_id="p", data={"Big": "y" * 5000}, fitted={"Plan": plan})
    assert offered == [0] and document["Data"] == {} and len(response.encode(document)) <= response.BODY_LIMIT


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        ({"TrailArn": "arn", "Big": "x" * 4000}, {"TrailArn": "arn"}),  # the others go first
        ({"Big": "x" * 4000, "TrailArn": "arn"}, {"TrailArn": "arn"}),
        ({"TrailArn": "a" * 5000}, {}),  # too big alone: dropped too, the answer still goes
    ],
)
def test_a_kept_value_is_dropped_only_when_it_cannot_fit_even_alone(data: dict[str, str], kept: dict[str, str]) -> None:
    document = response.body({}, status="SUCCESS", physical_id="p", data=data, keep=("TrailArn",))
    assert document["Data"] == kept and len(response.encode(document)) <= response.BODY_LIMIT


def test_the_system_trust_store_is_read_at_the_first_answer_not_when_the_sender_is_made(
    cfn: ResponseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made with no context, before the trust store names the stand-in's CA: the first PUT reads it (and pays
    # for it, a millisecond or two of a cold start, as the answer's own cost), every later PUT reuses it.
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    sender = response.Sender(attempts=1, sleep=lambda _: None)
    monkeypatch.setenv("SSL_CERT_FILE", str(cfn.ca_file))
    first, second = cfn.url(), cfn.url()
    assert sender.send(first, response.body({}, status="SUCCESS", physical_id="x"), Deadline(60)) is True
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    assert sender.send(second, response.body({}, status="SUCCESS", physical_id="x"), Deadline(60)) is True
    assert len(cfn.for_url(first)) == len(cfn.for_url(second)) == 1
