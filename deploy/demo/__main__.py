"""`python -m deploy.demo`: seed, push the sample encounters, code them, print where each ended."""

from __future__ import annotations

import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic_settings import BaseSettings

from deploy.demo.driver import Endpoints, Scenario
from shared.secrets import admin_token_path
from shared.settings import REPO_ROOT


class DemoSettings(BaseSettings):
    intake_port: int = 8001
    assignment_port: int = 8002
    coding_port: int = 8003
    claims_port: int = 8004
    # The HTTP payer simulator (deploy/local's payer-sim); unset: the claims port + 1.
    payer_sim_port: int | None = None
    temporal_ui_port: int = 8233
    # Unset: the token the services generated into <var>/secrets/admin-token.
    admin_token: str | None = None
    chartflow_var: Path = REPO_ROOT / "var"
    # Epoch seconds when `make demo` started, to report the time to the first claim.
    demo_started_at: float | None = None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


FREQUENCY = {"1": "original", "7": "replacement", "8": "void"}


def print_chain(scenario: Scenario, view: dict[str, Any]) -> None:
    """A corrected encounter: each claim version with its history and the payer's verdict
    classified, then the encounter's workflow from coding to the final outcome."""
    for claim in view["claims"]:
        kind = FREQUENCY.get(claim["frequency"], claim["frequency"])
        ref = f" of payer claim {claim['payer_claim_id']}" if claim["payer_claim_id"] else ""
        print(f"{'':<16}claim version {claim['version']} ({kind}){ref}: {claim['status']}")
        for step in claim["history"]:
            print(f"{'':<18}{step['status']:<14} {step['reason']}")
        for item in claim["triage"]:
            lines = ", ".join(f"line {ln['number']} {ln['procedure_code']}" for ln in item["lines"])
            print(
                f"{'':<18}> {item['code']} ({item['cause']}-caused): {item['meaning']}"
                + (f" [{lines}]" if lines else "")
            )
    workflow = scenario.coding_status(view["encounter_key"])
    if workflow:
        print(f"{'':<16}workflow: {' -> '.join(workflow['history'])}")
        for rework in workflow.get("reworks", []):
            print(
                f"{'':<18}rework of claim version {rework['claim_version']} to coder "
                f"{rework['coder_id'] or '(pool)'}: {'; '.join(rework['reasons'])}"
            )


def old_default_status(scenario: Scenario) -> int:
    """What the platform answers an admin request with the token older builds defaulted to."""
    url = f"{scenario.endpoints.intake}/v1/admin/access-log"
    answer = scenario.client.get(url, headers={"Authorization": "Bearer local-admin-token"})
    return answer.status_code


def main() -> int:
    settings = DemoSettings()
    started = settings.demo_started_at or time.time()
    ports = {
        "intake": settings.intake_port,
        "assignment": settings.assignment_port,
        "coding": settings.coding_port,
        "claims": settings.claims_port,
    }
    token_file = admin_token_path(settings.chartflow_var)
    token = settings.admin_token or token_file.read_text().strip()
    payer_sim = settings.payer_sim_port or settings.claims_port + 1
    if not _answers(f"http://127.0.0.1:{payer_sim}/health"):
        print(f"(no payer simulator on port {payer_sim}: claims' in-process simulator answers)")
        payer_sim = 0
    scenario = Scenario(Endpoints.local(ports, token, payer_sim or None))
    scenario.seed()
    pushed = scenario.push_all()
    first_claim: float | None = None

    def note_first_claim() -> None:
        nonlocal first_claim
        if first_claim is None:
            first_claim = time.time() - started

    views = scenario.run_until_claimed(pushed, on_first_claim=note_first_claim)
    print(f"\n{'encounter':<14} {'class':<13} {'claim':<15} {'charge':>9} {'paid':>9}")
    for external_id, view in views.items():
        claim = view["claim"]
        print(
            f"{external_id:<14} {view['encounter_class']:<13} {claim['status']:<15} "
            f"{claim['total_charge'] or '-':>9} {claim['paid'] or '-':>9}"
        )
        if len(view["claims"]) > 1:
            print_chain(scenario, view)
            continue
        for step in claim["history"]:
            print(f"{'':<16}{step['status']:<14} {step['reason']}")
        for finding in claim["findings"]:
            print(f"{'':<16}! {finding['rule']}: {finding['message']}")
    statuses = Counter(v["claim"]["status"] for v in views.values())
    validated = sum(
        1
        for v in views.values()
        if any("validated by pyx12" in s["reason"] for s in v["claim"]["history"])
    )
    billed = sum(Decimal(v["claim"]["total_charge"] or 0) for v in views.values())
    paid = sum(Decimal(v["claim"]["paid"] or 0) for v in views.values())
    outcome = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    print(
        f"\n{len(views)} encounters: {validated} claims validated by pyx12 and sent to the payer; "
        f"{outcome}; paid {paid} of {billed} billed; first claim {first_claim:.1f}s after start."
    )
    print(
        "\nWhere to look next:\n"
        f"  Temporal UI (EncounterCoding workflows): http://127.0.0.1:{settings.temporal_ui_port}\n"
        + "".join(
            f"  {name:<10} API docs: http://127.0.0.1:{port}/docs\n" for name, port in ports.items()
        )
        + f"  Coder workbench: http://127.0.0.1:{settings.coding_port}/workbench"
        + f" (API key {next(iter(scenario.coder_keys.values()))})\n"
        + "  Hospital API key for intake (X-API-Key): "
        + scenario.hospital_key
        + "\n  Kafka credentials (one SASL/SCRAM principal per service): var/kafka/credentials/"
        + "\n  Admin token (Authorization: Bearer ...): "
        + (
            "the ADMIN_TOKEN you set"
            if settings.admin_token
            else f"in {_shown(token_file)} (mode 0600, generated on the first start)"
        )
        + f"; the old default local-admin-token gets {old_default_status(scenario)}"
        + "\n  PHI access log (admin): "
        + f"http://127.0.0.1:{settings.intake_port}/v1/admin/access-log"
        + "\n  Logs: var/log/, status: make status, stop: make down"
    )
    return 0 if validated == len(views) else 1


if __name__ == "__main__":
    sys.exit(main())
