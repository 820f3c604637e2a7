"""trailkeeper's own error codes: one exception class per code, each carrying a reason a person can act on.

The reason is what CloudFormation shows in its events (and what the CLI prints). It starts with the
code and stays under CloudFormation's useful length (`shorten`): crhelper would otherwise keep only the
*last* 240 characters of a longer one, dropping the part that says what went wrong.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import ClassVar

REASON_LIMIT = 256
VALUE_LIMIT = 60


def shorten(text: str, limit: int = REASON_LIMIT) -> str:
    """Cut `text` to `limit` characters, keeping its beginning.

    >>> shorten("x" * 300)[-3:]
    '...'
    """
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_repr() -> reprlib.Repr:
    # A few items per level, a few levels: rendering costs the same whatever the value's size. An
    # unbounded repr of a YAML "billion laughs" value (shared aliases, 10**9 items) never finishes.
    bounded = reprlib.Repr()
    bounded.maxlevel, bounded.maxlist, bounded.maxtuple, bounded.maxdict = 3, 4, 4, 4
    bounded.maxset = bounded.maxfrozenset = bounded.maxdeque = bounded.maxarray = 4
    bounded.maxstring = bounded.maxother = bounded.maxlong = VALUE_LIMIT
    return bounded


_BOUNDED = _bounded_repr()


def show(value: object) -> str:
    """A declared value as it appears in a reason: quoted, and shortened if long, whatever its size.

    >>> show([[1, 2, 3, 4, 5]] * 10**6)
    '[[1, 2, 3, 4, ...], [1, 2, 3, 4, ...], [1, 2, 3, 4, ...], [1, 2, 3, 4, ...], ...]'
    """
    if isinstance(value, str):
        return repr(shorten(value, VALUE_LIMIT))
    return shorten(_BOUNDED.repr(value), 2 * VALUE_LIMIT)


class TrailkeeperError(Exception):
    """Base of every failure trailkeeper reports; `code` names it for metrics and machines."""

    code: ClassVar[str] = "TrailkeeperError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.landed: tuple[str, ...] = ()  # writes that had succeeded before this failure

    @property
    def error_code(self) -> str:
        return self.code

    @property
    def reason(self) -> str:
        # Which writes already landed comes first: it is what a person must know before retrying.
        landed = f"already written: {', '.join(self.landed)}; then " if self.landed else ""
        return shorten(f"{self.error_code}: {landed}{self.message}")


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
            return shorten(f"{self.code}: {self.message}")
        return first_whole(self.problems, REASON_LIMIT, prefix=f"{self.code}: ")


def first_whole(parts: Sequence[str], limit: int, *, prefix: str = "", separator: str = "; ") -> str:
    """`prefix` and as many of `parts` as fit whole in `limit` characters, then "(+N more)" for the rest.

    A first part too long to fit alone is cut at its end. Used wherever a list must fit a fixed size
    (CloudFormation's Reason, a DryRun's Plan) and the reader must know something was left out.

    >>> first_whole(["aaaa", "bbbb", "cccc"], 15)
    'aaaa (+2 more)'
    """
    shown: list[str] = []
    for index, part in enumerate(parts):
        more = len(parts) - index - 1
        tail = f" (+{more} more)" if more else ""
        if len(prefix + separator.join([*shown, part])) + len(tail) <= limit:
            shown.append(part)
            continue
        left = len(parts) - len(shown)
        if shown:
            return prefix + separator.join(shown) + f" (+{left} more)"
        tail = f" (+{left - 1} more)" if left > 1 else ""
        return shorten(prefix + part, limit - len(tail)) + tail
    return prefix + separator.join(shown)


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
    """An organization trail seen from a member account: only the management account may change it."""

    code = "NotChangeableHere"


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
