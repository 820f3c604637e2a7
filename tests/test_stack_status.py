"""What `events.stack_status` tells of the stack a CloudFormation event came from.

A refused or failed Update is a rollback only when its stack's status says so (DescribeStacks on the
event's StackId); the answer to CloudFormation hangs on this one string. The events are the samples
under events/ (those `sam local invoke -e` takes) with the StackId of a stack in moto's CloudFormation;
what moto cannot answer (a refusal, an empty list) is scripted with botocore's Stubber.
"""

from __future__ import annotations

import json

import boto3
import pytest
from devkit import world as seeding
from devkit.events import load
from devkit.recording import RecordingClients

from tests.conftest import set_stack_status
from trailkeeper.aws.calls import Deadline
from trailkeeper.cfn import events
from trailkeeper.errors import AwsCallFailed, OutOfTime

FUNCTION_REGION = "us-east-1"
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
# The StackId of events/update.json: a stack that exists only in the sample.
SAMPLE_STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/trail-settings/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


def make_stack(name: str, region: str = FUNCTION_REGION, status: str = "CREATE_COMPLETE") -> str:
    """A stack in moto's CloudFormation, in `status`; its StackId."""
    client = boto3.client("cloudformation", region_name=region)
    stack_id = str(client.create_stack(StackName=name, TemplateBody=TEMPLATE)["StackId"])
    set_stack_status(stack_id, status)
    return stack_id


def status_of(stack_id: str, clients: RecordingClients, deadline: Deadline | None = None) -> str:
    """The status `stack_status` reads for the sample Update event sent by stack `stack_id`."""
    event = load("update", StackId=stack_id)
    return events.stack_status(event, clients, deadline or Deadline(), FUNCTION_REGION)


@pytest.mark.parametrize(
    "status", ["UPDATE_IN_PROGRESS", events.ROLLING_BACK, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"]
)
def test_the_status_is_the_one_cloudformation_gives_the_events_stack(
    world: seeding.World, clients: RecordingClients, status: str
) -> None:
    assert status_of(make_stack("trail-settings", status=status), clients) == status


def test_another_stack_of_the_account_rolling_back_does_not_make_the_events_stack_roll_back(
    world: seeding.World, clients: RecordingClients
) -> None:
    make_stack("neighbour", status=events.ROLLING_BACK)  # listed first when no stack is named
    own = make_stack("trail-settings", status="UPDATE_IN_PROGRESS")
    assert status_of(own, clients) == "UPDATE_IN_PROGRESS"


def test_a_stack_in_another_region_than_the_function_is_asked_about_in_its_own_region(
    world: seeding.World, clients: RecordingClients
) -> None:
    stack_id = make_stack("trail-settings", region="eu-west-1", status=events.ROLLING_BACK)
    assert status_of(stack_id, clients) == events.ROLLING_BACK


def test_an_event_replayed_by_hand_whose_stack_does_not_exist_has_no_status(
    world: seeding.World, clients: RecordingClients
) -> None:
    # `sam local invoke -e events/update.json`: nothing is rolling back, and nothing failed.
    assert status_of(SAMPLE_STACK, clients) == ""


def test_an_answer_listing_no_stack_has_no_status(world: seeding.World, clients: RecordingClients) -> None:
    stubber = clients.stub("cloudformation", FUNCTION_REGION)
    stubber.add_response("describe_stacks", {"Stacks": []})
    assert status_of(SAMPLE_STACK, clients) == ""
    stubber.assert_no_pending_responses()


def test_a_validation_error_other_than_a_missing_stack_is_not_taken_for_one(
    world: seeding.World, clients: RecordingClients
) -> None:
    # Only "Stack with id ... does not exist" means there is no stack; any other refusal leaves the
    # status unknown, and the caller must say it could not tell.
    stubber = clients.stub("cloudformation", FUNCTION_REGION)
    stubber.add_client_error(
        "describe_stacks",
        "ValidationError",
        (
            "1 validation error detected: Value at 'stackName' failed to satisfy constraint: "
            "Member must have length less than or equal to 1600"
        ),
    )
    with pytest.raises(AwsCallFailed) as raised:
        status_of(SAMPLE_STACK, clients)
    assert raised.value.error_code == "ValidationError"


def test_another_refusal_saying_does_not_exist_is_not_taken_for_a_missing_stack(
    world: seeding.World, clients: RecordingClients
) -> None:
    stubber = clients.stub("cloudformation", FUNCTION_REGION)
    stubber.add_client_error("describe_stacks", "AccessDenied", "the role's session does not exist any more")
    with pytest.raises(AwsCallFailed) as raised:
        status_of(SAMPLE_STACK, clients)
    assert raised.value.error_code == "AccessDenied"


def test_a_refused_describe_stacks_says_which_call_to_grant(world: seeding.World, clients: RecordingClients) -> None:
    stubber = clients.stub("cloudformation", FUNCTION_REGION)
    stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized to perform DescribeStacks")
    with pytest.raises(AwsCallFailed) as raised:
        status_of(SAMPLE_STACK, clients)
    assert raised.value.operation == "DescribeStacks"
    assert "may not call DescribeStacks: grant it" in raised.value.reason


def test_credentials_refused_in_the_stacks_region_name_that_region(
    world: seeding.World, clients: RecordingClients
) -> None:
    stack_id = SAMPLE_STACK.replace(":us-east-1:", ":eu-west-1:")
    stubber = clients.stub("cloudformation", "eu-west-1")
    stubber.add_client_error("describe_stacks", "InvalidClientTokenId", "The security token is invalid.")
    with pytest.raises(AwsCallFailed) as raised:
        status_of(stack_id, clients)
    assert raised.value.reason == "InvalidClientTokenId: the credentials are not valid in eu-west-1"


def test_with_no_time_left_it_says_which_call_it_could_not_make(
    world: seeding.World, clients: RecordingClients
) -> None:
    with pytest.raises(OutOfTime) as raised:
        status_of(make_stack("trail-settings"), clients, Deadline(0))
    assert "DescribeStacks" in raised.value.reason
    assert clients.named("DescribeStacks") == []
