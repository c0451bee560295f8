"""A member's statement (estratto conto) for a stored settlement, in Italian: HTML and PDF (WeasyPrint).

:class:`Statement` holds everything shown; :func:`render_statement_html` and :func:`render_statement_pdf` are
pure (no database, no clock); :func:`statement_for` reads a stored settlement, the member and the ledger into a
:class:`Statement`. Money in integer cents, shown as ``1.234,56 €``; energy in kWh; dates as ``1 giugno 2025``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa import __version__
from condivisa.report.italian import LOCALE, format_number
from condivisa.store.ledger import find_entries
from condivisa.store.models import CampaignRewardRow, CampaignRow, CommunityRow, MemberRow
from condivisa.store.repository import NotFoundError, get_settlement

CONFIGURATION_NAMES = {
    "CER": "Comunità energetica rinnovabile",
    "AUC": "Gruppo di autoconsumatori che agiscono collettivamente",
    "AID": "Autoconsumatore individuale a distanza",
}

KIND_NAMES = {
    "household": "cliente domestico",
    "business": "impresa",
    "municipality": "comune",
    "local_authority": "ente territoriale",
    "public_body": "ente pubblico",
    "third_sector": "ente del terzo settore",
    "religious": "ente religioso",
    "environmental": "associazione ambientale",
    "university": "università o ente di ricerca",
    "other": "altro",
}

BASIS_NAMES = {
    "shared_withdrawal": "in proporzione all'energia condivisa prelevata",
    "withdrawn": "in proporzione all'energia prelevata",
    "incentivised_injection": "in proporzione all'energia incentivata immessa dagli impianti",
    "injected": "in proporzione all'energia immessa dagli impianti",
    "equal": "in parti uguali",
}

STATUS_NAMES = {"computed": "calcolata", "approved": "approvata", "superseded": "sostituita"}


@dataclass(frozen=True)
class StatementLine:
    """What one rule of the regulation gives the member [cents]; ``rule`` 1-based, None for the excess."""

    rule: int | None
    basis: str | None
    amount_cents: int


@dataclass(frozen=True)
class PlantFigures:
    """A plant owned by the member: energy injected and incentivised in the period [kWh]."""

    id: str
    injected_kwh: float
    incentivised_kwh: float


@dataclass(frozen=True)
class Reward:
    """A demand-response reward: the campaign, the member's measured response [kWh] and reward [cents]."""

    campaign: str
    response_kwh: float
    reward_cents: int


@dataclass(frozen=True)
class LedgerRef:
    """The ledger entry that records the settlement: its number and hash (hex)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Statement:
    """Everything a member's statement shows.

    Energies in kWh, money in cents; ``lines`` are the member's allocation lines of the settlement, whose sum
    is the member's share; ``community_total_cents`` is the whole settlement's total.
    """

    community_name: str
    configuration: str
    settlement_id: int
    period_start: dt.date
    period_end: dt.date
    status: str
    member_id: str
    member_name: str
    member_kind: str | None
    pods: tuple[str, ...]
    withdrawn_kwh: float
    shared_withdrawal_kwh: float
    community_total_cents: int
    lines: tuple[StatementLine, ...]
    issued_on: dt.date
    email: str | None = None
    iban: str | None = None
    plants: tuple[PlantFigures, ...] = ()
    rewards: tuple[Reward, ...] = ()
    ledger: LedgerRef | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def total_cents(self) -> int:
        """The member's share of the settlement [cents]."""
        return sum(x.amount_cents for x in self.lines)

    @property
    def rewards_cents(self) -> int:
        """The sum of the demand-response rewards [cents]."""
        return sum(r.reward_cents for r in self.rewards)


# Formats --------------------------------------------------------------------------------------------------------


def format_cents(cents: int) -> str:
    """Money in Italian format from integer cents, exactly: ``123456`` -> ``1.234,56 €``."""
    return str(format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE))


def format_day(day: dt.date) -> str:
    """A date in Italian words: ``1 giugno 2025``."""
    return str(format_date(day, format="d MMMM y", locale=LOCALE))


def mask_iban(iban: str) -> str:
    """An IBAN shown by its country, check digits and last four characters only: ``IT60 **** 3456``."""
    compact = iban.replace(" ", "")
    return f"{compact[:4]} **** {compact[-4:]}"


def rule_label(line: StatementLine) -> str:
    """The Italian description of an allocation line."""
    if line.rule is None:
        return "Quota eccedentaria della tariffa premio"
    how = BASIS_NAMES.get(line.basis or "", "quota assegnata nominativamente" if line.basis is None else line.basis)
    return f"Regola {line.rule} del regolamento, {how}"


def _kwh(x: float) -> str:
    return f"{format_number(x, 1)} kWh"


def _context(s: Statement) -> dict[str, Any]:
    share = f"{format_number(100 * s.shared_withdrawal_kwh / s.withdrawn_kwh, 1)} %" if s.withdrawn_kwh > 0 else "-"
    return {
        "s": s,
        "configuration_name": CONFIGURATION_NAMES.get(s.configuration, s.configuration),
        "kind": KIND_NAMES.get(s.member_kind or "", s.member_kind or ""),
        "period": f"dal {format_day(s.period_start)} al {format_day(s.period_end)}",
        "status": STATUS_NAMES.get(s.status, s.status),
        "iban": mask_iban(s.iban) if s.iban else None,
        "energy": [
            ("Energia prelevata dalla rete", _kwh(s.withdrawn_kwh)),
            ("di cui condivisa nella configurazione", _kwh(s.shared_withdrawal_kwh)),
            ("Quota condivisa del prelievo", share),
        ],
        "plants": [(p.id, _kwh(p.injected_kwh), _kwh(p.incentivised_kwh)) for p in s.plants],
        "lines": [(rule_label(x), format_cents(x.amount_cents)) for x in s.lines],
        "total": format_cents(s.total_cents),
        "community_total": format_cents(s.community_total_cents),
        "rewards": [(r.campaign, _kwh(r.response_kwh), format_cents(r.reward_cents)) for r in s.rewards],
        "rewards_total": format_cents(s.rewards_cents),
        "ledger": (s.ledger.seq, s.ledger.hash[:16]) if s.ledger else None,
        "issued": format_day(s.issued_on),
        "version": __version__,
    }


def render_statement_html(s: Statement) -> str:
    """The statement as a self-contained HTML page (Italian)."""
    env = Environment(loader=PackageLoader("condivisa.report", "templates"), autoescape=select_autoescape())
    return env.get_template("statement.html.j2").render(**_context(s))


def render_statement_pdf(s: Statement) -> bytes:
    """The statement as a PDF (A4), rendered from :func:`render_statement_html` by WeasyPrint."""
    from weasyprint import HTML  # imported here: loading it costs time

    pdf = HTML(string=render_statement_html(s)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


# From the database ----------------------------------------------------------------------------------------------


def _member_figures(document: dict[str, Any], member: str) -> tuple[float, float]:
    for m in document.get("per_member", []):
        if m.get("id") == member:
            return float(m.get("withdrawn_kwh", 0.0)), float(m.get("shared_withdrawal_kwh", 0.0))
    return 0.0, 0.0


def statement_for(
    session: Session,
    settlement_id: int,
    member_external_id: str,
    *,
    rewards: Sequence[tuple[str, float, int]] | None = None,
    issued_on: dt.date | None = None,
) -> Statement:
    """Read a member's statement from the database.

    Parameters
    ----------
    session : Session
    settlement_id : int
        A stored settlement.
    member_external_id : str
        The member's id in the community (``m01``).
    rewards : sequence of (campaign title, response kWh, reward cents), optional
        Demand-response rewards to show; default: the member's rewards of the community's campaigns in state
        ``rewarded`` that overlap the settlement's period.
    issued_on : date, optional
        Date printed on the statement (default today).

    Raises
    ------
    condivisa.store.NotFoundError
        No such settlement, or the member is neither in the community nor in the settlement.
    """
    stored = get_settlement(session, settlement_id)
    if stored is None:
        raise NotFoundError(f"ripartizione {settlement_id} non trovata")
    community = session.get(CommunityRow, stored.community_id)
    assert community is not None  # foreign key
    member = session.scalars(
        select(MemberRow).where(
            MemberRow.community_id == stored.community_id, MemberRow.external_id == member_external_id
        )
    ).first()
    lines = tuple(
        StatementLine(x.rule, x.basis, x.amount_cents) for x in stored.lines if x.recipient == member_external_id
    )
    in_document = any(m.get("id") == member_external_id for m in stored.document.get("per_member", []))
    if member is None and not lines and not in_document:
        raise NotFoundError(f"socio {member_external_id!r} non trovato nella comunita' {community.name}")
    withdrawn, shared = _member_figures(stored.document, member_external_id)
    plants = tuple(
        PlantFigures(str(p["id"]), float(p.get("injected_kwh", 0.0)), float(p.get("incentivised_kwh", 0.0)))
        for p in stored.document.get("per_plant", [])
        if p.get("owner") == member_external_id
    )
    if rewards is None:
        found = session.execute(
            select(CampaignRow.title, CampaignRewardRow.response_kwh, CampaignRewardRow.reward_cents)
            .join(CampaignRewardRow, CampaignRewardRow.campaign_id == CampaignRow.id)
            .where(
                CampaignRow.community_id == stored.community_id,
                CampaignRow.status == "rewarded",
                CampaignRow.start_date <= stored.period_end,
                CampaignRow.end_date >= stored.period_start,
                CampaignRewardRow.member == member_external_id,
            )
            .order_by(CampaignRow.start_date, CampaignRow.id)
        ).all()
        rewards = [(str(t), float(kwh), int(c)) for t, kwh, c in found]
    entries = find_entries(session, "settlement", "settlement_id", settlement_id, community_id=stored.community_id)
    ledger = LedgerRef(entries[-1].seq, entries[-1].hash) if entries else None
    warnings = tuple(str(w) for w in stored.document.get("warnings", []))
    return Statement(
        community_name=community.name,
        configuration=community.configuration,
        settlement_id=settlement_id,
        period_start=stored.period_start,
        period_end=stored.period_end,
        status=stored.status,
        member_id=member_external_id,
        member_name=member.name if member is not None else "",
        member_kind=member.kind if member is not None else None,
        pods=tuple(p.pod for p in member.points) if member is not None else (),
        withdrawn_kwh=withdrawn,
        shared_withdrawal_kwh=shared,
        community_total_cents=stored.total_cents,
        lines=lines,
        issued_on=issued_on or dt.date.today(),
        email=member.email if member is not None else None,
        iban=member.iban if member is not None else None,
        plants=plants,
        rewards=tuple(Reward(t, kwh, c) for t, kwh, c in rewards),
        ledger=ledger,
        warnings=warnings,
    )
