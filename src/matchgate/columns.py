"""The stable file contracts (ARCHITECTURE.md). Keep these names; add columns freely."""

from __future__ import annotations

REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id", "first_name", "middle_name", "last_name", "suffix", "date_of_birth", "tin",
    "street", "unit", "city", "state", "zip", "tax_periods", "case_number", "order_date",
    "statutory_authority", "reason",
)
REQUIRED_REQUEST_COLUMNS: tuple[str, ...] = ("request_id", "first_name", "last_name", "street",
                                             "city", "state", "zip")

MANIFEST_FIELDS: tuple[str, ...] = ("agreement_id", "legal_basis", "requesting_official",
                                    "certification")
COURT_ORDER_FIELDS: tuple[str, ...] = ("court", "docket", "order_date")

MASTER_COLUMNS: tuple[str, ...] = (
    "tin", "tin_type", "first_name", "middle_name", "last_name", "suffix", "date_of_birth",
    "street", "unit", "city", "state", "zip", "tax_year",
)

RESPONSE_COLUMNS: tuple[str, ...] = ("request_id", "code", "reason")
DISCLOSED_PREFIX = "disclosed_"

DECISION_COLUMNS: tuple[str, ...] = (
    "request_id", "code", "reason", "matched_tin", "match_probability", "runner_up_probability",
    "agreement_version", "decided_by",
)

# Ground truth written by the generator (never read by the pipeline, only by evaluation).
TRUTH_COLUMNS: tuple[str, ...] = ("request_id", "true_tin", "category", "variation")
# category: "in_master" (a valid request for a taxpayer in the master file),
#           "not_in_master" (a valid request for a person not in it),
#           "invalid" (a request that must be rejected; variation names why).

# Standardized columns, computed by matchgate.standardize for the master file and for requests
# alike, so that the two sides are always comparable. All strings are upper-case ASCII; a missing
# value is None (never an empty string).
STD_NAME_COLUMNS: tuple[str, ...] = (
    "std_first",            # first given name: "JOSE"
    "std_first_canon",      # nickname-resolved key: equal for BILL and WILLIAM
    "std_first_phonetic",   # phonetic key of std_first
    "std_middle",           # middle name(s): "MARIA"
    "std_middle_initial",   # "M"
    "std_last",             # whole surname, particles and hyphens normalized: "GARCIA LOPEZ"
    "std_last_first",       # first surname token (particles skipped): "GARCIA"
    "std_last_second",      # last surname token: "LOPEZ" (same as first when only one)
    "std_last_phonetic",    # phonetic key of std_last_first
    "std_suffix",           # JR, SR, II, III, IV, V or None
    "std_first_metaphone",  # second phonetic key of std_first (Metaphone; NYSIIS above)
    "std_last_metaphone",   # second phonetic key of std_last_first (Metaphone)
    "std_first_related",    # names the nickname graph relates to std_first, space-separated
)
STD_ADDRESS_COLUMNS: tuple[str, ...] = (
    "std_house",            # house number as written after normalization: "123", "123-1/2"
    "std_street",           # full street line without house and unit: "N MAIN ST"
    "std_street_name",      # core street name: "MAIN"
    "std_unit",             # unit identifier without designator: "5B"
    "std_city",             # "SPRINGFIELD"
    "std_state",            # two-letter USPS code
    "std_zip5",             # five digits
    "std_po_box",           # PO box number when the address is a PO box, else None
)
STD_OTHER_COLUMNS: tuple[str, ...] = (
    "std_dob",              # "YYYY-MM-DD" or None
    "std_tin",              # nine digits or None
)
STD_COLUMNS: tuple[str, ...] = STD_NAME_COLUMNS + STD_ADDRESS_COLUMNS + STD_OTHER_COLUMNS
# The standardized columns the master store's taxpayers table keeps beside each taxpayer's latest
# raw record: those a candidate's description and the review pages read (master_history keeps
# them all). Fewer columns make the table a quarter faster to build at 10 million taxpayers.
TAXPAYER_STD_COLUMNS: tuple[str, ...] = (
    "std_first", "std_first_canon", "std_last", "std_suffix", "std_dob", "std_house",
    "std_street_name", "std_unit", "std_zip5",
)
