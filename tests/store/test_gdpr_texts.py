"""GDPR erasure outside the member's own records: desk tickets, event registrations, matchmaking profiles under the
member's email are pseudonymised; the member's name, emails and IBAN in any text (assembly agendas, district team,
ticket answers) are replaced in place; other people's rows, counts, dates, amounts and the ledger stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from condivisa.store import audit
from condivisa.store.gdpr import ERASED, erase_member, find_text, pseudonym
from condivisa.store.gdpr_texts import Identity, Scrubber
from condivisa.store.governance import create_assembly
from condivisa.store.ledger import verify_database
from condivisa.store.models import Base, MemberRow, MunicipalityRow, RoleAssignment, User
from condivisa.store.models_desk import DeskOfficeRow, DeskTicketRow
from condivisa.store.models_district import DistrictRow, DistrictTeamMemberRow
from condivisa.store.models_energy_team import EnergySubscriberRow, EnergyTeamRow
from condivisa.store.models_engagement import CivicEventRegistrationRow, CivicEventRow
from condivisa.store.models_governance import AgendaItemRow, AssemblyRow, AttendanceRow
from condivisa.store.models_matching import MatchProfileRow
from tests.store.conftest import Demo
from tests.store.test_gdpr import World, _amounts, _build

T0 = dt.datetime(2025, 5, 10, 9, 0, tzinfo=dt.UTC)
PHONE = "+39 333 1234567"


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    audit.install()
    yield
    audit.uninstall()


def _row(obj: Base) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs}


def _ticket(mid: int, token: str, name: str, email: str, **kw: Any) -> DeskTicketRow:
    return DeskTicketRow(
        municipality_id=mid,
        token=token,
        subject="cer",
        form="household",
        answers=kw.pop("answers", {"consumo": "2700 kWh"}),
        orientation={"percorso": "adesione"},
        estimate={"risparmio_eur": 120},
        contact_name=name,
        contact_email=email,
        consent_at=T0,
        **kw,
    )


def _registration(event_id: int, name: str, email: str, token: str, **kw: Any) -> CivicEventRegistrationRow:
    return CivicEventRegistrationRow(
        event_id=event_id,
        name=name,
        email=email,
        stakeholder_group="citizen",
        status=kw.pop("status", "confirmed"),
        token_hash=token * 64,
        consent_at=T0,
        queued_at=T0,
        confirmed_at=T0,
        **kw,
    )


@pytest.fixture
def civic(session: Session, engine: Engine, demo: Demo) -> tuple[World, dict[str, int]]:
    """The GDPR world, and m10 ("Rossi Mario") also a citizen of the municipality's services and named in texts."""
    world = _build(session, engine, demo)
    m10 = session.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
    email, iban = str(m10.email), str(m10.iban)
    town = MunicipalityRow(name="Borgo Demo", slug="borgo-demo", region="Piemonte")
    session.add(town)
    session.flush()
    ids: dict[str, int] = {"municipality": town.id}
    tickets = {
        # the member's current email, in capitals: the same person
        "own": _ticket(
            town.id,
            "t-own",
            "Rossi Mario",
            email.upper(),
            contact_phone=PHONE,
            answers={"consumo": "2700 kWh", "nota": f"Sono Mario Rossi, conto {iban}"},
            answer=f"Gentile Mario Rossi, la richiamiamo al {PHONE}. Scriva a {email}.",
            status="answered",
            answered_at=T0,
        ),
        # the member's former email (known only from the audit log)
        "old": _ticket(town.id, "t-old", "M. Rossi", world.old_email),
        # someone else
        "other": _ticket(town.id, "t-other", "Bianchi Carla", "carla.bianchi@example.org", contact_phone="0111234567"),
    }
    session.add_all(tickets.values())
    events = [
        CivicEventRow(municipality_id=town.id, kind="course", title=f"Corso {n}", starts_at=T0, ends_at=T0)
        for n in (1, 2)
    ]
    session.add_all(events)
    session.flush()
    session.add_all(
        [
            _registration(events[0].id, "Rossi Mario", email.lower(), "a", attended=True),
            _registration(events[0].id, "Bianchi Carla", "carla.bianchi@example.org", "b", attended=True),
            _registration(events[1].id, "Mario Rossi", world.old_email, "c", status="waiting"),
        ]
    )
    session.add(
        MatchProfileRow(
            municipality_id=town.id,
            kind="consumer",
            display_name="Famiglia Rossi Mario",
            description="Cerchiamo una CER vicina",
            contact_name="Rossi Mario",
            contact_email=email,
            contact_phone=PHONE,
            token_hash="p" * 64,
        )
    )
    team = EnergyTeamRow(name="Unione Borgo", baseline_year=2005, target_year=2030, reduction_target_pct=55.0)
    session.add(team)
    session.flush()
    session.add_all(
        [
            EnergySubscriberRow(team_id=team.id, email=email, name="Rossi Mario"),
            EnergySubscriberRow(team_id=team.id, email="carla.bianchi@example.org", name="Bianchi Carla"),
        ]
    )
    district = DistrictRow(municipality_id=town.id, name="Centro")
    session.add(district)
    session.flush()
    session.add_all(
        [
            DistrictTeamMemberRow(district_id=district.id, name="Rossi Mario", role="cittadino"),
            DistrictTeamMemberRow(district_id=district.id, name="Greco Anna", role="tecnico"),
        ]
    )
    session.commit()
    ids["assembly"] = create_assembly(
        session,
        world.community_id,
        held_on=dt.date(2025, 4, 28),
        kind="ordinary",
        call="first",
        agenda=["Approvazione del rendiconto 2024", "Relazione di Mario Rossi sul fondo (Rossi Mario, tesoriere)"],
        place="Sala civica",
        chair="Rossi Mario",
        secretary="Greco Anna",
    )
    session.add_all(
        [
            AttendanceRow(assembly_id=ids["assembly"], member="m10", delegate=None),
            AttendanceRow(assembly_id=ids["assembly"], member="m11", delegate="m10"),
        ]
    )
    session.commit()
    return world, ids


def _registrations(session: Session) -> list[tuple[Any, ...]]:
    rows = session.scalars(select(CivicEventRegistrationRow).order_by(CivicEventRegistrationRow.id))
    return [(r.event_id, r.status, r.attended, r.consent_at, r.queued_at, r.confirmed_at) for r in rows]


def test_erasure_reaches_tickets_registrations_and_minutes(
    session: Session, civic: tuple[World, dict[str, int]]
) -> None:
    world, ids = civic
    alias = pseudonym(world.community_id, "m10")
    needles = [*world.personal, "Mario Rossi", PHONE]
    assert {h.table for h in find_text(session, needles)} >= {
        "desk_tickets",
        "civic_event_registrations",
        "match_profiles",
        "governance_assemblies",
        "governance_agenda_items",
        "district_team_members",
    }
    session.rollback()
    other = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-other")).one()
    other_before = _row(other)
    carla_before = _row(
        session.scalars(
            select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.name == "Bianchi Carla")
        ).one()
    )
    registrations_before = _registrations(session)
    amounts_before = _amounts(session, world.community_id)
    ledger_before = verify_database(session)
    assert ledger_before.ok
    session.rollback()

    report = erase_member(session, world.community_id, "m10")

    assert report.remaining == []
    assert find_text(session, needles) == []  # every text and JSON column of every table
    session.rollback()
    assert not any("verificare" in w for w in report.warnings), report.warnings
    changed = report.changed
    assert changed["desk_tickets"] == 2 and changed["civic_event_registrations"] == 2
    assert changed["match_profiles"] == 1 and changed["district_team_members"] == 1
    assert changed["energy_subscribers"] == 1
    assert changed["governance_assemblies"] == 1 and changed["governance_agenda_items"] == 1

    own = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-own")).one()
    assert own.contact_name == alias and own.contact_phone is None
    assert own.contact_email.startswith("cancellato-") and own.contact_email.endswith("@invalid")
    assert own.answer == f"Gentile {alias}, la richiamiamo al {ERASED}. Scriva a {ERASED}."
    assert own.answers == {"consumo": "2700 kWh", "nota": f"Sono {alias}, conto {ERASED}"}
    assert (own.status, own.answered_at, own.estimate) == ("answered", T0, {"risparmio_eur": 120})
    old = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-old")).one()
    assert (
        old.contact_name == alias and old.contact_email.endswith("@invalid") and old.contact_email != own.contact_email
    )
    assert _row(session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-other")).one()) == other_before

    assert _registrations(session) == registrations_before  # statuses, attendance and dates kept
    mine = session.scalars(select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.name == alias)).all()
    assert len(mine) == 2 and all(r.email.endswith("@invalid") for r in mine)
    carla = session.scalars(
        select(CivicEventRegistrationRow).where(CivicEventRegistrationRow.name == "Bianchi Carla")
    ).one()
    assert _row(carla) == carla_before

    profile = session.scalars(select(MatchProfileRow)).one()
    assert (profile.display_name, profile.contact_name, profile.contact_phone, profile.active) == (
        f"Famiglia {alias}",
        alias,
        None,
        False,
    )
    assert profile.description == "Cerchiamo una CER vicina"
    team = sorted(session.scalars(select(DistrictTeamMemberRow.name)))
    assert team == sorted([alias, "Greco Anna"])
    assert list(session.scalars(select(EnergySubscriberRow.name))) == ["Bianchi Carla"]  # subscription deleted

    assembly = session.get(AssemblyRow, ids["assembly"])
    assert assembly is not None
    assert (assembly.chair, assembly.secretary, assembly.place) == (alias, "Greco Anna", "Sala civica")
    assert assembly.held_on == dt.date(2025, 4, 28)
    items = session.scalars(
        select(AgendaItemRow.title).where(AgendaItemRow.assembly_id == ids["assembly"]).order_by(AgendaItemRow.position)
    ).all()
    assert items == ["Approvazione del rendiconto 2024", f"Relazione di {alias} sul fondo ({alias}, tesoriere)"]
    attendance = session.scalar(select(func.count()).where(AttendanceRow.assembly_id == ids["assembly"]))
    assert attendance == 2  # member ids, not names: kept

    assert _amounts(session, world.community_id) == amounts_before
    ledger_after = verify_database(session)
    assert ledger_after.ok and (ledger_after.count, ledger_after.head) == (ledger_before.count, ledger_before.head)
    session.rollback()
    erased = audit.list_entries(session, action="gdpr_erase")
    assert erased[0].changes["changed"]["desk_tickets"] == 2


def test_namesakes_and_refused_changes_are_left_and_explained(
    session: Session, civic: tuple[World, dict[str, int]]
) -> None:
    world, ids = civic
    alias = pseudonym(world.community_id, "m10")
    session.add_all(
        [
            # same name, another email: maybe another person
            _ticket(
                ids["municipality"], "t-namesake", "Rossi Mario", "mario.rossi.1980@example.org", answer="Rossi Mario"
            ),
            # renaming the first office would collide with the second (unique municipality, name)
            DeskOfficeRow(municipality_id=ids["municipality"], name="Sportello Rossi Mario"),
            DeskOfficeRow(municipality_id=ids["municipality"], name=f"Sportello {alias}"),
        ]
    )
    session.commit()
    namesake_before = _row(session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-namesake")).one())
    session.rollback()

    report = erase_member(session, world.community_id, "m10")

    left = {(h.table, h.column) for h in report.remaining}
    assert left == {("desk_tickets", "contact_name"), ("desk_tickets", "answer"), ("desk_offices", "name")}
    assert any("omonimo" in w and "desk_tickets.contact_name" in w for w in report.warnings)
    assert any("unicita'" in w and "desk_offices.name" in w for w in report.warnings)
    namesake = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-namesake")).one()
    assert _row(namesake) == namesake_before
    own = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-own")).one()
    assert own.contact_name == alias  # the rest of the erasure went through
    assert verify_database(session).ok


def test_scrub_texts_false_only_reports(session: Session, civic: tuple[World, dict[str, int]]) -> None:
    world, _ = civic
    before = _row(session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-own")).one())
    session.rollback()
    report = erase_member(session, world.community_id, "m10", scrub_texts=False)
    assert {"desk_tickets", "civic_event_registrations", "governance_agenda_items"} <= {
        h.table for h in report.remaining
    }
    assert "desk_tickets" not in report.changed
    assert any("su richiesta" in w for w in report.warnings)
    assert _row(session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-own")).one()) == before


def test_scrubber_replaces_whole_words_only() -> None:
    identity = Identity(names={"Rossi Mario"}, emails={"m.rossi@example.org"}, ibans={"IT60X0542811101000000123456"})
    s = Scrubber(identity, "Socio cancellato abc")
    assert s.text("Presiede MARIO ROSSI; scrivere a M.Rossi@Example.org.") == (
        f"Presiede Socio cancellato abc; scrivere a {ERASED}."
    )
    assert s.text("IBAN IT60 X054 2811 1010 0000 0123 456 (Rossi Mariolina)") == f"IBAN {ERASED} (Rossi Mariolina)"
    assert s.text("xm.rossi@example.org") == "xm.rossi@example.org"  # another address
    assert s.fit("Rossi Mario", 15) == ERASED  # the pseudonym does not fit: [cancellato]


def test_export_lists_contact_rows_under_the_members_emails(
    session: Session, civic: tuple[World, dict[str, int]]
) -> None:
    """Art. 15: the export holds the tickets, registrations, profiles and subscriptions under the member's current
    or former email (any case), not the namesakes' or other people's rows, and no access token."""
    from condivisa.store.gdpr import export_member

    world, _ = civic
    data = export_member(session, world.community_id, "m10")
    contacts = data["contacts"]
    assert sorted(contacts) == ["civic_event_registrations", "desk_tickets", "energy_subscribers", "match_profiles"]
    assert sorted(t["contact_name"] for t in contacts["desk_tickets"]) == ["M. Rossi", "Rossi Mario"]  # own + former
    assert sorted(r["status"] for r in contacts["civic_event_registrations"]) == ["confirmed", "waiting"]
    assert [p["contact_phone"] for p in contacts["match_profiles"]] == [PHONE]
    assert [s["name"] for s in contacts["energy_subscribers"]] == ["Rossi Mario"]
    flat = repr(contacts)
    assert "Bianchi" not in flat and "carla" not in flat
    assert not any("token" in key for rows in contacts.values() for row in rows for key in row)
    # another member has none of these
    assert export_member(session, world.community_id, "m11")["contacts"] == {}


def test_an_organisations_name_stays_in_other_texts(session: Session, civic: tuple[World, dict[str, int]]) -> None:
    """A member that is a legal person: its name is not personal data, so the minutes naming it stay; its own row,
    its email (maybe a person's) and the contact rows under it are still erased, and the report says why."""
    world, _ = civic
    alias = pseudonym(world.community_id, "m10")
    m10 = session.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
    with audit.suspended(session):  # the world as it would be: no history of another kind or account name
        m10.kind = "public_body"
        for user in session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.member_id == m10.id)
        ):
            user.display_name = "Verdi Luca"  # the officer behind the body's account: a person
        session.commit()
    agenda_before = sorted(session.scalars(select(AgendaItemRow.title)))
    assert any("Rossi Mario" in t for t in agenda_before)
    session.rollback()

    report = erase_member(session, world.community_id, "m10")

    assert sorted(session.scalars(select(AgendaItemRow.title))) == agenda_before
    assert any("ente (public_body)" in w for w in report.warnings)
    m10 = session.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
    assert (m10.name, m10.email, m10.iban) == (alias, None, None)
    own = session.scalars(select(DeskTicketRow).where(DeskTicketRow.token == "t-own")).one()
    assert own.contact_name == alias and own.contact_phone is None  # under the member's email: still erased
    assert own.answer is not None and PHONE not in own.answer  # the phone, a person's, is still replaced
    assert not find_text(session, ["Verdi Luca"])  # the officer's name is erased wherever it was
    assert verify_database(session).ok
