"""A local HTTPS server that receives custom resource responses, as CloudFormation's presigned URL does."""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: dict[str, Any]


class ResponseServer:
    """Collects PUTs; answers each with the next status from `statuses` (then 200).

    `while_answering`, when set, runs after a PUT is received and before it is answered: a slow
    endpoint, with the test deciding what happens meanwhile (no sleeps).
    """

    def __init__(self) -> None:
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(server_context)
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.while_answering: Callable[[], None] | None = None
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with owner._lock:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    owner.received.append(Received("PUT", self.path, headers, json.loads(raw or b"{}")))
                    status = owner.statuses.pop(0) if owner.statuses else 200
                if owner.while_answering is not None:
                    owner.while_answering()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = server_context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._ca_dir = tempfile.TemporaryDirectory()
        self.ca_file = Path(self._ca_dir.name) / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def url(self) -> str:
        """A fresh response URL shaped like CloudFormation's presigned S3 URL (signature included)."""
        signature = uuid.uuid4().hex + uuid.uuid4().hex
        return (
            f"https://localhost:{self.port}/cfn-response/{uuid.uuid4()}%7CAuditTrailSettings"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200"
            f"&X-Amz-Credential=AKIAEXAMPLE%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature={signature}"
        )

    def for_url(self, url: str) -> list[Received]:
        target = url.split(f":{self.port}", 1)[1]
        return [r for r in self.received if r.path == target]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._ca_dir.cleanup()
