"""The benchmark's segments, read from the master store and the truth file.

Taxpayer segments (a request belongs to one when its true taxpayer does, and a disclosure when
the taxpayer it names does):
- itin: the taxpayer files with an ITIN;
- compound_surname: the surname has two parts (GARCIA LOPEZ, GARCIA-LOPEZ);
- mover: the taxpayer's history holds more than one address, or the request gives an address
  the custodian never saw;
- family: another taxpayer at the same last known address has the same surname and either the
  same given-name key (a JR and a SR, a namesake) or the same date of birth (twins); requests
  about relatives who are not in the master file (a junior, a household member) count too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

SEGMENTS = ("itin", "compound_surname", "mover", "family")
_RELATIVE_KINDS = ("junior", "same_household")
_MOVER_TOKENS = ("address_unknown", "older_address")

_SQL = {
    "itin": "SELECT tin FROM s.taxpayers WHERE tin_type = 'ITIN'",
    "compound_surname": """SELECT t.tin FROM s.taxpayers t
                           JOIN s.master_history h ON h.row_id = t.last_row_id
                           WHERE h.std_last_first <> h.std_last_second""",
    "mover": """SELECT tin FROM s.master_history GROUP BY tin
                HAVING count(DISTINCT concat_ws('|', std_house, std_street_name, std_zip5)) > 1""",
    "family": """
        WITH t AS (SELECT tin, std_last, std_first_canon, std_dob,
                          concat_ws('|', std_house, std_street_name, std_unit, std_zip5) AS hh
                   FROM s.taxpayers)
        SELECT DISTINCT a.tin FROM t a JOIN t b
          ON a.hh = b.hh AND a.std_last = b.std_last AND a.tin <> b.tin
         AND (a.std_first_canon = b.std_first_canon OR a.std_dob = b.std_dob)""",
}


def segment_tins(store_path: Path) -> dict[str, frozenset[str]]:
    con = duckdb.connect()
    try:
        con.sql(f"ATTACH '{store_path}' AS s (READ_ONLY)")
        return {name: frozenset(r[0] for r in con.sql(sql).fetchall())
                for name, sql in _SQL.items()}
    finally:
        con.close()


def request_in_segment(segment: str, truth: Mapping[str, str | None],
                       tins: frozenset[str]) -> bool:
    """Whether the request (its truth row) belongs to the segment through its true person."""
    tokens = (truth.get("variation") or "").split(";")
    if segment == "mover" and any(t in tokens for t in _MOVER_TOKENS):
        return True
    if segment == "family" and any(t in tokens for t in _RELATIVE_KINDS):
        return True
    return (truth.get("true_tin") or "") in tins
