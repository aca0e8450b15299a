"""The dependency audit's verdicts (.ci/audit_deps.py), on pip-audit JSON reports made here:
a known vulnerability fails, an accepted exception in force passes, a lapsed one fails again, and
packages the service could not audit only warn (unless strict)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / ".ci" / "audit_deps.py"

VULNERABLE = {"dependencies": [
    {"name": "jinja2", "version": "2.10", "vulns": [
        {"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": ["CVE-2019-10906"],
         "description": "sandbox escape"}]},
    {"name": "uvicorn", "version": "0.54.0", "vulns": []}], "fixes": []}
CLEAN = {"dependencies": [{"name": "uvicorn", "version": "0.54.0", "vulns": []}], "fixes": []}
UNAUDITED = {"dependencies": [
    {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    {"name": "uvicorn", "version": "0.54.0", "vulns": []}], "fixes": []}


def audit(tmp_path: Path, report: Mapping[str, object], exceptions: str = "",
          strict: bool = False) -> tuple[int, str]:
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "exceptions.txt").write_text(exceptions, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", **({"MATCHGATE_AUDIT_STRICT": "1"} if strict else {})}
    done = subprocess.run([sys.executable, str(SCRIPT), "--report", str(tmp_path / "report.json"),
                           "--exceptions", str(tmp_path / "exceptions.txt")],
                          capture_output=True, text=True, env=env, timeout=60)
    return done.returncode, done.stdout + done.stderr


def test_a_known_vulnerability_fails(tmp_path: Path) -> None:
    code, out = audit(tmp_path, VULNERABLE)
    assert code == 1
    assert "VULNERABLE jinja2 2.10: PYSEC-2019-217 (fixed in 2.10.1)" in out
    assert "audit-exceptions.txt" in out


@pytest.mark.parametrize(("until", "expected"), [("2999-12-31", 0), ("2000-01-01", 1)])
def test_an_accepted_exception_holds_until_its_date(tmp_path: Path, until: str,
                                                    expected: int) -> None:
    line = f"CVE-2019-10906  jinja2  {until}  only our own templates are rendered (A. Officer)\n"
    code, out = audit(tmp_path, VULNERABLE, exceptions=line)
    assert code == expected, out


def test_an_exception_for_another_package_does_not_count(tmp_path: Path) -> None:
    code, _ = audit(tmp_path, VULNERABLE, exceptions="PYSEC-2019-217 uvicorn 2999-12-31 wrong\n")
    assert code == 1


def test_unaudited_packages_warn_and_fail_only_when_strict(tmp_path: Path) -> None:
    code, out = audit(tmp_path, UNAUDITED)
    assert code == 0 and "WARNING: 1 packages could not be audited" in out
    assert audit(tmp_path, UNAUDITED, strict=True)[0] == 1
    assert audit(tmp_path, CLEAN, strict=True)[0] == 0


def test_a_malformed_exception_line_is_named(tmp_path: Path) -> None:
    code, out = audit(tmp_path, CLEAN, exceptions="# fine\nCVE-1 jinja2\n")
    assert code != 0 and "line 2" in out


def test_pip_audit_is_pinned_in_the_dev_extra_and_the_lock() -> None:
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
    assert "pip_audit==2.10.1" in lock
    assert '"pip-audit==2.10.1"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert all("==" in line for line in lock if line.strip())
