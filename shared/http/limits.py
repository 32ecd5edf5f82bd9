"""Request body limits: 413 for bodies over the limit, announced or streamed."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.errors import problem

MAX_BODY_BYTES = 2_000_000


class BodySizeLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed chunked.

    The body is read (at most the limit) before the app runs, then handed to it unchanged.
    `larger` gives path prefixes a limit of their own (bulk uploads, FHIR Bundles).
    """

    def __init__(self, app: ASGIApp, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next(
            (n for prefix, n in self.larger.items() if scope["path"].startswith(prefix)),
            MAX_BODY_BYTES,
        )
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                await _too_large(limit)(scope, receive, send)
                return
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], then=receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()  # e.g. http.disconnect while the response streams
        return {"type": "http.disconnect"}

    return receive


def _too_large(limit: int) -> JSONResponse:
    return problem(413, "Request body too large", f"limit is {limit} bytes")
