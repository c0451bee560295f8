"""A community's green hours for a local day, from its description and its recent readings (pure).

Consumption: each member's "similar days" forecast (:func:`~condivisa.operations.forecast.forecast_consumption`),
summed. Production: each PV plant's clear-sky forecast times its recent performance ratio (or pvlib on a weather
forecast), other technologies the mean of the recent days; plants sharing a POD share its injection in proportion
to their power, as the settlement does. The command line (``condivisa ops green-hours``) and the web portal
(members' page and the iCalendar/JSON feeds) both call :func:`community_green_hours`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from condivisa.engine.timegrid import Period
from condivisa.ingest.readings import Readings
from condivisa.model import Community
from condivisa.operations.demand_response import consumption_by_member
from condivisa.operations.forecast import (
    DEFAULT_RATIO_DAYS,
    DEFAULT_SIMILAR_DAYS,
    METHOD_RECENT_MEAN,
    REGION_CAPITALS,
    Site,
    forecast_consumption,
    forecast_production,
    forecast_recent_mean,
)
from condivisa.operations.green_hours import GreenHoursReport, green_hours
from condivisa.rules.rulebook import canonical_region

DEFAULT_HISTORY_DAYS = 28
"""Local days of readings behind the consumption forecast."""


def site_of(community: Community) -> Site | None:
    """The site used for clear-sky forecasts: the community's ``latitude``/``longitude`` parameters if set, else
    the capital of its region (None if unknown)."""
    lat, lon = community.parameters.get("latitude"), community.parameters.get("longitude")
    if lat is not None and lon is not None:
        return Site(lat, lon, 0.0)
    region = canonical_region(community.region)
    return REGION_CAPITALS.get(region) if region is not None else None


def history_window(day: dt.date, history_days: int, ratio_days: int) -> Period:
    """The local days of readings a forecast of ``day`` uses: up to the day before."""
    back = max(history_days, ratio_days)
    return Period(day - dt.timedelta(days=back), day - dt.timedelta(days=1))


def community_green_hours(
    community: Community,
    readings: Readings,
    day: dt.date,
    site: Site,
    *,
    window: Period,
    ratio_days: int = DEFAULT_RATIO_DAYS,
    similar_days: int = DEFAULT_SIMILAR_DAYS,
    generated_at: dt.datetime | None = None,
) -> GreenHoursReport:
    """Forecast production and consumption of ``day`` [kWh per hour] and the hours of expected surplus.

    Parameters
    ----------
    community : Community
    readings : Readings
        The readings of ``window`` (see :func:`history_window`).
    day : datetime.date
        Local day forecast.
    site : Site
        Where the plants are (clear sky).
    window : Period
        The local days of history used.
    """
    hours = Period(day, day).hours()
    withdrawn = consumption_by_member(readings, community.member_of_pod(), start=window.start_utc, end=window.end_utc)
    consumption = pd.Series(0.0, index=hours)
    for member in withdrawn.columns:
        consumption += forecast_consumption(withdrawn[member], day, k=similar_days).kwh
    plant_pods = {p.pod: p.pod for p in community.plants}
    injected = consumption_by_member(
        readings, plant_pods, start=window.start_utc, end=window.end_utc, column="injected_kwh"
    )
    power_on_pod: dict[str, float] = {}
    for plant in community.plants:
        power_on_pod[plant.pod] = power_on_pod.get(plant.pod, 0.0) + plant.power_kw
    production = pd.Series(0.0, index=hours)
    methods: set[str] = set()
    for plant in community.plants:
        history = injected[plant.pod] * (plant.power_kw / power_on_pod[plant.pod])
        if plant.technology == "pv":
            forecast = forecast_production(day, plant.power_kw, site, history_kwh=history, ratio_days=ratio_days)
            production += forecast.kwh
            methods.add(forecast.method)
        else:
            production += forecast_recent_mean(history, day, days=ratio_days).kwh
            methods.add(METHOD_RECENT_MEAN)
    return GreenHoursReport(
        community=community.name,
        day=day,
        generated_at=generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0),
        method={"production": ", ".join(sorted(methods)) or "nessun impianto", "consumption": "similar_days"},
        hours=tuple(green_hours(production, consumption)),
    )
