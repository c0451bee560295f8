"""Payment batches on SQLite and PostgreSQL: members paid what the stored lines give them, funds left out and
listed, the file, its payments and its ledger entry stored together; bad member data stores nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from condivisa.errors import InputError
from condivisa.payments import SCHEMA
from condivisa.store import get_settlement
from condivisa.store.ledger import iter_entries, verify_database
from condivisa.store.models import PaymentBatchRow, PaymentRow
from condivisa.store.payments import prepare_payment_batch, set_batch_status
from condivisa.store.repository import NotFoundError
from tests.store.settled import demo_settled, store_settled

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
DEBTOR = ("CER Borgo Demo", "IT60X0542811101000000123456", "BCITITMM", dt.date(2025, 7, 15))
WHEN = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _sums(session: Session, settlement_id: int) -> dict[str, int]:
    stored = get_settlement(session, settlement_id)
    assert stored is not None
    out: dict[str, int] = {}
    for line in stored.lines:
        out[line.recipient] = out.get(line.recipient, 0) + line.amount_cents
    return out


def test_batch_pays_members_and_lists_the_rest(session: Session, engine: Engine) -> None:
    _, settlement_id = store_settled(session)
    sums = _sums(session, settlement_id)
    member_ids = {m.id for m in demo_settled().community.members}
    paid = {k: v for k, v in sums.items() if k in member_ids and v > 0}
    others = {k: v for k, v in sums.items() if k not in member_ids}
    assert paid and any(k.startswith("fund:") for k in others)

    batch = prepare_payment_batch(session, settlement_id, *DEBTOR, created_at=WHEN)
    assert batch.not_paid == others
    assert set(batch.skipped) == {k for k, v in sums.items() if k in member_ids and v == 0}
    assert (batch.count, batch.total_cents) == (len(paid), sum(paid.values()))
    assert batch.message_id == f"CDV-{settlement_id}-1-20250701093000"
    assert batch.file_sha256 == hashlib.sha256(batch.xml).hexdigest()

    root = ET.fromstring(batch.xml)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:NbOfTxs", namespaces=NS) == str(len(paid))
    assert header.findtext("p:CtrlSum", namespaces=NS) == f"{Decimal(sum(paid.values())) / 100:.2f}"
    ibans = {m.id: m.iban for m in demo_settled().community.members}
    in_file = {
        tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS): tx.findtext("p:Amt/p:InstdAmt", namespaces=NS)
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    }
    assert in_file == {ibans[k]: f"{Decimal(v) / 100:.2f}" for k, v in paid.items()}

    row = session.get(PaymentBatchRow, batch.batch_id)
    assert row is not None
    assert (row.status, row.file_sha256, row.total_cents, row.settlement_id) == (
        "prepared",
        batch.file_sha256,
        sum(paid.values()),
        settlement_id,
    )
    payments = session.scalars(select(PaymentRow).where(PaymentRow.batch_id == batch.batch_id)).all()
    assert {p.member: p.amount_cents for p in payments} == paid
    assert all(p.iban == ibans[p.member] and p.end_to_end_id.startswith(batch.message_id) for p in payments)

    [entry] = [e for e in iter_entries(engine) if e.kind == "payment_batch"]
    payload = json.loads(entry.payload)
    assert entry.seq == batch.ledger_seq
    assert (payload["batch_id"], payload["file_sha256"], payload["total_cents"]) == (
        batch.batch_id,
        batch.file_sha256,
        sum(paid.values()),
    )
    assert {p["member"]: p["amount_cents"] for p in payload["payments"]} == paid
    assert not any(str(i) in entry.payload for i in [*ibans.values(), DEBTOR[1]])  # no IBAN in the ledger
    assert verify_database(engine).ok


def test_a_member_without_iban_stores_nothing(session: Session, engine: Engine) -> None:
    community_id, settlement_id = store_settled(session)
    member_ids = {m.id for m in demo_settled().community.members}
    target = next(k for k, v in _sums(session, settlement_id).items() if k in member_ids and v > 0)
    session.commit()  # end the read transaction (on SQLite it could not write after another writer's commit)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE members SET iban = NULL WHERE community_id = :c AND external_id = :m"),
            {"c": community_id, "m": target},
        )
    with pytest.raises(InputError) as info:
        prepare_payment_batch(session, settlement_id, *DEBTOR)
    assert f"socio {target}" in str(info.value) and "senza IBAN" in str(info.value)
    assert _count(engine, "payment_batches") == _count(engine, "payments") == 0
    assert _count(engine, "ledger_entries") == 1  # the settlement's own entry only


def test_bad_debtor_iban_names_the_field(session: Session, engine: Engine) -> None:
    _, settlement_id = store_settled(session)
    with pytest.raises(InputError) as info:
        prepare_payment_batch(session, settlement_id, "CER", "IT60X0542811101000000123457", None, DEBTOR[3])
    assert [p.field for p in info.value.problems] == ["debtor_iban"]
    assert _count(engine, "payment_batches") == 0


def test_a_second_batch_needs_again_and_statuses_move_forward(session: Session, engine: Engine) -> None:
    _, settlement_id = store_settled(session)
    first = prepare_payment_batch(session, settlement_id, *DEBTOR, created_at=WHEN)
    with pytest.raises(InputError, match="gia' distinte"):
        prepare_payment_batch(session, settlement_id, *DEBTOR)
    second = prepare_payment_batch(session, settlement_id, *DEBTOR, again=True, created_at=WHEN)
    assert second.message_id == f"CDV-{settlement_id}-2-20250701093000"
    with pytest.raises(InputError, match="gia' usato"):
        prepare_payment_batch(session, settlement_id, *DEBTOR, again=True, message_id=first.message_id)

    set_batch_status(session, first.batch_id, "sent")
    seq = set_batch_status(session, first.batch_id, "confirmed")
    with pytest.raises(ValueError, match="gia' nello stato"):
        set_batch_status(session, first.batch_id, "sent")
    with pytest.raises(ValueError, match="sconosciuto"):
        set_batch_status(session, first.batch_id, "lost")
    with pytest.raises(NotFoundError):
        set_batch_status(session, 10_000, "sent")
    row = session.get(PaymentBatchRow, first.batch_id)
    assert row is not None and row.status == "confirmed"
    entries = list(iter_entries(engine))
    assert [e.kind for e in entries] == [
        "settlement",
        "payment_batch",
        "payment_batch",
        "payment_status",
        "payment_status",
    ]
    assert entries[-1].seq == seq and json.loads(entries[-1].payload)["to"] == "confirmed"
    assert verify_database(engine).ok


def test_superseded_and_missing_settlements_are_refused(session: Session, engine: Engine) -> None:
    _, settlement_id = store_settled(session)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settlements SET status = 'superseded' WHERE id = :s"), {"s": settlement_id})
    with pytest.raises(InputError, match="sostituita"):
        prepare_payment_batch(session, settlement_id, *DEBTOR)
    with pytest.raises(NotFoundError):
        prepare_payment_batch(session, settlement_id + 1, *DEBTOR)
