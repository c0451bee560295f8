"""Governance storage on SQLite and PostgreSQL: profile, register with history, assemblies, fund balance."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from condivisa.errors import InputError
from condivisa.governance.assembly import Attendee
from condivisa.store import NotFoundError, save_community
from condivisa.store.governance import (
    add_beneficiary,
    admit_member,
    assembly_result,
    charter_of,
    create_assembly,
    disburse,
    fund_summaries,
    get_profile,
    list_beneficiaries,
    list_disbursements,
    list_register,
    members_on,
    record_attendance,
    record_votes,
    register_founders,
    register_mismatches,
    save_profile,
    withdraw_member,
)
from tests.store.settled import demo_settled, store_settled

FOUNDED = dt.date(2024, 3, 1)


def test_profile_defaults_then_saved(session: Session) -> None:
    cid = save_community(session, demo_settled().community, municipality="Borgo Demo")
    p = get_profile(session, cid)
    assert not p.stored and p.legal_form == "associazione_riconosciuta" and p.seat_municipality == "Borgo Demo"
    p = save_profile(
        session, cid, legal_form_key="cooperativa_di_comunita", seat_address="Via Roma 1", seat_municipality="Borgo"
    )
    assert p.stored and p.max_proxies == 10 and p.seat_address == "Via Roma 1"
    with pytest.raises(InputError, match="legal_form"):
        save_profile(session, cid, legal_form_key="spa", seat_address="", seat_municipality="")
    with pytest.raises(InputError, match="max_proxies"):
        save_profile(session, cid, legal_form_key="consorzio", seat_address="", seat_municipality="", max_proxies=99)
    charter = charter_of(session, cid)
    assert charter.municipality == "Borgo" and charter.legal_form.key == "cooperativa_di_comunita"


def test_register_keeps_history_and_flags_mismatches(session: Session) -> None:
    cid = save_community(session, demo_settled().community)
    n = len(demo_settled().community.members)
    assert len(register_mismatches(session, cid)) == n  # nobody registered yet
    assert register_founders(session, cid, admitted_on=FOUNDED, decision="atto costitutivo") == n
    assert register_mismatches(session, cid) == []
    assert register_founders(session, cid, admitted_on=FOUNDED, decision="x") == 0  # idempotent

    entry = next(e for e in list_register(session, cid) if e.member == "m12")
    with pytest.raises(InputError, match="già iscritto"):
        admit_member(session, cid, member="m12", admitted_on=FOUNDED, decision="delibera 1")
    with pytest.raises(InputError, match="precede"):
        withdraw_member(session, cid, entry.id, withdrawn_on=dt.date(2020, 1, 1), reason="trasloco")
    withdraw_member(session, cid, entry.id, withdrawn_on=dt.date(2025, 5, 31), reason="trasloco")
    with pytest.raises(InputError, match="già receduto"):
        withdraw_member(session, cid, entry.id, withdrawn_on=dt.date(2025, 6, 30), reason="di nuovo")
    assert "m12" in members_on(session, cid, dt.date(2025, 5, 30))
    assert "m12" not in members_on(session, cid, dt.date(2025, 5, 31))
    assert any("m12: receduto" in m for m in register_mismatches(session, cid))

    admit_member(session, cid, member="m12", admitted_on=dt.date(2025, 9, 1), decision="delibera CdA 7/2025")
    history = list_register(session, cid, member="m12")
    assert [e.active for e in history] == [False, True]  # the old row stays
    admit_member(session, cid, member="nuovo", name="Nuovo Socio", admitted_on=dt.date(2025, 9, 1), decision="d")
    assert any("nuovo: iscritto nel libro dei soci ma non tra i soci" in m for m in register_mismatches(session, cid))
    with pytest.raises(NotFoundError):
        withdraw_member(session, cid + 1, entry.id, withdrawn_on=dt.date(2025, 6, 30), reason="x")


def test_assembly_attendance_votes_and_outcome(session: Session) -> None:
    cid = save_community(session, demo_settled().community)
    register_founders(session, cid, admitted_on=FOUNDED, decision="atto costitutivo")
    members = sorted(members_on(session, cid, dt.date(2026, 4, 1)))
    aid = create_assembly(
        session, cid, held_on=dt.date(2026, 4, 1), kind="ordinary", call="first", agenda=["Rendiconto", "Fondo"]
    )
    with pytest.raises(InputError, match="deleghe"):  # default limit of the association: 3
        record_attendance(session, cid, aid, [Attendee(members[0], tuple(members[1:5]))])
    attendees = [Attendee(m) for m in members[:18]] + [Attendee(members[18], (members[19], members[20]))]
    record_attendance(session, cid, aid, attendees)
    record_votes(session, cid, aid, 0, dict.fromkeys(members[:21], "yes"))
    record_votes(session, cid, aid, 1, {**dict.fromkeys(members[:10], "yes"), **dict.fromkeys(members[10:20], "no")})
    with pytest.raises(InputError, match="non è presente"):
        record_votes(session, cid, aid, 0, {members[-1]: "yes"})
    assembly, outcome = assembly_result(session, cid, aid)
    assert assembly.attendance[members[19]] == members[18]
    assert outcome.represented == 21 and outcome.members == len(members)
    assert outcome.quorum_reached == (len(members) <= 2 * 21)
    assert outcome.items[0].approved
    assert not outcome.items[1].approved and "parità" in outcome.items[1].reason
    # a smaller attendance drops the votes of those no longer represented
    record_attendance(session, cid, aid, [Attendee(members[0])])
    assembly, outcome = assembly_result(session, cid, aid)
    assert set(assembly.votes[0]) == {members[0]} and not outcome.quorum_reached
    with pytest.raises(InputError, match="ordine del giorno"):
        create_assembly(session, cid, held_on=dt.date(2026, 4, 1), kind="ordinary", call="first", agenda=[" "])


def test_fund_balance_from_settlements_never_negative(session: Session) -> None:
    cid, _ = store_settled(session)
    register_founders(session, cid, admitted_on=FOUNDED, decision="atto costitutivo")
    sums = {f.fund: f for f in fund_summaries(session, cid)}
    expected = {line.to: 0 for line in demo_settled().lines if line.to.startswith("fund:")}
    for line in demo_settled().lines:
        if line.to.startswith("fund:"):
            expected[line.to] += line.amount_cents
    assert {f: s.inflow_cents for f, s in sums.items()} == expected
    social = sums["fund:sociale"]
    assert social.inflow_cents > 0

    bid = add_beneficiary(
        session, cid, fund="fund:sociale", pseudonym="Famiglia A", isee_band="0-6000", admitted_on=dt.date(2025, 7, 1)
    )
    add_beneficiary(
        session,
        cid,
        fund="fund:sociale",
        pseudonym="Socio m11",
        member="m11",
        isee_band="6000-9530",
        admitted_on=dt.date(2025, 7, 1),
    )
    with pytest.raises(InputError, match="già usato"):
        add_beneficiary(
            session, cid, fund="fund:sociale", pseudonym="Famiglia A", isee_band="0-6000", admitted_on=FOUNDED
        )
    with pytest.raises(InputError, match="fund"):
        add_beneficiary(session, cid, fund="fund:altro", pseudonym="B", isee_band="0-6000", admitted_on=FOUNDED)
    with pytest.raises(InputError, match="non è socio"):
        add_beneficiary(
            session, cid, fund="fund:sociale", pseudonym="C", member="zz", isee_band="0-6000", admitted_on=FOUNDED
        )

    disburse(session, cid, beneficiary_id=bid, paid_on=dt.date(2025, 8, 1), amount_cents=social.inflow_cents - 1)
    with pytest.raises(InputError, match="superiore al saldo"):
        disburse(session, cid, beneficiary_id=bid, paid_on=dt.date(2025, 8, 2), amount_cents=2)
    with pytest.raises(InputError, match="positivo"):
        disburse(session, cid, beneficiary_id=bid, paid_on=dt.date(2025, 8, 2), amount_cents=0)
    disburse(session, cid, beneficiary_id=bid, paid_on=dt.date(2025, 8, 2), amount_cents=1)
    after = {f.fund: f for f in fund_summaries(session, cid)}["fund:sociale"]
    assert after.balance_cents == 0 and after.disbursed_cents == social.inflow_cents
    assert [b.paid_cents for b in list_beneficiaries(session, cid) if b.id == bid] == [social.inflow_cents]
    assert [d.amount_cents for d in list_disbursements(session, cid)] == [1, social.inflow_cents - 1]
