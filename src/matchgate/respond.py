"""Respond: what the requester may see, and the custodian's decision export. Pure row building."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matchgate.codes import REASONS, Code
from matchgate.columns import DECISION_COLUMNS, DISCLOSED_PREFIX, RESPONSE_COLUMNS

ADDRESS_FIELDS: tuple[str, ...] = ("street", "unit", "city", "state", "zip")
LAST_KNOWN_ADDRESS = "last_known_address"


def disclosable_under(terms: Any) -> list[str]:
    """What ADDRESS_DIFFERS may disclose under an agreement's disclosure terms (an
    `Agreement.disclosure`): nothing unless the agreement says so."""
    return list(terms.disclosable_fields) if terms.address_differs_discloses else []


def disclosed_fields(code: Code, last_address: Mapping[str, object] | None,
                     disclosable: Sequence[str]) -> dict[str, str | None]:
    """What a decision may disclose: the last known address for ADDRESS_DIFFERS, where the
    agreement allows it; nothing in every other case."""
    if code != Code.ADDRESS_DIFFERS or LAST_KNOWN_ADDRESS not in disclosable or not last_address:
        return {}
    return {f: (None if last_address.get(f) is None else str(last_address.get(f)))
            for f in ADDRESS_FIELDS}


def response_columns(disclosable: Sequence[str]) -> list[str]:
    cols = [*RESPONSE_COLUMNS, "detail"]
    if LAST_KNOWN_ADDRESS in disclosable:
        cols += [DISCLOSED_PREFIX + f for f in ADDRESS_FIELDS]
    return cols


# The columns of a stored decision that response_row reads.
RESPONSE_SOURCE: tuple[str, ...] = ("request_id", "code", "reason", "disclosed")


def response_row(decision: Mapping[str, object]) -> dict[str, object]:
    """The requester's view of one decision: code, reason, a sentence, and what is disclosed.
    Never a score, a TIN or anything else of the master file."""
    reason = str(decision["reason"])
    detail = str(decision.get("detail") or _detail(reason))
    row: dict[str, object] = {"request_id": decision["request_id"], "code": decision["code"],
                              "reason": reason, "detail": detail}
    disclosed = decision.get("disclosed") or {}
    assert isinstance(disclosed, Mapping)
    for key, value in disclosed.items():
        row[DISCLOSED_PREFIX + key] = value
    return row


def _detail(reason: str) -> object:
    """The sentence a response gives for a reason (the reason itself when it has none)."""
    return REASONS.get(reason, (None, reason))[1]


def response_cells(request_id: object, code: object, reason: object,
                   disclosed: Mapping[str, object] | None, shown: Sequence[str]
                   ) -> list[object]:
    """The cells of one decision's row in the response file, in response_columns' order:
    what response_row gives those columns (`shown`: the disclosed fields that the columns
    name, in their order), without a dict per row."""
    text = str(reason)
    cells: list[object] = [request_id, code, text, str(_detail(text))]
    if shown:
        held = disclosed or {}
        cells.extend(held.get(f) for f in shown)
    return cells


def shown_fields(columns: Sequence[str]) -> list[str]:
    """The disclosed fields that response columns name, in their order."""
    return [c[len(DISCLOSED_PREFIX):] for c in columns if c.startswith(DISCLOSED_PREFIX)]


def decision_columns() -> list[str]:
    return [*DECISION_COLUMNS, "master_version", "batch_id"]
