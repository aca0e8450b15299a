#!/usr/bin/env python3
"""Known vulnerabilities in the locked dependencies (pip-audit over requirements.lock).

    python .ci/audit_deps.py                    # run pip-audit, then judge its report
    python .ci/audit_deps.py --report FILE      # judge a pip-audit JSON report already made

Exit 1 when a locked package has a known vulnerability that is not an accepted exception. When
the vulnerability service cannot be reached (no network, a mirror without the per-version
advisories), the packages left unaudited are listed and the exit is 0, so that a machine without
network can still run CI; set MATCHGATE_AUDIT_STRICT=1 to fail then too.

An accepted exception is one line in .ci/audit-exceptions.txt:
    <vulnerability id>  <package>  <until YYYY-MM-DD>  <why it does not apply, who decided>
It is passed to pip-audit as --ignore-vuln until its date; after that the finding fails again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE.parent / "requirements.lock"
EXCEPTIONS = HERE / "audit-exceptions.txt"


def accepted(path: Path = EXCEPTIONS, today: dt.date | None = None) -> dict[str, str]:
    """Vulnerability id -> package of the exceptions still in force."""
    today = today or dt.date.today()
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 3)
        if len(parts) < 4:
            raise SystemExit(f"{path.name} line {number}: expected '<id> <package> <until "
                             f"YYYY-MM-DD> <reason>', got {line!r}")
        vuln, package, until, _reason = parts
        if dt.date.fromisoformat(until) >= today:
            found[vuln] = package.lower()
    return found


def judge(report: dict[str, object], exceptions: dict[str, str], strict: bool) -> int:
    """Print what the report says; 1 for findings (or, if strict, for unaudited packages)."""
    deps = report.get("dependencies", [])
    assert isinstance(deps, list)
    findings, skipped = [], []
    for dep in deps:
        name, version = dep.get("name", "?"), dep.get("version", "?")
        if dep.get("skip_reason"):
            skipped.append(f"{name}: {dep['skip_reason']}")
        for vuln in dep.get("vulns", []):
            ids = {vuln.get("id", "?"), *vuln.get("aliases", [])}
            if any(exceptions.get(i) == str(name).lower() for i in ids):
                print(f"accepted exception: {name} {version} {vuln.get('id')}")
                continue
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            findings.append(f"{name} {version}: {vuln.get('id')} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    print(f"pip-audit: {len(deps)} locked packages, {audited} audited, {len(skipped)} not "
          f"audited, {len(findings)} known vulnerabilities")
    for line in findings:
        print(f"  VULNERABLE {line}")
    if skipped:
        print(f"WARNING: {len(skipped)} packages could not be audited (the vulnerability "
              f"service did not answer for them), e.g. {skipped[0]}")
    if findings:
        print("Upgrade them in requirements.lock (and pyproject.toml), or record an accepted "
              f"exception in {EXCEPTIONS.relative_to(HERE.parent)}.")
        return 1
    return 1 if strict and skipped else 0


def run_pip_audit(exceptions: dict[str, str], service: str) -> dict[str, object] | None:
    """pip-audit's JSON report, or None if the service could not be reached at all."""
    exe = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or \
        shutil.which("pip-audit")
    if exe is None:
        raise SystemExit("pip-audit is not installed: pip install -r requirements.lock")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [exe, "-r", str(LOCK), "--no-deps", "--disable-pip", "--progress-spinner",
                   "off", "--vulnerability-service", service, "--format", "json",
                   "--output", str(out), "--timeout", "20",
                   *(f"--ignore-vuln={v}" for v in sorted(exceptions))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if out.exists() and out.stat().st_size:
            report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
            return report
    unreachable = ("ConnectionError", "NameResolutionError", "Max retries exceeded",
                   "ConnectTimeout", "ReadTimeout", "Temporary failure in name resolution")
    if any(sign in done.stderr for sign in unreachable):
        return None
    sys.stderr.write(done.stderr[-4000:])
    raise SystemExit(f"pip-audit failed (exit {done.returncode}) without a report")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="judge this pip-audit JSON report")
    parser.add_argument("--service", default="pypi", choices=("pypi", "osv"))
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    args = parser.parse_args()
    strict = os.environ.get("MATCHGATE_AUDIT_STRICT") == "1"
    exceptions = accepted(args.exceptions)
    if args.report:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    else:
        found = run_pip_audit(exceptions, args.service)
        if found is None:
            print(f"WARNING: pip-audit could not reach the {args.service} vulnerability service: "
                  "nothing was audited" + (" (strict: failing)" if strict else ""))
            return 1 if strict else 0
        report = found
    return judge(report, exceptions, strict)


if __name__ == "__main__":
    sys.exit(main())
