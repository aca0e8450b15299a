"""The HTTP API on SQLite and PostgreSQL: the role matrix, batches, idempotency, responses."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from api_world import ROLES, World
from matchgate.api.access import ACCESS
from matchgate.api.app import create_app
from matchgate.master.generate import GenerateReport, generate
from matchgate.settings import Settings


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=2000, requests=150, seed=5)




# (method, path, allowed roles); {b} is the world's batch, {r} a request in review or not
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/api/v1/me", "whoami"),
    ("POST", "/api/v1/batches", "submit_batch"),
    ("POST", "/api/v1/requests", "verify_one"),
    ("GET", "/api/v1/batches", "list_batches"),
    ("GET", "/api/v1/batches/{b}", "batch_status"),
    ("GET", "/api/v1/batches/{b}/responses", "batch_responses"),
    ("GET", "/api/v1/batches/{b}/summary", "batch_summary"),
    ("POST", "/api/v1/batches/{b}/release", "release_batch"),
    ("GET", "/api/v1/reviews", "review_queue"),
    ("GET", "/api/v1/reviews/{b}/{r}", "review_item"),
    ("POST", "/api/v1/reviews/{b}/{r}/claim", "claim_item"),
    ("POST", "/api/v1/reviews/{b}/{r}/decision", "decide_item"),
    ("GET", "/api/v1/agreements/IE-TAX-2025-001", "agreement_in_force"),
    ("GET", "/api/v1/audit/events", "audit_events"),
    ("GET", "/api/v1/audit/verify", "audit_verify"),
]


def test_every_route_is_in_the_access_table_and_the_matrix(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path))
    spec = app.openapi()
    names = {op["operationId"].split("_api_v1")[0] for ops in spec["paths"].values()
             for op in ops.values()}
    assert names == {n for n in ACCESS if not n.startswith("web_")} == {n for _, _, n in ROUTES}


def call(world: World, who: str | None, method: str, path: str) -> int:
    headers = world.auth(who) if who else {}
    if method == "GET":
        return world.client.get(path, headers=headers).status_code
    return world.client.post(path, headers=headers, json={}).status_code


@pytest.mark.parametrize(("method", "template", "name"), ROUTES)
def test_role_matrix(world: World, method: str, template: str, name: str) -> None:
    path = template.format(b=world.batch_id, r="no-such-request")
    assert call(world, None, method, path) == 401
    for role in ROLES:
        status = call(world, role, method, path)
        if role in ACCESS[name]:
            assert status not in (401, 403), (role, path, status)
        else:
            assert status == 403, (role, path, status)


@pytest.mark.parametrize("suffix", ["", "/responses"])
def test_another_agencys_batch_is_not_found(world: World, suffix: str) -> None:
    mine = world.client.get(f"/api/v1/batches/{world.batch_id}{suffix}",
                            headers=world.auth("requester"))
    theirs = world.client.get(f"/api/v1/batches/{world.batch_id}{suffix}",
                              headers=world.auth("other_requester"))
    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "not_found"
    listed = world.client.get("/api/v1/batches", headers=world.auth("other_requester")).json()
    assert listed == []


def test_bad_and_expired_tokens_are_401(world: World) -> None:
    r = world.client.get("/api/v1/me", headers={"Authorization": "Bearer mg_nonsense"})
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    from datetime import timedelta

    from matchgate.users import issue_token
    token = issue_token(world.services.store, name="reviewer-1", expires_in=timedelta(seconds=-1))
    r = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["code"] == "token_expired"


def test_batch_status_shows_progress_and_responses_come_as_json_and_csv(world: World) -> None:
    status = world.client.get(f"/api/v1/batches/{world.batch_id}",
                              headers=world.auth("requester")).json()
    assert status["status"] == "done" and status["rows"] == 150
    assert status["decided"] == 150 and status["progress"] == 1.0
    as_json = world.client.get(f"/api/v1/batches/{world.batch_id}/responses",
                               headers=world.auth("requester")).json()
    assert len(as_json["rows"]) == 150
    assert "matched_tin" not in as_json["columns"] and "match_probability" not in as_json["columns"]
    r = world.client.get(f"/api/v1/batches/{world.batch_id}/responses?format=csv",
                         headers=world.auth("requester"))
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["request_id"] for row in rows] == [row["request_id"] for row in as_json["rows"]]


def test_idempotency_key_returns_the_first_batch(world: World) -> None:
    lines = world.population.requests_path.read_text().splitlines()
    first = "\n".join(lines[:6]).encode()
    second = "\n".join(lines[:8]).encode()
    status1, b1 = world.submit(key="k-123", content=first)
    status2, b2 = world.submit(key="k-123", content=second)
    assert (status1, status2) == (202, 200)
    assert b1["batch_id"] == b2["batch_id"] and b1["status"] == "queued"
    status3, b3 = world.submit(content=first)  # the same upload again: the same batch
    assert status3 == 200 and b3["batch_id"] == b1["batch_id"]


def test_bad_uploads_get_their_own_4xx(world: World) -> None:
    r = world.client.post("/api/v1/batches", headers=world.auth("requester"), files={
        "file": ("requests.csv", b"a,b\n1,2\n", "text/csv"),
        "manifest": ("manifest.toml", b"agreement_id = 'NOPE'\nlegal_basis = '6103(i)(2)'\n"
                                      b"requesting_official = 'X'\n", "application/toml")})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = world.client.post("/api/v1/batches", headers=world.auth("requester"), files={
        "file": ("requests.csv", b"x", "text/csv"),
        "manifest": ("manifest.toml", b"this is = = not toml", "application/toml")})
    assert r.status_code == 422 and r.json()["code"] == "invalid_manifest"
    assert "/tmp" not in str(r.json())
    r = world.client.post("/api/v1/batches", headers=world.auth("requester"), files={
        "file": ("requests.exe", b"x", "application/octet-stream"),
        "manifest": ("manifest.toml", world.population.manifest_path.read_bytes(), "a/b")})
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    r = world.client.post("/api/v1/batches", headers=world.auth("requester"),
                          files={"file": ("requests.csv", b"x", "text/csv")})
    assert r.status_code == 422 and r.json()["field"] == "manifest"


def test_an_upload_that_is_not_multipart_is_415(world: World) -> None:
    url = "/api/v1/batches"
    tries = [({"Content-Type": "application/json"}, b'{"file": "x"}'),
             ({"Content-Type": "application/x-www-form-urlencoded"}, b"file=x&manifest=y"),
             ({"Content-Type": "text/csv"}, world.population.requests_path.read_bytes()),
             ({}, b"{}")]
    for headers, content in tries:
        r = world.client.post(url, headers=world.auth("requester") | headers, content=content)
        assert r.status_code == 415, (headers, r.text)
        body = r.json()
        assert body["code"] == "unsupported_media_type" and body["field"] == "content-type"
        assert "multipart/form-data" in body["message"]
    anonymous = world.client.post(url, headers={"Content-Type": "application/json"},
                                  content=b"{}")
    assert anonymous.status_code == 401
    declared = world.client.get("/openapi.json").json()["paths"][url]["post"]["responses"]
    assert declared["415"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody")


def test_oversized_upload_is_413(world: World, tmp_path: Path) -> None:
    settings = world.settings.model_copy(update={"max_upload_bytes": 100})
    from fastapi.testclient import TestClient
    with TestClient(create_app(settings, services=world.services)) as client:
        r = client.post("/api/v1/batches", headers=world.auth("requester"), files={
            "file": ("requests.csv", b"x" * 101, "text/csv"),
            "manifest": ("manifest.toml", b"x", "application/toml")})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_single_request_runs_synchronously_and_answers_once(world: World) -> None:
    row = next(csv.DictReader(world.population.requests_path.open()))
    manifest = {"agreement_id": "IE-TAX-2025-001", "legal_basis": "6103(i)(2)",
                "requesting_official": "Official A", "certification": "certified"}
    body = {"manifest": manifest, "request": {k: v or None for k, v in row.items()}}
    r1 = world.client.post("/api/v1/requests", headers=world.auth("requester"), json=body)
    assert r1.status_code == 200, r1.json()
    answer = r1.json()
    assert answer["status"] == "done" and answer["response"]["request_id"] == row["request_id"]
    r2 = world.client.post("/api/v1/requests", headers=world.auth("requester"), json=body)
    assert r2.json() == answer
    assert world.services.store.decided_request_ids(batch_id=answer["batch_id"]) == {
        row["request_id"]}

