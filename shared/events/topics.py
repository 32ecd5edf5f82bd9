"""Topic names; every topic is keyed by encounter key so one encounter's events stay ordered."""

ENCOUNTERS_RECEIVED = "encounters.received"
CODING_TASKS = "coding.tasks"
CODING_EVENTS = "coding.events"
ENCOUNTERS_CODED = "encounters.coded"
CLAIMS_STATUS = "claims.status"

ALL_TOPICS = (ENCOUNTERS_RECEIVED, CODING_TASKS, CODING_EVENTS, ENCOUNTERS_CODED, CLAIMS_STATUS)


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
