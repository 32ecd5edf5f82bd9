"""Which adapter talks to a configured payer: today the payer simulator, in process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

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


def simulated_payer(payer: PayerSnapshot, ledger: PayerLedger | None = None) -> PayerAdapter:
    return SimulatedPayer(payer.simulator, ledger, payer.payer_id)
