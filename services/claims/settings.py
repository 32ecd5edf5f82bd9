from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class ClaimsSettings(ChartflowSettings):
    service_name: str = "claims"
    port: int = Field(default=8004, validation_alias=AliasChoices("CLAIMS_PORT", "PORT"))
