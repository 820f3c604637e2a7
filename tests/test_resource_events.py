"""Which custom resource events the provider refuses before acting, and the words it refuses them with.

`cfn.events.problem` is pure: these tables need no AWS and no handler, so the quick tier holds the promise the
end-to-end tests (tests/test_always_answer.py, tests/test_promises_response.py) hold through CloudFormation's
answer: a usable Create, Update or Delete is let through; anything else gets one reason naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from devkit.events import load

from trailkeeper.cfn import events


def event(name: str, drop: Sequence[str] = (), **changes: Any) -> dict[str, Any]:
    """Sample event `name` with `changes` applied and the keys in `drop` removed."""
    loaded = load(name, **changes)
    for key in drop:
        del loaded[key]
    return loaded


@pytest.mark.parametrize(
    "request_event",
    [
        event("create"),
        event("update"),
        event("delete"),
        event("delete", drop=["ResourceProperties"]),  # a Delete needs no properties
        event("delete", ResourceProperties=None),
    ],
)
def test_a_usable_create_update_or_delete_has_no_problem(request_event: dict[str, Any]) -> None:
    assert events.problem(request_event) is None


@pytest.mark.parametrize(
    ("request_event", "problem"),
    [
        (event("create", RequestType="Replace"), "RequestType 'Replace' is not Create, Update or Delete"),
        (event("create", RequestType="create"), "RequestType 'create' is not Create, Update or Delete"),
        (event("create", RequestType=3), "the event lacks RequestType"),
        (event("create", RequestType=""), "the event lacks RequestType"),
        (event("create", drop=["RequestType"]), "the event lacks RequestType"),
        # The request type is named first: what is missing besides matters only for a known type.
        (
            event("create", RequestType="Replace", drop=["StackId"]),
            "RequestType 'Replace' is not Create, Update or Delete",
        ),
        (event("create", StackId=None, RequestId=""), "the event lacks StackId, RequestId"),
        (event("create", LogicalResourceId=12), "the event lacks LogicalResourceId"),
        (
            event("create", drop=["RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId"]),
            "the event lacks RequestType, ResponseURL, StackId, RequestId, LogicalResourceId",
        ),
        (event("update", drop=["PhysicalResourceId"]), "the event lacks PhysicalResourceId"),
        (event("update", PhysicalResourceId=None), "the event lacks PhysicalResourceId"),
        (event("delete", drop=["PhysicalResourceId"]), "the event lacks PhysicalResourceId"),
        (event("delete", StackId="", drop=["PhysicalResourceId"]), "the event lacks StackId, PhysicalResourceId"),
        (event("create", ResourceProperties=["Name", "audit"]), "ResourceProperties must be an object"),
        (event("create", drop=["ResourceProperties"]), "ResourceProperties must be an object"),
        (event("update", ResourceProperties="not an object"), "ResourceProperties must be an object"),
    ],
)
def test_an_unusable_event_is_refused_with_what_makes_it_so(request_event: dict[str, Any], problem: str) -> None:
    assert events.problem(request_event) == problem
