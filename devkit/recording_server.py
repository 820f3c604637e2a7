"""moto's server, counting every AWS request it answers: the call counter for tools that run in another
process (Cloud Custodian, the trailkeeper CLI), where a client-side recorder cannot reach.

Each request is seen as it arrives: its time, the account its credentials act in, the region and
service of its signature, and its operation (JSON protocols name it in `X-Amz-Target`, query
protocols in the `Action` field of the form). A fixed latency can be added to every AWS request, as a
far endpoint would (moto's own API, `/moto-api/`, is neither counted nor slowed).

    with RecordingMotoServer(latency=0.05) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        ...
        server.requests       # every request since start or the last `forget()`
"""

from __future__ import annotations

import io
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from moto.iam.models import get_account_id_from
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

READ_PREFIXES = ("Describe", "Get", "List", "Lookup")
# SigV4's credential scope: Credential=<access key>/<date>/<region>/<service>/aws4_request
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
# Smithy RPC v2 (CBOR) names the operation in the path: /service/<Service>/operation/<Operation>
_RPC_V2_PATH = re.compile(r"/service/[^/]+/operation/(?P<operation>[^/]+)$")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Application = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Request:
    """One AWS request as the server saw it."""

    at: float  # time.monotonic() when it arrived
    account: str
    region: str
    service: str
    operation: str

    @property
    def is_write(self) -> bool:
        return not self.operation.startswith(READ_PREFIXES)


def _operation(environ: Environ, body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return str(target).rsplit(".", 1)[-1]
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    action = form.get("Action") or query.get("Action")
    if action:
        return action[0]
    rpc = _RPC_V2_PATH.search(environ.get("PATH_INFO", ""))
    if rpc:
        return rpc["operation"]
    return f"{environ.get('REQUEST_METHOD', '?')} {environ.get('PATH_INFO', '/')}"  # REST (S3 and the like)


class RecordingMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer on 127.0.0.1 (a free port), recording every AWS request; a context manager."""

    def __init__(self, latency: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.latency = latency
        self._clock = clock
        self._lock = threading.Lock()
        self.requests: list[Request] = []

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def forget(self) -> None:
        """Start counting afresh (e.g. after seeding the world)."""
        with self._lock:
            self.requests = []

    def operations(self) -> Counter[str]:
        return Counter(r.operation for r in self.requests)

    def _record(self, app: Application) -> Application:
        def recorded(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            if scope is None or environ.get("PATH_INFO", "").startswith("/moto-api"):
                return app(environ, start_response)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
            request = Request(
                self._clock(),
                get_account_id_from(scope["key"]),
                scope["region"],
                scope["service"],
                _operation(environ, body),
            )
            with self._lock:
                self.requests.append(request)
            if self.latency:
                time.sleep(self.latency)
            return app(environ, start_response)

        return recorded

    def _server_entry(self) -> None:
        # ThreadedMotoServer's own body, with the application wrapped (it builds the app inside the thread).
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, self._record(app), True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    def reset(self) -> None:
        """moto's reset (every backend emptied), then counting afresh."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).read()
        self.forget()

    def __enter__(self) -> RecordingMotoServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def write_gaps(requests: Iterable[Request]) -> list[float]:
    """The time between each two consecutive writes to one account and region, in order of arrival."""
    last: dict[tuple[str, str], float] = {}
    gaps: list[float] = []
    for request in sorted((r for r in requests if r.is_write), key=lambda r: r.at):
        where = (request.account, request.region)
        if where in last:
            gaps.append(request.at - last[where])
        last[where] = request.at
    return gaps


def smallest_write_gap(requests: Iterable[Request]) -> float | None:
    """The shortest time between two consecutive writes to one account and region (None: no two writes)."""
    return min(write_gaps(requests), default=None)
