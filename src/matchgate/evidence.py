"""A decision's evidence: the best candidate's match weights and gamma levels per comparison, and
the candidates it considered, best first (at most CONSIDERED), each with its TIN, scores,
weights and levels (what the review page and `matchgate explain` show).

It is built as a dict, or, when every candidate it names came from a bulk chunk whose finding
process rendered each candidate's entry as JSON text (`with_rendered_entries`, in DuckDB), put
together from those texts as the stored JSON itself (`JSONText`). At 1.28 million requests the
dicts were some 4.5 million candidate entries built, ranked and serialized again by the
process that records the batch (a sixth of its time); the text parses to the same document (a
test compares them on the same candidates).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from matchgate.arrowquery import query_arrow
from matchgate.store.engine import JSONText

if TYPE_CHECKING:
    from matchgate.decide import Candidate

CONSIDERED = 5  # candidates kept in a decision's evidence
#: the column of a chunk's candidates holding each one's rendered entry
ENTRY_COLUMN = "considered_entry"
# Where a rendered entry's weights and levels start: a comma and a quote never stand side by
# side inside a JSON string (a quote in one is escaped), so the first is the key's own.
_BODY = ',"match_weights":'


class RenderedEvidence(Mapping[str, Any]):
    """A candidate's evidence (match_weights and gamma) kept as its rendered entry (the JSON of
    its considered entry: tin, match_probability, match_weight, match_weights, gamma); read
    as a mapping, the text is parsed once, on first use."""

    __slots__ = ("_value", "entry")

    def __init__(self, entry: str) -> None:
        self.entry = entry
        self._value: dict[str, Any] | None = None

    @property
    def body(self) -> str:
        """The weights and the levels as members of a JSON object ('"match_weights":{...},
        "gamma":{...}')."""
        return self.entry[self.entry.index(_BODY) + 1:-1]

    def _parsed(self) -> dict[str, Any]:
        if self._value is None:
            whole = orjson.loads(self.entry)
            self._value = {"match_weights": whole["match_weights"], "gamma": whole["gamma"]}
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __repr__(self) -> str:
        return f"RenderedEvidence({self.entry!r})"


def ranked(candidates: Sequence[Candidate], limit: int = CONSIDERED) -> list[Candidate]:
    """The first `limit` candidates by probability, then match weight, then TIN."""
    return heapq.nsmallest(limit, candidates,
                           key=lambda c: (-c.match_probability, -c.match_weight, c.tin))


def considered_evidence(candidates: Sequence[Candidate], limit: int = CONSIDERED
                        ) -> list[dict[str, Any]]:
    """The candidates a decision considered, best first (at most `limit`), each with its TIN,
    scores and per-comparison match weights and gamma levels (for the review page)."""
    # the candidates' own dicts, not copies: evidence is read and stored, never changed
    return [{"tin": c.tin, "match_probability": c.match_probability,
             "match_weight": c.match_weight,
             "match_weights": c.evidence.get("match_weights", {}),
             "gamma": c.evidence.get("gamma", {})} for c in ranked(candidates, limit)]


def decision_evidence(detail: str | None, best: Candidate | None,
                      considered: Sequence[Candidate]) -> dict[str, Any] | JSONText:
    """The evidence of a decision: its detail (a rejection's), the best candidate's weights and
    levels, and the candidates considered. As JSONText when every candidate named carries a
    rendered entry, as a dict otherwise; both are the same document."""
    top = ranked(considered) if considered else []
    named = [*top, *([best] if best is not None else [])]
    if named and all(type(c.evidence) is RenderedEvidence for c in named):
        parts = [f'"detail":{orjson.dumps(detail).decode()}'] if detail else []
        if best is not None:
            parts.append(_rendered(best).body)
        parts.append(f'"candidates":[{",".join(_rendered(c).entry for c in top)}]')
        return JSONText("{" + ",".join(parts) + "}")
    evidence: dict[str, Any] = {"detail": detail} if detail else {}
    if best is not None:
        evidence.update(best.evidence)
    if top:
        evidence["candidates"] = considered_evidence(top)
    return evidence


def _rendered(candidate: Candidate) -> RenderedEvidence:
    evidence = candidate.evidence
    assert isinstance(evidence, RenderedEvidence)
    return evidence


def with_rendered_entries(candidates: pa.Table) -> pa.Table:
    """The candidates with each one's considered entry rendered as JSON text (ENTRY_COLUMN),
    when their evidence is a struct of match_weights and gamma with no value missing (a
    bulk chunk's); as they are otherwise. Rendered by DuckDB in the process that found them:
    its numbers are written so that they read back as the same floats (a test checks)."""
    evidence = candidates.schema.field("evidence").type if (
        "evidence" in candidates.column_names) else None
    if (evidence is None or not pa.types.is_struct(evidence) or candidates.num_rows == 0
            or {evidence.field(i).name for i in range(evidence.num_fields)}
            != {"match_weights", "gamma"}
            or candidates.column("evidence").null_count):
        return candidates
    weights = evidence.field("match_weights").type
    members = ", ".join(f"'{name}', {_finite(f'evidence.match_weights.{name}')}"
                        for name in (weights.field(i).name for i in range(weights.num_fields)))
    sql = (f"SELECT json_object('tin', tin, 'match_probability', {_finite('match_probability')}, "
           f"'match_weight', {_finite('match_weight')}, 'match_weights', json_object({members}), "
           "'gamma', evidence.gamma)::VARCHAR AS entry FROM candidates")
    rendered = query_arrow(sql, {"candidates": candidates.select(
        ["tin", "match_probability", "match_weight", "evidence"])})
    return candidates.append_column(ENTRY_COLUMN, rendered.column("entry"))


def _finite(column: str) -> str:
    """A number as JSON can hold it: an infinite or undefined one as null, as the stored dicts
    have it (orjson writes null for them; DuckDB would write Infinity, which no JSON reader,
    PostgreSQL's included, accepts)."""
    return f"CASE WHEN isfinite({column}) THEN {column} END"
