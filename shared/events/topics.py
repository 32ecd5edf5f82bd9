"""Topic names; every topic is keyed by encounter key so one encounter's events stay ordered."""

ENCOUNTERS_RECEIVED = "encounters.received"
CODING_TASKS = "coding.tasks"
CODING_EVENTS = "coding.events"
ENCOUNTERS_CODED = "encounters.coded"
CLAIMS_STATUS = "claims.status"
ENCOUNTERS_RETURNED = "encounters.returned"
# A hospital's vendor figures per month, from coding to intake (keyed by hospital id).
CODING_SCORECARDS = "coding.scorecards"
# Every service writes its PHI reads here; intake stores and serves them (docs/security.md).
ACCESS_LOG = "access.log"
# Physician queries: raised / withdrawn by coding (to intake and assignment), answered by the
# hospital through intake (to assignment and coding).
PHYSICIAN_QUERIES = "physician.queries"
QUERY_ANSWERS = "physician.answers"
# What the EncounterCoding workflow tells the hospital and ops: query reminders and
# escalations, SLA escalations, cancellations (to intake).
ASSIGNMENT_EVENTS = "assignment.events"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
