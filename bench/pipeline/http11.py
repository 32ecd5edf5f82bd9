"""A minimal HTTP/1.1 keep-alive client for the load generator.

httpx's AsyncClient spends about 2 ms of CPU per request on this machine, some 30 times what
this does: on 2 cores the generator would be the bottleneck (and steal the servers' CPU).
Enough HTTP for our own servers: one request per connection at a time, Content-Length or
chunked answers, `Connection: close` honoured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class HttpError(ConnectionError):
    """The server closed the connection or answered something that is not HTTP/1.1."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# Servers close idle connections (uvicorn after 5 s); one idle longer than this is not reused,
# so a POST never goes out on a connection the server may be closing.
MAX_IDLE = 2.0


class Http11Pool:
    """At most ``size`` requests in flight to one server, over reused connections."""

    def __init__(self, base_url: str, size: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"need an http:// URL, got {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self._gate = asyncio.Semaphore(size)
        self._idle: list[tuple[float, _Connection]] = []  # (when it was last used, connection)

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Answer:
        async with self._gate:
            reader, writer = await self._connection()
            try:
                answer, keep = await self._exchange(reader, writer, path, body, headers or {})
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((time.monotonic(), (reader, writer)))
            else:
                writer.close()
            return answer

    async def _connection(self) -> _Connection:
        while self._idle:
            since, connection = self._idle.pop()
            if time.monotonic() - since < MAX_IDLE:
                return connection
            connection[1].close()
        return await asyncio.open_connection(self.host, self.port)

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[Answer, bool]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status_line = await reader.readline()
        parts = status_line.split()
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP answer: {status_line[:80]!r}")
        fields: dict[bytes, bytes] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            content = await _chunks(reader)
        else:
            content = await reader.readexactly(int(fields.get(b"content-length", b"0")))
        keep = fields.get(b"connection", b"").lower() != b"close"
        return Answer(int(parts[1]), content), keep

    async def close(self) -> None:
        while self._idle:
            _, (_, writer) = self._idle.pop()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    content = b""
    while size := int((await reader.readline()).split(b";")[0], 16):
        content += await reader.readexactly(size)
        await reader.readline()
    await reader.readline()  # the empty line after the last chunk (no trailers expected)
    return content
