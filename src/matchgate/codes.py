"""Response codes and rejection reasons. Published codes and reasons are stable: add, never
rename."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    VERIFIED = "VERIFIED"
    ADDRESS_DIFFERS = "ADDRESS_DIFFERS"
    NO_MATCH = "NO_MATCH"
    AMBIGUOUS = "AMBIGUOUS"
    PENDING_REVIEW = "PENDING_REVIEW"
    DENIED = "DENIED"
    REJECTED_INSUFFICIENT = "REJECTED_INSUFFICIENT"
    REJECTED_ADDRESS = "REJECTED_ADDRESS"
    REJECTED_LIMIT = "REJECTED_LIMIT"
    DUPLICATE = "DUPLICATE"


DISCLOSING_CODES = frozenset({Code.VERIFIED, Code.ADDRESS_DIFFERS})
REJECTION_CODES = frozenset({Code.REJECTED_INSUFFICIENT, Code.REJECTED_ADDRESS,
                             Code.REJECTED_LIMIT, Code.DUPLICATE})

# reason -> (code it leads to, sentence for people). The reason is the machine-readable key.
REASONS: dict[str, tuple[Code, str]] = {
    # intake: the row itself is malformed
    "row_malformed": (Code.REJECTED_INSUFFICIENT, "the row could not be read"),
    "field_too_long": (Code.REJECTED_INSUFFICIENT, "a field is longer than allowed"),
    "missing_request_id": (Code.REJECTED_INSUFFICIENT, "the request has no request_id"),
    "field_control_character": (Code.REJECTED_INSUFFICIENT,
                                "a field holds a control character (such as NUL)"),
    "name_not_latin": (Code.REJECTED_INSUFFICIENT,
                       "a name holds a letter of another script than Latin (a look-alike)"),
    # legal elements
    "missing_first_name": (Code.REJECTED_INSUFFICIENT, "the taxpayer's first name is missing"),
    "missing_last_name": (Code.REJECTED_INSUFFICIENT, "the taxpayer's last name is missing"),
    "invalid_name": (Code.REJECTED_INSUFFICIENT, "the name is not a plausible personal name"),
    "missing_tax_periods": (Code.REJECTED_INSUFFICIENT,
                            "the taxable period(s) are missing (6103(i)(2)(B)(ii))"),
    "invalid_tax_periods": (Code.REJECTED_INSUFFICIENT,
                            "the taxable period(s) are not valid tax years"),
    "missing_statutory_authority": (Code.REJECTED_INSUFFICIENT,
                                    "the statutory authority is missing (6103(i)(2)(B)(iii))"),
    "statutory_authority_not_allowed": (Code.REJECTED_INSUFFICIENT,
                                        "the statutory authority is not one the agreement allows"),
    "missing_reason": (Code.REJECTED_INSUFFICIENT,
                       "the specific reason for the request is missing (6103(i)(2)(B)(iv))"),
    "reason_too_vague": (Code.REJECTED_INSUFFICIENT,
                         "the stated reason is a placeholder, not a specific reason"),
    "missing_case_number": (Code.REJECTED_INSUFFICIENT,
                            "the case number of the final removal order is missing"),
    "invalid_case_number": (Code.REJECTED_INSUFFICIENT, "the case number is not well formed"),
    "missing_order_date": (Code.REJECTED_INSUFFICIENT, "the date of the final order is missing"),
    "invalid_order_date": (Code.REJECTED_INSUFFICIENT,
                           "the order date is not a valid past date"),
    "invalid_date_of_birth": (Code.REJECTED_INSUFFICIENT, "the date of birth is not a valid date"),
    "invalid_tin": (Code.REJECTED_INSUFFICIENT, "the TIN is not a valid SSN or ITIN"),
    "manifest_incomplete": (Code.REJECTED_INSUFFICIENT,
                            "the batch manifest lacks an element the legal basis requires"),
    "certification_missing": (Code.REJECTED_INSUFFICIENT,
                              "the batch lacks the certification the agreement requires"),
    "legal_basis_not_in_agreement": (Code.REJECTED_INSUFFICIENT,
                                     "the legal basis is not one the agreement allows"),
    "manifest_agreement_mismatch": (Code.REJECTED_INSUFFICIENT,
                                    "the manifest names a different agreement"),
    "agreement_not_in_force": (Code.REJECTED_INSUFFICIENT,
                               "the agreement is not in force on the date of the request"),
    "safeguards_lapsed": (Code.REJECTED_INSUFFICIENT,
                          "the recipient's safeguard status is not current: disclosures suspended"),
    # the address gate
    "address_missing": (Code.REJECTED_ADDRESS, "the address is missing"),
    "address_placeholder": (Code.REJECTED_ADDRESS,
                            "the address is placeholder text, not an address"),
    "address_unparseable": (Code.REJECTED_ADDRESS, "the address could not be parsed"),
    "address_no_house_number": (Code.REJECTED_ADDRESS, "the address has no house number"),
    "address_no_street": (Code.REJECTED_ADDRESS, "the address has no street name"),
    "address_po_box": (Code.REJECTED_ADDRESS,
                       "a PO box is not a residential address the agreement accepts"),
    "zip_invalid": (Code.REJECTED_ADDRESS, "the ZIP code is not a real ZIP code"),
    "zip_state_mismatch": (Code.REJECTED_ADDRESS, "the ZIP code does not belong to the state"),
    "state_invalid": (Code.REJECTED_ADDRESS, "the state is not a US state or territory"),
    "city_missing": (Code.REJECTED_ADDRESS, "the city is missing"),
    "address_facility": (Code.REJECTED_ADDRESS,
                         "the address names a facility (jail, detention or correctional centre) "
                         "without a street address"),
    "zip_unique": (Code.REJECTED_ADDRESS,
                   "the ZIP code belongs to a single organisation, not to residences"),
    "zip_po_box_only": (Code.REJECTED_ADDRESS,
                        "the ZIP code serves PO boxes only, not street addresses"),
    # limits and duplicates
    "batch_limit": (Code.REJECTED_LIMIT, "the batch exceeds the agreement's batch size limit"),
    "official_limit": (Code.REJECTED_LIMIT,
                       "the certifying official exceeds the agreement's volume limit"),
    "duplicate_in_batch": (Code.DUPLICATE, "the same request appears earlier in this batch"),
    "duplicate_request_id": (Code.DUPLICATE, "the request_id was already used in this batch"),
    "duplicate_earlier": (Code.DUPLICATE,
                          "the same request was already answered under this agreement"),
    # matching outcomes
    "match_single": (Code.VERIFIED, "one taxpayer matches and the address is the last known"),
    "match_address_differs": (Code.ADDRESS_DIFFERS,
                              "one taxpayer matches; the last known address differs"),
    "no_candidate": (Code.NO_MATCH, "no taxpayer matches"),
    "below_threshold": (Code.NO_MATCH, "no taxpayer matches closely enough"),
    "runner_up_close": (Code.AMBIGUOUS, "more than one taxpayer could match"),
    "household_conflict": (Code.AMBIGUOUS,
                           "household members share the name and address; the request "
                           "cannot tell them apart"),
    "review_band": (Code.PENDING_REVIEW, "the match is uncertain and waits for custodian review"),
    "name_only": (Code.PENDING_REVIEW,
                  "the best candidate agrees on the name alone; a person must review it"),
    "name_partial": (Code.PENDING_REVIEW,
                     "the name agrees only in part; a person must review the match"),
    "one_identifier": (Code.PENDING_REVIEW,
                       "only one identifier besides the name agrees (an address a household "
                       "shares, or a date of birth a namesake can share); a person must review "
                       "it"),
    "review_denied": (Code.DENIED, "custodian staff refused the match after review"),
    "review_approved": (Code.VERIFIED, "custodian staff confirmed the match after review"),
    "review_approved_address_differs": (Code.ADDRESS_DIFFERS,
                                         "custodian staff confirmed the match after review; "
                                         "the last known address differs"),
}


def reason_code(reason: str) -> Code:
    return REASONS[reason][0]


def reason_text(reason: str) -> str:
    return REASONS[reason][1]
