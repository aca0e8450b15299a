"""Phonetic keys for names: NYSIIS (designed for names in US records) and Metaphone.

The two catch different variants (NYSIIS: CHRISTOPHER/KRISTOPHER, SEAN/SHAWN; Metaphone:
SMITH/SMYTH, GEOFFREY/JEFFREY, LEE/LI), so both are kept and the model weighs each."""

from __future__ import annotations

from functools import lru_cache

import jellyfish


@lru_cache(maxsize=262144)
def phonetic_key(token: str | None) -> str | None:
    """NYSIIS code of one upper-case token; None for None or a token without letters."""
    if not token or not any(ch.isalpha() for ch in token):
        return None
    return jellyfish.nysiis(token) or None


@lru_cache(maxsize=262144)
def metaphone_key(token: str | None) -> str | None:
    """Metaphone code of one upper-case token; None for None or a token without letters."""
    if not token or not any(ch.isalpha() for ch in token):
        return None
    return jellyfish.metaphone(token) or None
