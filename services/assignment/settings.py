from pydantic import AliasChoices, Field

from services.assignment.domain.models import DAY, QueryPolicy
from shared.settings import ChartflowSettings


class AssignmentSettings(ChartflowSettings):
    service_name: str = "assignment"
    port: int = Field(default=8002, validation_alias=AliasChoices("ASSIGNMENT_PORT", "PORT"))
    # Physician query follow-up (seconds): a reminder after each interval, then escalation to
    # the hospital's CDI contact after the last one. JSON list in the environment.
    query_reminder_seconds: list[float] = [2 * DAY, 2 * DAY]
    query_escalate_after_seconds: float = DAY
    # The ops page (docs/operations.md): the DNFB goal, and where its links open the Temporal
    # UI (TEMPORAL_UI_URL, else this host at TEMPORAL_UI_PORT).
    ops_dnfb_goal_days: float = Field(default=4, gt=0, le=365)
    temporal_ui_url: str | None = None
    temporal_ui_port: int = 8233

    def temporal_ui(self) -> str:
        return self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}"

    def query_policy(self) -> QueryPolicy:
        return QueryPolicy(
            reminder_seconds=self.query_reminder_seconds,
            escalate_after_seconds=self.query_escalate_after_seconds,
        )
