"""Intake: hospitals push encounters, see their status and claim outcomes."""

SERVICE = "intake"
