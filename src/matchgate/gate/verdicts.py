"""The gate's verdict on many requests: each one's first problem and its duplicate key, with
every distinct value judged once.

A batch needs the first problem of each request (check_request gives them all) and its duplicate
key (dedupe_key), and most of a batch's values recur: names, cities, states, ZIP codes, tax
periods, authorities, order dates, dates of birth, street names. `Verdicts` works the first
problem out field by field in check_request's order, looking each value up in that field's table
of problems (legal.legal_checks: each depends on one field's value only), and the key from the
normalized parts of each value, remembered the same way. Only the street line, nearly unique per
request, is judged per request (its parse is remembered per line: standardize/street_line.py).

The checks are the gate's own functions; only how often they run changes. A property test holds
`first_problem` to check_request and `key` to dedupe_key (tests/test_gate_verdicts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from matchgate.agreement import Agreement
from matchgate.gate import check_request
from matchgate.gate.address import (
    city_problems,
    line_problems,
    parsed_address,
    state_code,
    state_problems,
    zip_problems,
)
from matchgate.gate.batch import dob_key, hashed_key, key_parts, normalized
from matchgate.gate.legal import legal_checks
from matchgate.gate.rejection import Rejection
from matchgate.standardize import ParsedAddress

if TYPE_CHECKING:
    from matchgate.intake.manifest import Manifest

Fields = Mapping[str, str | None]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: values remembered per table; a table that grows past this starts again (a batch of unique
#: values then costs one lookup more per value, never unbounded memory)
REMEMBERED = 1 << 17


class _Table(dict[K, V]):
    """A function's results by argument, worked out on first use."""

    def __init__(self, compute: Callable[[K], V]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: K) -> V:
        if len(self) >= REMEMBERED:
            self.clear()
        value = self[key] = self.compute(key)
        return value


def _first(problems: list[Rejection]) -> Rejection | None:
    return problems[0] if problems else None


class Verdicts:
    """First problems and duplicate keys of the requests of batches made under one manifest's
    legal basis, one agreement and one day (`for_batch` keeps one per such triple)."""

    def __init__(self, manifest: Manifest, agreement: Agreement, today: date) -> None:
        self.manifest, self.agreement, self.today = manifest, agreement, today
        self.options = agreement.address_gate
        basis = agreement.basis(manifest.legal_basis)
        # no basis: every request has check_request's one problem (the basis is not allowed)
        self.refused = None if basis is not None else _first(
            check_request({}, manifest, agreement, today=today))
        self.legal = [] if basis is None else [
            (field, _Table(check)) for field, check in legal_checks(basis, today=today)]
        self.city: _Table[str, Rejection | None] = _Table(
            lambda city: _first(city_problems(city)))
        self.state: _Table[str, str | None] = _Table(state_code)
        self.zip: _Table[tuple[str, str | None], Rejection | None] = _Table(
            lambda key: _first(zip_problems(key[0], key[1], _UNPARSED, self.options)))
        self.norm: _Table[str, str] = _Table(normalized)
        self.dob: _Table[str, str] = _Table(dob_key)

    def parsed(self, fields: Fields) -> ParsedAddress:
        """The request's address parsed (as dedupe_key and check_address parse it)."""
        return parsed_address(fields.get("street"), fields.get("unit"), fields.get("city"),
                              fields.get("state"), fields.get("zip"))

    def first_problem(self, fields: Fields, parsed: ParsedAddress) -> Rejection | None:
        """check_request(fields, ...)[0], or None when it finds nothing."""
        if self.refused is not None:
            return self.refused
        get = fields.get
        for field, table in self.legal:
            problem = table[get(field)]
            if problem is not None:
                return problem
        street, city, state_text, zip_text = get("street"), get("city"), get("state"), get("zip")
        if street is None or city is None or state_text is None or zip_text is None:
            # a missing part, or a whole address on the street line: rare, checked in full
            return _first(check_request(fields, self.manifest, self.agreement,
                                        today=self.today))
        problem = _first(line_problems(street, parsed, self.options)) or self.city[city]
        if problem is not None:
            return problem
        state = self.state[state_text]
        return _first(state_problems(state, state_text)) or self.zip[zip_text, state]

    def key(self, fields: Fields, parsed: ParsedAddress) -> str:
        """dedupe_key(fields)."""
        return hashed_key(key_parts(fields, parsed, self._norm, self._dob))

    def _norm(self, value: str | None) -> str:
        return "" if value is None else self.norm[value]

    def _dob(self, value: str | None) -> str:
        return "" if value is None else self.dob[value]


_UNPARSED = ParsedAddress("unknown", None, None, None, None, None, None, None)
#: Verdicts kept per process. Each holds at most REMEMBERED values per table (some 100 MB when
#: every table is full of long unique values, such as reasons), so a long-lived service that
#: screens small batches in process holds a bounded amount.
KEPT = 2
_KEPT: dict[tuple[str, str, date], Verdicts] = {}


def for_batch(manifest: Manifest, agreement: Agreement, today: date) -> Verdicts:
    """The Verdicts of this legal basis, agreement version and day, kept across the parts of a
    batch that one process screens (KEPT of them; the oldest goes)."""
    key = (manifest.legal_basis, agreement.version, today)
    verdicts = _KEPT.get(key)
    if verdicts is None:
        if len(_KEPT) >= KEPT:
            del _KEPT[next(iter(_KEPT))]
        verdicts = _KEPT[key] = Verdicts(manifest, agreement, today)
    return verdicts
