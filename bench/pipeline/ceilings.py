"""The HTTP ceilings: the load generator against a trivial endpoint, and a bare insert."""

from __future__ import annotations

import contextlib
import json
import math
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bench.pipeline import load
from bench.pipeline.http11 import Http11Pool
from bench.pipeline.stats import Figures, request_figures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def bare_server(database_url: str, timeout: float = 60.0) -> Iterator[str]:
    """`bench.pipeline.bare` in a process of its own; yields its base URL."""
    port = _free_port()
    argv = [sys.executable, "-m", "bench.pipeline.bare", str(port), database_url]
    server = subprocess.Popen(argv)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ceilings' bare server did not start")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


@dataclass(frozen=True)
class HttpCeiling:
    figures: Figures
    client_cpu: float  # this process's CPU seconds per request: what the generator itself costs

    @property
    def client_limit(self) -> float:
        """Requests per second the generator could send with a whole core to itself."""
        return 1 / self.client_cpu if self.client_cpu > 0 else math.inf


async def post_ceiling(
    base_url: str, path: str, body: dict[str, Any], concurrency: int, duration: float
) -> HttpCeiling:
    """Back-to-back POSTs of ``body`` at ``concurrency`` for ``duration`` seconds."""
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    pool = Http11Pool(base_url, concurrency)

    async def send(i: int) -> int:
        return (await pool.post(path, content, headers)).status

    cpu = time.process_time()
    try:
        samples = await load.closed_loop(send, concurrency, duration=duration, warmup=1.0)
    finally:
        await pool.close()
    cpu = time.process_time() - cpu
    # The warm-up's requests cost CPU too: count every request sent, not only those kept.
    sent = max(s.index for s in samples) + 1 if samples else 0
    return HttpCeiling(request_figures(samples), cpu / sent if sent else math.nan)
