"""The agreement: versioned, validated configuration (TOML) of what may be asked and answered.

`load_agreement(path)` validates the whole file and lists every problem at once. The version is
the content hash of the validated agreement, so a decision records exactly which terms it used.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from matchgate.columns import REQUEST_COLUMNS
from matchgate.errors import AgreementError, Problem

KNOWN_BASES = {"6103(i)(1)", "6103(i)(2)"}
DISCLOSABLE = {"last_known_address"}
MANIFEST_FIELDS = {"requesting_official", "certification", "court", "docket", "order_date"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(_Strict):
    id: str = Field(description="the statutory basis, e.g. 6103(i)(2)")
    description: str = ""
    required_request_fields: list[str]
    required_manifest_fields: list[str] = Field(default_factory=list)
    allowed_statutory_authorities: list[str] = Field(default_factory=list)
    case_number_pattern: str | None = None

    @field_validator("id")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in KNOWN_BASES:
            raise ValueError(f"unknown legal basis '{v}' (known: {', '.join(sorted(KNOWN_BASES))})")
        return v

    @field_validator("required_request_fields")
    @classmethod
    def _request_fields(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in REQUEST_COLUMNS]
        if unknown:
            raise ValueError(f"not request columns: {', '.join(unknown)}")
        return v

    @field_validator("required_manifest_fields")
    @classmethod
    def _manifest_fields(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in MANIFEST_FIELDS]
        if unknown:
            raise ValueError(f"not manifest fields: {', '.join(unknown)}")
        return v

    @field_validator("case_number_pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class Disclosure(_Strict):
    disclosable_fields: list[str] = Field(default_factory=list)

    @field_validator("disclosable_fields")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in DISCLOSABLE]
        if unknown:
            raise ValueError(f"cannot be disclosed: {', '.join(unknown)} "
                             f"(disclosable: {', '.join(sorted(DISCLOSABLE))})")
        return v


class MatchThresholds(_Strict):
    match_probability: float = Field(ge=0.5, le=1.0)
    review_probability: float = Field(ge=0.0, le=1.0)
    ambiguity_margin: float = Field(ge=0.0, description="match weight (log2) a runner-up must "
                                                         "trail the best candidate by")

    @model_validator(mode="after")
    def _ordered(self) -> MatchThresholds:
        if self.review_probability > self.match_probability:
            raise ValueError("review_probability must not exceed match_probability")
        return self


class Limits(_Strict):
    max_batch_size: int = Field(gt=0)
    max_requests_per_official: int = Field(gt=0, description="per batch")


class Safeguards(_Strict):
    status: Literal["current", "lapsed", "findings_open"]
    reviewed_on: date


class Retention(_Strict):
    requests_days: int = Field(gt=0)
    responses_days: int = Field(gt=0)
    candidates_days: int = Field(gt=0)


class AddressGate(_Strict):
    allow_po_box: bool = False


class Agreement(_Strict):
    agreement_id: str = Field(min_length=1)
    title: str
    requesting_agency: str
    custodian: str
    effective_from: date
    effective_to: date
    legal_bases: list[LegalBasis] = Field(min_length=1)
    certification_required: bool = True
    disclosure: Disclosure
    thresholds: MatchThresholds
    limits: Limits
    safeguards: Safeguards
    retention: Retention
    address_gate: AddressGate = AddressGate()
    release_requires_signoff: bool = Field(
        default=False, description="a batch's answers reach the requester only after a "
                                   "disclosure officer signs the batch off")

    @model_validator(mode="after")
    def _consistent(self) -> Agreement:
        if self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        ids = [b.id for b in self.legal_bases]
        if len(ids) != len(set(ids)):
            raise ValueError("a legal basis is listed twice")
        return self

    @property
    def version(self) -> str:
        data = self.model_dump(mode="json")
        if not data["release_requires_signoff"]:  # added later: versions before it stay valid
            del data["release_requires_signoff"]
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def basis(self, basis_id: str) -> LegalBasis | None:
        return next((b for b in self.legal_bases if b.id == basis_id), None)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on <= self.effective_to

    def describe(self) -> list[tuple[str, str]]:
        rows = [("agreement", f"{self.agreement_id}: {self.title}"),
                ("version", self.version),
                ("parties", f"{self.requesting_agency} (requesting) / {self.custodian} "
                            "(custodian)"),
                ("in force", f"{self.effective_from} to {self.effective_to}")]
        for b in self.legal_bases:
            rows.append((f"legal basis {b.id}", b.description or "-"))
            rows.append(("  required per request", ", ".join(b.required_request_fields)))
            if b.required_manifest_fields:
                rows.append(("  required per batch", ", ".join(b.required_manifest_fields)))
            if b.allowed_statutory_authorities:
                rows.append(("  statutory authority", "; ".join(b.allowed_statutory_authorities)))
            if b.case_number_pattern:
                rows.append(("  case number pattern", b.case_number_pattern))
        rows += [
            ("certification", "required" if self.certification_required else "not required"),
            ("may disclose", ", ".join(self.disclosure.disclosable_fields) or
             "the response code only"),
            ("thresholds", f"match >= {self.thresholds.match_probability}, review >= "
                           f"{self.thresholds.review_probability}, runner-up margin "
                           f"{self.thresholds.ambiguity_margin} (match weight)"),
            ("limits", f"{self.limits.max_batch_size:,} requests per batch, "
                       f"{self.limits.max_requests_per_official:,} per certifying official "
                       "per batch"),
            ("safeguards", f"{self.safeguards.status} (reviewed {self.safeguards.reviewed_on})"),
            ("retention", f"requests {self.retention.requests_days} d, responses "
                          f"{self.retention.responses_days} d, candidates "
                          f"{self.retention.candidates_days} d"),
            ("PO boxes", "accepted" if self.address_gate.allow_po_box else "refused"),
        ]
        return rows

    @classmethod
    def from_toml_text(cls, text: str, *, source: str) -> Agreement:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AgreementError(f"{source} is not valid TOML",
                                 problems=[Problem(str(exc), file=source)]) from None
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: dict[str, object], *, source: str) -> Agreement:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise AgreementError(
                f"{source} is not a valid agreement ({exc.error_count()} problems)",
                problems=validation_problems(exc, source),
                hint="Fix every problem listed, then run: matchgate agreement check FILE",
            ) from None


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """Every pydantic error as a Problem naming the field path."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(msg, file=source, field=loc))
    return problems


def load_agreement(path: Path) -> Agreement:
    if not path.is_file():
        raise AgreementError(f"agreement file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AgreementError(f"{path} is not UTF-8 text") from None
    return Agreement.from_toml_text(text, source=str(path))
