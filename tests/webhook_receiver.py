"""A hospital's webhook endpoint for tests: a real HTTP server that records every delivery and
answers 500 to the attempts a test wants to fail."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


@dataclass
class Receiver:
    url: str
    # (delivery body, attempt number) → True to answer 500
    fail: Callable[[dict[str, Any], int], bool] = lambda _body, _attempt: False
    calls: list[Received] = field(default_factory=list)

    def delivered(self) -> list[Received]:
        return [c for c in self.calls if c.status == 200]


def serve() -> Iterator[Receiver]:
    """Run the receiver on a free port for as long as the generator is open."""
    receiver = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            attempt = int(self.headers.get("Chartflow-Delivery-Attempt", "1"))
            status = 500 if receiver.fail(json.loads(body), attempt) else 200
            with lock:
                receiver.calls.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/chartflow-hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
