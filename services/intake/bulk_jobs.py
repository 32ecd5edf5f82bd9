"""Use cases of bulk NDJSON jobs: take an upload as a job, work through it chunk by chunk in the
background (several workers at once), and count what became of every line."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from services.intake import fhir_intake, handlers
from services.intake.bulk_db import BulkChunk, BulkError, BulkJob, BulkRepository
from services.intake.db import Hospital, IntakeRepository
from services.intake.domain.fhir_mapping import ReadRequest, read_bundle
from services.intake.domain.ndjson import (
    LineError,
    fhir_collection,
    issue_line_errors,
    looks_like_fhir,
    native_document,
    numbered_lines,
)
from services.intake.domain.rules import HospitalIntakeSettings
from services.intake.hospital_settings import settings_of
from services.intake.settings import IntakeSettings
from shared.service import Runtime

FHIR_LEASE = timedelta(minutes=10)
MAX_ERRORS_PER_LINE = 5


@dataclass(frozen=True)
class Progress:
    status: str  # queued | running | done
    lines_done: int
    accepted: int
    duplicate: int
    refused: int
    skipped: int
    finished_at: datetime | None


def progress(chunks: list[BulkChunk]) -> Progress:
    done = [c for c in chunks if c.done]
    if done and len(done) == len(chunks):
        status = "done"
    else:
        status = "running" if done or any(c.lease_until for c in chunks) else "queued"
    finished = [c.finished_at for c in done if c.finished_at]
    return Progress(
        status=status,
        lines_done=sum(c.line_count for c in done),
        accepted=sum(c.accepted for c in chunks),
        duplicate=sum(c.duplicate for c in chunks),
        refused=sum(c.refused for c in chunks),
        skipped=sum(c.skipped for c in chunks),
        finished_at=max(finished) if status == "done" and finished else None,
    )


def create_job(session: Session, hospital_id: str, body: str, lines_per_chunk: int) -> BulkJob:
    """Store the upload in encrypted chunks and queue it. Its format is that of its first line;
    a FHIR file is one chunk, because its resources reference each other across lines."""
    lines = body.split("\n")
    first = next((line for line in lines if line.strip()), "")
    fhir = looks_like_fhir(first.strip())
    job = BulkJob(
        hospital_id=hospital_id,
        format="fhir" if fhir else "native",
        lines_total=sum(1 for line in lines if line.strip()),
    )
    repo = BulkRepository(session)
    repo.add(job)
    size = len(lines) if fhir else lines_per_chunk
    for seq, start in enumerate(range(0, len(lines), size)):
        part = lines[start : start + size]
        count = sum(1 for line in part if line.strip())
        repo.add(
            BulkChunk(
                job_id=job.id, seq=seq, first_line=start + 1, line_count=count, body="\n".join(part)
            )
        )
    return job


def _record(session: Session, job_id: str, errors: list[LineError]) -> None:
    per_line: dict[int, int] = {}
    for error in errors:
        per_line[error.line] = per_line.get(error.line, 0) + 1
        if per_line[error.line] <= MAX_ERRORS_PER_LINE:
            field, message = error.field[:300], error.message[:500]
            session.add(BulkError(job_id=job_id, line=error.line, field=field, message=message))


def _finish(session: Session, chunk: BulkChunk) -> None:
    chunk.done, chunk.lease_until, chunk.finished_at = True, None, datetime.now(UTC)
    session.add(chunk)


def process_native_chunk(
    session: Session, settings: IntakeSettings, hospital: Hospital, chunk: BulkChunk
) -> None:
    """One chunk of a native file in the caller's transaction: every good line takes the same
    path as `POST /v1/encounters` (batched); every bad one becomes report rows."""
    documents, errors = [], []
    for line, text in numbered_lines(chunk.body, chunk.first_line):
        parsed = native_document(line, text)
        if isinstance(parsed, list):
            errors += parsed
            chunk.refused += 1
        else:
            documents.append((line, parsed))
    results = handlers.receive_encounters(session, settings, hospital, [d for _, d in documents])
    for (line, _), result in zip(documents, results, strict=True):
        if isinstance(result, handlers.EncounterConflict):
            errors.append(LineError(line, "external_id", str(result)))
            chunk.refused += 1
        elif result.replayed:
            chunk.duplicate += 1
        else:
            chunk.accepted += 1
    _record(session, chunk.job_id, errors)
    _finish(session, chunk)


@dataclass
class FhirWork:
    chunk: BulkChunk
    hospital: Hospital
    rules: HospitalIntakeSettings


def _take(session: Session, settings: IntakeSettings, now: datetime) -> bool | FhirWork:
    """Work through the next native chunk here; lease a FHIR file and return it instead."""
    repo = BulkRepository(session)
    chunk = repo.next_chunk(now)
    if chunk is None:
        return False
    job = session.get(BulkJob, chunk.job_id)
    hospital = IntakeRepository(session).hospital(job.hospital_id) if job else None
    if job is None or hospital is None:
        _finish(session, chunk)
    elif job.format == "fhir":
        chunk.lease_until = now + FHIR_LEASE
        session.add(chunk)
        return FhirWork(chunk, hospital, settings_of(session, hospital.id))
    else:
        process_native_chunk(session, settings, hospital, chunk)
    return True


def _store_fhir(
    session: Session,
    settings: IntakeSettings,
    work: FhirWork,
    read: ReadRequest,
    entry_lines: list[int],
    bad_lines: list[LineError],
) -> None:
    chunk = session.get(BulkChunk, (work.chunk.job_id, work.chunk.seq))
    assert chunk is not None
    stored = fhir_intake.store_encounters(session, settings, work.hospital, read)
    issues = read.errors()
    for mapped in read.encounters:
        outcome = stored.get(mapped)
        if mapped.refusal is not None:
            chunk.skipped += 1
        elif outcome is None or outcome.encounter_id is None:
            chunk.refused += 1
            if outcome is not None and outcome.conflict is not None:
                issues.append(outcome.conflict)
        elif outcome.created:
            chunk.accepted += 1
        else:
            chunk.duplicate += 1
    _record(session, chunk.job_id, bad_lines + issue_line_errors(issues, entry_lines))
    _finish(session, chunk)


async def work_once(rt: Runtime, settings: IntakeSettings) -> bool:
    """Advance the oldest job by one chunk; False when there is nothing to do."""
    taken = await rt.db.run(lambda s: _take(s, settings, datetime.now(UTC)))
    if not isinstance(taken, FhirWork):
        return taken
    lines = list(numbered_lines(taken.chunk.body, taken.chunk.first_line))
    bundle, entry_lines, bad_lines = fhir_collection(lines)
    read = await asyncio.to_thread(read_bundle, bundle, taken.rules)
    await rt.db.run(lambda s: _store_fhir(s, settings, taken, read, entry_lines, bad_lines))
    return True


async def run_jobs(rt: Runtime, settings: IntakeSettings, idle_seconds: float = 0.2) -> None:
    while True:
        if not await work_once(rt, settings):
            await asyncio.sleep(idle_seconds)
