"""How the CLI's log lines read: each names what it is about, and none carries a secret.

The modules log as the Lambda does (`log.warning("trail not exported", extra={"trail": ARN, ...})`): the
Lambda's JSON lines keep every `extra` field, but a person's terminal showed `trailkeeper: WARNING trail
not exported` with neither the trail nor why. Here the fields follow the message:

    trailkeeper: WARNING trail not exported (trail: arn:aws:cloudtrail:...:trail/audit, reason: AccessDenied...)

The same redaction as the Lambda's (`redaction.REDACTOR`) masks credentials and presigned URLs in the
message and in every field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

from trailkeeper.errors import shorten
from trailkeeper.redaction import REDACTOR, STANDARD_FIELDS

FIELD_SHOWN = 400  # characters of one field (a reason can name every trail's shortfall)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        text = ", ".join(f"{k}={v}" for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return shorten(text, FIELD_SHOWN)


class LineFormatter(logging.Formatter):
    """`trailkeeper: LEVEL message (field: value, ...)`, the fields a record carries beyond logging's own.

    >>> record = logging.makeLogRecord({"msg": "trail not exported", "levelname": "WARNING", "trail": "arn:t"})
    >>> LineFormatter().format(record)
    'trailkeeper: WARNING trail not exported (trail: arn:t)'
    """

    def format(self, record: logging.LogRecord) -> str:
        line = f"trailkeeper: {record.levelname} {record.getMessage()}"
        facts = [(key, value) for key, value in vars(record).items() if key not in STANDARD_FIELDS]
        facts = [(key, value) for key, value in facts if value not in (None, "", [], {}) and not key.startswith("_")]
        if facts:
            line += " (" + ", ".join(f"{key}: {_shown(value)}" for key, value in facts) + ")"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


@contextmanager
def to(stream: TextIO, level: int = logging.WARNING) -> Iterator[None]:
    """Log lines (WARNING and above) to `stream` while the command runs, as people read them; then stop."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(level)
    handler.setFormatter(LineFormatter())
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
