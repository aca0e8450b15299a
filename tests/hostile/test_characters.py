"""The character rules (intake/characters.py): invisible characters and compatibility forms
never make a name fail to match its own plain form; letters of another script never make two
different names match (they reject the field, naming it)."""

from __future__ import annotations

import pytest
from corpus import LOOKALIKES, PERSON

from matchgate.gate import dedupe_key
from matchgate.intake.rows import build_row
from matchgate.standardize import standardize_record

PLAIN = {"request_id": "P", **PERSON}


@pytest.mark.parametrize("variant", ["Ma\u200bria", "M\u200da\u200cria", "\u202eMaria\u202c",
                                     "\u2066Maria\u2069", "\uff2d\uff41\uff52\uff49\uff41",
                                     "Ma\u00adria", "\ufeffMaria", "\U0001d40c\U0001d41a\U0001d42b"
                                     "\U0001d422\U0001d41a"])
def test_invisible_and_compatibility_forms_match_the_plain_name(variant: str) -> None:
    row = build_row(1, {**PLAIN, "first_name": variant})
    plain = build_row(2, PLAIN)
    assert row.intake_rejection is None
    assert row.fields["first_name"] == "Maria"
    assert standardize_record(row.fields) == standardize_record(plain.fields)
    assert dedupe_key(row.fields) == dedupe_key(plain.fields)


@pytest.mark.parametrize(("request_id", "field", "letter"), [
    ("C1", "first_name", "U+0420 CYRILLIC CAPITAL LETTER ER"),
    ("C2", "last_name", "U+0430 CYRILLIC SMALL LETTER A"),
    ("C3", "first_name", "U+039C GREEK CAPITAL LETTER MU"),
])
def test_a_letter_of_another_script_rejects_the_name(request_id: str, field: str,
                                                      letter: str) -> None:
    row = build_row(1, LOOKALIKES[request_id])
    rejection = row.intake_rejection
    assert rejection is not None and rejection.reason == "name_not_latin"
    assert rejection.field == field and letter in rejection.message


def test_latin_diacritics_and_the_okina_are_names() -> None:
    for name in ("Nguy\u1ec5n", "M\u00fcller", "\u00c5ngstr\u00f6m", "Ka\u02bbahumanu"):
        assert build_row(1, {**PLAIN, "last_name": name}).intake_rejection is None


def test_control_characters_are_replaced_and_rejected() -> None:
    row = build_row(4, {**PLAIN, "street": "12 Oak\x00 St"})
    assert row.intake_rejection is not None
    assert row.intake_rejection.reason == "field_control_character"
    message = row.intake_rejection.message
    assert "row 4, field 'street' holds U+0000 (a control character)" in message
    assert row.fields["street"] == "12 Oak\ufffd St"
