"""What the batch routes do, apart from HTTP: submit, status, answers, summary, release."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from matchgate.agreement import Agreement
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.codes import Code
from matchgate.errors import InputError, MatchgateError, NotFound
from matchgate.intake import load_manifest, read_requests
from matchgate.intake.readers import FORMATS
from matchgate.pipeline import batch_id_for
from matchgate.respond import response_columns, response_row
from matchgate.review import answer_rows
from matchgate.service import Services
from matchgate.store import jobs
from matchgate.store import reviews as review_repo
from matchgate.users import User

RELEASED = ("not_required", "released")


class NotReleased(MatchgateError):
    code = "not_released"
    status = 409


def event(user: User, event_type: str, *, batch_id: str | None, outcome: str = "success",
          details: dict[str, Any] | None = None) -> AuditEvent:
    return AuditEvent(event_type=event_type, actor=user.name, role=user.role, origin="api",
                      outcome=outcome, batch_id=batch_id, details=details or {})


def agreement_for(services: Services, user: User, agreement_id: str) -> Agreement:
    """The agreement in force, if the requester's agency is party to it (else not found)."""
    try:
        agreement = services.agreement_in_force(agreement_id)
    except InputError:
        raise NotFound(f"agreement {agreement_id!r} not found") from None
    if user.role == "requester" and agreement.requesting_agency != user.agency:
        raise NotFound(f"agreement {agreement_id!r} not found")
    return agreement


@contextmanager
def without_folder(folder: str) -> Iterator[None]:
    """Errors about uploaded files name the file as uploaded, not the server's temporary path."""
    try:
        yield
    except MatchgateError as exc:
        prefix = folder.rstrip("/") + "/"
        exc.message = exc.message.replace(prefix, "")
        exc.problems = [replace(p, file=p.file.replace(prefix, "") if p.file else None,
                                message=p.message.replace(prefix, "")) for p in exc.problems]
        raise


def submit(services: Services, user: User, *, source_name: str, content: bytes,
           manifest_name: str, manifest_bytes: bytes, idempotency_key: str | None
           ) -> tuple[dict[str, Any], bool]:
    """Check the upload (manifest, agreement, file format and header) and queue it."""
    name = Path(source_name or "requests.csv").name
    if Path(name).suffix.lower() not in FORMATS:
        raise InputError(f"{name}: not a request file (CSV, JSON Lines or Parquet)")
    suffix = ".json" if manifest_name.lower().endswith(".json") else ".toml"
    with tempfile.TemporaryDirectory(prefix="matchgate-upload-") as tmp, \
            without_folder(tmp):
        manifest_path = Path(tmp) / f"manifest{suffix}"
        manifest_path.write_bytes(manifest_bytes)
        manifest = load_manifest(manifest_path)
        agreement = agreement_for(services, user, manifest.agreement_id)
        path = Path(tmp) / name
        path.write_bytes(content)
        read_requests(path)
        batch_id = batch_id_for(path, manifest, agreement)
    job, created = jobs.submit_job(
        services.store, batch_id=batch_id, agency=agreement.requesting_agency,
        agreement_id=agreement.agreement_id, agreement_version=agreement.version,
        submitted_by=user.name, idempotency_key=idempotency_key, source_name=name,
        content=content, manifest=manifest.model_dump(mode="json"),
        release="awaiting_signoff" if agreement.release_requires_signoff else "not_required")
    if created:
        AuditLog(services.store).append([event(user, EventType.BATCH_SUBMITTED,
                                               batch_id=batch_id, details={"source": name})])
    return job, created


def status(services: Services, job: dict[str, Any],
           progress: tuple[int | None, int] | None = None) -> dict[str, Any]:
    """What a batch's status shows; `progress` (rows, decided) when already read (listings)."""
    rows, decided = progress or jobs.progress_of(services.store, [job["batch_id"]])[
        job["batch_id"]]
    return {"batch_id": job["batch_id"], "agreement_id": job["agreement_id"],
            "source_name": job["source_name"], "status": job["status"],
            "release": job["release"], "rows": rows, "decided": decided,
            "progress": round(decided / rows, 4) if rows else 0.0, "error": job["error"],
            "submitted_by": job["submitted_by"], "created_at": job["created_at"],
            "finished_at": job["finished_at"]}


def statuses(services: Services, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status of every listed job, their progress read in two queries for all."""
    progress = jobs.progress_of(services.store, [j["batch_id"] for j in listed])
    return [status(services, j, progress[j["batch_id"]]) for j in listed]


def answers(services: Services, batch_id: str) -> list[dict[str, Any]]:
    decisions = services.store.decisions_for_batch(batch_id=batch_id)
    reviews = review_repo.decided_reviews(services.store, batch_id=batch_id)
    return answer_rows(decisions, reviews)


def released_responses(services: Services, user: User, job: dict[str, Any]
                       ) -> tuple[list[str], list[dict[str, Any]]]:
    """The requester's response rows, once the batch is done and (where needed) signed off."""
    if job["status"] != "done":
        raise NotReleased(f"batch {job['batch_id']!r} is {job['status']}; its answers are not "
                          "ready")
    if job["release"] not in RELEASED and user.role == "requester":
        raise NotReleased(f"batch {job['batch_id']!r} awaits the disclosure officer's "
                          "sign-off" if job["release"] == "awaiting_signoff" else
                          f"batch {job['batch_id']!r} was not released")
    agreement = agreement_for(services, user, job["agreement_id"])
    rows = [response_row(a) for a in answers(services, job["batch_id"])]
    AuditLog(services.store).append([event(user, EventType.RESPONSE_READ,
                                           batch_id=job["batch_id"], details={"rows": len(rows)})])
    return response_columns(agreement.disclosure.disclosable_fields), rows


def summary(services: Services, job: dict[str, Any]) -> dict[str, Any]:
    """What a disclosure officer sees before signing off."""
    rows = answers(services, job["batch_id"])
    codes = Counter(str(r["code"]) for r in rows)
    reasons = Counter(str(r["reason"]) for r in rows)
    unusual = []
    if rows and codes.get(Code.REJECTED_INSUFFICIENT.value, 0) > len(rows) / 2:
        unusual.append("more than half of the requests were rejected as insufficient")
    if codes.get(Code.PENDING_REVIEW.value):
        unusual.append(f"{codes[Code.PENDING_REVIEW.value]} request(s) still in review")
    return {**status(services, job), "codes": dict(codes), "reasons": dict(reasons),
            "in_review": codes.get(Code.PENDING_REVIEW.value, 0), "unusual": unusual}


def release(services: Services, user: User, job: dict[str, Any], *, approve: bool,
            reason: str) -> None:
    if not reason.strip():
        raise InputError("a sign-off or refusal needs a reason")
    jobs.set_release(services.store, batch_id=job["batch_id"],
                     release="released" if approve else "refused", by=user.name, reason=reason)
    AuditLog(services.store).append([event(
        user, EventType.BATCH_RELEASED if approve else EventType.BATCH_RELEASE_REFUSED,
        batch_id=job["batch_id"], details={"reason": reason})])
