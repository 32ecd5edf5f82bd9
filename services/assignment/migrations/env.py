"""Alembic environment: the shared runner (shared/migrations.py) on the connection it gives."""

from shared.migrations import run_env

run_env()
