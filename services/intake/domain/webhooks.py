"""Webhook deliveries: the events hospitals subscribe to, the signature on every delivery and
the retry schedule.

Signature header: `Chartflow-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
HMAC-SHA256 with the webhook's secret over `<t>.` followed by the raw request body. A receiver
recomputes it, compares in constant time and refuses timestamps too far from its clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: The events a hospital can subscribe to. `query.raised` is accepted now; physician queries
#: will raise it once they exist.
EVENTS = ("encounter.coded", "encounter.returned", "query.raised", "claim.status")
SIGNATURE_HEADER = "Chartflow-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Chartflow-Signature` header value of a delivery."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, tolerance: float = 300, now: float | None = None
) -> bool:
    """True when the header signs this body with this secret, within `tolerance` seconds."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: base, 2×base, 4×base… ≤ cap."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))
