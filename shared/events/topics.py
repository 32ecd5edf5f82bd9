"""Topic names; every topic is keyed by encounter key so one encounter's events stay ordered."""

ENCOUNTERS_RECEIVED = "encounters.received"
CODING_TASKS = "coding.tasks"
CODING_EVENTS = "coding.events"
ENCOUNTERS_CODED = "encounters.coded"
CLAIMS_STATUS = "claims.status"
ENCOUNTERS_RETURNED = "encounters.returned"
# Every service writes its PHI reads here; intake stores and serves them (docs/security.md).
ACCESS_LOG = "access.log"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
