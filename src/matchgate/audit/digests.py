"""Digests that let one batch-level audit event stand for every request of a batch.

A batch's receipt is one `batch.received` event, and its answer one `batch.completed` event,
rather than an event per request (two of a request's five events: at 1.28 million requests,
some 2.5 million rows of log and a tenth of the batch's time). What they stand for stays
provable from the hash-chained log:

- `batch.received` names the number of requests and `requests_sha256`, the digest of their
  request_ids in row order (`request_ids_digest`): the requests table of the batch must give the
  same digest, so a request added to it, removed from it or renamed afterwards is detected
  (`matchgate audit consistency`, audit/consistency.py);
- `batch.completed` names the number of responses and `responses_sha256`, the SHA-256 of the
  response file as written (`file_digest`): whoever holds the file the requester received can
  prove it is the one recorded, byte for byte. A response file written again for a done batch
  is one `batch.responses_rewritten` event with its own digest.

Each request keeps its own events where they say something about it alone: its verdict, one
event (`request.gated` with outcome failure for a request the gate rejected, or
`request.decided`, naming "gate": "passed" and the decision, for one it let through), and each
disclosure (`disclosure`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii as _json_string
from pathlib import Path

BLOCK = 1 << 20


def request_ids_digest(request_ids: Iterable[str]) -> str:
    """SHA-256 (hex) of the request_ids in row order, one per line, each as a JSON string
    (ASCII, as json.dumps writes it: a newline or a quote inside an id is escaped, so no two
    lists of ids give the same text)."""
    return hashlib.sha256("".join(f"{_json_string(rid)}\n" for rid in request_ids)
                          .encode("ascii")).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
