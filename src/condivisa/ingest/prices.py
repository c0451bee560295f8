"""Hourly zonal prices: ``timestamp,zone,price_eur_mwh`` (timestamp ISO 8601 with offset, start of the hour)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from condivisa.errors import InputError, Problem
from condivisa.ingest._csv import parse_numbers, parse_timestamps, problems_where, read_text_table
from condivisa.rules.rulebook import ZONES

COLUMNS = ["timestamp", "zone", "price_eur_mwh"]


@dataclass(frozen=True)
class Prices:
    """Validated prices: ``frame`` has columns ``timestamp`` (UTC hour start), ``zone``, ``price_eur_mwh``."""

    frame: pd.DataFrame
    source: str = ""

    def zone_series(self, zone: str) -> pd.Series:
        """Hourly price of one zone [€/MWh], indexed by UTC hour start."""
        sel = self.frame[self.frame["zone"] == zone]
        return pd.Series(sel["price_eur_mwh"].to_numpy(), index=pd.DatetimeIndex(sel["timestamp"]), name=zone)

    @property
    def zones(self) -> list[str]:
        return sorted(self.frame["zone"].unique())


def parse_prices_csv(source: str | io.StringIO | Path, *, name: str | None = None) -> Prices:
    """Parse a price file. Quarter-hour prices (the day-ahead market's 15-minute products) are averaged per hour.

    Raises
    ------
    InputError
        Unknown zone, malformed timestamp or price, duplicated (zone, timestamp).
    """
    label = name or str(source)
    frame = read_text_table(source, label, COLUMNS)
    if frame.empty:
        raise InputError.one("nessun prezzo nel file", file=label)
    problems: list[Problem] = []
    zone = frame["zone"].str.strip().str.upper()
    problems += problems_where(
        ~zone.isin((*ZONES, "PUN")),
        frame,
        label,
        "zone",
        f"zona di mercato sconosciuta; ammesse: {', '.join(ZONES)} (o PUN)",
    )
    ts = parse_timestamps(frame, "timestamp", label, problems)
    price = parse_numbers(frame, "price_eur_mwh", label, problems, non_negative=False)
    if problems:
        raise InputError(problems)
    out = pd.DataFrame({"timestamp": ts, "zone": zone, "price_eur_mwh": price}, index=frame.index)
    dup = out.duplicated(["zone", "timestamp"], keep="first")
    if dup.any():
        raise InputError(problems_where(dup, frame, label, "timestamp", "prezzo duplicato per zona e ora"))
    out["timestamp"] = out["timestamp"].dt.floor("h")
    hourly = out.groupby(["zone", "timestamp"])["price_eur_mwh"].mean().reset_index()
    return Prices(frame=hourly.sort_values(["zone", "timestamp"]).reset_index(drop=True), source=label)


def read_prices_csv(path: str | Path) -> Prices:
    """Read a price file (see :func:`parse_prices_csv`)."""
    return parse_prices_csv(Path(path), name=str(path))
