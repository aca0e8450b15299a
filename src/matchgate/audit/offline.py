"""Verifying an audit export with nothing but the file and the custodian's public key.

1. The hash chain is recomputed from the events' fields (matchgate.audit.canonical), and the
   export's events are checked in order against it (matchgate.audit.verify names the first gap,
   altered, moved or forged event, and a missing tail against the exported head).
2. The Merkle leaves are the recomputed chain hashes from the genesis hash on (not the hashes
   written in the file), so that whatever was altered, removed, inserted or reordered changes
   every root from that event on.
3. Every checkpoint's signature is checked with the public key; its tree must not be larger than
   the exported log (else the log was truncated), and its root must equal the root recomputed
   over the first tree_size events.
4. Each checkpoint must extend the one before: a consistency proof between the two is built from
   the export and verified against the two signed roots (RFC 9162 section 2.1.4).
5. Given an event's seq, its inclusion proof in the latest checkpoint covering it is built and
   verified against that checkpoint's signed root.

Every failure is listed, not just the first.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from matchgate.audit.canonical import GENESIS_HASH, HASHED_FIELDS, chain_hash
from matchgate.audit.verify import Head, check_chain
from matchgate.errors import AuditChainBroken, InputError
from matchgate.transparency import (
    Checkpoint,
    CompactRange,
    VerificationError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)

EVENT_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")


@dataclass
class Export:
    header: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inclusion:
    seq: int
    tree_size: int
    checkpoint_id: Any
    proof: tuple[bytes, ...]


@dataclass
class ExportReport:
    events: int = 0
    checkpoints: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    latest: Checkpoint | None = None
    inclusion: Inclusion | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [f"{self.events} events, {self.checkpoints} checkpoints"]
        lines += [f"ok: {c}" for c in self.checked]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"FAILED: {f}" for f in self.failures]
        lines.append("export verifies" if self.ok else
                     f"export does NOT verify: {len(self.failures)} failure(s)")
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if self.failures:
            raise AuditChainBroken(f"the audit export does not verify: {self.failures[0]}",
                                   hint=f"{len(self.failures)} failure(s) listed above")


def _classify(export: Export, number: int, record: Any) -> None:
    kind = record.get("type") if isinstance(record, dict) else None
    if kind == "header" and number == 1:
        export.header = record
    elif kind == "event":
        missing = [f for f in EVENT_FIELDS if f not in record]
        if missing:
            export.problems.append(f"line {number}: event lacks {', '.join(missing)}")
        else:
            export.events.append(record)
    elif kind == "checkpoint" and isinstance(record.get("note"), str):
        export.checkpoints.append(record)
    else:
        export.problems.append(f"line {number}: not a header, event or checkpoint record")


def read_export(path: Path) -> Export:
    """Parse an export; malformed lines are listed as problems, not raised."""
    export = Export()
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    record = json.loads(line)
                except ValueError:
                    export.problems.append(f"line {number}: not JSON")
                    continue
                _classify(export, number, record)
    except FileNotFoundError:
        raise InputError(f"{path}: audit export not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the audit export: {exc}") from None
    if not export.header:
        export.problems.append("line 1: the export has no header")
    return export


def recomputed_leaves(events: list[dict[str, Any]]) -> list[bytes]:
    """Leaf hashes from the chain recomputed from the genesis hash over the events in order."""
    leaves, prev = [], GENESIS_HASH
    for row in events:
        prev = chain_hash(prev, row)
        leaves.append(leaf_hash(bytes.fromhex(prev)))
    return leaves


def _header_head(header: Mapping[str, Any]) -> Head | None:
    head = header.get("head")
    if isinstance(head, dict) and isinstance(head.get("last_seq"), int):
        return Head(head["last_seq"], str(head.get("last_hash")))
    return None


def _check_chain(export: Export, report: ExportReport) -> None:
    events = export.events
    if isinstance(export.header.get("events"), int) and export.header["events"] != len(events):
        report.failures.append(f"the header announces {export.header['events']} events, the "
                               f"export holds {len(events)}")
    for before, after in itertools.pairwise(events):
        if isinstance(before["seq"], int) and isinstance(after["seq"], int) and \
                after["seq"] < before["seq"]:
            report.failures.append(f"events out of order in the export: seq {before['seq']} "
                                   f"is listed before seq {after['seq']}")
            break
    chain = check_chain(events, events=len(events), head=_header_head(export.header))
    if chain.ok:
        report.checked.append(f"hash chain of {len(events)} events recomputed, intact")
    else:
        report.failures.append(f"hash chain: {chain.problem}")


def _open_checkpoints(export: Export, key: Ed25519PublicKey,
                      report: ExportReport) -> list[tuple[str, Checkpoint]]:
    origin = export.header.get("origin")
    opened = []
    for record in export.checkpoints:
        label = f"checkpoint {record.get('id')} ({record.get('reason', '')})"
        try:
            cp = verify_checkpoint(record["note"], key,
                                   origin=origin if isinstance(origin, str) else None)
        except VerificationError as exc:
            report.failures.append(f"{label}: signature does not verify: {exc.message}")
            continue
        if cp.tree_size != record.get("tree_size") or cp.root.hex() != record.get("root"):
            report.failures.append(f"{label}: its tree_size/root fields disagree with its "
                                   "signed note")
        opened.append((label, cp))
    return opened


def _check_roots(opened: list[tuple[str, Checkpoint]], leaves: list[bytes],
                 report: ExportReport) -> None:
    roots: dict[int, bytes] = {}
    tree = CompactRange()
    for size in sorted({cp.tree_size for _, cp in opened if cp.tree_size <= len(leaves)}):
        tree.extend(leaves[tree.size:size])
        roots[size] = tree.root()
    good = 0
    for label, cp in opened:
        if cp.tree_size > len(leaves):
            report.failures.append(f"{label} covers {cp.tree_size} events but the export holds "
                                   f"only {len(leaves)}: the log was truncated or events removed")
        elif roots[cp.tree_size] != cp.root:
            report.failures.append(
                f"{label}: the root of events 1..{cp.tree_size} recomputed from the export "
                f"differs from the signed root: an event up to seq {cp.tree_size} was altered, "
                "removed, inserted or reordered")
        else:
            good += 1
    if opened and good == len(opened):
        report.checked.append(f"{good} checkpoint signature(s) and Merkle root(s) verified")


def _check_consistency(opened: list[tuple[str, Checkpoint]], leaves: list[bytes],
                       report: ExportReport) -> None:
    proven = 0
    for (old_label, old), (new_label, new) in itertools.pairwise(opened):
        if new.tree_size < old.tree_size:
            report.failures.append(f"{new_label} covers {new.tree_size} events, fewer than the "
                                   f"earlier {old_label} ({old.tree_size}): the log was rolled "
                                   "back")
            continue
        if new.tree_size > len(leaves):
            continue
        proof = consistency_proof(leaves, old.tree_size, new.tree_size)
        try:
            verify_consistency(old.tree_size, new.tree_size, old.root, new.root, proof)
        except VerificationError as exc:
            report.failures.append(f"{new_label} does not extend {old_label}: {exc.message}")
            continue
        proven += 1
    if proven:
        report.checked.append(f"{proven} consistency proof(s) between successive checkpoints "
                              "verified")


def _check_inclusion(seq: int, opened: list[tuple[str, Checkpoint]], leaves: list[bytes],
                     report: ExportReport) -> None:
    if not 1 <= seq <= len(leaves):
        report.failures.append(f"event {seq} is not in the export (1..{len(leaves)})")
        return
    covering = [(label, cp) for label, cp in opened
                if seq <= cp.tree_size <= len(leaves)]
    if not covering:
        report.failures.append(f"event {seq}: no verified checkpoint covers it yet")
        return
    label, cp = max(covering, key=lambda item: item[1].tree_size)
    proof = inclusion_proof(leaves, seq - 1, cp.tree_size)
    try:
        verify_inclusion(leaves[seq - 1], seq - 1, cp.tree_size, proof, cp.root)
    except VerificationError as exc:
        report.failures.append(f"event {seq} is not proven included in {label}: {exc.message}")
        return
    report.inclusion = Inclusion(seq, cp.tree_size, label, tuple(proof))
    report.checked.append(f"event {seq} is included in {label} (tree of {cp.tree_size}; "
                          f"inclusion proof of {len(proof)} hashes verified)")


def verify_export(path: Path, public_key: Ed25519PublicKey, *,
                  event_seq: int | None = None) -> ExportReport:
    """Verify an audit export; the report lists what was checked and every failure."""
    return verify_records(read_export(path), public_key, event_seq=event_seq)


def verify_records(export: Export, public_key: Ed25519PublicKey, *,
                   event_seq: int | None = None) -> ExportReport:
    """Verify events and checkpoints however they were read (a file, or the store itself)."""
    report = ExportReport(events=len(export.events), checkpoints=len(export.checkpoints),
                          failures=list(export.problems))
    _check_chain(export, report)
    leaves = recomputed_leaves(export.events)
    opened = _open_checkpoints(export, public_key, report)
    if not opened:
        report.failures.append("the export holds no checkpoint that verifies: nothing in it is "
                               "signed by the custodian")
    _check_roots(opened, leaves, report)
    _check_consistency(opened, leaves, report)
    if opened:
        report.latest = max((cp for _, cp in opened), key=lambda cp: cp.tree_size)
        uncovered = len(leaves) - report.latest.tree_size
        if uncovered > 0:
            report.warnings.append(f"the last {uncovered} event(s) are not covered by a signed "
                                   "checkpoint")
    if event_seq is not None:
        _check_inclusion(event_seq, opened, leaves, report)
    return report
