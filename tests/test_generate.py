"""The synthetic population generator: contracts, determinism, validity and realism."""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
from collections import defaultdict
from datetime import date
from pathlib import Path

import jellyfish
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
import zipcodes
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from matchgate.cli.generate_cmd import register
from matchgate.columns import MANIFEST_FIELDS, MASTER_COLUMNS, REQUEST_COLUMNS, TRUTH_COLUMNS
from matchgate.errors import InputError
from matchgate.master.generate import generate
from matchgate.master.invalid import FACILITIES, INVALID_KINDS, PLACEHOLDERS
from matchgate.master.requests import split
from matchgate.master.textnoise import typo
from matchgate.master.tins import TinPools, is_valid_itin, is_valid_ssn

TAXPAYERS, REQUESTS = 3000, 600
NAME_TOKENS = {"nickname", "middle_in_first", "surname_swapped", "surname_one_dropped",
               "surname_hyphen_changed", "surname_added", "typo_first", "typo_last",
               "same_household", "fresh", "new_tenant"}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen")
    generate(path, taxpayers=TAXPAYERS, requests=REQUESTS, seed=11)
    return path


@pytest.fixture(scope="module")
def master(out: Path) -> list[dict]:
    return pq.read_table(out / "master.parquet").to_pylist()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def requests(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "requests.csv")


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth.csv")


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.upper())
                   if not unicodedata.combining(c))


def files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_same_seed_gives_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / name, taxpayers=800, requests=200, seed=seed)
    a, b, c = (files(tmp_path / n) for n in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a if k != "manifest.toml")


def test_columns_follow_the_contracts(out: Path) -> None:
    assert tuple(pq.read_schema(out / "master.parquet").names) == MASTER_COLUMNS
    for name, columns in (("requests.csv", REQUEST_COLUMNS), ("truth.csv", TRUTH_COLUMNS)):
        header = (out / name).read_text(encoding="utf-8").splitlines()[0]
        assert tuple(h.strip('"') for h in header.split(",")) == columns
    manifest = tomllib.loads((out / "manifest.toml").read_text(encoding="utf-8"))
    assert tuple(manifest) == MANIFEST_FIELDS
    assert manifest["agreement_id"] == "IE-TAX-2025-001"
    assert manifest["legal_basis"] == "6103(i)(2)"
    assert "," in manifest["requesting_official"]
    assert manifest["certification"].startswith("I certify that the information requested")


def test_master_csv_has_the_same_rows_as_parquet(tmp_path: Path) -> None:
    generate(tmp_path / "p", taxpayers=600, requests=50, seed=3)
    generate(tmp_path / "c", taxpayers=600, requests=50, seed=3, master_format="csv")
    parquet = pq.read_table(tmp_path / "p" / "master.parquet")
    rows = read_csv(tmp_path / "c" / "master.csv")
    assert len(rows) == parquet.num_rows
    assert rows[0]["tin"] == parquet.column("tin")[0].as_py()


def ssn_ok(tin: str) -> bool:
    area, group, serial = int(tin[:3]), int(tin[3:5]), int(tin[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def itin_ok(tin: str) -> bool:
    middle = int(tin[3:5])
    return tin[0] == "9" and (50 <= middle <= 65 or 70 <= middle <= 88 or 90 <= middle <= 92
                              or 94 <= middle <= 99)


def test_tins_are_valid_unique_and_about_five_percent_itin(master: list[dict]) -> None:
    people: dict[str, tuple] = {}
    for r in master:
        assert re.fullmatch(r"\d{9}", r["tin"])
        assert (ssn_ok if r["tin_type"] == "SSN" else itin_ok)(r["tin"]), r
        people.setdefault(r["tin"], (r["first_name"], r["date_of_birth"], r["tin_type"]))
        assert people[r["tin"]] == (r["first_name"], r["date_of_birth"], r["tin_type"])
    assert len(people) == TAXPAYERS
    itin_share = sum(p[2] == "ITIN" for p in people.values()) / len(people)
    assert 0.03 <= itin_share <= 0.075


def test_tin_pools_draw_distinct_valid_numbers() -> None:
    pools = TinPools.draw(np.random.default_rng(1), 20_000, 5_000)
    assert len(np.unique(pools.ssn)) == 20_000 and is_valid_ssn(pools.ssn).all()
    assert len(np.unique(pools.itin)) == 5_000 and is_valid_itin(pools.itin).all()
    assert not is_valid_ssn(np.array([0, 666_12_3456, 123_00_4567, 123_45_0000, 900_50_1234])).any()
    assert not is_valid_itin(np.array([900_49_1234, 900_93_1234, 123_70_1234])).any()


def test_every_zip_belongs_to_its_state_and_city(master: list[dict]) -> None:
    places = {(r["zip"], r["state"], r["city"]) for r in master}
    for z, state, city in places:
        match = zipcodes.matching(z)
        assert match and match[0]["state"] == state and match[0]["city"].upper() == city


def test_states_are_weighted_by_population(master: list[dict]) -> None:
    count: dict[str, int] = defaultdict(int)
    for r in master:
        count[r["state"]] += 1
    assert count["CA"] > count["IA"] > 0 and count["TX"] > count["WY"]


def test_households_share_surname_and_address(master: list[dict]) -> None:
    at: dict[tuple, dict[str, str]] = defaultdict(dict)
    for r in master:
        if r["tax_year"] == 2024:
            at[(r["street"], r["unit"], r["zip"])][r["tin"]] = plain(r["last_name"])
    shared = [names for names in at.values() if len(names) >= 2]
    assert len(shared) > TAXPAYERS / 10
    def common(names: dict[str, str]) -> bool:
        tokens = [set(re.split(r"[ -]", n)) for n in names.values()]
        return any(all(t & other for other in tokens) for t in tokens)
    assert sum(map(common, shared)) / len(shared) > 0.7


def test_fathers_and_sons_and_twins(master: list[dict]) -> None:
    people = {r["tin"]: r for r in master if r["tax_year"] == 2024}
    by_home: dict[tuple, list[dict]] = defaultdict(list)
    for r in people.values():
        by_home[(r["street"], r["unit"], r["zip"])].append(r)
    jr_with_father = twins = 0
    for members in by_home.values():
        for a in members:
            for b in members:
                if a is b or a["last_name"] != b["last_name"]:
                    continue
                if a["suffix"] in ("JR", "III") and a["first_name"] == b["first_name"] and \
                        a["date_of_birth"] > b["date_of_birth"]:
                    jr_with_father += 1
                if a["date_of_birth"] == b["date_of_birth"] and a["tin"] < b["tin"]:
                    twins += 1
    assert jr_with_father >= 5 and twins >= 3


def test_movers_have_two_or_more_addresses(master: list[dict]) -> None:
    years: dict[str, set] = defaultdict(set)
    homes: dict[str, set] = defaultdict(set)
    for r in master:
        years[r["tin"]].add(r["tax_year"])
        homes[r["tin"]].add((r["street"], r["unit"], r["zip"]))
    multi = [t for t in years if len(years[t]) >= 2]
    assert all(2021 <= y <= 2024 for ys in years.values() for y in ys)
    movers = [t for t in multi if len(homes[t]) >= 2]
    assert 0.1 < len(movers) / len(multi) < 0.6
    assert all(len(homes[t]) <= len(years[t]) for t in years)


def test_names_have_a_long_tail_and_a_us_mix(master: list[dict]) -> None:
    last = {r["tin"]: plain(r["last_name"]) for r in master}
    counts: dict[str, int] = defaultdict(int)
    for name in last.values():
        counts[name] += 1
    top = max(counts.values()) / len(last)
    assert 0.003 < top < 0.03
    assert len(counts) > len(last) / 6
    compound = [n for n in last.values() if re.search(r"[ -]", n)]
    assert 0.04 < len(compound) / len(last) < 0.2
    hispanic = {"GARCIA", "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "PEREZ"}
    assert any(set(re.split(r"[ -]", n)) & hispanic for n in compound)
    assert any(not r["first_name"].isascii() for r in master)
    assert any(r["middle_name"] and len(r["middle_name"]) == 1 for r in master)


def test_truth_covers_every_request(requests: list[dict], truth: list[dict],
                                    master: list[dict]) -> None:
    assert [r["request_id"] for r in requests] == [t["request_id"] for t in truth]
    assert [r["request_id"] for r in requests] == [f"R{i:07d}" for i in
                                                   range(1, REQUESTS + 1)]
    tins = {r["tin"] for r in master}
    counts: dict[str, int] = defaultdict(int)
    for t in truth:
        counts[t["category"]] += 1
        assert t["variation"]
        if t["category"] == "in_master":
            assert t["true_tin"] in tins
        elif t["category"] == "not_in_master":
            assert t["true_tin"] == ""
    assert set(counts) == {"in_master", "not_in_master", "invalid"}
    assert counts["invalid"] == round(REQUESTS * 0.08)
    assert abs(counts["in_master"] / (REQUESTS - counts["invalid"]) - 0.7) < 0.01


def test_every_invalid_kind_appears_with_its_defect(requests: list[dict],
                                                    truth: list[dict]) -> None:
    by_id = {r["request_id"]: r for r in requests}
    kinds: dict[str, list[dict]] = defaultdict(list)
    for t in truth:
        if t["category"] == "invalid":
            kinds[t["variation"].split(";")[0]].append(by_id[t["request_id"]] | t)
    assert set(kinds) == set(INVALID_KINDS)
    zip_state = lambda r: zipcodes.matching(r["zip"][:5])[0]["state"]  # noqa: E731
    checks = {
        "address_placeholder": lambda r: r["street"] in PLACEHOLDERS,
        "zip_invalid": lambda r: not zipcodes.is_real(r["zip"]) if len(r["zip"]) == 5 else True,
        "zip_state_mismatch": lambda r: zip_state(r) != r["state"],
        "address_no_house_number": lambda r: r["street"][:1].isalpha(),
        "address_missing": lambda r: not (r["street"] or r["city"] or r["zip"]),
        "address_po_box": lambda r: re.match(r"(?i)p\.?o\.?\s*b|post office box", r["street"]),
        "address_jail": lambda r: r["street"] in {f[0] for f in FACILITIES},
        "missing_case_number": lambda r: r["case_number"] == "",
        "missing_order_date": lambda r: r["order_date"] == "",
        "missing_statutory_authority": lambda r: r["statutory_authority"] == "",
        "missing_reason": lambda r: r["reason"] == "",
        "missing_tax_periods": lambda r: r["tax_periods"] == "",
        "invalid_date_of_birth": lambda r: not valid_iso(r["date_of_birth"]),
        "invalid_tin": lambda r: not (re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", r["tin"]) and
                                     (ssn_ok(r["tin"].replace("-", "")) or
                                      itin_ok(r["tin"].replace("-", "")))),
        "invalid_order_date": lambda r: not valid_iso(r["order_date"]) or
        date.fromisoformat(r["order_date"]) > date.today(),
        "reason_too_vague": lambda r: len(r["reason"]) < 30,
        "invalid_case_number": lambda r: not re.fullmatch(r"A\d{9}", r["case_number"]),
    }
    for kind, check in checks.items():
        assert all(check(r) for r in kinds[kind]), kind
    for dup in kinds["duplicate_in_batch"]:
        original = by_id[dup["variation"].split("of=")[1]]
        assert original["request_id"] < dup["request_id"]
        assert {k: v for k, v in original.items() if k != "request_id"} == \
            {k: v for k, v in dup.items() if k in REQUEST_COLUMNS and k != "request_id"}


def valid_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_valid_requests_carry_every_legal_element(requests: list[dict],
                                                  truth: list[dict]) -> None:
    category = {t["request_id"]: t["category"] for t in truth}
    valid = [r for r in requests if category[r["request_id"]] != "invalid"]
    for r in valid:
        assert r["statutory_authority"] == "8 U.S.C. 1253(a)(1)"
        assert re.fullmatch(r"A\d{9}", r["case_number"])
        assert date(1996, 12, 31) < date.fromisoformat(r["order_date"]) < date.today()
        years = r["tax_periods"].split(";")
        assert 2 <= len(years) <= 3 and set(years) <= {"2021", "2022", "2023", "2024"}
        assert r["case_number"] in r["reason"]
        assert r["first_name"] and r["last_name"] and r["street"][:1].isdigit()
        assert zipcodes.matching(r["zip"][:5])[0]["state"] == r["state"]
        assert r["date_of_birth"] == "" or valid_iso(r["date_of_birth"])
    dob_missing = sum(r["date_of_birth"] == "" for r in valid) / len(valid)
    tin_given = sum(r["tin"] != "" for r in valid) / len(valid)
    assert 0.25 < dob_missing < 0.65 and 0.04 < tin_given < 0.25


def test_noise_tokens_describe_the_differences(requests: list[dict], truth: list[dict],
                                               master: list[dict]) -> None:
    latest: dict[str, dict] = {}
    for r in master:
        latest[r["tin"]] = r if r["tin"] not in latest or \
            r["tax_year"] > latest[r["tin"]]["tax_year"] else latest[r["tin"]]
    by_id = {r["request_id"]: r for r in requests}
    tokens_seen: set[str] = set()
    checked = 0
    for t in truth:
        tokens = set(t["variation"].split(";"))
        tokens_seen |= tokens
        if t["category"] != "in_master" or tokens & NAME_TOKENS:
            continue
        req, m = by_id[t["request_id"]], latest[t["true_tin"]]
        assert plain(req["last_name"]) == plain(m["last_name"])
        assert plain(req["first_name"]) == plain(m["first_name"])
        if tokens.isdisjoint({"older_address", "address_unknown", "dob_missing",
                              "dob_day_month_swapped"}):
            assert req["zip"][:5] == m["zip"] and req["date_of_birth"] == m["date_of_birth"]
        checked += 1
    assert checked > 100
    assert {"nickname", "typo_last", "older_address", "surname_swapped", "zip4", "dob_missing",
            "unit_restyled", "namesake", "same_household", "junior", "middle_initial",
            "street_type_style", "case_title", "tin_given"} <= tokens_seen


def test_hard_outsiders_look_like_taxpayers(requests: list[dict], truth: list[dict],
                                            master: list[dict]) -> None:
    tins = {r["tin"] for r in master}
    names = {(plain(r["first_name"]), plain(r["last_name"])) for r in master}
    surnames = {plain(r["last_name"]) for r in master}
    by_id = {r["request_id"]: r for r in requests}
    hits: dict[str, list[bool]] = {"namesake": [], "same_household": []}
    for t in truth:
        tokens = set(t["variation"].split(";"))
        kind = next(iter(tokens & hits.keys()), None)
        if kind is None or tokens & NAME_TOKENS - {kind} or t["category"] != "not_in_master":
            continue
        req = by_id[t["request_id"]]
        assert req["tin"].replace("-", "") not in tins
        if kind == "namesake":
            hits[kind].append((plain(req["first_name"]), plain(req["last_name"])) in names)
        else:
            hits[kind].append(plain(req["last_name"]) in surnames)
    assert all(len(v) > 5 and sum(v) / len(v) > 0.9 for v in hits.values())


def test_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        generate(tmp_path, taxpayers=-1, requests=10, seed=1)
    with pytest.raises(InputError, match="holds only 10 taxpayers"):
        generate(tmp_path, taxpayers=10, requests=100, seed=1)
    with pytest.raises(InputError):
        generate(tmp_path, taxpayers=10, requests=5, seed=1, invalid_share=1.5)


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """matchgate test application"""

    return app


def test_cli_writes_the_files_and_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["generate", "--out", str(tmp_path), "--taxpayers", "500",
                                        "--requests", "60", "--seed", "3",
                                        "--master-format", "csv"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"master.csv", "requests.csv",
                                                     "manifest.toml", "truth.csv"}
    assert "Generated" in result.output and "500 taxpayers" in result.output
    assert len(read_csv(tmp_path / "requests.csv")) == 60


def test_cli_help_explains_the_command() -> None:
    result = CliRunner().invoke(cli(), ["generate", "--help"])
    assert result.exit_code == 0
    assert "master file" in result.output and "--taxpayers" in result.output


def test_cli_refuses_negative_sizes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["generate", "--out", str(tmp_path), "--taxpayers", "-5"])
    assert isinstance(result.exception, InputError)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÉÑ", min_size=3, max_size=14),
                min_size=1, max_size=20), st.integers(0, 2**32 - 1))
def test_a_typo_is_one_edit_away(words: list[str], seed: int) -> None:
    arr = pa.array(words)
    out, hit = typo(arr, np.random.default_rng(seed), np.ones(len(words), bool))
    for before, after, changed in zip(words, out.to_pylist(), hit, strict=True):
        if changed:
            assert jellyfish.damerau_levenshtein_distance(before, after) == 1
        else:
            assert before == after


@given(st.integers(0, 10_000), st.lists(st.floats(0.01, 5), min_size=1, max_size=6))
def test_split_adds_up(total: int, shares: list[float]) -> None:
    parts = split(total, shares)
    assert sum(parts) == total and all(p >= 0 for p in parts)


def test_empty_population_and_batch_still_write_headers(tmp_path: Path) -> None:
    report = generate(tmp_path, taxpayers=0, requests=0, seed=1)
    assert report.master_rows == 0 and report.requests == 0
    assert pq.read_table(tmp_path / "master.parquet").num_rows == 0
    assert (tmp_path / "requests.csv").read_text(encoding="utf-8").count("\n") == 1
