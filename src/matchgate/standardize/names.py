"""Name standardization: std_first ... std_suffix (see matchgate.columns.STD_NAME_COLUMNS).

Given names: the first and middle fields are read as one sequence of given names; std_first is
its first token and std_middle the rest. So "Mary Ann" + no middle is MARY / ANN, the same as
"Mary" + "Ann", and "Jose Luis" + "Antonio" is JOSE / LUIS ANTONIO. Initials lose their periods
("J." -> "J"); hyphens separate names ("Jean-Luc" is JEAN / LUC); courtesy titles in front are
dropped. Suffixes are read from the suffix field, else from the end of the surname, else from the
end of the given names, and are removed from those fields in every case.
"""

from __future__ import annotations

import re
from functools import lru_cache

from matchgate.standardize.given_names import canonical_first_name, related_first_names
from matchgate.standardize.phonetic import metaphone_key, phonetic_key
from matchgate.standardize.suffixes import (
    GIVEN_TRAILING,
    drop_leading_titles,
    pop_trailing,
    suffix_of,
)
from matchgate.standardize.surnames import significant, surname_tokens
from matchgate.standardize.text import ascii_upper, clean

_APOSTROPHES = re.compile(r"['`\u2019]")


def name_tokens(value: object) -> list[str]:
    """Cleaned upper-case tokens; apostrophes vanish (O'BRIEN -> OBRIEN), other marks split."""
    text = ascii_upper(value)
    if text is None:
        return []
    return (clean(_APOSTROPHES.sub("", text)) or "").split()


@lru_cache(maxsize=262144)
def _given(first: str | None, middle: str | None) -> tuple[tuple[str, ...], str | None]:
    tokens = name_tokens(first) + name_tokens(middle)
    drop_leading_titles(tokens)
    found = pop_trailing(tokens, GIVEN_TRAILING)
    return tuple(tokens), found


@lru_cache(maxsize=262144)
def _surname(last: str | None) -> tuple[tuple[str, ...], str | None]:
    tokens = name_tokens(last)
    found = pop_trailing(tokens, None)
    return tuple(surname_tokens(tokens)), found


def given_columns(first: str | None, middle: str | None) -> tuple[str | None, ...]:
    """std_first, std_first_canon, std_first_phonetic, std_middle, std_middle_initial, the
    suffix found trailing the given names, std_first_metaphone and std_first_related, from
    upper-case ASCII first and middle names."""
    given, found = _given(first, middle)
    std_first = given[0] if given else None
    std_middle = " ".join(given[1:]) or None
    return (std_first, canonical_first_name(std_first), phonetic_key(std_first), std_middle,
            std_middle[0] if std_middle else None, found, metaphone_key(std_first),
            related_first_names(std_first))


def surname_columns(last: str | None) -> tuple[str | None, ...]:
    """std_last, std_last_first, std_last_second, std_last_phonetic, the suffix found trailing
    the surname and std_last_metaphone, from an upper-case ASCII surname."""
    surname, found = _surname(last)
    core = significant(list(surname))
    return (" ".join(surname) or None, core[0] if core else None, core[-1] if core else None,
            phonetic_key(core[0]) if core else None, found,
            metaphone_key(core[0]) if core else None)


def standardize_name(first: object, middle: object, last: object,
                     suffix: object) -> dict[str, str | None]:
    """The STD_NAME_COLUMNS of one person."""
    given = given_columns(ascii_upper(first), ascii_upper(middle))
    surname = surname_columns(ascii_upper(last))
    return {
        "std_first": given[0],
        "std_first_canon": given[1],
        "std_first_phonetic": given[2],
        "std_middle": given[3],
        "std_middle_initial": given[4],
        "std_last": surname[0],
        "std_last_first": surname[1],
        "std_last_second": surname[2],
        "std_last_phonetic": surname[3],
        "std_suffix": suffix_of(clean(suffix)) or surname[4] or given[5],
        "std_first_metaphone": given[6],
        "std_last_metaphone": surname[5],
        "std_first_related": given[7],
    }
