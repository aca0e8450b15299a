"""Decide: turn the scored candidates of one request into a response code. Pure functions.

Candidates whose given name agrees in no way with the request's (not exact, not a nickname,
not a near spelling, not the middle name, not even the initial) are other people unless the
date of birth or the TIN says otherwise: a spouse or a child at the same address shares the
surname and the address, never the given name. They are set aside before anything else.
Then, in order (the first rule that applies decides):
1. no candidate at or above the review threshold: NO_MATCH;
2. a runner-up that is itself plausible (at or above the review threshold) and close to the best
   (within the agreement's ambiguity margin, in match weight): AMBIGUOUS;
3. household logic: another plausible candidate shares the best one's surname, given name and
   last known address (a JR and a SR, or a namesake in the same household); unless the request's
   date of birth or generation suffix singles out exactly one of them: AMBIGUOUS;
4. the best candidate contradicts the request on a discriminating field (both carry a generation
   suffix and they differ, a different date of birth that is not a day-month swap, or a TIN
   that differs in more than one digit):
   PENDING_REVIEW at most;
5. the best candidate's name agrees only in part (an initial for the given name, a different
   surname, or both carry a middle name and they differ: other initials, or two full middle
   names with one initial, DAVID and DANIEL), or it agrees on the name alone (no
   address, date of birth or TIN evidence), or the address is its only corroboration and the
   name is not firm (a given name that is only related, similar or the other's middle name, a
   surname that shares only one part): PENDING_REVIEW, never a disclosure. The address is what
   a household shares: a spouse, a child or a parent at that address has the surname (or a part
   of a compound one) and often a related or the same middle name;
6. fewer identifiers beyond the first and last name agree than the agreement requires
   (thresholds.min_identifiers; the identifiers are the middle name or initial, the date of
   birth, the address and the TIN, an exact TIN counting for two as it is the taxpayer's own,
   and so does a date of birth beside a rare name; a heaped date of birth counts only beside
   the address; the agreement may refuse a middle initial as the address's only companion):
   PENDING_REVIEW. Name and address alone cannot tell a taxpayer from a relative of the same
   name living with them (a mother and a daughter, a father and a son without the suffix), and
   name and date of birth alone cannot tell a taxpayer from a namesake born the same day (among
   the bearers of a common name, shared birthdays are certain); a second identifier can;
7. the best candidate is below the match threshold: PENDING_REVIEW;
8. otherwise VERIFIED when the submitted address is the taxpayer's last known, else
   ADDRESS_DIFFERS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matchgate.codes import Code, reason_code

# The given name and surname weigh this much (log2 Bayes factor, term-frequency adjusted) when
# about one person in four million bears the full name by chance (the product of the two names'
# shares): a namesake born the same day is then out of reach. Below it, namesakes born the same
# day turn up among a million taxpayers (bench/accuracy: wrong disclosures at 20 and 21).
RARE_NAME_WEIGHT = 22.0


@dataclass(frozen=True)
class Thresholds:
    match_probability: float
    review_probability: float
    ambiguity_margin: float  # in match weight (log2 Bayes factor)
    # identifiers beyond the first and last name that must agree before a disclosure (rule 6)
    min_identifiers: int = 1
    # a middle name that agrees only by its initial counts beside the address alone (rule 6)
    initial_with_address: bool = True


@dataclass(frozen=True)
class RequestFacts:
    """The standardized fields of the request that the household rules look at."""

    request_id: str
    std_first_canon: str | None = None
    std_suffix: str | None = None
    std_dob: str | None = None


@dataclass(frozen=True)
class Candidate:
    tin: str
    match_probability: float
    match_weight: float
    address_is_last_known: bool
    std_first_canon: str | None = None
    std_last: str | None = None
    std_suffix: str | None = None
    std_dob: str | None = None
    household_key: str | None = None  # normalized last known address
    corroborated_by: frozenset[str] = frozenset()  # of {"address", "dob", "tin"}
    # the dates of birth agree on a heaped date (one that many records carry: a placeholder,
    # the first of January): no identifier against a namesake elsewhere, only with the address
    dob_heaped: bool = False
    # the match weight of the given name and the surname (term-frequency adjusted): how rare
    # the name is, as well as how well it agrees
    name_weight: float = 0.0
    given_name_agrees: bool | None = True  # None: the initial only; False: not at all
    middle_agrees: bool | None = None  # None: one side has no middle name or initial
    middle_full: bool = False  # full middle names agree, not only the initials
    surname_agrees: bool = True
    conflicts: frozenset[str] = frozenset()  # fields both sides carry and that differ
    # given name exact or same nickname key, surname exact or a misspelling of it: the name
    # tells the person apart from the members of their household
    name_firm: bool = True
    # per comparison, match weights and gamma levels (a dict, or evidence.RenderedEvidence)
    evidence: Mapping[str, Any] = field(default_factory=dict, compare=False)
    last_address: dict[str, str | None] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Decision:
    request_id: str
    code: Code
    reason: str
    matched_tin: str | None = None
    match_probability: float | None = None
    runner_up_probability: float | None = None
    best: Candidate | None = None


def _dob_agrees(a: str | None, b: str | None) -> bool | None:
    """True if equal or a day-month swap, False if both known and different, None if unknown."""
    if not a or not b:
        return None
    if a == b:
        return True
    ya, ma, da = a.split("-")
    yb, mb, db = b.split("-")
    return ya == yb and ma == db and da == mb


def _suffix_agrees(request: str | None, candidate: str | None) -> bool | None:
    if not request:
        return None
    return request == (candidate or None)


def _singles_out(request: RequestFacts, best: Candidate, others: Sequence[Candidate]) -> bool:
    """Whether the request's DOB or suffix picks the best candidate and none of the others."""
    for agree in (lambda c: _dob_agrees(request.std_dob, c.std_dob),
                  lambda c: _suffix_agrees(request.std_suffix, c.std_suffix)):
        if agree(best) is True and all(agree(o) is False for o in others):
            return True
    return False


def identifiers(candidate: Candidate, *, initial_with_address: bool = True) -> int:
    """How many identifiers beyond the first and last name agree with the request: the middle
    name or initial, the date of birth, the address; an exact TIN counts for two. A heaped date
    of birth counts only beside the address: many namesakes elsewhere carry it, a relative at
    the same address seldom does. An ordinary date of birth with a rare name (RARE_NAME_WEIGHT)
    counts for two: a namesake born the same day is then too unlikely to matter, and a relative
    does not share both the given name and the birthday. Unless initial_with_address, a middle
    name that agrees only by its initial does not count when the address is the only other
    identifier: a relative at the address shares the initial about one time in ten."""
    found = candidate.corroborated_by
    if candidate.dob_heaped and "address" not in found:
        found = found - {"dob"}
    rare_birthday = ("dob" in found and not candidate.dob_heaped
                     and candidate.name_weight >= RARE_NAME_WEIGHT)
    middle = candidate.middle_agrees is True and (
        initial_with_address or candidate.middle_full or found != {"address"})
    return (len(found - {"tin"}) + (2 if "tin" in found else 0) + (1 if rare_birthday else 0)
            + (1 if middle else 0))


def _same_household_namesakes(best: Candidate, others: Sequence[Candidate]) -> list[Candidate]:
    if not best.household_key:
        return []
    return [o for o in others
            if o.household_key == best.household_key and o.std_last == best.std_last
            and o.std_first_canon == best.std_first_canon]


def _decision(request: RequestFacts, reason: str, best: Candidate | None = None,
              runner_up: Candidate | None = None) -> Decision:
    return Decision(
        request_id=request.request_id,
        code=reason_code(reason),
        reason=reason,
        matched_tin=best.tin if best else None,
        match_probability=best.match_probability if best else None,
        runner_up_probability=runner_up.match_probability if runner_up else None,
        best=best,
    )


def ranks(given_name_agrees: bool | None, corroborated_by: frozenset[str]) -> bool:
    """Whether decide() ranks a candidate: not one whose given name disagrees, unless a date of
    birth or TIN corroborates it."""
    return given_name_agrees is not False or bool(corroborated_by & {"dob", "tin"})


def decide(request: RequestFacts, candidates: Sequence[Candidate],
           thresholds: Thresholds) -> Decision:
    ranked = sorted((c for c in candidates if ranks(c.given_name_agrees, c.corroborated_by)),
                    key=lambda c: (-c.match_weight, c.tin))
    if not ranked:
        return _decision(request, "no_candidate")
    best, others = ranked[0], ranked[1:]
    runner_up = others[0] if others else None
    if best.match_probability < thresholds.review_probability:
        return _decision(request, "below_threshold", None, None)
    plausible = [o for o in others if o.match_probability >= thresholds.review_probability]
    namesakes = _same_household_namesakes(best, plausible)
    if namesakes and not _singles_out(request, best, namesakes):
        return _decision(request, "household_conflict", best, runner_up)
    close = [o for o in plausible
             if best.match_weight - o.match_weight < thresholds.ambiguity_margin
             and o not in namesakes]
    if close and not _singles_out(request, best, close):
        return _decision(request, "runner_up_close", best, runner_up)
    suffix_conflict = bool(request.std_suffix and best.std_suffix
                           and request.std_suffix != best.std_suffix)
    contradicts = (suffix_conflict or _dob_agrees(request.std_dob, best.std_dob) is False
                   or "tin" in best.conflicts)
    if contradicts:
        return _decision(request, "review_band", best, runner_up)
    if (best.given_name_agrees is not True or not best.surname_agrees
            or "middle_name" in best.conflicts):
        return _decision(request, "name_partial", best, runner_up)
    if not best.corroborated_by:
        return _decision(request, "name_only", best, runner_up)
    if best.corroborated_by == {"address"} and not best.name_firm:
        return _decision(request, "name_partial", best, runner_up)
    if identifiers(best, initial_with_address=thresholds.initial_with_address
                   ) < thresholds.min_identifiers:
        return _decision(request, "one_identifier", best, runner_up)
    if best.match_probability < thresholds.match_probability:
        return _decision(request, "review_band", best, runner_up)
    reason = "match_single" if best.address_is_last_known else "match_address_differs"
    return _decision(request, reason, best, runner_up)


def disclosing(code: Code) -> bool:
    return code in (Code.VERIFIED, Code.ADDRESS_DIFFERS)
