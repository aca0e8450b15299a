"""Name standardization: rules by example, and invariants as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.columns import STD_NAME_COLUMNS
from matchgate.standardize import standardize_name
from matchgate.standardize.given_names import (
    canonical_first_name,
    curated_keys,
    related_first_names,
)


def n(first: object = None, middle: object = None, last: object = None,
      suffix: object = None) -> dict[str, str | None]:
    return standardize_name(first, middle, last, suffix)


def test_columns_are_exactly_the_contract() -> None:
    assert tuple(n("Ann", None, "Lee", None)) == STD_NAME_COLUMNS


def test_accents_case_and_punctuation() -> None:
    out = n("  josé ", None, "Muñoz", None)
    assert out["std_first"] == "JOSE"
    assert out["std_last"] == "MUNOZ"
    assert n("Zoë", None, "Bjørn", None)["std_last"] == "BJORN"


def test_transliteration_of_non_latin_script() -> None:
    assert n("Олег", None, "Иванов", None)["std_last"] == "IVANOV"


def test_initials_lose_their_periods() -> None:
    out = n("J.", "R.", "Smith", None)
    assert (out["std_first"], out["std_middle"], out["std_middle_initial"]) == ("J", "R", "R")


def test_empty_values_are_none_never_empty_strings() -> None:
    out = n("", "  ", None, "")
    assert all(v is None for v in out.values())


@pytest.mark.parametrize(("suffix", "last", "first", "expected"), [
    ("Jr.", "Smith", "John", "JR"),
    ("junior", "Smith", "John", "JR"),
    ("SR", "Smith", "John", "SR"),
    ("2nd", "Smith", "John", "II"),
    ("3RD", "Smith", "John", "III"),
    ("iv", "Smith", "John", "IV"),
    (None, "Smith Jr.", "John", "JR"),
    (None, "Smith, Jr", "John", "JR"),
    (None, "Smith III", "John", "III"),
    (None, "Smith", "John Jr", "JR"),
    (None, "Smith", "John III", "III"),
    ("Esq.", "Smith", "John", None),
    (None, "Smith", "John", None),
])
def test_suffixes_wherever_they_appear(suffix: str | None, last: str, first: str,
                                       expected: str | None) -> None:
    out = n(first, None, last, suffix)
    assert out["std_suffix"] == expected
    assert out["std_last"] == "SMITH"
    assert out["std_first"] == "JOHN"


def test_a_lone_surname_that_looks_like_a_suffix_is_kept() -> None:
    assert n("Ann", None, "Junior", None)["std_last"] == "JUNIOR"
    assert n("Ann", None, "Junior", None)["std_suffix"] is None


def test_trailing_v_after_a_given_name_is_an_initial_not_a_suffix() -> None:
    out = n("John V", None, "Smith", None)
    assert out["std_middle"] == "V"
    assert out["std_suffix"] is None


@pytest.mark.parametrize("last", ["García-López", "Garcia Lopez", "GARCIA Y LOPEZ",
                                  "garcia - lopez", "García López"])
def test_compound_spanish_surnames_agree(last: str) -> None:
    out = n("Ana", None, last, None)
    assert (out["std_last"], out["std_last_first"], out["std_last_second"]) == (
        "GARCIA LOPEZ", "GARCIA", "LOPEZ")


def test_particles_kept_in_full_surname_and_skipped_in_significant_tokens() -> None:
    out = n("Juan", None, "de la Cruz", None)
    assert (out["std_last"], out["std_last_first"], out["std_last_second"]) == (
        "DE LA CRUZ", "CRUZ", "CRUZ")
    out = n("Ana", None, "Del Río", None)
    assert (out["std_last"], out["std_last_first"]) == ("DEL RIO", "RIO")
    out = n("Jan", None, "van der Berg", None)
    assert (out["std_last"], out["std_last_first"]) == ("VAN DER BERG", "BERG")
    assert n("Juan", None, "Dela Cruz", None)["std_last"] == "DE LA CRUZ"


def test_surname_made_only_of_a_particle_is_kept() -> None:
    out = n("Minh", None, "Le", None)
    assert (out["std_last"], out["std_last_first"], out["std_last_second"]) == ("LE", "LE", "LE")


def test_two_surnames_with_particle_in_the_second() -> None:
    out = n("Ana", None, "Pérez de la Cruz", None)
    assert (out["std_last_first"], out["std_last_second"]) == ("PEREZ", "CRUZ")


@pytest.mark.parametrize(("a", "b"), [("O'Brien", "OBrien"), ("O'Brien", "O Brien"),
                                      ("McDonald", "Mc Donald"), ("MacNeil", "Mac Neil"),
                                      ("St. John", "Saint John"), ("D'Angelo", "D Angelo")])
def test_prefixes_belong_to_the_word(a: str, b: str) -> None:
    assert n("Al", None, a, None)["std_last"] == n("Al", None, b, None)["std_last"]
    assert " " not in (n("Al", None, a, None)["std_last"] or " ")


def test_mc_is_not_split_from_its_surname() -> None:
    assert n("Al", None, "McDonald", None)["std_last_first"] == "MCDONALD"


def test_first_name_in_two_words_moves_the_rest_to_middle() -> None:
    assert n("Mary Ann", None, "Lee", None) == n("Mary", "Ann", "Lee", None)
    out = n("Jose Luis", "Antonio", "Lee", None)
    assert (out["std_first"], out["std_middle"], out["std_middle_initial"]) == (
        "JOSE", "LUIS ANTONIO", "L")
    assert n("Jean-Luc", None, "Picard", None)["std_middle"] == "LUC"


def test_courtesy_titles_are_dropped() -> None:
    assert n("Dr. Ana", None, "Ruiz", None)["std_first"] == "ANA"
    assert n("Miss", None, "Ruiz", None)["std_first"] == "MISS"


@pytest.mark.parametrize(("nickname", "formal"), [
    ("Bill", "William"), ("Billy", "William"), ("Peggy", "Margaret"), ("Bob", "Robert"),
    ("Dick", "Richard"), ("Jack", "John"), ("Liz", "Elizabeth"), ("Jenny", "Jennifer"),
    ("Dan", "Daniel"), ("Gabe", "Gabriel"), ("Polly", "Mary"), ("Pepe", "José"),
    ("Paco", "Francisco"), ("Pancho", "Francisco"), ("Lupe", "Guadalupe"), ("Chuy", "Jesús"),
    ("Nacho", "Ignacio"), ("Memo", "Guillermo"), ("Lalo", "Eduardo"), ("Toño", "Antonio"),
    ("Beto", "Alberto"),
])
def test_nickname_and_formal_name_share_a_key(nickname: str, formal: str) -> None:
    assert n(nickname, None, "X", None)["std_first_canon"] == n(formal, None, "X",
                                                                None)["std_first_canon"]


@pytest.mark.parametrize(("a", "b"), [("William", "Robert"), ("Mark", "Marcus"),
                                      ("John", "Jonathan"), ("Mary", "Marion"),
                                      ("Michael", "Miguel"), ("Frank", "Frances"),
                                      ("Jose", "Jesus"), ("Bill", "Robert")])
def test_distinct_formal_names_keep_distinct_keys(a: str, b: str) -> None:
    assert canonical_first_name(a.upper()) != canonical_first_name(b.upper())


def test_unknown_names_are_their_own_key() -> None:
    assert canonical_first_name("XOCHITL") == "XOCHITL"
    assert canonical_first_name(None) is None


def test_curated_keys_are_fixed_points() -> None:
    table = curated_keys()
    for key in set(table.values()):
        assert canonical_first_name(key) == key


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted({*curated_keys(), "MARGARET", "NICK", "ALEX", "SAM", "KATHY",
                               "WILLIAM", "TONY", "PATSY", "DANNY", "GABE", "AL"})))
def test_canonical_key_is_idempotent(name: str) -> None:
    key = canonical_first_name(name)
    assert canonical_first_name(key) == key


def test_phonetic_keys_for_first_and_last() -> None:
    a = n("Catherine", None, "Smith", None)
    b = n("Katherine", None, "Smyth", None)
    assert a["std_first_phonetic"] == b["std_first_phonetic"] == "CATARAN"
    assert a["std_last_metaphone"] == b["std_last_metaphone"]
    assert n("Christopher", None, "X", None)["std_first_phonetic"] == n(
        "Kristopher", None, "X", None)["std_first_phonetic"]
    assert n("Geoffrey", None, "X", None)["std_first_metaphone"] == n(
        "Jeffrey", None, "X", None)["std_first_metaphone"]
    assert n("Ann", None, "Lee", None)["std_last_phonetic"] != n("Ann", None, "Ng",
                                                                 None)["std_last_phonetic"]


# ---- properties ---------------------------------------------------------------------------

GIVEN = st.sampled_from(["José", "María", "Bill", "Mary Ann", "J.", "Jean-Luc", "Zoë", "Ann",
                         "Dr. Ana", "Peggy", "Chuy", "O'Neil", "Nguyễn Văn", "Łukasz", "Jr"])
MIDDLE = st.one_of(st.none(), st.sampled_from(["", "Luis", "R.", "Jr.", "Ann Marie", "Ñ"]))
SURNAME_PART = st.sampled_from(["García", "López", "de la Cruz", "Del Río", "O'Brien", "Mc Donald",
                                "van der Berg", "St. John", "Le", "Müller", "y", "Dela",
                                "Smith", "Jr.", "III", "Ng"])
SURNAME = st.lists(SURNAME_PART, min_size=1, max_size=3).map(" ".join)
SUFFIX = st.one_of(st.none(), st.sampled_from(["", "Jr", "Sr.", "III", "2nd", "Esq", "junior"]))


@settings(max_examples=300, deadline=None)
@given(GIVEN, MIDDLE, SURNAME, SUFFIX)
def test_standardizing_twice_changes_nothing(first: str, middle: str | None, last: str,
                                             suffix: str | None) -> None:
    once = n(first, middle, last, suffix)
    twice = n(once["std_first"], once["std_middle"], once["std_last"], once["std_suffix"])
    assert twice == once


def _vary_case(text: str, mode: int) -> str:
    return [text.upper(), text.lower(), text.title(), text][mode]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["García", "Muñoz", "Peña", "Ibáñez", "Smith"]),
       st.sampled_from(["López", "Núñez", "Cruz", "Ávila"]),
       st.sampled_from(["Jr", "III", "Sr", None]), st.integers(0, 3), st.booleans())
def test_name_variants_standardize_the_same(first_surname: str, second_surname: str,
                                            suffix: str | None, case: int,
                                            accents: bool) -> None:
    from unidecode import unidecode

    base = n("José", None, f"{first_surname} {second_surname}", suffix)
    hyphen = f"{first_surname}-{second_surname}"
    if not accents:
        hyphen = unidecode(hyphen)
    trailing = f"{hyphen}, {suffix}." if suffix else hyphen
    variant = n(_vary_case("jose" if not accents else "José", case), None,
                _vary_case(trailing, case), None)
    assert variant == base


def test_related_names_follow_the_nickname_graph_both_ways() -> None:
    for formal, nick in (("WILLIAM", "BILL"), ("ELIZABETH", "BETSY"), ("MARY", "POLLY")):
        related = (related_first_names(formal) or "").split()
        assert nick in related or formal in (related_first_names(nick) or "").split()
    assert "MARIA" not in (related_first_names("JOHN") or "").split()
    assert related_first_names(None) is None
    assert standardize_name("Bill", None, "Smith", None)["std_first_related"] is not None


@given(st.sampled_from(["WILLIAM", "BOB", "PEGGY", "JOSE", "ZYX", "MARGARET"]))
def test_related_names_hold_the_name_and_are_sorted(name: str) -> None:
    related = (related_first_names(name) or "").split()
    assert name in related and related == sorted(related)
