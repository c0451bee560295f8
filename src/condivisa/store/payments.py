"""Payment batches: the SEPA file paying members what a stored settlement gives them, kept with its payments.

Amounts come from the settlement's stored lines (``settlement_lines``), summed per recipient; members are paid
their sum. Recipients that are not members of the community (``fund:NAME``, a plant owner outside the
community, ``unallocated``) are not paid by the file: they are listed in :attr:`PreparedBatch.not_paid`. Every
batch, and every change of its status, is recorded in the ledger in the same transaction. Money in cents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schwifty import IBAN
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.payments.sepa import NAME_MAX, Payout, build_transfer_file, sepa_text
from condivisa.store.ledger import append_entry, lock_ledger
from condivisa.store.models import (
    PAYMENT_BATCH_STATUSES,
    CommunityRow,
    MemberRow,
    PaymentBatchRow,
    PaymentRow,
    SettlementLineRow,
    SettlementRow,
    utc_now,
)
from condivisa.store.repository import NotFoundError


@dataclass(frozen=True)
class PreparedBatch:
    """A stored payment batch and its file.

    Attributes
    ----------
    batch_id : int
        Its ``payment_batches`` row.
    message_id : str
        The file's message id.
    xml : bytes
        The pain.001 file.
    file_sha256 : str
        SHA-256 of ``xml``, hex (also stored and in the ledger).
    count : int
        Transfers in the file.
    total_cents : int
        Their sum [cents].
    not_paid : dict of str to int
        Recipients of the settlement that are not members, with their cents (funds, third parties...).
    skipped : tuple of str
        Members whose amount is zero.
    ledger_seq : int
        The ledger entry recording the batch.
    """

    batch_id: int
    message_id: str
    xml: bytes
    file_sha256: str
    count: int
    total_cents: int
    not_paid: dict[str, int]
    skipped: tuple[str, ...]
    ledger_seq: int


def settlement_amounts(session: Session, settlement_id: int) -> dict[str, int]:
    """Cents per recipient of a stored settlement, summed over its lines, in order of first appearance."""
    lines = session.execute(
        select(SettlementLineRow.recipient, SettlementLineRow.amount_cents)
        .where(SettlementLineRow.settlement_id == settlement_id)
        .order_by(SettlementLineRow.position)
    )
    out: dict[str, int] = {}
    for recipient, cents in lines:
        out[recipient] = out.get(recipient, 0) + int(cents)
    return out


def prepare_payment_batch(
    session: Session,
    settlement_id: int,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str | None,
    execution_date: dt.date,
    *,
    message_id: str | None = None,
    again: bool = False,
    created_at: dt.datetime | None = None,
) -> PreparedBatch:
    """Build the SEPA file paying the members of a stored settlement, store it with its payments, record it in
    the ledger, commit.

    Call it with no transaction open in the session (or at its very start): it takes the ledger's lock first, and
    on SQLite a transaction that has already read cannot write once another writer has committed (see
    :mod:`condivisa.store.ledger`).

    Parameters
    ----------
    session : Session
    settlement_id : int
    debtor_name, debtor_iban, debtor_bic, execution_date
        The community's account and the requested execution date (see
        :func:`condivisa.payments.build_transfer_file`).
    message_id : str, optional
        Default ``CDV-<settlement>-<n>-<YYYYMMDDhhmmss>`` (n-th batch of the settlement, UTC creation time).
    again : bool
        Allow a new batch for a settlement that already has one (a file the bank refused, say); without it a
        second batch is refused, so that nobody is paid twice by mistake.
    created_at : datetime, optional
        Creation instant (timezone-aware; default now).

    Returns
    -------
    PreparedBatch

    Raises
    ------
    NotFoundError
        No settlement with that id.
    InputError
        A superseded settlement, one already being paid (without ``again``), members without IBAN or name, bad
        IBANs or debtor data: each problem names its member or field. Nothing is stored.
    """
    created = created_at or utc_now()
    try:
        lock_ledger(session)
        # populate_existing: rows cached by the session (expire_on_commit=False) are read again from the database
        settlement = session.get(SettlementRow, settlement_id, populate_existing=True)
        if settlement is None:
            raise NotFoundError(f"ripartizione {settlement_id} non trovata")
        if settlement.status == "superseded":
            raise InputError.one(
                f"la ripartizione {settlement_id} e' stata sostituita: non si paga", field="settlement"
            )
        existing = session.scalars(
            select(PaymentBatchRow)
            .where(PaymentBatchRow.settlement_id == settlement_id)
            .order_by(PaymentBatchRow.id)
            .execution_options(populate_existing=True)
        ).all()
        if existing and not again:
            listed = ", ".join(f"{b.id} ({b.message_id}, {b.status})" for b in existing)
            raise InputError.one(
                f"la ripartizione {settlement_id} ha gia' distinte di pagamento: {listed}; per prepararne un'altra "
                "indicare esplicitamente di ripetere",
                field="settlement",
            )
        community = session.get(CommunityRow, settlement.community_id, populate_existing=True)
        assert community is not None  # foreign key
        members = {
            m.external_id: m
            for m in session.scalars(
                select(MemberRow)
                .where(MemberRow.community_id == settlement.community_id)
                .execution_options(populate_existing=True)
            )
        }
        payouts: list[Payout] = []
        not_paid: dict[str, int] = {}
        problems: list[Problem] = []
        period = f"{settlement.period_start:%d/%m/%Y}-{settlement.period_end:%d/%m/%Y}"
        for recipient, cents in settlement_amounts(session, settlement_id).items():
            member = members.get(recipient)
            if member is None:
                not_paid[recipient] = cents
                continue
            if cents != 0 and not member.iban:
                label = f"{recipient} ({member.name})" if member.name else recipient
                problems.append(Problem(f"socio {label} senza IBAN: aggiungerlo ai dati del socio", field=recipient))
                continue
            remittance = f"{community.name} ripartizione {period} socio {recipient}"
            payouts.append(Payout(recipient, member.name, member.iban or "", cents, remittance))
        if problems:
            raise InputError(problems)
        n = len(existing) + 1
        msg_id = message_id or f"CDV-{settlement_id}-{n}-{created.astimezone(dt.UTC):%Y%m%d%H%M%S}"
        file = build_transfer_file(
            debtor_name, debtor_iban, debtor_bic, payouts, execution_date, msg_id, created_at=created
        )
        taken = session.scalar(select(func.count()).where(PaymentBatchRow.message_id == msg_id))
        if taken:
            raise InputError.one(f"identificativo del messaggio {msg_id!r} gia' usato", field="message_id")
        batch = PaymentBatchRow(
            community_id=settlement.community_id,
            settlement_id=settlement_id,
            message_id=msg_id,
            execution_date=execution_date,
            debtor_name=sepa_text(debtor_name, NAME_MAX),
            debtor_iban=str(IBAN(debtor_iban).compact),
            count=len(file.transfers),
            total_cents=file.total_cents,
            file_sha256=file.sha256,
            status="prepared",
            created_at=created,
        )
        for t in file.transfers:
            batch.payments.append(
                PaymentRow(
                    member=t.member,
                    name=t.name,
                    iban=t.iban,
                    amount_cents=t.amount_cents,
                    end_to_end_id=t.end_to_end_id,
                    remittance=t.remittance,
                )
            )
        session.add(batch)
        session.flush()
        entry = append_entry(
            session,
            "payment_batch",
            settlement.community_id,
            {
                "batch_id": batch.id,
                "message_id": msg_id,
                "settlement_id": settlement_id,
                "community_id": settlement.community_id,
                "execution_date": execution_date.isoformat(),
                "count": batch.count,
                "total_cents": batch.total_cents,
                "file_sha256": file.sha256,
                "payments": [
                    {"member": t.member, "amount_cents": t.amount_cents, "end_to_end_id": t.end_to_end_id}
                    for t in file.transfers
                ],
                "not_paid": not_paid,
            },
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return PreparedBatch(
        batch_id=batch.id,
        message_id=msg_id,
        xml=file.xml,
        file_sha256=file.sha256,
        count=batch.count,
        total_cents=batch.total_cents,
        not_paid=not_paid,
        skipped=file.skipped,
        ledger_seq=entry.seq,
    )


def set_batch_status(session: Session, batch_id: int, status: str) -> int:
    """Move a batch forward (``prepared`` -> ``sent`` -> ``confirmed``), record it in the ledger, commit.

    Returns
    -------
    int
        The ``seq`` of the ledger entry recording the change.

    Raises
    ------
    NotFoundError
        No batch with that id.
    ValueError
        Unknown status, or not a step forward.
    """
    if status not in PAYMENT_BATCH_STATUSES:
        raise ValueError(f"stato {status!r} sconosciuto; ammessi: {', '.join(PAYMENT_BATCH_STATUSES)}")
    try:
        lock_ledger(session)
        batch = session.get(PaymentBatchRow, batch_id, populate_existing=True)
        if batch is None:
            raise NotFoundError(f"distinta di pagamento {batch_id} non trovata")
        old = batch.status
        if PAYMENT_BATCH_STATUSES.index(status) <= PAYMENT_BATCH_STATUSES.index(old):
            raise ValueError(f"la distinta {batch_id} e' gia' nello stato {old!r}: non puo' passare a {status!r}")
        batch.status = status
        entry = append_entry(
            session,
            "payment_status",
            batch.community_id,
            {"batch_id": batch_id, "message_id": batch.message_id, "from": old, "to": status},
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return entry.seq
