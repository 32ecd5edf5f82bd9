"""How the simulated payer decides: pay, deny a line (CARC 16 / 50) or reduce it (CO-45)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class LineDecision:
    action: str = "pay"  # pay | deny | reduce
    carc: str = ""  # deny: 16 (missing information) or 50 (not medically necessary)
    percent: Decimal = Decimal(0)  # reduce: contractual reduction, CO-45

    def __post_init__(self) -> None:
        if self.action not in ("pay", "deny", "reduce"):
            raise ValueError(f"unknown adjudication action {self.action!r}")
        if self.action == "deny" and not self.carc:
            raise ValueError("a denial needs a CARC, e.g. 16 or 50")

    def adjust(self, charge: Decimal) -> tuple[Decimal, list[tuple[str, str, Decimal]]]:
        """Paid amount and (group, CARC, amount) adjustments for a line."""
        if self.action == "deny":
            return Decimal(0), [("CO", self.carc, charge)]
        if self.action == "reduce":
            cut = (charge * self.percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            return charge - cut, [("CO", "45", cut)] if cut else []
        return charge, []


@dataclass
class Adjudication:
    """Per-line decisions by line item control number, per-claim defaults, and 277CA rejections."""

    default: LineDecision = field(default_factory=LineDecision)
    claims: dict[str, LineDecision] = field(default_factory=dict)
    lines: dict[str, LineDecision] = field(default_factory=dict)
    # patient control number -> 277CA category:status, e.g. "A7:21" (invalid information)
    reject: dict[str, str] = field(default_factory=dict)
    # the 999 rejects every transaction set (IK5 R, "one or more segments in error")
    reject_sets: bool = False

    def for_line(self, pcn: str, line_id: str) -> LineDecision:
        return self.lines.get(line_id) or self.claims.get(pcn) or self.default

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Adjudication:
        def decision(d: dict[str, Any]) -> LineDecision:
            return LineDecision(
                str(d.get("action", "pay")),
                str(d.get("carc", "")),
                Decimal(str(d.get("percent", 0))),
            )

        return cls(
            default=decision(raw.get("default", {})),
            claims={k: decision(v) for k, v in raw.get("claims", {}).items()},
            lines={k: decision(v) for k, v in raw.get("lines", {}).items()},
            reject={k: str(v) for k, v in raw.get("reject", {}).items()},
            reject_sets=bool(raw.get("reject_sets", False)),
        )
