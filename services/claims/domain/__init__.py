"""The claims domain: pure code from a coded encounter to an 837 and back from 999/277CA/835.

No Kafka, database, FastAPI or Temporal here; the claims service wires these functions in.
"""

from .adapter import EncounterDocumentError, claim_from_coded_encounter
from .control import ControlNumbers, InMemoryControlNumbers
from .model import (
    Address,
    BillingProvider,
    Claim,
    ClaimType,
    Clinician,
    Diagnosis,
    InpatientStay,
    Patient,
    Payer,
    ProcedureCode,
    ServiceLine,
    Subscriber,
)
from .writer import Submitter, build_837
from .x12 import Separators

__all__ = [
    "Address",
    "BillingProvider",
    "Claim",
    "ClaimType",
    "Clinician",
    "ControlNumbers",
    "Diagnosis",
    "EncounterDocumentError",
    "InMemoryControlNumbers",
    "InpatientStay",
    "Patient",
    "Payer",
    "ProcedureCode",
    "Separators",
    "ServiceLine",
    "Submitter",
    "Subscriber",
    "build_837",
    "claim_from_coded_encounter",
]
