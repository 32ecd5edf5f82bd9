from pathlib import Path

import pytest

from services.coding import codesets_cli
from services.coding.domain import Rule, validate_encounter
from services.coding.domain.codesets import (
    DEFAULT_CODESET_DIR,
    CodesetFormatError,
    current_tables,
    install,
    load_tables,
    parse_hcpcs,
    parse_pcs,
    parse_poa_exempt,
    use_codeset_dir,
)
from tests.unit.coding.conftest import encounter

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "codesets"


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="latin-1").splitlines()


def test_pcs_codes_file() -> None:
    codes = parse_pcs(lines("icd10pcs_codes_2026.txt"))
    assert len(codes) == 6
    assert codes["0DTJ4ZZ"] == "Resection of Appendix, Percutaneous Endoscopic Approach"


def test_pcs_order_file_keeps_valid_codes_not_headers() -> None:
    codes = parse_pcs(lines("icd10pcs_order_2026.txt"))
    assert set(codes) == {"0016070", "0DTJ4ZZ", "10E0XZZ"}
    assert codes["0016070"].startswith("Bypass Cerebral Ventricle to Nasopharynx")


def test_hcpcs_annual_file() -> None:
    codes, modifiers, terminated = parse_hcpcs(lines("HCPC2026_JAN_ANWEB.txt"))
    # The fixture's Level I (CPT-shaped) record 99999 is skipped: no AMA text is ever kept.
    assert set(codes) == {"A0428", "E0114", "G0008", "J1100"}
    assert not any("LEVEL ONE" in text for text in codes.values())
    assert codes["E0114"].endswith("with pads, tips and handgrips")  # continuation record
    assert modifiers == {"LT", "RT"}
    assert terminated == 1


def test_poa_exempt_list() -> None:
    assert parse_poa_exempt(lines("POAexemptCodesFY26.txt")) == {"B91", "I25.2", "Z51.0"}


def test_files_in_the_wrong_layout_are_refused_with_the_line() -> None:
    with pytest.raises(CodesetFormatError, match="line 1"):
        parse_pcs(["0DTJ4ZI Resection with a letter I"])
    with pytest.raises(CodesetFormatError, match="record id"):
        parse_hcpcs(["A0428001009Ambulance service"])
    with pytest.raises(CodesetFormatError, match="no HCPCS"):
        parse_hcpcs(lines("icd10pcs_codes_2026.txt")[:0])


def test_install_then_validate_against_the_tables(tmp_path: Path) -> None:
    install(
        tmp_path,
        pcs=FIXTURES / "icd10pcs_codes_2026.txt",
        hcpcs=FIXTURES / "HCPC2026_JAN_ANWEB.txt",
        poa_exempt=FIXTURES / "POAexemptCodesFY26.txt",
    )
    tables = load_tables(tmp_path)
    assert tables.pcs is not None and "5A1955Z" in tables.pcs
    assert tables.hcpcs is not None and "Q9999" not in tables.hcpcs  # terminated
    doc = encounter(
        ("K35.80", "Y"),
        encounter_class="inpatient",
        procedures=[{"code": "0DTJ4ZZ"}, {"code": "0DTJ0ZZ"}],
    )
    found = validate_encounter(doc, tables=tables).findings
    assert [(f.rule, f.code) for f in found] == [(Rule.PROC_NOT_IN_TABLE, "0DTJ0ZZ")]


def test_current_tables_follow_the_configured_directory(tmp_path: Path) -> None:
    try:
        use_codeset_dir(tmp_path)
        assert current_tables().hcpcs is None
        install(tmp_path, hcpcs=FIXTURES / "HCPC2026_JAN_ANWEB.txt")
        assert current_tables().hcpcs is not None
        doc = encounter(
            "E11.9",
            encounter_class="professional",
            procedures=[{"code": "J7777", "dx_pointers": [1]}],
        )
        assert [f.rule for f in validate_encounter(doc).findings] == [Rule.PROC_NOT_IN_TABLE]
    finally:
        use_codeset_dir(DEFAULT_CODESET_DIR)


def test_install_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "install",
        "--pcs",
        str(FIXTURES / "icd10pcs_order_2026.txt"),
        "--hcpcs",
        str(FIXTURES / "HCPC2026_JAN_ANWEB.txt"),
        "--dir",
        str(tmp_path),
    ]
    assert codesets_cli.main(argv) == 0
    assert '"codes": 3' in capsys.readouterr().out
    assert (tmp_path / "icd10pcs.tsv").read_text().count("\n") == 3
    assert codesets_cli.main(["status", "--dir", str(tmp_path)]) == 0
    assert '"hcpcs": 4' in capsys.readouterr().out
    assert codesets_cli.main(["install", "--dir", str(tmp_path)]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("not a code file\n")
    assert codesets_cli.main(["install", "--pcs", str(bad), "--dir", str(tmp_path)]) == 1
    assert "install failed" in capsys.readouterr().err
