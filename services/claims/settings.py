from pathlib import Path

from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class ClaimsSettings(ChartflowSettings):
    service_name: str = "claims"
    port: int = Field(default=8004, validation_alias=AliasChoices("CLAIMS_PORT", "PORT"))
    # A payer's claims wait this long for others to share their interchange (one 837 file,
    # one pyx12 pass, one set of answers); a batch goes at once when it is full.
    claims_batch_window_seconds: float = Field(default=1.0, ge=0)
    # Claims per interchange; 1 sends every claim in an interchange of its own.
    claims_batch_max_claims: int = Field(default=1000, ge=1, le=5000)
    # A claim the payer would not take is tried again after base, 2 x base, 4 x base ...
    # (at most max) seconds, `attempts` times in all; then it is `submission_failed`.
    claims_retry_base_seconds: float = Field(default=30.0, gt=0)
    claims_retry_max_seconds: float = Field(default=3600.0, gt=0)
    claims_retry_attempts: int = Field(default=8, ge=1)
    # A batch being prepared or sent belongs to its worker this long; after a crash, another
    # worker (or the restarted one) takes it over and sends the very same interchange.
    claims_batch_lease_seconds: float = Field(default=120.0, gt=0)
    # The simulated payer appends what it took (ISA13, patient control numbers) to this file:
    # the chaos run reads it to count claims billed twice. Unset: nothing is written.
    payer_sim_ledger: Path | None = None
