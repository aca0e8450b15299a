"""Placeholder text: values that fill a field without saying anything.

The rule is about vocabulary, not a list of exact strings: a value is a placeholder when, once
cleaned, its words are all words people type when they have no answer ("unknown", "n/a", "not
provided", "don't care", "same as above"), optionally with a number that is not part of an
address (a fake ZIP like 12345). Real streets contain at least one word outside that vocabulary.
"""

from __future__ import annotations

import re

from matchgate.standardize.text import clean

NO_ANSWER_WORDS = frozenset("""
UNKNOWN UNK UNKN UNKOWN UNKNWN NONE NA N A NULL NIL NILL VOID REFUSED REFUSE DECLINED DECLINE
FAILED FAIL TO PROVIDE PROVIDED NOT NO DONT DON T DO CARE CARES HOMELESS TRANSIENT SAME AS
ABOVE BELOW TBD TBA TBC XXX XX X XXXX XXXXX ADDRESS ADDR ADD UNAVAILABLE AVAILABLE AVAIL GIVEN
BLANK EMPTY TEST DUMMY FAKE PENDING NEED NEEDED NEEDS INFO INFORMATION MISSING ON FILE SEE
NOTES NOTE OTHER ANY NOWHERE NADA DESCONOCIDO NINGUNO SIN DOMICILIO FIXED ABODE NFA
ERROR INVALID NONEXISTENT STREET
""".split())

_NO_ANSWER_PHRASES = re.compile(r"\b(FAILED TO PROVIDE|NOT PROVIDED|DON ?T CARE|NO ADDRESS|"
                                r"UNKNOWN ADDRESS|NO FIXED ABODE|ADDRESS UNKNOWN)\b")
_REPEATED = re.compile(r"^(.)\1{2,}$")


def is_placeholder(value: str | None) -> bool:
    """True for text that stands in for a missing answer."""
    text = clean(value)
    if text is None:
        return False
    if _NO_ANSWER_PHRASES.search(text):
        return True
    words = [w for w in text.split() if not w.isdigit()]
    if not words:
        return False
    return all(w in NO_ANSWER_WORDS or _REPEATED.match(w) for w in words)


NAME_PLACEHOLDERS = frozenset({"UNKNOWN", "UNK", "NONE", "NA", "N A", "NULL", "NIL", "TEST",
                               "FNU", "LNU", "NFN", "NLN", "NMN", "XXX", "X", "REFUSED",
                               "NOT PROVIDED", "NOT GIVEN", "BLANK", "DUMMY", "TBD"})


def is_placeholder_name(value: str | None) -> bool:
    """Names that stand for no name ("FNU" is "first name unknown"). Short real surnames such
    as DO, NA or LE are names, so only whole-value placeholders count."""
    text = clean(value)
    return text is not None and (text in NAME_PLACEHOLDERS or bool(_REPEATED.match(text)))
