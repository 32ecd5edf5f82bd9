"""The local process runner behind deploy/local/stack.py, one module per idea.

config (ports, paths), report (errors, progress lines), process (pids, spawn, stop), tools
(helper commands), logs, net (ports, HTTP), one module per component (kafka, temporal,
postgres, services), lifecycle (up, down, health) and cli (the command line).
"""
