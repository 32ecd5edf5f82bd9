from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class IntakeSettings(ChartflowSettings):
    service_name: str = "intake"
    port: int = Field(default=8001, validation_alias=AliasChoices("INTAKE_PORT", "PORT"))
    # HL7 v2 over MLLP; 0 (the default) leaves the listener off, deploy/local passes HL7_PORT.
    hl7_port: int = Field(default=0, validation_alias=AliasChoices("HL7_PORT", "hl7_port"))
    fhir_max_bytes: int = 32_000_000
    bulk_max_bytes: int = 200_000_000
    bulk_lines_per_chunk: int = 1000
    bulk_workers: int = 2
    hl7_release_poll_seconds: float = 1.0
    webhook_retry_base_seconds: float = 2.0
    webhook_retry_max_seconds: float = 600.0
    webhook_max_attempts: int = 12
    webhook_timeout_seconds: float = 10.0


def intake_settings(settings: ChartflowSettings) -> IntakeSettings:
    """The intake settings of an app built from plain `ChartflowSettings` (tests): defaults for
    intake's own fields, and no HL7 listener."""
    if isinstance(settings, IntakeSettings):
        return settings
    return IntakeSettings(**settings.model_dump(exclude={"port"}), port=settings.port, hl7_port=0)
