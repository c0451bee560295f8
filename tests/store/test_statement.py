"""Member statements from a stored settlement: Italian amounts from the stored lines, ledger reference, rewards
of the member's campaigns, PDF."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from sqlalchemy.orm import Session

from condivisa.report.statement import render_statement_html, render_statement_pdf, statement_for
from condivisa.store import get_settlement
from condivisa.store.ledger import find_entries
from condivisa.store.models import CampaignRewardRow, CampaignRow
from condivisa.store.repository import NotFoundError
from tests.store.settled import demo_settled, store_settled


def italian_eur(cents: int) -> str:
    return str(format_currency(Decimal(cents) / 100, "EUR", locale="it_IT"))


def test_statement_shows_the_member_and_its_stored_amount(session: Session) -> None:
    _, settlement_id = store_settled(session)
    (entry,) = find_entries(session, "settlement", "settlement_id", settlement_id)  # written by save_settlement
    stored = get_settlement(session, settlement_id)
    assert stored is not None
    owners = {p.owner for p in demo_settled().community.plants}
    sums: dict[str, int] = {}
    for line in stored.lines:
        sums[line.recipient] = sums.get(line.recipient, 0) + line.amount_cents
    member = next(m for m in demo_settled().community.members if m.id in owners and sums.get(m.id, 0) > 0)

    st = statement_for(session, settlement_id, member.id, rewards=[("Lavatrice a mezzogiorno", 12.5, 345)])
    assert st.total_cents == sums[member.id]
    assert st.pods == tuple(p.pod for p in member.pods) and st.plants
    page = render_statement_html(st)
    assert html.escape(member.name) in page
    assert italian_eur(sums[member.id]) in page
    assert italian_eur(stored.total_cents) in page
    assert "1 giugno 2025" in page and "3 giugno 2025" in page
    assert f"voce n. {entry.seq}" in page and entry.hash[:16] in page
    assert "Lavatrice a mezzogiorno" in page and italian_eur(345) in page
    assert member.iban is not None and member.iban[-4:] in page and member.iban not in page  # masked
    pdf = render_statement_pdf(st)
    assert pdf.startswith(b"%PDF")


def test_rewards_come_from_the_member_campaigns_by_default(session: Session) -> None:
    community_id, settlement_id = store_settled(session)
    member = demo_settled().community.members[3].id
    inside = CampaignRow(
        community_id=community_id,
        title="Sole di giugno",
        start_date=dt.date(2025, 6, 2),
        end_date=dt.date(2025, 6, 2),
        window_start_hour=11,
        window_end_hour=15,
        budget_cents=10_000,
        status="rewarded",
    )
    outside = CampaignRow(
        community_id=community_id,
        title="Campagna di maggio",
        start_date=dt.date(2025, 5, 1),
        end_date=dt.date(2025, 5, 31),
        window_start_hour=11,
        window_end_hour=15,
        budget_cents=10_000,
        status="rewarded",
    )
    inside.rewards.append(
        CampaignRewardRow(member=member, baseline_kwh=10.0, actual_kwh=14.0, response_kwh=4.0, reward_cents=1234)
    )
    outside.rewards.append(
        CampaignRewardRow(member=member, baseline_kwh=10.0, actual_kwh=11.0, response_kwh=1.0, reward_cents=99)
    )
    session.add_all([inside, outside])
    session.commit()
    st = statement_for(session, settlement_id, member, issued_on=dt.date(2025, 7, 1))
    assert [(r.campaign, r.reward_cents) for r in st.rewards] == [("Sole di giugno", 1234)]
    assert st.ledger is not None and st.ledger.seq == 1  # the settlement's own ledger entry
    page = render_statement_html(st)
    assert "Sole di giugno" in page and "Campagna di maggio" not in page and "1 luglio 2025" in page


def test_unknown_member_or_settlement(session: Session) -> None:
    _, settlement_id = store_settled(session)
    with pytest.raises(NotFoundError, match="m999"):
        statement_for(session, settlement_id, "m999")
    with pytest.raises(NotFoundError):
        statement_for(session, settlement_id + 1, "m01")
