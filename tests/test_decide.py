from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from matchgate.codes import Code
from matchgate.decide import Candidate, RequestFacts, Thresholds, decide

T = Thresholds(match_probability=0.99, review_probability=0.8, ambiguity_margin=3.0)
REQ = RequestFacts(request_id="R1", std_first_canon="WILLIAM", std_dob="1980-04-07")


def cand(tin: str = "123456789", p: float = 0.999, w: float = 12.0, **kw: object) -> Candidate:
    base = Candidate(tin=tin, match_probability=p, match_weight=w, address_is_last_known=True,
                     std_first_canon="WILLIAM", std_last="SMITH", std_dob="1980-04-07",
                     household_key="1 MAIN ST 02134", corroborated_by=frozenset({"address"}))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_no_candidates_is_no_match() -> None:
    d = decide(REQ, [], T)
    assert (d.code, d.reason, d.matched_tin) == (Code.NO_MATCH, "no_candidate", None)


def test_weak_candidate_is_no_match_and_names_no_taxpayer() -> None:
    d = decide(REQ, [cand(p=0.5, w=0.0)], T)
    assert d.code == Code.NO_MATCH and d.matched_tin is None


def test_single_strong_candidate_at_last_known_address_is_verified() -> None:
    d = decide(REQ, [cand()], T)
    assert (d.code, d.matched_tin) == (Code.VERIFIED, "123456789")


def test_strong_candidate_elsewhere_is_address_differs() -> None:
    d = decide(REQ, [cand(address_is_last_known=False)], T)
    assert d.code == Code.ADDRESS_DIFFERS


def test_review_band() -> None:
    d = decide(REQ, [cand(p=0.9, w=3.2)], T)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "review_band")


def test_close_runner_up_is_ambiguous() -> None:
    other = cand(tin="987654321", p=0.998, w=11.0, std_first_canon="JOHN",
                 household_key="9 ELM ST 02134")
    d = decide(REQ, [cand(), other], T)
    assert d.code == Code.AMBIGUOUS and d.runner_up_probability == 0.998


def test_distant_runner_up_does_not_block() -> None:
    other = cand(tin="987654321", p=0.85, w=2.5, std_first_canon="JOHN",
                 household_key="9 ELM ST 02134")
    assert decide(REQ, [cand(), other], T).code == Code.VERIFIED


def test_father_and_son_in_one_household_without_discriminator_is_ambiguous() -> None:
    req = RequestFacts(request_id="R1", std_first_canon="WILLIAM")
    son = cand(std_suffix="JR", std_dob="2001-01-01", w=14.0)
    father = cand(tin="987654321", std_suffix=None, std_dob="1975-02-02", w=6.0, p=0.985)
    d = decide(req, [son, father], T)
    assert (d.code, d.reason) == (Code.AMBIGUOUS, "household_conflict")


def test_date_of_birth_singles_out_one_household_member() -> None:
    req = RequestFacts(request_id="R1", std_first_canon="WILLIAM", std_dob="2001-01-01")
    son = cand(std_suffix="JR", std_dob="2001-01-01", w=14.0)
    father = cand(tin="987654321", std_suffix=None, std_dob="1975-02-02", w=6.0, p=0.985)
    d = decide(req, [son, father], T)
    assert (d.code, d.matched_tin) == (Code.VERIFIED, "123456789")


def test_suffix_singles_out_one_household_member() -> None:
    req = RequestFacts(request_id="R1", std_first_canon="WILLIAM", std_suffix="JR")
    son = cand(std_suffix="JR", std_dob="2001-01-01", w=14.0)
    father = cand(tin="987654321", std_suffix="SR", std_dob="1975-02-02", w=13.0, p=0.985)
    assert decide(req, [son, father], T).matched_tin == "123456789"


def test_conflicting_suffix_never_discloses() -> None:
    req = RequestFacts(request_id="R1", std_first_canon="WILLIAM", std_suffix="SR")
    d = decide(req, [cand(std_suffix="JR")], T)
    assert d.code == Code.PENDING_REVIEW


def test_different_date_of_birth_never_discloses_but_swap_is_forgiven() -> None:
    assert decide(REQ, [cand(std_dob="1980-04-08")], T).code == Code.PENDING_REVIEW
    assert decide(REQ, [cand(std_dob="1980-07-04")], T).code == Code.VERIFIED


def test_name_only_evidence_goes_to_review() -> None:
    d = decide(REQ, [cand(corroborated_by=frozenset())], T)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "name_only")


def test_address_alone_with_a_loose_name_never_discloses() -> None:
    """A household member shares the address; only a firm name tells them apart."""
    loose = cand(name_firm=False)
    d = decide(REQ, [loose], T)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "name_partial")
    with_dob = replace(loose, corroborated_by=frozenset({"address", "dob"}))
    assert decide(REQ, [with_dob], T).code == Code.VERIFIED


probs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.lists(st.tuples(probs, st.floats(-20, 30), st.booleans()), max_size=5))
def test_disclosure_only_for_one_plausible_corroborated_candidate(
        specs: list[tuple[float, float, bool]]) -> None:
    cands = [cand(tin=f"{i:09d}", p=p, w=w, std_first_canon=f"N{i}", household_key=f"H{i}",
                  corroborated_by=frozenset({"dob"}) if c else frozenset())
             for i, (p, w, c) in enumerate(specs)]
    d = decide(REQ, cands, T)
    if d.code in (Code.VERIFIED, Code.ADDRESS_DIFFERS):
        best = next(c for c in cands if c.tin == d.matched_tin)
        assert best.match_probability >= T.match_probability
        assert best.corroborated_by
        assert all(best.match_weight - c.match_weight >= T.ambiguity_margin
                   or c.match_probability < T.review_probability
                   for c in cands if c is not best)


def test_household_member_with_another_given_name_is_set_aside() -> None:
    spouse = cand(given_name_agrees=False, corroborated_by=frozenset({"address"}))
    d = decide(REQ, [spouse], T)
    assert (d.code, d.matched_tin) == (Code.NO_MATCH, None)


def test_other_given_name_with_matching_birth_date_goes_to_review() -> None:
    d = decide(REQ, [cand(given_name_agrees=False, corroborated_by=frozenset({"dob"}))], T)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "name_partial")


def test_partial_names_and_conflicting_middle_initials_never_disclose() -> None:
    for kw in ({"given_name_agrees": None}, {"surname_agrees": False},
               {"conflicts": frozenset({"middle_name"})}):
        d = decide(REQ, [cand(**kw)], T)
        assert (d.code, d.reason) == (Code.PENDING_REVIEW, "name_partial"), kw


def test_a_tin_that_contradicts_the_candidate_never_discloses() -> None:
    d = decide(REQ, [cand(conflicts=frozenset({"tin"}))], T)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "review_band")


T2 = replace(T, min_identifiers=2)
ONE_OF_EACH = ("address", "dob", "tin")


def test_identifiers_count_middle_dob_address_and_a_tin_for_two() -> None:
    from matchgate.decide import identifiers
    assert identifiers(cand(corroborated_by=frozenset())) == 0
    assert identifiers(cand(corroborated_by=frozenset({"address"}))) == 1
    assert identifiers(cand(corroborated_by=frozenset({"address"}), middle_agrees=True)) == 2
    assert identifiers(cand(corroborated_by=frozenset({"address"}), middle_agrees=None)) == 1
    assert identifiers(cand(corroborated_by=frozenset({"dob", "address"}))) == 2
    assert identifiers(cand(corroborated_by=frozenset({"tin"}))) == 2
    assert identifiers(cand(corroborated_by=frozenset(ONE_OF_EACH), middle_agrees=True)) == 5


def test_name_and_address_alone_go_to_review_when_two_identifiers_are_required() -> None:
    """A daughter of the same name living with her mother: only the address corroborates."""
    d = decide(REQ, [cand(corroborated_by=frozenset({"address"}))], T2)
    assert (d.code, d.reason, d.matched_tin) == (Code.PENDING_REVIEW, "one_identifier",
                                                  "123456789")
    # the same candidate discloses under an agreement that accepts one identifier
    assert decide(REQ, [cand(corroborated_by=frozenset({"address"}))], T).code == Code.VERIFIED


def test_name_and_birth_date_alone_go_to_review_when_two_identifiers_are_required() -> None:
    """A namesake born the same day, living elsewhere."""
    d = decide(REQ, [cand(corroborated_by=frozenset({"dob"}), address_is_last_known=False)], T2)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "one_identifier")


@given(st.sets(st.sampled_from(ONE_OF_EACH)), st.sampled_from([None, True]),
       st.integers(1, 3))
def test_disclosure_needs_the_required_identifiers(found: set[str], middle: bool | None,
                                                    required: int) -> None:
    c = cand(corroborated_by=frozenset(found), middle_agrees=middle)
    d = decide(REQ, [c], replace(T, min_identifiers=required))
    count = len(found - {"tin"}) + 2 * ("tin" in found) + (middle is True)
    if not found:
        assert d.reason == "name_only"
    elif count >= required:
        assert d.code == Code.VERIFIED
    else:
        assert (d.code, d.reason) == (Code.PENDING_REVIEW, "one_identifier")


def test_a_heaped_birth_date_counts_only_beside_the_address() -> None:
    """A date that many records carry (a placeholder, the first of January) is shared by many
    namesakes elsewhere: with the middle initial it is not two identifiers; at the taxpayer's
    address, where a relative seldom shares it, it still is."""
    elsewhere = cand(corroborated_by=frozenset({"dob"}), middle_agrees=True, dob_heaped=True,
                     address_is_last_known=False)
    d = decide(REQ, [elsewhere], T2)
    assert (d.code, d.reason) == (Code.PENDING_REVIEW, "one_identifier")
    ordinary = replace(elsewhere, dob_heaped=False)
    assert decide(REQ, [ordinary], T2).code == Code.ADDRESS_DIFFERS
    at_home = cand(corroborated_by=frozenset({"dob", "address"}), dob_heaped=True)
    assert decide(REQ, [at_home], T2).code == Code.VERIFIED


def test_a_birth_date_beside_a_rare_name_counts_for_two() -> None:
    """A namesake born the same day is out of reach when few people bear the full name; with a
    common name, or a heaped date, the birth date alone stays one identifier."""
    from matchgate.decide import RARE_NAME_WEIGHT
    rare = cand(corroborated_by=frozenset({"dob"}), address_is_last_known=False,
                name_weight=RARE_NAME_WEIGHT)
    assert decide(REQ, [rare], T2).code == Code.ADDRESS_DIFFERS
    common = replace(rare, name_weight=RARE_NAME_WEIGHT - 2)
    assert decide(REQ, [common], T2).reason == "one_identifier"
    assert decide(REQ, [replace(rare, dob_heaped=True)], T2).reason == "one_identifier"


def test_a_middle_initial_beside_the_address_alone_counts_unless_the_agreement_refuses() -> None:
    """A relative at the address shares the middle initial about one time in ten: an agreement
    may refuse it as the address's only companion; a full middle name, or the initial beside a
    date of birth, still counts."""
    strict = replace(T2, initial_with_address=False)
    initial = cand(corroborated_by=frozenset({"address"}), middle_agrees=True)
    assert decide(REQ, [initial], T2).code == Code.VERIFIED
    assert decide(REQ, [initial], strict).reason == "one_identifier"
    assert decide(REQ, [replace(initial, middle_full=True)], strict).code == Code.VERIFIED
    with_dob = replace(initial, corroborated_by=frozenset({"dob"}), address_is_last_known=False)
    assert decide(REQ, [with_dob], strict).code == Code.ADDRESS_DIFFERS
