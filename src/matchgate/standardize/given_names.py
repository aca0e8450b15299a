"""Nickname-resolved keys for given names (std_first_canon).

The `nicknames` package holds a graph of formal names and their nicknames gathered from
genealogical sources. It is noisy in both directions: BILL is listed as a nickname of ROBERT as
well as of WILLIAM, BILL is itself listed as a formal name whose nicknames include WILLIAM, and
established names such as MARK or JOHN are listed as nicknames of MARCUS or JOHNATHAN. A single
key per name must pick one formal name, deterministically, without merging distinct formal names:

1. Our own tables come first: Spanish hypocorisms (PEPE -> JOSE, PACO -> FRANCISCO, ...) and a
   curated English table of the frequent nicknames that are irregular (BILL, PEGGY, POLLY) or
   ambiguous in the graph, and of frequent formal names the graph would misroute (MARK stays
   MARK). The key of a key is itself in both tables.
2. A name with at least FORMAL_MIN_NICKNAMES nicknames of its own in the graph is an established
   formal name and is its own key (MARGARET, WILLIAM, ROBERT).
3. Otherwise the candidates are the name's formal names in the graph that are longer than it and
   begin with the same letter: a regular nickname is a shortened or diminutive form of its
   formal name (DAN -> DANIEL, JENNY -> JENNIFER). Irregular ones belong in the table of step 1.
4. Among the candidates the one sharing the longest run of letters with the name wins, then the
   one with the most nicknames, then the alphabetically first; no candidate: the name itself.
5. The step repeats until the key is stable, so that the key of a key is itself.

A nickname of several formal names (PAT: PATRICK and PATRICIA) agrees with only one of them; the
model compares std_first and phonetic keys as well, so that case is a partial, not a total, loss.
"""

from __future__ import annotations

from functools import cache, lru_cache

from nicknames import NickNamer

from matchgate.standardize.text import read_table

_MAX_STEPS = 5
FORMAL_MIN_NICKNAMES = 3


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def curated_keys() -> dict[str, str]:
    """Our own tables (upper-case name -> key): Spanish hypocorisms and curated English names."""
    table = {row[0]: row[1] for row in read_table("english_given_names.csv")}
    table.update({row[0]: row[1] for row in read_table("spanish_hypocorisms.csv")})
    return table


@cache
def _nickname_count(name: str) -> int:
    return len(_namer().nicknames_of(name))


def _longest_common_run(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def _step(name: str) -> str:
    if _nickname_count(name) >= FORMAL_MIN_NICKNAMES:
        return name
    candidates = sorted(c for c in _namer().canonicals_of(name)
                        if len(c) > len(name) and c[0] == name[0])
    if not candidates:
        return name
    return max(candidates, key=lambda c: (_longest_common_run(name, c), _nickname_count(c),
                                          [-ord(ch) for ch in c]))


@lru_cache(maxsize=65536)
def canonical_first_name(name: str | None) -> str | None:
    """The nickname-resolved key of an upper-case ASCII given name (one token)."""
    if not name:
        return None
    curated = curated_keys().get(name)
    if curated is not None:
        return curated
    key = name.lower()
    for _ in range(_MAX_STEPS):
        nxt = _step(key)
        if nxt == key:
            break
        key = nxt
    return curated_keys().get(key.upper(), key.upper())


MAX_RELATED = 48


@lru_cache(maxsize=65536)
def related_first_names(name: str | None) -> str | None:
    """The names the nickname graph relates to an upper-case given name, the name and its key
    included: its nicknames and the formal names it is a nickname of (BOB: ROBERT, ROBERTA,
    ...; WILLIAM: BILL, WILL, ...), sorted, space-separated (std_first_related).

    The graph is noisy, so this is one level of evidence for the model to weigh, not a key; a
    name two steps apart in the graph (BOB and ROBBIE) does not count."""
    if not name:
        return None
    namer = _namer()
    lower = name.lower()
    graph = sorted(n.upper() for n in namer.nicknames_of(lower) | namer.canonicals_of(lower)
                   if n.isalpha())
    return " ".join(sorted({name, canonical_first_name(name) or name, *graph[:MAX_RELATED]}))
