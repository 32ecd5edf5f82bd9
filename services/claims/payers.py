"""Which adapter talks to a configured payer: today the payer simulator, in process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

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


def simulated_payer(payer: PayerSnapshot) -> PayerAdapter:
    return SimulatedPayer(payer.simulator)
