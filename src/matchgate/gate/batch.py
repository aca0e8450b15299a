"""Checks across the requests of a batch: duplicate request_ids, the same request twice (in this
batch or already answered under the agreement), and the agreement's volume limits. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from matchgate.agreement import Agreement, OnExcess
from matchgate.gate.address import parsed_address
from matchgate.gate.rejection import Rejection, reject
from matchgate.gate.text import tokens
from matchgate.gate.values import parse_date, tin_digits

if TYPE_CHECKING:
    from matchgate.intake.manifest import Manifest
    from matchgate.intake.rows import RequestRow
    from matchgate.standardize import ParsedAddress

Fields = Mapping[str, str | None]


def normalized(value: str | None) -> str:
    return " ".join(tokens(value))


def dob_key(value: str | None) -> str:
    if value is None:
        return ""
    parsed = parse_date(value, today=date.today())
    return parsed.isoformat() if parsed else normalized(value)


def dedupe_key(fields: Fields) -> str:
    """The same person at the same address gives the same key, whatever the case, spacing or
    punctuation: normalized first, middle initial, last name and suffix, date of birth, TIN and
    address (house, street, unit, ZIP5). 32 hex characters of a sha256 (no personal data)."""
    p = parsed_address(fields.get("street"), fields.get("unit"), fields.get("city"),
                      fields.get("state"), fields.get("zip"))
    return hashed_key(key_parts(fields, p))


def key_parts(fields: Fields, parsed: ParsedAddress, norm: Callable[[str | None], str] = normalized,
              dob: Callable[[str | None], str] = dob_key) -> list[str]:
    """The normalized parts of a request's duplicate key (`norm` and `dob` are normalized and
    dob_key, or the same remembered per value: gate/verdicts.py)."""
    middle = norm(fields.get("middle_name"))
    tin = fields.get("tin")
    return [
        norm(fields.get("first_name")), middle[:1], norm(fields.get("last_name")),
        norm(fields.get("suffix")), dob(fields.get("date_of_birth")),
        (tin_digits(tin) or norm(tin)) if tin else "",
        norm(parsed.house), norm(parsed.street), norm(parsed.unit),
        parsed.zip5 or norm(fields.get("zip")),
    ]


def hashed_key(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _earlier(prior_keys: Collection[str], key: str) -> str:
    if isinstance(prior_keys, Mapping):
        ref: Any = prior_keys.get(key)
        if isinstance(ref, tuple) and len(ref) == 2:
            return f"batch {ref[0]}, request {ref[1]}"
    return "an earlier batch"


def _duplicates(requests: Sequence[RequestRow], prior_keys: Collection[str],
                keys: Mapping[str, str] | None = None) -> dict[str, Rejection]:
    out: dict[str, Rejection] = {}
    seen_ids: set[str] = set()
    first_of: dict[str, str] = {}
    for r in requests:
        if r.request_id in seen_ids:
            out.setdefault(r.request_id, reject("duplicate_request_id", "request_id",
                                                f"row {r.row_number}: '{r.request_id}'"))
            continue
        seen_ids.add(r.request_id)
        key = keys.get(r.request_id) if keys is not None else None
        if key is None:
            key = dedupe_key(r.fields)
        if key in prior_keys:
            out[r.request_id] = reject("duplicate_earlier", None, _earlier(prior_keys, key))
        elif key in first_of:
            out[r.request_id] = reject("duplicate_in_batch", None,
                                       f"same as request {first_of[key]}")
        else:
            first_of[key] = r.request_id
    return out


def _limits(requests: Sequence[RequestRow], manifest: Manifest, agreement: Agreement,
            official_prior_count: int) -> dict[str, Rejection]:
    lim = agreement.limits
    out: dict[str, Rejection] = {}
    n = len(requests)
    if n > lim.max_batch_size:
        skip = 0 if lim.on_excess is OnExcess.REJECT_BATCH else lim.max_batch_size
        for r in requests[skip:]:
            out[r.request_id] = reject("batch_limit", None,
                                       f"{n} requests, the limit is {lim.max_batch_size}")
    room = max(lim.max_requests_per_official - official_prior_count, 0)
    if n > room:
        skip = 0 if lim.on_excess is OnExcess.REJECT_BATCH else room
        detail = (f"{manifest.requesting_official} certified {official_prior_count} requests "
                  f"in the last {lim.official_period_days} days and {n} in this batch; the "
                  f"limit is {lim.max_requests_per_official}")
        for r in requests[skip:]:
            out.setdefault(r.request_id, reject("official_limit", "requesting_official", detail))
    return out


def check_batch(requests: Sequence[RequestRow], manifest: Manifest, agreement: Agreement,
                prior_keys: Collection[str], *, official_prior_count: int = 0,
                keys: Mapping[str, str] | None = None) -> dict[str, Rejection]:
    """Rejections by request_id for the requests that pass the per-request gate.

    `prior_keys`: dedupe keys answered in earlier batches under the same agreement (a set, or a
    mapping to (batch_id, request_id) of the earlier answer, which the message then names).
    `official_prior_count`: requests the manifest's official certified earlier in the agreement's
    period. Limits come first (a request over the limit is not looked at further), then
    duplicates; within a batch the first occurrence goes ahead. `keys`: the dedupe keys by
    request_id when the caller has them already (computed here otherwise)."""
    out = _limits(requests, manifest, agreement, official_prior_count)
    ahead = [r for r in requests if r.request_id not in out]
    for rid, rej in _duplicates(ahead, prior_keys, keys).items():
        out.setdefault(rid, rej)
    return out
