"""How the simulated payer decides: per line (pay, deny with a CARC and RARCs, reduce by
CO-45), per claim by patient control number, and by scenarios chosen per claim from what it
carries (member id, a procedure or diagnosis code, the frequency code): pay, pay partially,
deny, reject at the 277CA, reject its transaction set at the 999, answer after a delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .inbound import InboundClaim

ACTIONS = ("pay", "deny", "reduce")
SCENARIO_ACTIONS = ("pay", "pay_partially", "deny", "reject_277ca", "reject_999", "delay")


@dataclass(frozen=True)
class LineDecision:
    action: str = "pay"  # pay | deny | reduce
    carc: str = ""  # deny: e.g. 11 (diagnosis inconsistent with procedure), 50, 31
    percent: Decimal = Decimal(0)  # reduce: contractual reduction, CO-45
    group: str = "CO"  # CAS01 of a denial: CO contractual obligation, PR, OA, PI
    rarcs: tuple[str, ...] = ()  # remark codes sent with a denial (LQ*HE)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown adjudication action {self.action!r}")
        if self.action == "deny" and not self.carc:
            raise ValueError("a denial needs a CARC, e.g. 11 or 50")
        if self.group not in ("CO", "PR", "OA", "PI"):
            raise ValueError(f"unknown CAS group {self.group!r}: CO, PR, OA or PI")

    def adjust(self, charge: Decimal) -> tuple[Decimal, list[tuple[str, str, Decimal]]]:
        """Paid amount and (group, CARC, amount) adjustments for a line."""
        if self.action == "deny":
            return Decimal(0), [(self.group, self.carc, charge)]
        if self.action == "reduce":
            cut = (charge * self.percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            return charge - cut, [("CO", "45", cut)] if cut else []
        return charge, []


PAY = LineDecision()


@dataclass(frozen=True)
class ScenarioMatch:
    """Which claims a scenario is for: every field given must hold (none given: every claim)."""

    member_id: str = ""
    patient_control_number: str = ""
    procedure: str = ""  # a CPT / HCPCS code on one of its lines
    diagnosis: str = ""  # an ICD-10-CM code on the claim, with or without its dot
    frequency: str = ""  # CLM05-3: 1 original, 7 replacement, 8 void

    def matches(self, claim: InboundClaim) -> bool:
        return (
            (not self.member_id or claim.member_id == self.member_id)
            and (
                not self.patient_control_number
                or claim.patient_control_number == self.patient_control_number
            )
            and (not self.procedure or any(ln.procedure == self.procedure for ln in claim.lines))
            and (not self.diagnosis or self.diagnosis.replace(".", "") in claim.diagnoses)
            and (not self.frequency or claim.frequency == self.frequency)
        )


@dataclass(frozen=True)
class Scenario:
    """What the payer does with a claim it matches (the first scenario that matches wins)."""

    match: ScenarioMatch = field(default_factory=ScenarioMatch)
    action: str = "pay"
    carc: str = ""
    group: str = "CO"
    rarcs: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()  # 1-based; deny / pay_partially: these lines (default: all /
    percent: Decimal = Decimal(0)  # all but the first); pay_partially by percent: CO-45 cut
    status: str = "A7:21"  # reject_277ca: STC01 category:status, e.g. A7:255
    delay_seconds: float = 0  # the HTTP payer answers the interchange this much later

    def __post_init__(self) -> None:
        if self.action not in SCENARIO_ACTIONS:
            raise ValueError(
                f"unknown scenario action {self.action!r}: one of {', '.join(SCENARIO_ACTIONS)}"
            )
        if self.action == "deny" and not self.carc:
            raise ValueError("a deny scenario needs a CARC, e.g. 11")
        if self.action == "reject_277ca" and ":" not in self.status:
            raise ValueError("reject_277ca needs a status category:code, e.g. A7:255")
        if self.delay_seconds < 0 or self.delay_seconds > 86_400:
            raise ValueError("delay_seconds must be between 0 and 86400")
        LineDecision("deny", self.carc or "0", group=self.group)  # the group must be valid

    def line_decision(self, number: int) -> LineDecision:
        if self.action == "deny":
            if not self.lines or number in self.lines:
                return LineDecision("deny", self.carc, group=self.group, rarcs=self.rarcs)
            return PAY
        if self.action == "pay_partially":
            if self.percent:
                return LineDecision("reduce", percent=self.percent)
            denied = self.lines or None
            if (denied is None and number > 1) or (denied is not None and number in denied):
                return LineDecision("deny", self.carc or "96", group=self.group, rarcs=self.rarcs)
        return PAY

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Scenario:
        match = raw.get("match", {})
        action = str(raw.get("action", "pay"))
        return cls(
            match=ScenarioMatch(**{k: str(v) for k, v in match.items()}),
            action=action,
            carc=str(raw.get("carc", "")),
            group=str(raw.get("group", "CO")),
            rarcs=tuple(str(r) for r in raw.get("rarcs", ())),
            lines=tuple(int(n) for n in raw.get("lines", ())),
            percent=Decimal(str(raw.get("percent", 0))),
            status=str(raw.get("status", "A7:21")),
            delay_seconds=float(raw.get("delay_seconds", 0)),
        )


@dataclass
class Adjudication:
    """Per-line decisions by line item control number, per-claim defaults, 277CA rejections,
    and scenarios chosen per claim by what it carries."""

    default: LineDecision = field(default_factory=LineDecision)
    claims: dict[str, LineDecision] = field(default_factory=dict)
    lines: dict[str, LineDecision] = field(default_factory=dict)
    # patient control number -> 277CA category:status, e.g. "A7:21" (invalid information)
    reject: dict[str, str] = field(default_factory=dict)
    # the 999 rejects every transaction set (IK5 R, "one or more segments in error")
    reject_sets: bool = False
    scenarios: list[Scenario] = field(default_factory=list)

    def scenario_for(self, claim: InboundClaim) -> Scenario | None:
        return next((s for s in self.scenarios if s.match.matches(claim)), None)

    def for_line(self, claim: InboundClaim, line_id: str, number: int) -> LineDecision:
        chosen = self.lines.get(line_id) or self.claims.get(claim.patient_control_number)
        if chosen is not None:
            return chosen
        scenario = self.scenario_for(claim)
        return scenario.line_decision(number) if scenario else self.default

    def rejection(self, claim: InboundClaim) -> str | None:
        """The 277CA category:status the claim is rejected with, if it is."""
        if claim.patient_control_number in self.reject:
            return self.reject[claim.patient_control_number]
        scenario = self.scenario_for(claim)
        return scenario.status if scenario and scenario.action == "reject_277ca" else None

    def rejects_set(self, claim: InboundClaim) -> bool:
        """The 999 rejects the transaction set that carries this claim."""
        scenario = self.scenario_for(claim)
        return self.reject_sets or bool(scenario and scenario.action == "reject_999")

    def delay(self, claims: list[InboundClaim]) -> float:
        """How long the HTTP payer holds its answers to an interchange with these claims."""
        found = [self.scenario_for(c) for c in claims]
        return max((s.delay_seconds for s in found if s), default=0.0)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Adjudication:
        def decision(d: dict[str, Any]) -> LineDecision:
            return LineDecision(
                str(d.get("action", "pay")),
                str(d.get("carc", "")),
                Decimal(str(d.get("percent", 0))),
                str(d.get("group", "CO")),
                tuple(str(r) for r in d.get("rarcs", ())),
            )

        return cls(
            default=decision(raw.get("default", {})),
            claims={k: decision(v) for k, v in raw.get("claims", {}).items()},
            lines={k: decision(v) for k, v in raw.get("lines", {}).items()},
            reject={k: str(v) for k, v in raw.get("reject", {}).items()},
            reject_sets=bool(raw.get("reject_sets", False)),
            scenarios=[Scenario.from_dict(s) for s in raw.get("scenarios", [])],
        )
