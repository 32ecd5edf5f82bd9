"""Which failures are worth retrying, and how to name one without quoting any value.

A consumer retries a *transient* failure (a broker, database or Temporal outage, a timeout)
and dead-letters everything else at once: a payload that does not decode or validate, an
arithmetic error, a domain error. Reasons name fields and error types, never values: a value
may be PHI, and a reason travels in DLQ headers and logs.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy import exc as sa
from temporalio.service import RPCError, RPCStatusCode

REPO_ROOT = Path(__file__).resolve().parent.parent

# Temporal answers that mean "the server or the network", not "your request is wrong".
TRANSIENT_RPC = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.UNKNOWN,
    }
)
TRANSIENT_DATABASE = (
    sa.OperationalError,  # connection refused or lost, deadlock, lock timeout
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # no pooled connection in time
    sa.IntegrityError,  # two consumers raced on the same row: the retry finds it
)


class PermanentError(Exception):
    """The message can never be processed as it is: dead-letter it without retrying.

    Its message is written by us and must name fields, never values: it becomes the reason.
    """


class TransientError(Exception):
    """A dependency did not answer: retry the message within its budget."""


@dataclass(frozen=True)
class Failure:
    transient: bool
    reason: str  # PHI-free: field names and error types only
    error: str  # the exception's type name


def describe(exc: ValidationError) -> str:
    """Which fields are wrong and why, without the values (they may be PHI)."""
    return "; ".join(
        f"{error_field(e)}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)[:5]
    )


def error_field(error: object) -> str:
    """The dotted path of a pydantic error; a cross-field rule names its field in `ctx`."""
    details = error if isinstance(error, dict) else {}
    parts = [str(p) for p in details.get("loc", ()) if p not in ("body", "query", "path", "header")]
    named = (details.get("ctx") or {}).get("field")
    if named:
        parts.append(str(named))
    return ".".join(parts) or "body"


def where(exc: BaseException) -> str:
    """`path:line in function` of the innermost frame of our own code that raised `exc`."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = str(REPO_ROOT)
    ours = [f for f in frames if f.filename.startswith(root) and ".venv" not in f.filename]
    if not (ours or frames):
        return "unknown location"
    frame = (ours or frames)[-1]
    path = Path(frame.filename)
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | TimeoutError | ConnectionError | KafkaError):
        return True
    if isinstance(exc, TRANSIENT_DATABASE):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, RPCError) and exc.status in TRANSIENT_RPC


def classify(exc: BaseException) -> Failure:
    """Transient or not, and a reason that names fields and error types, never values."""
    error = type(exc).__name__
    if is_transient(exc):
        return Failure(True, f"{error} at {where(exc)}", error)
    if isinstance(exc, ValidationError):
        return Failure(False, describe(exc), error)
    if isinstance(exc, PermanentError):
        return Failure(False, str(exc), error)
    # Decoding, arithmetic (decimal.InvalidOperation), domain errors, bugs: their messages may
    # quote values, so only the type and where it was raised.
    return Failure(False, f"{error} at {where(exc)}", error)


__all__ = ["Failure", "PermanentError", "TransientError", "classify", "describe", "error_field"]
