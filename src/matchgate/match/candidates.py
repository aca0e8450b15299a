"""From Splink's scored pairs to candidates: the best master-history row per (request, TIN),
the evidence behind it, and the taxpayer's last known address."""

from __future__ import annotations

from matchgate.match.inputs import MASTER_PREFIX, STORE_ALIAS
from matchgate.match.settings import MASTER_DATASET

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "request_id", "tin", "tin_type", "match_probability", "match_weight", "evidence",
    "last_street", "last_unit", "last_city", "last_state", "last_zip",
    "std_first", "std_first_canon", "std_last", "std_suffix", "std_dob", "household_key",
    "address_is_last_known", "matched_history_year",
)

# The lowest gamma level of a comparison that corroborates a match beyond the name (levels as
# defined in match/settings.py; a test checks them against the shipped model):
# address: house number, street name and ZIP5 equal on some year of the taxpayer's history;
# dob: exact, day and month swapped, or one keystroke off; tin: exact.
CORROBORATING_LEVELS: dict[str, int] = {"address": 3, "dob": 4, "tin": 2}
# dob: the exact level, whose weight is adjusted for how common the date is in the master file.
# Dates of birth heap: the first of January or a placeholder for people who do not know theirs,
# a clamp of some upstream system. A date that at least one record in about a thousand carries
# (weight below this, some 25 times the share of an ordinary date) is heaped: it still tells a
# taxpayer from a relative at the same address, not from a namesake elsewhere (decide.py).
DOB_EXACT_LEVEL = 6
HEAPED_DOB_WEIGHT = 10.0
# first_name: 1 is "initial only matches", 0 "agrees in no way"; last_name: 0 is "agrees in no
# way"; middle_name: 1 is "full middle names differ, same initial", 0 "initials differ".
FIRST_NAME_INITIAL_ONLY = 1
# middle_name: the lowest level at which the middle names (or initials) agree; below it, both
# sides carry one and they differ.
MIDDLE_AGREES_LEVEL = 2
# middle_name: full middle names equal (not only the initials).
MIDDLE_FULL_LEVEL = 3
# A firm name, which an address-only match needs (decide.py): the given name exact (7), the
# same nickname key (6), related in the nickname graph (5) or a close misspelling (4), not a
# loose one (3) nor the other's middle name (2); the surname exact (4), a shared part of a
# compound surname (3) or a misspelling (2), not only a phonetic key (1).
FIRM_FIRST_NAME_LEVELS = frozenset({4, 5, 6, 7})
FIRM_LAST_NAME_LEVELS = frozenset({2, 3, 4})


def _evidence_sql(comparisons: list[str], as_struct: bool = False) -> str:
    """The evidence of a candidate: JSON text, or (as_struct, DuckDB) the same values as a
    struct of match_weights (DOUBLE) and gamma (INTEGER), which with_parsed_evidence would
    otherwise parse the text into (a bulk chunk's hundreds of thousands of candidates)."""
    if as_struct:
        weights = ", ".join(f"'{c}': round(b.mw_{c}, 4)::DOUBLE" for c in comparisons)
        gammas = ", ".join(f"'{c}': b.gamma_{c}::INTEGER" for c in comparisons)
        return f"{{'match_weights': {{{weights}}}, 'gamma': {{{gammas}}}}}"
    weights = ", ".join(f"'{c}', round(b.mw_{c}, 4)" for c in comparisons)
    gammas = ", ".join(f"'{c}', b.gamma_{c}" for c in comparisons)
    return (f"CAST(json_object('match_weights', json_object({weights}), "
            f"'gamma', json_object({gammas})) AS VARCHAR)")


def _weight_sql(comparison: str, with_tf: bool) -> str:
    tf = f" + coalesce(mw_tf_adj_{comparison}, 0)" if with_tf else ""
    return f"mw_{comparison}{tf} AS mw_{comparison}, gamma_{comparison}"


def candidates_sql(predictions: str, requests: str, comparisons: list[str],
                   tf_comparisons: frozenset[str] = frozenset(),
                   history: str = f"{STORE_ALIAS}.master_history",
                   taxpayers: str = f"{STORE_ALIAS}.taxpayers",
                   evidence_struct: bool = False, ordered: bool = True) -> str:
    """SQL over the predictions table and the registered requests (unique_id + std_*).

    The evidence holds, per comparison, its match weight (term-frequency adjustment included)
    and its gamma level for the best history row: JSON text, or a struct with
    `evidence_struct` (DuckDB only). The rows come by request, best first, unless `ordered`
    is False (a bulk chunk: deciding ranks each request's candidates itself, and sorting a
    million rows costs half a second). `history`: a table with the master rows'
    row_id, tin and tax_year (the store's master history, or the part of it the requests
    reach); `taxpayers`: the taxpayers table (or the part of it the candidates name)."""
    ctes, best = _best_parts(predictions, comparisons, tf_comparisons, history,
                             evidence_struct)
    return (f"WITH {ctes}, found AS ({best})"
            f"{described_sql('found', requests, taxpayers, ordered=ordered)}")


def _best_parts(predictions: str, comparisons: list[str], tf_comparisons: frozenset[str],
                history: str, evidence_struct: bool) -> tuple[str, str]:
    """candidates_sql's common table expressions and its best rows' SELECT."""
    side = f"source_dataset_l = '{MASTER_DATASET}'"
    pair_cols = weighted_columns_sql(comparisons, tf_comparisons)
    ctes = f"""pairs AS (
    SELECT CASE WHEN {side} THEN unique_id_l ELSE unique_id_r END AS master_uid,
           CASE WHEN {side} THEN unique_id_r ELSE unique_id_l END AS request_id,
           match_probability, match_weight, {pair_cols}
    FROM {predictions}
), rows AS (
    SELECT p.*, h.tin, h.tax_year
    FROM pairs p JOIN {history} h
      ON h.row_id = CAST(substr(p.master_uid, {len(MASTER_PREFIX) + 1}) AS BIGINT)
)"""
    return ctes, best_of_rows_sql("rows", comparisons, evidence_struct)


def best_of_rows_sql(rows: str, comparisons: list[str], evidence_struct: bool) -> str:
    """Per request and TIN, the best row of `rows` (scored pairs with request_id, tin, tax_year,
    match_probability, match_weight, and per comparison mw_<name>, its weight with any
    term-frequency adjustment, and gamma_<name>): request_id, tin, scores, evidence and
    tax year (matched_history_year)."""
    return f"""SELECT b.request_id, b.tin, b.match_probability, b.match_weight,
       {_evidence_sql(comparisons, evidence_struct)} AS evidence,
       b.tax_year AS matched_history_year
FROM {rows} b
QUALIFY row_number() OVER (PARTITION BY b.request_id, b.tin
                           ORDER BY b.match_weight DESC, b.tax_year DESC) = 1"""


def weighted_columns_sql(comparisons: list[str], tf_comparisons: frozenset[str]) -> str:
    """Per comparison, mw_<name> (its weight with any term-frequency adjustment) and
    gamma_<name>, from a scorer's mw_, mw_tf_adj_ and gamma_ columns."""
    return ", ".join(_weight_sql(c, c in tf_comparisons) for c in comparisons)


def described_sql(best: str, requests: str, taxpayers: str, *, ordered: bool = True) -> str:
    """The candidates (CANDIDATE_COLUMNS) from their best rows (best_rows_sql's columns), with
    their taxpayer's columns and whether the request's address is the last known one."""
    return f"""
SELECT b.request_id, b.tin, t.tin_type, b.match_probability, b.match_weight, b.evidence,
       t.last_street, t.last_unit, t.last_city, t.last_state, t.last_zip,
       t.std_first, t.std_first_canon, t.std_last, t.std_suffix, t.std_dob,
       concat_ws(' ', t.std_house, t.std_street_name, t.std_unit, t.std_zip5) AS household_key,
       coalesce(r.std_house = t.std_house AND r.std_street_name = t.std_street_name
                AND r.std_zip5 = t.std_zip5
                AND (r.std_unit IS NULL OR t.std_unit IS NULL OR r.std_unit = t.std_unit),
                FALSE) AS address_is_last_known,
       b.matched_history_year
FROM {best} b
JOIN {taxpayers} t ON t.tin = b.tin
JOIN {requests} r ON r.unique_id = b.request_id
{"ORDER BY b.request_id, b.match_weight DESC, b.tin" if ordered else ""}
"""


def corroborating(gamma: dict[str, int]) -> frozenset[str]:
    """The fields beyond the name that corroborate a match, from a candidate's gamma levels."""
    return frozenset(name for name, level in CORROBORATING_LEVELS.items()
                     if gamma.get(name, -1) >= level)


def dob_heaped(gamma: dict[str, int], weights: dict[str, float]) -> bool:
    """Whether the dates of birth agree exactly on a heaped date."""
    return (gamma.get("dob") == DOB_EXACT_LEVEL
            and weights.get("dob", HEAPED_DOB_WEIGHT) < HEAPED_DOB_WEIGHT)
