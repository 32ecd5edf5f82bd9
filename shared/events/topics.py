"""Topic names; every topic is keyed by encounter key so one encounter's events stay ordered."""

ENCOUNTERS_RECEIVED = "encounters.received"
CODING_TASKS = "coding.tasks"
CODING_EVENTS = "coding.events"
ENCOUNTERS_CODED = "encounters.coded"
CLAIMS_STATUS = "claims.status"
ENCOUNTERS_RETURNED = "encounters.returned"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
