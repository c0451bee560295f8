"""A realistic national dataset of energy-sharing configurations, for tests and benchmarks (pure, seeded, no I/O).

What is drawn, and from what (figures with a source are facts; the others are **assumptions**, marked so):

- **Cabine primarie**: 2,107 in Italy (GSE interactive map of the cabine primarie areas, September 2023), spread
  over the regions in proportion to resident population (ISTAT, 1 January 2024; assumption: population is a fair
  proxy for the number of primary substations), each region in its market zone (the rulebook's ``zones.toml``).
- **Configurations per cabina**: each configuration picks its cabina uniformly among the 2,107, so the number per
  cabina is about Poisson with mean N / 2,107 (GSE had qualified about 2,400 CACER configurations by late 2025:
  mean 1.1 per cabina). 15 % of configurations also have points in a second cabina of the same region
  (assumption).
- **Members per configuration**: about 10 on average by late 2025 (GSE: 24,000-25,000 members in about 2,400
  configurations), drawn as ``max(3, round(lognormal(ln 8, 0.6)))`` (mean about 9.6; the shape is an assumption),
  unless a fixed number of PODs is asked for (the benchmarks' 100).
- **Kinds of withdrawal points**: 60 % natural persons (households), 20 % SMEs (business), 12 % municipalities
  (GSE, late 2025); the remaining 8 % split as third sector 4 %, religious 2 %, environmental 2 % (assumption).
  A configuration's municipal points all belong to one member, the municipality.
- **Yearly consumption** [kWh], lognormal around a median: households 2,700 (ARERA's typical domestic customer,
  2,700 kWh/year at 3 kW), σ = 0.4; businesses 10,000, σ = 0.9; municipal buildings 20,000, σ = 0.8; third sector
  6,000, religious 5,000, environmental 4,000, σ = 0.6 (medians and spreads of the non-domestic kinds are
  assumptions), capped at 500,000 kWh.
- **Hourly load**: the BDEW 2025 standard profile of the kind (:func:`condivisa.planning.profiles.standard_profile`,
  H25 for households, G25 otherwise, on Italian local time with Italian holidays), times a day-to-day factor per
  point (lognormal, σ = 0.12) and an hourly factor (uniform 0.85-1.15) (assumptions).
- **PV plants**: one anchor plant per configuration at the municipality's first point (else the largest
  business, else a household), lognormal around 60 kWp, σ = 0.7, clipped to 10-990 kWp (assumption; under
  1 MW as the TIP requires); rooftop PV at 15 % of households (3, 4.5 or 6 kWp) and at 20 % of businesses
  (lognormal around 20 kWp, clipped to 6-200 kWp) (assumptions). Hourly output is pvlib on the bundled PVGIS
  typical year near Turin (:mod:`condivisa.production`), scaled by a zone yield factor (PVGIS yields grow about
  5-25 % from the north to Sicily: assumption of the factors) and by a per-configuration daily factor (lognormal,
  σ = 0.1: local weather differs from the typical year).
  Plants entered into operation in 2024 (after the DM 414/2023, in force on 24 January 2024); 30 % of the
  municipalities' plants have the 40 % PNRR capital grant (assumption).
- **Readings**: a prosumer's meter records the net of load and PV, hour by hour (withdrawal or injection); all
  values are whole Wh, as meters register.

Every shape (BDEW profiles, PV per kWp, hours) is computed once per year and cached; a point's series is the
cached shape scaled and multiplied by its factors, so a community of 100 points over a year takes milliseconds.

Each configuration is generated from its own seed, ``(seed, index)``: any one can be regenerated alone, in any
order, on any machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.model.community import Community, Member, MemberKind, Plant, Point, RegulationRule
from condivisa.rules.rulebook import load_rulebook

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
WhArray = npt.NDArray[np.int32]

N_CABINE = 2107
"""Cabine primarie in Italy (GSE map, September 2023)."""

REGION_POPULATION_THOUSANDS: dict[str, int] = {
    "Piemonte": 4252,
    "Valle d'Aosta": 123,
    "Lombardia": 10021,
    "Trentino-Alto Adige": 1082,
    "Veneto": 4851,
    "Friuli-Venezia Giulia": 1195,
    "Liguria": 1509,
    "Emilia-Romagna": 4456,
    "Toscana": 3664,
    "Umbria": 857,
    "Marche": 1485,
    "Lazio": 5721,
    "Abruzzo": 1270,
    "Molise": 290,
    "Campania": 5594,
    "Puglia": 3891,
    "Basilicata": 534,
    "Calabria": 1839,
    "Sicilia": 4794,
    "Sardegna": 1570,
}
"""Resident population by region [thousands] (ISTAT, 1 January 2024, rounded)."""

KIND_SHARES: dict[str, float] = {
    "household": 0.60,
    "business": 0.20,
    "municipality": 0.12,
    "third_sector": 0.04,
    "religious": 0.02,
    "environmental": 0.02,
}
"""Share of withdrawal points by kind of member (GSE late 2025 for the first three; the rest assumed)."""

YEARLY_KWH: dict[str, tuple[float, float]] = {
    "household": (2700.0, 0.4),
    "business": (10000.0, 0.9),
    "municipality": (20000.0, 0.8),
    "third_sector": (6000.0, 0.6),
    "religious": (5000.0, 0.6),
    "environmental": (4000.0, 0.6),
}
"""Median yearly consumption [kWh] and lognormal σ by kind (household median: ARERA; the rest assumed)."""

MAX_YEARLY_KWH = 500_000.0

ZONE_PV_FACTOR: dict[str, float] = {
    "NORD": 1.00,
    "CNOR": 1.08,
    "CSUD": 1.12,
    "SUD": 1.20,
    "CALA": 1.22,
    "SICI": 1.25,
    "SARD": 1.20,
}
"""PV yield of each zone relative to the Turin typical year (assumption, after PVGIS yields by latitude)."""

ZONE_PRICE_FACTOR: dict[str, float] = {
    "NORD": 1.00,
    "CNOR": 0.98,
    "CSUD": 0.96,
    "SUD": 0.93,
    "CALA": 0.94,
    "SICI": 1.05,
    "SARD": 0.97,
}
"""Zonal price relative to the monthly national price of the rulebook (assumption, near GME's 2024 zonal means)."""

SECOND_CABINA_SHARE = 0.15
"""Share of configurations with points in a second cabina of the same region (assumption)."""

DM_CACER_IN_FORCE = dt.date(2024, 1, 24)


@dataclass(frozen=True)
class NationalSpec:
    """What to generate.

    Parameters
    ----------
    communities : int
        Number of configurations.
    pods : int, optional
        Withdrawal points per configuration; ``None`` draws them (about 10 on average, see the module notes).
    year : int
        Calendar year of the readings (Italian local time).
    seed : int
    """

    communities: int
    pods: int | None = None
    year: int = 2025
    seed: int = 0

    def __post_init__(self) -> None:
        if self.communities < 1:
            raise ValueError(f"numero di comunita' non valido: {self.communities} (almeno 1)")
        if self.pods is not None and not 1 <= self.pods <= 99_999:
            raise ValueError(f"numero di POD per comunita' non valido: {self.pods} (da 1 a 99.999)")
        if self.communities > 9_999:
            raise ValueError(f"troppe comunita': {self.communities} (al massimo 9.999)")
        if not 2000 <= self.year <= 2100:
            raise ValueError(f"anno non valido: {self.year}")


@dataclass(frozen=True)
class Cabina:
    """A cabina primaria: its code, region and market zone."""

    code: str
    region: str
    zone: str


@dataclass(frozen=True)
class Slot:
    """Where a configuration sits: its id, index, region, zone and cabine (first = main)."""

    id: str
    index: int
    region: str
    zone: str
    cabine: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedCommunity:
    """A generated configuration with a year of hourly readings.

    Attributes
    ----------
    slot : Slot
    community : Community
    pods : list of str
        Row order of the arrays: every withdrawal point of the configuration, in the community's order.
    pod_cabina : list of str
        Cabina of each row.
    withdrawn_wh, injected_wh : (P, H) int32 arrays [Wh]
        Hourly withdrawal and injection of each point (series-major: one row per point).
    """

    slot: Slot
    community: Community
    pods: list[str]
    pod_cabina: list[str]
    withdrawn_wh: WhArray
    injected_wh: WhArray


def _largest_remainder(weights: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights``, at least 1 each (largest remainder)."""
    keys = list(weights)
    w = np.array([weights[k] for k in keys], dtype=np.float64)
    quota = w / w.sum() * (total - len(keys))
    base = np.floor(quota).astype(np.int64)
    rest = total - len(keys) - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")[:rest]
    base[order] += 1
    return {k: int(base[i]) + 1 for i, k in enumerate(keys)}


@cache
def national_cabine() -> tuple[Cabina, ...]:
    """The 2,107 cabine primarie, by region (in proportion to population) and zone; codes ``AC001E00001``..."""
    rb = load_rulebook()
    per_region = _largest_remainder(REGION_POPULATION_THOUSANDS, N_CABINE)
    out: list[Cabina] = []
    for region, n in per_region.items():
        zone = rb.region_zone[region]
        for _ in range(n):
            out.append(Cabina(f"AC001E{len(out) + 1:05d}", region, zone))
    return tuple(out)


def national_slots(spec: NationalSpec) -> list[Slot]:
    """Place the configurations: a cabina each (uniform over the country), a second one for some.

    Returns
    -------
    list of Slot
        In index order; ids ``c0001``, ``c0002``...
    """
    rng = np.random.default_rng([spec.seed, 0x5107])
    cabine = national_cabine()
    by_region: dict[str, list[int]] = {}
    for i, c in enumerate(cabine):
        by_region.setdefault(c.region, []).append(i)
    main = rng.integers(0, len(cabine), spec.communities)
    second = rng.random(spec.communities) < SECOND_CABINA_SHARE
    pick = rng.random(spec.communities)
    slots = []
    for k in range(spec.communities):
        cab = cabine[int(main[k])]
        codes = [cab.code]
        same = by_region[cab.region]
        if second[k] and len(same) > 1:
            others = [i for i in same if cabine[i].code != cab.code]
            codes.append(cabine[others[int(pick[k] * len(others))]].code)
        slots.append(Slot(f"c{k + 1:04d}", k, cab.region, cab.zone, tuple(codes)))
    return slots


@dataclass(frozen=True)
class Shapes:
    """Per-year shapes every community reuses."""

    hours: pd.DatetimeIndex
    load: dict[str, FloatArray]  # kind -> (H,) hourly shape summing to 1 over the year
    pv_per_kwp: FloatArray  # (H,) kWh per kWp, Turin typical year
    hour_day: IntArray  # (H,) local day of year of each hour (0-based)
    days: int


@cache
def year_shapes(year: int) -> Shapes:
    """BDEW shapes by kind, pvlib PV per kWp and the local day of every hour of ``year`` (computed once)."""
    from condivisa.planning.profiles import profile_name, standard_profile
    from condivisa.production import PVArray, pv_hourly_kwh, typical_year
    from condivisa.production.weather import lay_on_hours

    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    load: dict[str, FloatArray] = {}
    by_profile: dict[str, FloatArray] = {}
    for kind in KIND_SHARES:
        name = profile_name(kind)
        if name not in by_profile:
            raw = standard_profile(name, hours)
            by_profile[name] = raw / raw.sum()
        load[kind] = by_profile[name]
    pv = pv_hourly_kwh(PVArray(kwp=1.0), lay_on_hours(typical_year(), hours)).reindex(hours).to_numpy(dtype=np.float64)
    local = hours.tz_convert(LOCAL_TZ)
    hour_day = (local.day_of_year.to_numpy() - 1).astype(np.int64)
    return Shapes(hours, load, np.nan_to_num(pv), hour_day, int(hour_day.max()) + 1)


def _member_kinds(rng: np.random.Generator, n: int) -> list[str]:
    kinds = list(KIND_SHARES)
    p = np.array([KIND_SHARES[k] for k in kinds])
    drawn = rng.choice(len(kinds), size=n, p=p / p.sum())
    return [kinds[i] for i in drawn]


def generate_community(spec: NationalSpec, slot: Slot) -> GeneratedCommunity:
    """Draw one configuration (members, points, plants, regulation) and its year of hourly readings.

    Parameters
    ----------
    spec : NationalSpec
    slot : Slot
        From :func:`national_slots`.

    Returns
    -------
    GeneratedCommunity
    """
    rng = np.random.default_rng([spec.seed, slot.index + 1])
    shapes = year_shapes(spec.year)
    n = spec.pods if spec.pods is not None else max(3, round(float(rng.lognormal(np.log(8.0), 0.6))))
    kinds = _member_kinds(rng, n)
    # Every configuration has households; the municipality's points come first (its first one hosts the anchor).
    order = sorted(range(n), key=lambda i: (kinds[i] != "municipality", i))
    kinds = [kinds[i] for i in order]
    cab_of = [slot.cabine[0]] * n
    if len(slot.cabine) > 1:
        for i in range(n):
            if i > 0 and rng.random() < 0.3:
                cab_of[i] = slot.cabine[1]
    pods = [f"IT001E{slot.index * 100_000 + i:09d}" for i in range(n)]

    yearly = np.empty(n)
    for i, kind in enumerate(kinds):
        median, sigma = YEARLY_KWH[kind]
        yearly[i] = min(MAX_YEARLY_KWH, median * float(rng.lognormal(0.0, sigma)))

    # Plants: the anchor, then rooftop PV of some households and businesses.
    plant_kw = np.zeros(n)
    if kinds[0] == "municipality":
        anchor = 0
    elif "business" in kinds:
        anchor = max((i for i in range(n) if kinds[i] == "business"), key=lambda i: yearly[i])
    else:
        anchor = 0
    plant_kw[anchor] = float(np.clip(60.0 * rng.lognormal(0.0, 0.7), 10.0, 990.0))
    roll = rng.random(n)
    for i, kind in enumerate(kinds):
        if i == anchor:
            continue
        if kind == "household" and roll[i] < 0.15:
            plant_kw[i] = float(rng.choice([3.0, 4.5, 6.0]))
        elif kind == "business" and roll[i] < 0.20:
            plant_kw[i] = float(np.clip(20.0 * rng.lognormal(0.0, 0.6), 6.0, 200.0))

    # Loads: cached yearly shape x yearly kWh x day factor x hour factor.
    h, days = len(shapes.hours), shapes.days
    base = np.stack([shapes.load[k] for k in kinds]) * yearly[:, None]
    day_f = rng.lognormal(0.0, 0.12, (n, days))
    base *= day_f[:, shapes.hour_day]
    base *= rng.uniform(0.85, 1.15, (n, h))
    # PV at the plant points: typical year x zone factor x the configuration's daily weather factor.
    plants_at = np.flatnonzero(plant_kw)
    weather = rng.lognormal(0.0, 0.1, days)[shapes.hour_day] * ZONE_PV_FACTOR[slot.zone]
    pv = plant_kw[plants_at, None] * (shapes.pv_per_kwp * weather)[None, :]
    withdrawn = base
    injected = np.zeros_like(base)
    net = base[plants_at] - pv
    withdrawn[plants_at] = np.maximum(net, 0.0)
    injected[plants_at] = np.maximum(-net, 0.0)
    withdrawn_wh = np.rint(withdrawn * 1000.0).astype(np.int32)
    injected_wh = np.rint(injected * 1000.0).astype(np.int32)

    members: list[Member] = []
    municipal = [i for i in range(n) if kinds[i] == "municipality"]
    if municipal:
        members.append(
            Member(
                id="comune",
                name=f"Comune {slot.id}",
                kind="municipality",
                pods=[Point(pod=pods[i], cabina=cab_of[i], voltage="LV") for i in municipal],
            )
        )
    owner = {i: "comune" for i in municipal}
    for i in range(n):
        if kinds[i] == "municipality":
            continue
        mid = f"m{i:05d}"
        owner[i] = mid
        members.append(Member(id=mid, kind=cast(MemberKind, kinds[i]), pods=[Point(pod=pods[i], cabina=cab_of[i])]))
    days_2024 = (dt.date(2024, 12, 31) - DM_CACER_IN_FORCE).days
    plants = []
    for k, i in enumerate(plants_at.tolist()):
        grant = 0.40 if kinds[i] == "municipality" and rng.random() < 0.30 else 0.0
        plants.append(
            Plant(
                id=f"p{k + 1:04d}",
                owner=owner[i],
                pod=pods[i],
                cabina=cab_of[i],
                technology="pv",
                power_kw=round(float(plant_kw[i]), 1),
                commissioning_date=DM_CACER_IN_FORCE + dt.timedelta(days=int(rng.integers(0, days_2024))),
                grant_share=grant,
            )
        )
    community = Community(
        name=f"CER {slot.id} ({slot.region})",
        configuration="CER",
        region=slot.region,
        constitution_date=dt.date(2024, 1, 1),
        members=members,
        plants=plants,
        regulation=[
            RegulationRule(to="fund:gestione", share=0.05),
            RegulationRule(to="producers", share=0.30, by="incentivised_injection"),
            RegulationRule(to="consumers", share=0.65, by="shared_withdrawal"),
        ],
        excess_to="consumers",
    )
    # Rows in the community's order of points (member by member), as the Parquet files store them.
    row_of = {p: i for i, p in enumerate(pods)}
    rows = [row_of[pt.pod] for _, pt in community.points()]
    return GeneratedCommunity(
        slot=slot,
        community=community,
        pods=[pods[i] for i in rows],
        pod_cabina=[cab_of[i] for i in rows],
        withdrawn_wh=np.ascontiguousarray(withdrawn_wh[rows]),
        injected_wh=np.ascontiguousarray(injected_wh[rows]),
    )


def zone_prices(year: int, seed: int = 0, zones: tuple[str, ...] = tuple(ZONE_PRICE_FACTOR)) -> pd.DataFrame:
    """Synthetic hourly zonal prices [€/MWh] for ``year``: a daily shape (solar dip, evening peak) with noise around
    the rulebook's monthly national price times a zone factor (:data:`ZONE_PRICE_FACTOR`).

    Returns
    -------
    pandas.DataFrame
        Columns ``timestamp`` (UTC hour start), ``zone``, ``price_eur_mwh`` (rounded to the cent), sorted by zone
        and hour.
    """
    rb = load_rulebook()
    params, _ = rb.year(year)
    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    local = hours.tz_convert(LOCAL_TZ)
    hod = local.hour.to_numpy()
    month = local.month.to_numpy()
    solar_depth = 0.12 + 0.18 * np.sin(np.pi * (month - 1) / 11.0)
    shape = 1.0 - solar_depth * np.exp(-(((hod - 13.0) / 2.5) ** 2)) + 0.25 * np.exp(-(((hod - 19.5) / 1.8) ** 2))
    shape = shape - 0.12 * ((hod <= 5) | (hod >= 23))
    level = np.asarray(params.monthly_price_eur_mwh)[month - 1]
    frames = []
    for z, zone in enumerate(zones):
        rng = np.random.default_rng([seed, 0x9E1CE, z])
        raw = shape * rng.lognormal(0.0, 0.08, len(hod))
        month_mean = pd.Series(raw).groupby(month).transform("mean").to_numpy()
        price = np.round(raw / month_mean * level * ZONE_PRICE_FACTOR[zone], 2)
        frames.append(pd.DataFrame({"timestamp": hours, "zone": zone, "price_eur_mwh": price}))
    return pd.concat(frames, ignore_index=True)
