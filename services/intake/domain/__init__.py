"""Intake's domain as pure code."""
