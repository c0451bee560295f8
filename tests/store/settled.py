"""A settled demo community whose members have IBANs and emails, and a helper that stores it (for the tests of
the ledger, payments, statements and billing)."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from schwifty import IBAN
from sqlalchemy.orm import Session

from condivisa.allocation.regulation import AllocationLine
from condivisa.demo import demo_community, demo_prices, demo_readings
from condivisa.engine import settle
from condivisa.ingest import Prices, Readings, parse_prices_csv
from condivisa.model import Community
from condivisa.report import settlement_document
from condivisa.store import save_community, save_settlement
from tests.store.conftest import DEMO_PERIOD, in_period


def member_iban(n: int) -> str:
    """A valid Italian IBAN for the n-th member."""
    return str(IBAN.generate("IT", bank_code="0306909606", account_code=f"{n:012d}").compact)


@dataclass(frozen=True)
class Settled:
    community: Community
    document: dict[str, Any]
    lines: tuple[AllocationLine, ...]


@functools.cache
def demo_settled() -> Settled:
    """The demo community (every member with IBAN and email) settled over three days of June 2025."""
    doc = demo_community().model_dump()
    for n, m in enumerate(doc["members"]):
        m["iban"] = member_iban(n)
        m["email"] = f"{m['id']}@example.org"
    community = Community.model_validate(doc)
    year = demo_readings(community, 2025)
    readings = Readings(
        frame=in_period(year.frame, DEMO_PERIOD), interval_minutes=dict(year.interval_minutes), source="demo"
    )
    prices = parse_prices_csv(io.StringIO(demo_prices(2025).to_csv(index=False)), name="prices.csv")
    prices = Prices(frame=in_period(prices.frame, DEMO_PERIOD), source=prices.source)
    s = settle(community, readings, prices, period=DEMO_PERIOD)
    return Settled(community, settlement_document(s), s.allocation.lines)


def store_settled(session: Session, settled: Settled | None = None) -> tuple[int, int]:
    """Save the community and its settlement; returns (community id, settlement id)."""
    settled = settled or demo_settled()
    community_id = save_community(session, settled.community)
    settlement_id = save_settlement(session, community_id, settled.document, settled.lines)
    return community_id, settlement_id
