"""Energy aggregates of stored readings and the plotly charts of the pages (plotly.js is served locally).

Energies in kWh. Shared energy here is the community's hourly minimum of total injection and total withdrawal
(what the dashboard shows); the incentivised energy per cabina and the money come from stored settlements.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import pandas as pd

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


def _figure_html(traces: list[dict[str, object]], layout: dict[str, object], div_id: str) -> str:
    """A plotly.js chart as an HTML fragment, written as plain JSON for the locally served plotly.js.

    Building ``plotly.graph_objects`` figures validates every property in Python (tens of milliseconds per chart);
    the page only needs the JSON that plotly.js reads, so it is written directly.
    """
    base = {
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 340,
        "legend": {"orientation": "h"},
        "template": {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "#e5ecf6"}},
    }
    figure = json.dumps({"data": traces, "layout": {**base, **layout}}, ensure_ascii=False, separators=(",", ":"))
    figure = figure.replace("</", "<\\/")  # no "</script>" can close the tag early
    config = json.dumps({"displaylogo": False, "responsive": True})
    safe_id = html.escape(div_id, quote=True)
    return (
        f'<div id="{safe_id}" class="plotly-graph-div" style="height:340px; width:100%;"></div>'
        f"<script>(function(){{var f={figure};"
        f'Plotly.newPlot("{safe_id}", f.data, f.layout, {config});}})();</script>'
    )


def bars(index: list[str], series: dict[str, list[float]], title: str, div_id: str, y_title: str) -> str:
    """Grouped bar chart (one trace per entry of ``series``) as an HTML fragment."""
    traces: list[dict[str, object]] = [{"type": "bar", "x": index, "y": v, "name": k} for k, v in series.items()]
    return _figure_html(
        traces, {"title": {"text": title}, "barmode": "group", "yaxis": {"title": {"text": y_title}}}, div_id
    )


def lines(index: list[str], series: dict[str, list[float]], title: str, div_id: str, y_title: str) -> str:
    """Line chart (one trace per entry of ``series``) as an HTML fragment."""
    traces: list[dict[str, object]] = [
        {"type": "scatter", "mode": "lines", "x": index, "y": v, "name": k} for k, v in series.items()
    ]
    return _figure_html(traces, {"title": {"text": title}, "yaxis": {"title": {"text": y_title}}}, div_id)
