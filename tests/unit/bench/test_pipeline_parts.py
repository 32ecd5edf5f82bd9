"""The pipeline benchmark's own machinery: the merged 837 file and the lean HTTP client."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bench.pipeline import http11
from bench.pipeline.http11 import Http11Pool, HttpError
from bench.pipeline.x12_ceiling import one_interchange
from services.claims.corpus import load_examples
from services.claims.domain import InMemoryControlNumbers, build_837, validate_x12

WHEN = datetime(2026, 3, 23, 9, 0)


def test_claims_sent_one_by_one_validate_as_one_file() -> None:
    claims = [c for example in load_examples() for c in example.claims()]
    # Each claim its own interchange, numbered from 1 as the claims service numbers them.
    texts = [
        build_837([c], InMemoryControlNumbers(), "CHARTFLOW", "ACMEHLTH", WHEN) for c in claims
    ]
    merged = one_interchange(texts)
    segments = [s.strip() for s in merged.split("~") if s.strip()]
    tags = [s.split("*")[0] for s in segments]
    versions = {s.split("*")[8] for s in segments if s.startswith("GS*")}
    assert tags.count("ISA") == tags.count("IEA") == 1
    assert tags.count("GS") == len(versions) == 2  # 837P and 837I each in their own group
    assert tags.count("ST") == tags.count("SE") == len(claims)
    assert tags.count("CLM") == len(claims)
    st_numbers = [s.split("*")[2] for s in segments if s.startswith("ST*")]
    assert len(set(st_numbers)) == len(claims)
    ge_counts = [int(s.split("*")[1]) for s in segments if s.startswith("GE*")]
    assert sum(ge_counts) == len(claims)
    assert segments[-1] == f"IEA*2*{segments[0].split('*')[13]}"
    ok, errors = validate_x12(merged)
    assert ok, errors


async def _serve(answers: list[bytes]) -> tuple[asyncio.Server, list[bytes]]:
    """A server that reads one request per answer and writes the canned answers in turn;
    ``received`` gets each request, and b"connect" for each connection opened."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(b"connect")
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            received.append(head + await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), received


async def test_http11_reads_sized_and_chunked_answers_over_one_connection() -> None:
    server, received = await _serve(
        [
            b'HTTP/1.1 202 Accepted\r\ncontent-length: 9\r\n\r\n{"id": 1}',
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ]
    )
    port = server.sockets[0].getsockname()[1]
    pool = Http11Pool(f"http://127.0.0.1:{port}", 4)
    try:
        first = await pool.post("/v1/encounters", b'{"a": 1}', {"X-API-Key": "k"})
        second = await pool.post("/again", b"x")
    finally:
        await pool.close()
        server.close()
    assert (first.status, first.json()) == (202, {"id": 1})
    assert (second.status, second.body) == (200, b"abcde")
    connect, request, again = received
    assert connect == b"connect"  # one connection, kept alive for the second request
    assert request.startswith(b"POST /v1/encounters HTTP/1.1\r\n")
    assert b"X-API-Key: k\r\n" in request and request.endswith(b'\r\n\r\n{"a": 1}')
    assert again.startswith(b"POST /again ")


async def test_http11_does_not_reuse_a_connection_idle_too_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http11, "MAX_IDLE", 0.0)
    sized = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
    server, received = await _serve([sized, sized])
    port = server.sockets[0].getsockname()[1]
    pool = Http11Pool(f"http://127.0.0.1:{port}", 4)
    try:
        statuses = [(await pool.post("/", b"x")).status for _ in range(2)]
    finally:
        await pool.close()
        server.close()
    assert statuses == [202, 202]
    assert received.count(b"connect") == 2


async def test_http11_says_when_the_server_hangs_up() -> None:
    server, _ = await _serve([b""])  # reads the request, answers nothing, closes
    port = server.sockets[0].getsockname()[1]
    pool = Http11Pool(f"http://127.0.0.1:{port}", 1)
    try:
        with pytest.raises(HttpError):
            await pool.post("/", b"x")
    finally:
        server.close()
