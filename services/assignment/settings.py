from pydantic import AliasChoices, Field

from shared.settings import ChartflowSettings


class AssignmentSettings(ChartflowSettings):
    service_name: str = "assignment"
    port: int = Field(default=8002, validation_alias=AliasChoices("ASSIGNMENT_PORT", "PORT"))
