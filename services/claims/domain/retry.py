"""When to try a claim again after the payer would not take it, and when to stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff: base, 2 x base, 4 x base ... never more than `cap`."""

    base_seconds: float
    cap_seconds: float
    attempts: int  # attempts in all, the first one included

    def exhausted(self, failures: int) -> bool:
        return failures >= self.attempts

    def delay(self, failures: int) -> timedelta:
        """How long to wait after the `failures`-th failed attempt (1 for the first)."""
        seconds = self.base_seconds * 2 ** min(max(failures - 1, 0), 60)
        return timedelta(seconds=min(seconds, self.cap_seconds))

    def next_attempt(self, failures: int, now: datetime) -> datetime | None:
        """When to try again, or None when the budget is spent."""
        return None if self.exhausted(failures) else now + self.delay(failures)
