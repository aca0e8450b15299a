"""The whole pipeline on a small synthetic population: every request answered exactly once,
nothing disclosed that the agreement does not allow, the audit chain intact, resumable."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matchgate.audit import AuditLog
from matchgate.cli.commands import register
from matchgate.cli.main import app
from matchgate.codes import DISCLOSING_CODES, REJECTION_CODES, Code
from matchgate.evaluate import evaluate
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.pipeline import BatchResult
from matchgate.service import Services
from matchgate.settings import Settings

register(app)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=3000, requests=400, seed=11)


@pytest.fixture(scope="module")
def verified(population: GenerateReport, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Services, BatchResult, Path]:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    load_master(population.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    result = services.verify_batch(requests_path=population.requests_path,
                                   manifest_path=population.manifest_path,
                                   responses_path=home / "responses.csv",
                                   decisions_path=home / "decisions.csv")
    return services, result, home


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def truth_of(population: GenerateReport) -> dict[str, dict[str, str]]:
    return {r["request_id"]: r for r in read(population.truth_path)}


def test_every_request_answered_exactly_once(population: GenerateReport,
                                             verified: tuple[Services, BatchResult, Path]) -> None:
    _, result, home = verified
    ids = [r["request_id"] for r in read(population.requests_path)]
    answered = [r["request_id"] for r in read(home / "responses.csv")]
    assert sorted(answered) == sorted(ids)
    assert result.total == len(ids) == sum(result.codes.values())


def test_response_file_shows_the_requester_only_what_is_allowed(
        verified: tuple[Services, BatchResult, Path]) -> None:
    _, _, home = verified
    rows = read(home / "responses.csv")
    assert set(rows[0]) == {"request_id", "code", "reason", "detail", "disclosed_street",
                            "disclosed_unit", "disclosed_city", "disclosed_state",
                            "disclosed_zip"}
    for row in rows:
        if row["code"] != Code.ADDRESS_DIFFERS:
            assert not any(row[c] for c in row if c.startswith("disclosed_")), row
    decisions = {r["request_id"]: r for r in read(home / "decisions.csv")}
    tins = {d["matched_tin"] for d in decisions.values() if d["matched_tin"]}
    text = (home / "responses.csv").read_text()
    assert not any(tin in text for tin in tins)


def test_invalid_requests_are_all_rejected_and_valid_ones_never(
        population: GenerateReport, verified: tuple[Services, BatchResult, Path]) -> None:
    services, result, _ = verified
    truth = truth_of(population)
    for d in services.store.decisions_for_batch(batch_id=result.batch_id):
        category = truth[d["request_id"]]["category"]
        rejected = Code(d["code"]) in REJECTION_CODES
        assert rejected == (category == "invalid"), (d, truth[d["request_id"]])
        if rejected:
            assert d["matched_tin"] is None


def test_rejection_reason_follows_the_kind_of_invalidity(
        population: GenerateReport, verified: tuple[Services, BatchResult, Path]) -> None:
    services, result, _ = verified
    truth = truth_of(population)
    expected_code = {"address_placeholder": Code.REJECTED_ADDRESS,
                     "zip_state_mismatch": Code.REJECTED_ADDRESS,
                     "missing_case_number": Code.REJECTED_INSUFFICIENT,
                     "missing_statutory_authority": Code.REJECTED_INSUFFICIENT,
                     "duplicate_in_batch": Code.DUPLICATE}
    seen = set()
    for d in services.store.decisions_for_batch(batch_id=result.batch_id):
        kind = truth[d["request_id"]]["variation"].split(";")[0]
        if kind in expected_code:
            assert d["code"] == expected_code[kind], (kind, d["reason"])
            seen.add(kind)
    assert seen == set(expected_code)


def test_precision_first(population: GenerateReport,
                         verified: tuple[Services, BatchResult, Path]) -> None:
    services, result, _ = verified
    acc = evaluate(services.store.decisions_for_batch(batch_id=result.batch_id),
                   truth_of(population))
    assert acc.disclosures > 100
    assert acc.precision >= 0.99
    # The example agreement requires two identifiers besides the name: name and address alone
    # (about a third of the requests carry neither a date of birth nor a TIN) go to review,
    # which is not recall but is not NO_MATCH either.
    assert acc.recall >= 0.72
    assert acc.in_master_not_no_match / acc.in_master >= 0.95
    assert acc.invalid_rejected_rate == 1.0


def test_audit_chain_intact_with_an_event_per_stage(
        verified: tuple[Services, BatchResult, Path]) -> None:
    services, result, _ = verified
    report = services.verify_audit()
    assert report.ok, report.problem
    events = [e for e in AuditLog(services.store).read(limit=1_000_000)
              if e["batch_id"] == result.batch_id]
    kinds = Counter(e["event_type"] for e in events)
    # the batch received and answered once each, naming every request and every response
    assert kinds["batch.received"] == kinds["batch.completed"] == 1
    received, completed = (json.loads(next(e["details"] for e in events if e["event_type"] == k))
                           for k in ("batch.received", "batch.completed"))
    assert received["rows"] == completed["responses"] == result.total
    # one verdict per request: rejected by the gate (request.gated, failure), or let through
    # and decided (request.decided, which says the gate passed it); never both, never twice
    verdicts = Counter(e["request_id"] for e in events
                       if e["event_type"] in ("request.gated", "request.decided"))
    assert len(verdicts) == result.total and set(verdicts.values()) == {1}
    rejected = {e["request_id"] for e in events if e["event_type"] == "request.gated"}
    assert {e["outcome"] for e in events if e["event_type"] == "request.gated"} == {"failure"}
    decided = [json.loads(e["details"]) for e in events if e["event_type"] == "request.decided"]
    assert {d["gate"] for d in decided} == {"passed"}
    assert len(rejected) + len(decided) == result.total and rejected and decided


def test_running_the_same_batch_again_answers_nothing_twice(
        population: GenerateReport, verified: tuple[Services, BatchResult, Path]) -> None:
    services, first, home = verified
    before = services.store.decisions_for_batch(batch_id=first.batch_id)
    again = services.verify_batch(requests_path=population.requests_path,
                                  manifest_path=population.manifest_path,
                                  responses_path=home / "responses2.csv",
                                  decisions_path=None)
    assert again.batch_id == first.batch_id
    assert again.resumed == first.total
    assert services.store.decisions_for_batch(batch_id=first.batch_id) == before
    assert (home / "responses2.csv").read_bytes() == (home / "responses.csv").read_bytes()
    assert services.verify_audit().ok


def test_a_batch_stopped_midway_resumes_where_it_stopped(
        population: GenerateReport, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    load_master(population.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    # a first run that stops after the gate recorded its rejections (as a crash would leave it)
    from matchgate.intake import load_manifest
    from matchgate.pipeline import BatchRun

    manifest = load_manifest(population.manifest_path)
    run = BatchRun(requests_path=population.requests_path, manifest=manifest,
                   agreement=services.agreement_in_force(manifest.agreement_id),
                   store=services.store, engine=services.engine,
                   responses_path=tmp_path / "r.csv")
    rows = run._read()
    run._screen(rows)
    run._store_batch(rows)
    run._record_rejections(rows, run._gate(rows))
    partial = services.store.decided_request_ids(batch_id=run.batch_id)
    assert 0 < len(partial) < len(rows)
    result = services.verify_batch(requests_path=population.requests_path,
                                   manifest_path=population.manifest_path,
                                   responses_path=tmp_path / "r.csv", decisions_path=None)
    assert result.resumed == len(partial)
    assert len(read(tmp_path / "r.csv")) == len(rows)
    assert services.verify_audit().ok


def test_disclosure_needs_the_agreement_to_allow_it(population: GenerateReport,
                                                    tmp_path: Path) -> None:
    text = example_path("agreement.toml").read_text()
    narrow = tmp_path / "agreement.toml"
    narrow.write_text(text.replace("address_differs_discloses = true",
                                   "address_differs_discloses = false"))
    settings = Settings(home=tmp_path / "home")
    load_master(population.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(narrow)
    result = services.verify_batch(requests_path=population.requests_path,
                                   manifest_path=population.manifest_path,
                                   responses_path=tmp_path / "r.csv", decisions_path=None)
    assert result.codes.get(Code.ADDRESS_DIFFERS.value, 0) > 0
    rows = read(tmp_path / "r.csv")
    assert not any(c.startswith("disclosed_") for c in rows[0])
    decisions = services.store.decisions_for_batch(batch_id=result.batch_id)
    assert all(not d["disclosed"] for d in decisions)
    assert any(Code(d["code"]) in DISCLOSING_CODES for d in decisions)


def test_cli_verify_and_its_errors(population: GenerateReport, tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    settings = Settings(home=home)
    load_master(population.master_path, settings.resolved_match_store())
    ok = runner.invoke(app, ["agreement", "load", str(example_path("agreement.toml")),
                             "--home", str(home)])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "responses.csv"
    result = runner.invoke(app, ["verify", str(population.requests_path), "--manifest",
                                 str(population.manifest_path), "--out", str(out),
                                 "--decisions", str(tmp_path / "d.csv"), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "VERIFIED" in result.output
    missing = runner.invoke(app, ["verify", str(tmp_path / "nope.csv"), "--manifest",
                                  str(population.manifest_path), "--out", str(out),
                                  "--home", str(home)])
    assert missing.exit_code != 0
    assert isinstance(missing.exception, Exception)
