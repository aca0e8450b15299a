"""Batch rules: duplicates and the agreement's volume limits."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from matchgate.agreement import Agreement
from matchgate.gate.rejection import Rejection
from matchgate.standardize import standardize_dob, standardize_record

if TYPE_CHECKING:
    from matchgate.intake import Manifest, RequestRow


def dedupe_key(fields: Mapping[str, str | None]) -> str:
    """The same person at the same address asked about again: standardized name, date of
    birth and address, hashed so that the key itself discloses nothing."""
    std = standardize_record(fields)
    parts = [std.get(c) or "" for c in ("std_first_canon", "std_last", "std_suffix", "std_house",
                                        "std_street_name", "std_unit", "std_zip5")]
    parts.append(standardize_dob(fields.get("date_of_birth")) or "")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def check_batch(requests: Sequence[RequestRow], manifest: Manifest, agreement: Agreement,
                prior_keys: Mapping[str, tuple[str, str]], keys: Mapping[str, str] | None = None
                ) -> dict[str, Rejection]:
    """Rejections for duplicates and for requests beyond the volume limits.

    `requests` are those that passed the per-request rules, in file order; the first of several
    identical requests goes ahead. `prior_keys` maps keys answered in earlier batches under the
    same agreement to (batch_id, request_id); `keys` may carry precomputed dedupe keys.
    """
    out: dict[str, Rejection] = {}
    first_seen: dict[str, str] = {}
    accepted = 0
    limit = min(agreement.limits.max_batch_size, agreement.limits.max_requests_per_official)
    for r in requests:
        key = keys[r.request_id] if keys else dedupe_key(r.fields)
        if key in prior_keys:
            batch_id, request_id = prior_keys[key]
            out[r.request_id] = Rejection("duplicate_earlier", None,
                                          f"already answered as request {request_id} of batch "
                                          f"{batch_id}")
        elif key in first_seen:
            out[r.request_id] = Rejection("duplicate_in_batch", None,
                                          f"same request as {first_seen[key]} in this batch")
        elif accepted >= limit:
            reason = ("batch_limit" if limit == agreement.limits.max_batch_size
                      else "official_limit")
            out[r.request_id] = Rejection(reason, None, f"beyond the limit of {limit:,} "
                                          "requests the agreement allows")
        else:
            first_seen[key] = r.request_id
            accepted += 1
    return out
