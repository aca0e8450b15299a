"""Name standardization (minimal first version; see issue 3 for the full one)."""

from __future__ import annotations

import jellyfish

from matchgate.standardize.text import clean

_SUFFIXES = {"JR": "JR", "JUNIOR": "JR", "SR": "SR", "SENIOR": "SR", "II": "II", "III": "III",
             "IV": "IV", "V": "V", "2ND": "II", "3RD": "III"}
_PARTICLES = {"DE", "DEL", "LA", "LAS", "LOS", "Y", "DA", "DOS", "DAS", "VAN", "VON", "DER"}


def standardize_name(first: object, middle: object, last: object,
                     suffix: object) -> dict[str, str | None]:
    f = clean(first)
    m = clean(middle)
    last_clean = clean(last)
    sfx = clean(suffix)
    std_suffix = _SUFFIXES.get(sfx) if sfx else None
    tokens = last_clean.split() if last_clean else []
    if tokens and tokens[-1] in _SUFFIXES and std_suffix is None and len(tokens) > 1:
        std_suffix = _SUFFIXES[tokens.pop()]
    core = [t for t in tokens if t not in _PARTICLES] or tokens
    first_token = f.split()[0] if f else None
    return {
        "std_first": first_token,
        "std_first_canon": first_token,
        "std_first_phonetic": jellyfish.nysiis(first_token) if first_token else None,
        "std_middle": m,
        "std_middle_initial": m[0] if m else None,
        "std_last": " ".join(tokens) or None,
        "std_last_first": core[0] if core else None,
        "std_last_second": core[-1] if core else None,
        "std_last_phonetic": jellyfish.nysiis(core[0]) if core else None,
        "std_suffix": std_suffix,
    }
