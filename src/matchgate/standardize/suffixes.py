"""Generational suffixes (JR, SR, II, III, ...) wherever they appear, and titles to drop."""

from __future__ import annotations

SUFFIXES: dict[str, str] = {
    "JR": "JR", "JNR": "JR", "JUNIOR": "JR", "SR": "SR", "SNR": "SR", "SENIOR": "SR",
    "II": "II", "2ND": "II", "2D": "II", "III": "III", "3RD": "III", "3D": "III",
    "IV": "IV", "4TH": "IV", "V": "V", "5TH": "V", "VI": "VI", "6TH": "VI",
}
# Trailing a given name, a lone V or VI is far more often a middle initial than a suffix, and
# JUNIOR alone can be a given name: only these are taken from the end of the given names.
GIVEN_TRAILING: frozenset[str] = frozenset({"JR", "JNR", "SR", "SNR", "II", "III", "IV", "2ND",
                                            "3RD", "4TH"})
PROFESSIONAL: frozenset[str] = frozenset({"ESQ", "MD", "PHD", "DDS", "DMD", "DO", "CPA", "RN",
                                          "DVM", "JD"})
TITLES: frozenset[str] = frozenset({"MR", "MRS", "MS", "MISS", "DR", "REV", "PROF", "SRA",
                                    "SR", "SRTA"})


def suffix_of(token: str | None) -> str | None:
    """The standard suffix for a cleaned suffix field ("JR." cleaned is "JR"), else None."""
    if not token:
        return None
    return SUFFIXES.get(token.replace(" ", ""))


def pop_trailing(tokens: list[str], allowed: frozenset[str] | None) -> str | None:
    """Remove trailing suffix and professional tokens (never the last token left).

    Returns the first generational suffix found, or None. `allowed` restricts which suffix
    spellings are taken (None: all of SUFFIXES).
    """
    found: str | None = None
    while len(tokens) > 1:
        tok = tokens[-1]
        if tok in PROFESSIONAL:
            tokens.pop()
        elif tok in SUFFIXES and (allowed is None or tok in allowed):
            found = found or SUFFIXES[tokens.pop()]
        else:
            break
    return found


def drop_leading_titles(tokens: list[str]) -> None:
    """Remove courtesy titles (MR, DR, SRA...) from the front while another token remains."""
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens.pop(0)
