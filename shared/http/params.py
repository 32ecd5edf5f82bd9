"""Bounded path and query parameters: ids and keys are short and plain, never free text."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from shared.events.bounds import IDENTIFIER

#: An id in a path: a uuid, a task id, a pool or payer id, an encounter key.
IdPath = Annotated[str, Path(pattern=IDENTIFIER, max_length=140)]
#: An encounter key (`<hospital>:<external id>`) in a query.
EncounterKeyQuery = Annotated[str, Query(pattern=IDENTIFIER, max_length=140)]
