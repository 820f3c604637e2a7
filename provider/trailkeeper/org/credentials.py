"""Credentials for each account of a run: one STS AssumeRole per account, cached, refreshed before expiry.

AssumeRole goes to STS's regional endpoint (botocore's default; each region has its own throttle, and
tokens from the global endpoint fail in opt-in regions) through `calls.call`, so throttling is retried
like every other call. The credentials are botocore `RefreshableCredentials`: an apply that outlives
them (paced writes across many regions) assumes the role again a few minutes before they expire,
instead of failing half-way. Each account's session shares the process's model loader, so a thousand
accounts do not parse the CloudTrail model a thousand times.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials

from trailkeeper import botocore_model as model
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.aws.error_table import Caller
from trailkeeper.errors import AwsCallFailed, TrailkeeperError
from trailkeeper.org.accounts import Account

PERMISSIONS = ("sts:AssumeRole",)
SESSION_NAME = "trailkeeper"
# One hour: the most a chained role session may last (the caller is often a role itself).
DURATION_SECONDS = 3600


class _Assumed(CredentialProvider):  # type: ignore[misc]
    """Hands botocore the credentials we assumed, so clients refresh them through `refresh_using`."""

    METHOD = "trailkeeper-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


@functools.cache
def _builtin_handlers() -> Any:
    """botocore's built-in event handlers, registered once: a session registering its own costs 4.7 ms (each
    handler's signature inspected), a thousand accounts 4.7 s; a copy of these costs 0.4 ms."""
    return botocore.session.Session()._original_handler


def _bare_session() -> Any:
    """A botocore session with the built-in handlers, as botocore.session.Session() makes one, for less."""
    try:
        handlers = copy.copy(_builtin_handlers())
    except AttributeError:  # a botocore that keeps them elsewhere: register them, as it would
        return botocore.session.Session()
    return botocore.session.Session(event_hooks=handlers, include_builtin_handlers=False)


class AccountSessions:
    """`session(account)`: a boto3 session acting in `account`; the role is assumed on first use only."""

    def __init__(
        self,
        clients: Clients,
        region: str,
        deadline: Deadline,
        *,
        duration_seconds: int = DURATION_SECONDS,
        caller: Caller = "function",
    ) -> None:
        self._clients = clients  # the caller's: AssumeRole is made with the caller's credentials
        self._caller = caller  # who they are (a person at the CLI, the reconcile function): the remedy says
        self._region = region
        self._deadline = deadline
        self._duration = duration_seconds
        self._sessions: dict[str, boto3.session.Session] = {}
        self._lock = threading.Lock()
        self.assumed = 0  # AssumeRole calls made (first assumptions and refreshes)

    def _fetch(self, account: Account) -> dict[str, str]:
        assert account.role_arn is not None
        arn = account.role_arn
        extra = {"ExternalId": account.external_id} if account.external_id else {}
        try:
            answer = call(
                "AssumeRole",
                lambda: self._clients.client("sts", self._region).assume_role(
                    RoleArn=arn, RoleSessionName=SESSION_NAME, DurationSeconds=self._duration, **extra
                ),
                deadline=self._deadline,
                facts={"caller": self._caller},
            )
        except AwsCallFailed as error:
            # The account and the role first: with a thousand accounts, which one is what a person needs.
            # The role's ARN names the account already named (the inventory holds it to that account).
            role = arn.split(":role/", 1)[-1]
            raise AwsCallFailed(
                error.aws_code, "AssumeRole", f"{account.label}: cannot assume role {role}: {error.message}"
            ) from error
        with self._lock:
            self.assumed += 1
        issued = answer["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    def session(self, account: Account) -> boto3.session.Session:
        """A session with `account`'s role; AwsCallFailed naming the account and the role if it cannot."""
        if account.role_arn is None:
            raise ValueError(f"{account.label} runs with the caller's credentials; it has no role to assume")
        with self._lock:
            known = self._sessions.get(account.id)
        if known is not None:
            return known
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=self._fetch(account), refresh_using=lambda: self._fetch(account), method=_Assumed.METHOD
        )
        core = _bare_session()
        core.register_component("data_loader", model.botocore_session().get_component("data_loader"))
        core.register_component("credential_provider", CredentialResolver([_Assumed(credentials)]))
        made = boto3.session.Session(botocore_session=core)
        with self._lock:
            self._sessions[account.id] = made
        return made

    def forget(self, account: Account) -> None:
        """Drop an account's session once its run is over (a large organization's memory stays flat)."""
        with self._lock:
            self._sessions.pop(account.id, None)


def connect_ahead(
    selected: Sequence[Account],
    pool: Executor,
    *,
    clients: Clients,
    region: str,
    deadline: Deadline,
    make_clients: Callable[[Any], Clients] = Clients,
    caller: Caller = "cli",
) -> list[Future[Clients | TrailkeeperError]]:
    """Each account's clients (its role assumed; the caller's own account with the caller's clients), or why its
    role could not be assumed, in the order given, assumed on `pool` from now on: the caller reads the first
    accounts while the last roles are being assumed, rather than waiting for every role before any read."""
    sessions = AccountSessions(clients, region, deadline, caller=caller)

    def connect(account: Account) -> Clients | TrailkeeperError:
        try:
            return clients if account.role_arn is None else make_clients(sessions.session(account))
        except TrailkeeperError as error:
            return error

    return [pool.submit(connect, account) for account in selected]
