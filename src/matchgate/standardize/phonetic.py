"""Phonetic keys for names (NYSIIS, designed for surnames and given names in US records)."""

from __future__ import annotations

from functools import lru_cache

import jellyfish


@lru_cache(maxsize=262144)
def phonetic_key(token: str | None) -> str | None:
    """NYSIIS code of one upper-case token; None for None or a token without letters."""
    if not token or not any(ch.isalpha() for ch in token):
        return None
    return jellyfish.nysiis(token) or None
