from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class CodingSettings(ChartflowSettings):
    service_name: str = "coding"
    port: int = Field(default=8003, validation_alias=AliasChoices("CODING_PORT", "PORT"))
