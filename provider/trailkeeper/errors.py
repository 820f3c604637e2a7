"""trailkeeper's own error codes: one exception class per code, each carrying a reason a person can act on.

The reason is what CloudFormation shows in its events (and what the CLI prints). It starts with the
code and stays under CloudFormation's useful length (`shorten`): crhelper would otherwise keep only the
*last* 240 characters of a longer one, dropping the part that says what went wrong.
"""

from __future__ import annotations

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


def show(value: object) -> str:
    """A declared value as it appears in a reason: quoted, and shortened if long."""
    return repr(shorten(value, VALUE_LIMIT)) if isinstance(value, str) else repr(value)


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
        # Every problem, each with its property and value first: a person fixing a template wants them
        # all at once. When they do not all fit, each gets an equal share, cut at its end.
        prefix = f"{self.code}: "
        text = prefix + "; ".join(self.problems)
        if len(text) <= REASON_LIMIT:
            return text
        shares = fair_shares([len(p) for p in self.problems], REASON_LIMIT - len(prefix) - 2 * len(self.problems))
        if min(shares) >= 40:
            return prefix + "; ".join(shorten(p, n) for p, n in zip(self.problems, shares, strict=True))
        return shorten(f"{prefix}{self.message}")


def fair_shares(lengths: Sequence[int], budget: int) -> list[int]:
    """Split `budget` characters among texts: short ones keep all they need, long ones share the rest.

    >>> fair_shares([10, 300, 300], 210)
    [10, 100, 100]
    """
    shares = [0] * len(lengths)
    left, remaining = len(lengths), budget
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        shares[index] = min(lengths[index], remaining // left)
        remaining -= shares[index]
        left -= 1
    return shares


class InvalidState(InvalidProperties):
    """A declared-state file breaks a rule; every problem names the file, the trail and the property."""

    code = "InvalidState"


class WeakensAudit(InvalidProperties):
    """The declared change would weaken audit and the declaration does not allow it; nothing was written."""

    code = "WeakensAudit"

    def __init__(self, problems: Sequence[str], how_to_allow: str) -> None:
        # How to allow it goes first: the reason keeps short items whole and cuts the long ones.
        super().__init__([how_to_allow, *problems])


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
    MalformedEvent,
    TrailNotFound,
    AmbiguousTrailName,
    NotChangeableHere,
    OutOfTime,
    AwsCallFailed,
)
