"""validate_x12: pyx12's verdicts, the same as pyx12's own path, from many threads at once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import pyx12.params
import pyx12.x12n_document

from services.claims.corpus import write_corpus
from services.claims.domain import Claim, InMemoryControlNumbers, build_837, validate_x12
from services.claims.domain.pyx12_check import X12Error, _flatten, _unreported
from services.claims.domain.pyx12_engine import LoggedError
from services.claims.payer_sim import Adjudication, LineDecision, PayerSimulator

from .conftest import WHEN

_LOG_LINE = re.compile(r"^Line:(\d+) (ISA|GS|ST|SEG|ELE):(\S*) - (.*)$", re.S)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def pyx12_document_path(text: str) -> tuple[bool, list[X12Error]]:
    """The path validate_x12 used before: pyx12's x12n_document (maps parsed on this call)
    and its global logger captured for the errors its JSON leaves out. One thread only."""
    logger = logging.getLogger("pyx12")
    capture, out = _Capture(), io.StringIO()
    logger.addHandler(capture)
    logger.setLevel(logging.ERROR)
    propagate, logger.propagate = logger.propagate, False
    try:
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, fd_json=out
        )
    except Exception:
        return False, [X12Error("interchange", "", "unreadable", 0)]
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate
    flat = _flatten(json.loads(out.getvalue() or '{"interchanges": []}'))
    logged = []
    for line in capture.lines:
        if m := _LOG_LINE.match(line):
            logged.append(LoggedError(int(m[1]), m[2], m[3], m[4]))
    errors = [e for e, _ in flat] + _unreported(logged, flat, text)
    if not ok and not errors:
        errors.append(X12Error("interchange", "", "invalid", 0))
    return ok and not errors, errors


def _key(e: X12Error) -> tuple[str, str, int, str, str, str]:
    return (e.level, e.code, e.position, e.seg_id, e.group_control, e.value)


def _broken(text: str) -> dict[str, str]:
    """One broken file per kind of error pyx12 reports."""
    first_dtp = text.index("DTP*472*D8*") + len("DTP*472*D8*")
    clm = text.index("CLM*")
    return {
        "bad date": text[:first_dtp] + "2026-" + text[first_dtp:],
        "stray segment": text[:clm] + "NTE*XXX*?~\n" + text[clm:],
        "bad code value": text.replace("SBR*P*18", "SBR*Q*18", 1),
        "too long": text.replace("NM1*IL*1*", "NM1*IL*1*" + "X" * 70, 1),
        "missing element": re.sub(r"NM1\*85\*2\*[^*]*\*", "NM1*85*2**", text, count=1),
        "envelope element": text.replace("*ZZ*", "*QQ*", 1),
        "wrong SE count": re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) + 3}*", text, count=1),
        "wrong IEA control": re.sub(r"IEA\*(\d+)\*0+", r"IEA*\1*99", text),
        "group count": re.sub(r"GE\*(\d+)\*", "GE*7*", text, count=1),
        "not x12": "hello, payer",
        "cut short": text[: len(text) // 2],
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [p.read_text() for p in write_corpus(tmp_path_factory.mktemp("corpus"))]


def test_verdicts_and_errors_equal_pyx12s_own_path_on_the_corpus_and_broken_files(
    corpus: list[str], example_claims: list[Claim]
) -> None:
    answers = PayerSimulator(
        Adjudication(default=LineDecision("reduce", percent=Decimal(10)))
    ).receive(corpus[0], datetime(2026, 3, 24, 8, 0))
    texts = {f"corpus {n}": t for n, t in enumerate(corpus)}
    texts |= {
        "999": answers.ack_999,
        "277CA": answers.ack_277ca or "",
        "835": answers.remit_835 or "",
    }
    whole = build_837(example_claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    texts |= _broken(whole)

    verdicts = {}
    for name, text in texts.items():
        old_ok, old_errors = pyx12_document_path(text)
        ok, errors = validate_x12(text)
        assert ok == old_ok, name
        assert sorted(map(_key, errors)) == sorted(map(_key, old_errors)), name
        # the element is named even where pyx12 only logged the error (envelope elements)
        assert {e.element for e in old_errors} - {""} <= {e.element for e in errors}, name
        verdicts[name] = ok
    assert [n for n, ok in verdicts.items() if not ok] == list(_broken(whole))


def _pair(round_: int, claims: list[Claim]) -> tuple[str, str]:
    """A good file and a broken one (a bad date in its one line), unique to this round."""
    good = build_837(claims[:2], InMemoryControlNumbers(round_ * 10), "CHARTFLOW", "RCV", WHEN)
    bad_claim = replace(claims[2], patient_control_number=f"BAD{round_}")
    bad = build_837(
        [bad_claim], InMemoryControlNumbers(round_ * 10 + 5, 50, 50), "CHARTFLOW", "RCV", WHEN
    )
    at = bad.index("DTP*472*D8*") + len("DTP*472*D8*")
    return good, bad[:at] + "2026-" + bad[at:]


def _check(results: list[tuple[bool, list[X12Error]]], round_: int) -> None:
    for i in range(0, len(results), 2):
        (good_ok, good_errors), (bad_ok, bad_errors) = results[i], results[i + 1]
        assert good_ok and good_errors == [], (round_, good_errors[:2])
        assert not bad_ok, round_
        # the broken file's errors are its own: its group (51) and transaction set (0051)
        assert bad_errors and {(e.group_control, e.transaction_control) for e in bad_errors} <= {
            ("51", "0051"),
            ("51", ""),
            ("", ""),
        }, (round_, bad_errors)
        assert any(e.element == "DTP03" and e.code == "8" for e in bad_errors), round_


ROUNDS = 120


def test_good_and_broken_files_validated_at_once_from_threads_each_get_their_own_verdict(
    example_claims: list[Claim],
) -> None:
    claims = [c for c in example_claims if c.claim_type.value == "professional"]
    with ThreadPoolExecutor(max_workers=6) as pool:
        for round_ in range(ROUNDS):
            texts = [t for k in range(3) for t in _pair(round_ * 3 + k, claims)]
            _check(list(pool.map(validate_x12, texts)), round_)


async def test_good_and_broken_files_validated_at_once_from_tasks(
    example_claims: list[Claim],
) -> None:
    claims = [c for c in example_claims if c.claim_type.value == "professional"]
    for round_ in range(ROUNDS):
        texts = [t for k in range(2) for t in _pair(10_000 + round_ * 2 + k, claims)]
        results = await asyncio.gather(*(asyncio.to_thread(validate_x12, t) for t in texts))
        _check(list(results), round_)


def test_pyx12_logs_nothing_and_messages_quote_no_value(
    example_claims: list[Claim], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "ZZSECRETNAMEZZ" * 5  # too long for NM103
    text = build_837(example_claims[:2], InMemoryControlNumbers(77), "CHARTFLOW", "RCV", WHEN)
    text = text.replace("NM1*IL*1*", f"NM1*IL*1*{secret}", 1)

    with caplog.at_level(logging.DEBUG):
        ok, errors = validate_x12(text)

    assert not ok and any(e.element == "NM103" and e.code == "5" for e in errors)
    assert all(secret not in e.message for e in errors)
    assert any(secret in e.value for e in errors)  # kept apart, for a 999's IK404
    assert secret not in caplog.text


def test_the_first_call_parses_the_maps_later_calls_reuse_them(
    example_claims: list[Claim], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyx12.map_if

    validate_x12(build_837(example_claims, InMemoryControlNumbers(900), "CHARTFLOW", "RCV", WHEN))
    loads: list[str] = []
    original: Callable[..., object] = pyx12.map_if.load_map_file
    monkeypatch.setattr(
        pyx12.map_if, "load_map_file", lambda *a, **k: loads.append(a[0]) or original(*a, **k)
    )
    ok, _ = validate_x12(
        build_837(example_claims, InMemoryControlNumbers(901), "CHARTFLOW", "RCV", WHEN)
    )
    assert ok and loads == []


def test_payer_answers_read_at_once_from_threads_each_give_their_own_claims(
    example_claims: list[Claim],
) -> None:
    from services.claims.domain import read_277ca, read_835, read_999

    claims = [c for c in example_claims if c.claim_type.value == "professional"]
    files = []
    for k in range(6):
        picked = claims[k % 3 :: 3]
        text = build_837(picked, InMemoryControlNumbers(700 + k), "CHARTFLOW", "RCV", WHEN)
        answers = PayerSimulator().receive(text, datetime(2026, 3, 24, 8, 0))
        files.append(({c.patient_control_number for c in picked}, answers))

    def read(item: tuple[set[str], object]) -> tuple[set[str], set[str], set[str], int]:
        pcns, answers = item
        paid = {c.patient_control_number for r in read_835(answers.remit_835) for c in r.claims}  # type: ignore[attr-defined]
        acked = {a.patient_control_number for a in read_277ca(answers.ack_277ca)}  # type: ignore[attr-defined]
        sets = sum(len(a.transactions) for a in read_999(answers.ack_999))  # type: ignore[attr-defined]
        return pcns, paid, acked, sets

    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(30):
            for pcns, paid, acked, sets in pool.map(read, files * 3):
                assert paid == acked == pcns and sets == 1
