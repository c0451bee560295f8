"""Quorum, proxies and votes of assemblies, on cases worked by hand and on invariants."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.errors import InputError
from condivisa.governance.assembly import Attendee, assembly_outcome, check_attendance, decide
from condivisa.governance.legal_forms import QuorumRule, legal_form

MEMBERS = [f"s{i:02d}" for i in range(1, 11)]  # ten members
ASSOCIATION = legal_form("associazione_riconosciuta")


def present(*ids: str) -> list[Attendee]:
    return [Attendee(i) for i in ids]


def test_quorum_missed_at_first_call_reached_at_second() -> None:
    attendees = present("s01", "s02", "s03", "s04")  # 4 of 10: less than half
    votes = {"bilancio": {"s01": "yes", "s02": "yes", "s03": "yes", "s04": "no"}}
    first = assembly_outcome(ASSOCIATION, MEMBERS, attendees, votes, kind="ordinary", call="first")
    assert not first.quorum_reached
    assert first.quorum_needed == 5
    assert not first.items[0].approved
    assert "non costituita" in first.items[0].reason
    assert any("non raggiunto" in r for r in first.reasons)

    second = assembly_outcome(ASSOCIATION, MEMBERS, attendees, votes, kind="ordinary", call="second")
    assert second.quorum_reached
    assert second.items[0].approved
    assert (second.items[0].yes, second.items[0].no, second.items[0].needed) == (3, 1, 3)


def test_tie_is_a_rejection() -> None:
    attendees = present("s01", "s02", "s03", "s04", "s05", "s06")
    votes = {"regolamento": {"s01": "yes", "s02": "yes", "s03": "yes", "s04": "no", "s05": "no", "s06": "no"}}
    out = assembly_outcome(ASSOCIATION, MEMBERS, attendees, votes)
    assert out.quorum_reached
    item = out.items[0]
    assert not item.approved
    assert "parità" in item.reason
    # the same tie on votes cast (abstentions excluded) is also rejected
    rule = QuorumRule(present=Fraction(1, 2), majority=Fraction(1, 2), base="cast")
    assert not decide(MEMBERS, attendees, votes, rule, max_proxies=3).items[0].approved


def test_abstentions_count_against_on_present_but_not_on_cast() -> None:
    attendees = present("s01", "s02", "s03", "s04", "s05")
    votes = {"x": {"s01": "yes", "s02": "yes", "s03": "no", "s04": "abstain", "s05": "abstain"}}
    on_present = decide(MEMBERS, attendees, votes, ASSOCIATION.rule("ordinary", "first"), max_proxies=3)
    assert on_present.quorum_reached  # 5 of 10 = half: "almeno la metà"
    assert not on_present.items[0].approved  # 2 yes of 5 present
    assert on_present.items[0].abstain == 2
    on_cast = decide(MEMBERS, attendees, votes, QuorumRule(Fraction(1, 2), Fraction(1, 2), base="cast"), max_proxies=3)
    assert on_cast.items[0].approved  # 2 yes of 3 cast
    # a member present who does not vote counts as not in favour on "present"
    silent = {"x": {"s01": "yes", "s02": "yes", "s03": "no"}}
    out = decide(MEMBERS, attendees, silent, ASSOCIATION.rule("ordinary", "first"), max_proxies=3)
    assert out.items[0].not_voting == 2 and not out.items[0].approved


def test_proxies_count_for_quorum_and_vote() -> None:
    attendees = [Attendee("s01", ("s05", "s06")), Attendee("s02", ("s07",)), Attendee("s03")]
    votes = {"x": {"s01": "yes", "s05": "yes", "s06": "yes", "s02": "no", "s07": "no", "s03": "abstain"}}
    out = assembly_outcome(ASSOCIATION, MEMBERS, attendees, votes)
    assert (out.in_person, out.by_proxy, out.represented) == (3, 3, 6)
    assert out.quorum_reached
    assert (out.items[0].yes, out.items[0].needed, out.items[0].approved) == (3, 4, False)  # 3 of 6: not > half
    votes["x"]["s03"] = "yes"  # the member present in person changes their vote: 4 of 6
    assert assembly_outcome(ASSOCIATION, MEMBERS, attendees, votes).items[0].approved


def test_proxies_over_the_limit_are_refused() -> None:
    attendees = [Attendee("s01", ("s02", "s03", "s04", "s05"))]
    with pytest.raises(InputError) as err:
        assembly_outcome(ASSOCIATION, MEMBERS, attendees, {}, max_proxies=3)
    assert "s01" in str(err.value) and "4 deleghe" in str(err.value) and "3" in str(err.value)
    # within the limit it passes
    assert assembly_outcome(ASSOCIATION, MEMBERS, [Attendee("s01", ("s02", "s03", "s04"))], {}).represented == 4


@pytest.mark.parametrize(
    ("attendees", "message"),
    [
        ([Attendee("s01"), Attendee("s01")], "due volte"),
        ([Attendee("zz")], "non è un socio"),
        ([Attendee("s01", ("s02",)), Attendee("s02")], "presente di persona"),
        ([Attendee("s01", ("s03",)), Attendee("s02", ("s03",))], "più di una delega"),
        ([Attendee("s01", ("s01",))], "sé stesso"),
        ([Attendee("s01", ("xx",))], "non è un socio"),
    ],
)
def test_bad_attendance_is_named(attendees: list[Attendee], message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_attendance(MEMBERS, attendees, 3)


def test_vote_of_absent_member_is_refused() -> None:
    with pytest.raises(InputError, match="s09"):
        decide(MEMBERS, present("s01"), {"x": {"s09": "yes"}}, ASSOCIATION.rule("ordinary", "second"), max_proxies=3)
    with pytest.raises(InputError, match="non valido"):
        decide(MEMBERS, present("s01"), {"x": {"s01": "forse"}}, ASSOCIATION.rule("ordinary", "second"), max_proxies=3)


def test_extraordinary_association_needs_three_quarters() -> None:
    seven = present(*MEMBERS[:7])
    votes = {"statuto": dict.fromkeys(MEMBERS[:7], "yes")}
    assert not assembly_outcome(ASSOCIATION, MEMBERS, seven, votes, kind="extraordinary").quorum_reached
    eight = present(*MEMBERS[:8])
    out = assembly_outcome(ASSOCIATION, MEMBERS, eight, votes, kind="extraordinary", call="second")
    assert out.quorum_reached and out.quorum_needed == 8 and out.items[0].approved


def test_cooperative_second_call_extraordinary_strict_third_and_two_thirds() -> None:
    coop = legal_form("cooperativa_di_comunita")
    members = [f"c{i}" for i in range(9)]
    three = present("c0", "c1", "c2")  # exactly one third: "più di un terzo" is not reached
    assert not assembly_outcome(coop, members, three, {}, kind="extraordinary", call="second").quorum_reached
    four = present("c0", "c1", "c2", "c3")
    votes = {"fusione": {"c0": "yes", "c1": "yes", "c2": "yes", "c3": "no"}}
    out = assembly_outcome(coop, members, four, votes, kind="extraordinary", call="second")
    assert out.quorum_reached
    assert out.items[0].needed == 3 and out.items[0].approved  # at least 2/3 of 4 = 2.67 -> 3
    votes = {"fusione": {"c0": "yes", "c1": "yes", "c2": "no", "c3": "no"}}
    assert not assembly_outcome(coop, members, four, votes, kind="extraordinary", call="second").items[0].approved


def test_nobody_present_never_constitutes() -> None:
    out = assembly_outcome(ASSOCIATION, MEMBERS, [], {"x": {}}, call="second")
    assert not out.quorum_reached and not out.items[0].approved


@given(
    n=st.integers(min_value=1, max_value=40),
    data=st.data(),
)
def test_one_member_one_vote_invariants(n: int, data: st.DataObject) -> None:
    members = [f"m{i}" for i in range(n)]
    here = data.draw(st.lists(st.sampled_from(members), unique=True))
    choices = data.draw(
        st.lists(st.sampled_from(["yes", "no", "abstain", None]), min_size=len(here), max_size=len(here))
    )
    ballot = {m: c for m, c in zip(here, choices, strict=True) if c is not None}
    out = decide(members, present(*here), {"x": ballot}, ASSOCIATION.rule("ordinary", "first"), max_proxies=3)
    item = out.items[0]
    assert item.yes + item.no + item.abstain + item.not_voting == len(here)
    assert out.quorum_reached == (len(here) > 0 and 2 * len(here) >= n)
    assert item.approved == (out.quorum_reached and 2 * item.yes > len(here))
    # the order of the attendees does not matter: every member weighs the same
    again = decide(
        members, present(*reversed(here)), {"x": ballot}, ASSOCIATION.rule("ordinary", "first"), max_proxies=3
    )
    assert again.items[0].approved == item.approved
