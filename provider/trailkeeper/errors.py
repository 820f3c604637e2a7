"""trailkeeper's own error codes: one exception class per code, each carrying a reason a person can act on.

The reason is what CloudFormation shows in its events (and what the CLI prints). It starts with the
code and stays under CloudFormation's useful length (`shorten`): crhelper would otherwise keep only the
*last* 240 characters of a longer one, dropping the part that says what went wrong.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Sequence
from functools import cache
from typing import ClassVar

from trailkeeper.typed_tuple import TypedTuple

REASON_LIMIT = 256
VALUE_LIMIT = 60


def shorten(text: str, limit: int = REASON_LIMIT) -> str:
    """Cut `text` to `limit` characters, keeping its beginning.

    >>> shorten("x" * 300)[-3:]
    '...'
    """
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cache  # built on first use, not at import: where `make mutate`'s mutants reach it
def _bounded_repr() -> reprlib.Repr:
    # A few items per level, a few levels: rendering costs the same whatever the value's size. An
    # unbounded repr of a YAML "billion laughs" value (shared aliases, 10**9 items) never finishes.
    bounded = reprlib.Repr()
    bounded.maxlevel, bounded.maxlist, bounded.maxtuple, bounded.maxdict = 3, 4, 4, 4
    bounded.maxset = bounded.maxfrozenset = bounded.maxdeque = bounded.maxarray = 4
    bounded.maxstring = bounded.maxother = bounded.maxlong = VALUE_LIMIT
    return bounded


def show(value: object) -> str:
    """A declared value as it appears in a reason: quoted, and shortened if long, whatever its size.

    >>> show([[1, 2, 3, 4, 5]] * 10**6)
    '[[1, 2, 3, 4, ...], [1, 2, 3, 4, ...], [1, 2, 3, 4, ...], [1, 2, 3, 4, ...], ...]'
    """
    if isinstance(value, str):
        return repr(shorten(value, VALUE_LIMIT))
    return shorten(_bounded_repr().repr(value), 2 * VALUE_LIMIT)


class TrailkeeperError(Exception):
    """Base of every failure trailkeeper reports; `code` names it for metrics and machines."""

    code: ClassVar[str] = "TrailkeeperError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.writes: Writes | None = None  # set on the first failure of a trail's writes: what they all did
        self.note = ""  # what the reason says first, after the code (e.g. why a rollback could not be told)

    @property
    def lead(self) -> str:
        """How every reason starts: the code, then the note if there is one."""
        return f"{self.error_code}: " + (f"{self.note}; " if self.note else "")

    @property
    def error_code(self) -> str:
        return self.code

    @property
    def landed(self) -> tuple[str, ...]:
        """The writes that succeeded, before or after this failure."""
        return self.writes.written if self.writes else ()

    @property
    def reason(self) -> str:
        """The reason in CloudFormation's useful length (`REASON_LIMIT`)."""
        if self.writes is not None and not self.writes.one_failure_last:
            return self.writes.describe(self.error_code, REASON_LIMIT, self.lead)
        # Which writes already landed comes first: it is what a person must know before retrying.
        landed = f"already written: {', '.join(self.landed)}; then " if self.landed else ""
        return shorten(f"{self.lead}{landed}{self.message}")

    @property
    def full_reason(self) -> str:
        """The reason with every failed write's message whole (the logs and the drift report have room)."""
        if self.writes is not None and not self.writes.one_failure_last:
            return self.writes.describe(self.error_code, None, self.lead)
        return self.reason


class Writes(TypedTuple):
    """What a trail's writes did when some failed: written, failed (each with its error), not attempted.

    A write that fails does not stop the others (`trail.aspect.DEPENDENCIES` says which wait for it),
    so a reason must say all three, e.g. "InsufficientS3BucketPolicyException: already written:
    StartLogging; UpdateTrail failed: the policy of bucket ...".
    """

    written: tuple[str, ...]
    failed: tuple[tuple[str, TrailkeeperError], ...]  # (operation, its error), in the order attempted
    not_attempted: tuple[tuple[str, str], ...] = ()  # (operation, why)
    written_after_failure: bool = False

    @property
    def one_failure_last(self) -> bool:
        """One failure, after every write that landed, nothing left out: said as "already written: ...; then ..."."""
        return len(self.failed) == 1 and not self.not_attempted and not self.written_after_failure

    def describe(self, code: str, limit: int | None, prefix: str) -> str:
        """Every part, in order; within `limit`, failure messages are cut to an equal share so that each
        failure and each write not attempted is still named (first_whole counts what still does not fit)."""
        head = [f"already written: {', '.join(self.written)}"] if self.written else ["nothing was written"]
        labels = [
            f"{operation} failed" + ("" if error.error_code == code else f" ({error.error_code})")
            for operation, error in self.failed
        ]
        messages = [error.message for _, error in self.failed]
        tail = [f"{operation} not attempted: {why}" for operation, why in self.not_attempted]
        if limit is not None:
            # each part, the "; " between two parts, and each label's ": " before its message
            named = (*head, *tail, *labels)
            fixed = len(prefix) + sum(map(len, named)) + 2 * (len(named) - 1) + 2 * len(labels)
            messages = _share(messages, limit - fixed)
        parts = [*head, *(f"{label}: {message}" for label, message in zip(labels, messages, strict=True)), *tail]
        return prefix + "; ".join(parts) if limit is None else first_whole(parts, limit, prefix=prefix)


def _share(texts: Sequence[str], room: int) -> list[str]:
    """`texts` cut so that together they fit `room` characters: short ones whole, long ones to an equal share
    of what is left (never below VALUE_LIMIT: first_whole then counts what still does not fit)."""
    cut = list(texts)
    left = room
    for done, index in enumerate(sorted(range(len(texts)), key=lambda i: len(texts[i]))):
        share = max(VALUE_LIMIT, left // (len(texts) - done))
        cut[index] = shorten(texts[index], share)
        left -= len(cut[index])
    return cut


class InvalidProperties(TrailkeeperError):
    """Declared properties break a rule; raised before any AWS write, listing every problem."""

    code = "InvalidProperties"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}" if problems else "invalid properties")

    @property
    def reason(self) -> str:
        # The first problems whole, as many as fit, then how many more there are: "(+N more)" must stay
        # intact, or a person fixes the problems shown and is surprised by the next deploy. Cutting every
        # problem to a share would lose each one's rule; the CLI and the logs list them all.
        if not self.problems:
            return shorten(f"{self.lead}{self.message}")
        return first_whole(self.problems, REASON_LIMIT, prefix=self.lead)


def first_whole(
    parts: Sequence[str],
    limit: int,
    *,
    prefix: str = "",
    separator: str = "; ",
    measure: Callable[[str], int] = len,
) -> str:
    """`prefix` and as many of `parts` as fit whole in `limit`, then "(+N more)" for the rest.

    A first part too long to fit alone is cut at its end. Used wherever a list must fit a fixed size
    (CloudFormation's Reason, a DryRun's Plan) and the reader must know something was left out. Sizes
    are characters, or what `measure` says (a DryRun's Plan: bytes in the encoded answer).

    >>> first_whole(["aaaa", "bbbb", "cccc"], 15)
    'aaaa (+2 more)'
    """
    shown: list[str] = []
    for index, part in enumerate(parts):
        more = len(parts) - index - 1
        tail = f" (+{more} more)" if more else ""
        if measure(prefix + separator.join([*shown, part])) + measure(tail) <= limit:
            shown.append(part)
            continue
        left = len(parts) - len(shown)
        if shown:
            return prefix + separator.join(shown) + f" (+{left} more)"
        tail = f" (+{left - 1} more)" if left > 1 else ""
        return _cut(prefix + part, limit - measure(tail), measure) + tail
    return prefix + separator.join(shown)


def _cut(text: str, limit: int, measure: Callable[[str], int]) -> str:
    """`text` ending in "..." within `limit` as `measure` counts (`shorten` when it counts characters)."""
    if measure(text) <= limit:
        return text
    low, high = 0, len(text)  # the longest beginning that fits with "...": measures grow with length
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) + measure("...") <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "..."


class InvalidState(InvalidProperties):
    """A declared-state file breaks a rule; every problem names the file, the trail and the property."""

    code = "InvalidState"


class WeakensAudit(InvalidProperties):
    """The declared change would weaken audit and the declaration does not allow it; nothing was written."""

    code = "WeakensAudit"

    def __init__(self, problems: Sequence[str], how_to_allow: str) -> None:
        # How to allow it goes first: the reason keeps short items whole and cuts the long ones.
        super().__init__([how_to_allow, *problems])


class ConflictingDeclarations(InvalidProperties):
    """Two declarations match one trail and give a property different values; nothing was written."""

    code = "ConflictingDeclarations"


class NothingMatched(TrailkeeperError):
    """The declared state matched no trail at all (patterns that found nothing): nothing was checked."""

    code = "NothingMatched"


class MalformedEvent(TrailkeeperError):
    """The invocation is not a CloudFormation custom resource event we can act on."""

    code = "MalformedEvent"


class TrailNotFound(TrailkeeperError):
    code = "TrailNotFound"


class AmbiguousTrailName(TrailkeeperError):
    code = "AmbiguousTrailName"


class NotChangeableHere(TrailkeeperError):
    """A trail of another account: an organization trail seen from a member account (only the management
    account may change it; `organization_trail` True) or, in a run gone wrong, another account's own trail."""

    code = "NotChangeableHere"

    def __init__(self, message: str, *, organization_trail: bool = False) -> None:
        super().__init__(message)
        self.organization_trail = organization_trail


class OutOfTime(TrailkeeperError):
    code = "OutOfTime"


class InvalidArguments(TrailkeeperError):
    """The command line is not one the CLI takes (unknown command or option, unknown region)."""

    code = "InvalidArguments"


class TrailDeleted(TrailkeeperError):
    """A declared trail was deleted: trailkeeper keeps settings of existing trails and cannot recreate it."""

    code = "TrailDeleted"


class AwsCallFailed(TrailkeeperError):
    """An AWS call failed for good (after retries); the reason says what to do about it."""

    code = "AwsCallFailed"

    def __init__(self, aws_code: str, operation: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code
        self.operation = operation

    @property
    def error_code(self) -> str:
        return self.aws_code


ALL_CODES: tuple[type[TrailkeeperError], ...] = (
    InvalidProperties,
    InvalidState,
    WeakensAudit,
    ConflictingDeclarations,
    NothingMatched,
    MalformedEvent,
    TrailNotFound,
    AmbiguousTrailName,
    NotChangeableHere,
    OutOfTime,
    InvalidArguments,
    TrailDeleted,
    AwsCallFailed,
)
