"""A realistic demo community near Turin: a year of readings, two plants in one cabina, NORD prices.

Loads are synthetic shapes (:mod:`condivisa.demo.loads`); PV comes from pvlib on the bundled PVGIS typical year
near Turin; prices are synthetic hourly NORD prices whose monthly means are the rulebook's 2025 monthly PUN.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from condivisa.demo.loads import load_profile
from condivisa.engine.timegrid import LOCAL_TZ, Period, iso_local
from condivisa.ingest.readings import Readings, write_readings_csv
from condivisa.model.community import Community, Member, Plant, Point, RegulationRule
from condivisa.model.yamlfile import dump_community
from condivisa.production import PVArray, pv_hourly_kwh, typical_year
from condivisa.production.weather import lay_on_hours
from condivisa.rules.rulebook import load_rulebook

CABINA_A = "AC001E00123"
CABINA_B = "AC001E00124"
_FIRST = [
    "Mario",
    "Lucia",
    "Giuseppe",
    "Anna",
    "Paolo",
    "Giulia",
    "Luca",
    "Francesca",
    "Marco",
    "Chiara",
    "Andrea",
    "Sara",
    "Stefano",
    "Elena",
    "Davide",
    "Laura",
    "Matteo",
    "Silvia",
    "Alessandro",
    "Marta",
]
_LAST = [
    "Rossi",
    "Bianchi",
    "Ferrero",
    "Gallo",
    "Costa",
    "Bruno",
    "Ricci",
    "Greco",
    "Marino",
    "Conti",
    "Giordano",
    "Colombo",
    "Rinaldi",
    "Barbero",
    "Bertola",
    "Fontana",
    "Moretti",
    "Lombardi",
]


def demo_community() -> Community:
    """The demo CER: 30 households, 6 businesses, the municipality (school and town hall), a parish and a
    third-sector association; two PV plants in cabina A, a few households in cabina B."""
    members: list[Member] = []
    pod_no = 1

    def pod() -> str:
        nonlocal pod_no
        pod_no += 1
        return f"IT001E{10000000 + pod_no:08d}"

    members.append(
        Member(
            id="m01",
            name="Comune di Borgo Demo",
            kind="municipality",
            pods=[
                Point(pod="IT001E10000001", cabina=CABINA_A, voltage="MV"),
                Point(pod=pod(), cabina=CABINA_A),
            ],
        )
    )
    members.append(
        Member(
            id="m02",
            name="Parrocchia San Giovanni",
            kind="religious",
            pods=[Point(pod=pod(), cabina=CABINA_A)],
        )
    )
    members.append(
        Member(
            id="m03",
            name="Associazione Il Ponte ETS",
            kind="third_sector",
            pods=[Point(pod=pod(), cabina=CABINA_A)],
        )
    )
    businesses = [
        "Logistica Piemonte srl",
        "Panificio Aurora",
        "Studio Tecnico Gallo",
        "Ferramenta Conti",
        "Bar Centrale",
        "Officina Moretti",
    ]
    for i, name in enumerate(businesses):
        members.append(Member(id=f"m{4 + i:02d}", name=name, kind="business", pods=[Point(pod=pod(), cabina=CABINA_A)]))
    for i in range(30):
        cabina = CABINA_B if i >= 26 else CABINA_A
        name = f"{_LAST[(i * 7) % len(_LAST)]} {_FIRST[(i * 3) % len(_FIRST)]}"
        members.append(Member(id=f"m{10 + i:02d}", name=name, kind="household", pods=[Point(pod=pod(), cabina=cabina)]))
    plants = [
        Plant(
            id="p1",
            owner="m01",
            pod="IT001E10000001",
            cabina=CABINA_A,
            technology="pv",
            power_kw=60.0,
            commissioning_date=dt.date(2024, 4, 15),
            grant_share=0.40,
        ),
        Plant(
            id="p2",
            owner="m04",
            pod=members[3].pods[0].pod,
            cabina=CABINA_A,
            technology="pv",
            power_kw=200.0,
            commissioning_date=dt.date(2024, 9, 1),
        ),
    ]
    return Community(
        name="CER Borgo Demo",
        configuration="CER",
        region="Piemonte",
        constitution_date=dt.date(2024, 3, 1),
        members=members,
        plants=plants,
        regulation=[
            RegulationRule(to="fund:sociale", share=0.10),
            RegulationRule(to="fund:gestione", share=0.05),
            RegulationRule(to="producers", share=0.25, by="incentivised_injection"),
            RegulationRule(to="consumers", share=0.60, by="shared_withdrawal"),
        ],
        excess_to="consumers",
    )


_YEARLY = {"household": (1800.0, 3800.0), "business": (15000.0, 60000.0)}


def demo_readings(community: Community, year: int, seed: int = 2025) -> Readings:
    """A year of readings: hourly for consumer points, quarter-hourly (net of own load) for plant points."""
    rng = np.random.default_rng(seed)
    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    weather = lay_on_hours(typical_year(), hours)
    plant_at = {p.pod: p for p in community.plants}
    frames = []
    for member in community.members:
        for k, point in enumerate(member.pods):
            if member.kind == "municipality":
                kind, yearly = ("school", 45000.0) if k == 0 else ("business", 12000.0)
            elif member.kind == "religious":
                kind, yearly = "parish", 6000.0
            elif member.kind == "third_sector":
                kind, yearly = "business", 5000.0
            else:
                kind = member.kind
                lo, hi = _YEARLY[kind]
                yearly = float(rng.uniform(lo, hi))
            load = load_profile(kind, yearly, hours, rng)
            if point.pod in plant_at:
                plant = plant_at[point.pod]
                pv = pv_hourly_kwh(PVArray(kwp=plant.power_kw), weather).reindex(hours).to_numpy()
                # Quarter-hours: spread each hour over four intervals with a little within-hour variation.
                q_load = np.repeat(load / 4.0, 4) * rng.lognormal(0.0, 0.1, 4 * len(load))
                q_pv = np.repeat(pv / 4.0, 4) * rng.uniform(0.9, 1.1, 4 * len(pv))
                net = q_load - q_pv
                times = pd.date_range(hours[0], periods=4 * len(hours), freq="15min")
                frames.append(
                    pd.DataFrame(
                        {
                            "pod": point.pod,
                            "timestamp": times,
                            "withdrawn_kwh": np.maximum(net, 0.0),
                            "injected_kwh": np.maximum(-net, 0.0),
                        }
                    )
                )
            else:
                frames.append(
                    pd.DataFrame({"pod": point.pod, "timestamp": hours, "withdrawn_kwh": load, "injected_kwh": 0.0})
                )
    frame = pd.concat(frames, ignore_index=True)
    frame[["withdrawn_kwh", "injected_kwh"]] = frame[["withdrawn_kwh", "injected_kwh"]].round(3)
    resolution = {str(p): (15 if (g["timestamp"].dt.minute != 0).any() else 60) for p, g in frame.groupby("pod")}
    return Readings(frame=frame, interval_minutes=resolution, source="demo")


def demo_prices(year: int, seed: int = 7) -> pd.DataFrame:
    """Synthetic hourly NORD prices [€/MWh]: a daily shape (solar dip, evening peak) around the rulebook's
    monthly price table, so that each month's mean equals that month's figure."""
    rng = np.random.default_rng(seed)
    rb = load_rulebook()
    params, _ = rb.year(year)
    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    local = hours.tz_convert(LOCAL_TZ)
    h = local.hour.to_numpy()
    month = local.month.to_numpy()
    solar_depth = 0.12 + 0.18 * np.sin(np.pi * (month - 1) / 11.0)
    shape = 1.0 - solar_depth * np.exp(-(((h - 13.0) / 2.5) ** 2)) + 0.25 * np.exp(-(((h - 19.5) / 1.8) ** 2))
    shape = shape - 0.12 * ((h <= 5) | (h >= 23))
    raw = shape * rng.lognormal(0.0, 0.08, len(h))
    level = np.asarray(params.monthly_price_eur_mwh)[month - 1]
    month_mean = pd.Series(raw).groupby(month).transform("mean").to_numpy()
    price = raw / month_mean * level
    text = iso_local(hours)
    return pd.DataFrame({"timestamp": text, "zone": "NORD", "price_eur_mwh": price.round(2)})


def write_demo(directory: Path, *, year: int = 2025) -> dict[str, Path]:
    """Write ``community.yaml``, ``readings.csv`` and ``prices.csv`` of the demo into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    community = demo_community()
    paths = {
        "community": directory / "community.yaml",
        "readings": directory / "readings.csv",
        "prices": directory / "prices.csv",
    }
    header = (
        "# Comunita' demo generata da `condivisa demo`: consumi sintetici, produzione pvlib sull'anno tipo\n"
        "# PVGIS vicino a Torino (© EU JRC), prezzi NORD sintetici calibrati sul PUN mensile.\n"
    )
    paths["community"].write_text(header + dump_community(community), encoding="utf-8")
    write_readings_csv(demo_readings(community, year), paths["readings"])
    demo_prices(year).to_csv(paths["prices"], index=False)
    return paths
