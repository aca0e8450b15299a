"""Batches: submit, list, status, responses, the single-request path, summary and release."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Header, Request, Response, UploadFile

from matchgate.api import batch_ops
from matchgate.api.access import CurrentUser, ServicesDep, SettingsDep, visible_job
from matchgate.api.errors import PayloadTooLarge, UnsupportedMediaType, errors
from matchgate.api.schemas import (
    BatchStatus,
    BatchSummary,
    Me,
    ReleaseDecision,
    Responses,
    SingleAnswer,
    SingleRequest,
)
from matchgate.api.single import answer_single
from matchgate.columns import REQUEST_COLUMNS
from matchgate.csvsafe import csv_text
from matchgate.errors import InputError, Problem
from matchgate.respond import response_row
from matchgate.service import Services
from matchgate.store import jobs

router = APIRouter(prefix="/api/v1")


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"{upload.filename}: larger than the {limit:,} bytes allowed")
    return data


def multipart_only(request: Request) -> None:
    """An upload comes as multipart/form-data; any other content type is a 415 (checked before
    the form is read, so the answer names the content type, not the missing parts)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        message = (f"an upload must be multipart/form-data (the request file and the manifest "
                   f"as parts 'file' and 'manifest'), not {kind[:100] or 'no content type'}")
        raise UnsupportedMediaType(message, problems=[Problem(message, field="content-type")])


@router.get("/me", response_model=Me, responses=errors())
def whoami(user: CurrentUser) -> Me:
    return Me(name=user.name, role=user.role, agency=user.agency)


@router.post("/batches", response_model=BatchStatus, status_code=202,
             responses={200: {"model": BatchStatus}, **errors(400, 404, 409, 413, 415)})
async def submit_batch(
    user: CurrentUser, services: ServicesDep, settings: SettingsDep, response: Response,
    _multipart: Annotated[None, Depends(multipart_only)],
    file: Annotated[UploadFile, File(description="the request file (CSV, JSONL, Parquet)")],
    manifest: Annotated[UploadFile, File(description="the batch manifest (TOML or JSON)")],
    idempotency_key: Annotated[str | None, Header(max_length=256)] = None,
) -> BatchStatus:
    """Queue a batch; its id comes back at once. The same Idempotency-Key (or the same upload)
    returns the batch first stored, with status 200."""
    limit = settings.max_upload_bytes
    content = await read_limited(file, limit)
    manifest_bytes = await read_limited(manifest, limit)
    job, created = batch_ops.submit(
        services, user, source_name=file.filename or "requests.csv", content=content,
        manifest_name=manifest.filename or "manifest.toml", manifest_bytes=manifest_bytes,
        idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    return BatchStatus(**batch_ops.status(services, job))


@router.get("/batches", response_model=list[BatchStatus], responses=errors())
def list_batches(user: CurrentUser, services: ServicesDep) -> list[BatchStatus]:
    agency = user.agency if user.role == "requester" else None
    return [BatchStatus(**s) for s in batch_ops.statuses(
        services, jobs.list_jobs(services.store, agency=agency))]


@router.get("/batches/{batch_id}", response_model=BatchStatus, responses=errors(404))
def batch_status(batch_id: str, user: CurrentUser, services: ServicesDep) -> BatchStatus:
    return BatchStatus(**batch_ops.status(services, visible_job(services, user, batch_id)))


@router.get("/batches/{batch_id}/responses", response_model=Responses,
            responses={**errors(404, 409), 200: {"content": {"text/csv": {}}}})
def batch_responses(batch_id: str, user: CurrentUser, services: ServicesDep,
                    format: Literal["json", "csv"] = "json") -> Response | Responses:
    """The answers, once the batch is done and released: JSON, or CSV with format=csv."""
    job = visible_job(services, user, batch_id)
    columns, rows = batch_ops.released_responses(services, user, job)
    if format == "json":
        return Responses(batch_id=batch_id, columns=columns, rows=[
            {c: _text(r.get(c)) for c in columns} for r in rows])
    return Response(csv_text(columns, rows), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{batch_id}-responses.csv"'})


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@router.post("/requests", response_model=SingleAnswer,
             responses=errors(400, 404, 409))
def verify_one(body: SingleRequest, user: CurrentUser, services: ServicesDep,
               request: Request) -> SingleAnswer:
    """Verify one request now, through the same gate, decision rules and recording as a batch
    (its candidates from the fast path's index). The same request again returns the answer
    first given."""
    unknown = sorted(set(body.request) - set(REQUEST_COLUMNS))
    if unknown:
        raise InputError(f"not request columns: {', '.join(unknown)}")
    content = _one_row_csv(body.request)
    manifest = body.manifest.model_dump_json(exclude_none=True).encode()
    job, _ = batch_ops.submit(services, user, source_name="request.csv", content=content,
                              manifest_name="manifest.json", manifest_bytes=manifest,
                              idempotency_key=None)
    answer_single(services, request.app.state.fastpaths, job, worker=f"api:{user.name}")
    job = visible_job(services, user, job["batch_id"])
    return SingleAnswer(batch_id=job["batch_id"], status=job["status"],
                        release=job["release"], response=_single_response(services, job))


def _one_row_csv(request: dict[str, str | None]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REQUEST_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    writer.writerow({k: v or "" for k, v in request.items()})
    return out.getvalue().encode()


def _single_response(services: Services, job: dict[str, object]) -> dict[str, str | None] | None:
    if job["status"] != "done" or job["release"] not in batch_ops.RELEASED:
        return None
    rows = batch_ops.answers(services, str(job["batch_id"]))
    return {k: _text(v) for k, v in response_row(rows[0]).items()} if rows else None


@router.get("/batches/{batch_id}/summary", response_model=BatchSummary, responses=errors(404))
def batch_summary(batch_id: str, user: CurrentUser, services: ServicesDep) -> BatchSummary:
    """What a disclosure officer reviews before signing a batch off."""
    return BatchSummary(**batch_ops.summary(services, visible_job(services, user, batch_id)))


@router.post("/batches/{batch_id}/release", response_model=BatchStatus,
             responses=errors(400, 404, 409))
def release_batch(batch_id: str, body: ReleaseDecision, user: CurrentUser,
                  services: ServicesDep) -> BatchStatus:
    """Sign the batch off (its answers go to the requester) or refuse it, with a reason."""
    job = visible_job(services, user, batch_id)
    batch_ops.release(services, user, job, approve=body.approve, reason=body.reason)
    return BatchStatus(**batch_ops.status(services, visible_job(services, user, batch_id)))



