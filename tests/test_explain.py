"""`matchgate explain`: the account of one decision, as text and as a self-contained page."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from matchgate.cli.commands import register
from matchgate.cli.explain_cmd import find_decision
from matchgate.cli.main import app
from matchgate.codes import REJECTION_CODES
from matchgate.errors import InputError, NotFound
from matchgate.examples import example_path
from matchgate.explain import (
    account_lines,
    explain_decision,
    html_page,
    level_labels,
    load_model,
    probability_of,
    weight_of,
)
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.pipeline import BatchResult
from matchgate.service import Services
from matchgate.settings import Settings

register(app)
SRC = Path(__file__).resolve().parents[1] / "src"
MODEL = load_model()
COMPARISONS = [c["output_column_name"] for c in MODEL["comparisons"]]


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Services, BatchResult, list[dict[str, Any]], Path]:
    population: GenerateReport = generate(tmp_path_factory.mktemp("gen"), taxpayers=1500,
                                          requests=200, seed=5)
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    load_master(population.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    result = services.verify_batch(requests_path=population.requests_path,
                                   manifest_path=population.manifest_path,
                                   responses_path=home / "responses.csv", decisions_path=None)
    decisions = services.store.decisions_for_batch(batch_id=result.batch_id)
    return services, result, decisions, home


def matched(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in decisions if (d["evidence"] or {}).get("match_weights")]


# -- the gamma -> label mapping --------------------------------------------------------------

def test_gamma_levels_map_to_labels_as_splink_numbers_them() -> None:
    labels = level_labels(MODEL)
    assert set(labels) == set(COMPARISONS)
    first = labels["first_name"]
    assert first[-1] == "std_first is NULL"
    assert first[7] == "Exact match on std_first"
    assert first[6] == "Same nickname key (std_first_canon)"
    assert first[0] == "All other comparisons"
    assert labels["dob"][0] == "Born more than 10 years apart"
    assert labels["suffix"][-1] == "Neither has a suffix"
    assert labels["suffix"][1] == "Both present and different"
    assert labels["tin"][2] == "Exact match on std_tin"
    for comparison in MODEL["comparisons"]:
        n = len(comparison["comparison_levels"])
        assert sorted(labels[comparison["output_column_name"]]) == list(range(-1, n - 1))


def test_gamma_mapping_agrees_with_the_first_name_levels_the_decision_rules_use() -> None:
    # match.candidates: first-name levels 4..7 are firm (exact, nickname key, related, JW .92)
    from matchgate.match.candidates import FIRM_FIRST_NAME_LEVELS
    labels = level_labels(MODEL)["first_name"]
    assert {labels[g] for g in FIRM_FIRST_NAME_LEVELS} == {
        "Exact match on std_first", "Same nickname key (std_first_canon)",
        "Related in the nickname graph (std_first_related)",
        "Jaro-Winkler distance of std_first >= 0.92"}


@given(st.floats(min_value=1e-9, max_value=1 - 1e-9))
def test_weight_and_probability_are_inverse(p: float) -> None:
    assert math.isclose(probability_of(weight_of(p)), p, rel_tol=1e-6, abs_tol=1e-12)


@given(st.dictionaries(st.sampled_from(COMPARISONS), st.floats(-20, 20), min_size=1))
def test_total_is_prior_plus_field_weights(weights: dict[str, float]) -> None:
    decision = {"batch_id": "b", "request_id": "r", "code": "VERIFIED", "reason": None,
                "evidence": {"match_weights": weights, "gamma": {c: 0 for c in weights}}}
    ex = explain_decision(decision, MODEL)
    assert [f.comparison for f in ex.fields] == COMPARISONS
    assert math.isclose(ex.total_weight, ex.prior_weight + sum(weights.values()),
                        abs_tol=1e-9)


# -- on a verified batch ---------------------------------------------------------------------

def weights_in(lines: list[str]) -> dict[str, float]:
    out = {}
    for line in lines:
        m = re.match(r"^([a-z ]+|prior \(two random records match\)): .*, ([+-]\d+\.\d)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def test_account_names_every_comparison_and_sums_to_the_total(verified: Any) -> None:
    _, _, decisions, _ = verified
    chosen = matched(decisions)
    assert chosen
    for decision in chosen[:25]:
        ex = explain_decision(decision, MODEL)
        lines = account_lines(ex)
        weights = weights_in(lines)
        for comparison in COMPARISONS:
            assert comparison.replace("_", " ") in weights, (comparison, lines)
        total_line = next(line for line in lines if line.startswith("total match weight"))
        total = float(total_line.rsplit(" ", 1)[1])
        # each printed weight is rounded to 0.1: nine of them
        assert abs(sum(weights.values()) - total) <= 0.05 * 10
        assert any(f"decision: {decision['code']}" in line for line in lines)
        if decision["match_probability"] is not None:
            assert math.isclose(ex.probability, decision["match_probability"], abs_tol=1e-3)


def test_first_name_line_reads_as_its_level(verified: Any) -> None:
    _, _, decisions, _ = verified
    labels = level_labels(MODEL)["first_name"]
    for decision in matched(decisions)[:10]:
        gamma = decision["evidence"]["gamma"]["first_name"]
        weight = decision["evidence"]["match_weights"]["first_name"]
        line = next(x for x in account_lines(explain_decision(decision, MODEL))
                    if x.startswith("first name: "))
        label = labels[gamma]
        assert line.lower() == f"first name: {label}, {weight:+.1f}".lower()


def test_html_is_self_contained(verified: Any) -> None:
    _, _, decisions, _ = verified
    page = html_page(explain_decision(matched(decisions)[0], MODEL))
    assert "<svg" in page
    assert "<script" not in page.lower()
    assert not re.search(r"src\s*=\s*[\"']?https?://", page, re.IGNORECASE)
    assert "<link" not in page.lower()
    for comparison in COMPARISONS:
        assert comparison.replace("_", " ") in page


def test_rejected_request_says_so(verified: Any) -> None:
    _, _, decisions, _ = verified
    rejected = next(d for d in decisions if d["code"] in {c.value for c in REJECTION_CODES})
    ex = explain_decision(rejected, MODEL)
    text = "\n".join(account_lines(ex))
    assert "rejected before matching" in text
    assert rejected["reason"] in text
    assert f"detail: {rejected['evidence']['detail']}" in text
    assert "total match weight" not in text
    assert "<svg" not in html_page(ex)


def test_request_without_candidate_says_so() -> None:
    decision = {"batch_id": "b", "request_id": "r9", "code": "NO_MATCH", "reason": "no_candidate",
                "evidence": {}}
    text = "\n".join(account_lines(explain_decision(decision, MODEL)))
    assert "no candidate taxpayer was found" in text
    assert "total match weight" not in text


def test_unknown_request_and_batch_are_not_found(verified: Any) -> None:
    services, result, _, _ = verified
    with pytest.raises(NotFound, match="'no-such-request'") as info:
        find_decision(services.store, "no-such-request")
    assert info.value.hint
    some = matched(verified[2])[0]["request_id"]
    with pytest.raises(NotFound, match="batch 'no-such-batch'"):
        find_decision(services.store, some, "no-such-batch")
    assert find_decision(services.store, some, result.batch_id)["request_id"] == some


def test_request_in_two_batches_asks_for_the_batch(verified: Any) -> None:
    services, result, decisions, _ = verified
    store = services.store
    original = decisions[0]
    request = store.requests_for_batch(batch_id=result.batch_id)[0]
    assert request["request_id"] == original["request_id"]
    store.create_batch(batch_id="second-batch", agreement_id="x", agreement_version="1",
                       manifest={}, source_name="copy.csv", row_count=1, submitted_by="test")
    store.add_requests(batch_id="second-batch", rows=[{**request, "dedupe_key": "copy"}])
    copy = {k: original[k] for k in ("request_id", "code", "reason", "agreement_version",
                                     "decided_by", "evidence")}
    store.record_decisions(batch_id="second-batch", decisions=[copy])
    with pytest.raises(InputError, match="2 batches") as info:
        find_decision(store, original["request_id"])
    assert "--batch" in info.value.hint
    assert find_decision(store, original["request_id"], "second-batch")["batch_id"] == \
        "second-batch"


# -- the command -----------------------------------------------------------------------------

def test_cli_writes_the_page_prints_the_account_and_audits(verified: Any) -> None:
    services, result, decisions, home = verified
    decision = matched(decisions)[1]
    out = home / "explain" / "page.html"
    run = CliRunner().invoke(app, ["explain", decision["request_id"], "--batch",
                                   result.batch_id, "--home", str(home), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "first name:" in run.output and "total match weight" in run.output
    assert str(out.name) in run.output
    assert "<svg" in out.read_text()
    from matchgate.audit import AuditLog
    log = AuditLog(services.store)
    events = [e for e in log.read(limit=100000) if e["event_type"] == "decision.explained"]
    assert events and events[-1]["request_id"] == decision["request_id"]
    assert decision["matched_tin"] not in events[-1]["details"]
    assert services.verify_audit().ok


def matchgate(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point: errors become a message and an exit code."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "matchgate", *args, "--home", str(home)],
                          env=env, capture_output=True, text=True, timeout=120)


def test_cli_unknown_request_exits_2_with_a_message(verified: Any, tmp_path: Path) -> None:
    _, _, _, home = verified
    res = matchgate("explain", "no-such-request", "--out", str(tmp_path / "x.html"), home=home)
    assert res.returncode == 2, res.stderr
    assert "no-such-request" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "x.html").exists()


def test_cli_rejected_request_exits_0_and_says_so(verified: Any, tmp_path: Path) -> None:
    _, result, decisions, home = verified
    rejected = next(d for d in decisions if d["code"] in {c.value for c in REJECTION_CODES})
    res = matchgate("explain", rejected["request_id"], "--batch", result.batch_id,
                    "--out", str(tmp_path / "r.html"), home=home)
    assert res.returncode == 0, res.stderr
    assert "rejected before matching" in res.stdout
    assert rejected["code"] in (tmp_path / "r.html").read_text()
