import pytest

from services.coding.domain import icd10cm


@pytest.fixture(scope="session", autouse=True)
def icd10cm_loaded() -> None:
    """Load the classification once for the whole session (about 2-3 s)."""
    icd10cm.library()


def encounter(
    *diagnoses: str | tuple[str, str | None],
    encounter_class: str = "outpatient",
    sex: str = "F",
    procedures: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """A document in the validate shape; a diagnosis is a code or (code, poa)."""
    dx = [
        {"code": item} if isinstance(item, str) else {"code": item[0], "poa": item[1]}
        for item in diagnoses
    ]
    return {
        "encounter_class": encounter_class,
        "patient": {"sex": sex, "age": 47},
        "diagnoses": dx,
        "procedures": procedures or [],
    }
