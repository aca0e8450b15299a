"""Loading the master file into the master store: standardized, last known address, rejects,
errors that name the file and column, and atomic replacement."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from matchgate.cli.master_cmd import register
from matchgate.columns import MASTER_COLUMNS, STD_COLUMNS, TAXPAYER_STD_COLUMNS
from matchgate.errors import InputError, StoreError
from matchgate.master.generate import generate
from matchgate.master.load import LOAD_STAGES, MasterLoadReport, file_version, load_master
from matchgate.master.store import open_master
from matchgate.match.blocking import blocking_keys
from matchgate.match.engine import load_model
from matchgate.match.frequent import frequent_dir_for, frequent_keys
from matchgate.match.keyindex import index_dir_for
from matchgate.match.train import DEFAULT_MODEL_PATH

GOOD = [
    # tin, type, first, middle, last, suffix, dob, street, unit, city, state, zip, year
    ("123456789", "SSN", "William", "J", "Harper", "", "1970-03-04", "12 Oak Street", "",
     "Springfield", "IL", "62701", "2021"),
    ("123456789", "SSN", "William", "J", "Harper", "", "1970-03-04", "48 Elm Avenue", "Apt 2",
     "Springfield", "IL", "62702", "2023"),
    ("123456789", "SSN", "William", "J", "Harper", "", "1970-03-04", "12 Oak Street", "",
     "Springfield", "IL", "62701", "2022"),
    ("912701234", "", "María", "", "García López", "", "1985-11-30", "7 Pine Rd", "",
     "Austin", "TX", "78701", "2024"),
]
BAD = [
    ("000000000", "SSN", "Ann", "", "Smith", "", "1990-01-01", "1 Main St", "", "Boston",
     "MA", "02108", "2023"),                                                   # invalid_tin
    ("12345", "SSN", "Bob", "", "Jones", "", "", "2 Main St", "", "Boston", "MA", "02108",
     "2023"),                                                                  # invalid_tin
    ("234567890", "SSN", "Carl", "", "", "", "", "3 Main St", "", "Boston", "MA", "02108",
     "2023"),                                                                  # missing last
    ("234567891", "SSN", "Dora", "", "Lane", "", "", "4 Main St", "", "Boston", "MA", "02108",
     "1850"),                                                                  # tax year
    ("923701234", "SSN", "Eve", "", "Moss", "", "", "5 Main St", "", "Boston", "MA", "02108",
     "2023"),                                                                  # type mismatch
]


def write_csv(path: Path, rows: Sequence[tuple[str, ...]], columns: tuple[str, ...] = MASTER_COLUMNS
              ) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


Loaded = tuple[Path, MasterLoadReport]  # the store and the load's report


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    tmp = tmp_path_factory.mktemp("load")
    source = write_csv(tmp / "master.csv", GOOD + BAD)
    report = load_master(source, tmp / "store.duckdb")
    return tmp / "store.duckdb", report


def test_rows_are_standardized_and_kept(loaded: Loaded) -> None:
    store, report = loaded
    with duckdb.connect(str(store), read_only=True) as con:
        cols = {r[0] for r in con.sql("DESCRIBE master_history").fetchall()}
        assert set(STD_COLUMNS) <= cols and "row_id" in cols
        rows = con.sql("SELECT std_first, std_last_first, std_last_second, std_zip5, tin_type "
                       "FROM master_history WHERE tin = '912701234'").fetchall()
    assert rows == [("MARIA", "GARCIA", "LOPEZ", "78701", "ITIN")]
    assert report.history_rows == 4
    assert report.taxpayers == 2


def test_last_known_address_is_the_latest_tax_year(loaded: Loaded) -> None:
    store, _ = loaded
    with open_master(store) as handle:
        row = handle.cursor().sql(
            "SELECT last_street, last_unit, last_zip, last_tax_year, std_house, std_unit "
            "FROM taxpayers WHERE tin = '123456789'").fetchall()
    assert row == [("48 Elm Avenue", "Apt 2", "62702", 2023, "48", "2")]


def test_taxpayers_table_keeps_the_standardized_columns_that_are_read(loaded: Loaded) -> None:
    """The taxpayers table holds each taxpayer's latest raw record and only the standardized
    columns read from it (the history holds them all), equal to the latest row's."""
    store, _ = loaded
    with open_master(store) as handle:
        con = handle.cursor()
        columns = [r[0] for r in con.sql("DESCRIBE taxpayers").fetchall()]
        assert [c for c in columns if c.startswith("std_")] == list(TAXPAYER_STD_COLUMNS)
        kept = ", ".join(TAXPAYER_STD_COLUMNS)
        differ = con.sql(f"SELECT {kept} FROM taxpayers EXCEPT ALL SELECT {kept} FROM "
                         "master_history WHERE row_id IN (SELECT last_row_id FROM taxpayers)"
                         ).fetchall()
    assert differ == []


def test_rejects_are_counted_by_reason_and_kept(loaded: Loaded) -> None:
    store, report = loaded
    assert report.rejected_rows == 5
    assert report.rejects_by_reason == {
        "invalid_tin": 2, "missing_last_name": 1, "invalid_tax_year": 1,
        "tin_type_mismatch": 1}
    with duckdb.connect(str(store), read_only=True) as con:
        kept = con.sql("SELECT source_row, reason, first_name, tax_year FROM master_rejects "
                       "ORDER BY source_row").fetchall()
    assert kept[0] == (5, "invalid_tin", "Ann", "2023")
    assert kept[3] == (8, "invalid_tax_year", "Dora", "1850")


def test_meta_records_version_and_counts(loaded: Loaded, tmp_path: Path) -> None:
    store, report = loaded
    with open_master(store) as handle:
        meta = handle.meta()
    assert meta.master_version == report.master_version
    assert len(meta.master_version) == 16
    assert (meta.history_rows, meta.taxpayers, meta.rejected_rows) == (4, 2, 5)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    columns = tuple(c for c in MASTER_COLUMNS if c not in ("tax_year", "zip"))
    source = write_csv(tmp_path / "m.csv", [g[:11] for g in GOOD], columns)
    with pytest.raises(InputError) as err:
        load_master(source, tmp_path / "s.duckdb")
    assert {p.field for p in err.value.problems} == {"tax_year", "zip"}
    assert "m.csv" in str(err.value)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    source = tmp_path / "master.parquet"
    source.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match=r"master\.parquet"):
        load_master(source, tmp_path / "s.duckdb")


def test_failed_load_leaves_the_old_store(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    good = write_csv(tmp_path / "good.csv", GOOD)
    load_master(good, store)
    broken = tmp_path / "broken.csv"
    lines = good.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([*lines, "1,2,3"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_master(broken, store)
    with open_master(store) as handle:
        assert handle.meta().master_version == file_version(good)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.csv", "good.csv", "store.duckdb", "store.duckdb.lookup", "store.rejects.csv"]


def test_open_missing_store_hints_at_load(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as err:
        open_master(tmp_path / "none.duckdb")
    assert "matchgate master load" in str(err.value)


def test_generated_parquet_loads(tmp_path: Path) -> None:
    generate(tmp_path / "g", taxpayers=300, requests=0, seed=5)
    report = load_master(tmp_path / "g" / "master.parquet", tmp_path / "s.duckdb")
    assert report.taxpayers == 300 and report.rejected_rows == 0
    with open_master(tmp_path / "s.duckdb") as handle:
        stale = handle.cursor().sql(
            "SELECT count(*) FROM taxpayers t JOIN master_history h ON h.tin = t.tin "
            "WHERE h.tax_year > t.last_tax_year").fetchall()[0][0]
        chosen = handle.cursor().sql(
            "SELECT tin, last_tax_year, last_row_id FROM taxpayers").fetchall()
        latest = handle.cursor().sql(  # the rule in its plainest form, as a window
            "SELECT tin, tax_year, row_id FROM master_history QUALIFY row_number() OVER "
            "(PARTITION BY tin ORDER BY tax_year DESC, row_id DESC) = 1").fetchall()
    assert stale == 0
    assert sorted(chosen) == sorted(latest)
    assert [tin for tin, _, _ in chosen] == sorted(tin for tin, _, _ in latest)  # TIN order


def test_cli_master_load(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    source = write_csv(tmp_path / "m.csv", GOOD + BAD)
    result = CliRunner().invoke(app, ["master", "load", str(source), "--store",
                                      str(tmp_path / "s.duckdb"), "--report-json",
                                      str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    assert "invalid_tin" in result.output and "taxpayers" in result.output
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["taxpayers"] == 2 and written["rejected_rows"] == 5
    assert written["rejects_by_reason"]["invalid_tin"] == 2
    assert written["store_path"] == str(tmp_path / "s.duckdb")
    assert list(written["stage_seconds"]) == list(LOAD_STAGES)
    assert re.search(r"blocking\s+\d+\.\d", result.output)  # the summary's caption
    missing = CliRunner().invoke(app, ["master", "load", str(tmp_path / "none.csv"),
                                       "--store", str(tmp_path / "s.duckdb")])
    assert isinstance(missing.exception, InputError)


def test_duplicate_tin_in_one_tax_year_is_set_aside(tmp_path: Path) -> None:
    second = ("123456789", "SSN", "Wilma", "", "Harper", "", "1971-05-06", "9 Ash St", "",
              "Springfield", "IL", "62701", "2022")  # same TIN and year as GOOD[2]
    source = write_csv(tmp_path / "m.csv", [*GOOD, second])
    report = load_master(source, tmp_path / "s.duckdb")
    assert report.rejects_by_reason == {"duplicate_tin_year": 1}
    assert report.history_rows == 4
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        kept = con.sql("SELECT first_name FROM master_history WHERE tin = '123456789' "
                       "AND tax_year = 2022").fetchall()
        set_aside = con.sql("SELECT source_row, first_name, tax_year FROM master_rejects"
                            ).fetchall()
    assert kept == [("William",)]
    assert set_aside == [(5, "Wilma", "2022")]


def test_rejected_rows_are_written_to_a_report_file(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "m.csv", GOOD + BAD)
    report = load_master(source, tmp_path / "s.duckdb", rejects_path=tmp_path / "out.csv",
                         workers=1)
    assert report.rejects_path == tmp_path / "out.csv"
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source_row"] for r in rows] == ["5", "6", "7", "8", "9"]
    assert [r["reason"] for r in rows] == ["invalid_tin", "invalid_tin", "missing_last_name",
                                           "invalid_tax_year", "tin_type_mismatch"]
    assert rows[2]["first_name"] == "Carl" and rows[0]["tin"] == "000000000"


def test_load_reports_each_stage_in_order_with_its_seconds(tmp_path: Path) -> None:
    """Every stage's progress goes from 0 to 1 before the next starts, the blocking index
    included (it took minutes at 10 million taxpayers with no progress shown), and the report
    gives each stage's seconds, which add up to no more than the whole load's."""
    seen: list[tuple[str, float]] = []
    source = write_csv(tmp_path / "m.csv", GOOD + BAD)
    report = load_master(source, tmp_path / "s.duckdb", workers=1,
                         progress=lambda stage, fraction: seen.append((stage, fraction)))
    ends = [(stage, fraction) for stage, fraction in seen if fraction in (0.0, 1.0)]
    expected = [(stage, f) for stage in LOAD_STAGES for f in (0.0, 1.0)]
    assert [e for e in ends if e in expected] == expected
    assert list(report.stage_seconds) == list(LOAD_STAGES)
    assert all(s >= 0 for s in report.stage_seconds.values())
    assert sum(report.stage_seconds.values()) <= report.seconds + 0.05


def test_a_reload_builds_the_key_index_again(tmp_path: Path) -> None:
    """The key index and frequent keys are named by the master version (the file's hash): a
    second load of the same file replaces the store, so what was built from the old store is
    built again, not served (a release that standardizes otherwise gives other rows)."""
    generate(tmp_path / "g", taxpayers=60, requests=0, seed=3)
    store = tmp_path / "s.duckdb"
    first = load_master(tmp_path / "g" / "master.parquet", store, workers=1)
    index = index_dir_for(store, first.master_version)
    frequent = frequent_dir_for(store, first.master_version)
    stale = [index / "left-from-the-old-store", frequent / "left-from-the-old-store"]
    for path in stale:  # the frequent keys' folder is made by a Splink engine's first batch
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("built from the store this load replaces")
    second = load_master(tmp_path / "g" / "master.parquet", store, workers=1)
    assert second.master_version == first.master_version
    assert not any(path.exists() for path in stale)
    assert (index / "rules.json").is_file()
    # the frequent keys are computed by the first Splink engine that asks (not by the load),
    # from the new store
    assert not any(frequent.glob("frequent-*.parquet"))
    model = load_model(DEFAULT_MODEL_PATH)
    keys = blocking_keys(model)
    assert keys is not None
    built = frequent_keys(store, second.master_version, keys, 2)
    assert any(frequent.glob("frequent-2-*.parquet")) and built.num_rows > 0
