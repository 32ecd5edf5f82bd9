"""Which adapter talks to a configured payer: the payer simulator in process, or a payer over
HTTP (the HTTP payer simulator, `python -m services.claims.payer_sim serve`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from services.claims.batching import PayerSnapshot
from services.claims.domain.exchange import PayerAdapter, PayerAnswers, PayerRefused
from services.claims.payer_sim import Adjudication, PayerSimulator

PayerFactory = Callable[[PayerSnapshot], PayerAdapter]


class SimulatedPayer:
    """The simulator as a payer's adapter. It runs in process and keeps nothing it was sent,
    so when it fails the payer has taken nothing: that is a `PayerRefused`."""

    def __init__(self, simulator_config: str) -> None:
        self.simulator = PayerSimulator(
            Adjudication.from_dict(json.loads(simulator_config or "{}"))
        )

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers:
        try:
            return self.simulator.receive(x12_837, when)
        except Exception as exc:
            raise PayerRefused(type(exc).__name__) from exc


class AnswersPending(Exception):
    """The payer took the interchange and will answer later: ask again (the same ISA13)."""


@dataclass
class HttpAnswers:
    ack_999: str
    ack_277ca: str | None
    remit_835: str | None


class HttpPayer:
    """A payer over HTTP. Refused means nothing was delivered (no connection, or the payer
    said the file is not an interchange); any other failure leaves delivery uncertain, and an
    answer still pending is asked for again later: the same interchange is sent again, which
    the payer answers from what it kept."""

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.url = endpoint.rstrip("/") + "/v1/interchanges"
        self.timeout = timeout

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers:
        try:
            response = httpx.post(
                self.url,
                content=x12_837.encode("ascii"),
                headers={"Content-Type": "application/edi-x12"},
                timeout=self.timeout,
            )
        except httpx.ConnectError as exc:
            raise PayerRefused(f"no connection to the payer ({type(exc).__name__})") from exc
        if response.status_code == 202:
            wait = response.headers.get("Retry-After", "?")
            raise AnswersPending(f"the payer answers later (Retry-After {wait} s)")
        if 400 <= response.status_code < 500:
            raise PayerRefused(f"the payer refused the interchange (HTTP {response.status_code})")
        response.raise_for_status()  # 5xx: delivery uncertain
        body = response.json()
        return HttpAnswers(body["ack_999"], body.get("ack_277ca"), body.get("remit_835"))


def payer_adapter(payer: PayerSnapshot) -> PayerAdapter:
    if payer.endpoint:
        return HttpPayer(payer.endpoint)
    return SimulatedPayer(payer.simulator)
