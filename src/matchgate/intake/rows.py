"""One request as read from a file: its row number, its request_id, its fields (every request
column; blank is None, whitespace stripped, characters under the rules of intake.characters) and,
when the row itself is malformed, the rejection it already carries. A malformed row is never
dropped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from matchgate.columns import REQUEST_COLUMNS
from matchgate.gate.rejection import Rejection, reject
from matchgate.intake.characters import (
    NAME_FIELDS,
    foreign_letter,
    has_unstorable,
    normalise,
)

# Longest value accepted per column; longer values make the row a rejected request.
MAX_LENGTH: dict[str, int] = {c: 100 for c in REQUEST_COLUMNS}
MAX_LENGTH.update({"street": 200, "reason": 2000, "tax_periods": 200, "request_id": 64,
                   "statutory_authority": 200})


@dataclass(frozen=True)
class RequestRow:
    row_number: int
    request_id: str
    fields: dict[str, str | None]
    intake_rejection: Rejection | None = None
    request_id_synthesised: bool = False


@dataclass
class IntakeResult:
    source: str
    format: str
    requests: list[RequestRow] = field(default_factory=list)

    @property
    def rejected(self) -> list[RequestRow]:
        return [r for r in self.requests if r.intake_rejection is not None]


def _clean(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    text, control = normalise(value)
    return text.strip() or None, control


def _cleaned(row_number: int, values: Mapping[str, str | None]
             ) -> tuple[dict[str, str | None], list[Rejection]]:
    """Every request column cleaned; control characters in any field and letters of another
    script in a name are rejections."""
    raw = [values.get(col) for col in REQUEST_COLUMNS]
    whole = "".join(v for v in raw if v)
    if whole.isascii() and not has_unstorable(whole):  # the common row: only stripped
        return {col: (v.strip() or None) if v is not None else None
                for col, v in zip(REQUEST_COLUMNS, raw, strict=True)}, []
    fields: dict[str, str | None] = {}
    problems = []
    for col in REQUEST_COLUMNS:
        text, control = _clean(values.get(col))
        fields[col] = text
        if control is not None:
            problems.append(reject("field_control_character", col,
                                   f"row {row_number}, field '{col}' holds {control}"))
        elif (col in NAME_FIELDS and text is not None and not text.isascii()
              and (letter := foreign_letter(text)) is not None):
            problems.append(reject("name_not_latin", col,
                                   f"row {row_number}, field '{col}' holds {letter}"))
    return fields, problems


def build_row(row_number: int, values: Mapping[str, str | None],
              malformed: str | None = None) -> RequestRow:
    """A RequestRow from the raw values of one row; `malformed` says why the row could not be
    read properly (it then carries a row_malformed rejection)."""
    fields, found = _cleaned(row_number, values)
    problems: list[Rejection] = []
    if malformed:
        problems.append(reject("row_malformed", None, f"row {row_number}: {malformed}"))
    problems.extend(found)
    for col, limit in MAX_LENGTH.items():
        value = fields[col]
        if value is not None and len(value) > limit:
            problems.append(reject("field_too_long", col,
                                   f"row {row_number}, field '{col}' has {len(value)} "
                                   f"characters, at most {limit} are allowed"))
            fields[col] = value[:limit].rstrip()
    request_id = fields["request_id"]
    synthesised = request_id is None
    if request_id is None:
        request_id = f"row-{row_number}"
        problems.insert(1 if malformed else 0, reject(
            "missing_request_id", "request_id",
            f"row {row_number} has no request_id; it is answered as '{request_id}'"))
    return RequestRow(row_number=row_number, request_id=request_id, fields=fields,
                      intake_rejection=problems[0] if problems else None,
                      request_id_synthesised=synthesised)


def unique_stream(rows: Iterable[RequestRow]) -> Iterator[RequestRow]:
    """The rows as they come, each request_id once: a request_id used again later in the file
    makes the later row '<id>#row-N', rejected as duplicate_request_id, so that every request
    keeps a distinct id."""
    seen: set[str] = set()
    for r in rows:
        if r.request_id in seen:
            new_id = f"{r.request_id}#row-{r.row_number}"
            rejection = reject("duplicate_request_id", "request_id",
                               f"row {r.row_number} repeats '{r.request_id}'; it is answered as "
                               f"'{new_id}'")
            r = RequestRow(row_number=r.row_number, request_id=new_id, fields=r.fields,
                           intake_rejection=r.intake_rejection or rejection,
                           request_id_synthesised=r.request_id_synthesised)
        seen.add(r.request_id)
        yield r
