"""The Splink model: comparisons and blocking between requests and the master history.

Written once, dialect-neutral (Splink's level creators and portable SQL: substr, length, =), so
that the same definition compiles for DuckDB and for Spark. Every comparison works on the std_*
columns of matchgate.columns, computed by matchgate.standardize for both sides alike.

Why these levels (how US names, dates and addresses really vary):
- a given name is written in full, as a nickname (BILL for WILLIAM: std_first_canon), with a
  typo (Jaro-Winkler), as an initial, or swapped with the middle name (people who go by it);
- a compound surname (GARCIA LOPEZ) loses one part, or the two parts trade places; a surname
  has typos and spellings that sound alike;
- a suffix present on both sides and different (JR against SR) is two people of one family;
- a date of birth has day and month swapped (day-first writing), one digit wrong, or is
  approximately right;
- people move: the address is compared on its parts, and the unit separately, because a unit
  is often dropped or restyled.
"""

from __future__ import annotations

from splink import SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl
from splink.blocking_rule_library import And, CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

UNIQUE_ID = "unique_id"
MASTER_DATASET = "master"
REQUESTS_DATASET = "requests"

# The std_* columns the model reads (both inputs must carry exactly these plus unique_id).
MODEL_COLUMNS: tuple[str, ...] = (
    "std_first", "std_first_canon", "std_first_related", "std_middle", "std_middle_initial",
    "std_last", "std_last_first", "std_last_second", "std_last_phonetic", "std_suffix",
    "std_first_metaphone", "std_dob", "std_house", "std_street_name", "std_unit", "std_state",
    "std_zip5", "std_tin",
)


_RELATED = ("strpos(concat(' ', std_first_related_l, ' '), concat(' ', std_first_r, ' ')) > 0 "
            "OR strpos(concat(' ', std_first_related_r, ' '), concat(' ', std_first_l, ' ')) > 0")


def _first_name() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_description="First name: exact, nickname key, typo, middle name, initial",
        comparison_levels=[
            cll.NullLevel("std_first"),
            cll.ExactMatchLevel("std_first", term_frequency_adjustments=True),
            cll.CustomLevel("std_first_canon_l = std_first_canon_r",
                            "Same nickname key (std_first_canon)"),
            cll.CustomLevel(_RELATED, "Related in the nickname graph (std_first_related)"),
            cll.JaroWinklerLevel("std_first", 0.92),
            cll.JaroWinklerLevel("std_first", 0.85),
            cll.CustomLevel("std_first_l = std_middle_r OR std_middle_l = std_first_r",
                            "First name is the other's middle name"),
            cll.CustomLevel("(length(std_first_l) = 1 OR length(std_first_r) = 1) AND "
                            "substr(std_first_l, 1, 1) = substr(std_first_r, 1, 1)",
                            "Initial only matches"),
            # Fixed, not learned: household members share the surname and the address, so a
            # given name that agrees in no way must outweigh both (EM takes them for matches).
            cll.ElseLevel().configure(m_probability=0.002, fix_m_probability=True),
        ])


def _last_name() -> ComparisonCreator:
    either_token = (
        "std_last_first_l = std_last_first_r OR std_last_first_l = std_last_second_r OR "
        "std_last_second_l = std_last_first_r OR std_last_second_l = std_last_second_r")
    return cl.CustomComparison(
        output_column_name="last_name",
        comparison_description="Last name: exact, a shared surname token, typo, phonetic",
        comparison_levels=[
            cll.NullLevel("std_last"),
            cll.ExactMatchLevel("std_last", term_frequency_adjustments=True),
            cll.CustomLevel(either_token, "A surname token equals a token of the other"),
            cll.JaroWinklerLevel("std_last", 0.92),
            cll.CustomLevel("std_last_phonetic_l = std_last_phonetic_r", "Same phonetic key"),
            cll.ElseLevel(),
        ])


def _middle_name() -> ComparisonCreator:
    # One side often holds only the initial (forms ask for it), or only the first of two middle
    # names (JUAN for JUAN CARLOS); a misspelling keeps the initial. Two full middle names that
    # share the initial and differ otherwise (DAVID and DANIEL) are two people: relatives and
    # namesakes agree on the initial far more often than on the name.
    prefix = ("strpos(concat(std_middle_l, ' '), concat(std_middle_r, ' ')) = 1 OR "
              "strpos(concat(std_middle_r, ' '), concat(std_middle_l, ' ')) = 1")
    compatible = (f"std_middle_initial_l = std_middle_initial_r AND (length(std_middle_l) = 1 "
                  f"OR length(std_middle_r) = 1 OR {prefix} OR "
                  f"jaro_winkler_similarity(std_middle_l, std_middle_r) >= 0.9)")
    return cl.CustomComparison(
        output_column_name="middle_name",
        comparison_description="Middle name: full names equal, compatible (initials, one of "
                               "two, typo), full names that differ, initials that differ",
        comparison_levels=[
            cll.NullLevel("std_middle_initial"),
            cll.CustomLevel("std_middle_l = std_middle_r AND length(std_middle_l) > 1",
                            "Full middle names equal"),
            cll.CustomLevel(compatible, "Initials equal, first of two middle names or a "
                                        "misspelling"),
            cll.CustomLevel("std_middle_initial_l = std_middle_initial_r",
                            "Full middle names differ, same initial"),
            cll.ElseLevel().configure(label_for_charts="Initials differ"),
        ])


def _suffix() -> ComparisonCreator:
    neither = cll.CustomLevel("std_suffix_l IS NULL AND std_suffix_r IS NULL",
                              "Neither has a suffix").configure(is_null_level=True)
    return cl.CustomComparison(
        output_column_name="suffix",
        comparison_description="Suffix: both present and different is evidence against",
        comparison_levels=[
            neither,
            cll.ExactMatchLevel("std_suffix"),
            # Fixed, not learned: households hold a JR and a SR at one address, whom EM would
            # take for one person. A true match rarely records two different suffixes.
            cll.CustomLevel("std_suffix_l <> std_suffix_r", "Both present and different"
                            ).configure(m_probability=0.002, fix_m_probability=True),
            cll.ElseLevel(),
        ])


def _dob() -> ComparisonCreator:
    swapped = ("substr(std_dob_l, 1, 4) = substr(std_dob_r, 1, 4) AND "
               "substr(std_dob_l, 6, 2) = substr(std_dob_r, 9, 2) AND "
               "substr(std_dob_l, 9, 2) = substr(std_dob_r, 6, 2)")
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth: exact, day and month swapped, one digit, near",
        comparison_levels=[
            cll.NullLevel("std_dob"),
            cll.ExactMatchLevel("std_dob", term_frequency_adjustments=True),
            cll.CustomLevel(swapped, "Day and month swapped"),
            cll.DamerauLevenshteinLevel("std_dob", 1),
            cll.CustomLevel("substr(std_dob_l, 1, 7) = substr(std_dob_r, 1, 7)",
                            "Same year and month"),
            cll.AbsoluteDateDifferenceLevel("std_dob", input_is_string=True, threshold=1,
                                            metric="year"),
            cll.AbsoluteDateDifferenceLevel("std_dob", input_is_string=True, threshold=10,
                                            metric="year"),
            # Fixed, not learned: a parent and a child of the same name at the same address
            # agree on everything else; a generation between the birth dates must decide it.
            cll.ElseLevel().configure(m_probability=1e-6, fix_m_probability=True,
                                      label_for_charts="Born more than 10 years apart"),
        ])


def _address() -> ComparisonCreator:
    missing = cll.CustomLevel(
        "(std_street_name_l IS NULL OR std_street_name_r IS NULL) AND "
        "(std_zip5_l IS NULL OR std_zip5_r IS NULL)", "Address missing").configure(
        is_null_level=True)
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="Address on its parts: house, street name, ZIP5",
        comparison_levels=[
            missing,
            cll.CustomLevel("std_house_l = std_house_r AND std_street_name_l = "
                            "std_street_name_r AND std_zip5_l = std_zip5_r",
                            "House number, street name and ZIP5 equal"),
            # A misspelt street name at the right house number and ZIP5.
            cll.CustomLevel("std_house_l = std_house_r AND std_zip5_l = std_zip5_r AND "
                            "jaro_winkler_similarity(std_street_name_l, std_street_name_r) "
                            ">= 0.88", "House number and ZIP5 equal, street name similar"),
            cll.CustomLevel("std_street_name_l = std_street_name_r AND std_zip5_l = std_zip5_r",
                            "Street name and ZIP5 equal"),
            cll.ExactMatchLevel("std_zip5").configure(label_for_charts="ZIP5 only"),
            cll.ElseLevel(),
        ])


def _unit() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="unit",
        comparison_levels=[cll.NullLevel("std_unit"), cll.ExactMatchLevel("std_unit"),
                           cll.ElseLevel()])


def _tin() -> ComparisonCreator:
    return cl.CustomComparison(
        output_column_name="tin",
        comparison_description="TIN: null when the request has none",
        comparison_levels=[
            cll.NullLevel("std_tin"),
            cll.ExactMatchLevel("std_tin"),
            cll.DamerauLevenshteinLevel("std_tin", 1),
            cll.ElseLevel(),
        ])


def comparisons() -> list[ComparisonCreator]:
    return [_first_name(), _last_name(), _middle_name(), _suffix(), _dob(), _address(),
            _unit(), _tin()]


# The name-only passes reach the many taxpayers who share a common name (a third of all pairs
# each), and grow with the master file. They exist for a request that has neither the right
# address nor the right date of birth: one without a date of birth (a request with a date gets
# the name with the birth year instead, which a wrong day or month, or day and month swapped,
# leaves alone). Both sides alike, so that the prefilter and the fast path can apply them.
_DOB_MISSING = "(l.std_dob IS NULL OR r.std_dob IS NULL)"
_SAME_BIRTH_YEAR = "substr(l.std_dob, 1, 4) = substr(r.std_dob, 1, 4)"


def blocking_rules() -> list[BlockingRuleCreator]:
    """Passes, as the Census PVS does: one wrong field never hides the right taxpayer."""
    return [
        block_on("std_zip5", "std_house"),
        block_on("std_zip5", "std_last_phonetic"),
        block_on("std_last", "std_dob"),
        block_on("std_first_canon", "std_dob"),
        And(block_on("std_last_first", "std_first_canon"), CustomRule(_DOB_MISSING)),
        And(block_on("std_last_first", "std_first_canon"), CustomRule(_SAME_BIRTH_YEAR)),
        block_on("std_zip5", "std_first_canon"),
        And(block_on("std_last", "std_first_metaphone"), CustomRule(_DOB_MISSING)),
        block_on("std_tin"),
    ]


def settings_creator(*, linker_uid: str = "matchgate") -> SettingsCreator:
    """The untrained model. m and u and the prior are set by match.train."""
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=list(comparisons()),
        blocking_rules_to_generate_predictions=list(blocking_rules()),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        linker_uid=linker_uid,
    )
