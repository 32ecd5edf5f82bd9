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

    def query_policy(self) -> QueryPolicy:
        return QueryPolicy(
            reminder_seconds=self.query_reminder_seconds,
            escalate_after_seconds=self.query_escalate_after_seconds,
        )
