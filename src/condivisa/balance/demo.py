"""The demo municipality's balance: a baseline (2005) and a monitoring (2025) inventory of "Comune di Borgo
Demo", the home of the demo community (:mod:`condivisa.demo`).

What comes from the demo community (a year of its synthetic readings, settled by the engine):

- residential electricity: the mean yearly withdrawal of the community's households times the households of the
  municipality (population / household size);
- municipal buildings electricity: the municipality member's withdrawal plus the self-consumed part of its PV;
- tertiary electricity: the community's businesses, parish and association (withdrawal + self-consumption), on
  top of an illustrative figure for the rest of the sector;
- local PV production: the community plants' pvlib production on the bundled typical year, plus other PV;
- shared energy: the community's hourly shared energy.

Everything else is an illustrative figure of ``data/demo_municipality.toml``, each with its basis. The 2005
baseline has no readings: its residential electricity uses ARERA's reference household.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from condivisa.balance.factors import FactorTable
from condivisa.balance.inventory import (
    Balance,
    ConsumptionRow,
    ElectricityRule,
    Inventory,
    LocalProduction,
    Progress,
    compare,
    compute_balance,
)

__all__ = [
    "CommunityFigures",
    "community_figures",
    "demo_balances",
    "demo_inventories",
    "demo_municipality_data",
]


@dataclass(frozen=True)
class CommunityFigures:
    """Yearly figures of the demo community [MWh], from its readings and settlement."""

    year: int
    households: int
    household_mwh: float
    municipality_mwh: float
    tertiary_mwh: float
    pv_production_mwh: float
    shared_mwh: float

    @property
    def mwh_per_household(self) -> float:
        return self.household_mwh / self.households


@cache
def demo_municipality_data() -> dict[str, Any]:
    """The figures of ``data/demo_municipality.toml``."""
    text = resources.files("condivisa.balance").joinpath("data/demo_municipality.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def community_figures(year: int = 2025) -> CommunityFigures:
    """Settle a year of the demo community and sum what the municipal inventory needs (about 2 s)."""
    from condivisa.demo import demo_community, demo_readings
    from condivisa.engine.settle import settle
    from condivisa.engine.timegrid import Period
    from condivisa.production import PVArray, pv_hourly_kwh, typical_year
    from condivisa.production.weather import lay_on_hours

    community = demo_community()
    readings = demo_readings(community, year)
    settlement = settle(community, readings)
    kind_of_pod = {pt.pod: m.kind for m in community.members for pt in m.pods}
    withdrawn = readings.frame.groupby("pod")["withdrawn_kwh"].sum()
    by_kind: dict[str, float] = {}
    for pod, kwh in withdrawn.items():
        kind = kind_of_pod[str(pod)]
        by_kind[kind] = by_kind.get(kind, 0.0) + float(kwh)

    hours = Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()
    weather = lay_on_hours(typical_year(), hours)
    injected = {r.id: r.injected_kwh for r in settlement.plant_results}
    production = 0.0
    for plant in community.plants:
        produced = float(pv_hourly_kwh(PVArray(kwp=plant.power_kw), weather).reindex(hours).fillna(0.0).sum())
        production += produced
        self_consumed = max(0.0, produced - injected[plant.id])
        kind = kind_of_pod[plant.pod]
        by_kind[kind] = by_kind.get(kind, 0.0) + self_consumed
    households = sum(1 for m in community.members if m.kind == "household")
    tertiary_kinds = {"business", "religious", "third_sector", "other", "environmental", "university"}
    return CommunityFigures(
        year=year,
        households=households,
        household_mwh=by_kind.get("household", 0.0) / 1000.0,
        municipality_mwh=by_kind.get("municipality", 0.0) / 1000.0,
        tertiary_mwh=sum(v for k, v in by_kind.items() if k in tertiary_kinds) / 1000.0,
        pv_production_mwh=production / 1000.0,
        shared_mwh=float(settlement.energy.shared.sum()) / 1000.0,
    )


def _rows(data: dict[str, Any], year: int) -> list[ConsumptionRow]:
    rows = []
    for key, mwh in data["rows"][str(year)].items():
        sector, carrier = key.split(".")
        rows.append(ConsumptionRow(sector, carrier, float(mwh), note="illustrativo (demo_municipality.toml)"))
    return rows


def demo_inventories(figures: CommunityFigures | None = None) -> tuple[Inventory, Inventory]:
    """Baseline (2005) and monitoring (2025) inventories of the demo municipality.

    Parameters
    ----------
    figures : CommunityFigures, optional
        The demo community's figures for the monitoring year; default: :func:`community_figures` of that year.
    """
    data = demo_municipality_data()
    name = data["municipality"]["name"]
    by, my = int(data["municipality"]["baseline_year"]), int(data["municipality"]["monitoring_year"])
    fig = figures or community_figures(my)
    gas = data["gas_per_household_smc"]
    share_gas, kwh_smc = float(gas["share_on_gas"]), float(gas["kwh_per_smc"])
    light = data["public_lighting_kwh_per_capita"]

    def households(year: int) -> float:
        return int(data["population"][str(year)]) / float(data["household_size"][str(year)])

    def gas_row(year: int) -> ConsumptionRow:
        mwh = households(year) * share_gas * float(gas[str(year)]) * kwh_smc / 1000.0
        return ConsumptionRow("residential", "natural_gas", mwh, note=f"{gas['basis']}; {gas['kwh_basis']}")

    def lighting_row(year: int) -> ConsumptionRow:
        mwh = int(data["population"][str(year)]) * float(light[str(year)]) / 1000.0
        return ConsumptionRow("public_lighting", "electricity", mwh, note=light["basis"])

    base_el = households(by) * float(data["electricity_per_household_kwh"][str(by)]) / 1000.0
    baseline = Inventory(
        entity=name,
        kind="municipality",
        year=by,
        population=int(data["population"][str(by)]),
        rows=(
            ConsumptionRow("residential", "electricity", base_el, note=data["electricity_per_household_kwh"]["basis"]),
            gas_row(by),
            lighting_row(by),
            *_rows(data, by),
        ),
        notes=("inventario dimostrativo: cifre illustrative, non statistiche di un comune reale",),
    )
    monitoring = Inventory(
        entity=name,
        kind="municipality",
        year=my,
        population=int(data["population"][str(my)]),
        rows=(
            ConsumptionRow(
                "residential",
                "electricity",
                fig.mwh_per_household * households(my),
                note=f"media delle {fig.households} famiglie della comunita' demo ({fig.mwh_per_household:.2f} "
                "MWh/famiglia, letture sintetiche) x famiglie del comune",
            ),
            gas_row(my),
            lighting_row(my),
            ConsumptionRow(
                "municipal_buildings", "electricity", fig.municipality_mwh, note="socio Comune della comunita' demo"
            ),
            ConsumptionRow(
                "tertiary", "electricity", fig.tertiary_mwh, note="imprese, parrocchia e associazione della comunita'"
            ),
            *_rows(data, my),
        ),
        production=(
            LocalProduction("pv", fig.pv_production_mwh, note="impianti della comunita' demo (pvlib, anno tipo)"),
            LocalProduction("pv", float(data["other_pv_mwh"][str(my)]), note="altro fotovoltaico, illustrativo"),
        ),
        shared_energy_mwh=fig.shared_mwh,
        notes=("inventario dimostrativo: cifre illustrative, non statistiche di un comune reale",),
    )
    return baseline, monitoring


def demo_balances(
    figures: CommunityFigures | None = None,
    *,
    electricity_rule: ElectricityRule = "local",
    table: FactorTable | None = None,
) -> tuple[Balance, Balance, Progress]:
    """Baseline and monitoring balances of the demo municipality and their comparison with the target."""
    data = demo_municipality_data()["municipality"]
    baseline, monitoring = demo_inventories(figures)
    bei = compute_balance(baseline, table=table, electricity_rule=electricity_rule)
    mei = compute_balance(monitoring, table=table, electricity_rule=electricity_rule)
    progress = compare(
        bei, mei, target_reduction_pct=float(data["target_reduction_pct"]), target_year=int(data["target_year"])
    )
    return bei, mei, progress
