"""The exact bytes that are hashed, so that anyone can recompute the chain without matchgate.

For the event with sequence number `seq`:

    record = {"actor": ..., "agreement_version": ..., "batch_id": ..., "details": ...,
              "event_type": ..., "origin": ..., "outcome": ..., "request_id": ...,
              "role": ..., "seq": ..., "ts": ...}
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    hash = sha256(prev_hash.encode("ascii") + canonical.encode("ascii")).hexdigest()

- Every column of audit_events except prev_hash and hash is in the record, with the value stored
  in the column: `seq` a JSON integer; `ts`, `actor`, `role`, `origin`, `event_type`, `outcome`
  strings; `batch_id`, `request_id`, `agreement_version` strings or null.
- `details` is the column's TEXT exactly as stored (a JSON document kept as a string), so the
  recomputation never re-serializes it and cannot disagree about number or key formatting.
- Keys are sorted, there is no whitespace, and every non-ASCII character is written as a
  lower-case \\uXXXX escape (surrogate pairs above U+FFFF): the output is pure ASCII.
- `prev_hash` is the previous event's `hash` as 64 lower-case hex characters; the first event's
  prev_hash is GENESIS_HASH (64 zeros). `hash` is lower-case hex.
- `ts` is the UTC time of the append as `datetime.isoformat(timespec="microseconds")`, for
  example "2026-11-25T14:03:07.123456+00:00".

The head of the chain (last seq and hash) is also kept in the one-row table audit_head, written in
the same transaction, so that a removed tail is detected as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

GENESIS_HASH = "0" * 64
HASHED_FIELDS: tuple[str, ...] = (
    "actor", "agreement_version", "batch_id", "details", "event_type", "origin", "outcome",
    "request_id", "role", "seq", "ts",
)
_quote = encode_basestring_ascii
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


#: '"name":' for each hashed field, in sorted order (HASHED_FIELDS is sorted)
_KEYS = tuple(_quote(name) + ":" for name in HASHED_FIELDS)


def canonical_record(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes of an event's hashed fields (see the module's documentation).

    The fields are strings, null and the integer seq, so the object is assembled from json's
    own string escaper (the same C function json.dumps uses, hence the same bytes) instead of
    a full encoder call per event; any other value takes the encoder."""
    parts = []
    for key, name in zip(_KEYS, HASHED_FIELDS, strict=True):
        value = record[name]
        if value is None:
            parts.append(key + "null")
        elif type(value) is str:
            parts.append(key + _quote(value))
        elif type(value) is int:
            parts.append(key + int.__repr__(value))
        else:
            return _encode({name: record[name] for name in HASHED_FIELDS}).encode("ascii")
    return ("{" + ",".join(parts) + "}").encode("ascii")


def chain_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_record(record)).hexdigest()


#: the canonical object with a %s for each hashed field's JSON text, in HASHED_FIELDS order
_TEMPLATE = "{" + ",".join(key + "%s" for key in _KEYS) + "}"


class _Quoted(dict[Any, str]):
    """JSON text of strings (and null), each worked out once."""

    def __missing__(self, value: Any) -> str:
        if type(value) is not str:
            raise TypeError(f"{type(value).__name__} is not a string")
        quoted = self[value] = _quote(value)
        return quoted


class Chainer:
    """chain_hash for the events of one append, in order: the same bytes as canonical_record,
    the JSON text of the values that repeat from event to event (actor, batch, event type,
    outcome, time) worked out once instead of per event. A value that is not a string or null
    (or a seq that is not an integer) takes canonical_record itself."""

    def __init__(self, prev_hash: str) -> None:
        self.prev_hash = prev_hash
        self._quoted = _Quoted({None: "null"})

    def next(self, seq: int, ts: str, actor: str, role: str, origin: str, event_type: str,
             batch_id: str | None, request_id: str | None, outcome: str,
             agreement_version: str | None, details: str) -> str:
        """The hash of the next event (its hashed fields, in the audit_events column order),
        chained to the previous one; it becomes the previous one."""
        q = self._quoted
        try:
            if type(seq) is not int or type(details) is not str or \
                    (request_id is not None and type(request_id) is not str):
                raise TypeError("not the usual types")
            canonical = (_TEMPLATE % (
                q[actor], q[agreement_version], q[batch_id], _quote(details), q[event_type],
                q[origin], q[outcome], "null" if request_id is None else _quote(request_id),
                q[role], int.__repr__(seq), q[ts])).encode("ascii")
        except TypeError:
            canonical = canonical_record({
                "seq": seq, "ts": ts, "actor": actor, "role": role, "origin": origin,
                "event_type": event_type, "batch_id": batch_id, "request_id": request_id,
                "outcome": outcome, "agreement_version": agreement_version, "details": details})
        self.prev_hash = hashlib.sha256(self.prev_hash.encode("ascii") + canonical).hexdigest()
        return self.prev_hash


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not allowed in audit details")


#: json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
#: allow_nan=False, default=_plain), the encoder made once instead of at each call
_details_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                    allow_nan=False, default=_plain).encode


def details_text(details: Mapping[str, Any]) -> str:
    """The stored text of an event's details: sorted keys, compact, UTF-8, no NaN."""
    if not details:
        return "{}"
    return _details_encoder(details)
