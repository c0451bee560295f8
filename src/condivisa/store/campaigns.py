"""Demand-response campaigns in the database: create, list, measure and reward, rewards for statements.

Rows are :class:`~condivisa.store.models.CampaignRow` (``baseline`` holds the baseline method and its parameters,
``{"method": "media_giorni_simili", "days": 5}``) and :class:`~condivisa.store.models.CampaignRewardRow` (one per
member: baseline, actual and response [kWh] in the window, reward [cents]). The measurement itself is
:mod:`condivisa.operations.demand_response`; here the readings are loaded, PODs mapped to members, and the result
stored. Conventions of :mod:`condivisa.store.repository`: writers commit or roll back, a missing id raises
:class:`~condivisa.store.repository.NotFoundError`, bad input :class:`~condivisa.errors.InputError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from condivisa.engine.timegrid import Period
from condivisa.errors import InputError, Problem
from condivisa.operations.demand_response import (
    BASELINE_METHOD,
    DEFAULT_BASELINE_DAYS,
    Campaign,
    CampaignResult,
    consumption_by_member,
    measure_campaign,
)
from condivisa.store.db import session_factory
from condivisa.store.ledger import append_entry
from condivisa.store.models import CAMPAIGN_STATUSES, CampaignRewardRow, CampaignRow, CommunityRow
from condivisa.store.repository import NotFoundError, load_community, load_readings

_TITLE_MAX = 200
_MESSAGE_MAX = 2000


@dataclass(frozen=True)
class CampaignInfo:
    """A stored campaign (dates local, hours local with end exclusive, budget [cents])."""

    id: int
    community_id: int
    title: str
    message: str
    start_date: dt.date
    end_date: dt.date
    window_start_hour: int
    window_end_hour: int
    budget_cents: int
    baseline: dict[str, Any]
    status: str
    created_at: dt.datetime
    created_by: int | None

    @property
    def baseline_days(self) -> int:
        """Similar days of the baseline (default 5 when the stored parameters do not say)."""
        return int(self.baseline.get("days", DEFAULT_BASELINE_DAYS))

    def campaign(self) -> Campaign:
        """The campaign as :mod:`condivisa.operations.demand_response` measures it."""
        return Campaign(
            start_date=self.start_date,
            end_date=self.end_date,
            window_start_hour=self.window_start_hour,
            window_end_hour=self.window_end_hour,
            budget_cents=self.budget_cents,
            baseline_days=self.baseline_days,
        )


@dataclass(frozen=True)
class RewardInfo:
    """A member's stored response to a campaign [kWh] and reward [cents]."""

    campaign_id: int
    member: str
    baseline_kwh: float
    actual_kwh: float
    response_kwh: float
    reward_cents: int


@dataclass(frozen=True)
class MemberReward(RewardInfo):
    """A reward with its campaign's title and days, for a member's statement."""

    title: str = ""
    start_date: dt.date = dt.date.min
    end_date: dt.date = dt.date.min


def _info(row: CampaignRow) -> CampaignInfo:
    return CampaignInfo(
        id=row.id,
        community_id=row.community_id,
        title=row.title,
        message=row.message,
        start_date=row.start_date,
        end_date=row.end_date,
        window_start_hour=row.window_start_hour,
        window_end_hour=row.window_end_hour,
        budget_cents=row.budget_cents,
        baseline=dict(row.baseline or {}),
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def validate_campaign(
    *,
    title: str,
    start_date: dt.date,
    end_date: dt.date,
    window_start_hour: int,
    window_end_hour: int,
    budget_cents: int,
    message: str = "",
    baseline_days: int = DEFAULT_BASELINE_DAYS,
) -> list[Problem]:
    """Every problem of a campaign's fields, each naming its field (empty list: valid)."""
    problems: list[Problem] = []
    if not title.strip():
        problems.append(Problem("titolo mancante", field="title"))
    if len(title) > _TITLE_MAX:
        problems.append(
            Problem(f"titolo troppo lungo ({len(title)} caratteri, al massimo {_TITLE_MAX})", field="title")
        )
    if len(message) > _MESSAGE_MAX:
        problems.append(
            Problem(f"messaggio troppo lungo ({len(message)} caratteri, al massimo {_MESSAGE_MAX})", field="message")
        )
    if end_date < start_date:
        problems.append(Problem(f"la fine {end_date} precede l'inizio {start_date}", field="end_date"))
    for name, hour in (("window_start_hour", window_start_hour), ("window_end_hour", window_end_hour)):
        if not 0 <= hour <= 24:
            problems.append(Problem(f"ora {hour} fuori da 0..24 (ora locale)", field=name))
    if 0 <= window_start_hour <= 24 and 0 <= window_end_hour <= 24 and window_start_hour >= window_end_hour:
        problems.append(
            Problem(
                f"la finestra deve finire dopo l'inizio (inizio {window_start_hour}, fine {window_end_hour}, "
                "fine esclusa)",
                field="window_end_hour",
            )
        )
    if budget_cents < 0:
        problems.append(Problem(f"budget negativo ({budget_cents} centesimi)", field="budget_cents"))
    if baseline_days < 1:
        problems.append(Problem(f"giorni della baseline non positivi ({baseline_days})", field="baseline.days"))
    return problems


def create_campaign(
    session: Session,
    community_id: int,
    *,
    title: str,
    start_date: dt.date,
    end_date: dt.date,
    window_start_hour: int,
    window_end_hour: int,
    budget_cents: int,
    message: str = "",
    baseline_days: int = DEFAULT_BASELINE_DAYS,
    created_by: int | None = None,
) -> int:
    """Store a new campaign (status ``planned``) and return its id.

    Parameters
    ----------
    session : Session
    community_id : int
    title, message : str
        Shown to members (at most 200 and 2000 characters).
    start_date, end_date : datetime.date
        First and last local day, inclusive.
    window_start_hour, window_end_hour : int
        Local hours 0..24 of the window, end exclusive, start < end.
    budget_cents : int
        Money to share among responders [cents], >= 0.
    baseline_days : int, default 5
        Similar days of the baseline.
    created_by : int, optional
        Id of the user who created it.

    Raises
    ------
    InputError
        Every invalid field, named.
    NotFoundError
        No community with that id.
    """
    problems = validate_campaign(
        title=title,
        start_date=start_date,
        end_date=end_date,
        window_start_hour=window_start_hour,
        window_end_hour=window_end_hour,
        budget_cents=budget_cents,
        message=message,
        baseline_days=baseline_days,
    )
    if problems:
        raise InputError(problems)
    if session.get(CommunityRow, community_id) is None:
        raise NotFoundError(f"comunita' {community_id} non trovata")
    row = CampaignRow(
        community_id=community_id,
        title=title.strip(),
        message=message,
        start_date=start_date,
        end_date=end_date,
        window_start_hour=window_start_hour,
        window_end_hour=window_end_hour,
        budget_cents=budget_cents,
        baseline={"method": BASELINE_METHOD, "days": baseline_days},
        status="planned",
        created_by=created_by,
    )
    try:
        session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return row.id


def list_campaigns(session: Session, community_id: int, *, status: str | None = None) -> list[CampaignInfo]:
    """Campaigns of a community, most recent start first (optionally only those with ``status``)."""
    query = select(CampaignRow).where(CampaignRow.community_id == community_id)
    if status is not None:
        if status not in CAMPAIGN_STATUSES:
            raise InputError.one(
                f"stato {status!r} sconosciuto; ammessi: {', '.join(CAMPAIGN_STATUSES)}", field="status"
            )
        query = query.where(CampaignRow.status == status)
    rows = session.scalars(query.order_by(CampaignRow.start_date.desc(), CampaignRow.id.desc())).all()
    return [_info(r) for r in rows]


def get_campaign(session: Session, campaign_id: int) -> CampaignInfo | None:
    """A campaign by id, or None."""
    row = session.get(CampaignRow, campaign_id, populate_existing=True)
    return _info(row) if row is not None else None


def set_campaign_status(session: Session, campaign_id: int, status: str) -> None:
    """Change a campaign's status (planned, active, closed, rewarded).

    Raises
    ------
    InputError
        Unknown status.
    NotFoundError
        No campaign with that id.
    """
    if status not in CAMPAIGN_STATUSES:
        raise InputError.one(f"stato {status!r} sconosciuto; ammessi: {', '.join(CAMPAIGN_STATUSES)}", field="status")
    row = session.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFoundError(f"campagna {campaign_id} non trovata")
    try:
        row.status = status
        session.commit()
    except BaseException:
        session.rollback()
        raise


def get_rewards(session: Session, campaign_id: int) -> list[RewardInfo]:
    """The stored responses and rewards of a campaign, by member id (empty before they are computed)."""
    rows = session.scalars(
        select(CampaignRewardRow).where(CampaignRewardRow.campaign_id == campaign_id).order_by(CampaignRewardRow.member)
    ).all()
    return [
        RewardInfo(r.campaign_id, r.member, r.baseline_kwh, r.actual_kwh, r.response_kwh, r.reward_cents) for r in rows
    ]


def _campaign_days(rows: list[CampaignRow]) -> set[dt.date]:
    days: set[dt.date] = set()
    for r in rows:
        n = (r.end_date - r.start_date).days + 1
        days.update(r.start_date + dt.timedelta(days=i) for i in range(max(n, 0)))
    return days


def _compute(session: Session, campaign_id: int) -> CampaignResult:
    row = session.get(CampaignRow, campaign_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"campagna {campaign_id} non trovata")
    try:
        campaign = _info(row).campaign()
    except ValueError as exc:
        raise InputError.one(str(exc), field=f"campaigns[{campaign_id}]") from exc
    community = load_community(session, row.community_id)
    pod_member = community.member_of_pod()
    if not pod_member:
        raise InputError.one("la comunita' non ha punti di prelievo dei soci", field="members")
    others = session.scalars(
        select(CampaignRow).where(CampaignRow.community_id == row.community_id, CampaignRow.id != campaign_id)
    ).all()
    exclude = _campaign_days(list(others)) - set(campaign.days())
    window = Period(campaign.history_start(), campaign.end_date)
    readings = load_readings(session, row.community_id, start=window.start_utc, end=window.end_utc)
    consumption = consumption_by_member(readings, pod_member, start=window.start_utc, end=window.end_utc)
    during = Period(campaign.start_date, campaign.end_date)
    in_campaign = consumption[(consumption.index >= during.start_utc) & (consumption.index < during.end_utc)]
    if in_campaign.isna().all().all():
        raise InputError.one(
            f"nessuna lettura dei soci dal {campaign.start_date:%d/%m/%Y} al {campaign.end_date:%d/%m/%Y}: "
            "importare le letture prima di calcolare i premi",
            field="readings",
        )
    return measure_campaign(campaign, consumption, exclude=exclude)


def compute_and_store_rewards(bind: Engine | Session, campaign_id: int) -> CampaignResult:
    """Measure a campaign from the stored readings, store every member's response and reward, mark it rewarded.

    Readings from :meth:`~condivisa.operations.demand_response.Campaign.history_start` to the end of the campaign
    are loaded; the members' PODs (withdrawal) are summed per member; days of the community's other campaigns are
    never baseline days. Rewards stored earlier for this campaign are replaced; the status becomes ``rewarded``.
    One transaction.

    Returns
    -------
    CampaignResult
        With the baseline days used per member (not stored).

    Raises
    ------
    NotFoundError
        No campaign with that id.
    InputError
        No member POD, or no reading of the members during the campaign.
    """
    if isinstance(bind, Engine):
        with session_factory(bind)() as session:
            return compute_and_store_rewards(session, campaign_id)
    session = bind
    try:
        result = _compute(session, campaign_id)
        session.execute(delete(CampaignRewardRow).where(CampaignRewardRow.campaign_id == campaign_id))
        session.add_all(
            CampaignRewardRow(
                campaign_id=campaign_id,
                member=m.member,
                baseline_kwh=m.baseline_kwh,
                actual_kwh=m.actual_kwh,
                response_kwh=m.response_kwh,
                reward_cents=m.reward_cents,
            )
            for m in result.members
        )
        row = session.get(CampaignRow, campaign_id)
        assert row is not None
        row.status = "rewarded"
        append_entry(
            session,
            "campaign_rewards",
            row.community_id,
            {
                "campaign_id": row.id,
                "title": row.title,
                "start": row.start_date.isoformat(),
                "end": row.end_date.isoformat(),
                "budget_cents": int(row.budget_cents),
                "rewards_cents": {m.member: int(m.reward_cents) for m in result.members},
            },
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.expire_all()
    return result


def rewards_of_member(
    session: Session, community_id: int, member_external_id: str, start: dt.date, end: dt.date
) -> list[MemberReward]:
    """A member's rewards from the rewarded campaigns of a community that ended between ``start`` and ``end``
    (inclusive local dates), in campaign order: what a statement of that period shows."""
    rows = session.execute(
        select(CampaignRow, CampaignRewardRow)
        .join(CampaignRewardRow, CampaignRewardRow.campaign_id == CampaignRow.id)
        .where(
            CampaignRow.community_id == community_id,
            CampaignRow.status == "rewarded",
            CampaignRow.end_date >= start,
            CampaignRow.end_date <= end,
            CampaignRewardRow.member == member_external_id,
        )
        .order_by(CampaignRow.end_date, CampaignRow.id)
    ).all()
    return [
        MemberReward(
            campaign_id=c.id,
            member=r.member,
            baseline_kwh=r.baseline_kwh,
            actual_kwh=r.actual_kwh,
            response_kwh=r.response_kwh,
            reward_cents=r.reward_cents,
            title=c.title,
            start_date=c.start_date,
            end_date=c.end_date,
        )
        for c, r in rows
    ]
