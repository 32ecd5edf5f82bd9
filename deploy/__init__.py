"""Deployment helpers (local process runner, compose, Kubernetes)."""
