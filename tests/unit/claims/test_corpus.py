from __future__ import annotations

from pathlib import Path

from services.claims.corpus import write_corpus
from services.claims.domain import Severity, index_837, scrub, validate_x12


def test_every_corpus_file_passes_pyx12_and_both_claim_forms_are_present(tmp_path: Path) -> None:
    paths = write_corpus(tmp_path)
    versions = set()
    claims = 0
    for path in paths:
        text = path.read_text()
        ok, errors = validate_x12(text)
        assert ok and errors == [], (path.name, errors[:5])
        index = index_837(text)
        versions |= {t.version for t in index.transactions}
        claims += sum(len(t.claims) for t in index.transactions)
    assert versions == {"005010X222A1", "005010X223A2"}
    assert claims >= 30


def test_corpus_claims_have_no_scrubber_errors(example_claims, tmp_path: Path) -> None:
    from services.claims.domain import InMemoryControlNumbers, build_837

    from .conftest import WHEN

    text = build_837(example_claims, InMemoryControlNumbers(), "CHARTFLOW", "RCV", WHEN)
    findings = scrub(text, example_claims)
    assert [f for f in findings if f.severity is Severity.ERROR] == []
