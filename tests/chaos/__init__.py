"""The chaos run: `python -m tests.chaos` (or `make chaos`); see docs/chaos.md.

Per fault, on a namespace of its own: the demo hospital pushes N encounters at a steady rate
while the demo coder codes them, and at a seeded random moment mid-stream one of intake,
assignment, coding, claims, the Kafka broker, the Temporal server (or all four services at
once) is killed with SIGKILL and started again. The run then counts claims, duplicates, lost
and stuck encounters and dead letters per fault, and fails unless every fault gave exactly
one claim per encounter.
"""
