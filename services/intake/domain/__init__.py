"""Intake's pure logic: FHIR R4 and HL7 v2 mapped to the encounter document, intake rules,
NDJSON lines, webhook signatures, FHIR read-back and physician answers. No FastAPI, SQLModel or
Kafka here."""
