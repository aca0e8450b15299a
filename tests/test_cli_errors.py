"""Bad input through the real entry point: one clear message, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from matchgate.columns import REQUEST_COLUMNS
from matchgate.examples import example_path

SRC = Path(__file__).resolve().parents[1] / "src"
HEADER = ",".join(REQUEST_COLUMNS)
GOOD_ROW = ('R1,Maria,,Garcia Lopez,,1980-02-03,,12 Oak St,,Boston,MA,02134,2022;2023,'
            'A123456789,2020-01-02,8 U.S.C. 1253(a)(1),"Final order of removal in case '
            'A123456789; address needed to locate the subject."')


def matchgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "MATCHGATE_HOME": str(cwd / "home"),
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "matchgate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    res = matchgate("agreement", "load", str(example_path("agreement.toml")), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path


def verify(workdir: Path, requests: Path, manifest: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return matchgate("verify", str(requests), "--manifest",
                     str(manifest or example_path("manifest.toml")), "--out",
                     str(workdir / "out.csv"), cwd=workdir)


def assert_clean_error(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    text = " ".join(res.stderr.split())
    for needle in needles:
        assert needle in text, text


@pytest.mark.parametrize(("name", "content", "needles"), [
    ("nope.csv", None, ["request file not found"]),
    ("batch.txt", b"hello", ["unknown format"]),
    ("latin1.csv", (HEADER + "\n" + GOOD_ROW.replace("Maria", "María")).encode("latin-1"),
     ["not UTF-8", "row 2"]),
    ("utf16.csv", (HEADER + "\n" + GOOD_ROW).encode("utf-16"), ["UTF-16"]),
    ("extra.csv", (HEADER + ",shoe_size\n" + GOOD_ROW + ",9").encode(), ["shoe_size"]),
    ("nocol.csv", b"request_id,first_name\nR1,Ann", ["required column 'last_name' is missing"]),
    ("empty.csv", b"", ["empty"]),
    ("header.csv", (HEADER + "\n").encode(), ["no requests"]),
])
def test_bad_request_files(workdir: Path, name: str, content: bytes | None,
                           needles: list[str]) -> None:
    path = workdir / name
    if content is not None:
        path.write_bytes(content)
    assert_clean_error(verify(workdir, path), *needles)


def test_bad_manifest_lists_every_problem(workdir: Path) -> None:
    req = workdir / "r.csv"
    req.write_text(HEADER + "\n" + GOOD_ROW)
    manifest = workdir / "m.toml"
    manifest.write_text('legal_basis = 7\ncolour = "blue"\n')
    res = verify(workdir, req, manifest)
    assert_clean_error(res, "agreement_id", "legal_basis", "colour")


def test_agreement_not_loaded(tmp_path: Path) -> None:
    req = tmp_path / "r.csv"
    req.write_text(HEADER + "\n" + GOOD_ROW)
    res = verify(tmp_path, req)
    assert_clean_error(res, "has not been loaded", "matchgate agreement load")


def test_malformed_agreement(tmp_path: Path) -> None:
    bad = tmp_path / "a.toml"
    bad.write_text("agreement_id = [\n")
    assert_clean_error(matchgate("agreement", "check", str(bad), cwd=tmp_path), "not valid TOML")


def test_master_not_loaded_is_a_clear_error(workdir: Path) -> None:
    req = workdir / "r.csv"
    req.write_text(HEADER + "\n" + GOOD_ROW)
    res = verify(workdir, req)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert "master load" in " ".join(res.stderr.split())
