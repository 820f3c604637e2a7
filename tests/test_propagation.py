"""IAM's propagation delay: UpdateTrail naming a log group and role made seconds ago is refused with "Access
denied." until CloudTrail sees them. Exactly those answers are retried, within the deadline and two minutes,
said in the log, and no longer than the answer stays the same (time from an injected clock)."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devkit import world as seeding
from devkit.recording import RecordingClients

from tests.conftest import Invoker
from trailkeeper.aws import calls
from trailkeeper.aws.calls import Deadline, call
from trailkeeper.errors import AwsCallFailed, OutOfTime

ROLE = ("InvalidCloudWatchLogsRoleArnException", "Access denied. Check the trust relationships for your role.")
GROUP = ("InvalidCloudWatchLogsLogGroupArnException", "Access denied. Check the permissions for your role.")


def refusal(code: str, message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "UpdateTrail"
    )


class Answers:
    """UpdateTrail's answers in turn; a clock that moves by each sleep."""

    def __init__(self, *answers: tuple[str, str] | None) -> None:
        self.answers, self.calls, self.now, self.slept = list(answers), 0, 0.0, []

    def send(self) -> Any:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise refusal(*answer)
        return {"TrailARN": "arn"}

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(self, **kw: Any) -> Any:
        return call(
            "UpdateTrail",
            self.send,
            deadline=Deadline(),
            sleep=self.sleep,
            clock=lambda: self.now,
            rand=lambda: 0.0,
            **kw,
        )


def test_access_denied_on_a_new_role_or_group_is_waited_out_and_said(caplog: pytest.LogCaptureFixture) -> None:
    answers = Answers(ROLE, GROUP, ROLE, ROLE, ROLE, ROLE, None)  # more than the five attempts of other errors
    with caplog.at_level(logging.WARNING, logger="trailkeeper.aws.calls"):
        assert answers.run(propagation=True) == {"TrailARN": "arn"}
    assert answers.calls == 7
    assert any("waiting for IAM to propagate" in str(r.__dict__.get("error")) for r in caplog.records)


def test_only_those_answers_and_only_where_asked() -> None:
    other = ("InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    with pytest.raises(AwsCallFailed) as raised:
        Answers(other, None).run(propagation=True)
    assert raised.value.aws_code == "InvalidCloudWatchLogsRoleArnException"
    refused = Answers(ROLE, None)
    with pytest.raises(AwsCallFailed):
        refused.run()  # without propagation (every call but an UpdateTrail naming a role), never retried
    assert refused.calls == 1


def test_it_stops_as_soon_as_the_answer_changes() -> None:
    changed = Answers(ROLE, ("TrailNotFoundException", "Unknown trail"), None)
    with pytest.raises(AwsCallFailed) as raised:
        changed.run(propagation=True)
    assert raised.value.aws_code == "TrailNotFoundException"
    assert changed.calls == 2


def test_two_minutes_at_most_then_the_refusal_is_the_answer() -> None:
    forever = Answers(*[ROLE] * 500)
    with pytest.raises(AwsCallFailed) as raised:
        forever.run(propagation=True)
    assert raised.value.aws_code == "InvalidCloudWatchLogsRoleArnException"
    assert calls.PROPAGATION_SECONDS <= forever.now < calls.PROPAGATION_SECONDS + 8  # the last wait at most


def test_never_past_the_functions_deadline() -> None:
    answers = Answers(ROLE, ROLE, None)
    with pytest.raises(OutOfTime, match="waiting for IAM to propagate"):
        call(
            "UpdateTrail",
            answers.send,
            deadline=Deadline(0.2),
            sleep=answers.sleep,
            clock=lambda: answers.now,
            propagation=True,
        )


def test_a_stack_that_makes_the_role_beside_the_trail_settings_waits_for_it(
    world: seeding.World, clients: RecordingClients, invoke: Invoker, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # create.json declares the world's log group and role: CloudTrail refuses them twice, as just after IAM made them.
    client = clients.cloudtrail(seeding.HOME)
    real, refusals, slept = client.update_trail, [ROLE, GROUP], []

    def update_trail(**arguments: Any) -> Any:
        if refusals:
            raise refusal(*refusals.pop(0))
        return real(**arguments)

    monkeypatch.setattr(client, "update_trail", update_trail)
    monkeypatch.setattr(calls, "_sleep", slept.append)
    answer = invoke("create", StackId=stack)
    assert answer["Status"] == "SUCCESS" and not refusals and len(slept) == 2
    described = boto3.client("cloudtrail").describe_trails(trailNameList=[world.trail_arn])["trailList"][0]
    assert described["CloudWatchLogsRoleArn"] == world.role_arn
