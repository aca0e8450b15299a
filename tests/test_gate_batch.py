"""Batch-level gate: the manifest against the agreement, duplicates and volume limits."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import AGREEMENT, COURT, COURT_MANIFEST, MANIFEST, TODAY
from matchgate.agreement import Agreement
from matchgate.columns import REQUEST_COLUMNS
from matchgate.gate import check_batch, check_manifest, dedupe_key
from matchgate.intake import Manifest
from matchgate.intake.rows import RequestRow

PERSON: dict[str, str | None] = {
    "first_name": "Maria", "middle_name": "Elena", "last_name": "Garcia Lopez",
    "suffix": None, "date_of_birth": "1985-03-12", "tin": None,
    "street": "1418 N Main St", "unit": "Apt 2B", "city": "Springfield", "state": "IL",
    "zip": "62702"}


def manifest_reasons(manifest: Manifest = MANIFEST, agreement: Agreement = AGREEMENT,
                     today: date = TODAY) -> list[str]:
    return [r.reason for r in check_manifest(manifest, agreement, today=today)]


def with_changes(model, **changes):  # type: ignore[no-untyped-def]
    return type(model).model_validate({**model.model_dump(), **changes})


def test_example_manifests_pass() -> None:
    assert manifest_reasons() == []
    assert manifest_reasons(COURT_MANIFEST, COURT) == []


@pytest.mark.parametrize(("manifest_changes", "reason"), [
    ({"legal_basis": "6103(i)(1)"}, "legal_basis_not_in_agreement"),
    ({"legal_basis": "6103(k)(6)"}, "legal_basis_not_in_agreement"),
    ({"agreement_id": "OTHER"}, "manifest_agreement_mismatch"),
    ({"certification": None}, "certification_missing"),
    ({"certification": "yes"}, "certification_missing"),
    ({"certification": "N/A"}, "certification_missing"),
    ({"certification": "   "}, "certification_missing"),
])
def test_manifest_problems(manifest_changes: dict, reason: str) -> None:
    assert reason in manifest_reasons(with_changes(MANIFEST, **manifest_changes))


@pytest.mark.parametrize(("field", "value"), [
    ("court", None), ("docket", None), ("order_date", None), ("order_date", date(2026, 2, 1)),
])
def test_court_order_elements(field: str, value: object) -> None:
    got = check_manifest(with_changes(COURT_MANIFEST, **{field: value}), COURT, today=TODAY)
    assert [(r.reason, r.field) for r in got] == [("manifest_incomplete", field)]


@pytest.mark.parametrize(("agreement_changes", "today", "reason"), [
    ({}, date(2025, 1, 1), "agreement_not_in_force"),
    ({}, date(2030, 1, 1), "agreement_not_in_force"),
    ({"safeguards": {"status": "lapsed", "reviewed_on": date(2025, 10, 1)}}, TODAY,
     "safeguards_lapsed"),
    ({"safeguards": {"status": "findings_open", "reviewed_on": date(2025, 10, 1)}}, TODAY,
     "safeguards_lapsed"),
    ({"safeguards": {"status": "current", "reviewed_on": date(2020, 1, 1)}}, TODAY,
     "safeguards_lapsed"),
])
def test_agreement_state(agreement_changes: dict, today: date, reason: str) -> None:
    agreement = Agreement.from_data({**AGREEMENT.model_dump(), **agreement_changes})
    assert manifest_reasons(agreement=agreement, today=today)[0] == reason


# -- duplicates and limits ----------------------------------------------------------------------

def row(n: int, request_id: str | None = None, **changes: str | None) -> RequestRow:
    fields: dict[str, str | None] = {c: None for c in REQUEST_COLUMNS}
    fields.update(PERSON)
    fields.update(changes)
    rid = request_id or f"R{n}"
    fields["request_id"] = rid
    return RequestRow(row_number=n, request_id=rid, fields=fields)


def limited(**limits: object) -> Agreement:
    data = AGREEMENT.model_dump()
    data["limits"] = {**data["limits"], **limits}
    return Agreement.from_data(data)


def test_dedupe_key_ignores_form_but_not_identity() -> None:
    key = dedupe_key(PERSON)
    assert len(key) == 32
    same = {**PERSON, "first_name": " MARIA ", "last_name": "garcia-lopez",
            "street": "1418 n. main st.", "date_of_birth": "03/12/1985", "zip": "62702-0001"}
    assert dedupe_key(same) == key
    for field, value in [("first_name", "Mario"), ("suffix", "Jr"), ("date_of_birth", "1985-03-13"),
                         ("unit", "Apt 3B"), ("street", "1420 N Main St"), ("zip", "62703"),
                         ("middle_name", "Rosa")]:
        assert dedupe_key({**PERSON, field: value}) != key, field


def test_first_occurrence_goes_ahead_later_ones_are_duplicates() -> None:
    rows = [row(1), row(2, first_name="MARIA"), row(3, first_name="Ana"), row(4)]
    got = check_batch(rows, MANIFEST, AGREEMENT, set())
    assert sorted(got) == ["R2", "R4"]
    assert got["R2"].reason == "duplicate_in_batch" and "R1" in got["R2"].message


def test_duplicate_request_ids() -> None:
    rows = [row(1, "X"), row(2, "X", first_name="Ana")]
    got = check_batch(rows, MANIFEST, AGREEMENT, set())
    assert got["X"].reason == "duplicate_request_id" and "row 2" in got["X"].message


def test_keys_answered_in_earlier_batches() -> None:
    key = dedupe_key(row(1).fields)
    got = check_batch([row(1), row(2, first_name="Ana")], MANIFEST, AGREEMENT, {key})
    assert list(got) == ["R1"] and got["R1"].reason == "duplicate_earlier"
    named = check_batch([row(1)], MANIFEST, AGREEMENT, {key: ("B-0001", "R-77")})
    assert "B-0001" in named["R1"].message and "R-77" in named["R1"].message


def test_batch_limit_rejects_the_whole_batch_or_the_excess() -> None:
    rows = [row(i, first_name=f"Name{chr(65 + i)}") for i in range(1, 6)]
    whole = check_batch(rows, MANIFEST, limited(max_batch_size=3), set())
    assert sorted(whole) == [r.request_id for r in rows]
    assert {r.reason for r in whole.values()} == {"batch_limit"}
    excess = check_batch(rows, MANIFEST, limited(max_batch_size=3, on_excess="reject_excess"),
                         set())
    assert sorted(excess) == ["R4", "R5"]
    assert check_batch(rows[:3], MANIFEST, limited(max_batch_size=3), set()) == {}


def test_official_limit_counts_earlier_requests() -> None:
    rows = [row(i, first_name=f"Name{chr(65 + i)}") for i in range(1, 4)]
    agreement = limited(max_requests_per_official=5, on_excess="reject_excess")
    assert check_batch(rows, MANIFEST, agreement, set(), official_prior_count=2) == {}
    got = check_batch(rows, MANIFEST, agreement, set(), official_prior_count=3)
    assert list(got) == ["R3"] and got["R3"].reason == "official_limit"
    assert got["R3"].field == "requesting_official"
    strict = limited(max_requests_per_official=5)
    assert len(check_batch(rows, MANIFEST, strict, set(), official_prior_count=4)) == 3


def test_limits_come_before_duplicates() -> None:
    rows = [row(1), row(2)]
    got = check_batch(rows, MANIFEST, limited(max_batch_size=1), set())
    assert {r.reason for r in got.values()} == {"batch_limit"}


def test_screening_over_processes_gives_the_checks_of_one_process() -> None:
    from matchgate.gate import check_request
    from matchgate.pipeline import standardize_requests
    from matchgate.screening import screen

    blank: dict[str, str | None] = {c: None for c in REQUEST_COLUMNS}
    people = [RequestRow(n, f"R{n}", blank | {
        **PERSON, "request_id": f"R{n}", "zip": "62702" if n % 3 else "00000",
        "first_name": "Maria" if n % 5 else "XXX", "reason": "Removal proceedings of the "
        "named alien under the order cited", "tax_periods": "2024",
        "statutory_authority": "8 U.S.C. 1253(a)(1)", "case_number": "A123456789",
        "order_date": "2025-11-02"}) for n in range(1, 41)]
    one = screen(people, MANIFEST, AGREEMENT, today=TODAY, workers=1)
    two = screen(people, MANIFEST, AGREEMENT, today=TODAY, workers=2, parallel_from=0, part=7)
    assert one == two
    assert two.keys == {r.request_id: dedupe_key(r.fields) for r in people}
    expected = {r.request_id: p[0] for r in people
                if (p := check_request(r.fields, MANIFEST, AGREEMENT, today=TODAY))}
    assert two.problems == expected and 0 < len(two.problems) < len(people)
    # the requests without a problem are standardized as the pipeline would, in request order
    ok = [r for r in people if r.request_id not in expected]
    assert two.standardized.equals(standardize_requests(ok))


def test_a_batch_screened_as_it_is_read_gives_the_same_and_stops_its_workers() -> None:
    """Screener: requests added one by one (as a file is read) go to the workers part by part
    once `parallel_from` have come; the result is screen()'s. A read that fails half-way leaves
    no worker process behind."""
    import psutil

    from matchgate.screening import Screener, screen

    blank: dict[str, str | None] = {c: None for c in REQUEST_COLUMNS}
    people = [RequestRow(n, f"R{n}", blank | {
        **PERSON, "request_id": f"R{n}", "zip": "62702" if n % 4 else "00000",
        "reason": "Removal proceedings of the named alien under the order cited",
        "tax_periods": "2024", "statutory_authority": "8 U.S.C. 1253(a)(1)",
        "case_number": "A123456789", "order_date": "2025-11-02"}) for n in range(1, 31)]
    with Screener(MANIFEST, AGREEMENT, today=TODAY, workers=2, parallel_from=10,
                  part=4) as screener:
        for n, row in enumerate(people, start=1):
            screener.add(row)
            assert (screener._pool is not None) == (n >= 10)
        streamed = screener.result()
    assert streamed == screen(people, MANIFEST, AGREEMENT, today=TODAY, workers=1)

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with pytest.raises(RuntimeError), Screener(MANIFEST, AGREEMENT, today=TODAY, workers=2,
                                               parallel_from=5, part=4) as failing:
        for row in people[:12]:
            failing.add(row)
        raise RuntimeError("the file failed half-way")
    assert failing._pool is None
    assert {p.pid for p in me.children(recursive=True) if p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE} <= before
