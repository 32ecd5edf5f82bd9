import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.coding.validate_cli import main
from tests.unit.coding.conftest import encounter

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "encounter.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_valid_encounter_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, encounter("E11.9"))]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "findings": []}


def test_error_finding_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, encounter("E11"))]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert out["findings"][0]["rule"] == "ICD_NOT_BILLABLE"
    assert set(out["findings"][0]) == {"severity", "rule", "code", "message"}


def test_warnings_only_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = encounter(("E11.9", "1"), encounter_class="inpatient")
    assert main(["validate", write(tmp_path, doc)]) == 0
    assert json.loads(capsys.readouterr().out)["findings"][0]["severity"] == "warning"


def test_bad_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", write(tmp_path, "{not json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_wrong_shape_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = encounter("E11.9", procedures=[{"code": "99214", "units": "one"}])
    assert main(["validate", write(tmp_path, doc)]) == 2
    assert "procedures[0].units" in capsys.readouterr().err


def test_missing_file_and_usage_exit_2(tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "nope.json")]) == 2
    assert main([]) == 2


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(encounter("K50.90", "K51.90"))))
    assert main(["validate", "-"]) == 1
    assert "ICD_EXCLUDES1" in capsys.readouterr().out


def test_as_a_process(tmp_path: Path) -> None:
    script = (
        "import sys; from services.coding.validate_cli import main; sys.exit(main(sys.argv[1:]))"
    )
    path = write(tmp_path, encounter("O80", sex="M"))
    done = subprocess.run(
        [sys.executable, "-c", script, "validate", path], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["findings"][0]["rule"] == "ICD_SEX_CONFLICT"


def test_unreadable_bytes_and_nan_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{")
    nan = tmp_path / "nan.json"
    nan.write_text(
        '{"encounter_class": "professional", "patient": {"sex": "F", "age": 40},'
        ' "diagnoses": [{"code": "E11.9"}], "procedures": [{"code": "99214", "units": NaN}]}'
    )

    assert main(["validate", str(binary)]) == 2
    assert main(["validate", str(nan)]) == 2
    assert "NaN" in capsys.readouterr().err
