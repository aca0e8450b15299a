"""The agreement: the examples validate, the version follows the content, and a broken agreement
lists every problem at once (through the CLI too)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from matchgate.agreement import Agreement, load_agreement
from matchgate.cli.agreement_cmd import register
from matchgate.errors import AgreementError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "agreement.toml"
COURT = ROOT / "examples" / "agreement-court-order.toml"
BROKEN = ROOT / "tests" / "data" / "agreements"


def _data(path: Path = EXAMPLE) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _problems(data: dict) -> dict[str, str]:
    with pytest.raises(AgreementError) as info:
        Agreement.from_data(data, source="x.toml")
    assert all(p.file == "x.toml" for p in info.value.problems)
    return {p.field or "": p.message for p in info.value.problems}


def test_example_models_the_2025_agreement() -> None:
    a = load_agreement(EXAMPLE)
    basis = a.basis("6103(i)(2)")
    assert basis is not None and a.basis("6103(i)(1)") is None
    for field in ("first_name", "last_name", "street", "zip", "tax_periods",
                  "statutory_authority", "reason", "case_number", "order_date"):
        assert basis.requires(field)
    assert basis.allowed_statutory_authorities == ["8 U.S.C. 1253(a)(1)"]
    assert basis.certification_required and "certification" in basis.required_manifest_fields
    assert a.disclosure.disclosable_fields == ["last_known_address"]
    assert a.thresholds.review_probability < a.thresholds.match_probability
    assert a.address_gate.allow_po_box is False


def test_court_order_example_requires_the_order_in_the_manifest() -> None:
    a = load_agreement(COURT)
    basis = a.basis("6103(i)(1)")
    assert basis is not None
    assert {"court", "docket", "order_date"} <= set(basis.required_manifest_fields)


def test_version_is_content_hash_independent_of_layout(tmp_path: Path) -> None:
    a = load_agreement(EXAMPLE)
    assert len(a.version) == 16 and int(a.version, 16) >= 0
    relaid = tmp_path / "relaid.toml"
    text = "# another comment\n\n" + EXAMPLE.read_text(encoding="utf-8").replace(" = ", "=")
    relaid.write_text(text, encoding="utf-8")
    assert load_agreement(relaid).version == a.version
    data = _data()
    data["thresholds"]["match_probability"] = 0.995
    assert Agreement.from_data(data).version != a.version
    assert Agreement.from_toml_text(EXAMPLE.read_text(encoding="utf-8")).version == a.version


def test_describe_names_what_the_agreement_allows() -> None:
    rows = dict(load_agreement(EXAMPLE).describe())
    assert rows["version"] == load_agreement(EXAMPLE).version
    assert "last_known_address" in rows["disclosable fields"]
    assert "8 U.S.C. 1253(a)(1)" in rows["  statutory authorities"]
    assert "0.99" in rows["match threshold"]
    assert "1500000" in rows["batch size limit"]
    assert rows["safeguards"].startswith("current")


def test_every_problem_of_a_broken_file_is_listed() -> None:
    with pytest.raises(AgreementError) as info:
        load_agreement(BROKEN / "many_problems.toml")
    fields = {p.field for p in info.value.problems}
    assert fields >= {
        "effective_to", "legal_bases[0].id", "legal_bases[1].required_request_fields",
        "legal_bases[1].required_manifest_fields", "legal_bases[1].case_number_pattern",
        "disclosure.disclosable_fields", "thresholds.review_probability",
        "limits.max_batch_size", "limits.max_requests_per_official", "safeguards.status",
        "safeguards.reviewed_on", "retention.candidates_days",
    }
    assert all(p.file and p.file.endswith("many_problems.toml") for p in info.value.problems)


def test_inconsistent_basis_lists_each_rule() -> None:
    with pytest.raises(AgreementError) as info:
        load_agreement(BROKEN / "inconsistent_basis.toml")
    by_field = {p.field: p.message for p in info.value.problems}
    assert "name and address" in by_field["legal_bases[0].id"]
    assert "no authority" in by_field["legal_bases[0].allowed_statutory_authorities"]
    assert "no pattern" in by_field["legal_bases[0].case_number_pattern"]
    assert "certification" in by_field["legal_bases[0].certification_required"]
    assert "disclosable_fields" in by_field["disclosure.address_differs_discloses"]


@pytest.mark.parametrize(("change", "field", "fragment"), [
    (lambda d: d["thresholds"].update(review_probability=0.999), "thresholds.review_probability",
     "above match_probability"),
    (lambda d: d["thresholds"].update(ambiguity_margin=0), "thresholds.ambiguity_margin",
     "greater than 0"),
    (lambda d: d.update(effective_to=d["effective_from"].replace(year=2020)), "effective_to",
     "before effective_from"),
    (lambda d: d.pop("title"), "title", "is required"),
    (lambda d: d.update(surprise=1), "surprise", "not a known setting"),
    (lambda d: d["limits"].update(on_excess="ignore"), "limits.on_excess", "reject_batch"),
    (lambda d: d["legal_bases"].append(dict(d["legal_bases"][0])), "legal_bases",
     "more than once"),
    (lambda d: d["legal_bases"][0].update(case_number_pattern="A[0-9"),
     "legal_bases[0].case_number_pattern", "regular expression"),
    (lambda d: d["address_gate"].update(allow_po_box="sometimes"), "address_gate.allow_po_box",
     "boolean"),
    (lambda d: d["safeguards"].update(status="fine"), "safeguards.status", "current"),
])
def test_each_malformed_value_is_named(change: Callable[[dict], object], field: str,
                                       fragment: str) -> None:
    data = _data()
    change(data)
    problems = _problems(data)
    assert field in problems
    assert fragment in problems[field]


def test_unreadable_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(AgreementError, match="cannot read"):
        load_agreement(tmp_path / "absent.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('title = "Ma\xf1ana"\n'.encode("latin-1"))
    with pytest.raises(AgreementError, match="not UTF-8"):
        load_agreement(latin)
    with pytest.raises(AgreementError, match="not valid TOML") as info:
        load_agreement(BROKEN / "bad_syntax.toml")
    assert "line 2" in str(info.value)


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.mark.parametrize("path", [EXAMPLE, COURT])
def test_cli_check_prints_the_agreement(path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["agreement", "check", str(path)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    a = load_agreement(path)
    assert a.version in result.output
    assert a.legal_bases[0].id in result.output
    assert "last_known_address" in result.output
    assert "valid" in result.output


def test_cli_check_of_a_broken_agreement_raises_agreement_error() -> None:
    result = CliRunner().invoke(_cli(), ["agreement", "check",
                                         str(BROKEN / "many_problems.toml")])
    assert isinstance(result.exception, AgreementError)
    assert len(result.exception.problems) >= 12


def test_cli_entry_point_exits_non_zero_with_every_problem() -> None:
    proc = subprocess.run([sys.executable, "-m", "matchgate", "agreement", "check",
                           str(BROKEN / "many_problems.toml")], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src"), "COLUMNS": "300",
                               "PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == AgreementError.exit_code
    assert "Traceback" not in proc.stderr
    assert "thresholds.review_probability" in proc.stderr
    assert "retention.candidates_days" in proc.stderr
