"""Every role against every other tenant's data, on every route of every service.

The routes come from the four apps' route tables: a route without an entry in `MATRIX` fails
the test, so a new route must say who may call it. Two tenants of each kind hold data: world
A (hospital `hosp-a`, vendor `vend-a`: coders ava and ben, manager nina, auditor olga) and world
B (`hosp-b`, `vend-b`: coder carl, manager mia, auditor abe). Each principal calls every route
aimed at the other tenant's data and must be refused by its credentials (401 / 403) when its
role may not call the route, or answered without any of the other tenant's identifiers when
it may. Each allowed call is then made on the principal's own data and must succeed, so a
route that refuses everyone cannot pass for a safe one. See docs/security.md for the roles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.assignment.app import create_app as assignment_app
from services.assignment.db import EscalationEntry
from services.claims.app import create_app as claims_app
from services.claims.db import ClaimRow
from services.coding import audits as coding_audits
from services.coding import handlers as coding_handlers
from services.coding.app import create_app as coding_app
from services.coding.db import Coder, CodingDenial, CodingTask, PhysicianQuery
from services.intake import handlers as intake_handlers
from services.intake import physician_queries as intake_queries
from services.intake.app import create_app as intake_app
from shared.events.access import PhiAccessed
from shared.events.assignment import AuditTaskCreated, CodingChart, CodingTaskCreated
from shared.events.claims import ClaimStatusChanged, TriageItem
from shared.events.codes import DiagnosisCode, ProcedureCode
from shared.events.coding import (
    HospitalScorecardPublished,
    QueryContent,
    QueryIndicator,
    QueryRaised,
    ScorecardFigures,
)
from shared.events.envelope import Envelope
from shared.events.intake import EncounterDocument
from shared.settings import ChartflowSettings
from tests.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.temporal  # assignment's app connects to Temporal at start

DEMO = json.loads((Path(__file__).parents[2] / "deploy/demo/data.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PUBLIC = "public"  # answers anyone, and holds no tenant's data
ANY_VENDOR_MEMBER = frozenset({"coder", "auditor", "vendor_manager"})


@dataclass(frozen=True)
class World:
    """One tenant of each kind: a hospital with an encounter and claim, a vendor with a task."""

    hospital_id: str
    external_id: str
    encounter_id: str = ""
    claim_id: str = ""
    vendor_id: str = ""
    pool_id: str = ""
    task_id: str = ""
    audit_id: str = ""
    coders: tuple[str, ...] = ()
    work_item_id: str = ""
    query_task_id: str = ""  # a task of its own encounter, with an open physician query
    query_id: str = ""
    bulk_job_id: str = ""
    webhook_id: str = ""

    @property
    def encounter_key(self) -> str:
        return f"{self.hospital_id}:{self.external_id}"

    @property
    def query_encounter_key(self) -> str:
        return f"{self.hospital_id}:{self.external_id}Q"

    @property
    def patient_control_number(self) -> str:
        return f"PCN-{self.hospital_id}"

    @property
    def document(self) -> dict[str, Any]:
        return {**DEMO["encounters"][0]["encounter"], "external_id": self.external_id}

    def identifiers(self) -> set[str]:
        """What names this tenant's data (an external id alone does not: each hospital has its
        own, and may reuse another's)."""
        ids = {self.encounter_key, self.encounter_id, self.claim_id, self.task_id, *self.coders,
               self.bulk_job_id, self.webhook_id, self.work_item_id}  # fmt: skip
        ids |= {self.audit_id, f"{self.task_id}-done", f"{self.audit_id}-done", self.vendor_id}
        if self.claim_id:
            ids.add(self.patient_control_number)
        if self.query_id:
            ids |= {self.query_id, self.query_task_id, self.query_encounter_key}
        return {i for i in ids if i}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: str | None = None  # a body that is not JSON (bulk NDJSON, FHIR)
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return f"{self.path} {self.params} {json.dumps(self.json)} {self.content}"


@dataclass(frozen=True)
class Entry:
    roles: frozenset[str]  # who may call the route
    call: Callable[[World], Call]
    # The route names one resource by id and its answer says little else (a bulk job's counts):
    # the other tenant's id must be not found, as no leaked identifier could show it.
    others_not_found: bool = False


def _hospital_reads(path: str) -> Entry:
    """A hospital's read (or removal) of one of its resources, by the id in `path`."""
    method, _, template = path.partition(" ")
    return Entry(
        HOSPITAL,
        lambda w: Call(method, template.format(**vars(w))),
        others_not_found=True,
    )


def _admin_only(call: Callable[[World], Call]) -> Entry:
    return Entry(frozenset({"admin"}), call)


def _public(path: str) -> Entry:
    return Entry(frozenset({PUBLIC}), lambda w: Call("GET", path))


HOSPITAL_IN = {**DEMO["hospital"], "id": "made-by-matrix"}
CODER_IN = {"id": "made-by-matrix", "vendor_id": "vend-x", "name": "x", "pools": ["pool-x"],
            "credentials": ["CPC"]}  # fmt: skip
POOL_IN = {**DEMO["pools"][0], "id": "pool-matrix"}
PAYER_IN = DEMO["payers"][0]
CODES = DEMO["encounters"][0]["coding"]
# Coders see their own figures, vendor managers their vendor's, admins everyone's.
FIGURE_READERS = frozenset({"coder", "vendor_manager", "admin"})
PERIOD = f"{datetime.now(UTC):%Y-%m}"
NOTE = DEMO["encounters"][0]["encounter"]["documents"][0]["text"]
QUOTE = "right knee primary osteoarthritis"
QUERY_IN = {
    "question": "Please clarify the type of the right knee osteoarthritis.",
    "format": "multiple_choice",
    "indicators": [{"document": 0, "start": NOTE.index(QUOTE), "quote": QUOTE}],
    "options": ["Primary", "Post-traumatic", "Other (please specify)", "Clinically undetermined"],
}
ANSWER_IN = {"answered_by_npi": "1234567893", "text": "Primary osteoarthritis, right knee."}
OPS_IN = {"by": "ops-matrix", "reason": "tenancy matrix"}
#: Ops controls on an encounter: the admin's; no workflow runs in this test (404 on one's own).
OPS_CONTROLS = {
    "reassign": {**OPS_IN, "pool_id": "pool-matrix"},
    "hold": OPS_IN,
    "release": OPS_IN,
    "cancel": OPS_IN,
    "extend-sla": {**OPS_IN, "seconds": 60},
}


def _ops_control(name: str, body: dict[str, Any]) -> Entry:
    return _admin_only(
        lambda w: Call("POST", f"/v1/encounters/{w.encounter_key}/{name}", json=body)
    )


HOSPITAL = frozenset({"hospital"})
WEBHOOK_IN = {"url": "http://127.0.0.1:9/hook", "events": ["claim.status"]}
NDJSON = {"Content-Type": "application/x-ndjson"}
FHIR = {"Content-Type": "application/fhir+json"}
INTAKE_SETTINGS = "/v1/admin/hospitals/{hospital_id}/intake-settings"
NPI = "http://hl7.org/fhir/sid/us-npi"


def _fhir_encounter(world: World) -> str:
    """A lone FHIR Encounter naming the other hospital's identifier: a new one of one's own."""
    patient = {"resourceType": "Patient", "id": "p", "name": [{"family": "Doe", "given": ["Jo"]}],
               "birthDate": "1980-01-01", "gender": "female",
               "address": [{"line": ["1 Main St"], "city": "Springfield", "state": "IL",
                            "postalCode": "62701"}]}  # fmt: skip
    coverage = {"resourceType": "Coverage", "id": "c", "status": "active",
                "beneficiary": {"reference": "#p"}, "subscriberId": "ACM1",
                "payor": [{"identifier": {"system": "urn:payer", "value": "ACMEHLTH"}}],
                "relationship": {"coding": [{"code": "self"}]}}  # fmt: skip
    note = {"resourceType": "DocumentReference", "id": "d", "status": "current",
            "content": [{"attachment": {"contentType": "text/plain", "data": "U29yZSB0aHJvYXQu"}}],
            "context": {"encounter": [{"reference": "#"}]}}  # fmt: skip
    return json.dumps(
        {
            "resourceType": "Encounter",
            "status": "finished",
            "contained": [patient, coverage, note],
            "identifier": [{"system": "urn:matrix", "value": f"{world.external_id}-F"}],
            "class": {"code": "AMB"},
            "subject": {"reference": "#p"},
            "period": {"start": "2026-09-15", "end": "2026-09-15"},
            "participant": [
                {"individual": {"reference": f"Practitioner?identifier={NPI}|1112223338"}}
            ],
        }
    )


DOCS = (
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/health",
    "/health/ready",
    "/metrics",
)
MATRIX: dict[tuple[str, str, str], Entry] = {
    **{
        (s, "GET", p): _public(p)
        for s in ("intake", "assignment", "coding", "claims")
        for p in DOCS
    },
    ("intake", "POST", "/v1/admin/hospitals"): _admin_only(
        lambda w: Call("POST", "/v1/admin/hospitals", json=HOSPITAL_IN)
    ),
    # The other hospital's external id and document: must give a new encounter of one's own.
    ("intake", "POST", "/v1/encounters"): Entry(
        frozenset({"hospital"}), lambda w: Call("POST", "/v1/encounters", json=w.document)
    ),
    ("intake", "GET", "/v1/encounters/{encounter_id}"): _hospital_reads(
        "GET /v1/encounters/{encounter_id}"
    ),
    ("intake", "GET", "/v1/encounters"): Entry(
        frozenset({"hospital"}), lambda w: Call("GET", "/v1/encounters")
    ),
    ("intake", "GET", "/v1/access-log"): Entry(
        frozenset({"hospital"}),
        lambda w: Call("GET", "/v1/access-log", {"encounter_key": w.encounter_key}),
    ),
    ("intake", "GET", "/v1/work-queue"): Entry(
        frozenset({"hospital"}), lambda w: Call("GET", "/v1/work-queue")
    ),
    ("intake", "POST", "/v1/work-queue/{item_id}/resolve"): Entry(
        frozenset({"hospital"}),
        lambda w: Call("POST", f"/v1/work-queue/{w.work_item_id}/resolve"),
    ),
    ("intake", "GET", "/v1/admin/access-log"): _admin_only(
        lambda w: Call("GET", "/v1/admin/access-log", {"encounter_key": w.encounter_key})
    ),
    ("intake", "GET", "/v1/queries"): Entry(
        frozenset({"hospital"}), lambda w: Call("GET", "/v1/queries")
    ),
    ("intake", "GET", "/v1/queries/{query_id}"): Entry(
        frozenset({"hospital"}), lambda w: Call("GET", f"/v1/queries/{w.query_id}")
    ),
    ("intake", "POST", "/v1/queries/{query_id}/answer"): Entry(
        frozenset({"hospital"}),
        lambda w: Call("POST", f"/v1/queries/{w.query_id}/answer", json=ANSWER_IN),
    ),
    **{
        ("assignment", "POST", f"/v1/encounters/{{encounter_key}}/{name}"): _ops_control(name, body)
        for name, body in OPS_CONTROLS.items()
    },
    ("assignment", "GET", "/v1/escalations"): _admin_only(lambda w: Call("GET", "/v1/escalations")),
    ("assignment", "POST", "/v1/escalations/{escalation_id}/acknowledge"): _admin_only(
        lambda w: Call(
            "POST", f"/v1/escalations/esc-{w.hospital_id}/acknowledge", json={"by": "ops-matrix"}
        )
    ),
    ("assignment", "GET", "/v1/saved-views"): _admin_only(lambda w: Call("GET", "/v1/saved-views")),
    ("assignment", "GET", "/ops"): _public("/ops"),
    ("assignment", "GET", "/v1/ops/dashboard"): _admin_only(
        lambda w: Call("GET", "/v1/ops/dashboard")
    ),
    ("assignment", "GET", "/v1/backlogs"): _admin_only(lambda w: Call("GET", "/v1/backlogs")),
    ("assignment", "PUT", "/v1/admin/hospitals/{hospital_id}/priority"): _admin_only(
        lambda w: Call("PUT", f"/v1/admin/hospitals/{w.hospital_id}/priority", json={"priority": 1})
    ),
    ("assignment", "GET", "/v1/query-figures"): _admin_only(
        lambda w: Call("GET", "/v1/query-figures")
    ),
    ("intake", "PUT", INTAKE_SETTINGS): _admin_only(
        lambda w: Call("PUT", INTAKE_SETTINGS.format(hospital_id=w.hospital_id), json={})
    ),
    ("intake", "GET", INTAKE_SETTINGS): _admin_only(
        lambda w: Call("GET", INTAKE_SETTINGS.format(hospital_id=w.hospital_id))
    ),
    # FHIR intake: the other hospital's identifier gives an encounter of one's own.
    ("intake", "POST", "/fhir/Encounter"): Entry(
        HOSPITAL,
        lambda w: Call("POST", "/fhir/Encounter", content=_fhir_encounter(w), headers=FHIR),
    ),
    ("intake", "POST", "/fhir/Bundle"): Entry(
        HOSPITAL,
        lambda w: Call(
            "POST",
            "/fhir/Bundle",
            headers=FHIR,
            content=json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "batch",
                    "entry": [
                        {
                            "resource": json.loads(_fhir_encounter(w)),
                            "request": {"method": "POST", "url": "Encounter"},
                        }
                    ],
                }
            ),
        ),
    ),
    ("intake", "GET", "/fhir/metadata"): _public("/fhir/metadata"),
    ("intake", "GET", "/fhir/Encounter/{encounter_id}"): _hospital_reads(
        "GET /fhir/Encounter/{encounter_id}"
    ),
    ("intake", "GET", "/fhir/Claim/{claim_id}"): _hospital_reads("GET /fhir/Claim/{claim_id}"),
    ("intake", "GET", "/fhir/ExplanationOfBenefit/{claim_id}"): _hospital_reads(
        "GET /fhir/ExplanationOfBenefit/{claim_id}"
    ),
    ("intake", "GET", "/fhir/Claim"): Entry(
        HOSPITAL, lambda w: Call("GET", "/fhir/Claim", {"encounter": w.encounter_id})
    ),
    ("intake", "GET", "/fhir/ExplanationOfBenefit"): Entry(
        HOSPITAL,
        lambda w: Call("GET", "/fhir/ExplanationOfBenefit", {"encounter": w.encounter_id}),
    ),
    ("intake", "POST", "/v1/bulk/encounters"): Entry(
        HOSPITAL,
        lambda w: Call(
            "POST", "/v1/bulk/encounters", content=json.dumps(w.document), headers=NDJSON
        ),
    ),
    ("intake", "GET", "/v1/bulk/jobs/{job_id}"): _hospital_reads("GET /v1/bulk/jobs/{bulk_job_id}"),
    ("intake", "GET", "/v1/bulk/jobs/{job_id}/errors"): _hospital_reads(
        "GET /v1/bulk/jobs/{bulk_job_id}/errors"
    ),
    ("intake", "POST", "/v1/webhooks"): Entry(
        HOSPITAL, lambda w: Call("POST", "/v1/webhooks", json=WEBHOOK_IN)
    ),
    ("intake", "GET", "/v1/webhooks"): Entry(HOSPITAL, lambda w: Call("GET", "/v1/webhooks")),
    ("intake", "GET", "/v1/webhooks/{webhook_id}/deliveries"): _hospital_reads(
        "GET /v1/webhooks/{webhook_id}/deliveries"
    ),
    # Last of the webhook calls (entries run in this order): it stops the webhook.
    ("intake", "DELETE", "/v1/webhooks/{webhook_id}"): _hospital_reads(
        "DELETE /v1/webhooks/{webhook_id}"
    ),
    ("assignment", "PUT", "/v1/admin/pools/{pool_id}"): _admin_only(
        lambda w: Call("PUT", "/v1/admin/pools/pool-matrix", json=POOL_IN)
    ),
    ("assignment", "GET", "/v1/coding-status/{encounter_key}"): _admin_only(
        lambda w: Call("GET", f"/v1/coding-status/{w.encounter_key}")
    ),
    ("coding", "POST", "/v1/admin/coders"): _admin_only(
        lambda w: Call("POST", "/v1/admin/coders", json=CODER_IN)
    ),
    ("coding", "GET", "/workbench"): _public("/workbench"),
    ("coding", "GET", "/v1/codes/search"): Entry(
        ANY_VENDOR_MEMBER, lambda w: Call("GET", "/v1/codes/search", {"q": "diabetes"})
    ),
    ("coding", "GET", "/v1/worklist"): Entry(
        frozenset({"coder"}), lambda w: Call("GET", "/v1/worklist")
    ),
    ("coding", "GET", "/v1/tasks/{task_id}"): Entry(
        frozenset({"coder"}), lambda w: Call("GET", f"/v1/tasks/{w.task_id}")
    ),
    ("coding", "POST", "/v1/tasks/{task_id}/codes"): Entry(
        frozenset({"coder"}), lambda w: Call("POST", f"/v1/tasks/{w.task_id}/codes", json=CODES)
    ),
    ("coding", "POST", "/v1/tasks/{task_id}/return"): Entry(
        frozenset({"coder"}),
        lambda w: Call(
            "POST", f"/v1/tasks/{w.task_id}/return", json={"reason": "documentation_incomplete"}
        ),
    ),
    ("coding", "POST", "/v1/tasks/{task_id}/queries"): Entry(
        frozenset({"coder"}),
        lambda w: Call("POST", f"/v1/tasks/{w.query_task_id}/queries", json=QUERY_IN),
    ),
    ("coding", "GET", "/v1/queries"): Entry(
        frozenset({"coder"}), lambda w: Call("GET", "/v1/queries")
    ),
    ("coding", "POST", "/v1/queries/{query_id}/withdraw"): Entry(
        frozenset({"coder"}), lambda w: Call("POST", f"/v1/queries/{w.query_id}/withdraw")
    ),
    ("coding", "GET", "/v1/vendor/denial-rates"): Entry(
        frozenset({"vendor_manager", "auditor"}), lambda w: Call("GET", "/v1/vendor/denial-rates")
    ),
    ("coding", "GET", "/v1/denial-rate"): Entry(
        frozenset({"coder"}), lambda w: Call("GET", "/v1/denial-rate")
    ),
    ("coding", "GET", "/v1/vendor/coders"): Entry(
        frozenset({"vendor_manager"}), lambda w: Call("GET", "/v1/vendor/coders")
    ),
    ("coding", "GET", "/v1/vendor/tasks"): Entry(
        frozenset({"vendor_manager", "auditor"}),
        lambda w: Call("GET", "/v1/vendor/tasks", {"coder_id": w.coders[0]}),
    ),
    ("coding", "GET", "/audits"): _public("/audits"),
    ("coding", "GET", "/scorecards"): _public("/scorecards"),
    ("coding", "GET", "/v1/audit-worklist"): Entry(
        frozenset({"auditor"}), lambda w: Call("GET", "/v1/audit-worklist")
    ),
    ("coding", "GET", "/v1/audits/{audit_id}"): Entry(
        frozenset({"auditor"}), lambda w: Call("GET", f"/v1/audits/{w.audit_id}")
    ),
    ("coding", "POST", "/v1/audits/{audit_id}/codes"): Entry(
        frozenset({"auditor"}), lambda w: Call("POST", f"/v1/audits/{w.audit_id}/codes", json=CODES)
    ),
    # Re-coded with the coder's own codes just before: no difference to decide.
    ("coding", "POST", "/v1/audits/{audit_id}/reconciliation"): Entry(
        frozenset({"auditor"}),
        lambda w: Call("POST", f"/v1/audits/{w.audit_id}/reconciliation", json={"decisions": []}),
    ),
    ("coding", "GET", "/v1/audits"): Entry(
        FIGURE_READERS, lambda w: Call("GET", "/v1/audits", {"coder_id": w.coders[0]})
    ),
    ("coding", "GET", "/v1/scorecards"): Entry(
        FIGURE_READERS,
        lambda w: Call("GET", "/v1/scorecards", {"by": "coder", "coder_id": w.coders[0]}),
    ),
    ("intake", "GET", "/v1/scorecards"): Entry(
        frozenset({"hospital"}), lambda w: Call("GET", "/v1/scorecards", {"period": PERIOD})
    ),
    ("assignment", "PUT", "/v1/admin/pools/{pool_id}/audit-policy"): _admin_only(
        lambda w: Call("PUT", "/v1/admin/pools/pool-matrix/audit-policy", json={})
    ),
    ("assignment", "GET", "/v1/admin/pools/{pool_id}/audit-policy"): _admin_only(
        lambda w: Call("GET", "/v1/admin/pools/pool-matrix/audit-policy")
    ),
    ("claims", "PUT", "/v1/admin/payers/{payer_id}"): _admin_only(
        lambda w: Call("PUT", f"/v1/admin/payers/{PAYER_IN['payer_id']}", json=PAYER_IN)
    ),
    ("claims", "POST", "/v1/admin/payers/{payer_id}/remittances"): _admin_only(
        lambda w: Call("POST", f"/v1/admin/payers/{PAYER_IN['payer_id']}/remittances", json="")
    ),
    ("claims", "GET", "/v1/claims"): _admin_only(
        lambda w: Call("GET", "/v1/claims", {"encounter_key": w.encounter_key})
    ),
    ("claims", "GET", "/v1/claims/{claim_id}"): _admin_only(
        lambda w: Call("GET", f"/v1/claims/{w.claim_id}")
    ),
    ("claims", "GET", "/v1/claims/{claim_id}/x12"): _admin_only(
        lambda w: Call("GET", f"/v1/claims/{w.claim_id}/x12")
    ),
    ("claims", "POST", "/v1/admin/claims/{claim_id}/void"): _admin_only(
        lambda w: Call("POST", f"/v1/admin/claims/{w.claim_id}/void")
    ),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    headers: dict[str, str]
    own: World | None
    other: World

    def foreign(self, call: Call) -> set[str]:
        """The other tenant's identifiers that an answer to `call` must not contain."""
        mine = self.own.identifiers() if self.own else set()
        return {i for i in self.other.identifiers() - mine if i not in call.text()}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers' routes too."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            included = getattr(route, "include_context", None)
            if included is not None:
                yield from walk(included.included_router.routes, prefix + included.prefix)
            else:
                for method in getattr(route, "methods", None) or ():
                    if method != "HEAD":
                        yield method, prefix + route.path

    return set(walk(app.router.routes, ""))


@dataclass
class Platform:
    clients: dict[str, TestClient]
    a: World
    b: World
    ben: World  # world A as coder ben's task makes it
    principals: list[Principal]


def _settings(service: str, var: Path, stack: Stack) -> ChartflowSettings:
    return ChartflowSettings(
        service_name=service, chartflow_var=var, admin_token=ADMIN_TOKEN, database_url=None,
        kafka_bootstrap_servers="127.0.0.1:1", temporal_address=stack.temporal,
    )  # fmt: skip


def _ok(answer: Any) -> Any:
    assert answer.status_code < 300, answer.text
    return answer.json()


def _task(app: FastAPI, world: World, task_id: str, key: str) -> None:
    created = CodingTaskCreated(
        task_id=task_id, encounter_key=key, hospital_id=world.hospital_id,
        vendor_id=world.vendor_id, pool_id=world.pool_id,
        due_at=datetime.now(UTC) + timedelta(days=1),
        chart=CodingChart.of(EncounterDocument.model_validate(world.document)),
    )  # fmt: skip
    envelope = Envelope.wrap(created, source="test", subject=key, tenant=world.hospital_id)
    app.state.runtime.db.run_sync(lambda s: coding_handlers.take_task(s, envelope))


def _access(app: FastAPI, world: World) -> None:
    accessed = PhiAccessed(
        actor=world.coders[0], role="coder", actor_org=world.vendor_id, tenant=world.hospital_id,
        action="chart.read", encounter_key=world.encounter_key, route="GET /v1/tasks/{task_id}",
        service="coding", at=datetime.now(UTC),
    )  # fmt: skip
    envelope = Envelope.wrap(accessed, source="coding", subject="k", tenant=world.hospital_id)
    app.state.runtime.db.run_sync(lambda s: intake_handlers.store_access(s, envelope))


def _audits(app: FastAPI, world: World, coder: str, auditor: str, open_one: bool) -> None:
    """A completed audit of one of the coder's tasks, and (`open_one`) one the world's
    auditor has still to re-code, on another of their tasks."""
    db, settings = app.state.runtime.db, app.state.settings
    ids = [(f"{world.task_id}-done", f"{world.audit_id}-done")]
    ids += [(f"{world.task_id}-coded", world.audit_id)] if open_one else []
    codes = coding_handlers.Submission(
        [DiagnosisCode.model_validate(d) for d in CODES["diagnoses"]],
        [ProcedureCode.model_validate(p) for p in CODES["procedures"]],
    )
    for task_id, audit_id in ids:
        _task(app, world, task_id, world.encounter_key)

        def submit(session: Any, task_id: str = task_id) -> None:
            session.get(CodingTask, task_id).coder_id = coder
            who = session.get(Coder, coder)
            coding_handlers.submit_codes(session, settings, who, task_id, codes)

        db.run_sync(submit)
        sampled = AuditTaskCreated(
            audit_id=audit_id, encounter_key=world.encounter_key, hospital_id=world.hospital_id,
            task_id=task_id, coder_id=coder, vendor_id=world.vendor_id, pool_id=world.pool_id,
            due_at=datetime.now(UTC) + timedelta(days=1), rule="new_coder", reason="matrix",
            credentials=["CPC"],
        )  # fmt: skip
        envelope = Envelope.wrap(sampled, source="test", subject="k", tenant=world.hospital_id)
        db.run_sync(lambda s, e=envelope: coding_audits.take_audit(s, e))
    done = ids[0][1]
    db.run_sync(lambda s: coding_audits.submit_recode(s, s.get(Coder, auditor), done, codes))
    db.run_sync(lambda s: coding_audits.reconcile(s, settings, s.get(Coder, auditor), done, []))


def _scorecard(app: FastAPI, world: World) -> None:
    figures = ScorecardFigures(
        group=world.vendor_id, volume=1, audited=1, accuracy_percent=100.0,
        diagnoses_accuracy_percent=100.0, procedures_accuracy_percent=100.0,
        record_accuracy_percent=100.0, differences={}, turnaround_p50_seconds=1.0,
        turnaround_p90_seconds=1.0, query_rate=None,
    )  # fmt: skip
    published = HospitalScorecardPublished(
        hospital_id=world.hospital_id, period=PERIOD, as_of=datetime.now(UTC), vendors=[figures]
    )
    envelope = Envelope.wrap(published, source="coding", subject="k", tenant=world.hospital_id)
    app.state.runtime.db.run_sync(lambda s: intake_handlers.store_scorecard(s, envelope))


def _billing_denial(app: FastAPI, world: World) -> str:
    """A claim of the world denied for a registration reason: its hospital's work item."""
    change = ClaimStatusChanged(
        encounter_key=world.encounter_key, claim_id=world.claim_id,
        patient_control_number=f"PCN-{world.hospital_id}", claim_type="professional",
        status="denied", total_charge=Decimal("330.00"), reason="835: denied (CO-31)",
        triage=[TriageItem(source="835", cause="billing", code="CO-31", meaning="not insured")],
    )  # fmt: skip
    event_id = f"claim-{world.hospital_id}-3-denied"
    envelope = Envelope.wrap(
        change, source="claims", subject=world.encounter_key, tenant=world.hospital_id,
        id=event_id,
    )  # fmt: skip
    app.state.runtime.db.run_sync(lambda s: intake_handlers.record_claim_status(s, envelope))
    return event_id


def _queries(clients: dict[str, TestClient], world: World, coder: str) -> None:
    """An open, open-ended physician query by `coder` on the world's query task, in coding and
    intake, and an escalation for ops."""
    content = QueryContent(
        question=QUERY_IN["question"],
        indicators=[QueryIndicator(**i) for i in QUERY_IN["indicators"]],
    )
    query = PhysicianQuery(
        id=world.query_id, task_id=world.query_task_id, encounter_key=world.query_encounter_key,
        hospital_id=world.hospital_id, vendor_id=world.vendor_id, coder_id=coder,
        format="open_ended", content=content.model_dump_json(),
    )  # fmt: skip
    coding = clients["coding"].app.state.runtime.db
    coding.run_sync(lambda s: s.add(query))
    coding.run_sync(lambda s: coding_handlers.refresh_tasks(s, world.query_encounter_key))
    raised = QueryRaised(
        query_id=world.query_id, task_id=world.query_task_id,
        encounter_key=world.query_encounter_key, hospital_id=world.hospital_id, coder_id=coder,
        format="open_ended", raised_at=datetime.now(UTC), content=content,
    )  # fmt: skip
    envelope = Envelope.wrap(raised, source="coding", subject="k", tenant=world.hospital_id)
    intake = clients["intake"].app.state.runtime.db
    intake.run_sync(lambda s: intake_queries.record_query(s, envelope))
    escalation = EscalationEntry(
        id=f"esc-{world.hospital_id}", encounter_key=world.encounter_key,
        hospital_id=world.hospital_id, kind="no_other_pool",
    )  # fmt: skip
    clients["assignment"].app.state.runtime.db.run_sync(lambda s: s.merge(escalation))


def _coding_denial(app: FastAPI, world: World) -> None:
    denial = CodingDenial(
        rework_task_id=f"rework-{world.hospital_id}", encounter_key=world.encounter_key,
        vendor_id=world.vendor_id, coder_id=world.coders[0], pool_id=world.pool_id,
        denied_task_id=world.task_id, claim_id=world.claim_id, codes="CO-11",
    )  # fmt: skip
    app.state.runtime.db.run_sync(lambda s: s.add(denial))


def _claim(app: FastAPI, world: World) -> None:
    row = ClaimRow(
        id=world.claim_id, encounter_key=world.encounter_key,
        hospital_id=world.hospital_id, patient_control_number=world.patient_control_number,
        claim_type="professional", payer_id="ACMEHLTH", total_charge="330.00", status="built",
        reason="built", findings="[]", x12="ISA*...~", interchange_control_number=1,
        document="{}",
    )  # fmt: skip
    app.state.runtime.db.run_sync(lambda s: s.add(row))


def _claim_status(app: FastAPI, world: World) -> None:
    """Intake learns of the claim (as from `claims.status`): its FHIR Claim and EOB exist."""
    change = ClaimStatusChanged(
        encounter_key=world.encounter_key, claim_id=world.claim_id,
        patient_control_number=world.patient_control_number, claim_type="professional",
        status="paid", total_charge=Decimal("330.00"), reason="paid", paid=Decimal("280.00"),
    )  # fmt: skip
    envelope = Envelope.wrap(
        change, source="claims", subject=world.encounter_key, tenant=world.hospital_id
    )
    app.state.runtime.db.run_sync(lambda s: intake_handlers.record_claim_status(s, envelope))


STAFF = {
    "a": {"coder-ava": "coder", "coder-ben": "coder", "manager-nina": "vendor_manager",
          "auditor-olga": "auditor"},
    "b": {"coder-carl": "coder", "manager-mia": "vendor_manager", "auditor-abe": "auditor"},
}  # fmt: skip


def _seed(clients: dict[str, TestClient]) -> Platform:
    intake, coding = clients["intake"], clients["coding"]
    worlds, keys = {}, {}
    for name, staff in STAFF.items():
        world = World(
            hospital_id=f"hosp-{name}", external_id=f"ENC-{name.upper()}1",
            vendor_id=f"vend-{name}", pool_id=f"pool-{name}", task_id=f"task-{name}",
            audit_id=f"audit-{name}", coders=tuple(staff), query_task_id=f"{name}-qtask",
            query_id=f"{name}-query",
        )  # fmt: skip
        body = {**DEMO["hospital"], "id": world.hospital_id}
        keys[name] = _ok(intake.post("/v1/admin/hospitals", json=body, headers=ADMIN))["api_key"]
        pushed = intake.post(
            "/v1/encounters", json=world.document, headers={"X-API-Key": keys[name]}
        )
        world = replace(world, encounter_id=_ok(pushed)["id"], claim_id=f"claim-{name}")
        _access(intake.app, world)
        world = replace(world, work_item_id=_billing_denial(intake.app, world))
        _claim(clients["claims"].app, world)
        hospital = {"X-API-Key": keys[name]}
        webhook = _ok(intake.post("/v1/webhooks", json=WEBHOOK_IN, headers=hospital))
        _claim_status(intake.app, world)  # and a delivery to the webhook, naming the encounter
        job = intake.post("/v1/bulk/encounters", content=json.dumps(world.document),
                          headers={**hospital, **NDJSON})  # fmt: skip
        world = replace(world, webhook_id=webhook["id"], bulk_job_id=_ok(job)["id"])
        for person, role in staff.items():
            body = {"id": person, "vendor_id": world.vendor_id, "name": person, "role": role,
                    "pools": [world.pool_id], "credentials": ["CPC"]}  # fmt: skip
            keys[person] = _ok(coding.post("/v1/admin/coders", json=body, headers=ADMIN))["api_key"]
        worlds[name] = world
    a, b = worlds["a"], worlds["b"]
    # Ben's task: same vendor as ava's, another coder's.
    ben = replace(a, external_id="ENC-BEN1", encounter_id="enc-ben", claim_id="claim-ben",
                  task_id="task-ben", audit_id="audit-ben", coders=("coder-ben",),
                  query_task_id="ben-qtask", query_id="ben-query")  # fmt: skip
    ava = replace(a, coders=tuple(c for c in a.coders if c != "coder-ben"))
    _task(coding.app, a, a.task_id, a.encounter_key)  # to ava: the least loaded, first by id
    _task(coding.app, a, ben.task_id, ben.encounter_key)  # to ben
    _task(coding.app, b, b.task_id, b.encounter_key)  # to carl
    for world in (a, b):  # a coding-caused denial against each vendor's first coder
        _coding_denial(coding.app, world)
    _task(coding.app, a, a.query_task_id, a.query_encounter_key)  # to ava
    _task(coding.app, a, ben.query_task_id, ben.query_encounter_key)  # to ben
    _task(coding.app, b, b.query_task_id, b.query_encounter_key)  # to carl
    for world, coder in ((a, "coder-ava"), (ben, "coder-ben"), (b, "coder-carl")):
        _queries(clients, world, coder)
    for world, coder, auditor in (
        (a, "coder-ava", "auditor-olga"),
        (b, "coder-carl", "auditor-abe"),
    ):
        _audits(coding.app, world, coder, auditor, open_one=True)
        _scorecard(intake.app, world)
    _audits(coding.app, ben, "coder-ben", "auditor-olga", open_one=False)

    def key(name: str) -> dict[str, str]:
        return {"X-API-Key": keys[name]}

    everyone = replace(a, coders=a.coders + b.coders)
    principals = [
        Principal("anonymous", "anonymous", {}, None, everyone),
        Principal("anonymous (world b)", "anonymous", {}, None, b),
        Principal("hospital a", "hospital", key("a"), a, b),
        Principal("coder ava vs vendor b", "coder", key("coder-ava"), ava, b),
        Principal("coder ava vs coder ben", "coder", key("coder-ava"), ava, ben),
        Principal("vendor manager nina", "vendor_manager", key("manager-nina"), a, b),
        Principal("auditor olga", "auditor", key("auditor-olga"), a, b),
        Principal("admin", "admin", ADMIN, a, b),
    ]
    return Platform(clients, a, b, ben, principals)


@pytest.fixture(scope="module")
def platform(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    var = tmp_path_factory.mktemp("var")
    factories = {
        "intake": intake_app, "assignment": assignment_app, "coding": coding_app,
        "claims": claims_app,
    }  # fmt: skip
    clients = {
        name: TestClient(make(_settings(name, var, stack), frozenset({"api"})))
        for name, make in factories.items()
    }
    for client in clients.values():
        client.__enter__()
    try:
        yield _seed(clients)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def _send(client: TestClient, call: Call, headers: dict[str, str]) -> Any:
    return client.request(
        call.method, call.path, params=call.params, json=call.json, content=call.content,
        headers={**call.headers, **headers},
    )  # fmt: skip


WORKFLOW_ROUTES = ("/v1/coding-status/{encounter_key}", "/v1/encounters/{encounter_key}/")


def test_every_route_has_a_matrix_entry(platform: Platform) -> None:
    routes = {
        (service, method, path)
        for service, client in platform.clients.items()
        for method, path in route_table(client.app)
    }

    assert routes - MATRIX.keys() == set(), "routes with no tenancy matrix entry"
    assert MATRIX.keys() - routes == set(), "matrix entries for routes that do not exist"


def test_no_route_answers_any_role_with_another_tenants_data(platform: Platform) -> None:
    failures = []
    for principal in platform.principals:
        if principal.role == "admin":
            continue
        for (service, _method, path), entry in MATRIX.items():
            call = entry.call(principal.other)
            answer = _send(platform.clients[service], call, principal.headers)
            allowed = PUBLIC in entry.roles or principal.role in entry.roles
            leaked = {i for i in principal.foreign(call) if i in answer.text}
            where = f"{principal.name}: {call.method} {service}{path}"
            if answer.status_code >= 500:
                failures.append(f"{where} -> {answer.status_code}")
            elif not allowed and answer.status_code not in (401, 403):
                failures.append(f"{where} -> {answer.status_code}, not refused")
            elif allowed and entry.others_not_found and answer.status_code != 404:
                failures.append(f"{where} -> {answer.status_code}, not 404")
            elif leaked:
                failures.append(f"{where} -> {answer.status_code} with {sorted(leaked)}")

    assert not failures, "\n".join(failures)


def test_every_role_reaches_its_own_data_on_the_routes_it_may_call(platform: Platform) -> None:
    failures, made = [], set()
    for principal in platform.principals:
        if principal.own is None:
            continue
        for (service, _method, path), entry in MATRIX.items():
            call = entry.call(principal.own)
            done = (str(principal.headers), service, call.method, call.text())
            if principal.role not in entry.roles or done in made:
                continue  # a call made once already (codes are submitted once)
            made.add(done)
            answer = _send(platform.clients[service], call, principal.headers)
            ok = answer.status_code < 300
            if principal.role == "admin" and path.startswith(WORKFLOW_ROUTES):
                ok = answer.status_code == 404  # allowed; no workflow runs in this test
            if path == "/v1/admin/payers/{payer_id}/remittances":
                ok = answer.status_code == 422  # reached: an empty 835 is refused as unreadable
            if path == "/v1/admin/claims/{claim_id}/void":
                ok = answer.status_code == 409  # reached: a claim still `built` cannot be voided
            if path == "/v1/tasks/{task_id}/return":
                ok = answer.status_code == 409  # reached: the coder submitted this task's codes
            if not ok:
                failures.append(f"{principal.name}: {service}{path} -> {answer.status_code}")

    assert not failures, "\n".join(failures)
