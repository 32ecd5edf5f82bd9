"""HL7 v2 messages read, merged per visit, and acknowledged (no database, no socket)."""

from __future__ import annotations

import logging
import logging.config

import pytest

from services.intake.domain.hl7_document import encounter_document
from services.intake.domain.hl7_message import (
    Header,
    Hl7Error,
    Message,
    Rejected,
    ack,
    normalise,
)
from services.intake.domain.hl7_visit import (
    MessageErrors,
    VisitState,
    merge,
)
from services.intake.domain.rules import Hl7Rules
from tests import hl7_messages as hl7


def _visit(*texts: str) -> VisitState:
    state = VisitState()
    for text in texts:
        merge(state, Message(normalise(text)))
    return state


def test_line_endings_of_any_kind_are_one_message() -> None:
    text = hl7.discharge("M1", "V1")

    for variant in (text, text.replace("\r", "\n"), text.replace("\r", "\r\n")):
        message = Message(normalise(variant))
        assert message.kind == ("ADT", "A03")
        assert message.get("PV1", 19) == "V1"
        assert message.get("IN1", 3) == "ACMEHLTH"


def test_the_ack_swaps_sender_and_receiver_and_names_fields_in_err() -> None:
    header = Header.of(normalise(hl7.discharge("M1", "V1")))
    error = Hl7Error("PV1^1^19", "101", "visit | number")

    msh, msa, err = ack(header, "AE", [error]).rstrip("\r").split("\r")

    assert msh.split("|")[2:6] == ["CHARTFLOW", "CHARTFLOW", "EPIC", hl7.FACILITY]
    assert msh.split("|")[8] == "ACK^A03^ACK"
    assert msa == "MSA|AE|M1"
    assert err == "ERR||PV1^1^19|101^Required field missing^HL70357|E||||visit \\F\\ number"
    assert ack(header, "AA", []).rstrip("\r").split("\r")[1:] == ["MSA|AA|M1"]


@pytest.mark.parametrize(
    ("text", "location", "code"),
    [
        ("PID|1", "MSH^1", "100"),
        ("MSH|^~\\&|A|F|B|G|20260101||ORU^R01|C1|P|2.5.1", "MSH^1^9", "200"),
        ("MSH|^~\\&|A|F|B|G|20260101||ADT^A01|C1|P|2.5.1", "MSH^1^9^2", "201"),
        ("MSH|^~\\&|A||B|G|20260101||ADT^A03|C1|P|2.5.1", "MSH^1^4", "101"),
        ("MSH|^~\\&|A|F|B|G|20260101||ADT^A03||P|2.5.1", "MSH^1^10", "101"),
    ],
)
def test_messages_that_cannot_be_taken_are_rejected_naming_the_field(
    text: str, location: str, code: str
) -> None:
    with pytest.raises(Rejected) as rejected:
        Message(normalise(text))

    assert [(e.location, e.code) for e in rejected.value.errors] == [(location, code)]


def test_three_messages_make_one_inpatient_document() -> None:
    state = _visit(hl7.discharge("M1", "V1"), hl7.charges("M2", "V1"), hl7.note("M3", "V1"))

    document = encounter_document(state, "V1", Hl7Rules(), {})

    assert state.complete
    assert document.external_id == "V1" and document.encounter_class == "inpatient"
    assert (
        document.patient.first_name == "Walter" and str(document.patient.birth_date) == "1950-02-28"
    )
    assert document.admission is not None
    assert (document.admission.type, document.admission.source) == ("1", "1")  # E; 7 (ER) → 1
    assert [d.kind for d in document.documents] == ["discharge_summary", "documented_conditions"]
    assert document.specialty == "med"


def test_the_same_charge_sent_twice_counts_once_and_a_credit_is_refused() -> None:
    state = _visit(hl7.charges("M2", "V1"), hl7.charges("M2b", "V1"))
    credit = hl7.charges("M4", "V1").replace("|CG|", "|CD|")

    with pytest.raises(MessageErrors) as refused:
        merge(state, Message(normalise(credit)))

    assert len(state.charges) == 2
    assert refused.value.errors[0].location == "FT1^1^6"


def test_a_visit_without_insurance_names_in1_when_it_should_be_released() -> None:
    no_insurance = hl7.message("ADT^A03", "M1", "V1")
    state = _visit(no_insurance, hl7.note("M3", "V1"))

    with pytest.raises(MessageErrors) as incomplete:
        encounter_document(state, "V1", Hl7Rules(), {})

    assert [(e.location, e.code) for e in incomplete.value.errors] == [("IN1", "101")]


def test_content_errors_name_the_field_without_its_value() -> None:
    bad_birth = hl7.discharge("M1", "V1").replace("19500228", "28/02/1950")

    with pytest.raises(MessageErrors) as refused:
        _visit(bad_birth)

    error = refused.value.errors[0]
    assert (error.location, error.code) == ("PID^1^7", "102")
    assert "28/02" not in error.text


def test_an_unmapped_patient_class_is_reported() -> None:
    messages = (hl7.discharge("M1", "V1"), hl7.note("M3", "V1"))
    state = _visit(*(m.replace("|I|4W", "|B|4W") for m in messages))

    with pytest.raises(MessageErrors) as refused:
        encounter_document(state, "V1", Hl7Rules(), {})
    document = encounter_document(state, "V1", Hl7Rules(patient_classes={"B": "outpatient"}), {})

    assert refused.value.errors[0].location == "PV1^1^2"
    assert document.encounter_class == "outpatient" and document.admission is None


def test_values_hl7_cannot_unescape_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = hl7.discharge("M1", "V1").replace("Example^Walter", "Exam\\\\ple^Walter")

    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # as uvicorn
    with caplog.at_level(logging.DEBUG):
        state = _visit(text)

    assert state.patient is not None
    assert "Exam" not in caplog.text


@pytest.mark.parametrize(
    ("before", "after", "location"),
    [
        ("19500228", "20260915", "PID^1^7"),  # born after the admission
        ("19500228", "18991231", "PID^1^7"),
        ("202609131100", "202609011100", "PV1^1^45"),  # discharged before the admission
        ("202609101430", "209909101430", "PV1^1^44"),
        ("Example^Walter", "Exa*mple^Walter", "PID^1^5^1"),  # an X12 separator
        ("3 Pine Ct", "3 Pine\x01Ct", "PID^1^11^1"),
        ("|3|4500.00", "|10000|4500.00", "FT1"),
        ("|3|4500.00", "|3|10000000.00", "FT1"),
    ],
)
def test_a_value_coding_or_billing_could_not_use_is_an_error_at_its_field(
    before: str, after: str, location: str
) -> None:
    messages = [hl7.discharge("M1", "V1"), hl7.charges("M2", "V1"), hl7.note("M3", "V1")]

    with pytest.raises(MessageErrors) as refused:
        state = _visit(*(m.replace(before, after) for m in messages))
        encounter_document(state, "V1", Hl7Rules(), {})

    assert [(e.location, e.code) for e in refused.value.errors] == [(location, "102")]
    assert after.strip("|") not in refused.value.errors[0].text
