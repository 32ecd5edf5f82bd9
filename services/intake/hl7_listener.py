"""The HL7 v2 listener: MLLP over asyncio TCP (<VT> message <FS><CR>), one ACK per message.

Messages of one connection are handled in order. When the database fails, the connection is
closed without an ACK, so the sender's interface engine sends the message again.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.exc import IntegrityError

from services.intake.hl7_intake import receive_message
from shared.service import Runtime

log = structlog.get_logger()
START, END = b"\x0b", b"\x1c\r"
MAX_MESSAGE_BYTES = 10_000_000


def frame(message: str) -> bytes:
    return START + message.encode() + END


def unframe(block: bytes) -> str:
    payload = block[block.find(START) + 1 :] if START in block else block
    payload = payload.removesuffix(END)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")  # HL7 v2's default character set


class MllpListener:
    def __init__(self, rt: Runtime, host: str, port: int) -> None:
        self.rt, self.host, self.port = rt, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=MAX_MESSAGE_BYTES
        )
        log.info("hl7.listening", port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    block = await reader.readuntil(END)
                except asyncio.IncompleteReadError:
                    return  # the sender closed the connection
                except asyncio.LimitOverrunError:
                    log.warning("hl7.message_too_large", limit=MAX_MESSAGE_BYTES)
                    return
                answer = await self._answer(unframe(block))
                if answer is None:
                    return
                writer.write(frame(answer))
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, message: str) -> str | None:
        settings = self.rt.settings
        for attempt in (1, 2):
            try:
                return await self.rt.db.run(lambda s: receive_message(s, settings, message))
            except IntegrityError:
                if attempt == 2:
                    break  # Another connection stored the same visit or message first.
            except Exception as exc:
                log.error("hl7.failed", error=type(exc).__name__)
                break
        return None
