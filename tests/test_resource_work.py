"""What the custom resource's work promises a stack, word for word and second for second: a declaration it will
not take is refused before any AWS call with the whole reason that says where to declare it instead; a SUCCESS
that could not check everything says every unchecked thing in its Reason; and the work stops early enough to
leave the answer min(5 s, a quarter of the time left) to reach CloudFormation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext
from devkit.recording import RecordingClients

from tests.conftest import Invoker
from trailkeeper import engine, handler
from trailkeeper.aws.calls import Deadline
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.cfn.watchdog import Watchdog

PATTERN_REFUSAL = (
    "a pattern covers many trails, and a Custom::TrailSettings resource keeps one: give a trail name or ARN "
    "here, and declare patterns in a drift-fix state file (trailkeeper plan/apply, the scheduled reconcile; "
    "docs/fleet.md)"
)
REPAIR_REFUSAL = (
    "InvalidProperties: RepairDelivery: the delivery guard reads a trail's declarations from the declared state "
    "(DESIRED_STATE_PARAMETER), never from stacks: declare it there (docs/delivery.md)"
)


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"Name": "audit-*"}, f"InvalidProperties: Name='audit-*': {PATTERN_REFUSAL}"),
        ({"Name": "audit-trail", "RepairDelivery": "true"}, REPAIR_REFUSAL),
        ({"Name": "audit-trail", "RepairDelivery": "false"}, REPAIR_REFUSAL),  # declared at all: not here
    ],
)
def test_a_declaration_a_resource_cannot_keep_is_refused_whole_before_any_call(
    invoke: Invoker, clients: RecordingClients, properties: dict[str, str], reason: str
) -> None:
    answer = invoke("create", ResourceProperties=properties)
    assert (answer["Status"], answer["Reason"]) == ("FAILED", reason)
    assert clients.calls == []


def test_a_success_names_every_thing_it_could_not_check_in_its_reason(
    world: seeding.World, invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two unchecked things at once (an unconfirmed standing and a key alias KMS cannot resolve from here) take an
    # organization set up for both; the engine's outcome for the sample trail is widened to two instead.
    reconcile = engine.reconcile

    def with_two_unchecked(*args: Any, **kwargs: Any) -> engine.Outcome:
        outcome = reconcile(*args, **kwargs)
        return outcome._replace(unchecked=("KmsKeyId not compared", "standing not confirmed"))

    monkeypatch.setattr(engine, "reconcile", with_two_unchecked)
    answer = invoke("create")
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"] == "KmsKeyId not compared; standing not confirmed"


class FixedTimeContext(LambdaContext):
    """A Lambda context whose remaining time stands still: the budget is then exact."""

    def __init__(self, remaining_ms: int) -> None:
        super().__init__()
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class RecordingWatchdog(Watchdog):
    """Remembers each time it was armed for; never rings."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: list[tuple[float, Callable[[], None]]] = []

    def arm(self, seconds: float, alarm: Callable[[], None]) -> None:
        self.armed.append((seconds, alarm))


class RecordingSender(response.Sender):
    """Takes every answer at once, remembering the time it was given to deliver it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Mapping[str, Any], float]] = []

    def send(self, url: str, document: Mapping[str, Any], deadline: Deadline | None = None) -> bool:
        self.sent.append((url, document, math.inf if deadline is None else deadline.remaining()))
        return True


@pytest.fixture
def timed(
    clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> tuple[TrailSettingsResource, RecordingWatchdog, RecordingSender]:
    dog, sender = RecordingWatchdog(), RecordingSender()
    resource = TrailSettingsResource(clients=lambda: clients, sender=sender, watchdog=dog)
    monkeypatch.setattr(handler, "RESOURCE", resource)
    return resource, dog, sender


@pytest.mark.parametrize(
    ("remaining_ms", "work_seconds"),
    [
        (900_000, 895.0),  # Lambda's longest timeout: the answer keeps its 5 s
        (20_000, 15.0),  # a quarter is 5 s: the same
        (8_000, 6.0),  # a quarter (2 s) is less than 5 s: the answer keeps the quarter
        (1_000, 0.75),
        (0, 0.0),  # no time at all: none for the work either
    ],
)
def test_the_alarm_is_set_for_the_end_of_the_works_share_of_the_time_left(
    cfn: ResponseServer,
    timed: tuple[TrailSettingsResource, RecordingWatchdog, RecordingSender],
    remaining_ms: int,
    work_seconds: float,
) -> None:
    resource, dog, _ = timed
    handler.lambda_handler(load("delete", cfn.url()), FixedTimeContext(remaining_ms))
    ((seconds, alarm),) = dog.armed
    assert seconds == pytest.approx(work_seconds, abs=0.05)
    assert alarm == resource._timeout  # the alarm that answers OutOfTime


@pytest.mark.parametrize(
    ("remaining_ms", "answer_seconds"),
    [(900_000, 899.8), (10_000, 9.8), (1_000, 0.8)],  # what Lambda leaves, less 0.2 s to return
)
def test_the_answer_is_given_the_time_lambda_leaves_less_a_fifth_of_a_second(
    cfn: ResponseServer,
    timed: tuple[TrailSettingsResource, RecordingWatchdog, RecordingSender],
    remaining_ms: int,
    answer_seconds: float,
) -> None:
    _, _, sender = timed
    event = load("delete", cfn.url())
    handler.lambda_handler(event, FixedTimeContext(remaining_ms))
    ((url, document, seconds),) = sender.sent
    assert (url, document["Status"], document["PhysicalResourceId"]) == (
        event["ResponseURL"],
        "SUCCESS",
        event["PhysicalResourceId"],
    )
    # Read at once after the answer's deadline is set; the slack below only absorbs a busy machine's pause.
    assert answer_seconds - 0.5 < seconds <= answer_seconds
