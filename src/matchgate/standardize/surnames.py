"""Surnames: compound, hyphenated and particle-bearing surnames into one consistent form.

std_last keeps the whole surname with hyphens as spaces and particles in place ("DE LA CRUZ",
"GARCIA LOPEZ"); the conjunction Y between two Spanish surnames is dropped ("GARCIA Y LOPEZ" is
"GARCIA LOPEZ"). Prefixes that belong to the word are joined to it, so that spacing and
apostrophes do not matter: O'BRIEN, O BRIEN -> OBRIEN; MC DONALD -> MCDONALD; MAC NEIL ->
MACNEIL; ST. JOHN, SAINT JOHN -> STJOHN. DELA (Filipino spelling) is DE LA.
The significant tokens (std_last_first, std_last_second) skip particles (DE, DEL, LA, VAN, ...)
unless the surname is nothing but particles ("LE" stays "LE").
"""

from __future__ import annotations

PARTICLES: frozenset[str] = frozenset({
    "DE", "DEL", "DELA", "DELLA", "DELLE", "DALLA", "DAL", "LA", "LAS", "LOS", "LE", "LES", "DA",
    "DAS", "DO", "DOS", "DI", "DU", "VAN", "VON", "DER", "DEN", "TER", "TEN", "AL", "EL",
})
_JOINED_PREFIXES: frozenset[str] = frozenset({"O", "D", "L", "MC", "MAC", "ST"})
_SAINT = {"SAINT": "ST", "STE": "ST"}
_CONJUNCTIONS: frozenset[str] = frozenset({"Y", "E"})


def _join_prefixes(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = _SAINT.get(tokens[i], tokens[i])
        if tok in _JOINED_PREFIXES and i + 1 < len(tokens) and tokens[i + 1] not in PARTICLES:
            out.append(tok + tokens[i + 1])
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def surname_tokens(tokens: list[str]) -> list[str]:
    """Normalized surname tokens (particles kept) from cleaned upper-case tokens."""
    expanded: list[str] = []
    for tok in tokens:
        expanded.extend(("DE", "LA") if tok == "DELA" else (tok,))
    inner = [t for i, t in enumerate(expanded)
             if not (t in _CONJUNCTIONS and 0 < i < len(expanded) - 1)]
    return _join_prefixes(inner)


def significant(tokens: list[str]) -> list[str]:
    """The tokens that carry the surname: particles skipped unless nothing else is left."""
    return [t for t in tokens if t not in PARTICLES] or tokens
