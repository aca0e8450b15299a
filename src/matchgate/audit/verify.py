"""Verifying the chain: pure logic over the stored rows, with no database in sight.

Each event is checked in sequence order for, in this order:
1. its place: seq must follow the previous one ("event 57 is missing (gap between 56 and 58)");
2. its content: the hash recomputed from its fields and prev_hash must equal its stored hash; if
   it does not, but would with another seq, the event was moved ("events out of order at 90"),
   otherwise it was changed ("event 1234 was altered");
3. its link: prev_hash must be the previous event's hash ("hash chain broken at seq N"), which
   catches a forged event that hashes correctly on its own.
Finally the last event must agree with the chain head (audit_head), which catches a removed tail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from matchgate.audit.canonical import GENESIS_HASH, chain_hash
from matchgate.errors import AuditChainBroken


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def summary(self) -> str:
        if self.ok:
            return f"{self.events} events, chain intact"
        return f"{self.events} events, chain broken: {self.problem}"

    def raise_if_broken(self) -> None:
        if not self.ok:
            raise AuditChainBroken(f"audit chain broken: {self.problem}",
                                   hint=f"first bad sequence number: {self.first_bad_seq}")


@dataclass(frozen=True)
class Head:
    last_seq: int
    last_hash: str


def _missing(first: int, last: int, context: str) -> str:
    if first == last:
        return f"event {first} is missing ({context})"
    return f"events {first} to {last} are missing ({context})"


def original_seq(row: Mapping[str, Any], limit: int) -> int | None:
    """The seq under which this row's content was hashed, if it is another one in 1..limit."""
    for seq in range(1, limit + 1):
        if seq != row["seq"] and chain_hash(row["prev_hash"], {**row, "seq": seq}) == row["hash"]:
            return seq
    return None


def _content_problem(row: Mapping[str, Any], limit: int) -> str:
    seq = row["seq"]
    if original_seq(row, limit) is not None:
        return f"events out of order at {seq}"
    return f"event {seq} was altered"


def _tail_problem(last_seq: int, last_hash: str, head: Head | None) -> tuple[int, str] | None:
    if head is None:
        return last_seq, "the chain head is missing"
    if head.last_seq > last_seq:
        return last_seq + 1, _missing(last_seq + 1, head.last_seq,
                                      f"the log ends at {last_seq}, the head records "
                                      f"{head.last_seq}")
    if head.last_seq < last_seq:
        return head.last_seq + 1, (f"events after {head.last_seq} are not in the chain head "
                                   f"(the log ends at {last_seq})")
    if head.last_hash != last_hash:
        return last_seq, f"the chain head does not match event {last_seq}"
    return None


def check_chain(rows: Iterable[Mapping[str, Any]], *, events: int,
                head: Head | None) -> ChainReport:
    """Check rows given in ascending seq order against each other and the head."""
    limit = max(events, head.last_seq if head else 0) + 1
    expected, prev_hash = 1, GENESIS_HASH
    for row in rows:
        seq = row["seq"]
        if seq != expected:
            where = f"gap between {expected - 1} and {seq}" if expected > 1 else \
                f"the log starts at {seq}"
            return ChainReport(False, events, expected, _missing(expected, seq - 1, where))
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            return ChainReport(False, events, seq, _content_problem(row, limit))
        if row["prev_hash"] != prev_hash:
            return ChainReport(False, events, seq, f"hash chain broken at seq {seq}")
        expected, prev_hash = seq + 1, row["hash"]
    tail = _tail_problem(expected - 1, prev_hash, head)
    if tail is not None:
        return ChainReport(False, events, tail[0], tail[1])
    return ChainReport(True, events)
