"""Warm overhead: the provider's own time per event with AWS answered instantly (botocore Stubber),
beside the same stubbed SDK calls made bare."""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.stub import Stubber
from crhelper import CfnResource
from devkit import world
from devkit.events import load
from devkit.lambda_context import LambdaContext

from bench.common import Row
from trailkeeper import handler
from trailkeeper.aws.calls import Clients
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource

WARM_UP = 20  # events served, untimed, before each measurement
ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit-trail"
CURRENT = {
    "Name": "audit-trail",
    "TrailARN": ARN,
    "HomeRegion": "us-east-1",
    "S3BucketName": world.BUCKET,
    "S3KeyPrefix": "legacy",
    "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": False,
    "LogFileValidationEnabled": False,
    "IsOrganizationTrail": False,
}
IN_SYNC = dict(
    CURRENT,
    S3KeyPrefix="audit/v2",
    IsMultiRegionTrail=True,
    LogFileValidationEnabled=True,
    SnsTopicARN="arn:aws:sns:us-east-1:123456789012:trail-deliveries",
    KmsKeyId="alias/trailkeeper-demo",
    CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:trailkeeper-demo:*",
    CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/trailkeeper-demo-cloudwatch",
)


class _Answered(response.Sender):
    """CloudFormation's side answered instantly too: the body is built and encoded, not sent."""

    def send(self, url: str, document: Any, deadline: Any = None) -> bool:
        response.encode(document)
        return True


class _TimerPerEvent(TrailSettingsResource):
    """Before: crhelper's own timeout handling, a new threading.Timer thread per event."""

    def _set_timeout(self) -> None:
        CfnResource._set_timeout(self)  # type: ignore[attr-defined]


class _StubbedClients(Clients):
    def __init__(self) -> None:
        super().__init__(session=boto3.session.Session())
        self.cloudtrail_client = super().cloudtrail("us-east-1")
        self.stubber = Stubber(self.cloudtrail_client)
        self.stubber.activate()

    def cloudtrail(self, region: str) -> Any:
        return self.cloudtrail_client


def _let_timers_end() -> None:
    """Wait for the Timer threads crhelper started (cancelled, each still has to wake and exit): left
    running, they would take the interpreter's lock from whatever is timed next."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.join()


def _time_each(prepare: Callable[[], None], works: Sequence[Callable[[], Any]], repeat: int) -> list[float]:
    """The median time of each of `works`, measured in turn (A B C A B C ...), so that the machine's load,
    which drifts during a run, weighs on each alike and their ratio means something."""
    samples: list[list[float]] = [[] for _ in works]
    for work in works:  # warm: the first events of each fill caches the rest find full
        for _ in range(WARM_UP):
            prepare()
            work()
    for _ in range(repeat):
        for work, kept in zip(works, samples, strict=True):
            prepare()
            start = time.perf_counter()
            work()
            kept.append(time.perf_counter() - start)
    return [statistics.median(kept) for kept in samples]


class _Parts:
    """Each part's time within an event, by timers wrapped around the functions that do it (a few hundred
    nanoseconds each: the parts add up to a little more than an event untimed)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self._undo: list[Callable[[], None]] = []

    def time(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.samples.setdefault(label, []).append(time.perf_counter() - start)

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def undo(self) -> None:
        for step in reversed(self._undo):
            step()

    def median(self, label: str) -> float:
        return statistics.median(self.samples.get(label) or [0.0])


def _contributors(
    label: str, event: dict[str, Any], prepare: Callable[[], None], repeat: int, client: Any
) -> list[Row]:
    """Where one warm event's time goes: Powertools' decorators, redaction, parsing, the call, the engine,
    the answer's log line and metric, and crhelper's plumbing with the answer's body (what is left)."""
    from trailkeeper import engine, redaction, routing
    from trailkeeper.aws import locate
    from trailkeeper.trail import declaration

    parts = _Parts()
    parts.time(redaction, "protect", "protect")
    parts.time(routing, "route", "route")
    parts.time(declaration, "parse", "parse")
    parts.time(client, "_make_api_call", "sdk")
    parts.time(locate, "find", "find")
    parts.time(engine, "reconcile", "reconcile")
    parts.time(TrailSettingsResource, "_answer", "answer")
    resource = TrailSettingsResource(clients=handler.RESOURCE._make_clients, sender=_Answered())  # type: ignore[union-attr]
    handler.RESOURCE = resource
    total: list[float] = []
    try:
        for _ in range(WARM_UP):
            prepare()
            handler.lambda_handler(event, LambdaContext(timeout_seconds=900))
        parts.samples.clear()
        for _ in range(repeat):
            prepare()
            start = time.perf_counter()
            handler.lambda_handler(event, LambdaContext(timeout_seconds=900))
            total.append(time.perf_counter() - start)
    finally:
        parts.undo()
    m = parts.median
    routed = m("route")
    calls = len(parts.samples.get("sdk", [])) / repeat  # per event: the read, and the write when one is planned
    shares = [
        (
            "Powertools: the logger's Lambda context, the metrics' flush (EMF line)",
            statistics.median(total) - routed - m("protect"),
        ),
        ("redaction.protect (the event's URL and credentials, every handler)", m("protect")),
        (f"the stubbed SDK calls ({calls:.0f})", m("sdk") * calls),
        ("declaration.parse (validate the properties)", m("parse")),
        ("locate.find without its call", m("find") - m("sdk")),
        (
            "engine.reconcile without its calls (compare, plan, guard; a write's log line)",
            m("reconcile") - m("sdk") * (calls - 1),
        ),
        ("the answer's metric and log line (Powertools JSON, redacted)", m("answer")),
        (
            "crhelper's dispatch, the watchdog, the answer's body",
            routed - m("parse") - m("find") - m("reconcile") - m("answer"),  # what the timers do not cover
        ),
    ]
    section = f"Warm overhead: contributors ({label.split(' (', maxsplit=1)[0]})"
    return [Row(section, what, f"{seconds * 1e6:.0f} us", "", "", {"us": seconds * 1e6}) for what, seconds in shares]


def run(repeat: int = 400) -> list[Row]:
    world.use_local_credentials()
    clients = _StubbedClients()
    stubber, client = clients.stubber, clients.cloudtrail_client
    handler.RESOURCE = TrailSettingsResource(clients=lambda: clients, sender=_Answered())
    create = load("create", "https://localhost/cfn?X-Amz-Signature=0")
    noop = load("update-noop", "https://localhost/cfn?X-Amz-Signature=0")
    delete = load("delete", "https://localhost/cfn?X-Amz-Signature=0")
    create_args = {
        "S3KeyPrefix": "audit",
        "SnsTopicName": "trail-deliveries",
        "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True,
        "KmsKeyId": "alias/trailkeeper-demo",
        "CloudWatchLogsLogGroupArn": IN_SYNC["CloudWatchLogsLogGroupArn"],
        "CloudWatchLogsRoleArn": IN_SYNC["CloudWatchLogsRoleArn"],
    }

    def queue(*trail_and_update: dict[str, Any]) -> Callable[[], None]:
        def add() -> None:
            stubber.add_response("describe_trails", {"trailList": [trail_and_update[0]]})
            if len(trail_and_update) > 1:
                stubber.add_response("update_trail", {})

        return add

    cases = [
        (
            "Create, 7 settings change (1 read + 1 write)",
            create,
            queue(CURRENT, {}),
            lambda: (
                client.describe_trails(trailNameList=["audit-trail"], includeShadowTrails=True),
                client.update_trail(Name=ARN, **create_args),
            ),
        ),
        (
            "Update, nothing to change (1 read)",
            noop,
            queue(IN_SYNC),
            lambda: client.describe_trails(trailNameList=["audit-trail"], includeShadowTrails=True),
        ),
        ("Delete (no AWS call)", delete, lambda: None, None),
    ]
    ours = handler.RESOURCE
    before = _TimerPerEvent(clients=lambda: clients, sender=_Answered())
    rows = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for label, event, prepare, bare in cases:

            def served_by(resource: TrailSettingsResource, e: dict[str, Any] = event) -> Callable[[], None]:
                def provider_event() -> None:
                    handler.RESOURCE = resource
                    # Each invocation has its own context, as in Lambda: its deadline is later than the last one's.
                    handler.lambda_handler(e, LambdaContext(timeout_seconds=900))

                return provider_event

            # crhelper's Timer per event on its own (each event leaves a thread ending behind it, which would
            # weigh on whatever ran next), then ours and the bare SDK calls side by side, in turn.
            (timer_per_event,) = _time_each(prepare, [served_by(before)], repeat)
            _let_timers_end()
            provider, *rest = _time_each(prepare, [served_by(ours), *([bare] if bare else [])], repeat)
            sdk = rest[0] if rest else 0.0
            data = {"provider_us": provider * 1e6, "sdk_us": sdk * 1e6, "before_us": timer_per_event * 1e6}
            figure = f"{provider * 1e6:.0f} us (before: {timer_per_event * 1e6:.0f} us)"
            if bare is None:
                yardstick, verdict = "no SDK call", "all of it is overhead"
            else:
                yardstick = f"the same stubbed SDK calls: {sdk * 1e6:.0f} us"
                verdict = f"+{(provider - sdk) * 1e6:.0f} us ({provider / sdk:.1f}x)"
            rows.append(Row("Warm overhead per event", label, figure, yardstick, verdict, data))
        for label, event, prepare, _ in cases[:2]:
            rows += _contributors(label, event, prepare, repeat, client)
    stubber.deactivate()
    handler.RESOURCE = None
    return rows
