"""Keep secrets out of every log line: the presigned ResponseURL and AWS credentials.

Levels alone are not enough (crhelper logs the whole event at DEBUG; botocore logs signed headers),
so two things happen: the chatty libraries are held at WARNING whatever LOG_LEVEL says, and a filter
on every log handler masks presigned URLs, the current event's ResponseURL and the credentials in the
environment, in the message and in every extra field.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "<redacted>"
QUIET = ("crhelper", "botocore", "boto3", "urllib3", "s3transfer")
CREDENTIAL_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

# Each shape of secret: a text it cannot match without (looked for first, in the lower-cased text: most log
# lines hold none, and `in` costs far less than a regular expression's scan), the pattern, and what replaces it.
# `re` compiles a pattern when a line first holds its text and keeps it: the three cost a third of a millisecond
# that a cold start whose lines hold none of them never pays.
_PATTERNS = (
    # Any URL carrying a signature or credential in its query string (a presigned URL).
    (
        "://",
        r"https?://[^\s\"'<>]*?[?&](?:X-Amz-Signature|X-Amz-Credential|Signature|AWSAccessKeyId)=[^\s\"'<>]*",
        MASK,
    ),
    ("x-amz-security-token", r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", rf"\1{MASK}"),
    ("aws_secret_access_key", r"(?i)(aws_secret_access_key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", rf"\1{MASK}"),
)
STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class Redactor(logging.Filter):
    """Masks secrets in log records; never drops a record."""

    def __init__(self) -> None:
        super().__init__("")
        self._secrets: set[str] = set()  # the credentials: few, and the same for the process
        self._request: set[str] = set()  # this request's ResponseURL: replaced, not accumulated

    def remember(self, secrets: Iterable[str]) -> None:
        # A new set, never one changed in place: another thread may be going through the old one.
        new = {s for s in secrets if s and len(s) >= 8} - self._secrets
        if new:
            self._secrets = self._secrets | new

    def for_request(self, secrets: Iterable[str]) -> None:
        """Exact values to mask for the current request only (earlier requests' URLs are forgotten)."""
        self._request = {s for s in secrets if s and len(s) >= 8}

    def redact(self, text: str) -> str:
        for secrets in (self._secrets, self._request):
            for secret in secrets:
                if secret in text:
                    text = text.replace(secret, MASK)
        lowered = text.lower()
        for needle, pattern, replacement in _PATTERNS:
            if needle in lowered:
                text = re.sub(pattern, replacement, text)
        return text

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping | list | tuple):
            shown = repr(value)
            cleaned = self.redact(shown)
            return value if cleaned == shown else cleaned
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key not in STANDARD_FIELDS:
                setattr(record, key, self._clean(value))
        if record.exc_info:
            self._clean_exception(record)
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _clean_exception(self, record: logging.LogRecord) -> None:
        """Replace the exception with its masked text: formatters would render `exc_info` themselves.

        Powertools' formatter ignores `exc_text` and formats `exc_info` (its `stack_trace` even
        serialises the exception object), so the live exception must not reach any formatter. What is
        left is the masked traceback: in `exc_text` for standard formatters, and in the `exception` /
        `exception_name` fields that Powertools takes before its own.
        """
        exc_type, _, _ = record.exc_info or (None, None, None)
        text = self.redact(logging.Formatter().formatException(record.exc_info))  # type: ignore[arg-type]
        record.exc_info, record.exc_text = None, text
        record.exception = text
        record.exception_name = getattr(exc_type, "__name__", "Exception")


REDACTOR = Redactor()


_QUIET_LOGGERS = tuple(logging.getLogger(name) for name in QUIET)


def _all_handlers() -> list[logging.Handler]:
    """Every live handler, attached to a logger or not. CPython's logging keeps a weak reference to each
    handler it creates (`_handlerList`): reading those few is cheaper than walking every logger (botocore
    alone makes dozens), which a warm event would pay each time."""
    references = getattr(logging, "_handlerList", None)
    if references is None:  # another logging implementation: every logger's handlers
        loggers = [logging.getLogger()] + [
            logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
        ]
        return [handler for logger in loggers for handler in logger.handlers]
    live = (reference() for reference in list(references))
    return [handler for handler in live if isinstance(handler, logging.Handler)]


def protect(event: object = None) -> Redactor:
    """Arm redaction for this invocation: remember its ResponseURL and the credentials, cover every handler.

    Cheap enough to run on every invocation, which also covers handlers added after start-up.
    """
    REDACTOR.remember(os.environ.get(name, "") for name in CREDENTIAL_VARIABLES)
    url = event.get("ResponseURL") if isinstance(event, Mapping) else None
    REDACTOR.for_request([url] if isinstance(url, str) else [])
    for library in _QUIET_LOGGERS:
        if library.level < logging.WARNING:  # setLevel clears every logger's cache: only when needed
            library.setLevel(logging.WARNING)
    for handler in _all_handlers():
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)
    return REDACTOR
