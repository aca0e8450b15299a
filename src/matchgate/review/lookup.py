"""The candidate a reviewer sees: the taxpayer's record as the master store holds it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matchgate.master.store import open_master
from matchgate.standardize import standardize_record

CANDIDATE_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth",
                    "last_street", "last_unit", "last_city", "last_state", "last_zip",
                    "std_house", "std_street_name", "std_unit", "std_zip5")
ADDRESS_KEYS = ("std_house", "std_street_name", "std_zip5")


def taxpayer(master_path: Path, tin: str) -> dict[str, Any] | None:
    """The taxpayer's latest record (name, date of birth, last known address), or None."""
    with open_master(master_path) as master:
        cur = master.cursor()
        rows = cur.execute(f"SELECT {', '.join(CANDIDATE_FIELDS)} FROM taxpayers WHERE tin = ?",
                           [tin]).fetchall()
        cur.close()
    if not rows:
        return None
    return dict(zip(CANDIDATE_FIELDS, rows[0], strict=True))


def taxpayers(master_path: Path, tins: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest records of several taxpayers by TIN (those the master store holds)."""
    if not tins:
        return {}
    marks = ", ".join("?" for _ in tins)
    with open_master(master_path) as master:
        cur = master.cursor()
        rows = cur.execute(f"SELECT tin, {', '.join(CANDIDATE_FIELDS)} FROM taxpayers "
                           f"WHERE tin IN ({marks})", list(tins)).fetchall()
        cur.close()
    return {row[0]: dict(zip(CANDIDATE_FIELDS, row[1:], strict=True)) for row in rows}


def address_is_last_known(request: Mapping[str, str | None],
                          candidate: Mapping[str, Any]) -> bool:
    """The request's address is the candidate's last known one: house number, street name and
    ZIP5 agree, and the units agree where both have one (as the match engine compares them)."""
    std = standardize_record(dict(request))
    if any(not std.get(k) or std.get(k) != candidate.get(k) for k in ADDRESS_KEYS):
        return False
    unit, other = std.get("std_unit"), candidate.get("std_unit")
    return unit is None or other is None or unit == other
