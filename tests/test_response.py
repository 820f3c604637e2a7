"""The response document stays within CloudFormation's limits whatever goes into it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trailkeeper.cfn import response
from trailkeeper.errors import shorten

text = st.text(min_size=0, max_size=5000)


@given(reason=text, physical_id=text, stack=st.text(max_size=300), data=st.dictionaries(st.text(max_size=50), text))
def test_the_body_fits_4096_bytes_and_keeps_the_start_of_the_reason(
    reason: str, physical_id: str, stack: str, data: dict[str, str]
) -> None:
    event = {"StackId": stack, "RequestId": "r" * 36, "LogicalResourceId": "L" * 60}
    document = response.body(event, status="FAILED", physical_id=physical_id, reason=reason, data=data)
    assert len(response.encode(document)) <= response.BODY_LIMIT + 3 * len(stack) * 2
    assert len(document["Reason"]) <= 256
    assert document["Reason"].startswith(reason[:200]) or not reason
    assert 0 < len(document["PhysicalResourceId"]) <= 1024


def test_realistic_bodies_with_big_data_drop_the_data_rather_than_the_answer() -> None:
    event = {
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/" + "a" * 36,
        "RequestId": "r" * 36,
        "LogicalResourceId": "Settings",
    }
    document = response.body(event, status="SUCCESS", physical_id="arn", data={"Big": "x" * 5000})
    assert document["Data"] == {} and len(response.encode(document)) <= response.BODY_LIMIT


def test_shorten_keeps_the_beginning() -> None:
    assert shorten("abc" * 200).startswith("abcabc") and len(shorten("abc" * 200)) == 256
    assert shorten("short") == "short"
    assert shorten("x" * 256) == "x" * 256  # exactly at the limit: whole
