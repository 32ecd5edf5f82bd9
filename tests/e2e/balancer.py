"""What a Kubernetes Service does in front of a Deployment's pods, for the tests' HTTP clients:
requests to a service's first port go to each of its instances in turn, and a refused
connection (a killed instance) is tried on the next one."""

from __future__ import annotations

import itertools
import threading
from collections import Counter

import httpx


class Balancer(httpx.BaseTransport):
    """`instances`: a service's first port -> the ports of all its instances."""

    def __init__(self, instances: dict[int, list[int]]) -> None:
        self.instances = instances
        self.served: Counter[int] = Counter()  # instance port -> requests it answered
        self._inner = httpx.HTTPTransport()
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ports = self.instances.get(request.url.port or 80)
        if not ports:
            return self._inner.handle_request(request)
        first = next(self._turn)
        for attempt in range(len(ports)):
            port = ports[(first + attempt) % len(ports)]
            request.url = request.url.copy_with(port=port)
            try:
                response = self._inner.handle_request(request)
            except httpx.ConnectError:  # nothing sent: safe to try the next instance
                if attempt == len(ports) - 1:
                    raise
                continue
            with self._lock:
                self.served[port] += 1
            return response
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()
