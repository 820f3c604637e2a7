"""Clients that remember every AWS call they make: the tests' and the benchmarks' call counter."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import boto3

from trailkeeper.aws.calls import Clients


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str
    params: dict[str, Any]
    at: float = 0.0  # the recording clock's time when the call was made


class RecordingClients(Clients):
    """Clients that remember every AWS call they make (service, operation, region, parameters)."""

    def __init__(self, clock: Any = time.monotonic, session: boto3.session.Session | None = None) -> None:
        super().__init__(session=session or boto3.session.Session())
        self.clock = clock
        self.calls: list[Call] = []
        self.stubbed: dict[tuple[str, str], Any] = {}
        self._hooked: weakref.WeakSet[Any] = weakref.WeakSet()
        self._hooking = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        if (service, region) in self.stubbed:
            return self.stubbed[(service, region)]
        made = super().client(service, region)
        # Threads may ask for a new client at once (a client rebuilt after `forget` is new): hooked once, or
        # each call would count twice, and before any thread gets it, or a call made meanwhile would count none.
        with self._hooking:
            if made not in self._hooked:
                self.hook(made, service, region)
                self._hooked.add(made)
        return made

    def hook(self, made: Any, service: str, region: str) -> None:
        """Register the events a new client needs (subclasses add theirs); once per client."""
        made.meta.events.register("provide-client-params", self._recorder(service, region))

    def _recorder(self, service: str, region: str) -> Any:
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append(Call(service, model.name, region, dict(params), self.clock()))

        return record

    def stub(self, service: str, region: str) -> Any:
        """A real client for `service` in `region` whose answers a botocore Stubber will script."""
        from botocore.stub import Stubber

        made = Clients.client(self, service, region)
        made.meta.events.register("provide-client-params", self._recorder(service, region))
        self.stubbed[(service, region)] = made
        stubber = Stubber(made)
        stubber.activate()
        return stubber

    def named(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def reads(self) -> int:
        return sum(1 for c in self.calls if c.operation.startswith(READ_PREFIXES))

    def writes(self) -> int:
        return len(self.calls) - self.reads()


READ_PREFIXES = ("Describe", "Get", "List")
