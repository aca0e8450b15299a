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

from matchgate.standardize.given_names import canonical_first_name
from matchgate.standardize.phonetic import phonetic_key
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


def standardize_name(first: object, middle: object, last: object,
                     suffix: object) -> dict[str, str | None]:
    """The STD_NAME_COLUMNS of one person."""
    given, given_suffix = _given(ascii_upper(first), ascii_upper(middle))
    surname, last_suffix = _surname(ascii_upper(last))
    std_suffix = suffix_of(clean(suffix)) or last_suffix or given_suffix
    std_first = given[0] if given else None
    std_middle = " ".join(given[1:]) or None
    core = significant(list(surname))
    return {
        "std_first": std_first,
        "std_first_canon": canonical_first_name(std_first),
        "std_first_phonetic": phonetic_key(std_first),
        "std_middle": std_middle,
        "std_middle_initial": std_middle[0] if std_middle else None,
        "std_last": " ".join(surname) or None,
        "std_last_first": core[0] if core else None,
        "std_last_second": core[-1] if core else None,
        "std_last_phonetic": phonetic_key(core[0]) if core else None,
        "std_suffix": std_suffix,
    }
