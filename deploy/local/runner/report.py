"""How the runner speaks: progress as ``stack: COMPONENT: MESSAGE`` lines, failures as errors."""

from __future__ import annotations


class StackError(Exception):
    """A failure to report as ``stack: COMPONENT: MESSAGE`` (plus optional detail lines)."""

    def __init__(self, component: str, message: str, detail: str = "") -> None:
        super().__init__(f"{component}: {message}" if component else message)
        self.component = component
        self.message = message
        self.detail = detail


def say(component: str, message: str) -> None:
    print(f"stack: {component}: {message}", flush=True)
