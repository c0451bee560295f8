"""Demand response: measure how members moved consumption into a campaign's window, and share its budget.

A :class:`Campaign` asks members to consume in the local hours ``[window_start_hour, window_end_hour)`` of the
days ``start_date``..``end_date`` (Italian local time, Europe/Rome), typically when the community expects a surplus
of production. Its budget [cents] rewards those who did.

Baseline, method ``"media_giorni_simili"`` (mean of similar days), in the style of the "similar days" baselines of
ENTSO-E and of ARERA's UVAM pilot projects, not a copy of either: for each campaign day and each hour of it, the
baseline of a member is the mean of its consumption in the same local hour-of-day on the ``baseline_days``
(default 5) most recent days **before the campaign start** that have the same day type (working day, Saturday,
Sunday or national holiday, :func:`condivisa.rules.bands.day_type`) and are not days of another campaign. With
fewer such days the ones there are are used; with none, every earlier day of the history given (the result
reports which days and on what basis). Daylight-saving days are matched by local hour as in
:mod:`condivisa.operations.forecast`.

Response of a member = sum over campaign days and window hours of (actual − baseline) [kWh]: positive when the
member consumed more in the window than usual, as asked. Hours without a reading are left out of both sums and
counted. The change outside the window on the same days is reported as well (negative = consumption moved away
from the other hours), but does not enter the reward.

Reward: the budget is split among the members with a positive response in proportion to it, to the cent, by
:func:`condivisa.allocation.cents.split_cents` (largest remainder; ties to the lower member id). Members with zero
or negative response, or without any baseline day, get 0. The rewards add up to the budget when at least one
member responded, else to 0.

Pure computation: no files, no database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from condivisa.allocation.cents import split_cents
from condivisa.engine.timegrid import to_hourly
from condivisa.ingest.readings import Readings
from condivisa.operations.forecast import (
    BASIS_NONE,
    daily_profiles,
    day_hours,
    local_hour_of_day,
    similar_days_from_profiles,
)

BASELINE_METHOD = "media_giorni_simili"
DEFAULT_BASELINE_DAYS = 5
RESPONSE_DECIMALS = 6
"""Responses are rounded to 1e-6 kWh (1 mWh) before they are compared with zero, so float noise rewards no one."""


def baseline_lookback_days(baseline_days: int) -> int:
    """Days before a campaign start searched for baseline days: ``7 * baseline_days + 14`` (room for holidays
    and other campaigns' days)."""
    return 7 * baseline_days + 14


@dataclass(frozen=True)
class Campaign:
    """A demand-response campaign.

    Parameters
    ----------
    start_date, end_date : datetime.date
        First and last local day (inclusive).
    window_start_hour, window_end_hour : int
        Local hours of the window, end exclusive: 0 <= start < end <= 24.
    budget_cents : int
        Money shared among the members who respond [cents], >= 0.
    baseline_days : int, default 5
        Similar days averaged by the baseline (>= 1).
    """

    start_date: dt.date
    end_date: dt.date
    window_start_hour: int
    window_end_hour: int
    budget_cents: int
    baseline_days: int = DEFAULT_BASELINE_DAYS

    def __post_init__(self) -> None:
        if self.end_date < self.start_date:
            raise ValueError(f"campagna: fine {self.end_date} prima dell'inizio {self.start_date}")
        if not 0 <= self.window_start_hour < self.window_end_hour <= 24:
            raise ValueError(
                f"campagna: finestra {self.window_start_hour}-{self.window_end_hour} non valida; "
                "servono ore locali 0 <= inizio < fine <= 24"
            )
        if self.budget_cents < 0:
            raise ValueError(f"campagna: budget negativo ({self.budget_cents} centesimi)")
        if self.baseline_days < 1:
            raise ValueError(f"campagna: giorni della baseline non positivi ({self.baseline_days})")

    @property
    def baseline_params(self) -> dict[str, Any]:
        """The baseline method and its parameters, as stored with the campaign."""
        return {"method": BASELINE_METHOD, "days": self.baseline_days}

    def days(self) -> list[dt.date]:
        """The campaign's local days."""
        n = (self.end_date - self.start_date).days + 1
        return [self.start_date + dt.timedelta(days=i) for i in range(n)]

    def in_window(self, hours: pd.DatetimeIndex) -> np.ndarray:
        """Whether each UTC hour start falls in the window (by its local hour-of-day)."""
        local = local_hour_of_day(hours)
        return (local >= self.window_start_hour) & (local < self.window_end_hour)

    def history_start(self) -> dt.date:
        """First local day of history the baseline may use (see :func:`baseline_lookback_days`)."""
        return self.start_date - dt.timedelta(days=baseline_lookback_days(self.baseline_days))


@dataclass(frozen=True)
class MemberResponse:
    """One member's measured response and reward.

    Attributes
    ----------
    member : str
    baseline_kwh, actual_kwh : float
        Baseline and actual consumption in the window hours of the campaign days [kWh].
    response_kwh : float
        ``actual_kwh - baseline_kwh`` [kWh], rounded to 1e-6.
    outside_change_kwh : float
        Actual − baseline in the other hours of the campaign days [kWh].
    reward_cents : int
    missing_hours : int
        Window hours without a reading (left out of both sums).
    eligible : bool
        False when the member had no baseline day at all (then no reward).
    baseline_days : dict
        Day type -> past days averaged for it, most recent first.
    baseline_basis : dict
        Day type -> ``"same_day_type"``, ``"all_days"`` or ``"none"``.
    """

    member: str
    baseline_kwh: float
    actual_kwh: float
    response_kwh: float
    outside_change_kwh: float
    reward_cents: int
    missing_hours: int
    eligible: bool
    baseline_days: dict[str, tuple[dt.date, ...]] = field(default_factory=dict)
    baseline_basis: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignResult:
    """Responses and rewards of every member, in member-id order."""

    campaign: Campaign
    members: tuple[MemberResponse, ...]

    @property
    def total_reward_cents(self) -> int:
        """Sum of the rewards [cents]: the budget if anyone responded, else 0."""
        return sum(m.reward_cents for m in self.members)

    @property
    def responders(self) -> list[str]:
        """Members with a reward."""
        return [m.member for m in self.members if m.reward_cents > 0]


def reward_split(budget_cents: int, responses: Mapping[str, float]) -> dict[str, int]:
    """Share ``budget_cents`` among members in proportion to their positive responses [kWh], to the cent.

    Members with a zero, negative or non-finite response get 0. Exact cents by largest remainder
    (:func:`condivisa.allocation.cents.split_cents`), ties to the lower member id.

    Returns
    -------
    dict
        Every member of ``responses`` -> cents; the sum is ``budget_cents`` if any response is positive, else 0.
    """
    if budget_cents < 0:
        raise ValueError(f"budget negativo: {budget_cents} centesimi")
    out = dict.fromkeys(responses, 0)
    positive = {m: float(r) for m, r in responses.items() if math.isfinite(r) and r > 0}
    if positive and budget_cents > 0:
        out.update(split_cents(budget_cents, positive))
    return out


def _member_response(
    campaign: Campaign, series: pd.Series, exclude: Collection[dt.date]
) -> tuple[float, float, float, int, bool, dict[str, tuple[dt.date, ...]], dict[str, str]]:
    profiles = daily_profiles(series)
    values = pd.Series(series.to_numpy(dtype=float), index=pd.DatetimeIndex(series.index).tz_convert("UTC"))
    values = values[~values.index.duplicated()]
    base_in = act_in = outside = 0.0
    missing = 0
    eligible = True
    days_used: dict[str, tuple[dt.date, ...]] = {}
    basis: dict[str, str] = {}
    for day in campaign.days():
        found = similar_days_from_profiles(
            profiles, day, k=campaign.baseline_days, before=campaign.start_date, exclude=exclude
        )
        days_used[found.day_type], basis[found.day_type] = found.days, found.basis
        eligible = eligible and found.basis != BASIS_NONE
        hours = day_hours(day)
        actual = values.reindex(hours).to_numpy(dtype=float)
        baseline = found.kwh.to_numpy(dtype=float)
        known = ~np.isnan(actual)
        window = campaign.in_window(hours)
        base_in += float(baseline[window & known].sum())
        act_in += float(actual[window & known].sum())
        outside += float((actual - baseline)[~window & known].sum())
        missing += int((window & ~known).sum())
    return base_in, act_in, outside, missing, eligible, days_used, basis


def measure_campaign(
    campaign: Campaign, consumption: pd.DataFrame, *, exclude: Collection[dt.date] = ()
) -> CampaignResult:
    """Baseline, response and reward of every member of ``consumption`` (see the module docstring).

    Parameters
    ----------
    campaign : Campaign
    consumption : pandas.DataFrame
        Hourly consumption [kWh], index UTC hour starts, one column per member id; NaN = no reading. It should
        cover :meth:`Campaign.history_start` to the end of the campaign.
    exclude : collection of datetime.date
        Days never used as baseline days (the days of other campaigns).

    Returns
    -------
    CampaignResult
    """
    index = consumption.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("consumi: serve un indice orario con fuso (UTC)")
    measured: dict[str, tuple[float, float, float, int, bool, dict[str, tuple[dt.date, ...]], dict[str, str]]] = {}
    for member in sorted(str(c) for c in consumption.columns):
        measured[member] = _member_response(campaign, consumption[member], exclude)
    responses = {m: round(v[1] - v[0], RESPONSE_DECIMALS) for m, v in measured.items()}
    rewards = reward_split(campaign.budget_cents, {m: r for m, r in responses.items() if measured[m][4]})
    members = tuple(
        MemberResponse(
            member=m,
            baseline_kwh=base,
            actual_kwh=act,
            response_kwh=responses[m],
            outside_change_kwh=outside,
            reward_cents=rewards.get(m, 0),
            missing_hours=missing,
            eligible=eligible,
            baseline_days=days_used,
            baseline_basis=basis,
        )
        for m, (base, act, outside, missing, eligible, days_used, basis) in measured.items()
    )
    return CampaignResult(campaign=campaign, members=members)


def consumption_by_member(
    readings: Readings,
    pod_member: Mapping[str, str],
    *,
    start: pd.Timestamp | dt.datetime | None = None,
    end: pd.Timestamp | dt.datetime | None = None,
    column: str = "withdrawn_kwh",
) -> pd.DataFrame:
    """Hourly energy of each member: the sum of its PODs' ``column`` [kWh] per UTC hour.

    Parameters
    ----------
    readings : Readings
        Quarter-hour or hourly readings (summed to the hour by :func:`condivisa.engine.timegrid.to_hourly`).
    pod_member : mapping
        POD -> member id (:meth:`condivisa.model.Community.member_of_pod`; plants' PODs -> plant ids with
        ``column="injected_kwh"`` give production).
    start, end : datetime, optional
        Timezone-aware bounds of the grid, ``end`` exclusive; default: the hours of the readings.
    column : str, default ``"withdrawn_kwh"``
        ``"withdrawn_kwh"`` or ``"injected_kwh"``.

    Returns
    -------
    pandas.DataFrame
        Index UTC hour starts, one column per member id (sorted); NaN where none of the member's PODs has a
        reading in that hour.
    """
    if column not in ("withdrawn_kwh", "injected_kwh"):
        raise ValueError(f"colonna sconosciuta {column!r}: attese withdrawn_kwh o injected_kwh")
    members = sorted(set(pod_member.values()))
    frame = readings.frame
    stamps = pd.DatetimeIndex(frame["timestamp"]) if len(frame) else pd.DatetimeIndex([], tz="UTC")
    lo = pd.Timestamp(start) if start is not None else (stamps.min().floor("h") if len(stamps) else None)
    hi = (
        pd.Timestamp(end)
        if end is not None
        else (stamps.max().floor("h") + pd.Timedelta(hours=1) if len(stamps) else None)
    )
    if lo is None or hi is None:
        return pd.DataFrame({m: pd.Series(dtype=float) for m in members}, index=pd.DatetimeIndex([], tz="UTC"))
    if lo.tzinfo is None or hi.tzinfo is None:
        raise ValueError("inizio e fine della griglia oraria devono avere il fuso orario")
    hours = pd.date_range(lo.tz_convert("UTC").ceil("h"), hi.tz_convert("UTC"), freq="h", inclusive="left")
    pods = sorted(pod_member)
    hourly = to_hourly(frame, pods, hours)
    energy = hourly.withdrawn if column == "withdrawn_kwh" else hourly.injected
    out = pd.DataFrame(index=hours)
    owner = np.asarray([pod_member[p] for p in pods], dtype=object)
    for member in members:
        cols = owner == member
        total = energy[:, cols].sum(axis=1)
        seen = hourly.intervals[:, cols].sum(axis=1) > 0
        out[member] = np.where(seen, total, np.nan)
    return out
