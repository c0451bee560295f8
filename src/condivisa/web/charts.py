"""Energy aggregates of stored readings and the plotly charts of the pages (plotly.js is served locally).

Energies in kWh. Shared energy here is the community's hourly minimum of total injection and total withdrawal
(what the dashboard shows); the incentivised energy per cabina and the money come from stored settlements.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.ingest import Readings

COLORS = {"withdrawn": "#c0392b", "injected": "#27ae60", "shared": "#2471a3", "own": "#8e44ad"}


@dataclass(frozen=True)
class Aggregates:
    """Hourly totals of a community (index: UTC hour) and of one member, if asked for."""

    hourly: pd.DataFrame
    """Columns ``withdrawn``, ``injected``, ``shared`` [kWh] per hour."""
    own: pd.Series | None = None
    """The member's hourly withdrawal [kWh]."""

    @property
    def empty(self) -> bool:
        """Whether there are no readings at all."""
        return self.hourly.empty


def aggregate(readings: Readings, member_pods: list[str] | None = None) -> Aggregates:
    """Hourly community totals of ``readings`` and the hourly withdrawal of ``member_pods``."""
    f = readings.frame
    if f.empty:
        empty = pd.DataFrame(columns=["withdrawn", "injected", "shared"], dtype="float64")
        return Aggregates(empty, None if member_pods is None else pd.Series(dtype="float64"))
    hour = f["timestamp"].dt.floor("h")
    totals = f.groupby(hour)[["withdrawn_kwh", "injected_kwh"]].sum()
    hourly = pd.DataFrame({"withdrawn": totals["withdrawn_kwh"], "injected": totals["injected_kwh"]})
    hourly["shared"] = hourly[["withdrawn", "injected"]].min(axis=1)
    own = None
    if member_pods is not None:
        mine = f[f["pod"].isin(member_pods)]
        own = mine.groupby(hour[mine.index])["withdrawn_kwh"].sum().reindex(hourly.index, fill_value=0.0)
    return Aggregates(hourly, own)


def monthly(agg: Aggregates) -> pd.DataFrame:
    """Totals per local month (index ``YYYY-MM``)."""
    local = pd.DatetimeIndex(agg.hourly.index).tz_convert(LOCAL_TZ)
    out: pd.DataFrame = agg.hourly.groupby(local.strftime("%Y-%m")).sum()
    return out


def last_days(agg: Aggregates, days: int = 7) -> pd.DataFrame:
    """The last ``days`` days of hourly totals, local time index."""
    if agg.empty:
        return agg.hourly.copy()
    end = agg.hourly.index.max()
    window: pd.DataFrame = agg.hourly[agg.hourly.index > end - pd.Timedelta(days=days)].copy()
    if agg.own is not None:
        window["own"] = agg.own.reindex(window.index, fill_value=0.0)
    window.index = pd.DatetimeIndex(window.index).tz_convert(LOCAL_TZ)
    return window


def surplus_by_hour(agg: Aggregates) -> pd.Series:
    """Mean community surplus (injection minus withdrawal, at least 0) by local hour of day [kWh]."""
    if agg.empty:
        return pd.Series(0.0, index=range(24))
    surplus = (agg.hourly["injected"] - agg.hourly["withdrawn"]).clip(lower=0.0)
    hours = pd.DatetimeIndex(agg.hourly.index).tz_convert(LOCAL_TZ).hour
    return surplus.groupby(hours).mean().reindex(range(24), fill_value=0.0)


def _html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=340, legend={"orientation": "h"})
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False}))


def bars(index: list[str], series: dict[str, list[float]], title: str, div_id: str, y_title: str) -> str:
    """Grouped bar chart (one trace per entry of ``series``) as an HTML fragment."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_bar(x=index, y=values, name=name)
    fig.update_layout(title=title, barmode="group", yaxis_title=y_title)
    return _html(fig, div_id)


def lines(index: list[str], series: dict[str, list[float]], title: str, div_id: str, y_title: str) -> str:
    """Line chart (one trace per entry of ``series``) as an HTML fragment."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_scatter(x=index, y=values, name=name, mode="lines")
    fig.update_layout(title=title, yaxis_title=y_title)
    return _html(fig, div_id)
