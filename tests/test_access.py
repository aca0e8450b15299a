"""Access on SQLite and PostgreSQL: tokens that are expired, revoked, malformed or another
agency's; a requester probing batch ids; rate limits per token and per agency with Retry-After."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from api_world import AGENCY, World
from matchgate.agreement import Agreement
from matchgate.api import create_app
from matchgate.api.ratelimit import WINDOW_SECONDS, RateLimiter, cap, retry_after
from matchgate.audit import AuditLog, EventType
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.store.models import API_TOKENS
from matchgate.users import add_user, issue_token, revoke_tokens, token_hash


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=300, requests=20, seed=7)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- tokens -------------------------------------------------------------------------------------

MALFORMED: dict[str, dict[str, str] | list[tuple[bytes, bytes]]] = {
    "no header": {},
    "garbage": {"Authorization": "Bearer garbage"},
    "empty": {"Authorization": "Bearer "},
    "scheme only": {"Authorization": "Bearer"},
    "prefix only": {"Authorization": "Bearer mg_"},
    "overlong 10 kB": {"Authorization": "Bearer mg_" + "A" * 10_000},
    "non-ASCII": [(b"authorization", "Bearer mg_ünïcödé_tökén_wïth_ästeriskß".encode())],
    "wrong scheme": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
    "token scheme": {"Authorization": "Token mg_" + "A" * 43},
    "well-formed, unknown": {"Authorization": "Bearer mg_" + "A" * 43},
    "SQL in token": {"Authorization": "Bearer mg_' OR '1'='1"},
}


NO_BEARER_TOKEN = {"no header", "empty", "scheme only", "wrong scheme", "token scheme"}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_tokens_are_401_with_one_answer(world: World, case: str) -> None:
    headers = MALFORMED[case]
    r = world.client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401, (case, r.status_code, r.text[:200])
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert body["code"] == "unauthenticated"
    assert "mg_A" not in r.text and "garbage" not in r.text  # the token is never echoed
    # every malformed or unknown token presented gets the same answer, so probing tells nothing
    unknown = world.client.get("/api/v1/me", headers=bearer("mg_" + "B" * 43)).json()
    if case in NO_BEARER_TOKEN:
        assert body["message"].startswith("an API token is required")
    else:
        assert body == unknown


def test_expired_and_revoked_tokens_are_401(world: World) -> None:
    name = f"revokee-{uuid.uuid4().hex[:6]}"
    token = add_user(world.services.store, name=name, role="requester", agency=AGENCY)
    second = issue_token(world.services.store, name=name)
    lapsed = issue_token(world.services.store, name=name, expires_in=timedelta(seconds=-1))
    assert world.client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    r = world.client.get("/api/v1/me", headers=bearer(lapsed))
    assert r.status_code == 401 and r.json()["code"] == "token_expired"

    assert revoke_tokens(world.services.store, name=name) == 3
    unknown = world.client.get("/api/v1/me", headers=bearer("mg_" + "C" * 43)).json()
    for revoked in (token, second):
        r = world.client.get("/api/v1/me", headers=bearer(revoked))
        assert r.status_code == 401
        assert r.json() == unknown  # a revoked token looks like one never issued
    assert world.client.get(f"/api/v1/batches/{world.batch_id}",
                            headers=bearer(token)).status_code == 401
    fresh = issue_token(world.services.store, name=name)  # rotation: a new token works
    assert world.client.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_tokens_expire_after_90_days_unless_told_otherwise(world: World) -> None:
    name = f"expiry-{uuid.uuid4().hex[:6]}"
    token = add_user(world.services.store, name=name, role="auditor")
    week = issue_token(world.services.store, name=name, expires_in=timedelta(days=7))
    with world.services.store.reading() as conn:
        expiry = dict(conn.execute(select(API_TOKENS.c.token_hash, API_TOKENS.c.expires_at)
                                   .where(API_TOKENS.c.user_name == name)).all())
    now = datetime.now(UTC)
    assert timedelta(days=89) < expiry[token_hash(token)] - now <= timedelta(days=90)
    assert timedelta(days=6) < expiry[token_hash(week)] - now <= timedelta(days=7)


def test_cli_issues_expiring_tokens_and_revokes_them(
        store_url: str, cli: Callable[..., tuple[int, str]]) -> None:
    code, out = cli("users", "add", "ops-1", "--role", "auditor", "--expires-days", "5",
                    "--database", store_url)
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    code, out = cli("users", "token", "ops-1", "--expires-days", "1", "--database", store_url)
    assert code == 0, out
    second = out.strip().splitlines()[-1]
    with Store.open(store_url) as store:
        from matchgate.users import authenticate
        assert authenticate(store, token).name == authenticate(store, second).name == "ops-1"
        with store.reading() as conn:
            expiry = dict(conn.execute(select(API_TOKENS.c.token_hash,
                                              API_TOKENS.c.expires_at)).all())
    now = datetime.now(UTC)
    assert timedelta(days=4) < expiry[token_hash(token)] - now <= timedelta(days=5)
    assert expiry[token_hash(second)] - now <= timedelta(days=1)
    code, out = cli("users", "revoke", "ops-1", "--database", store_url)
    assert code == 0 and "revoked 2 tokens of ops-1" in out
    code, out = cli("users", "revoke", "nobody", "--database", store_url)
    assert code != 0 and "no user 'nobody'" in out and "Traceback" not in out
    code, out = cli("users", "add", "ops-2", "--role", "auditor", "--expires-days", "0",
                    "--database", store_url)
    assert code == 2 and "--expires-days" in out
    with Store.open(store_url) as store:
        from matchgate.users import Unauthenticated, authenticate
        for t in (token, second):
            with pytest.raises(Unauthenticated):
                authenticate(store, t)


# -- every route is in the access table ----------------------------------------------------------

PUBLIC = {"web_login_form", "web_login", "web_logout", "_front_door"}  # sign-in, sign-out, "/"


def test_every_route_but_sign_in_needs_a_token_and_an_entry_in_the_table(tmp_path: Path) -> None:
    """API routes and web pages alike: a route that authenticates is named in ACCESS, and a route
    that does not is one of the few public ones. (A route missing from ACCESS is refused to
    everyone; this makes the omission fail a test instead.)"""
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    from matchgate.api.access import ACCESS, current_user
    from matchgate.web.pages import web_user

    def calls(dependant: Dependant) -> set[object]:
        found: set[object] = {d.call for d in dependant.dependencies}
        for sub in dependant.dependencies:
            found |= calls(sub)
        return found

    def api_routes(routes: list[Any]) -> list[APIRoute]:
        found = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # an included router
                found += api_routes(route.original_router.routes)
        return found

    routes = api_routes(create_app(Settings(home=tmp_path)).routes)
    assert len(routes) > 20
    for route in routes:
        guarded = bool(calls(route.dependant) & {current_user, web_user})
        if route.name in PUBLIC:
            assert not guarded, route.name
        else:
            assert guarded, f"{route.path} ({route.name}) does not authenticate"
            assert route.name in ACCESS, f"{route.path} ({route.name}) is not in ACCESS"
    assert set(ACCESS) <= {r.name for r in routes}  # and the table names no stale route


# -- another agency, and probing batch ids --------------------------------------------------------

def scrub(text: str, batch_id: str) -> str:
    return text.replace(batch_id, "<id>")


def test_another_agencys_batch_is_indistinguishable_from_none(world: World) -> None:
    """Random, sequential and another agency's real ids: one status, one body (but for the id
    echoed), for the batch and its responses; every probe is in the audit log."""
    before = AuditLog(world.services.store).head()
    real = world.batch_id
    probes = [real, uuid.uuid4().hex, real[:-1] + ("0" if real[-1] != "0" else "1"),
              *(f"{n:016x}" for n in range(3)), "0" * 64, "x" * 300, "batch-00001"]
    seen: set[tuple[int, str]] = set()
    for probe in probes:
        for suffix in ("", "/responses"):
            r = world.client.get(f"/api/v1/batches/{probe}{suffix}",
                                 headers=world.auth("other_requester"))
            seen.add((r.status_code, scrub(r.text, probe)))
    assert seen == {(404, '{"code":"not_found","message":"batch \'<id>\' not found",'
                          '"field":null,"problems":[]}')}
    # the owner still sees it; staff see every agency's batch
    assert world.client.get(f"/api/v1/batches/{real}",
                            headers=world.auth("requester")).status_code == 200
    assert world.client.get(f"/api/v1/batches/{real}",
                            headers=world.auth("auditor")).status_code == 200
    denied = [e for e in AuditLog(world.services.store).read(
              after_seq=before.last_seq if before else 0)
              if e["event_type"] == EventType.ACCESS_DENIED]
    assert len(denied) == 2 * len(probes)
    assert all(e["actor"] == "other-1" and e["outcome"] == "failure" for e in denied)
    details = [json.loads(e["details"]) for e in denied]
    assert Counter(d["exists"] for d in details) == {True: 2, False: 2 * len(probes) - 2}
    assert {e["batch_id"] for e, d in zip(denied, details, strict=True) if d["exists"]} == {real}
    assert AuditLog(world.services.store).verify().ok


# -- rate limits ----------------------------------------------------------------------------------

@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class Limited:
    client: TestClient
    clock: Clock
    tokens: dict[str, str]
    services: Services

    def me(self, who: str) -> tuple[int, str | None, str]:
        r = self.client.get("/api/v1/me", headers=bearer(self.tokens[who]))
        return r.status_code, r.headers.get("retry-after"), r.text


def strict_agreement(per_token: int, per_agency: int) -> str:
    text = example_path("agreement.toml").read_text(encoding="utf-8")
    return text + (f"\n[rate_limits]\nrequests_per_minute_per_token = {per_token}\n"
                   f"requests_per_minute_per_agency = {per_agency}\n")


@pytest.fixture
def limited(store_url: str, tmp_path: Path) -> Iterator[Limited]:
    """An app whose agreement allows 3 calls a minute per token and 5 per agency."""
    path = tmp_path / "agreement.toml"
    path.write_text(strict_agreement(3, 5), encoding="utf-8")
    settings = Settings(home=tmp_path, database_url=store_url)
    services = Services.open(settings)
    services.load_agreement(path)
    tokens = {"a": add_user(services.store, name="req-a", role="requester", agency=AGENCY),
              "b": add_user(services.store, name="req-b", role="requester", agency=AGENCY),
              "other": add_user(services.store, name="req-o", role="requester",
                                agency="Another agency"),
              "reviewer": add_user(services.store, name="rev", role="reviewer")}
    clock = Clock(1_800_000_000.0 + 10)  # 10 s into a window
    app = create_app(settings, services=services)
    app.state.rate_limiter.clock = clock
    with TestClient(app) as client:
        yield Limited(client, clock, tokens, services)
    services.store.close()


def test_rate_limits_per_token_and_per_agency_answer_429_with_retry_after(
        limited: Limited) -> None:
    assert [limited.me("a")[0] for _ in range(3)] == [200, 200, 200]
    status, wait, body = limited.me("a")
    assert status == 429 and wait is not None and re.fullmatch(r"[1-9][0-9]*", wait)
    assert '"code":"rate_limited"' in body and "3 per minute" in body and "this token" in body
    # another token of the agency has its own count, up to the agency's 5
    assert [limited.me("b")[0] for _ in range(2)] == [200, 200]
    status, agency_wait, body = limited.me("b")
    assert status == 429 and "the agency" in body and agency_wait is not None
    # another agency and the custodian's staff are not affected
    assert [limited.me("other")[0] for _ in range(3)] == [200, 200, 200]
    assert limited.me("reviewer")[0] == 200
    # a refused call is not counted, and Retry-After is exact: one second early is still 429
    start = limited.clock.now
    limited.clock.now = start + int(wait) - 1
    assert limited.me("a")[0] == 429
    limited.clock.now = start + int(wait)
    assert limited.me("a")[0] == 200
    # a whole quiet window later, every limit is back in full
    limited.clock.now = start + 3 * WINDOW_SECONDS
    assert [limited.me("a")[0] for _ in range(3)] == [200, 200, 200]
    assert [limited.me("b")[0] for _ in range(2)] == [200, 200]


def test_probing_batch_ids_is_rate_limited(limited: Limited) -> None:
    statuses = [limited.client.get(f"/api/v1/batches/{uuid.uuid4().hex}",
                                   headers=bearer(limited.tokens["a"])).status_code
                for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_the_limit_is_shared_by_processes_and_exact_under_concurrency(
        limited: Limited, store_url: str, tmp_path: Path) -> None:
    """Two apps, each with its own engine and connection pool on the same store (as two uvicorn
    workers are), and eight threads: exactly the agreement's limit gets through."""
    path = tmp_path / "agreement-20.toml"
    path.write_text(strict_agreement(20, 1000), encoding="utf-8")
    limited.services.load_agreement(path)
    second = Services.open(Settings(home=tmp_path, database_url=store_url))
    clients = [TestClient(create_app(limited.services.settings, services=limited.services)),
               TestClient(create_app(second.settings, services=second))]
    for client in clients:
        client.app.state.rate_limiter.clock = limited.clock  # type: ignore[attr-defined]
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer(client: TestClient) -> None:
        for _ in range(5):
            status = client.get("/api/v1/me", headers=bearer(limited.tokens["a"])).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=hammer, args=(clients[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second.store.close()
    assert Counter(statuses) == {200: 20, 429: 20}


def test_agreement_rate_limits_keep_old_versions_and_take_the_strictest(
        limited: Limited) -> None:
    example = example_path("agreement.toml").read_text(encoding="utf-8")
    defaults = example + ("\n[rate_limits]\nrequests_per_minute_per_token = 600\n"
                          "requests_per_minute_per_agency = 3000\n")
    assert Agreement.from_toml_text(defaults).version == Agreement.from_toml_text(example).version
    assert Agreement.from_toml_text(strict_agreement(3, 5)).version != \
        Agreement.from_toml_text(example).version
    limiter: RateLimiter = limited.client.app.state.rate_limiter  # type: ignore[attr-defined]
    limits = limiter.limits_for(AGENCY)
    assert (limits.requests_per_minute_per_token, limits.requests_per_minute_per_agency) == (3, 5)
    assert limiter.limits_for("Another agency").requests_per_minute_per_token == 600


@given(limit=st.integers(1, 50), previous=st.integers(0, 100), current=st.integers(0, 100),
       second=st.integers(0, WINDOW_SECONDS - 1))
def test_retry_after_is_the_first_second_a_call_fits(limit: int, previous: int, current: int,
                                                     second: int) -> None:
    """Replaying the sliding window second by second: a refused call fits after exactly
    Retry-After seconds (when nothing else is counted meanwhile), and not one second before."""
    current = min(current, max(cap(limit, previous, second / WINDOW_SECONDS), 0))

    def fits(at: int) -> bool:
        if at < WINDOW_SECONDS:
            return current < cap(limit, previous, at / WINDOW_SECONDS)
        if at < 2 * WINDOW_SECONDS:
            return cap(limit, current, (at - WINDOW_SECONDS) / WINDOW_SECONDS) > 0
        return True

    if fits(second):
        return
    wait = retry_after(limit, previous, current, second / WINDOW_SECONDS)
    assert fits(second + wait)
    assert wait == 1 or not fits(second + wait - 1)


# -- web pages, users commands, chunked bodies ---------------------------------------------------

def test_web_pages_count_against_the_same_rate_limits(limited: Limited) -> None:
    """A signed-in page is a call like any other: 3 a minute per token here, shared with the
    API; the fourth gets 429 with Retry-After, as a page."""
    from matchgate.web.pages import COOKIE

    client = limited.client
    client.cookies.set(COOKIE, limited.tokens["a"])
    assert [client.get("/web/batches").status_code for _ in range(2)] == [200, 200]
    assert limited.me("a")[0] == 200  # the API and the pages share the token's count
    page = client.get("/web/batches")
    assert page.status_code == 429 and re.fullmatch(r"[1-9][0-9]*", page.headers["retry-after"])
    assert page.headers["content-type"].startswith("text/html") and "3 per minute" in page.text
    assert limited.me("a")[0] == 429
    # signing in with a token that is out of calls is refused the same way
    client.cookies.clear()
    login = client.post("/web/login", data={"token": limited.tokens["a"]},
                        follow_redirects=False)
    assert login.status_code == 429 and "retry-after" in login.headers
    # another token of the agency still opens pages, until the agency's 5 are used
    client.cookies.set(COOKIE, limited.tokens["b"])
    assert client.get("/web/batches").status_code == 200


def test_users_commands_write_one_audit_event_each_without_the_token(
        store_url: str, cli: Callable[..., tuple[int, str]]) -> None:
    code, out = cli("users", "add", "ops-9", "--role", "requester", "--agency", AGENCY,
                    "--database", store_url)
    assert code == 0, out
    first = out.strip().splitlines()[-1]
    code, out = cli("users", "token", "ops-9", "--expires-days", "2", "--database", store_url)
    assert code == 0, out
    second = out.strip().splitlines()[-1]
    code, out = cli("users", "revoke", "ops-9", "--database", store_url)
    assert code == 0, out
    with Store.open(store_url) as store:
        log = AuditLog(store)
        events = [e for e in log.read() if e["event_type"].startswith("user.")]
        assert log.verify().ok
    assert [e["event_type"] for e in events] == ["user.added", "user.token_issued",
                                                 "user.tokens_revoked"]
    details = [json.loads(e["details"]) for e in events]
    assert all(d["user"] == "ops-9" for d in details)
    assert details[0]["user_role"] == "requester" and details[0]["agency"] == AGENCY
    assert details[1]["token_expires"] < details[0]["token_expires"]  # 2 days, not 90
    assert details[2]["revoked"] == 2
    text = json.dumps(events, default=str)
    for token in (first, second):
        assert token not in text and token[3:15] not in text and token_hash(token) not in text


def test_a_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    """A body sent without a Content-Length (Transfer-Encoding: chunked) is counted as it comes,
    by the real server, and refused once it passes the limit."""
    from served import matchgate_env, served

    home = tmp_path / "home"
    settings = Settings(home=home)
    services = Services.open(settings)
    token = add_user(services.store, name="req-c", role="requester", agency=AGENCY)
    services.store.close()
    env = matchgate_env(home=str(home), max_upload_bytes="1000")
    limit = 1000 + 256 * 1024  # the request file, and room for the manifest

    def chunks(total: int) -> Iterator[bytes]:
        boundary = b"--x\r\nContent-Disposition: form-data; name=\"file\"; " \
                   b"filename=\"requests.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        yield boundary
        for _ in range(total // 4096):
            yield b"a" * 4096
        yield b"\r\n--x--\r\n"

    headers = bearer(token) | {"Content-Type": "multipart/form-data; boundary=x"}
    with served(env, tmp_path / "serve.log") as base:
        big = httpx.post(f"{base}/api/v1/batches", headers=headers,
                         content=chunks(limit + 8192), timeout=30)
        small = httpx.post(f"{base}/api/v1/batches", headers=headers,
                           content=chunks(8192), timeout=30)
    assert big.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in big.request.headers
    assert big.status_code == 413, big.text
    assert big.json()["code"] == "payload_too_large" and f"{limit:,}" in big.json()["message"]
    # under the body limit, the same upload is read and judged on its content instead
    assert small.status_code not in (413, 500), small.text
    assert "Traceback" not in (tmp_path / "serve.log").read_text(errors="replace")
