"""The disclosure agreement as versioned, validated configuration (TOML).

An agreement says under which legal bases a requesting agency may ask, which elements each request
and each batch manifest must carry, what may be disclosed, the decision thresholds, the volume
limits, the recipient's safeguard status and how long records are kept. It is validated in full:
every problem is listed at once (AgreementError), each with the file and the field path.

Its `version` is the first 16 hex characters of the sha256 of the canonical JSON of the validated
model, so two files that say the same thing have the same version, whatever their layout.

Semantics fixed here (and printed by `describe()`):
- thresholds.ambiguity_margin is in match weight (log2 Bayes factor): a runner-up whose match
  weight is within the margin of the best candidate's makes the answer AMBIGUOUS.
- limits.max_requests_per_official counts the requests certified by one official within
  limits.official_period_days (the current batch plus what the store has seen in the period).
- limits.on_excess: "reject_batch" rejects every request of a batch over max_batch_size;
  "reject_excess" lets the first max_batch_size requests go ahead and rejects the rest.
- safeguards: disclosures are suspended unless the status is "current" and the last review is no
  older than safeguards.max_review_age_days.
- rate_limits: API calls per minute (a sliding window) for each of the agency's tokens and for the
  agency as a whole; over either limit the API answers 429 with Retry-After. The table is optional
  (RateLimits' defaults apply), and an agreement that states only the defaults has the version of
  one that leaves the table out, so agreements written before it keep their version.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from matchgate.columns import COURT_ORDER_FIELDS, MANIFEST_FIELDS, REQUEST_COLUMNS
from matchgate.errors import AgreementError, Problem

LEGAL_BASES = ("6103(i)(1)", "6103(i)(2)")
DISCLOSABLE_FIELDS = ("last_known_address",)
NAME_ADDRESS_FIELDS = ("first_name", "last_name", "street", "city", "state", "zip")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LegalBasis(_Strict):
    """One legal basis the agreement allows, with what each request and manifest must carry.
    Each consistency rule is checked on the field it concerns, so that all are reported."""

    required_request_fields: list[str] = Field(min_length=1)
    id: Literal["6103(i)(1)", "6103(i)(2)"]
    description: str = ""
    required_manifest_fields: list[str] = Field(default_factory=list, validate_default=True)
    allowed_statutory_authorities: list[str] = Field(default_factory=list,
                                                     validate_default=True)
    case_number_pattern: str | None = Field(default=None, validate_default=True)
    certification_required: bool = Field(default=True, validate_default=True)

    @field_validator("required_request_fields")
    @classmethod
    def _request_fields(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in REQUEST_COLUMNS or f == "request_id"]
        if unknown:
            raise ValueError(f"not request columns: {', '.join(unknown)} "
                             f"(known: {', '.join(REQUEST_COLUMNS[1:])})")
        return value

    @field_validator("id")
    @classmethod
    def _name_and_address(cls, value: str, info: ValidationInfo) -> str:
        fields = info.data.get("required_request_fields")
        missing = [f for f in NAME_ADDRESS_FIELDS if f not in (fields or [])]
        if value == "6103(i)(2)" and isinstance(fields, list) and missing:
            raise ValueError("6103(i)(2) requires the taxpayer's name and address: add "
                             + ", ".join(missing) + " to required_request_fields")
        return value

    @field_validator("required_manifest_fields")
    @classmethod
    def _manifest_fields(cls, value: list[str], info: ValidationInfo) -> list[str]:
        known = (*MANIFEST_FIELDS, *COURT_ORDER_FIELDS)
        unknown = [f for f in value if f not in known]
        if unknown:
            raise ValueError(f"not manifest fields: {', '.join(unknown)} "
                             f"(known: {', '.join(known)})")
        missing = [f for f in COURT_ORDER_FIELDS if f not in value]
        if info.data.get("id") == "6103(i)(1)" and missing:
            raise ValueError("a court-order basis must require " + ", ".join(missing))
        return value

    @field_validator("allowed_statutory_authorities")
    @classmethod
    def _authorities(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if "statutory_authority" in info.data.get("required_request_fields", []) and not value:
            raise ValueError("statutory_authority is required of requests but no authority "
                             "is allowed")
        return value

    @field_validator("case_number_pattern")
    @classmethod
    def _pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if "case_number" in info.data.get("required_request_fields", []):
                raise ValueError("case_number is required of requests but no pattern is set")
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("certification_required")
    @classmethod
    def _certification(cls, value: bool, info: ValidationInfo) -> bool:
        fields = info.data.get("required_manifest_fields")
        if value and isinstance(fields, list) and "certification" not in fields:
            raise ValueError("is true but 'certification' is not in required_manifest_fields")
        return value

    def requires(self, field: str) -> bool:
        return field in self.required_request_fields


class Disclosure(_Strict):
    disclosable_fields: list[str] = Field(default_factory=list)
    address_differs_discloses: bool = False

    @field_validator("disclosable_fields")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in DISCLOSABLE_FIELDS]
        if unknown:
            raise ValueError(f"cannot be disclosed: {', '.join(unknown)} "
                             f"(disclosable: {', '.join(DISCLOSABLE_FIELDS)})")
        return value

    @field_validator("address_differs_discloses")
    @classmethod
    def _consistent(cls, value: bool, info: ValidationInfo) -> bool:
        fields = info.data.get("disclosable_fields")
        if value and isinstance(fields, list) and "last_known_address" not in fields:
            raise ValueError("is true but last_known_address is not in disclosable_fields")
        return value


class Thresholds(_Strict):
    match_probability: float = Field(gt=0.5, le=1.0)
    review_probability: float = Field(gt=0.0, lt=1.0)
    ambiguity_margin: float = Field(gt=0.0, le=60.0,
                                    description="in match weight (log2 Bayes factor)")
    min_identifiers: int = Field(
        default=1, ge=1, le=3,
        description="identifiers beyond the first and last name (middle name, date of birth, "
                    "address; an exact TIN counts for two) that must agree for a disclosure")
    initial_with_address: bool = Field(
        default=True,
        description="whether a middle name that agrees only by its initial counts as an "
                    "identifier when the address is the only other one (a relative at the "
                    "address shares the initial about one time in ten)")

    @field_validator("review_probability")
    @classmethod
    def _ordered(cls, value: float, info: ValidationInfo) -> float:
        match = info.data.get("match_probability")
        if isinstance(match, float) and value > match:
            raise ValueError(f"review_probability ({value}) is above match_probability ({match})")
        return value


class OnExcess(StrEnum):
    REJECT_BATCH = "reject_batch"
    REJECT_EXCESS = "reject_excess"


class Limits(_Strict):
    max_batch_size: int = Field(gt=0)
    max_requests_per_official: int = Field(gt=0)
    official_period_days: int = Field(default=30, gt=0)
    on_excess: OnExcess = OnExcess.REJECT_BATCH


class SafeguardStatus(StrEnum):
    CURRENT = "current"
    LAPSED = "lapsed"
    FINDINGS_OPEN = "findings_open"


class Safeguards(_Strict):
    status: SafeguardStatus
    reviewed_on: date
    max_review_age_days: int = Field(default=365, gt=0)
    note: str = ""


class Retention(_Strict):
    requests_days: int = Field(gt=0)
    responses_days: int = Field(gt=0)
    candidates_days: int = Field(gt=0)


class AddressGate(_Strict):
    allow_po_box: bool = False
    reject_unique_zip: bool = True
    reject_po_box_only_zip: bool = False
    reject_inactive_zip: bool = True


class RateLimits(_Strict):
    """API calls per minute allowed to each token of the requesting agency and to the agency."""

    requests_per_minute_per_token: int = Field(default=600, gt=0, le=1_000_000)
    requests_per_minute_per_agency: int = Field(default=3000, gt=0, le=10_000_000)


class Agreement(_Strict):
    """A validated agreement. Build it with load_agreement() or Agreement.from_toml_text()."""

    agreement_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1)
    requesting_agency: str = Field(min_length=1)
    custodian: str = Field(min_length=1)
    effective_from: date
    effective_to: date
    legal_bases: list[LegalBasis] = Field(min_length=1)
    disclosure: Disclosure
    thresholds: Thresholds
    limits: Limits
    safeguards: Safeguards
    retention: Retention
    address_gate: AddressGate = Field(default_factory=AddressGate)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    release_requires_signoff: bool = Field(
        default=False, description="a batch's answers reach the requester only after a "
                                   "disclosure officer signs the batch off")

    _version: str = PrivateAttr(default="")

    @field_validator("effective_to")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("effective_from")
        if isinstance(start, date) and value < start:
            raise ValueError(f"effective_to ({value}) is before effective_from ({start})")
        return value

    @field_validator("legal_bases")
    @classmethod
    def _unique_bases(cls, value: list[LegalBasis]) -> list[LegalBasis]:
        ids = [b.id for b in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"legal basis listed more than once: {', '.join(twice)}")
        return value

    def model_post_init(self, context: Any, /) -> None:
        data = self.model_dump(mode="json")
        if not data["release_requires_signoff"]:  # added later: versions before it stay valid
            del data["release_requires_signoff"]
        if self.rate_limits == RateLimits():  # likewise: the defaults hash as if left out
            del data["rate_limits"]
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._version = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    @property
    def version(self) -> str:
        return self._version

    def basis(self, basis_id: str) -> LegalBasis | None:
        return next((b for b in self.legal_bases if b.id == basis_id), None)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on <= self.effective_to

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "<agreement>") -> Agreement:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AgreementError(f"{source} is not valid TOML",
                                 problems=[Problem(str(exc), file=source)]) from exc
        return cls.from_data(data, source=source)

    @classmethod
    def from_data(cls, data: dict[str, Any], *, source: str = "<agreement>") -> Agreement:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = [Problem(_message(e), file=source, field=_path(e["loc"]) or None)
                        for e in exc.errors()]
            raise AgreementError(f"{source} is not a valid agreement "
                                 f"({len(problems)} problem{'s' if len(problems) != 1 else ''})",
                                 problems=problems) from exc

    def describe(self) -> list[tuple[str, str]]:
        """What the agreement allows, as (label, value) pairs for printing."""
        rows: list[tuple[str, str]] = [
            ("agreement", f"{self.agreement_id}: {self.title}"),
            ("version", self.version),
            ("parties", f"{self.requesting_agency} (requesting) / {self.custodian} (custodian)"),
            ("in force", f"{self.effective_from} to {self.effective_to}"),
        ]
        for b in self.legal_bases:
            rows.append((f"basis {b.id}", b.description or "-"))
            rows.append(("  request must state", ", ".join(b.required_request_fields)))
            rows.append(("  manifest must carry", ", ".join(b.required_manifest_fields) or "-"))
            if b.allowed_statutory_authorities:
                rows.append(("  statutory authorities", "; ".join(b.allowed_statutory_authorities)))
            if b.case_number_pattern:
                rows.append(("  case number pattern", b.case_number_pattern))
            rows.append(("  certification", "required" if b.certification_required else "no"))
        d, t, lim, s, r = (self.disclosure, self.thresholds, self.limits, self.safeguards,
                           self.retention)
        rows += [
            ("disclosable fields", ", ".join(d.disclosable_fields) or "none (codes only)"),
            ("ADDRESS_DIFFERS discloses", "yes" if d.address_differs_discloses else "no"),
            ("match threshold", f"probability >= {t.match_probability}"),
            ("review band", f"{t.review_probability} <= probability < {t.match_probability}"),
            ("ambiguity margin", f"runner-up within {t.ambiguity_margin} match weight of the best"),
            ("identifiers", f"{t.min_identifiers} besides the name (middle name, date of birth, "
                            "address; a TIN counts for two)"
                            + ("" if t.initial_with_address else
                               "; a middle initial not beside the address alone")),
            ("batch size limit", f"{lim.max_batch_size} requests ({lim.on_excess.value})"),
            ("per official", f"{lim.max_requests_per_official} requests per "
                             f"{lim.official_period_days} days"),
            ("safeguards", f"{s.status.value}, reviewed {s.reviewed_on} "
                           f"(valid {s.max_review_age_days} days)"),
            ("retention (days)", f"requests {r.requests_days}, responses {r.responses_days}, "
                                 f"candidates {r.candidates_days}"),
            ("PO boxes", "accepted" if self.address_gate.allow_po_box else "rejected"),
            ("API rate limits", f"{self.rate_limits.requests_per_minute_per_token} per minute "
                                f"per token, {self.rate_limits.requests_per_minute_per_agency} "
                                f"per minute for the agency"),
        ]
        return rows


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _message(error: Any) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known setting"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def load_agreement(path: Path | str) -> Agreement:
    """Read and validate an agreement file; AgreementError lists every problem."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise AgreementError(f"cannot read agreement {p}",
                             problems=[Problem(exc.strerror or str(exc), file=str(p))]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AgreementError(f"{p} is not UTF-8 text", problems=[
            Problem(f"undecodable byte at offset {exc.start}", file=str(p))]) from exc
    return Agreement.from_toml_text(text, source=str(p))
