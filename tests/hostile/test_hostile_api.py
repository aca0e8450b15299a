"""Every hostile input through the API upload (POST /api/v1/batches, multipart), on SQLite and
PostgreSQL: a refused file is a 4xx with a JSON error body naming the problem and nothing is
queued; an accepted file is run by the worker and stored whole, rejected rows with their reasons.
The audit chain verifies after each. An over-large body is refused (413) before it is read, also
by a real uvicorn server."""

from __future__ import annotations

import csv
import http.client
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from checks import assert_consistent, counts, live_cells_in_text, reasons_of
from corpus import FORMULAS, GOOD, MANIFEST_CASES, REQUEST_CASES, Case, ManifestCase, csv_text

from api_world import World
from matchgate.api import create_app
from matchgate.columns import REQUEST_COLUMNS
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate

INTAKE_REASONS = ("row_malformed", "field_control_character", "name_not_latin", "field_too_long")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=1500, requests=60, seed=37)


def upload(world: World, name: str, content: object, manifest_name: str = "manifest.toml",
           manifest: bytes | None = None) -> tuple[int, dict[str, object]]:
    r = world.client.post("/api/v1/batches", headers=world.auth("requester"), files={
        "file": (name, content, "application/octet-stream"),
        "manifest": (manifest_name,
                     manifest if manifest is not None
                     else example_path("manifest.toml").read_bytes(), "application/toml")})
    return r.status_code, r.json()


def assert_refused(status: int, body: dict[str, object], needles: tuple[str, ...]) -> None:
    assert 400 <= status < 500, (status, body)
    assert set(body) >= {"code", "message", "problems"}, body
    text = " ".join(" ".join([str(body["message"]), *map(str, body["problems"])]).split())  # type: ignore[call-overload]
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.mark.parametrize("case", REQUEST_CASES, ids=lambda c: c.name)
def test_request_file(case: Case, world: World, tmp_path: Path) -> None:
    store = world.services.store
    path = case.path(tmp_path)
    before = counts(store)
    try:
        with path.open("rb") as fh:
            status, body = upload(world, case.filename, fh)
    finally:
        path.unlink()
    if case.big:
        assert status == 413 and body["code"] == "payload_too_large", body
        assert "larger than" in str(body["message"])
        assert counts(store) == before
    elif case.outcome == "refused":
        assert_refused(status, body, case.needles)
        assert counts(store) == before
    else:
        assert status in (200, 202), body
        batch_id = str(body["batch_id"])
        world.worker().run_once(batch_id=batch_id)
        job = world.client.get(f"/api/v1/batches/{batch_id}", headers=world.auth("requester"))
        assert job.json()["status"] == "done", job.json()
        decisions = reasons_of(store, batch_id)
        for request_id, reason in case.reasons.items():
            got = decisions[request_id]
            if reason is None:
                assert got["reason"] not in INTAKE_REASONS, got
            else:
                assert got["reason"] == reason and got["code"] == "REJECTED_INSUFFICIENT"
    assert_consistent(store)


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=lambda c: c.name)
def test_manifest(case: ManifestCase, world: World) -> None:
    store = world.services.store
    before = counts(store)
    text = case.text if isinstance(case.text, bytes) else case.text.encode()
    status, body = upload(world, f"good-{case.name}.csv", csv_text(GOOD).encode(),
                          manifest_name=case.filename, manifest=text)
    if case.outcome == "refused":
        assert_refused(status, body, case.needles)
        assert counts(store) == before
    else:
        assert status in (200, 202), body
    assert_consistent(store)


def test_csv_answers_never_come_back_live(world: World, population: GenerateReport) -> None:
    """Formula request ids in; the CSV answer of GET .../responses?format=csv has not one live
    cell (the decision and accounting exports are checked on the CLI path)."""
    with population.requests_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["request_id"] = f"{FORMULAS[i % len(FORMULAS)]}#{i}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REQUEST_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    status, body = upload(world, "formulas.csv", out.getvalue().encode(),
                          manifest=population.manifest_path.read_bytes())
    assert status == 202, body
    batch_id = str(body["batch_id"])
    world.worker().run_once(batch_id=batch_id)
    # the disclosure officer reads the answers before sign-off (the same CSV writer)
    answer = world.client.get(f"/api/v1/batches/{batch_id}/responses",
                              params={"format": "csv"}, headers=world.auth("disclosure_officer"))
    assert answer.status_code == 200, answer.text
    assert "'=HYPERLINK" in answer.text and "'@SUM" in answer.text
    assert live_cells_in_text(answer.text) == []
    assert_consistent(world.services.store)


@pytest.fixture
def server(world: World) -> Iterator[int]:
    """A real uvicorn serving the world's stores on a free port."""
    config = uvicorn.Config(create_app(world.settings, services=world.services),
                            host="127.0.0.1", port=0, log_level="warning")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app_server.started
    yield app_server.servers[0].sockets[0].getsockname()[1]
    app_server.should_exit = True
    thread.join(10)


def test_real_server_refuses_a_100mb_upload_before_reading_it(world: World, server: int) -> None:
    """The client announces 100 MB and sends 64 KiB: the answer (413, JSON) comes at once."""
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.putrequest("POST", "/api/v1/batches")
    conn.putheader("Authorization", world.auth("requester")["Authorization"])
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(100 * 1024 * 1024))
    conn.endheaders()
    conn.send(b"--x\r\n" + b"A" * 65536)
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 413, body
    assert "payload_too_large" in body and "larger than" in body
