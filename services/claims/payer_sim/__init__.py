"""A simulated payer for tests and local runs: 837 in; 999, 277CA and 835 out."""

from .adjudication import Adjudication, LineDecision
from .inbound import Inbound837, InboundClaim, read_837
from .simulator import PayerResponses, PayerSimulator

__all__ = [
    "Adjudication",
    "Inbound837",
    "InboundClaim",
    "LineDecision",
    "PayerResponses",
    "PayerSimulator",
    "read_837",
]
