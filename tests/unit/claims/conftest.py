from __future__ import annotations

from datetime import datetime

import pytest

from services.claims.corpus import load_examples
from services.claims.domain import Claim, ClaimType

WHEN = datetime(2026, 3, 23, 9, 0)


@pytest.fixture(scope="session")
def example_claims() -> list[Claim]:
    return [c for example in load_examples() for c in example.claims()]


@pytest.fixture(scope="session")
def professional(example_claims: list[Claim]) -> Claim:
    return next(c for c in example_claims if c.claim_type is ClaimType.PROFESSIONAL)


@pytest.fixture(scope="session")
def inpatient(example_claims: list[Claim]) -> Claim:
    return next(c for c in example_claims if c.is_inpatient)
