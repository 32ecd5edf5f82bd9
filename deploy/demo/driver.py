"""Drives the running platform over HTTP only, as a hospital, a coder and an admin would."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).with_name("data.json")
FINAL_CLAIM_STATUSES = frozenset(
    {"paid", "partially_paid", "denied", "rejected", "held", "submission_failed", "voided"}
)


def claim_settled(view: dict[str, Any]) -> bool:
    """The encounter's newest claim is final, and no coding-caused denial sends it back to
    its coder (the workflow then bills a corrected claim)."""
    claim = view["claim"]
    if claim["status"] not in FINAL_CLAIM_STATUSES:
        return False
    newest = view.get("claims") or [{}]
    return not any(t["cause"] == "coding" for t in newest[-1].get("triage", []))


@dataclass(frozen=True)
class Endpoints:
    intake: str
    assignment: str
    coding: str
    claims: str
    admin_token: str
    payer_sim: str | None = None  # the HTTP payer simulator; none: claims' in-process one

    @classmethod
    def local(
        cls, ports: dict[str, int], admin_token: str, payer_sim_port: int | None = None
    ) -> Endpoints:
        return cls(
            **{name: f"http://127.0.0.1:{port}" for name, port in ports.items()},
            admin_token=admin_token,
            payer_sim=f"http://127.0.0.1:{payer_sim_port}" if payer_sim_port else None,
        )


@dataclass
class Scenario:
    endpoints: Endpoints
    data: dict[str, Any] = field(default_factory=lambda: json.loads(DATA.read_text()))
    hospital_key: str = ""
    coder_keys: dict[str, str] = field(default_factory=dict)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    # External id → the codes to submit, for encounters pushed as FHIR, HL7 or bulk files.
    extra_codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def _admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoints.admin_token}"}

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise RuntimeError(
                f"{response.request.method} {response.request.url} -> "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response

    def _ok(self, response: httpx.Response) -> Any:
        return self._checked(response).json()

    def seed(self) -> None:
        """A hospital with an API key, a vendor with pools and a coder, a payer."""
        e, c = self.endpoints, self.client
        hospital = self.data["hospital"]
        self.hospital_key = self._ok(
            c.post(f"{e.intake}/v1/admin/hospitals", json=hospital, headers=self._admin)
        )["api_key"]
        for pool in self.data["pools"]:
            self._ok(
                c.put(f"{e.assignment}/v1/admin/pools/{pool['id']}", json=pool, headers=self._admin)
            )
        for coder in self.data["coders"]:
            answer = c.post(f"{e.coding}/v1/admin/coders", json=coder, headers=self._admin)
            self.coder_keys[coder["id"]] = self._ok(answer)["api_key"]
        for payer in self.data["payers"]:
            if e.payer_sim:  # the same scenarios, scripted on the HTTP payer
                self._ok(c.put(f"{e.payer_sim}/v1/scenarios", json=payer["simulator"]))
                payer = {**payer, "endpoint": e.payer_sim}
            url = f"{e.claims}/v1/admin/payers/{payer['payer_id']}"
            self._ok(c.put(url, json=payer, headers=self._admin))

    def push(self, encounter: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            f"{self.endpoints.intake}/v1/encounters",
            json=encounter,
            headers={"X-API-Key": self.hospital_key},
        )
        result: dict[str, Any] = self._ok(response)
        return result

    def push_all(self) -> dict[str, dict[str, Any]]:
        """Every sample encounter, by external id."""
        return {
            item["encounter"]["external_id"]: self.push(item["encounter"])
            for item in self.data["encounters"]
        }

    def push_fhir(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """POST a FHIR Bundle; the transaction-response or batch-response Bundle."""
        response = self.client.post(
            f"{self.endpoints.intake}/fhir/Bundle",
            json=bundle,
            headers={"X-API-Key": self.hospital_key, "Content-Type": "application/fhir+json"},
        )
        result: dict[str, Any] = self._ok(response)
        return result

    def answers(self, kind: str = "coding") -> dict[str, dict[str, Any]]:
        """The codes the simulated coder submits per encounter key: on a first coding task,
        or (`rework`) when a coding-caused denial brings the encounter back."""
        hospital_id = self.data["hospital"]["id"]
        found = {
            f"{hospital_id}:{item['encounter']['external_id']}": item.get(kind, item["coding"])
            for item in self.data["encounters"]
        }
        found.update({f"{hospital_id}:{ext}": c for ext, c in self.extra_codes.items()})
        return found

    def code_worklists(self) -> int:
        """The simulated coder opens each chart on their worklist and submits the codes."""
        e, c = self.endpoints, self.client
        answers = {"coding": self.answers(), "rework": self.answers("rework")}
        coded = 0
        for key in self.coder_keys.values():
            headers = {"X-API-Key": key}
            for task in self._ok(c.get(f"{e.coding}/v1/worklist", headers=headers)):
                kind = "rework" if task.get("kind") == "rework" else "coding"
                codes = answers[kind].get(task["encounter_key"])
                if codes is None:
                    continue
                self._ok(c.get(f"{e.coding}/v1/tasks/{task['id']}", headers=headers))
                url = f"{e.coding}/v1/tasks/{task['id']}/codes"
                self._ok(c.post(url, json=codes, headers=headers))
                coded += 1
        return coded

    def encounter(self, encounter_id: str) -> dict[str, Any]:
        url = f"{self.endpoints.intake}/v1/encounters/{encounter_id}"
        result: dict[str, Any] = self._ok(
            self.client.get(url, headers={"X-API-Key": self.hospital_key})
        )
        return result

    def claims_for(self, encounter_key: str) -> list[dict[str, Any]]:
        """Every claim the claims service holds for the encounter (an admin's view)."""
        url = f"{self.endpoints.claims}/v1/claims"
        response = self.client.get(
            url, params={"encounter_key": encounter_key}, headers=self._admin
        )
        result: list[dict[str, Any]] = self._ok(response)
        return result

    def coding_status(self, encounter_key: str) -> dict[str, Any] | None:
        """The encounter's workflow as ops see it (assignment's admin API), if it answers."""
        url = f"{self.endpoints.assignment}/v1/coding-status/{encounter_key}"
        answer = self.client.get(url, headers=self._admin)
        return answer.json() if answer.status_code == 200 else None

    def claim_x12(self, claim_id: str) -> str:
        """The claim's 837 (an admin's read of PHI: it lands in the access log)."""
        url = f"{self.endpoints.claims}/v1/claims/{claim_id}/x12"
        return self._checked(self.client.get(url, headers=self._admin)).text

    def access_log(self, as_hospital: bool = False, **filters: str) -> list[dict[str, Any]]:
        """Records of the PHI access log: all (admin), or the hospital's own."""
        path = "/v1/access-log" if as_hospital else "/v1/admin/access-log"
        headers = {"X-API-Key": self.hospital_key} if as_hospital else self._admin
        url = f"{self.endpoints.intake}{path}"
        records: list[dict[str, Any]] = self._ok(
            self.client.get(url, params=filters, headers=headers)
        )["records"]
        return records

    def run_until_claimed(
        self,
        pushed: dict[str, dict[str, Any]],
        timeout: float = 120.0,
        on_first_claim: Callable[[], None] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Code what reaches the worklist until every encounter has a final claim status."""
        deadline = time.monotonic() + timeout
        views: dict[str, dict[str, Any]] = {}
        while True:
            self.code_worklists()
            views = {ext: self.encounter(view["id"]) for ext, view in pushed.items()}
            if on_first_claim and any(v["claim"]["status"] for v in views.values()):
                on_first_claim()
            claimed = [v for v in views.values() if claim_settled(v)]
            if len(claimed) == len(views):
                return views
            if time.monotonic() > deadline:
                waiting = {ext: v["status"] for ext, v in views.items()}
                raise TimeoutError(f"encounters still without a claim after {timeout}s: {waiting}")
            time.sleep(0.5)
