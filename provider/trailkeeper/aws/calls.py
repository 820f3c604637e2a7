"""The AWS edge: clients per region, a deadline, and one retry policy for every call we make.

botocore's own retries are off (one attempt per call) so that this module alone decides how long we
keep trying: throttling and transient faults are retried with jittered exponential backoff, but never
past the deadline, which leaves time to answer CloudFormation before the function is stopped.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from trailkeeper import __version__
from trailkeeper import botocore_model as model
from trailkeeper.aws.error_table import explain
from trailkeeper.errors import AwsCallFailed, OutOfTime

log = logging.getLogger(__name__)
T = TypeVar("T")
_sleep = time.sleep  # looked up at call time, so tests can replace it

# Seconds kept back from the function's time limit to deliver the answer (CloudFormation's or a
# pipeline's) after the AWS work stops.
ANSWER_RESERVE_SECONDS = 5.0

# The services the code builds clients for; the deployment package keeps only these botocore models.
SERVICES = ("cloudtrail", "kms", "sts", "ssm", "sns", "organizations", "s3", "cloudformation", "ec2", "logs", "iam")

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    retries={"total_max_attempts": 1},
    user_agent_extra=f"trailkeeper/{__version__}",
)


def function_region(fallback: str = "") -> str:
    """The region this code runs in, as Lambda (AWS_REGION) or the SDK (AWS_DEFAULT_REGION) says."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or fallback


class Deadline:
    """Time left for AWS work. `stop()` ends it early (CloudFormation has been answered already)."""

    def __init__(self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = math.inf if seconds is None else clock() + seconds
        self._stopped = False

    def remaining(self) -> float:
        return 0.0 if self._stopped else max(0.0, self._end - self._clock())

    def stop(self) -> None:
        self._stopped = True

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@functools.cache
def _default_session() -> boto3.session.Session:
    """The one boto3 session over the process's botocore session. boto3 registers its handlers on the botocore
    session each time a boto3 session wraps it: after a second wrap, building an S3 client fails ("Cannot
    inject class attribute upload_file")."""
    return boto3.session.Session(botocore_session=model.botocore_session())


_DEFAULT_LOCK = threading.Lock()  # building clients from one session is not thread-safe


class Clients:
    """Builds (once) and hands out one client per service and region, sharing one botocore session."""

    def __init__(self, session: boto3.session.Session | None = None, config: Config = CLIENT_CONFIG) -> None:
        self._session = session or _default_session()
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        # Clients of the process's session share its lock; a session of their own (an account's) has its own.
        self._lock = _DEFAULT_LOCK if session is None else threading.Lock()

    def client(self, service: str, region: str) -> Any:
        if service not in SERVICES:
            raise ValueError(
                f"{service} is not in trailkeeper.aws.calls.SERVICES (the package ships only those models)"
            )
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(service, region_name=region, config=self._config)
            return self._clients[key]

    def forget(self) -> None:
        """Drop the clients built so far (the next call builds its client again): a run over a thousand
        accounts keeps only the clients of the accounts it is reading, about 0.2 MB each."""
        with self._lock:
            self._clients.clear()

    def cloudtrail(self, region: str) -> Any:
        return self.client("cloudtrail", region)

    def kms(self, region: str) -> Any:
        return self.client("kms", region)


@functools.cache
def shared_clients() -> Clients:
    """The process's clients: the custom resource and the drift path share them in a warm environment."""
    return Clients()


def backoff(attempt: int, rand: Callable[[], float] = random.random, base: float = 1.0, cap: float = 8.0) -> float:
    """Seconds to wait before retry `attempt` (1, 2, ...): half fixed, half jitter, doubling to `cap`.

    The floor is half a second because CloudTrail's write limit is about one call per second.
    """
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return float(ceiling / 2 + rand() * ceiling / 2)


# IAM's propagation delay: a role or policy created seconds ago is not yet visible to CloudTrail, which then
# refuses the log group or role with "Access denied." for a minute or so (aws-facts.md; Terraform's provider
# retries exactly these for two minutes). Retried within the deadline and this window, and only while the
# answer stays this one.
PROPAGATION_CODES = frozenset({"InvalidCloudWatchLogsRoleArnException", "InvalidCloudWatchLogsLogGroupArnException"})
PROPAGATION_MESSAGE = "Access denied."
PROPAGATION_SECONDS = 120.0


def propagating(error: ClientError) -> bool:
    """Whether `error` is CloudTrail not yet seeing a role or policy IAM has just made."""
    found = error.response.get("Error", {})
    return found.get("Code", "") in PROPAGATION_CODES and PROPAGATION_MESSAGE in str(found.get("Message", ""))


def _retryable(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error.response.get("Error", {}).get("Code", "") in RETRYABLE_CODES or status >= 500


def call(
    operation: str,
    send: Callable[[], T],
    *,
    deadline: Deadline,
    facts: Mapping[str, str] | None = None,
    attempts: int = 5,
    sleep: Callable[[float], None] | None = None,
    rand: Callable[[], float] = random.random,
    propagation: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run one AWS call with our retry policy; a final failure becomes AwsCallFailed with a fix in it.

    With `propagation` (UpdateTrail naming a log group and role), CloudTrail's "Access denied." for a role or
    group IAM has not propagated yet is retried too, for `PROPAGATION_SECONDS` at most and while the answer
    stays that one; those retries do not count against `attempts`.
    """
    attempt, started = 0, clock()
    while True:
        attempt += 1
        if deadline.expired:
            raise OutOfTime(f"no time left to call {operation}; raise the function's timeout and retry")
        try:
            return send()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            message = error.response.get("Error", {}).get("Message", "")
            waiting = propagation and propagating(error) and clock() - started < PROPAGATION_SECONDS
            if waiting:
                attempt -= 1  # not a failure of the call: IAM has not caught up yet
                failure = f"{code} (waiting for IAM to propagate the role or policy)"
            elif not _retryable(error) or attempt >= attempts:
                raise AwsCallFailed(code, operation, explain(code, operation, message, facts)) from error
            else:
                failure = code
        except (ConnectionError, HTTPClientError) as error:
            if attempt >= attempts:
                raise AwsCallFailed(
                    type(error).__name__, operation, f"could not reach AWS for {operation}: {error}"
                ) from error
            failure = type(error).__name__
        except BotoCoreError as error:  # parameter validation and the like: retrying will not help
            raise AwsCallFailed(type(error).__name__, operation, str(error)) from error
        delay = backoff(max(attempt, 1), rand)
        if delay >= deadline.remaining():
            raise OutOfTime(f"{operation} still failing ({failure}) and no time left to retry")
        log.warning("retrying AWS call", extra={"operation": operation, "error": failure, "delay": round(delay, 2)})
        (sleep or _sleep)(delay)
