"""Free local ports for processes tests start."""

from __future__ import annotations

import socket


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on now: each is held until all are known, so a
    port is never handed out twice (two services on one port: the second one's health check
    would be answered by the first)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
