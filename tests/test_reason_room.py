"""How long texts are fitted into a bounded reason (errors.py): each failure's message gets its share of the
room, the short ones whole; and a text cut to a limit keeps the longest beginning that fits with "..."."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trailkeeper.errors import REASON_LIMIT, VALUE_LIMIT, AwsCallFailed, Writes, _share, first_whole

LONG = "x" * 500


def failed_writes(written: tuple[str, ...], failures: dict[str, str]) -> AwsCallFailed:
    """The first failure of a trail's writes, as the engine raises it: it carries what all the writes did."""
    failed = tuple(
        (operation, AwsCallFailed("ConflictException", operation, message)) for operation, message in failures.items()
    )
    first = failed[0][1]
    first.writes = Writes(written, failed)
    return first


def test_a_short_message_is_kept_whole_and_the_long_one_has_the_rest_of_the_room() -> None:
    # Short texts are served first, whatever their order: the long one is cut to what they leave.
    assert _share([LONG, "short"], 200) == [LONG[:192] + "...", "short"]
    assert _share(["short", LONG], 200) == ["short", LONG[:192] + "..."]


def test_long_messages_share_what_the_short_ones_leave_equally() -> None:
    cut = _share(["short", LONG, LONG], 305)
    assert cut[0] == "short" and [len(text) for text in cut[1:]] == [150, 150]
    assert sum(len(text) for text in cut) == 305


def test_no_share_falls_below_the_shortest_readable_value() -> None:
    assert [len(text) for text in _share([LONG, LONG, LONG], 30)] == [VALUE_LIMIT] * 3


def test_a_text_exactly_at_the_limit_is_kept_whole() -> None:
    assert first_whole(["abcdef"], 6) == "abcdef"
    assert first_whole(["abcdefg"], 6) == "abc..."


def test_a_limit_with_room_for_nothing_but_the_ellipsis_keeps_no_character() -> None:
    assert first_whole(["abcdef"], 3) == "..."


@given(st.text(min_size=1, max_size=40), st.integers(min_value=3, max_value=45))
def test_a_cut_keeps_the_longest_beginning_that_fits_with_an_ellipsis(text: str, limit: int) -> None:
    shown = first_whole([text], limit)
    assert shown == (text if len(text) <= limit else text[: limit - 3] + "...")


def test_two_long_failures_share_the_whole_room_and_every_landed_write_is_named() -> None:
    error = failed_writes(("AddTags", "StartLogging"), {"UpdateTrail": "a" * 300, "PutEventSelectors": "b" * 300})
    assert error.reason == (
        "ConflictException: already written: AddTags, StartLogging; "
        f"UpdateTrail failed: {'a' * 71}...; PutEventSelectors failed: {'b' * 72}..."
    )
    assert len(error.reason) == REASON_LIMIT  # the room left by the names is used, not wasted


def test_failures_that_do_not_fit_even_at_their_shortest_are_counted_within_the_limit() -> None:
    operations = ("UpdateTrail", "PutEventSelectors", "PutInsightSelectors", "AddTags", "StartLogging")
    error = failed_writes((), {operation: operation[0] * 200 for operation in operations})
    assert error.reason == (
        f"ConflictException: nothing was written; UpdateTrail failed: {'U' * 57}...; "
        f"PutEventSelectors failed: {'P' * 57}... (+3 more)"
    )
    assert error.full_reason.count("failed: ") == 5  # the logs and the drift report name all five
