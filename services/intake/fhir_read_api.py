"""FHIR read-back: `GET /fhir/Encounter/{id}` with its diagnoses once coded, and the claim and
payment as `Claim` and `ExplanationOfBenefit` (by id, or searched by encounter). Each read that
returns a resource is recorded in the PHI access log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.intake import readback
from services.intake.domain.fhir_readback import (
    EncounterRecord,
    claim_resource,
    encounter_resource,
    explanation_of_benefit,
)
from services.intake.domain.outcome import FhirError, Issue
from services.intake.fhir_http import (
    FhirHospital,
    FhirJSONResponse,
    fhir_answers,
    fhir_response,
    resource_schema,
)
from shared.events.bounds import IDENTIFIER
from shared.http import IdPath, RuntimeDep, SettingsDep
from shared.http.access import RouteName

router = APIRouter(prefix="/fhir", tags=["fhir"])
#: `?encounter=Encounter/{id}` or `?encounter={id}`.
EncounterReference = Annotated[
    str, Query(pattern=f"^(Encounter/)?{IDENTIFIER.removeprefix('^')}", max_length=150)
]


@dataclass
class Reading:
    """Who reads (the hospital of the key), through which route, and with what."""

    hospital: FhirHospital
    rt: RuntimeDep
    settings: SettingsDep
    route: RouteName

    async def encounter(self, encounter_id: str, claimed: bool = False) -> EncounterRecord | None:
        return await self.rt.db.run(
            lambda s: readback.read_encounter(
                s, self.settings, self.hospital, self.route, encounter_id, claimed=claimed
            )
        )

    async def claim(self, claim_id: str) -> EncounterRecord:
        record = await self.rt.db.run(
            lambda s: readback.read_claim(s, self.settings, self.hospital, self.route, claim_id)
        )
        if record is None:
            raise _not_found(f"Claim/{claim_id}")
        return record

    async def search(
        self, encounter: str, build: Callable[[EncounterRecord], dict[str, Any]]
    ) -> JSONResponse:
        """A searchset Bundle: the encounter's claim as `build` shows it, once there is one."""
        record = await self.encounter(encounter.removeprefix("Encounter/"), claimed=True)
        found = [build(record)] if record is not None else []
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in found],
        }
        return fhir_response(bundle)


ReadingDep = Annotated[Reading, Depends()]


def _reads(path: str, kind: str, search: bool = False) -> Any:
    """A FHIR GET route: the resource (or a searchset Bundle of it), or an OperationOutcome."""
    if search:
        found = f"A searchset Bundle: the encounter's {kind}, once there is one"
        answers = fhir_answers({200: (found, resource_schema("Bundle"))}, (400, 401))
    else:
        answers = fhir_answers({200: (f"The {kind}", resource_schema(kind))}, (400, 401, 404))
    return router.get(path, response_class=FhirJSONResponse, responses=answers)


def _not_found(what: str) -> FhirError:
    return FhirError(404, [Issue("not-found", what, f"{what} is not known for this hospital")])


@_reads("/Encounter/{encounter_id}", "Encounter")
async def read_encounter(encounter_id: IdPath, reading: ReadingDep) -> JSONResponse:
    record = await reading.encounter(encounter_id)
    if record is None:
        raise _not_found(f"Encounter/{encounter_id}")
    return fhir_response(encounter_resource(record))


@_reads("/Claim/{claim_id}", "Claim")
async def read_claim(claim_id: IdPath, reading: ReadingDep) -> JSONResponse:
    return fhir_response(claim_resource(await reading.claim(claim_id)))


@_reads("/ExplanationOfBenefit/{claim_id}", "ExplanationOfBenefit")
async def read_eob(claim_id: IdPath, reading: ReadingDep) -> JSONResponse:
    return fhir_response(explanation_of_benefit(await reading.claim(claim_id)))


@_reads("/Claim", "Claim", search=True)
async def search_claims(encounter: EncounterReference, reading: ReadingDep) -> JSONResponse:
    """`?encounter={id}`: the encounter's claim, once claims built one."""
    return await reading.search(encounter, claim_resource)


@_reads("/ExplanationOfBenefit", "ExplanationOfBenefit", search=True)
async def search_eobs(encounter: EncounterReference, reading: ReadingDep) -> JSONResponse:
    """`?encounter={id}`: the payer's answer to the encounter's claim."""
    return await reading.search(encounter, explanation_of_benefit)


CAPABILITIES: dict[str, Any] = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "date": "2026-09-01",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
    "rest": [
        {
            "mode": "server",
            "security": {"description": "the hospital's API key in the X-API-Key header"},
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "resource": [
                {"type": "Encounter", "interaction": [{"code": "create"}, {"code": "read"}]},
                *(
                    {
                        "type": kind,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [{"name": "encounter", "type": "reference"}],
                    }
                    for kind in ("Claim", "ExplanationOfBenefit")
                ),
            ],
        }
    ],
}


@router.get(
    "/metadata",
    response_class=FhirJSONResponse,
    responses=fhir_answers(
        {200: ("The CapabilityStatement", resource_schema("CapabilityStatement"))}, ()
    ),
)
async def metadata() -> JSONResponse:
    """What this FHIR endpoint does (FHIR clients read it first)."""
    return fhir_response(CAPABILITIES)
