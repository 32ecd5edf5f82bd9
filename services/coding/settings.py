from pydantic import AliasChoices, Field

from shared.crypto import CLINICAL, STORAGE
from shared.settings import ChartflowSettings


class CodingSettings(ChartflowSettings):
    service_name: str = "coding"
    port: int = Field(default=8003, validation_alias=AliasChoices("CODING_PORT", "PORT"))
    # Coders get the minimum necessary chart: the clinical keys, never the identity ones.
    phi_scopes: tuple[str, ...] = (STORAGE, CLINICAL)
