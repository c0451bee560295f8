"""Green hours ("ore verdi"): the hours of a day when the community expects more production than consumption.

Inputs are the forecast production of the community (sum of its plants) and the forecast consumption (sum of its
members) per UTC hour [kWh], for instance from :mod:`condivisa.operations.forecast`. An hour is green when the
expected surplus = production − consumption is positive (above ``min_surplus_kwh``): consumption moved into it
becomes shared energy, which earns the incentive.

Level of a green hour, relative to the day's largest expected surplus S: ``"alta"`` when its surplus is at least
2/3 of S, ``"media"`` at least 1/3 of S, ``"bassa"`` below.

Rankings (:func:`rank_hours`): ``"surplus"`` orders by expected surplus [kWh], the absolute headroom of shared
energy (at community level each extra kWh consumed in a green hour adds one kWh of shared energy, up to the
surplus); ``"headroom"`` orders by the relative headroom = surplus / production, the share of the hour's
production that consumption does not yet match. Ties go to the larger surplus, then the earlier hour.

Renderers: :func:`green_hours_json` (a dict with stable keys) and :func:`green_hours_ical` (an iCalendar feed, one
event per run of consecutive green hours, with UIDs that depend only on the community and the run's start so that
a feed published again updates its events). Pure: nothing is read or written here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import icalendar
import numpy as np
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ, iso_local

LEVEL_HIGH = "alta"
LEVEL_MEDIUM = "media"
LEVEL_LOW = "bassa"
LEVEL_HIGH_SHARE = 2.0 / 3.0
"""Surplus / the day's largest surplus from which an hour is ``"alta"`` [unitless]."""
LEVEL_MEDIUM_SHARE = 1.0 / 3.0
"""Surplus / the day's largest surplus from which an hour is ``"media"`` [unitless]."""

PRODID = "-//Condivisa//Ore verdi//IT"
UID_DOMAIN = "ore-verdi.condivisa"

_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class GreenHour:
    """One hour of expected surplus.

    Attributes
    ----------
    start_utc : pandas.Timestamp
        Start of the hour, UTC.
    production_kwh, consumption_kwh : float
        Expected community production and consumption [kWh].
    surplus_kwh : float
        ``production_kwh - consumption_kwh`` [kWh], > 0.
    level : str
        ``"alta"``, ``"media"`` or ``"bassa"`` (see the module docstring).
    """

    start_utc: pd.Timestamp
    production_kwh: float
    consumption_kwh: float
    surplus_kwh: float
    level: str

    @property
    def start_local(self) -> pd.Timestamp:
        """Start of the hour, Italian local time."""
        return self.start_utc.tz_convert(LOCAL_TZ)

    @property
    def end_utc(self) -> pd.Timestamp:
        """End of the hour (exclusive), UTC."""
        return self.start_utc + _HOUR

    @property
    def end_local(self) -> pd.Timestamp:
        """End of the hour (exclusive), Italian local time."""
        return self.end_utc.tz_convert(LOCAL_TZ)

    @property
    def headroom_share(self) -> float:
        """Surplus / production [unitless]: the share of the hour's production not matched by consumption."""
        return self.surplus_kwh / self.production_kwh if self.production_kwh > 0 else 0.0


def level_of(surplus_kwh: float, day_max_kwh: float) -> str:
    """Level of an hour's surplus [kWh] relative to the day's largest surplus [kWh]."""
    if day_max_kwh <= 0:
        return LEVEL_LOW
    share = surplus_kwh / day_max_kwh
    if share >= LEVEL_HIGH_SHARE:
        return LEVEL_HIGH
    if share >= LEVEL_MEDIUM_SHARE:
        return LEVEL_MEDIUM
    return LEVEL_LOW


def green_hours(
    production_kwh: pd.Series, consumption_kwh: pd.Series, *, min_surplus_kwh: float = 0.0
) -> list[GreenHour]:
    """The hours with expected surplus, in time order.

    Parameters
    ----------
    production_kwh, consumption_kwh : pandas.Series
        Expected community production and consumption per hour [kWh], indexed by UTC hour starts; an hour missing
        from one of them counts as 0 there.
    min_surplus_kwh : float, default 0
        An hour is green when its surplus exceeds this [kWh].

    Returns
    -------
    list of GreenHour
    """
    for name, series in (("produzione", production_kwh), ("consumo", consumption_kwh)):
        if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
            raise ValueError(f"{name}: serve un indice orario con fuso (UTC)")
    prod = production_kwh.copy()
    prod.index = pd.DatetimeIndex(prod.index).tz_convert("UTC")
    cons = consumption_kwh.copy()
    cons.index = pd.DatetimeIndex(cons.index).tz_convert("UTC")
    frame = pd.DataFrame({"p": prod, "c": cons}).fillna(0.0).sort_index()
    surplus = (frame["p"] - frame["c"]).to_numpy(dtype=float)
    green = surplus > min_surplus_kwh
    if not green.any():
        return []
    top = float(surplus[green].max())
    return [
        GreenHour(
            start_utc=pd.Timestamp(ts),
            production_kwh=float(p),
            consumption_kwh=float(c),
            surplus_kwh=float(s),
            level=level_of(float(s), top),
        )
        for ts, p, c, s in zip(
            frame.index[green], frame["p"].to_numpy()[green], frame["c"].to_numpy()[green], surplus[green], strict=True
        )
    ]


def rank_hours(hours: Sequence[GreenHour], *, by: Literal["surplus", "headroom"] = "surplus") -> list[GreenHour]:
    """The green hours from best to worst to consume in (see the module docstring for the two orders)."""
    if by == "surplus":
        return sorted(hours, key=lambda h: (-h.surplus_kwh, h.start_utc))
    if by == "headroom":
        return sorted(hours, key=lambda h: (-h.headroom_share, -h.surplus_kwh, h.start_utc))
    raise ValueError(f"ordinamento sconosciuto {by!r}: atteso surplus o headroom")


def runs(hours: Sequence[GreenHour]) -> list[list[GreenHour]]:
    """Green hours grouped into runs of consecutive hours (in time order)."""
    out: list[list[GreenHour]] = []
    for hour in sorted(hours, key=lambda h: h.start_utc):
        if out and out[-1][-1].end_utc == hour.start_utc:
            out[-1].append(hour)
        else:
            out.append([hour])
    return out


@dataclass(frozen=True)
class GreenHoursReport:
    """The green hours of a community for one local day, ready to publish.

    Attributes
    ----------
    community : str
        Community name (also the key of the iCalendar UIDs).
    day : datetime.date
        The local day forecast.
    generated_at : datetime.datetime
        When the forecast was made (timezone-aware).
    method : dict
        How production and consumption were forecast (``{"production": ..., "consumption": ...}``).
    hours : tuple of GreenHour
        In time order.
    """

    community: str
    day: dt.date
    generated_at: dt.datetime
    method: dict[str, str] = field(default_factory=dict)
    hours: tuple[GreenHour, ...] = ()

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("generated_at: serve un istante con fuso orario")


def _iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def green_hours_json(report: GreenHoursReport) -> dict[str, Any]:
    """The report as a JSON-ready dict.

    Keys: ``community``, ``date`` (ISO), ``generated_at`` (ISO, UTC), ``method``, ``hours`` (time order, each with
    ``start`` and ``end`` in ISO local time with offset, ``surplus_kwh``, ``level``, ``production_kwh``,
    ``consumption_kwh`` [kWh, 3 decimals] and ``rank``, 1 = largest surplus) and ``ranking`` (``surplus`` and
    ``headroom``: the hours' ``start`` from best to worst).
    """
    hours = sorted(report.hours, key=lambda h: h.start_utc)
    starts = pd.DatetimeIndex([h.start_utc for h in hours], tz="UTC") if hours else pd.DatetimeIndex([], tz="UTC")
    start_text = [str(s) for s in iso_local(starts)] if hours else []
    end_text = [str(s) for s in iso_local(starts + _HOUR)] if hours else []
    label = {h.start_utc: text for h, text in zip(hours, start_text, strict=True)}
    by_surplus = rank_hours(hours, by="surplus")
    rank = {h.start_utc: i + 1 for i, h in enumerate(by_surplus)}
    return {
        "community": report.community,
        "date": report.day.isoformat(),
        "generated_at": _iso_utc(report.generated_at),
        "method": dict(report.method),
        "hours": [
            {
                "start": start_text[i],
                "end": end_text[i],
                "surplus_kwh": round(h.surplus_kwh, 3),
                "level": h.level,
                "production_kwh": round(h.production_kwh, 3),
                "consumption_kwh": round(h.consumption_kwh, 3),
                "rank": rank[h.start_utc],
            }
            for i, h in enumerate(hours)
        ],
        "ranking": {
            "surplus": [label[h.start_utc] for h in by_surplus],
            "headroom": [label[h.start_utc] for h in rank_hours(hours, by="headroom")],
        },
    }


def _kwh_it(value: float) -> str:
    """A kWh figure the Italian way: one decimal, comma separator."""
    return f"{value:.1f}".replace(".", ",")


def event_uid(community: str, start_utc: pd.Timestamp) -> str:
    """Stable UID of the event of a run of green hours: from the community and the run's UTC start only."""
    key = f"{community}\n{pd.Timestamp(start_utc).tz_convert('UTC').isoformat()}"
    return f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{UID_DOMAIN}"


def green_hours_ical(report: GreenHoursReport) -> bytes:
    """The report as an iCalendar feed (RFC 5545), UTF-8 bytes.

    One VEVENT per run of consecutive green hours: DTSTART and DTEND in UTC, SUMMARY ``"Ore verdi: HH:MM–HH:MM,
    eccedenza prevista X kWh"`` (local times), DESCRIPTION with every hour's surplus and level, a stable UID
    (:func:`event_uid`) and DTSTAMP = ``generated_at``.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Ore verdi – {report.community}")
    cal.add("x-wr-timezone", LOCAL_TZ)
    stamp = report.generated_at.astimezone(dt.UTC)
    for run in runs(report.hours):
        first, last = run[0], run[-1]
        total = float(np.sum([h.surplus_kwh for h in run]))
        when = f"{first.start_local:%H:%M}–{last.end_local:%H:%M}"
        lines = [
            f"{h.start_local:%H:%M}–{h.end_local:%H:%M}: eccedenza {_kwh_it(h.surplus_kwh)} kWh ({h.level})"
            for h in run
        ]
        event = icalendar.Event()
        event.add("uid", event_uid(report.community, first.start_utc))
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", first.start_utc.to_pydatetime())
        event.add("dtend", last.end_utc.to_pydatetime())
        event.add("summary", f"Ore verdi: {when}, eccedenza prevista {_kwh_it(total)} kWh")
        event.add(
            "description",
            f"{report.community}, {report.day:%d/%m/%Y}: consumare in queste ore aumenta l'energia condivisa.\n"
            + "\n".join(lines),
        )
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["Ore verdi"])
        cal.add_component(event)
    return bytes(cal.to_ical())
