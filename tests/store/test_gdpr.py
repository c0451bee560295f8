"""GDPR: a member's export has their data and nobody else's; erasure removes their personal data from every table
while settlements, payments and the ledger stay intact (pseudonymised)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from condivisa.store import assign_role, audit, create_user, import_readings, member_row_id
from condivisa.store.gdpr import ERASED, erase_member, export_member, find_text, pseudonym
from condivisa.store.governance import admit_member
from condivisa.store.ledger import verify_database
from condivisa.store.models import (
    MemberRow,
    PaymentRow,
    PointRow,
    ReadingRow,
    RoleAssignment,
    SettlementLineRow,
    SettlementRow,
    User,
)
from condivisa.store.payments import prepare_payment_batch
from condivisa.store.repository import NotFoundError
from tests.store.conftest import Demo
from tests.store.settled import member_iban, store_settled


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    audit.install()
    yield
    audit.uninstall()


@dataclass(frozen=True)
class World:
    community_id: int
    settlement_id: int
    user_id: int
    old_email: str
    personal: list[str]
    """m10's name, emails (old and current), IBAN, account email."""
    others: dict[str, list[str]]
    """Name, email, IBAN and PODs of every other member."""


def _build(session: Session, engine: Engine, demo: Demo) -> World:
    cid, sid = store_settled(session)
    import_readings(engine, cid, demo.readings, source="demo")
    prepare_payment_batch(session, sid, "CER Borgo Demo", member_iban(99), None, dt.date(2025, 7, 10))
    members = {m.external_id: m for m in session.scalars(select(MemberRow).where(MemberRow.community_id == cid))}
    m10 = members["m10"]
    admit_member(session, cid, member="m10", admitted_on=dt.date(2025, 1, 1), decision="Delibera 1", name=m10.name)
    session.commit()
    user = create_user(session, email="socio10@example.org", password_hash="$argon2id$x", display_name=m10.name)
    mid = member_row_id(session, cid, "m10")
    assert mid is not None
    assign_role(session, user_id=user.id, role="member", community_id=cid, member_id=mid)
    session.commit()
    old_email = str(m10.email)
    with audit.actor(user_id=user.id, label="web"):
        m10.email = "nuova.mail.m10@example.org"  # the old email is now in the audit log's "before"
        session.commit()
    others: dict[str, list[str]] = {}
    for ext, m in members.items():
        if ext == "m10":
            continue
        pods = list(session.scalars(select(PointRow.pod).where(PointRow.member_id == m.id)))
        others[ext] = [v for v in (m.name, m.email, m.iban, *pods) if v]
    personal = [m10.name, old_email, str(m10.email), str(m10.iban), "socio10@example.org"]
    return World(cid, sid, user.id, old_email, personal, others)


@pytest.fixture
def world(session: Session, engine: Engine, demo: Demo) -> World:
    return _build(session, engine, demo)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _amounts(session: Session, community_id: int) -> dict[str, Any]:
    session.rollback()
    settlements = {
        s.id: (s.total_cents, s.period_start, s.period_end)
        for s in session.scalars(select(SettlementRow).where(SettlementRow.community_id == community_id))
    }
    lines = sorted(
        (r.settlement_id, r.position, r.recipient, r.amount_cents) for r in session.scalars(select(SettlementLineRow))
    )
    payments = sorted((p.member, p.amount_cents, p.end_to_end_id) for p in session.scalars(select(PaymentRow)))
    return {"settlements": settlements, "lines": lines, "payments": payments}


def test_export_has_the_member_and_nobody_else(session: Session, world: World) -> None:
    data = export_member(session, world.community_id, "m10", full_readings=True)
    text = json.dumps(data, ensure_ascii=False)
    for value in world.personal:
        assert value in text
    assert data["member"]["external_id"] == "m10"
    pods = [p["pod"] for p in data["points"]]
    assert pods and all(r["pod"] in pods for r in data["readings"]["rows"])
    assert sum(s["intervals"] for s in data["readings"]["summary"]) == len(data["readings"]["rows"]) > 0
    (settled,) = data["settlements"]
    lines = session.scalars(
        select(SettlementLineRow.amount_cents).where(
            SettlementLineRow.settlement_id == world.settlement_id, SettlementLineRow.recipient == "m10"
        )
    ).all()
    assert settled["total_cents"] == sum(lines) and settled["energy"]["id"] == "m10"
    assert [p["member"] for p in data["payments"]] == ["m10"] and data["payments"][0]["iban"]
    assert data["governance"]["register"][0]["member"] == "m10"
    (account,) = data["accounts"]
    assert account["email"] == "socio10@example.org" and "password_hash" not in account
    assert any(e["object_type"] == "members" and e["action"] == "update" for e in data["audit"])
    strings = list(_strings(data))
    for ext, values in world.others.items():
        for value in values:
            assert not any(value == s or (len(value) > 8 and value in s) for s in strings), (ext, value)
    with pytest.raises(NotFoundError, match="m999"):
        export_member(session, world.community_id, "m999")


def test_erasure_removes_personal_data_and_keeps_the_accounts(session: Session, world: World) -> None:
    before = _amounts(session, world.community_id)
    ledger_before = verify_database(session)
    assert ledger_before.ok
    session.rollback()
    assert find_text(session, world.personal)  # the data is there to begin with
    session.rollback()
    other = session.scalars(select(MemberRow).where(MemberRow.external_id == "m11")).one()
    other_before = (other.name, other.email, other.iban)

    with audit.actor(label="cli"):
        report = erase_member(session, world.community_id, "m10")
    alias = pseudonym(world.community_id, "m10")
    assert report.pseudonym == alias and alias.startswith("Socio cancellato ")
    assert report.remaining == []
    assert find_text(session, world.personal) == []  # every text and JSON column of every table
    session.rollback()
    assert report.changed["payments"] == 1 and report.changed["governance_register"] == 1
    assert report.changed["role_assignments"] == 1 and report.users_pseudonymised == [world.user_id]
    assert report.changed["audit_log"] >= 2
    assert any("libro soci" in w for w in report.warnings)  # still a member in the register

    m10 = session.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
    assert (m10.name, m10.email, m10.iban) == (alias, None, None)
    assert session.scalar(select(func.count()).where(RoleAssignment.member_id == m10.id)) == 0
    user = session.get(User, world.user_id)
    assert user is not None and not user.active and user.email.endswith("@invalid") and user.display_name == alias
    payment = session.scalars(select(PaymentRow).where(PaymentRow.member == "m10")).one()
    assert (payment.name, payment.iban) == (alias, "")

    assert _amounts(session, world.community_id) == before  # settlements, lines, payments: same amounts
    ledger_after = verify_database(session)
    assert ledger_after.ok and ledger_after.count == ledger_before.count and ledger_after.head == ledger_before.head
    session.rollback()

    other = session.scalars(select(MemberRow).where(MemberRow.external_id == "m11")).one()
    assert (other.name, other.email, other.iban) == other_before
    assert session.scalar(select(func.count()).select_from(ReadingRow)) > 0  # readings kept by default

    erased = audit.list_entries(session, action="gdpr_erase")
    assert len(erased) == 1 and erased[0].actor == "cli"
    assert erased[0].changes["pseudonym"] == alias
    blanked = [
        e for e in audit.list_entries(session, object_type="members", object_ids=[str(m10.id)]) if e.action == "update"
    ]
    assert blanked[0].changes["email"] == {"before": ERASED, "after": ERASED}
    session.rollback()

    export = export_member(session, world.community_id, "m10")
    text = json.dumps(export, ensure_ascii=False)
    assert alias in text and not any(v in text for v in world.personal)


def test_erasure_with_readings_and_a_user_with_other_roles(session: Session, world: World) -> None:
    assign_role(session, user_id=world.user_id, role="manager", community_id=world.community_id)
    session.commit()
    m10 = session.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
    pods = list(session.scalars(select(PointRow.pod).where(PointRow.member_id == m10.id)))
    total = session.scalar(select(func.count()).select_from(ReadingRow))
    mine = session.scalar(select(func.count()).where(ReadingRow.pod.in_(pods)))
    assert mine
    session.rollback()

    report = erase_member(session, world.community_id, "m10", delete_readings=True)
    assert report.readings_deleted == mine
    assert session.scalar(select(func.count()).select_from(ReadingRow)) == total - mine
    assert report.users_kept == [world.user_id] and report.users_pseudonymised == []
    user = session.get(User, world.user_id)
    assert user is not None and user.active and user.email == "socio10@example.org"
    assert [r.role for r in user.roles] == ["manager"]
    # the account's email stays (the user is still a manager) and is reported as remaining nowhere else
    assert all(h.table == "users" or "socio10" not in h.key for h in report.remaining)
    assert verify_database(session).ok
