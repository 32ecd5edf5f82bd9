"""HL7 v2.5.1 messages of one inpatient visit, as an ADT/charge/notes feed sends them."""

from __future__ import annotations

import socket

FACILITY = "MERCY"


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with the given fields (1-based) set; MSH counts MSH-1 as the separator."""
    last = max(fields) if fields else 0
    values = [fields.get(n, "") for n in range(1, last + 1)]
    if name == "MSH":
        return "MSH|" + "|".join(values[1:])
    return "|".join([name, *values])


def message(kind: str, control_id: str, visit: str, *body: str, facility: str = FACILITY) -> str:
    msh = segment(
        "MSH",
        {
            2: "^~\\&",
            3: "EPIC",
            4: facility,
            5: "CHARTFLOW",
            6: "CHARTFLOW",
            7: "20260923120000",
            9: kind,
            10: control_id,
            11: "P",
            12: "2.5.1",
        },
    )
    pid = segment(
        "PID",
        {
            1: "1",
            3: "MRN1001^^^MERCY^MR",
            5: "Example^Walter",
            7: "19500228",
            8: "M",
            11: "3 Pine Ct^^Springfield^IL^62701",
        },
    )
    pv1 = segment(
        "PV1",
        {
            1: "1",
            2: "I",
            3: "4W^401^1",
            4: "E",
            7: "1444444446^Patel^Raj^^^^^^NPI",
            10: "MED",
            14: "7",
            19: f"{visit}^^^MERCY^VN",
            36: "01",
            44: "202609101430",
            45: "202609131100",
        },
    )
    return "\r".join([msh, pid, pv1, *body]) + "\r"


def discharge(control_id: str, visit: str) -> str:
    in1 = segment(
        "IN1",
        {1: "1", 2: "PLAN1", 3: "ACMEHLTH", 4: "Acme Health Plan", 17: "SEL", 36: "ACM700800901"},
    )
    dg1 = segment("DG1", {1: "1", 3: "J18.9^Pneumonia, unspecified organism^I10"})
    return message("ADT^A03^ADT_A03", control_id, visit, in1, dg1)


def charges(control_id: str, visit: str) -> str:
    lines = [
        segment(
            "FT1",
            {
                1: "1",
                2: f"{visit}-T1",
                4: "20260913",
                6: "CG",
                7: "0120^Room^RC",
                10: "3",
                11: "4500.00",
            },
        ),
        segment(
            "FT1",
            {
                1: "2",
                2: f"{visit}-T2",
                4: "20260913",
                6: "CG",
                7: "0250^Pharmacy^RC",
                10: "1",
                11: "780.00",
            },
        ),
    ]
    return message("DFT^P03^DFT_P03", control_id, visit, *lines)


def note(control_id: str, visit: str) -> str:
    txa = segment("TXA", {1: "1", 2: "DS", 3: "TX", 12: f"{visit}-DS1", 17: "AU"})
    obx = segment("OBX", {1: "1", 2: "TX", 5: "Admitted with pneumonia.~Bronchoscopy performed."})
    return message("MDM^T02^MDM_T02", control_id, visit, txa, obx)


def converse(port: int, *messages: str) -> list[str]:
    """Send each message over one MLLP connection; the ACK of each, in order."""
    acks = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for text in messages:
            sock.sendall(b"\x0b" + text.encode() + b"\x1c\r")
            data = b""
            while not data.endswith(b"\x1c\r"):
                chunk = sock.recv(65536)
                assert chunk, "the listener closed the connection"
                data += chunk
            acks.append(data[1:-2].decode())
    return acks


def fields(ack: str, name: str) -> list[list[str]]:
    """The fields of every `name` segment of an ACK (index n is field n)."""
    return [s.split("|") for s in ack.split("\r") if s.startswith(name + "|")]
