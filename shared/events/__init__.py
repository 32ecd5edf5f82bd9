"""Event contracts: the envelope, topic names and one module per producing service."""

from shared.events.envelope import Envelope, EventData

__all__ = ["Envelope", "EventData"]
