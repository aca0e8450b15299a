"""The digests that stand for a batch's requests and its response file (audit/digests.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from matchgate.audit.digests import file_digest, request_ids_digest


def test_the_ids_digest_is_sha256_of_their_json_strings_one_per_line() -> None:
    ids = ["R1", 'quote"d', "é-07"]
    text = "".join(json.dumps(rid) + "\n" for rid in ids)
    assert request_ids_digest(ids) == hashlib.sha256(text.encode("ascii")).hexdigest()


def test_no_two_lists_of_ids_share_a_digest_by_their_framing() -> None:
    assert request_ids_digest(["a\nb"]) != request_ids_digest(["a", "b"])
    assert request_ids_digest(["a", "b"]) != request_ids_digest(["b", "a"])
    assert request_ids_digest([]) == hashlib.sha256(b"").hexdigest()


def test_the_file_digest_reads_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    data = b"request_id,code\n" + b"R1,NO_MATCH\n" * 300_000  # several read blocks
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()
