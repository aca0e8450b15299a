"""The review queue, batch release and the worker, through the API and the store, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api_world import World
from matchgate.audit import AuditLog
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.store import open_master
from matchgate.review.lookup import taxpayer
from matchgate.store import StoreConflict, jobs
from matchgate.store import reviews as repo


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=2000, requests=300, seed=23)




def queue(world: World, who: str = "reviewer") -> dict[str, Any]:
    r = world.client.get("/api/v1/reviews", headers=world.auth(who),
                         params={"batch_id": world.batch_id})
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_queue_lists_the_review_band_with_counts(world: World) -> None:
    body = queue(world)
    decisions = world.services.store.decisions_for_batch(batch_id=world.batch_id)
    pending = {d["request_id"] for d in decisions if d["code"] == "PENDING_REVIEW"}
    assert pending, "the world needs items in review"
    assert {i["request_id"] for i in body["items"]} <= pending
    assert body["counts"]["total"] >= len(body["items"])
    reason = body["items"][0]["reason"]
    only = world.client.get("/api/v1/reviews", headers=world.auth("reviewer"),
                            params={"batch_id": world.batch_id, "reason": reason}).json()
    assert {i["reason"] for i in only["items"]} == {reason}


def test_review_page_sets_request_beside_candidate_with_evidence(world: World) -> None:
    item = queue(world)["items"][0]
    r = world.client.get(f"/api/v1/reviews/{world.batch_id}/{item['request_id']}",
                         headers=world.auth("reviewer"))
    assert r.status_code == 200
    view = r.json()
    assert {f["field"] for f in view["fields"]} >= {"first_name", "last_name", "street", "zip"}
    assert view["evidence"] and all("match_weight" in e for e in view["evidence"])
    assert any(f["candidate"] for f in view["fields"])
    assert "matched_tin" not in view


HOUSEHOLDS = """
SELECT DISTINCT a.tin, a.first_name, a.last_name, CAST(a.date_of_birth AS VARCHAR),
       a.last_street, a.last_city, a.last_state, a.last_zip
FROM taxpayers a JOIN taxpayers b
  ON a.last_name = b.last_name AND a.last_street = b.last_street AND a.last_zip = b.last_zip
 AND a.tin <> b.tin AND a.date_of_birth IS NOT NULL AND a.date_of_birth <> b.date_of_birth
 AND upper(substr(a.first_name, 1, 1)) = upper(substr(b.first_name, 1, 1))
ORDER BY a.tin LIMIT 8"""


def household_batch(world: World) -> str:
    """A batch of requests naming a member of a household by the given name's initial, the
    surname, the date of birth and the address: another member with that initial fits too
    (a candidate), the date of birth singles out the best one, and the initial alone sends it
    to review."""
    assert world.settings.match_store is not None  # the test world names its master store
    with open_master(world.settings.match_store) as master:
        cur = master.cursor()
        pairs = cur.execute(HOUSEHOLDS).fetchall()
        cur.close()
    with world.population.requests_path.open(newline="") as f:
        template = next(csv.DictReader(f))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(template))
    writer.writeheader()
    for n, (_, first, last, dob, street, city, state, zip_) in enumerate(pairs):
        writer.writerow(template | {
            "request_id": f"H{n:04d}", "first_name": first[0], "middle_name": "",
            "last_name": last, "suffix": "", "date_of_birth": dob[:10], "tin": "",
            "street": street,
            "unit": "", "city": city, "state": state, "zip": zip_})
    status, body = world.submit(content=out.getvalue().encode())
    assert status == 202, body
    assert world.worker().run_once() == body["batch_id"]
    return str(body["batch_id"])


def test_review_shows_the_request_beside_each_candidate_considered(world: World) -> None:
    batch_id = household_batch(world)
    decisions = world.services.store.decisions_for_batch(batch_id=batch_id)
    several = [d for d in decisions if d["code"] == "PENDING_REVIEW"
               and len((d["evidence"] or {}).get("candidates", [])) >= 2]
    assert several, [(d["code"], d["reason"]) for d in decisions]
    d = several[0]
    stored = d["evidence"]["candidates"]
    assert len(stored) <= 5 and stored[0]["tin"] == d["matched_tin"]
    assert [c["match_probability"] for c in stored] == sorted(
        (c["match_probability"] for c in stored), reverse=True)
    r = world.client.get(f"/api/v1/reviews/{batch_id}/{d['request_id']}",
                         headers=world.auth("reviewer"))
    assert r.status_code == 200
    view = r.json()
    shown = view["candidates"]
    assert [c["rank"] for c in shown] == list(range(1, len(stored) + 1))
    assert [c["tin_last4"] for c in shown] == [c["tin"][-4:] for c in stored]
    assert [c["match_probability"] for c in shown] == [c["match_probability"] for c in stored]
    first, second = shown[0], shown[1]
    assert first["fields"] == view["fields"] and first["evidence"] == view["evidence"]
    master = world.settings.match_store
    assert master is not None  # the test world names its master store
    records = {c["tin"]: taxpayer(master, c["tin"]) for c in stored[:2]}
    for c, tin in ((first, stored[0]["tin"]), (second, stored[1]["tin"])):
        by_field = {f["field"]: f for f in c["fields"]}
        record = records[tin]
        assert record is not None
        assert by_field["last_name"]["candidate"] == record["last_name"]
        assert {e["comparison"] for e in c["evidence"]} \
            == set(stored[c["rank"] - 1]["match_weights"])
    assert first["fields"] != second["fields"] or first["evidence"] != second["evidence"]
    assert not any(len(c["tin_last4"]) > 4 for c in shown)
    assert all(tin not in r.text for tin in records)
    sign_in(world, "reviewer")
    page = world.client.get(f"/web/reviews/{batch_id}/{d['request_id']}")
    assert page.status_code == 200
    for c in shown:
        assert f"TIN …{c['tin_last4']}" in page.text
    assert page.text.count('class="waterfall"') == len(shown)
    world.client.cookies.clear()


def test_two_reviewers_cannot_decide_the_same_item(world: World) -> None:
    item = queue(world)["items"][1]["request_id"]
    base = f"/api/v1/reviews/{world.batch_id}/{item}"
    assert world.client.post(f"{base}/claim", headers=world.auth("reviewer")).status_code == 200
    taken = world.client.post(f"{base}/claim", headers=world.auth("disclosure_officer"))
    assert taken.status_code == 409 and taken.json()["code"] == "store_conflict"
    body = {"outcome": "denied", "reason": "not the same person"}
    other = world.client.post(f"{base}/decision", headers=world.auth("disclosure_officer"),
                              json=body)
    assert other.status_code == 409
    mine = world.client.post(f"{base}/decision", headers=world.auth("reviewer"), json=body)
    assert mine.status_code == 200 and mine.json()["code"] == "DENIED"
    again = world.client.post(f"{base}/decision", headers=world.auth("reviewer"), json=body)
    assert again.status_code == 409
    assert item not in {i["request_id"] for i in queue(world)["items"]}
    events = [e for e in AuditLog(world.services.store).read(limit=100000)
              if e["request_id"] == item and e["event_type"].startswith("review.")]
    assert [e["event_type"] for e in events] == ["review.claimed", "review.decided"]


def test_concurrent_claims_and_decisions_have_one_winner(world: World) -> None:
    item = queue(world)["items"][2]["request_id"]
    won: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            repo.claim(world.services.store, batch_id=world.batch_id, request_id=item,
                       reviewer=name, ttl=timedelta(minutes=5))
            repo.decide(world.services.store, batch_id=world.batch_id, request_id=item,
                        reviewer=name, outcome="denied", reason="race",
                        released={"code": "DENIED", "reason": "review_denied", "disclosed": {}})
            won.append(name)
        except StoreConflict:
            pass

    threads = [threading.Thread(target=attempt, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_a_lapsed_claim_can_be_taken_over(world: World) -> None:
    item = queue(world)["items"][3]["request_id"]
    store = world.services.store
    repo.claim(store, batch_id=world.batch_id, request_id=item, reviewer="a",
               ttl=timedelta(seconds=-1))
    with pytest.raises(StoreConflict):
        repo.decide(store, batch_id=world.batch_id, request_id=item, reviewer="a",
                    outcome="denied", reason="late", released={})
    repo.claim(store, batch_id=world.batch_id, request_id=item, reviewer="b",
               ttl=timedelta(minutes=1))


def test_approval_is_released_to_the_requester(world: World) -> None:
    item = queue(world)["items"][0]["request_id"]
    base = f"/api/v1/reviews/{world.batch_id}/{item}"
    world.client.post(f"{base}/claim", headers=world.auth("reviewer"))
    r = world.client.post(f"{base}/decision", headers=world.auth("reviewer"),
                          json={"outcome": "approved", "reason": "dob and address agree"})
    assert r.status_code == 200
    assert r.json()["code"] in ("VERIFIED", "ADDRESS_DIFFERS")
    rows = world.client.get(f"/api/v1/batches/{world.batch_id}/responses",
                            headers=world.auth("requester")).json()["rows"]
    mine = next(row for row in rows if row["request_id"] == item)
    assert mine["code"] == r.json()["code"]
    stored = {d["request_id"]: d for d in
              world.services.store.decisions_for_batch(batch_id=world.batch_id)}
    assert stored[item]["code"] == "PENDING_REVIEW"  # the machine's decision is kept as it was
    kinds = Counter(e["event_type"] for e in AuditLog(world.services.store).read(limit=100000)
                    if e["request_id"] == item)
    assert kinds["disclosure"] == 1 and kinds["review.decided"] == 1
    # 6103(p)(3): the approved disclosure is accounted for, approved by the reviewer
    from matchgate.accounting.service import taxpayer_disclosures

    tin = stored[item]["matched_tin"]
    records = [a for a in taxpayer_disclosures(world.services.store, tin)
               if a["request_id"] == item]
    assert len(records) == 1 and records[0]["approved_by"] == "reviewer-1"


def test_sign_off_gates_the_release(world: World, tmp_path: Path) -> None:
    text = example_path("agreement.toml").read_text()
    signed = tmp_path / "agreement.toml"
    signed.write_text(text.replace("\n[", "\nrelease_requires_signoff = true\n\n[", 1))
    world.services.load_agreement(signed)
    try:
        lines = world.population.requests_path.read_text().splitlines()
        status, body = world.submit(content="\n".join(lines[:11]).encode())
        assert status == 202 and body["release"] == "awaiting_signoff"
        batch = str(body["batch_id"])
        assert world.worker("w-signoff").run_once() == batch
        url = f"/api/v1/batches/{batch}"
        held = world.client.get(f"{url}/responses", headers=world.auth("requester"))
        assert held.status_code == 409 and held.json()["code"] == "not_released"
        summary = world.client.get(f"{url}/summary", headers=world.auth("disclosure_officer"))
        assert sum(summary.json()["codes"].values()) == 10
        refuse = {"approve": True, "reason": ""}
        assert world.client.post(f"{url}/release", headers=world.auth("disclosure_officer"),
                                 json=refuse).status_code == 422
        ok = world.client.post(f"{url}/release", headers=world.auth("disclosure_officer"),
                               json={"approve": True, "reason": "summary reviewed"})
        assert ok.status_code == 200 and ok.json()["release"] == "released"
        twice = world.client.post(f"{url}/release", headers=world.auth("disclosure_officer"),
                                  json={"approve": False, "reason": "changed my mind"})
        assert twice.status_code == 409
        got = world.client.get(f"{url}/responses", headers=world.auth("requester"))
        assert got.status_code == 200 and len(got.json()["rows"]) == 10
    finally:
        world.services.load_agreement(example_path("agreement.toml"))


def test_two_workers_never_take_the_same_batch(world: World) -> None:
    lines = world.population.requests_path.read_text().splitlines()
    status, body = world.submit(content="\n".join(lines[:4]).encode())
    assert status == 202
    got: list[str | None] = []
    barrier = threading.Barrier(4)

    def take(name: str) -> None:
        barrier.wait()
        got.append(jobs.claim_job(world.services.store, worker=name,
                                  lease=timedelta(minutes=5)))

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [g for g in got if g is not None] == [body["batch_id"]]
    for g in got:
        if g:
            jobs.finish_job(world.services.store, batch_id=g, worker="nobody")


def test_a_dead_workers_batch_is_finished_by_another_without_double_answers(
        world: World) -> None:
    lines = world.population.requests_path.read_text().splitlines()
    status, body = world.submit(content="\n".join([lines[0], *lines[20:40]]).encode())
    assert status == 202
    batch = str(body["batch_id"])
    store = world.services.store
    dead = world.worker("dead")
    assert jobs.claim_job(store, worker="dead", lease=timedelta(seconds=-1)) == batch
    dead.process(batch)  # it answered everything, then died before marking the job done
    running = jobs.get_job(store, batch_id=batch)
    assert running is not None and running["status"] == "running"
    assert world.worker("alive").run_once() == batch
    job = jobs.get_job(store, batch_id=batch)
    assert job is not None
    assert job["status"] == "done" and job["worker"] == "alive" and job["attempts"] == 2
    answered = [json.loads(e["details"]) for e in AuditLog(store).read(limit=100000)
                if e["batch_id"] == batch and e["event_type"] == "batch.completed"]
    assert [a["responses"] for a in answered] == [20]  # answered once, all twenty
    assert len(store.decisions_for_batch(batch_id=batch)) == 20


def sign_in(world: World, who: str) -> None:
    world.client.cookies.clear()
    r = world.client.post("/web/login", data={"token": world.tokens[who]},
                          follow_redirects=False)
    assert r.status_code == 303


def test_web_pages_sign_in_review_and_decide(world: World) -> None:
    world.client.cookies.clear()
    assert world.client.get("/web/reviews", follow_redirects=False).headers["location"] \
        == "/web/login"
    bad = world.client.post("/web/login", data={"token": "mg_wrong"})
    assert "unknown or revoked" in bad.text
    sign_in(world, "reviewer")
    listing = world.client.get("/web/reviews")
    assert listing.status_code == 200 and "waiting" in listing.text
    item = queue(world)["items"][-1]["request_id"]
    page = world.client.get(f"/web/reviews/{world.batch_id}/{item}")
    assert page.status_code == 200 and 'id="approve"' in page.text
    assert "/static/review.js" in page.text and "http" not in page.text.split("<body>")[0]
    base = f"/web/reviews/{world.batch_id}/{item}"
    world.client.post(f"{base}/claim")
    done = world.client.post(f"{base}/decision", data={"outcome": "denied",
                                                       "reason": "different person"})
    assert "decided" in done.text and 'id="outcome"' in done.text
    assert world.client.get("/static/review.js").status_code == 200
    sign_in(world, "requester")
    assert world.client.get("/web/reviews").status_code == 403
    assert world.client.get("/web/batches").status_code == 200
    sign_in(world, "auditor")
    audit = world.client.get("/web/audit", params={"event_type": "review.decided"})
    assert audit.status_code == 200 and "chain intact" in audit.text
    assert "review.decided" in audit.text
    world.client.cookies.clear()


def test_oversight_report_counts_review_outcomes_and_their_accounting(world: World) -> None:
    from matchgate.reports.analysis import check_accounted, reviews
    from matchgate.reports.facts import gather

    item = queue(world)["items"][0]["request_id"]
    base = f"/api/v1/reviews/{world.batch_id}/{item}"
    world.client.post(f"{base}/claim", headers=world.auth("reviewer"))
    r = world.client.post(f"{base}/decision", headers=world.auth("reviewer"),
                          json={"outcome": "approved", "reason": "address history agrees"})
    assert r.status_code == 200
    data = gather(world.services.store, batch_id=world.batch_id)
    table = reviews(data)
    assert int(table["reviewer: approved"]) >= 1
    assert "turnaround, median" in table
    assert int(table["sent to review"]) >= int(table["still waiting"]) + 1
    assert check_accounted(data).ok
    # a review approval without its accounting record is caught
    key = (world.batch_id, item)
    data.accounted.pop(key)
    assert not check_accounted(data).ok
