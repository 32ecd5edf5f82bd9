"""The claims domain: pure code from a coded encounter to an 837 and back from 999/277CA/835.

No Kafka, database, FastAPI or Temporal here; the claims service wires these functions in.
"""

from .adapter import EncounterDocumentError, claim_from_coded_encounter
from .codesets import check_diagnosis, npi_is_valid
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
from .pyx12_check import X12Error, validate_x12
from .readers import Ack999, ClaimAck, read_277ca, read_999
from .remittance import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    ProviderAdjustment,
    Remittance,
    read_835,
)
from .scrubber import Finding, PayerConfig, Rule, Severity, check_claim, held_claims, scrub
from .segment_index import Index837, index_837
from .status import ClaimLifecycle, ClaimStatus, IllegalTransition, Transition
from .tracking import (
    ClaimOutcome,
    UnknownClaim,
    apply_277ca,
    apply_835,
    apply_999,
    apply_findings,
    mark_submitted,
)
from .writer import Submitter, build_837
from .x12 import Separators

__all__ = [
    "Ack999",
    "Address",
    "Adjustment",
    "ClaimAck",
    "ClaimLifecycle",
    "ClaimOutcome",
    "ClaimPayment",
    "ClaimStatus",
    "IllegalTransition",
    "LinePayment",
    "ProviderAdjustment",
    "Remittance",
    "Transition",
    "UnknownClaim",
    "apply_277ca",
    "apply_835",
    "apply_999",
    "apply_findings",
    "mark_submitted",
    "read_277ca",
    "read_835",
    "read_999",
    "Finding",
    "Index837",
    "PayerConfig",
    "Rule",
    "Severity",
    "X12Error",
    "check_claim",
    "check_diagnosis",
    "held_claims",
    "index_837",
    "npi_is_valid",
    "scrub",
    "validate_x12",
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
