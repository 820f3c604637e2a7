"""Answer CloudFormation: build the response body and PUT it to the presigned ResponseURL.

crhelper's sender counts any HTTP status as delivered and retries connection errors forever; this one
retries a failed PUT (connection error or non-2xx) a bounded number of times with backoff and reports
whether it got through. The ResponseURL is a secret (anyone holding it can answer for the stack): it
is used exactly as given and never logged.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from trailkeeper.aws.calls import Deadline
from trailkeeper.errors import shorten

log = logging.getLogger(__name__)

BODY_LIMIT = 4096
ID_LIMIT = 1024
SUCCESS, FAILED = "SUCCESS", "FAILED"


def body(
    event: Mapping[str, Any],
    *,
    status: str,
    physical_id: str,
    reason: str = "",
    data: Mapping[str, str] | None = None,
    fitted: Mapping[str, Callable[[int], str]] | None = None,
    keep: Collection[str] = (),
) -> dict[str, Any]:
    """The response document; within CloudFormation's limits whatever the inputs.

    CloudFormation bounds the encoded answer (4,096 bytes), and a non-ASCII character is six bytes in it
    (a JSON escape), twelve beyond the Basic Multilingual Plane. `fitted` values are made to fit what
    is left once everything else is in: each is called with the bytes it may take (a DryRun's Plan
    keeps as many whole parts as fit, then "(+N more)"). If the answer is still too big, Data values
    are dropped, last first, those in `keep` (TrailArn, which `!GetAtt` needs) never while they fit.
    """
    document: dict[str, Any] = {
        "Status": status,
        "Reason": shorten(reason),  # to errors.REASON_LIMIT
        "PhysicalResourceId": physical_id[:ID_LIMIT] or "trailkeeper-unknown",
        "StackId": str(event.get("StackId", "")),
        "RequestId": str(event.get("RequestId", "")),
        "LogicalResourceId": str(event.get("LogicalResourceId", "")),
        "NoEcho": False,
        "Data": dict(data or {}),
    }
    if status == FAILED and not document["Reason"]:
        document["Reason"] = "FAILED without a reason"
    values: dict[str, str] = document["Data"]
    for key, fit in (fitted or {}).items():
        values[key] = ""
        values[key] = fit(max(0, BODY_LIMIT - len(encode(document))))
    for key in [*(k for k in reversed(values) if k not in keep), *(k for k in reversed(values) if k in keep)]:
        if len(encode(document)) <= BODY_LIMIT:
            break
        del values[key]  # only Data can be this big: drop a value, keep the answer
    return document


def encoded_size(text: str) -> int:
    """The bytes `text` takes inside the encoded answer (a JSON string: escapes count, the quotes do not).

    >>> encoded_size("abc"), encoded_size("\u4e2d"), encoded_size("\U0001f600")
    (3, 6, 12)
    """
    return len(json.dumps(text)) - 2


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


class Sender:
    """PUTs a response to a presigned URL: `attempts` tries, backoff between them, bounded by a deadline."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        attempts: int = 4,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ssl_context = ssl_context  # None: the system's, made at the first PUT (it reads the CA store)
        self._attempts = attempts
        self._timeout = timeout
        self._sleep = sleep

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _put_once(self, url: str, payload: bytes, timeout: float) -> int:
        parts = urlsplit(url)
        # The path and query go on the wire exactly as CloudFormation wrote them (no re-encoding).
        target = url[url.index(parts.netloc) + len(parts.netloc) :] or "/"
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=self._context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        try:
            # An empty Content-Type, as the URL was signed with; http.client adds Content-Length itself.
            connection.request("PUT", target, body=payload, headers={"Content-Type": ""})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def send(self, url: str, document: Mapping[str, Any], deadline: Deadline | None = None) -> bool:
        """Deliver `document`; True once CloudFormation's endpoint answered 2xx."""
        payload = encode(document)
        for attempt in range(1, self._attempts + 1):
            timeout = self._timeout if deadline is None else max(0.5, min(self._timeout, deadline.remaining()))
            try:
                status = self._put_once(url, payload, timeout)
                if 200 <= status < 300:
                    log.info("response delivered", extra={"status": document.get("Status"), "http_status": status})
                    return True
                failure = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as error:
                failure = type(error).__name__
            delay = 0.5 * 2 ** (attempt - 1)
            if attempt == self._attempts or (deadline is not None and deadline.remaining() < delay + 0.5):
                log.error("response not delivered", extra={"attempts": attempt, "last_error": failure})
                return False
            log.warning("response PUT failed; retrying", extra={"attempt": attempt, "error": failure})
            self._sleep(delay)
        return False
