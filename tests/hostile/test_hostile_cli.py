"""Every hostile input through `matchgate verify`: in process for the whole corpus, and as a real
process for the 100 MB field (memory measured) and an archive. Refused: exit code 2, one message
naming the problem, nothing stored. Accepted: the batch stored whole, rejected rows with their
reasons. The audit chain verifies after each."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from checks import assert_consistent, counts, latest_batch, live_cells, reasons_of
from corpus import FORMULAS, GOOD, MANIFEST_CASES, REQUEST_CASES, Case, ManifestCase, csv_text

from matchgate.columns import MASTER_COLUMNS, REQUEST_COLUMNS
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"
Cli = Callable[..., tuple[int, str]]


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=1500, requests=60, seed=31)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, master: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    services = Services.open(Settings(home=home, match_store=master))
    services.load_agreement(example_path("agreement.toml"))
    services.store.close()
    return home


@pytest.fixture
def env(home: Path, master: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("MATCHGATE_HOME", str(home))
    monkeypatch.setenv("MATCHGATE_MATCH_STORE", str(master))
    monkeypatch.setenv("COLUMNS", "200")
    with Store.open(Settings(home=home).resolved_database_url(), create=False) as store:
        yield store


def verify(cli: Cli, requests: Path, manifest: Path, out: Path) -> tuple[int, str]:
    return cli("verify", str(requests), "--manifest", str(manifest), "--out",
               str(out / "responses.csv"), "--decisions", str(out / "decisions.csv"))


def assert_refused(code: int, output: str, needles: tuple[str, ...]) -> None:
    assert code == 2, output
    assert "Traceback" not in output and output.count("error:") == 1, output
    text = " ".join(output.split()).partition("error:")[2]
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.mark.parametrize("case", REQUEST_CASES, ids=lambda c: c.name)
def test_request_file(case: Case, cli: Cli, env: Store, tmp_path: Path) -> None:
    path = case.path(tmp_path)
    before = counts(env)
    try:
        code, output = verify(cli, path, example_path("manifest.toml"), tmp_path)
    finally:
        path.unlink()
    if case.outcome == "refused":
        assert_refused(code, output, case.needles)
        assert counts(env) == before
    else:
        assert code == 0, output
        decisions = reasons_of(env, latest_batch(env, case.filename))
        for request_id, reason in case.reasons.items():
            got = decisions[request_id]
            if reason is None:
                assert got["reason"] not in ("row_malformed", "field_control_character",
                                             "name_not_latin", "field_too_long"), got
            else:
                assert got["reason"] == reason and got["code"] == "REJECTED_INSUFFICIENT"
        for name in ("responses.csv", "decisions.csv"):
            assert live_cells(tmp_path / name) == []
    assert_consistent(env)


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=lambda c: c.name)
def test_manifest(case: ManifestCase, cli: Cli, env: Store, tmp_path: Path) -> None:
    requests = tmp_path / f"good-{case.name}.csv"
    requests.write_text(csv_text(GOOD), encoding="utf-8")
    before = counts(env)
    code, output = verify(cli, requests, case.path(tmp_path), tmp_path)
    if case.outcome == "refused":
        assert_refused(code, output, case.needles)
        assert counts(env) == before
    else:
        assert code == 0, output
    assert_consistent(env)


def _formula_batch(population: GenerateReport, path: Path) -> None:
    """The population's requests (many disclosed) with formula request ids and cells."""
    with population.requests_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["request_id"] = f"{FORMULAS[i % len(FORMULAS)]}#{i}"
        if i % 3 == 0:
            row["reason"] = FORMULAS[i % len(FORMULAS)] + " " + row["reason"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(REQUEST_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def test_no_csv_written_comes_back_live(cli: Cli, env: Store, tmp_path: Path,
                                        population: GenerateReport) -> None:
    """Formula cells in, then every CSV the system writes: the response file, the decision
    export, the accounting export and the master file's rejects. Not one cell is live."""
    requests = tmp_path / "formulas.csv"
    _formula_batch(population, requests)
    manifest = tmp_path / "formula.json"
    manifest.write_text('{"agreement_id": "IE-TAX-2025-001", "legal_basis": "6103(i)(2)", '
                        '"requesting_official": "=HYPERLINK(\\"http://x\\")", '
                        '"certification": "I certify that the information requested will be '
                        'used solely for the enforcement of 8 U.S.C. 1253(a)(1) against the '
                        'persons named in this batch, each of whom is subject to a final order '
                        'of removal, and for no other purpose."}', encoding="utf-8")
    out = tmp_path / "out"
    code, output = verify(cli, requests, manifest, out)
    assert code == 0, output
    decisions = reasons_of(env, latest_batch(env, "formulas.csv"))
    assert sum(d["code"] in ("VERIFIED", "ADDRESS_DIFFERS") for d in decisions.values()) >= 5
    today = date.today().isoformat()
    code, output = cli("accounting", "export", "--from", "2000-01-01", "--to", today,
                       "--out", str(out / "accounting.csv"))
    assert code == 0, output
    master_csv = tmp_path / "hostile-master.csv"
    with master_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(MASTER_COLUMNS)
        for i, f in enumerate(FORMULAS):
            writer.writerow([f"=1+{i}", "SSN", f, "", f, "", "1980-01-01", f, "", f, "MA",
                             "02134", "2023"])
    code, output = cli("master", "load", str(master_csv), "--store",
                       str(tmp_path / "m" / "master.duckdb"))
    assert code == 0, output
    written = sorted({*out.rglob("*.csv"), *(tmp_path / "m").rglob("*.csv")})
    names = {p.name for p in written}
    assert {"responses.csv", "decisions.csv", "accounting.csv"} <= names, names
    assert any(n.endswith(".rejects.csv") for n in names), names
    with (out / "responses.csv").open(encoding="utf-8") as fh:
        assert "'=HYPERLINK" in fh.read()
    for path in written:
        assert live_cells(path) == [], path
    assert_consistent(env)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`matchgate ARGS` as a process; it prints its peak memory (KiB) on its last line."""
    program = ("import atexit, resource, sys\n"
               "atexit.register(lambda: print('maxrss', resource.getrusage("
               "resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
               "from matchgate.cli.main import run\n"
               f"sys.argv = ['matchgate', *{args!r}]\n"
               "run()\n")
    return subprocess.run([sys.executable, "-c", program], cwd=cwd, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, **env, "PYTHONPATH": str(SRC), "COLUMNS": "200"})


def _maxrss(res: subprocess.CompletedProcess[str]) -> int:
    return int(res.stderr.strip().splitlines()[-1].split()[1])


def test_real_process_refuses_a_100mb_field_in_bounded_memory(
        home: Path, master: Path, tmp_path: Path) -> None:
    """As a process of its own: the 100 MB field costs no more memory than a tiny bad file
    (the file is never held in memory), and the message names the row."""
    env = {"MATCHGATE_HOME": str(home), "MATCHGATE_MATCH_STORE": str(master)}
    huge = next(c for c in REQUEST_CASES if c.name == "field_100mb_csv").path(tmp_path)
    small = next(c for c in REQUEST_CASES if c.name == "latin1_csv").path(tmp_path)
    args = ["--manifest", str(example_path("manifest.toml")), "--out", str(tmp_path / "o.csv")]
    try:
        big_run = _run(["verify", str(huge), *args], tmp_path, env)
    finally:
        huge.unlink()
    small_run = _run(["verify", str(small), *args], tmp_path, env)
    for res in (big_run, small_run):
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr
    assert "row 1 (line 2): a value is longer than 1,048,576 characters" in " ".join(
        big_run.stderr.split())
    grown_mib = (_maxrss(big_run) - _maxrss(small_run)) / 1024
    assert grown_mib < 40, f"refusing the 100 MB field took {grown_mib:.0f} MiB more"
    assert not (tmp_path / "o.csv").exists()


def test_real_process_refuses_an_archive(home: Path, master: Path, tmp_path: Path) -> None:
    """No path accepts archives: a zip is refused by its name, and a zip named .csv by its
    bytes; either way exit code 2 and one message."""
    env = {"MATCHGATE_HOME": str(home), "MATCHGATE_MATCH_STORE": str(master)}
    for name, needle in (("zip_archive", "unknown format '.zip'"),
                         ("zip_named_csv", "not UTF-8")):
        path = next(c for c in REQUEST_CASES if c.name == name).path(tmp_path)
        res = _run(["verify", str(path), "--manifest", str(example_path("manifest.toml")),
                    "--out", str(tmp_path / "o.csv")], tmp_path, env)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert needle in " ".join(res.stderr.split())
