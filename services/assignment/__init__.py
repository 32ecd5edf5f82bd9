"""Assignment: one durable EncounterCoding workflow per encounter routes it to a coder pool."""

SERVICE = "assignment"
TASK_QUEUE = "assignment"
