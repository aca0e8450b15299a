"""The address gate: addresses a person can live at pass; placeholders, PO boxes, facilities,
missing parts and ZIP codes that are not real or not of the state fail, each with its reason."""

from __future__ import annotations

import pytest

from matchgate.agreement import AddressGate
from matchgate.gate.address import check_address, state_code
from matchgate.gate.text import is_junk_number, is_placeholder

OPTIONS = AddressGate()
GOOD = {"street": "1418 N Main St", "unit": "Apt 2B", "city": "Springfield", "state": "IL",
        "zip": "62702"}


def reasons(options: AddressGate = OPTIONS, /, **changes: str | None) -> list[str]:
    return [r.reason for r in check_address({**GOOD, **changes}, options)]


@pytest.mark.parametrize("changes", [
    {},
    {"street": "123 A St"},
    {"street": "100 5th Ave", "city": "New York", "state": "NY", "zip": "10011"},
    {"street": "123 Box Elder Rd", "city": "Ogden", "state": "UT", "zip": "84401"},
    {"street": "4521 W Care St"},
    {"street": "77 Massachusetts Avenue", "city": "Cambridge", "state": "MA", "zip": "02139"},
    {"street": "1111 Oak Ln", "unit": None},
    {"street": "12 Calle del Sol", "city": "San Juan", "state": "PR", "zip": "00926"},
    {"state": "Illinois"}, {"state": "il"}, {"zip": "62702-1234"}, {"zip": "627021234"},
])
def test_real_addresses_pass(changes: dict[str, str | None]) -> None:
    assert reasons(**changes) == []


PLACEHOLDERS = ["Failed to Provide", "Unknown Address", "NA NA", "Don't Care 12345", "N/A",
                "UNKNOWN", "Homeless", "NONE", "No Address", "same as above", "XXXX", "00000",
                "1 Unknown St", "n/a n/a", "Refused", "Transient", "TBD", "null", "not provided",
                "no fixed abode", "see file", "Address Unknown 00000", "Unk", "street", "?",
                "Don’t care", "12345", "11111 Street", "homeless shelter unknown"]


@pytest.mark.parametrize("street", PLACEHOLDERS)
def test_placeholder_streets_fail(street: str) -> None:
    assert reasons(street=street)[0] == "address_placeholder"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"street": None, "unit": None, "city": None, "state": None, "zip": None}, "address_missing"),
    ({"street": None}, "address_missing"),
    ({"street": "PO BOX 123"}, "address_po_box"),
    ({"street": "P.O. Box 5"}, "address_po_box"),
    ({"street": "POB 77"}, "address_po_box"),
    ({"street": "Post Office Box 9"}, "address_po_box"),
    ({"street": "Box 12"}, "address_po_box"),
    ({"street": "12 Main St PMB 301"}, "address_po_box"),
    ({"street": "General Delivery"}, "address_po_box"),
    ({"street": "HARRIS COUNTY JAIL"}, "address_facility"),
    ({"street": "Rikers Island"}, "address_facility"),
    ({"street": "Adelanto ICE Processing Center"}, "address_facility"),
    ({"street": "Otero County Processing Center"}, "address_facility"),
    ({"street": "Federal Correctional Institution"}, "address_facility"),
    ({"street": "Main St"}, "address_no_house_number"),
    ({"street": "Elm Street Apt 4"}, "address_no_house_number"),
    ({"state": "ZZ"}, "state_invalid"),
    ({"state": None}, "state_invalid"),
    ({"state": "Ontario"}, "state_invalid"),
    ({"city": None}, "city_missing"),
    ({"city": "Unknown"}, "address_placeholder"),
    ({"zip": "00000"}, "zip_invalid"),
    ({"zip": "99999"}, "zip_invalid"),
    ({"zip": "11111"}, "zip_invalid"),
    ({"zip": "1234"}, "zip_invalid"),
    ({"zip": "6270"}, "zip_invalid"),
    ({"zip": "ABCDE"}, "zip_invalid"),
    ({"zip": None}, "zip_invalid"),
    ({"zip": "01133", "state": "MA", "city": "Springfield"}, "zip_invalid"),  # retired
    ({"zip": "90210"}, "zip_state_mismatch"),
    ({"zip": "12345", "state": "NY", "city": "Schenectady"}, "zip_unique"),
])
def test_bad_addresses_fail(changes: dict[str, str | None], reason: str) -> None:
    assert reason in reasons(**changes)
    assert reasons(**changes)[0] == reason or reason in ("zip_unique",)


def test_dont_care_12345_fails_on_every_count() -> None:
    got = reasons(street="Don't Care", zip="12345")
    assert got[0] == "address_placeholder"
    assert {"zip_state_mismatch", "zip_unique"} <= set(got)


def test_facility_with_a_street_address_is_an_address() -> None:
    assert reasons(street="830 Pinehill Rd Detention Center", city="Jena", state="LA",
                   zip="71342") == []


def test_agreement_options() -> None:
    allow = AddressGate(allow_po_box=True)
    assert "address_po_box" not in reasons(allow, street="PO Box 123")
    assert reasons(allow, street="PO Box 123") == []
    assert reasons(AddressGate(reject_unique_zip=False), zip="12345", state="NY") == []
    po_only = AddressGate(reject_po_box_only_zip=True)
    assert reasons(po_only, zip="62705") == ["zip_po_box_only"]
    assert reasons(AddressGate(reject_inactive_zip=False), zip="01195", state="MA") == []


@pytest.mark.parametrize(("value", "code"), [
    ("IL", "IL"), ("illinois", "IL"), ("District of Columbia", "DC"), ("Puerto Rico", "PR"),
    ("gu", "GU"), ("AE", "AE"), ("ZZ", None), ("Illinoise", None), ("", None),
])
def test_state_codes(value: str, code: str | None) -> None:
    assert state_code(value) == code


@pytest.mark.parametrize(("token", "junk"), [
    ("00000", True), ("11111", True), ("12345", True), ("1234", True), ("98765", True),
    ("0", True), ("999", True), ("123", False), ("1418", False), ("62702", False), ("11", False),
])
def test_junk_numbers(token: str, junk: bool) -> None:
    assert is_junk_number(token) is junk


def test_placeholder_detector_keeps_real_text() -> None:
    for real in ("Main", "Avenue J", "Na Pali Coast", "5th", "Unit 4 Oak"):
        assert not is_placeholder(real, structure=True), real


@pytest.mark.parametrize(("city", "state", "zip_code"), [
    ("Street", "MD", "21154"), ("Home", "PA", "15747"), ("House", "NM", "88121"),
])
def test_towns_named_like_filler_words_pass(city: str, state: str, zip_code: str) -> None:
    assert reasons(city=city, state=state, zip=zip_code) == []


@pytest.mark.parametrize("city", ["Unknown", "N/A", "NA", "00000", "none", "xxx"])
def test_placeholder_cities_fail(city: str) -> None:
    assert reasons(city=city) == ["address_placeholder"]


@pytest.mark.parametrize(("street", "ok"), [
    ("37 Beach Road", True), ("1417 Beach Rd", True), ("3rd Ter", False), ("21st Ave", False),
    ("12 3rd Ter", True), ("9 Avenue J", True), ("14", False),
])
def test_house_number_and_street_name(street: str, ok: bool) -> None:
    assert (reasons(street=street) == []) is ok
