"""The payer simulator over HTTP: a payer (or clearinghouse) you can script per claim.

    PUT  /v1/scenarios             how it adjudicates (the same JSON as --config: default,
                                   claims, lines, reject, reject_sets, scenarios)
    GET  /v1/scenarios             the scenarios in force
    POST /v1/interchanges          an 837 (application/edi-x12): 200 with its 999, 277CA and
                                   835, or 202 with Retry-After while a delay scenario holds them
    GET  /v1/interchanges/{isa13}  the same answers (or 202 until they are due)

An interchange is answered once, when it first arrives, under the scenarios in force then;
the same ISA13 from the same sender posted again gets the same answers (a resend after a lost
reply bills nothing twice). Answers are kept in memory while the process runs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .adjudication import Adjudication
from .inbound import read_837
from .simulator import PayerResponses, PayerSimulator


class Answers(BaseModel):
    interchange: str
    ack_999: str
    ack_277ca: str | None
    remit_835: str | None


@dataclass
class _Held:
    answers: PayerResponses
    due: float  # monotonic time the answers may be given


class PayerDesk:
    """The payer's state: its scenarios and the interchanges it answered."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = config or {}
        self.adjudication = Adjudication.from_dict(self.config)
        self.answered: dict[tuple[str, str], _Held] = {}
        self.lock = threading.Lock()

    def script(self, config: dict[str, Any]) -> None:
        adjudication = Adjudication.from_dict(config)  # raises on a bad scenario
        with self.lock:
            self.config, self.adjudication = config, adjudication

    def receive(self, text: str, now: float) -> tuple[str, _Held]:
        inbound = read_837(text)
        isa13 = text[90:99] if text.startswith("ISA") else ""
        key = (inbound.sender_id, isa13)
        with self.lock:
            held = self.answered.get(key)
            if held is None:
                simulator = PayerSimulator(self.adjudication)
                answers = simulator.receive(text, datetime.now().replace(second=0, microsecond=0))
                delay = self.adjudication.delay(inbound.claims)
                held = self.answered[key] = _Held(answers, now + delay)
        return isa13, held

    def find(self, isa13: str) -> _Held | None:
        with self.lock:
            return next((h for (_, n), h in self.answered.items() if n == isa13), None)


def _answer(isa13: str, held: _Held, now: float) -> JSONResponse:
    wait = held.due - now
    if wait > 0:
        return JSONResponse(
            {"interchange": isa13, "answers_in_seconds": round(wait, 1)},
            status_code=202,
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    body = Answers(
        interchange=isa13,
        ack_999=held.answers.ack_999,
        ack_277ca=held.answers.ack_277ca,
        remit_835=held.answers.remit_835,
    )
    return JSONResponse(body.model_dump())


def create_app(desk: PayerDesk | None = None) -> FastAPI:
    app = FastAPI(title="Chartflow payer simulator", version="1")
    app.state.desk = desk = desk or PayerDesk()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/scenarios")
    def scenarios() -> dict[str, Any]:
        return desk.config

    @app.put("/v1/scenarios")
    def put_scenarios(config: dict[str, Any]) -> dict[str, Any]:
        try:
            desk.script(config)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise HTTPException(422, f"scenarios: {exc}") from exc
        return desk.config

    @app.post(
        "/v1/interchanges",
        openapi_extra={
            "requestBody": {"content": {"application/edi-x12": {"schema": {"type": "string"}}}}
        },
    )
    async def post_interchange(request: Request) -> JSONResponse:
        text = (await request.body()).decode("ascii", "replace")
        if not text.startswith("ISA") or len(text) < 106:
            raise HTTPException(400, "the body is not an X12 interchange (it starts with ISA)")
        try:  # pyx12's walk is CPU-bound: off the event loop
            isa13, held = await asyncio.to_thread(desk.receive, text, time.monotonic())
        except (ValueError, IndexError, ArithmeticError) as exc:
            raise HTTPException(
                400, f"the interchange cannot be read ({type(exc).__name__})"
            ) from None
        return _answer(isa13, held, time.monotonic())

    @app.get("/v1/interchanges/{isa13}")
    def get_interchange(isa13: str) -> JSONResponse:
        held = desk.find(isa13)
        if held is None:
            raise HTTPException(404, f"no interchange {isa13}")
        return _answer(isa13, held, time.monotonic())

    return app
