"""Address parsing and standardization: rules by example, and invariants as properties."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.columns import STD_ADDRESS_COLUMNS
from matchgate.standardize import ParsedAddress, parse_address, standardize_address
from matchgate.standardize.postal import city_name, state_code, zip5
from matchgate.standardize.street_line import StreetLine
from matchgate.standardize.units import unit_id
from matchgate.standardize.usps import normalize_ordinals, street_suffixes


def p(street: object, unit: object = None, city: object = "Springfield", state: object = "IL",
      zip_code: object = "62701") -> ParsedAddress:
    return parse_address(street, unit, city, state, zip_code)


def test_columns_are_exactly_the_contract() -> None:
    assert tuple(standardize_address("1 Main St", None, "X", "IL", "62701")) == \
        STD_ADDRESS_COLUMNS


def test_a_plain_street_address() -> None:
    assert p("123 North Main Street") == ParsedAddress(
        kind="street", house="123", street="N MAIN ST", street_name="MAIN", unit=None,
        city="SPRINGFIELD", state="IL", zip5="62701", po_box=None)


@pytest.mark.parametrize(("written", "standard"), [
    ("Avenue", "AVE"), ("Av", "AVE"), ("Aven", "AVE"), ("Boulevard", "BLVD"), ("Parkway", "PKWY"),
    ("Circle", "CIR"), ("Terrace", "TER"), ("Lane", "LN"), ("Court", "CT"), ("Highway", "HWY"),
    ("Place", "PL"), ("Drive", "DR"), ("Road", "RD"), ("Street", "ST"), ("Trail", "TRL"),
])
def test_usps_street_suffixes(written: str, standard: str) -> None:
    assert p(f"12 Oak {written}").street == f"OAK {standard}"


def test_c1_table_is_complete_and_standards_are_fixed_points() -> None:
    table = street_suffixes()
    assert len(table) > 500
    assert len(set(table.values())) > 190
    assert all(table[std] == std for std in set(table.values()))
    assert (table["EXPRESSWAY"], table["FREEWAY"], table["CROSSING"]) == ("EXPY", "FWY", "XING")


@pytest.mark.parametrize(("line", "street"), [
    ("12 Northeast Oak St", "NE OAK ST"), ("12 Oak St Southwest", "OAK ST SW"),
    ("12 Oak St S.W.", "OAK ST SW"), ("12 W. Oak St", "W OAK ST"), ("123 Park Ave S", "PARK AVE S"),
])
def test_directionals_leading_and_trailing(line: str, street: str) -> None:
    assert p(line).street == street


def test_type_word_inside_the_name_is_not_abbreviated() -> None:
    assert p("123 Park Avenue").street_name == "PARK"
    assert p("1200 Avenue B").street == "AVE B"


@pytest.mark.parametrize("line", ["100 Fifth Avenue", "100 5th Ave", "100 5TH AVE.", "100 5 Ave"])
def test_ordinal_street_names(line: str) -> None:
    assert (p(line).street, p(line).street_name) == ("5TH AVE", "5TH")


def test_spelled_compound_ordinals() -> None:
    assert normalize_ordinals(["TWENTY", "FIRST"]) == ["21ST"]
    assert normalize_ordinals(["TWENTY-SECOND"]) == ["22ND"]
    assert normalize_ordinals(["2D"]) == ["2ND"]
    assert normalize_ordinals(["11TH", "112ND"]) == ["11TH", "112TH"]


@pytest.mark.parametrize(("line", "unit"), [
    ("12 Oak St Apt 4B", None), ("12 Oak St #4B", None), ("12 Oak St Unit 4-B", None),
    ("12 Oak St Apartment 4 B", None), ("12 Oak St", "Apt 4B"), ("12 Oak St", "#4B"),
    ("12 Oak St", "4B"), ("12 Oak St", "Unit 4-B"), ("12 Oak St, Apt. #4B", None),
    ("12 Oak St Apt 4B", "4B"),
])
def test_units_agree_however_written(line: str, unit: str | None) -> None:
    out = p(line, unit)
    assert (out.street, out.unit) == ("OAK ST", "4B")


@pytest.mark.parametrize(("text", "expected"), [
    ("Suite 200", "200"), ("STE. 200", "200"), ("3rd Floor", "3"), ("Rear", "REAR"),
    ("Basement", "BSMT"), ("apt 004", "4"), ("BLDG 5 APT 201", "5 201"), ("APT", None),
    ("", None), ("Lot 12", "12"),
])
def test_unit_identifiers(text: str, expected: str | None) -> None:
    assert unit_id(text.upper() or None) == expected


def test_two_units_in_the_line_do_not_fail() -> None:
    out = p("123 Main St Apt 4 Unit 5")
    assert (out.house, out.street, out.unit) == ("123", "MAIN ST", "4 5")


@pytest.mark.parametrize(("line", "house"), [
    ("123-125 Main St", "123-125"), ("123 1/2 Main St", "123-1/2"), ("0123 Main St", "123"),
    ("One Main St", "1"), ("W123N4567 Main St", "W123N4567"), ("12-34 56th Rd", "12-34"),
])
def test_house_numbers(line: str, house: str) -> None:
    assert p(line).house == house


@pytest.mark.parametrize(("line", "box"), [
    ("PO Box 123", "123"), ("P.O. Box 123", "123"), ("Post Office Box 0123", "123"),
    ("po box 123", "123"), ("P O BOX 123", "123"),
])
def test_po_boxes_are_kept_apart(line: str, box: str) -> None:
    out = p(line)
    assert (out.kind, out.po_box, out.house, out.street_name) == ("po_box", box, None, None)


def test_rural_route_is_not_a_street_nor_a_po_box() -> None:
    out = p("RR 2 Box 15")
    assert (out.kind, out.house, out.street, out.po_box) == ("unknown", None, "RR 2 BOX 15", None)


@pytest.mark.parametrize("line", ["Failed to Provide", "Unknown Address", "NA NA", "N/A",
                                  "Don't Care 12345", "Cook County Jail", "homeless", "!!!",
                                  "", None, "   ", "12345", "\x00\x01", "Ω≈ç√"])
def test_junk_never_raises_and_is_honest(line: str | None) -> None:
    out = p(line)
    assert out.kind == "unknown"
    assert out.house is None or out.street_name is None
    assert out.street_name is None


def test_missing_house_number_is_none() -> None:
    out = p("Main Street")
    assert (out.kind, out.house, out.street_name) == ("street", None, "MAIN")


@pytest.mark.parametrize(("text", "expected"), [
    ("62701", "62701"), ("62701-1234", "62701"), ("627011234", "62701"), ("2134", "02134"),
    ("601", "00601"), ("2134.0", "02134"), (" 62701 ", "62701"), ("12", None), ("ABCDE", None),
    ("1234567890", None), ("", None), (None, None), ("00000", "00000"), ("62701-", "62701"),
])
def test_zip5(text: str | None, expected: str | None) -> None:
    assert zip5(text) == expected


def test_zip_given_as_an_integer() -> None:
    assert p("1 Main St", zip_code=2134).zip5 == "02134"


@pytest.mark.parametrize(("text", "expected"), [
    ("IL", "IL"), ("il", "IL"), ("Illinois", "IL"), ("ILLINOIS", "IL"), ("Ill.", "IL"),
    ("N.Y.", "NY"), ("New York", "NY"), ("District of Columbia", "DC"), ("Puerto Rico", "PR"),
    ("AE", "AE"), ("W. Va.", "WV"), ("NA", None), ("XX", None), ("Calif.", "CA"), ("", None),
])
def test_state_codes(text: str, expected: str | None) -> None:
    assert state_code(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("St. Louis", "SAINT LOUIS"), ("Saint Louis", "SAINT LOUIS"), ("Ft Worth", "FORT WORTH"),
    ("N Las Vegas", "NORTH LAS VEGAS"), ("Mt. Vernon", "MOUNT VERNON"), ("São Paulo", "SAO PAULO"),
])
def test_city_names(text: str, expected: str) -> None:
    assert city_name(text) == expected


def test_whole_address_in_the_street_line() -> None:
    out = parse_address("123 Main St Apt 4, Springfield, Illinois 62701-1234", None, None, None,
                        "")
    assert out == ParsedAddress(kind="street", house="123", street="MAIN ST", street_name="MAIN",
                                unit="4", city="SPRINGFIELD", state="IL", zip5="62701")


def test_city_in_the_line_is_dropped_when_the_fields_are_given() -> None:
    out = p("123 Main St Springfield IL 62701", city="Springfield")
    assert (out.street, out.city) == ("MAIN ST", "SPRINGFIELD")


# ---- properties ---------------------------------------------------------------------------

NAMES = ["Oak", "Maple", "Main", "Washington", "Cedar", "Lincoln", "Martin Luther King",
         "Elm", "Highland", "Sunset", "Jefferson", "Lake"]
TYPES = [("STREET", "ST"), ("AVENUE", "AVE"), ("ROAD", "RD"), ("BOULEVARD", "BLVD"),
         ("DRIVE", "DR"), ("LANE", "LN"), ("COURT", "CT"), ("PLACE", "PL"),
         ("PARKWAY", "PKWY"), ("CIRCLE", "CIR"), ("TERRACE", "TER"), ("WAY", "WAY")]
DIRS = [None, ("NORTH", "N"), ("SOUTH", "S"), ("EAST", "E"), ("WEST", "W"),
        ("NORTHEAST", "NE"), ("SOUTHWEST", "SW")]
UNITS = [None, ("APARTMENT", "APT"), ("SUITE", "STE"), ("UNIT", "UNIT"), ("#", "#")]
PLACES = [("Springfield", "IL", "Illinois", "62701"), ("Boston", "MA", "Massachusetts", "02134"),
          ("Saint Louis", "MO", "Missouri", "63101"), ("Houston", "TX", "Texas", "77002")]


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, object]:
    return {
        "house": draw(st.integers(1, 99999)), "name": draw(st.sampled_from(NAMES)),
        "type": draw(st.sampled_from(TYPES)), "dir": draw(st.sampled_from(DIRS)),
        "unit": draw(st.sampled_from(UNITS)),
        "unit_id": draw(st.from_regex(r"[1-9][0-9]{0,2}[A-D]?", fullmatch=True)),
        "place": draw(st.sampled_from(PLACES)), "plus4": draw(st.from_regex(r"[0-9]{4}",
                                                                              fullmatch=True)),
    }


def _render(a: dict[str, object], *, full: bool, case: str, dots: bool, plus4: bool,
            unit_in_line: bool, spaces: str) -> tuple[str, str | None, str, str, str]:
    dot = "." if dots else ""
    dir_, type_, unit = a["dir"], a["type"], a["unit"]
    assert isinstance(type_, tuple)
    words: list[str] = [str(a["house"])]
    if isinstance(dir_, tuple):
        words.append(dir_[0] if full else dir_[1] + dot)
    words += [str(a["name"]), type_[0] if full else type_[1] + dot]
    unit_text = None
    if isinstance(unit, tuple):
        unit_text = f"{unit[0] if full else unit[1]} {a['unit_id']}"
    if unit_text and unit_in_line:
        words.append(("," if dots else "") + unit_text)
        unit_text = None
    place = a["place"]
    assert isinstance(place, tuple)
    city, code, state_name, zip_code = (str(x) for x in place)
    line = spaces.join(words)
    zip_text = f"{zip_code}-{a['plus4']}" if plus4 else zip_code
    state = state_name if full else code
    change = {"upper": str.upper, "lower": str.lower, "title": str.title}[case]
    return (change(line), unit_text and change(unit_text), change(city), change(state), zip_text)


@settings(max_examples=200, deadline=None)
@given(addresses(), st.booleans(), st.sampled_from(["upper", "lower", "title"]), st.booleans(),
       st.booleans(), st.booleans(), st.sampled_from([" ", "  ", " \t "]))
def test_formatting_variants_standardize_the_same(a: dict[str, object], full: bool, case: str,
                                                  dots: bool, plus4: bool, unit_in_line: bool,
                                                  spaces: str) -> None:
    base = parse_address(*_render(a, full=False, case="upper", dots=False, plus4=False,
                                  unit_in_line=False, spaces=" "))
    variant = parse_address(*_render(a, full=full, case=case, dots=dots, plus4=plus4,
                                     unit_in_line=unit_in_line, spaces=spaces))
    assert variant == base
    assert base.kind == "street"
    assert base.house == str(a["house"])


@settings(max_examples=200, deadline=None)
@given(addresses(), st.booleans(), st.booleans(), st.booleans())
def test_standardizing_twice_changes_nothing(a: dict[str, object], full: bool, dots: bool,
                                             unit_in_line: bool) -> None:
    once = parse_address(*_render(a, full=full, case="title", dots=dots, plus4=True,
                                  unit_in_line=unit_in_line, spaces=" "))
    line = " ".join(x for x in (once.house, once.street) if x)
    twice = parse_address(line, once.unit, once.city, once.state, once.zip5)
    assert twice == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=8)),
       st.one_of(st.none(), st.text(max_size=12)), st.one_of(st.none(), st.text(max_size=12)),
       st.one_of(st.none(), st.text(max_size=10)))
def test_never_raises_on_arbitrary_text(street: str, unit: str | None, city: str | None,
                                        state: str | None, zip_code: str | None) -> None:
    out = parse_address(street, unit, city, state, zip_code)
    assert out.kind in ("street", "po_box", "unknown")
    assert out.zip5 is None or (len(out.zip5) == 5 and out.zip5.isdigit())
    assert out.state is None or len(out.state) == 2
    for value in (out.house, out.street, out.street_name, out.unit, out.city):
        assert value is None or (value and value == value.strip())


@pytest.mark.parametrize("line", ["1 OAK STREET APARTMENT 1A", "1 Oak St Apt 1A",
                                  "1 OAK ST APARTMENT #1A", "1 oak street apt. 1a"])
def test_spelled_out_unit_designator_keeps_its_unit(line: str) -> None:
    # usaddress alone reads "APARTMENT 1A" after a street as a city and a state (found by the
    # formatting-variants property above).
    parsed = parse_address(line, None, "Springfield", "IL", "62701")
    assert (parsed.street, parsed.unit, parsed.city) == ("OAK ST", "1A", "SPRINGFIELD")


def test_a_line_with_another_house_number_keeps_every_other_part() -> None:
    """with_house (the parse's fast path) is dataclasses.replace: a field added to StreetLine
    and not to with_house fails here."""
    line = StreetLine(**{f.name: f.name.upper() for f in fields(StreetLine)})
    assert line.with_house("12") == replace(line, house="12")
