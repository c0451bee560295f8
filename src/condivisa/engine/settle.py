"""Settle a configuration over a period: from community, readings and prices to energy, money and allocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.allocation import Allocation, Bases, apply_regulation, eur_to_cents
from condivisa.engine.sharing import EnergyResult, Layout, MoneyResult, share_energy, value_energy
from condivisa.engine.timegrid import LOCAL_TZ, HourlyMatrix, Period, to_hourly
from condivisa.errors import InputError
from condivisa.ingest.prices import Prices
from condivisa.ingest.readings import Readings
from condivisa.model.community import Community, Member, Plant, Point
from condivisa.rules.bands import time_band
from condivisa.rules.checks import check_community, check_coverage
from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook
from condivisa.rules.tip import geographic_correction, grant_reduction, power_class, tip_eur_mwh

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PlantResult:
    """Per-plant totals over the period (energy [kWh], money [€])."""

    id: str
    owner: str
    cabina: str
    injected_kwh: float
    incentivised_kwh: float
    tip_eur: float
    excess_eur: float
    earns_tip: bool
    with_grant: bool


@dataclass(frozen=True)
class ExcessSet:
    """The yearly excess check of one set of plants."""

    name: str
    threshold: float
    plants: tuple[str, ...]
    injected_kwh: float
    incentivised_kwh: float
    tip_eur: float

    @property
    def share(self) -> float:
        """Incentivised / injected of the set [unitless]."""
        return self.incentivised_kwh / self.injected_kwh if self.injected_kwh > 0 else 0.0

    @property
    def excess_eur(self) -> float:
        """TIP of the set x max(0, share - threshold) [€]."""
        return self.tip_eur * max(0.0, self.share - self.threshold)


@dataclass(frozen=True)
class Settlement:
    """Everything a settlement computed; :mod:`condivisa.report` turns it into JSON and tables."""

    community: Community
    period: Period
    hours: pd.DatetimeIndex
    zone: str
    price_eur_mwh: FloatArray
    price_source: str
    cu_af_eur_mwh: FloatArray
    cabine: list[str]
    plants: list[Plant]
    point_pods: list[str]
    point_members: list[str]
    energy: EnergyResult
    money: MoneyResult
    plant_results: list[PlantResult]
    excess_sets: list[ExcessSet]
    allocation: Allocation
    warnings: list[str] = field(default_factory=list)

    @property
    def tip_eur(self) -> float:
        return float(self.money.plant_tip.sum())

    @property
    def valorisation_eur(self) -> float:
        """ARERA valorisation, avoided losses (AUC) included [€]."""
        return float(self.money.valorisation.sum() + self.money.avoided_losses.sum())

    @property
    def total_eur(self) -> float:
        return self.tip_eur + self.valorisation_eur

    def hourly_frame(self) -> pd.DataFrame:
        """One row per hour: local time, band, energies [kWh], price [€/MWh], money [€]."""
        e, m = self.energy, self.money
        return pd.DataFrame(
            {
                "timestamp": self.hours.tz_convert(LOCAL_TZ),
                "band": time_band(self.hours),
                "withdrawn_kwh": e.withdrawn[0],
                "injected_kwh": e.injected[0],
                "shared_kwh": e.shared[0],
                "incentivised_kwh": e.incentivised[0],
                "price_eur_mwh": self.price_eur_mwh,
                "tip_eur": m.tip[0],
                "valorisation_eur": m.valorisation[0] + m.avoided_losses[0],
            }
        )


def default_period(readings: Readings, pods: set[str]) -> Period:
    """The local days spanned by the readings of the configuration's PODs."""
    f = readings.frame
    ts = f.loc[f["pod"].isin(pods), "timestamp"]
    if ts.empty:
        raise InputError.one("nessuna lettura per i POD della configurazione", file=readings.source)
    local = ts.dt.tz_convert(LOCAL_TZ)
    return Period(local.min().date(), local.max().date())


def _gap_warnings(matrix: HourlyMatrix, readings: Readings, present: set[str]) -> list[str]:
    out = []
    for j, pod in enumerate(matrix.pods):
        if pod not in present:
            continue
        expected = 60 // readings.interval_minutes.get(pod, 60)
        counts = matrix.intervals[:, j]
        missing = int((counts == 0).sum())
        partial = int(((counts > 0) & (counts < expected)).sum())
        if missing or partial:
            parts = []
            if missing:
                parts.append(f"{missing} ore senza letture")
            if partial:
                parts.append(f"{partial} ore incomplete")
            out.append(f"{pod}: {' e '.join(parts)} nel periodo (valori mancanti considerati a zero)")
    return out


def _hourly_prices(
    prices: Prices | None, zone: str, hours: pd.DatetimeIndex, rb: Rulebook
) -> tuple[FloatArray, str, list[str]]:
    warnings: list[str] = []
    if prices is not None:
        chosen = zone if zone in prices.zones else ("PUN" if "PUN" in prices.zones else None)
        if chosen is None:
            raise InputError.one(
                f"nessun prezzo per la zona {zone} (zone nel file: {', '.join(prices.zones)})",
                file=prices.source,
                field="zone",
            )
        if chosen != zone:
            warnings.append(f"prezzi della zona {zone} assenti: uso il PUN del file prezzi")
        series = prices.zone_series(chosen).reindex(hours)
        missing = series.index[series.isna()]
        if len(missing):
            first = ", ".join(t.tz_convert(LOCAL_TZ).isoformat() for t in missing[:5])
            raise InputError.one(
                f"mancano {len(missing)} prezzi orari della zona {chosen} nel periodo (prime ore: {first})",
                file=prices.source,
                field="timestamp",
            )
        return series.to_numpy(dtype=np.float64), f"file {prices.source}, zona {chosen}", warnings
    local = hours.tz_convert(LOCAL_TZ)
    out = np.empty(len(hours))
    used = []
    for year in sorted(set(local.year)):
        params, exact = rb.year(int(year))
        mask = np.asarray(local.year == year)
        out[mask] = np.asarray(params.monthly_price_eur_mwh)[local.month.to_numpy()[mask] - 1]
        label = f"{params.monthly_price_series} mensile {params.year}"
        if not exact or params.monthly_price_provisional:
            label += f" (per il {year}: {params.sources['monthly_price']})"
        used.append(label)
    warnings.append(
        "nessun file prezzi: TIP calcolata con la tabella mensile del regolamento ("
        + "; ".join(used)
        + "), non con i prezzi zonali orari"
    )
    return out, "tabella mensile: " + "; ".join(used), warnings


def _cu_af(
    community: Community, hours: pd.DatetimeIndex, rb: Rulebook
) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """CU_Af [€/MWh] and AUC loss coefficients (LV, MV) for each hour, with warnings on provisional figures."""
    local_year = hours.tz_convert(LOCAL_TZ).year.to_numpy()
    cu = np.empty(len(hours))
    lv = np.empty(len(hours))
    mv = np.empty(len(hours))
    warnings = []
    override = community.parameters
    for year in sorted(set(local_year.tolist())):
        params, exact = rb.year(int(year))
        mask = local_year == year
        cu[mask] = override.get("cu_af_eur_mwh", params.cu_af_eur_mwh)
        lv[mask] = override.get("auc_loss_lv", params.auc_loss_lv)
        mv[mask] = override.get("auc_loss_mv", params.auc_loss_mv)
        if "cu_af_eur_mwh" in override:
            continue
        if not exact:
            warnings.append(
                f"CU_Af {year} non presente nel regolamento: uso il valore {params.year} "
                f"({params.cu_af_eur_mwh:.2f} €/MWh)"
            )
        elif params.cu_af_provisional:
            warnings.append(f"CU_Af {year} provvisorio: {params.sources['cu_af']}")
    return cu, lv, mv, warnings


def settle(
    community: Community,
    readings: Readings,
    prices: Prices | None = None,
    *,
    period: Period | None = None,
    rulebook: Rulebook | None = None,
    source: str = "",
) -> Settlement:
    """Settle a configuration over a period, hour by hour, as GSE does.

    Parameters
    ----------
    community : Community
    readings : Readings
        Interval readings (15 min or hourly) of the configuration's PODs.
    prices : Prices, optional
        Hourly zonal prices; without them the rulebook's monthly table is used and a warning says so.
    period : Period, optional
        Local days to settle (inclusive); default: the days spanned by the readings.
    source : str
        Name of the community file, for messages.

    Raises
    ------
    InputError
        Eligibility or perimeter violations, missing prices, no readings for the configuration.
    """
    rb = rulebook or load_rulebook()
    problems, warnings = check_community(community, source=source, rulebook=rb)
    if problems:
        raise InputError(problems)
    point_pairs = community.points()
    plant_pods = [p.pod for p in community.plants]
    all_pods = list(dict.fromkeys([pt.pod for _, pt in point_pairs] + plant_pods))
    per = period or default_period(readings, set(all_pods))
    hours = per.hours()
    frame = readings.frame
    in_period = frame[(frame["timestamp"] >= per.start_utc) & (frame["timestamp"] < per.end_utc)]
    present = set(in_period["pod"].unique())
    if not present & set(all_pods):
        raise InputError.one(
            f"nessuna lettura dei POD della configurazione tra il {per.start:%d/%m/%Y} e il {per.end:%d/%m/%Y}",
            file=readings.source,
        )
    warnings += check_coverage(community, present)
    matrix = to_hourly(in_period, all_pods, hours)
    warnings += _gap_warnings(matrix, readings, present)
    return settle_hourly(
        community, all_pods, matrix.withdrawn.T, matrix.injected.T, per, prices, rulebook=rb, warnings=warnings
    )


def _grouping(
    community: Community, rb: Rulebook
) -> tuple[list[str], Callable[[tuple[Member, Point]], tuple[int, bool, str]]]:
    """The community's cabine (sorted) and the key that groups its points: cabina, exempt or not, and voltage
    where avoided losses count (AUC)."""
    conf = rb.configurations[community.configuration]
    cabine = sorted({pt.cabina for _, pt in community.points()} | {p.cabina for p in community.plants})
    cab_index = {c: i for i, c in enumerate(cabine)}
    exempt_kinds = rb.exempt_member_kinds

    def group_key(pair: tuple[Member, Point]) -> tuple[int, bool, str]:
        m, pt = pair
        return (cab_index[pt.cabina], m.kind in exempt_kinds, pt.voltage if conf.avoided_losses else "")

    return cabine, group_key


def point_order(community: Community, rulebook: Rulebook | None = None) -> list[str]:
    """The PODs of the community's points in the order :func:`settle_hourly` lays out its rows.

    A caller that fills the (P, H) arrays itself (a national run reading Parquet) can write them in this order:
    :func:`settle_hourly` then uses them as they are instead of copying them into that order.
    """
    rb = rulebook or load_rulebook()
    _, group_key = _grouping(community, rb)
    return [pt.pod for _, pt in sorted(community.points(), key=group_key)]


def settle_hourly(
    community: Community,
    pods: list[str] | tuple[str, ...],
    withdrawn_kwh: npt.NDArray[np.float64],
    injected_kwh: npt.NDArray[np.float64],
    period: Period,
    prices: Prices | None = None,
    *,
    rulebook: Rulebook | None = None,
    warnings: list[str] | None = None,
    memo: dict[Any, Any] | None = None,
) -> Settlement:
    """Settle a configuration from its hourly series: every step of :func:`settle` after the hourly aggregation.

    The caller has checked the community (:func:`~condivisa.rules.checks.check_community`) and its perimeter;
    :func:`settle` and the national runs (:mod:`condivisa.national.settle_many`) both end here, so their results
    are the same by construction.

    Parameters
    ----------
    community : Community
    pods : list of str
        Point of each row of the arrays; points of the community not listed have no readings (zero).
    withdrawn_kwh, injected_kwh : (P, H) float64 arrays [kWh]
        Hourly withdrawal and injection of each point over ``period.hours()``, series-major.
    period : Period
    prices : Prices, optional
        Hourly zonal prices; without them the rulebook's monthly table is used (with a warning).
    warnings : list of str, optional
        Warnings gathered so far (checks, coverage, gaps); the settlement's warnings start with them.
    memo : dict, optional
        A cache kept across calls with the same ``prices`` and ``period``: hourly prices per zone and CU_Af per set
        of parameters are computed once instead of once per community.
    """
    rb = rulebook or load_rulebook()
    warnings = list(warnings or [])
    region = canonical_region(community.region, rb)
    assert region is not None
    zone = rb.region_zone[region]
    conf = rb.configurations[community.configuration]
    hours = period.hours()
    if withdrawn_kwh.shape != (len(pods), len(hours)) or injected_kwh.shape != withdrawn_kwh.shape:
        raise ValueError(f"attese matrici {len(pods)} x {len(hours)} ore, trovate {withdrawn_kwh.shape}")
    point_pairs = community.points()
    plant_pods = [p.pod for p in community.plants]
    row_of = {pod: i for i, pod in enumerate(pods)}
    zero = np.zeros(len(hours))

    def w_row(pod: str) -> FloatArray:
        return withdrawn_kwh[row_of[pod]] if pod in row_of else zero

    def i_row(pod: str) -> FloatArray:
        return injected_kwh[row_of[pod]] if pod in row_of else zero

    cabine, group_key = _grouping(community, rb)
    cab_index = {c: i for i, c in enumerate(cabine)}
    points = sorted(point_pairs, key=group_key)
    keys = list(dict.fromkeys(group_key(pair) for pair in points))
    key_index = {k: g for g, k in enumerate(keys)}
    plants = sorted(community.plants, key=lambda p: (cab_index[p.cabina], p.commissioning_date, p.id))
    layout = Layout(
        point_group=np.array([key_index[group_key(pair)] for pair in points], dtype=np.intp),
        group_cabina=np.array([k[0] for k in keys], dtype=np.intp),
        plant_cabina=np.array([cab_index[p.cabina] for p in plants], dtype=np.intp),
        n_cabine=len(cabine),
    )
    if all(pt.pod in row_of for _, pt in points):
        order = [row_of[pt.pod] for _, pt in points]
        # Rows already in layout order (as a dataset written by the engine's order has them): no copy.
        same = order == list(range(withdrawn_kwh.shape[0]))
        withdrawn = withdrawn_kwh if same else withdrawn_kwh[order]
    else:
        withdrawn = np.stack([w_row(pt.pod) for _, pt in points])

    power_at_pod: dict[str, float] = {}
    for p in plants:
        power_at_pod[p.pod] = power_at_pod.get(p.pod, 0.0) + p.power_kw
    for pod in sorted(pod for pod in power_at_pod if sum(q.pod == pod for q in plants) > 1):
        warnings.append(f"piu' impianti sullo stesso POD {pod}: immissione ripartita in proporzione alla potenza")
    injected = np.zeros((len(plants), len(hours)))
    for j, p in enumerate(plants):
        injected[j] = i_row(p.pod) * (p.power_kw / power_at_pod[p.pod])
    plant_pod_set = set(plant_pods)
    injecting: npt.NDArray[np.bool_] = np.asarray(injected_kwh.any(axis=1))  # one pass, not one call per point
    stray = [
        pt.pod for _, pt in points if pt.pod not in plant_pod_set and pt.pod in row_of and injecting[row_of[pt.pod]]
    ]
    if stray:
        warnings.append("immissioni da POD senza impianto dichiarato, non conteggiate: " + ", ".join(stray[:10]))

    memo = {} if memo is None else memo
    price_key = ("price", id(prices), zone, period)
    if price_key not in memo:
        memo[price_key] = _hourly_prices(prices, zone, hours, rb)
    price, price_source, price_warnings = memo[price_key]
    warnings += price_warnings
    cu_key = ("cu_af", tuple(sorted(community.parameters.items())), period)
    if cu_key not in memo:
        memo[cu_key] = _cu_af(community, hours, rb)
    cu_af, loss_lv, loss_mv, cu_warnings = memo[cu_key]
    warnings += cu_warnings

    tariffs: dict[tuple[float, float], int] = {}
    plant_tariff = np.empty(len(plants), dtype=np.intp)
    for j, p in enumerate(plants):
        key = (power_class(p.power_kw, rb).max_power_kw, geographic_correction(p.technology, p.region or region, rb))
        plant_tariff[j] = tariffs.setdefault(key, len(tariffs))
    tariff = np.empty((len(tariffs), len(hours)))
    for (max_kw, fc), row in tariffs.items():
        tariff[row] = tip_eur_mwh(max_kw, price, fc_eur_mwh=fc, rulebook=rb)

    eligible = np.array([p.commissioning_date >= rb.min_commissioning_date for p in plants], dtype=bool)
    tip_share = np.array([p.tip_share for p in plants]) * eligible
    reduction = np.array([grant_reduction(p.grant_share, rb) for p in plants])
    loss = None
    if conf.avoided_losses:
        by_voltage = {"LV": loss_lv, "MV": loss_mv, "HV": np.zeros(len(hours))}
        loss = np.stack([by_voltage[k[2]] for k in keys])
    energy = share_energy(withdrawn, injected, layout)
    money = value_energy(
        energy,
        layout,
        tariff,
        plant_tariff,
        reduction,
        tip_share,
        cu_af,
        group_exempt=np.array([k[1] for k in keys], dtype=bool),
        exempt_first_to_grant_plants=rb.exempt_priority_to_grant_plants,
        group_loss_coefficient=loss,
        price_eur_mwh=price,
    )

    inj_tot = energy.plant_injected.sum(axis=1)
    inc_tot = energy.plant_incentivised.sum(axis=1)
    tip_tot = money.plant_tip
    excess_sets = []
    plant_excess = np.zeros(len(plants))
    for name, threshold, members in (
        (
            "sola tariffa premio",
            rb.excess_threshold_tip_only,
            [j for j, p in enumerate(plants) if tip_share[j] > 0 and p.grant_share == 0],
        ),
        (
            "tariffa premio e contributo in conto capitale",
            rb.excess_threshold_with_grant,
            [j for j, p in enumerate(plants) if tip_share[j] > 0 and p.grant_share > 0],
        ),
    ):
        if not members:
            continue
        s = ExcessSet(
            name,
            threshold,
            tuple(plants[j].id for j in members),
            float(inj_tot[members].sum()),
            float(inc_tot[members].sum()),
            float(tip_tot[members].sum()),
        )
        excess_sets.append(s)
        diff = max(0.0, s.share - threshold)
        plant_excess[members] = tip_tot[members] * diff
    if any(s.excess_eur > 0 for s in excess_sets) and not period.is_calendar_year():
        warnings.append("la quota eccedentaria si verifica sull'anno: il valore riportato e' calcolato sul periodo")
    if any(s.excess_eur > 0 for s in excess_sets) and community.excess_to is None:
        warnings.append(
            "quota eccedentaria positiva: va destinata ai consumatori diversi dalle imprese o a "
            "finalita' sociali (indicare excess_to nel file della comunita')"
        )

    plant_results = [
        PlantResult(
            p.id,
            p.owner,
            p.cabina,
            float(inj_tot[j]),
            float(inc_tot[j]),
            float(tip_tot[j]),
            float(plant_excess[j]),
            bool(tip_share[j] > 0),
            p.grant_share > 0,
        )
        for j, p in enumerate(plants)
    ]
    producers: dict[str, dict[str, float]] = {}
    for r in plant_results:
        b = producers.setdefault(r.owner, {"incentivised_injection": 0.0, "injected": 0.0})
        b["incentivised_injection"] += r.incentivised_kwh
        b["injected"] += r.injected_kwh
    consumers: dict[str, dict[str, float]] = {
        m.id: {"shared_withdrawal": 0.0, "withdrawn": 0.0} for m in community.members
    }
    for k, (m, _) in enumerate(points):
        consumers[m.id]["shared_withdrawal"] += float(energy.point_shared_withdrawal[k])
        consumers[m.id]["withdrawn"] += float(energy.point_withdrawn[k])
    bases = Bases(
        producers=producers,
        consumers=consumers,
        non_business=frozenset(m.id for m in community.members if m.kind != "business"),
    )
    total_cents = eur_to_cents(float(money.plant_tip.sum() + money.valorisation.sum() + money.avoided_losses.sum()))
    excess_cents = eur_to_cents(sum(s.excess_eur for s in excess_sets))
    allocation = apply_regulation(
        total_cents, community.regulation, bases, excess_cents=excess_cents, excess_to=community.excess_to
    )
    warnings += list(allocation.warnings)
    return Settlement(
        community=community,
        period=period,
        hours=hours,
        zone=zone,
        price_eur_mwh=price,
        price_source=price_source,
        cu_af_eur_mwh=cu_af,
        cabine=cabine,
        plants=plants,
        point_pods=[pt.pod for _, pt in points],
        point_members=[m.id for m, _ in points],
        energy=energy,
        money=money,
        plant_results=plant_results,
        excess_sets=excess_sets,
        allocation=allocation,
        warnings=warnings,
    )


def parse_day(text: str, *, field_name: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` date given on the command line."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError.one(f"data non valida {text!r}: attesa AAAA-MM-GG", field=field_name) from exc
