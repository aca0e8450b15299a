"""The legal elements of one request, per the basis the batch is made under: present where the
agreement requires them, and well formed wherever present. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache

from matchgate.agreement import LegalBasis
from matchgate.gate.rejection import Rejection, reject
from matchgate.gate.text import (
    has_strong_word,
    informative,
    is_not_applicable,
    is_repeated_letters,
    tokens,
)
from matchgate.gate.values import (
    case_number_key,
    citation_key,
    dob_problem,
    past_date_problem,
    tax_periods_problem,
    tin_problem,
)

Fields = Mapping[str, str | None]

# Words that state no specific reason: a reason made only of these (and filler) is a placeholder.
GENERIC_REASON_WORDS = frozenset({
    "INVESTIGATION", "INVESTIGATIONS", "INVESTIGATIVE", "INVESTIGATE", "IMMIGRATION", "LAW",
    "ENFORCEMENT", "PURPOSE", "PURPOSES", "OFFICIAL", "BUSINESS", "USE", "REASON", "REASONS",
    "REQUEST", "REQUESTED", "ONGOING", "GENERAL", "CASE", "MATTER", "ATTACHED", "ENCLOSED",
    "ROUTINE", "CHECK", "INQUIRY", "LOOKUP", "VERIFICATION", "VERIFY", "FEDERAL", "AGENCY",
    "CRIMINAL", "CIVIL", "ADMINISTRATIVE", "SECURITY", "NATIONAL", "PUBLIC", "SAFETY",
    "COMPLIANCE", "REVIEW", "SUBJECT", "PERSON", "INDIVIDUAL", "TAXPAYER", "RELEVANT",
    "LEGAL", "LAWFUL", "AUTHORIZED", "STATUTORY", "AUTHORITY", "FOR", "WITH", "FROM", "ABOUT",
    "RE", "REF", "REFERENCE", "DUE", "PROCESS", "PROCEEDING", "PROCEEDINGS",
})
MIN_REASON_WORDS = 3
MIN_SPECIFIC_WORDS = 2
# A first name that only says "no first name": FNU is what the custodian itself records for a
# person with a single name, so it is accepted as a first name; LNU never as a surname.
NAME_PLACEHOLDERS = frozenset({"LNU", "NFN", "NLN", "NMN", "UNKNOWN", "UNK", "NONE", "NULL",
                               "TEST", "TBD", "REFUSED", "REDACTED", "WITHHELD"})
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=65536)
def reason_problem(text: str) -> str | None:
    """Why a stated reason is not specific, or None when it is: a reason must say, in at least
    three words, of which two are neither filler nor generic ("investigation", "law enforcement
    purposes"), why the disclosure is relevant.

    The placeholder test is is_placeholder's, on tokens and informative words worked out once:
    a reason names its case, so nearly every one is new, and the caches of is_placeholder and
    has_strong_word only cost it (a tenth of screening went on this check)."""
    toks = tokens(text)
    useful = informative(toks)
    if (not toks or not useful or is_not_applicable(text)
            or has_strong_word.__wrapped__(toks)):
        return f"'{text}' is a placeholder"
    specific = [t for t in useful
                if t not in GENERIC_REASON_WORDS and len(t) > 2 and not t.isdigit()]
    if len(toks) < MIN_REASON_WORDS or len(specific) < MIN_SPECIFIC_WORDS:
        return f"'{text}' does not state a specific reason"
    return None


@lru_cache(maxsize=262144)
def name_problem(text: str, *, surname: bool) -> str | None:
    if not _LETTER.search(text):
        return f"'{text}' has no letters"
    if any(ch.isdigit() for ch in text):
        return f"'{text}' contains digits"
    toks = tokens(text)
    placeholders = NAME_PLACEHOLDERS | ({"FNU"} if surname else set())
    if ("".join(toks) in placeholders or is_not_applicable(text)
            or all(is_repeated_letters(t) for t in toks)):
        return f"'{text}' is a placeholder, not a name"
    return None


@lru_cache(maxsize=64)
def _citation_keys(authorities: tuple[str, ...]) -> frozenset[str]:
    return frozenset(citation_key(a) for a in authorities)


def _statutory_authority(value: str, basis: LegalBasis) -> str | None:
    allowed = _citation_keys(tuple(basis.allowed_statutory_authorities))
    if allowed and citation_key(value) not in allowed:
        return f"'{value}' (allowed: {'; '.join(basis.allowed_statutory_authorities)})"
    return None


def _case_number(value: str, basis: LegalBasis) -> str | None:
    if basis.case_number_pattern and not re.fullmatch(basis.case_number_pattern,
                                                      case_number_key(value)):
        return f"'{value}' does not match {basis.case_number_pattern}"
    return None


def _checks(basis: LegalBasis, today: date) -> list[tuple[str, str, str, Callable[[str],
                                                                             str | None]]]:
    """(field, reason when missing, reason when invalid, validator) in the order of the law."""
    return [
        ("tax_periods", "missing_tax_periods", "invalid_tax_periods",
         lambda v: tax_periods_problem(v, today=today)),
        ("statutory_authority", "missing_statutory_authority", "statutory_authority_not_allowed",
         lambda v: _statutory_authority(v, basis)),
        ("reason", "missing_reason", "reason_too_vague", reason_problem),
        ("case_number", "missing_case_number", "invalid_case_number",
         lambda v: _case_number(v, basis)),
        ("order_date", "missing_order_date", "invalid_order_date",
         lambda v: past_date_problem(v, today=today)),
    ]


FieldCheck = Callable[[str | None], Rejection | None]


def _field_check(field: str, missing: str | None, invalid: str,
                 validate: Callable[[str], str | None], required: bool) -> FieldCheck:
    """The problem of one field's value: missing where required, or invalid."""
    def check(value: str | None) -> Rejection | None:
        if value is None:
            return reject(missing, field) if required and missing is not None else None
        problem = validate(value)
        return reject(invalid, field, problem) if problem else None
    return check


def legal_checks(basis: LegalBasis, *, today: date) -> list[tuple[str, FieldCheck]]:
    """Per field, in the order of the law, the check of its value alone: names (first, last,
    middle), the legal elements, then date of birth and TIN. A request's legal problems are
    these checks' results in this order (each depends on one field's value only, so a batch can
    judge each distinct value once: gate/verdicts.py)."""
    checks = [
        ("first_name", "missing_first_name", "invalid_name",
         lambda v: name_problem(v, surname=False)),
        ("last_name", "missing_last_name", "invalid_name",
         lambda v: name_problem(v, surname=True)),
        ("middle_name", None, "invalid_name", lambda v: name_problem(v, surname=False)),
        *_checks(basis, today),
        ("date_of_birth", None, "invalid_date_of_birth", lambda v: dob_problem(v, today=today)),
        ("tin", None, "invalid_tin", tin_problem),
    ]
    return [(field, _field_check(field, missing, invalid, validate, basis.requires(field)))
            for field, missing, invalid, validate in checks]


def check_legal_elements(fields: Fields, basis: LegalBasis, *, today: date) -> list[Rejection]:
    """Every problem with the request's name and legal elements, in the order of the law."""
    return [problem for field, check in legal_checks(basis, today=today)
            if (problem := check(fields.get(field))) is not None]
