"""Which adapter talks to a configured payer: the payer simulator in process, or a payer over
HTTP (the HTTP payer simulator, `python -m services.claims.payer_sim serve`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from services.claims.batching import PayerSnapshot
from services.claims.domain.exchange import PayerAdapter, PayerAnswers, PayerRefused
from services.claims.domain.segment_index import index_837
from services.claims.payer_sim import Adjudication, PayerSimulator

PayerFactory = Callable[[PayerSnapshot], PayerAdapter]


class PayerLedger:
    """What the simulated payer took: one JSON line per interchange, its ISA13 and the patient
    control numbers it carried (no PHI). How the chaos run sees a claim billed twice."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, payer_id: str, x12_837: str) -> None:
        isa13 = x12_837[90:99] if x12_837.startswith("ISA") else ""
        claims = [pcn for t in index_837(x12_837).transactions for pcn in t.claims]
        line = json.dumps({"payer": payer_id, "isa13": isa13, "claims": claims}) + "\n"
        # One write on an O_APPEND descriptor: whole lines, even from several processes.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


class SimulatedPayer:
    """The simulator as a payer's adapter. It runs in process and keeps nothing it was sent,
    so when it fails the payer has taken nothing: that is a `PayerRefused`."""

    def __init__(
        self, simulator_config: str, ledger: PayerLedger | None = None, payer_id: str = ""
    ) -> None:
        self.simulator = PayerSimulator(
            Adjudication.from_dict(json.loads(simulator_config or "{}"))
        )
        self.ledger = ledger
        self.payer_id = payer_id

    def receive(self, x12_837: str, when: datetime) -> PayerAnswers:
        try:
            answers = self.simulator.receive(x12_837, when)
        except Exception as exc:
            raise PayerRefused(type(exc).__name__) from exc
        if self.ledger is not None:
            self.ledger.record(self.payer_id, x12_837)
        return answers


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


def payer_adapter(payer: PayerSnapshot, ledger: PayerLedger | None = None) -> PayerAdapter:
    """The payer's HTTP endpoint when it has one, else the in-process simulator (which, with a
    ledger, records each interchange it took: the chaos run's double-billing check)."""
    if payer.endpoint:
        return HttpPayer(payer.endpoint)
    return SimulatedPayer(payer.simulator, ledger, payer.payer_id)
