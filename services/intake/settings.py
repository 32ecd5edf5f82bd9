from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class IntakeSettings(ChartflowSettings):
    service_name: str = "intake"
    port: int = Field(default=8001, validation_alias=AliasChoices("INTAKE_PORT", "PORT"))
