"""Coding: vendor coders work their worklist; codes are validated before they leave."""

SERVICE = "coding"
