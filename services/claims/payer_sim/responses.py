"""The simulated payer's answers: 999 (X231A1), 277CA (X214) and 835 (X221A1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from services.claims.domain.control import ControlNumbers
from services.claims.domain.pyx12_check import X12Error
from services.claims.domain.x12 import SegmentWriter, d8, hhmm, isa_segment, money, quantity

from .adjudication import Adjudication
from .inbound import Inbound837, InboundClaim

PAYER_TAX_ID = "1999999999"  # TRN03: "1" + the payer's (fictional) EIN
VOID = "8"  # CLM05-3 claim frequency: void or cancel a prior claim


class _Envelope:
    def __init__(
        self, inbound: Inbound837, control: ControlNumbers, when: datetime, fic: str, version: str
    ) -> None:
        self.w = SegmentWriter(inbound.separators)
        self.when = when
        self.control = control
        self.inbound = inbound
        # the payer answers: its sender id is the 837's receiver, and the other way round
        self.isa = control.next_interchange()
        self.w.add_raw(
            isa_segment(
                inbound.separators, inbound.receiver_id, inbound.sender_id, when, self.isa, "P"
            )
        )
        self.gs = control.next_group()
        self.version = version
        self.w.add(
            "GS",
            fic,
            inbound.receiver_id,
            inbound.sender_id,
            d8(when),
            hhmm(when),
            str(self.gs),
            "X",
            version,
        )
        self.sets = 0

    def open(self, set_id: str) -> tuple[str, int]:
        st = f"{self.control.next_transaction():04d}"
        # the 835 guide marks ST03 not used
        self.w.add("ST", set_id, st, "" if set_id == "835" else self.version)
        self.sets += 1
        return st, len(self.w)

    def close(self, st: str, start: int) -> None:
        self.w.add("SE", str(len(self.w) - start + 2), st)

    def text(self) -> str:
        self.w.add("GE", str(self.sets), str(self.gs))
        self.w.add("IEA", "1", f"{self.isa:09d}")
        return self.w.text()


def write_999(
    inbound: Inbound837, errors: Sequence[X12Error], control: ControlNumbers, when: datetime
) -> str:
    """One AK1 per functional group of the 837, one AK2/IK5 per transaction set."""
    env = _Envelope(inbound, control, when, "FA", "005010X231A1")
    w = env.w
    for group_control, version in inbound.group_controls:
        st, start = env.open("999")
        w.add("AK1", "HC", group_control, version)
        sets = [t for t in inbound.transactions if t[0] == group_control]
        accepted = 0
        for _, st_control, st_version in sets:
            mine = [
                e
                for e in errors
                if e.transaction_control == st_control and e.group_control == group_control
            ]
            w.add("AK2", "837", st_control, st_version)
            for e in mine:
                if e.level == "segment":
                    w.add("IK3", e.seg_id, str(e.st_position), "", e.code[:3] or "8")
                elif e.level == "element":
                    w.add("IK3", e.seg_id, str(e.st_position), "", "8")
                    pos = e.element[len(e.seg_id) :].lstrip("0") or "1"
                    ele, _, sub = pos.partition("-")
                    w.add("IK4", w.composite(ele, sub), "", e.code[:3], e.value[:99])
            set_codes = [e.code for e in mine if e.level == "transaction" and e.code]
            if mine:
                w.add("IK5", "R", *(set_codes[:1] or ["5"]))
            else:
                accepted += 1
                w.add("IK5", "A")
        code = "A" if accepted == len(sets) else ("P" if accepted else "R")
        w.add("AK9", code, str(len(sets)), str(len(sets)), str(accepted))
        env.close(st, start)
    return env.text()


def write_277ca(
    inbound: Inbound837,
    adjudication: Adjudication,
    control: ControlNumbers,
    when: datetime,
    claims: Sequence[InboundClaim] | None = None,
) -> str:
    """Claim acknowledgments: A2:20 accepted, or the configured rejection (e.g. A7:21)."""
    claims = inbound.claims if claims is None else claims
    env = _Envelope(inbound, control, when, "HN", "005010X214")
    w = env.w
    st, start = env.open("277")
    w.add("BHT", "0085", "08", f"{env.isa}{st}", d8(when), hhmm(when), "TH")
    payer = claims[0] if claims else None
    w.add("HL", "1", "", "20", "1")
    w.add(
        "NM1",
        "PR",
        "2",
        payer.payer_name if payer else "PAYER",
        "",
        "",
        "",
        "",
        "PI",
        payer.payer_id if payer else inbound.receiver_id,
    )
    w.add("TRN", "1", f"{env.isa}")
    w.add("DTP", "050", "D8", d8(when))
    w.add("DTP", "009", "D8", d8(when))
    w.add("HL", "2", "1", "21", "1")
    w.add("NM1", "41", "2", inbound.submitter_name, "", "", "", "", "46", inbound.submitter_id)
    w.add("TRN", "2", f"{inbound.group_controls[0][0] if inbound.group_controls else '0'}")
    total = sum((c.charge for c in claims), Decimal(0))
    rejected = [c for c in claims if adjudication.rejection(c)]
    rejected_total = sum((c.charge for c in rejected), Decimal(0))
    w.add("STC", w.composite("A1", "19", "PR"), d8(when), "WQ", money(total))
    if len(claims) > len(rejected):
        w.add("QTY", "90", str(len(claims) - len(rejected)))
    if rejected:
        w.add("QTY", "AA", str(len(rejected)))
    if len(claims) > len(rejected):
        w.add("AMT", "YU", money(total - rejected_total))
    if rejected:
        w.add("AMT", "YY", money(rejected_total))
    hl = 2
    providers: dict[str, list[InboundClaim]] = {}
    for c in claims:
        providers.setdefault(c.billing_npi, []).append(c)
    for npi, provider_claims in providers.items():
        hl += 1
        provider_hl = hl
        w.add("HL", str(provider_hl), "2", "19", "1")
        w.add("NM1", "85", "2", provider_claims[0].billing_name, "", "", "", "", "XX", npi)
        w.add("TRN", "1", f"{env.isa}{provider_hl}")
        provider_total = sum((c.charge for c in provider_claims), Decimal(0))
        w.add("STC", w.composite("A1", "19", "85"), "", "WQ", money(provider_total))
        for c in provider_claims:
            hl += 1
            w.add("HL", str(hl), str(provider_hl), "PT")
            w.add("NM1", "QC", "1", c.patient_last, c.patient_first, "", "", "", "MI", c.member_id)
            w.add("TRN", "2", c.patient_control_number)
            reason = adjudication.rejection(c)
            if reason:
                category, _, status = reason.partition(":")
                w.add("STC", w.composite(category, status or "21"), d8(when), "U", money(c.charge))
            else:
                w.add("STC", w.composite("A2", "20"), d8(when), "WQ", money(c.charge))
                w.add("REF", "1K", payer_claim_id(c))
            w.add("DTP", "472", "RD8", f"{c.statement_from}-{c.statement_to}")
    env.close(st, start)
    return env.text()


def payer_claim_id(c: InboundClaim) -> str:
    return f"P{c.patient_control_number}"


def write_835(
    inbound: Inbound837,
    adjudication: Adjudication,
    control: ControlNumbers,
    when: datetime,
    claims: Sequence[InboundClaim] | None = None,
) -> str:
    """One remittance paying the claims the 277CA accepted, line by line. A void (frequency 8)
    is not in it: the payer takes its payment back in a later 835 (a reversal)."""
    claims = inbound.claims if claims is None else claims
    claims = [c for c in claims if adjudication.rejection(c) is None and c.frequency != VOID]
    env = _Envelope(inbound, control, when, "HP", "005010X221A1")
    w = env.w
    st, start = env.open("835")
    decided = [
        (c, [_decide(c, n, ln.line_id, ln.charge, adjudication) for n, ln in enumerate(c.lines, 1)])
        for c in claims
    ]
    total = sum((paid for _, lines in decided for paid, _ in lines), Decimal(0))
    method = ("I", "CHK") if total > 0 else ("H", "NON")
    w.add("BPR", method[0], money(total), "C", method[1], *[""] * 11, d8(when))
    w.add("TRN", "1", f"{env.isa}{st}", PAYER_TAX_ID)
    w.add("DTM", "405", d8(when))
    first = claims[0] if claims else None
    w.add("N1", "PR", first.payer_name if first else "PAYER")
    w.add("N3", "1 PAYER PLAZA")
    w.add("N4", "HARTFORD", "CT", "061010001")
    w.add("PER", "BL", "PROVIDER SERVICES", "TE", "8005550199")
    w.add(
        "N1",
        "PE",
        first.billing_name if first else "PAYEE",
        "XX",
        first.billing_npi if first else "",
    )
    for number, (c, lines) in enumerate(decided, start=1):
        if number == 1:
            w.add("LX", "1")
        paid = sum((p for p, _ in lines), Decimal(0))
        status = "4" if paid == 0 and c.charge > 0 else "1"
        w.add(
            "CLP",
            c.patient_control_number,
            status,
            money(c.charge),
            money(paid),
            "",
            _clp06(c.filing_indicator),
            payer_claim_id(c),
            c.facility_code,
            c.frequency,
        )
        w.add("NM1", "QC", "1", c.patient_last, c.patient_first, "", "", "", "MI", c.member_id)
        if c.statement_from:
            w.add("DTM", "232", c.statement_from)
            w.add("DTM", "233", c.statement_to)
        for number, (ln, (line_paid, adjustments)) in enumerate(
            zip(c.lines, lines, strict=True), 1
        ):
            if ln.procedure:
                code = w.composite("HC", ln.procedure, *ln.modifiers)
                revenue = ln.revenue_code
            else:
                code, revenue = w.composite("NU", ln.revenue_code), ""
            w.add("SVC", code, money(ln.charge), money(line_paid), revenue, quantity(ln.units))
            if ln.service_date:
                w.add("DTM", "472", ln.service_date)
            for group, carc, amount in adjustments:
                w.add("CAS", group, carc, money(amount))
            w.add("REF", "6R", ln.line_id)
            for rarc in adjudication.for_line(c, ln.line_id, number).rarcs if adjustments else ():
                w.add("LQ", "HE", rarc)
    env.close(st, start)
    return env.text()


def _decide(
    c: InboundClaim, number: int, line_id: str, charge: Decimal, adjudication: Adjudication
) -> tuple[Decimal, list[tuple[str, str, Decimal]]]:
    return adjudication.for_line(c, line_id, number).adjust(charge)


def _clp06(filing_indicator: str) -> str:
    # CLP06 uses the same claim filing indicator codes as SBR09 except commercial (CI)
    return filing_indicator if filing_indicator in ("MA", "MB", "MC", "BL", "CH", "VA") else "12"
