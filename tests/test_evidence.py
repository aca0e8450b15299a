"""A decision's evidence put together from the candidates' entries rendered by the finding
process is the same document as the one built as a dict, and is stored and read back as it."""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa
import pytest

from conftest import loaded_sample
from matchgate.evidence import (
    ENTRY_COLUMN,
    RenderedEvidence,
    considered_evidence,
    decision_evidence,
    with_rendered_entries,
)
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.pipeline import candidates_by_request, found_for_chunk, standardize_requests
from matchgate.store import Store
from matchgate.store.engine import JSONText, json_text


def strict(text: str) -> Any:
    """JSON as a strict reader (PostgreSQL's) reads it: Infinity and NaN are errors."""
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def rendered_text(evidence: dict[str, Any] | JSONText) -> Any:
    assert isinstance(evidence, JSONText)
    return strict(evidence)


@pytest.fixture(scope="module")
def chunk(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """A chunk's kept candidates as the finding process gives them, entries rendered."""
    store, rows = loaded_sample(tmp_path_factory.mktemp("evidence"), taxpayers=3000,
                                requests=1200, seed=41)
    engine = IndexedMatchEngine(store)
    _, kept, _, _ = found_for_chunk(engine, standardize_requests(rows), 0.2)
    return kept


def test_rendered_evidence_is_the_document_built_as_a_dict(chunk: pa.Table) -> None:
    assert ENTRY_COLUMN in chunk.column_names
    rendered = candidates_by_request(chunk)
    built = candidates_by_request(chunk.drop_columns([ENTRY_COLUMN]))
    assert list(rendered) == list(built) and len(rendered) > 300
    for rid, candidates in rendered.items():
        plain = built[rid]
        assert candidates == plain  # the same facts, read from the same arrays
        for got, want in zip(candidates, plain, strict=True):
            assert type(got.evidence) is RenderedEvidence and type(want.evidence) is dict
            assert dict(got.evidence) == want.evidence and len(got.evidence) == 2
        best = max(candidates, key=lambda c: c.match_weight)
        for detail in (None, 'no "match" here, ,"match_weights": either'):
            text = decision_evidence(detail, best, candidates)
            expected = decision_evidence(detail, plain[candidates.index(best)], plain)
            assert isinstance(text, JSONText) and type(expected) is dict
            assert strict(text) == expected
            assert strict(json_text(text)) == strict(json_text(expected))
        assert rendered_text(decision_evidence(None, None, candidates)) == decision_evidence(
            None, None, plain)
    # more candidates than a decision names: the first five by rank, as the dict path takes
    pooled = [c for candidates in rendered.values() for c in candidates][:40]
    pooled_plain = [c for candidates in built.values() for c in candidates][:40]
    assert rendered_text(decision_evidence(None, pooled[7], pooled)) == decision_evidence(
        None, pooled_plain[7], pooled_plain)


def test_a_decision_naming_a_candidate_without_a_rendered_entry_is_built_as_a_dict(
        chunk: pa.Table) -> None:
    rendered = candidates_by_request(chunk)
    rid, candidates = next((k, v) for k, v in rendered.items() if len(v) > 1)
    plain = candidates_by_request(chunk.drop_columns([ENTRY_COLUMN]))[rid]
    mixed = [*candidates[:-1], plain[-1]]
    got = decision_evidence(None, mixed[0], mixed)
    assert type(got) is dict
    assert got == decision_evidence(None, plain[0], plain)
    assert decision_evidence("rejected", None, []) == {"detail": "rejected"}
    assert considered_evidence(mixed) == considered_evidence(plain)


def test_numbers_json_cannot_hold_are_rendered_as_null() -> None:
    weights = pa.StructArray.from_arrays(
        [pa.array([math.inf, 1.5, math.nan]), pa.array([-math.inf, 0.0, 2.25])],
        names=["first_name", "dob"])
    gamma = pa.StructArray.from_arrays(
        [pa.array([1, 2, 3], pa.int32()), pa.array([0, -1, 4], pa.int32())],
        names=["first_name", "dob"])
    table = pa.table({
        "request_id": ["a", "a", "b"], "tin": ['9"1', "92", "93"],
        "match_probability": [1.0, math.nan, 0.5], "match_weight": [math.inf, 3.0, 1e-5],
        "evidence": pa.StructArray.from_arrays([weights, gamma],
                                               names=["match_weights", "gamma"])})
    entries = with_rendered_entries(table).column(ENTRY_COLUMN).to_pylist()
    assert [strict(e) for e in entries] == [
        {"tin": '9"1', "match_probability": 1.0, "match_weight": None,
         "match_weights": {"first_name": None, "dob": None},
         "gamma": {"first_name": 1, "dob": 0}},
        {"tin": "92", "match_probability": None, "match_weight": 3.0,
         "match_weights": {"first_name": 1.5, "dob": 0.0},
         "gamma": {"first_name": 2, "dob": -1}},
        {"tin": "93", "match_probability": 0.5, "match_weight": 1e-5,
         "match_weights": {"first_name": None, "dob": 2.25},
         "gamma": {"first_name": 3, "dob": 4}}]
    # the dict path stores what orjson writes for them: null too
    assert strict(json_text({"w": math.inf})) == {"w": None}
    assert RenderedEvidence(entries[0]).body == (
        '"match_weights":{"first_name":null,"dob":null},"gamma":{"first_name":1,"dob":0}')
    # evidence with a missing value, or text evidence, is left to the dict path
    assert ENTRY_COLUMN not in with_rendered_entries(
        table.set_column(4, "evidence", pa.array([None, None, None], pa.string()))
    ).column_names


def test_rendered_evidence_is_stored_and_read_back_as_it_is(store: Store,
                                                            chunk: pa.Table) -> None:
    rendered = candidates_by_request(chunk)
    candidates = next(v for v in rendered.values() if len(v) > 2)
    text = decision_evidence(None, candidates[0], candidates)
    assert type(text) is JSONText
    store.create_batch(batch_id="B1", agreement_id="AG-1", agreement_version="2025.1",
                       manifest={}, source_name="B1.csv", row_count=2, submitted_by="agency-7")
    store.add_requests(batch_id="B1", rows=[
        {"request_id": f"R{i}", "row_number": i, "payload": {}, "dedupe_key": f"key-{i}"}
        for i in (1, 2)])
    store.record_decisions(batch_id="B1", decisions=[
        {"request_id": rid, "code": "NO_MATCH", "reason": "no_candidate",
         "agreement_version": "2025.1", "decided_by": "matchgate", "evidence": evidence}
        for rid, evidence in (("R1", text), ("R2", strict(text)))])
    one, two = store.decisions_for_batch(batch_id="B1")
    assert one["evidence"] == two["evidence"] == strict(text)
    assert one["evidence"]["candidates"][0]["tin"] == min(
        candidates, key=lambda c: (-c.match_probability, -c.match_weight, c.tin)).tin

