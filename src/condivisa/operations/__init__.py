"""Operating a community: next-day forecasts, green hours, demand-response campaigns.

- :mod:`condivisa.operations.forecast`: hourly production and consumption forecasts for a local day;
- :mod:`condivisa.operations.green_hours`: hours of expected surplus, their ranking, JSON and iCalendar feeds;
- :mod:`condivisa.operations.demand_response`: campaign baselines, members' responses and rewards to the cent;
- :mod:`condivisa.operations.monitoring`: the latest hour, daily statistics, load curves and alarms.

All pure computation: the database side is :mod:`condivisa.store.campaigns`, the command line
:mod:`condivisa.cli.operations`.
"""

from condivisa.operations.demand_response import (
    BASELINE_METHOD,
    Campaign,
    CampaignResult,
    MemberResponse,
    consumption_by_member,
    measure_campaign,
    reward_split,
)
from condivisa.operations.forecast import (
    METHOD_CLEAR_SKY,
    METHOD_RECENT_MEAN,
    METHOD_SIMILAR_DAYS,
    METHOD_WEATHER,
    REGION_CAPITALS,
    ConsumptionForecast,
    ProductionForecast,
    SimilarDays,
    Site,
    clear_sky_kwh,
    forecast_consumption,
    forecast_production,
    forecast_recent_mean,
    performance_ratio,
    recent_performance_ratio,
)
from condivisa.operations.green_hours import (
    PRODID,
    GreenHour,
    GreenHoursReport,
    green_hours,
    green_hours_ical,
    green_hours_json,
    rank_hours,
    runs,
)

__all__ = [
    "BASELINE_METHOD",
    "METHOD_CLEAR_SKY",
    "METHOD_RECENT_MEAN",
    "METHOD_SIMILAR_DAYS",
    "METHOD_WEATHER",
    "PRODID",
    "REGION_CAPITALS",
    "Campaign",
    "CampaignResult",
    "ConsumptionForecast",
    "GreenHour",
    "GreenHoursReport",
    "MemberResponse",
    "ProductionForecast",
    "SimilarDays",
    "Site",
    "clear_sky_kwh",
    "consumption_by_member",
    "forecast_consumption",
    "forecast_production",
    "forecast_recent_mean",
    "green_hours",
    "green_hours_ical",
    "green_hours_json",
    "measure_campaign",
    "performance_ratio",
    "rank_hours",
    "recent_performance_ratio",
    "reward_split",
    "runs",
]
