"""The character rules of request values, applied at intake to every field of every format.

1. NFKC: compatibility forms become their plain letters and digits (full-width "Ｍａｒｉａ",
   mathematical bold letters, ligatures, full-width TIN digits), so that a value matches its own
   plain form.
2. Invisible format characters (Unicode category Cf: zero-width spaces and joiners, the
   right-to-left and left-to-right marks, embeddings, overrides and isolates, a stray byte-order
   mark, soft hyphens) are removed. They change how a value is displayed, not what it says: left
   in, "Ma<ZWSP>ria" would be read as two names and "<RLO>NAMOR" would show as ROMAN to a
   reviewer while being compared as NAMOR. Removed, the value shown is the value compared.
3. Control characters (category Cc other than tab, line feed and carriage return, such as NUL)
   and lone surrogates cannot be stored or shown: each becomes U+FFFD and the request is rejected
   (field_control_character), naming the field and the character.
4. Names (first, middle, last, suffix) must be written in Latin letters (with any diacritics):
   a letter of another script is rejected (name_not_latin), naming the field and the letter.
   Cyrillic and Greek capitals look like Latin ones: "Рaul" written with a Cyrillic ER shows as
   Paul but transliterates to RAUL, so two different names would match; rejecting the field says
   so instead.

Pure functions."""

from __future__ import annotations

import re
import unicodedata

NAME_FIELDS = ("first_name", "middle_name", "last_name", "suffix")
REPLACEMENT = "\ufffd"
# Category Cc (but tab, line feed, carriage return) and Cs (lone surrogates).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def describe(ch: str) -> str:
    """U+0420 CYRILLIC CAPITAL LETTER ER."""
    kind = {"Cc": "a control character", "Cs": "a lone surrogate"}.get(
        unicodedata.category(ch), "an unnamed character")
    return f"U+{ord(ch):04X} {unicodedata.name(ch, f'({kind})')}"


def has_unstorable(value: str) -> bool:
    """Whether the value holds a character rule 1 replaces (normalise says which)."""
    return _UNSTORABLE.search(value) is not None


def normalise(value: str) -> tuple[str, str | None]:
    """(the value under rules 1-3, the first control character found, described, or None)."""
    bad: str | None = None
    if found := _UNSTORABLE.search(value):
        bad = describe(found.group())
        value = _UNSTORABLE.sub(REPLACEMENT, value)
    if value.isascii():
        return value, bad
    value = unicodedata.normalize("NFKC", value)
    if any(unicodedata.category(ch) == "Cf" for ch in value):
        value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
    return value, bad


def foreign_letter(value: str) -> str | None:
    """The first letter of a script other than Latin, described, or None. Modifier letters
    (the Hawaiian okina, for one) count as Latin: they are marks, not letters of a script."""
    for ch in value:
        if ch.isascii() or unicodedata.category(ch) not in ("Lu", "Ll", "Lt", "Lo"):
            continue
        if not unicodedata.name(ch, "").startswith("LATIN "):
            return describe(ch)
    return None
