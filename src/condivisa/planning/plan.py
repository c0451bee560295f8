"""The feasibility study of a project, step by step, from members' consumption to money per stakeholder.

:func:`run_plan` is pure: the weather, the members' hourly consumption and the prices come in as data (the CLI
reads files and, when asked, PVGIS). Steps:

1. hourly production of 1 kW of each candidate plant (pvlib on the weather; hydro and wind models);
2. sizing of the plants without a fixed power (and of the battery) with the LP of :mod:`.sizing`, under roofs,
   1 MW per plant and the budget; a Pareto front of shared energy against investment;
3. the year settled exactly as GSE does with the foundation engine (:func:`condivisa.engine.settle`) on the
   sized community: TIP per plant in queue order, exemptions, valorisation, the community's regulation;
4. 20-year economics per plant summed over the project, per stakeholder, with sensitivity to price and
   participation;
5. candidate members ranked by what each would add.

Simplifications, stated in the report: each plant has its own injection point (no netting behind a member's
meter); the battery's charge and discharge are booked on the largest plant of its cabina; the LP values every
shared MWh at one tariff row (the class of the largest plant), the settlement then applies the exact rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.settle import Settlement, settle
from condivisa.engine.timegrid import Period, to_hourly
from condivisa.ingest.prices import Prices
from condivisa.ingest.readings import Readings, readings_from_arrays
from condivisa.model.community import Community, Member, Plant, Point, RegulationRule
from condivisa.model.project import PlantSpec, Project
from condivisa.planning import economics as eco
from condivisa.planning.finder import CandidateMember, CandidatePlant, rank_recruits
from condivisa.planning.profiles import Bill, profile_from_bill
from condivisa.planning.sharing_rules import (
    ShapleyValues,
    compare_rules,
    game_from_settlement,
    nucleolus,
    shapley_exact,
    shapley_monte_carlo,
)
from condivisa.planning.sizing import BatteryOption, PVSite, SizingProblem, SizingResult, pareto_front, solve
from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.weather import WeatherYear, lay_on_hours
from condivisa.rules.rulebook import canonical_region, load_rulebook
from condivisa.rules.tip import geographic_correction, grant_reduction, power_class_limits, tip_eur_mwh

FloatArray = npt.NDArray[np.float64]
MIN_BUILT_KW = 0.5
"""Plants sized below this [kW] are left out of the community."""
SHAPLEY_EXACT_UP_TO = 12
"""Members up to which the Shapley value is computed exactly (2^n coalitions); sampled above."""
SHAPLEY_PERMUTATIONS = 400
NUCLEOLUS_UP_TO = 8
"""Members up to which the nucleolus (a sequence of LPs over all coalitions) is added to the comparison."""


@dataclass(frozen=True)
class PlanResult:
    """Everything the feasibility report shows."""

    project: Project
    hours: pd.DatetimeIndex
    member_load_kwh: pd.DataFrame
    plant_kw: dict[str, float]
    plant_production_kwh: pd.DataFrame
    sizing: SizingResult
    pareto: pd.DataFrame
    community: Community
    settlement: Settlement
    cash_flows: pd.DataFrame
    stakeholder_flows: pd.DataFrame
    summary: eco.EconomicSummary
    sensitivity: dict[str, pd.DataFrame]
    recruits: pd.DataFrame
    shapley: ShapleyValues
    regulation_comparison: pd.DataFrame
    assumptions: list[str] = field(default_factory=list)


def member_loads(project: Project, readings: Readings | None = None) -> dict[str, FloatArray]:
    """Hourly consumption of every member over the project's year [kWh]: from the meter curve of its POD when
    ``readings`` hold it, otherwise from its bill shaped by a standard load profile.

    Raises
    ------
    ValueError
        A member with a POD but no readings for it and no bill.
    """
    hours = Period(dt.date(project.year, 1, 1), dt.date(project.year, 12, 31)).hours()
    matrix = None
    if readings is not None:
        matrix = to_hourly(readings.frame, readings.pods, hours)
    out: dict[str, FloatArray] = {}
    for m in project.members:
        if matrix is not None and m.pod in readings_pods(readings):
            out[m.id] = matrix.withdrawn[:, matrix.pods.index(m.pod)]
        elif m.bill is not None:
            bill = Bill(
                year=project.year,
                yearly=dict(m.bill.yearly) if m.bill.yearly is not None else None,
                monthly={k: dict(v) for k, v in m.bill.monthly.items()} if m.bill.monthly is not None else None,
            )
            out[m.id] = profile_from_bill(bill, m.profile or m.kind, hours).to_numpy(dtype=float)
        else:
            raise ValueError(f"socio {m.id}: nessuna lettura del POD {m.pod} nel file e nessuna bolletta")
    return out


def readings_pods(readings: Readings | None) -> set[str]:
    return set(readings.pods) if readings is not None else set()


def synthetic_pod(index: int) -> str:
    """A well-formed POD for a point that has none yet (distributor code 999, reserved here for designs)."""
    return f"IT999E{index:08d}"


def unit_production(project: Project, weather: WeatherYear, hours: pd.DatetimeIndex) -> dict[str, FloatArray]:
    """Hourly production of 1 kW of each plant [kWh/kW]."""
    on_hours = lay_on_hours(weather, hours)
    out: dict[str, FloatArray] = {}
    for p in project.plants:
        if p.technology == "pv":
            array = PVArray(1.0, surface_tilt=p.tilt, surface_azimuth=p.azimuth, losses_percent=p.losses_percent)
            out[p.id] = pv_hourly_kwh(array, on_hours).to_numpy()
        elif p.technology == "hydro":
            from condivisa.production.hydro import hydro_hourly_kwh

            out[p.id] = hydro_hourly_kwh(1.0, hours).to_numpy(dtype=float)
        elif p.technology == "wind":
            from condivisa.production.wind import generic_small_turbine, wind_hourly_kwh

            power = float(p.power_kw or 20.0)
            turbine = generic_small_turbine(power)
            out[p.id] = wind_hourly_kwh(turbine, on_hours, hub_height_m=18.0).to_numpy(dtype=float) / power
        else:
            raise ValueError(f"impianto {p.id}: tecnologia {p.technology} non ancora modellata nella progettazione")
    return out


def incentive_row(project: Project, price: FloatArray, cu_af: float, kw_upper: float) -> FloatArray:
    """TIP + CU_Af of each hour [€/MWh] for the LP and the recruitment ranking: the class of a plant of
    ``kw_upper`` [kW], PV correction of the region, the largest grant reduction among the project's plants."""
    rb = load_rulebook()
    cls = float(power_class_limits([min(kw_upper, 1000.0)], rb)[0])
    fc = geographic_correction("pv", project.region, rb)
    shares = [p.grant_share for p in project.plants]
    reduction = grant_reduction(max(shares), rb) if shares else 0.0
    return np.asarray(tip_eur_mwh(cls, price, fc_eur_mwh=fc, rulebook=rb) * (1 - reduction) + cu_af)


def run_plan(
    project: Project,
    weather: WeatherYear,
    member_load_kwh: dict[str, FloatArray],
    price_eur_mwh: FloatArray,
    *,
    assumptions: list[str] | None = None,
) -> PlanResult:
    """Run the feasibility study (see the module docstring).

    Parameters
    ----------
    project : Project
    weather : WeatherYear
        A typical year (laid onto the project's year here).
    member_load_kwh : mapping member id -> (H,) array
        Hourly consumption of every member and candidate over the project's year [kWh].
    price_eur_mwh : (H,) array
        Hourly zonal price [€/MWh].
    assumptions : list of str
        Notes from the caller (weather and price sources), repeated in the report.
    """
    rb = load_rulebook()
    if canonical_region(project.region, rb) is None:
        raise ValueError(f"regione sconosciuta {project.region!r}")
    hours = Period(dt.date(project.year, 1, 1), dt.date(project.year, 12, 31)).hours()
    h = len(hours)
    notes = list(assumptions or [])
    for mid, load in member_load_kwh.items():
        if len(load) != h:
            raise ValueError(f"socio {mid}: {len(load)} ore di consumo invece di {h}")
    params, _ = rb.year(project.year)
    cu_af = project_cu_af = params.cu_af_eur_mwh
    members = [m for m in project.members if not m.candidate]
    candidates = [m for m in project.members if m.candidate]
    unit = unit_production(project, weather, hours)

    # 2. Sizing.
    load_by_cabina: dict[str, FloatArray] = {}
    for m in members:
        load_by_cabina[m.cabina] = load_by_cabina.get(m.cabina, np.zeros(h)) + member_load_kwh[m.id]
    sites: list[PVSite] = []
    fixed: dict[str, FloatArray] = {}
    for p in project.plants:
        if p.technology == "pv":
            lo = p.power_kw if p.power_kw is not None else 0.0
            sites.append(
                PVSite(
                    p.id,
                    p.cabina,
                    unit[p.id],
                    max_kwp=p.upper_kw,
                    capex_eur_per_kwp=p.capex_eur_per_kw,
                    opex_eur_per_kwp_year=p.opex_eur_per_kw_year,
                    min_kwp=lo,
                )
            )
        else:
            assert p.power_kw is not None
            fixed[p.cabina] = fixed.get(p.cabina, np.zeros(h)) + unit[p.id] * p.power_kw
    sale = (
        np.full(h, project.economics.sale_price_eur_mwh)
        if project.economics.sale_price_eur_mwh is not None
        else np.asarray(price_eur_mwh, dtype=float)
    )
    battery = None
    if project.battery is not None:
        b = project.battery
        battery = BatteryOption(b.cabina, b.capex_eur_per_kwh, b.capex_eur_per_kw, b.max_kwh, b.max_kw)
    problem = SizingProblem(
        load_kwh=load_by_cabina,
        sites=sites,
        incentive_eur_mwh=incentive_row(project, price_eur_mwh, cu_af, max(p.upper_kw for p in project.plants)),
        sale_price_eur_mwh=sale,
        battery=battery,
        discount_rate=project.economics.discount_rate,
        years=project.economics.years,
        budget_eur=project.economics.budget_eur,
        fixed_production_kwh=fixed,
        hours=hours,
    )
    sizing = solve(problem, project.objective, keep_hourly=True)
    if not sizing.ok:
        raise ValueError(f"dimensionamento non risolto: {sizing.status} (budget o vincoli incompatibili?)")
    top = max(sizing.investment_eur, 1.0)
    pareto = pareto_front(problem, [top * f for f in (0.25, 0.5, 0.75, 1.0, 1.5)]) if sites else pd.DataFrame()
    plant_kw = {
        p.id: (sizing.site_kwp.get(p.id, 0.0) if p.technology == "pv" else float(p.power_kw or 0.0))
        for p in project.plants
    }
    built = [p for p in project.plants if plant_kw[p.id] >= MIN_BUILT_KW]
    if not built:
        raise ValueError("il dimensionamento non costruisce alcun impianto: rivedere costi, budget o obiettivo")

    # 3. The sized community, settled as GSE does.
    production = pd.DataFrame({p.id: unit[p.id] * plant_kw[p.id] for p in built}, index=hours)
    if battery is not None and sizing.hourly is not None and sizing.battery_kwh >= MIN_BUILT_KW:
        in_cabina = [p for p in built if p.cabina == battery.cabina] or built
        largest = max(in_cabina, key=lambda p: plant_kw[p.id])
        net = sizing.hourly["discharge_kwh"].to_numpy() - sizing.hourly["charge_kwh"].to_numpy()
        production[largest.id] = np.maximum(production[largest.id].to_numpy() + net, 0.0)
        notes.append(
            f"batteria di {sizing.battery_kwh:,.0f} kWh / {sizing.battery_kw:,.0f} kW conteggiata "
            f"sull'impianto {largest.id}"
        )
    pods = {m.id: m.pod or synthetic_pod(i + 1) for i, m in enumerate(members)}
    plant_pods = {p.id: synthetic_pod(1000 + i) for i, p in enumerate(built)}
    start = dt.date(project.year, 1, 1)
    community = Community(
        name=project.name,
        configuration=project.configuration,
        region=project.region,
        members=[
            Member(
                id=m.id,
                name=m.name,
                kind=m.kind,
                region=m.region,
                pods=[Point(pod=pods[m.id], cabina=m.cabina, building=m.building)],
            )
            for m in members
        ],
        plants=[
            Plant(
                id=p.id,
                owner=p.owner,
                pod=plant_pods[p.id],
                cabina=p.cabina,
                technology=p.technology,
                power_kw=round(plant_kw[p.id], 3),
                commissioning_date=p.commissioning_date or start,
                grant_share=p.grant_share,
            )
            for p in built
        ],
        regulation=project.regulation,
    )
    w = np.stack([member_load_kwh[m.id] for m in members], axis=1)
    i = production.to_numpy()
    readings = readings_from_arrays(
        [pods[m.id] for m in members] + [plant_pods[p.id] for p in built],
        hours[0],
        np.concatenate([w, np.zeros_like(i)], axis=1),
        np.concatenate([np.zeros_like(w), i], axis=1),
        source="progetto",
    )
    zone = rb.region_zone[canonical_region(project.region, rb) or ""]
    prices = Prices(pd.DataFrame({"timestamp": hours, "zone": zone, "price_eur_mwh": price_eur_mwh}), source="progetto")
    settlement = settle(community, readings, prices, period=Period(start, dt.date(project.year, 12, 31)))

    # 4. Economics: each plant (<= 1 MW) on its own, summed.
    per_plant = {r.id: r for r in settlement.plant_results}
    valorisation_by_plant = _valorisation_by_plant(settlement)
    market = eco.MarketAssumptions(
        sale_price_eur_mwh=float(np.average(sale, weights=np.maximum(production.sum(axis=1).to_numpy(), 1e-9))),
        price_escalation=project.economics.price_escalation,
        discount_rate=project.economics.discount_rate,
        tax_rate=project.economics.tax_rate,
    )
    inputs = []
    for p in built:
        extra = 0.0
        if battery is not None and p.id == _largest_in(built, plant_kw, battery.cabina):
            extra = battery.capex_eur_per_kwh * sizing.battery_kwh + battery.capex_eur_per_kw * sizing.battery_kw
        r = per_plant[p.id]
        inputs.append(
            eco.ProjectInputs(
                plant=eco.PlantEconomics(
                    power_kw=plant_kw[p.id],
                    capex_eur_per_kw=p.capex_eur_per_kw + extra / plant_kw[p.id],
                    opex_eur_per_kw_year=p.opex_eur_per_kw_year,
                    grant_share=p.grant_share,
                    lifetime_years=project.economics.years,
                ),
                market=market,
                # The settlement's TIP is already net of the grant reduction: tip_reduction=0.
                energy=eco.EnergyInputs.from_amounts(
                    injected_kwh=r.injected_kwh,
                    incentivised_kwh=r.incentivised_kwh,
                    tip_eur=r.tip_eur,
                    valorisation_eur=valorisation_by_plant.get(p.id, 0.0),
                    produced_kwh=float(production[p.id].sum()),
                    tip_reduction=0.0,
                ),
            )
        )
    regulation = project.regulation or None
    flows = sum(
        (eco.cash_flows(x, regulation=regulation) for x in inputs[1:]), eco.cash_flows(inputs[0], regulation=regulation)
    )
    flows = _recumulate(flows, project.economics.discount_rate)
    stakeholders = (
        sum(
            (eco.stakeholder_cash_flows(x, regulation) for x in inputs[1:]),
            eco.stakeholder_cash_flows(inputs[0], regulation),
        )
        if regulation
        else pd.DataFrame()
    )
    net = flows["net"].to_numpy()
    rate = project.economics.discount_rate
    produced = flows["produced_kwh"].to_numpy()
    costs = -(flows["capex"] + flows["grant"] + flows["opex"] + flows["inverter"]).to_numpy()
    summary = eco.EconomicSummary(
        npv_eur=eco.npv(rate, net),
        irr=eco.irr(net),
        payback_years=eco.payback_years(net),
        discounted_payback_years=eco.payback_years(net, rate),
        lcoe_eur_mwh=eco.lcoe_eur_mwh(rate, costs, produced),
        grant=_combined_grant([x.grant() for x in inputs]),
    )
    sensitivity = {
        "sale_price_eur_mwh": _project_sensitivity(
            inputs,
            regulation,
            "sale_price_eur_mwh",
            [market.sale_price_eur_mwh * f for f in (0.6, 0.8, 1.0, 1.2, 1.4)],
            rate,
        ),
        "participation": _project_sensitivity(inputs, regulation, "participation", [0.6, 0.7, 0.8, 0.9, 1.0], rate),
    }

    # 5. Which sharing rule: the candidates and the contribution-based split, side by side.
    game = game_from_settlement(settlement, readings)
    exact = len(game.players) <= SHAPLEY_EXACT_UP_TO
    shapley = shapley_exact(game) if exact else shapley_monte_carlo(game, SHAPLEY_PERMUTATIONS, seed=1)
    rules: dict[str, list[RegulationRule] | dict[str, float]] = {}
    if project.regulation:
        rules["Regolamento proposto"] = list(project.regulation)
    for reg in project.regulations:
        rules[reg.name] = list(reg.rules)
    rules["Contributo (Shapley)"] = shapley.as_dict()
    if len(game.players) <= NUCLEOLUS_UP_TO and settlement.total_eur > 0:
        try:
            rules["Nucleolo"] = nucleolus(game).as_dict()
        except ValueError as exc:  # no imputation: the game is not superadditive enough
            notes.append(f"nucleolo non calcolabile: {exc}")
    comparison = compare_rules(settlement, rules)
    notes.append(
        "valore di Shapley "
        + (
            "esatto"
            if exact
            else f"stimato con {SHAPLEY_PERMUTATIONS} permutazioni casuali (errore standard in tabella)"
        )
    )

    # 6. Recruitment.
    recruits = rank_recruits(
        [CandidateMember(m.id, m.kind, m.cabina, m.region or project.region, member_load_kwh[m.id]) for m in members],
        [CandidatePlant(p.id, p.cabina, project.region, production[p.id].to_numpy()) for p in built],
        [
            CandidateMember(m.id, m.kind, m.cabina, m.region or project.region, member_load_kwh[m.id])
            for m in candidates
        ],
        problem.incentive_eur_mwh,
    )
    notes.append(f"CU_Af {project_cu_af:.2f} €/MWh ({params.sources['cu_af']})")
    return PlanResult(
        project=project,
        hours=hours,
        member_load_kwh=pd.DataFrame(member_load_kwh, index=hours),
        plant_kw=plant_kw,
        plant_production_kwh=production,
        sizing=sizing,
        pareto=pareto,
        community=community,
        settlement=settlement,
        cash_flows=flows,
        stakeholder_flows=stakeholders,
        summary=summary,
        sensitivity=sensitivity,
        recruits=recruits,
        shapley=shapley,
        regulation_comparison=comparison,
        assumptions=notes,
    )


def _combined_grant(grants: list[eco.GrantResult]) -> eco.GrantResult:
    """The project's grant: the plants' amounts and eligible costs added up."""
    amount = sum(g.amount_eur for g in grants)
    cost = sum(g.eligible_cost_eur for g in grants)
    return eco.GrantResult(
        amount_eur=amount,
        eligible_cost_eur=cost,
        cap_eur_per_kw=max((g.cap_eur_per_kw for g in grants), default=0.0),
        share=amount / cost if cost > 0 else 0.0,
        eligible=all(g.eligible for g in grants),
        reasons=tuple(dict.fromkeys(r for g in grants for r in g.reasons)),
        notes=tuple(dict.fromkeys(n for g in grants for n in g.notes)),
    )


def _largest_in(built: list[PlantSpec], plant_kw: dict[str, float], cabina: str) -> str:
    in_cabina = [p for p in built if p.cabina == cabina] or built
    return str(max(in_cabina, key=lambda p: plant_kw[p.id]).id)


def _valorisation_by_plant(s: Settlement) -> dict[str, float]:
    """The configuration's valorisation split among plants pro rata of their incentivised energy [€]."""
    total_inc = sum(r.incentivised_kwh for r in s.plant_results)
    if total_inc <= 0:
        return {}
    return {r.id: s.valorisation_eur * r.incentivised_kwh / total_inc for r in s.plant_results}


def _recumulate(flows: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Recompute the running and discounted columns of summed per-plant flows."""
    out = flows.copy()
    years = np.arange(len(out))
    out["cumulative"] = out["net"].cumsum()
    out["discount_factor"] = (1 + rate) ** -years
    out["discounted"] = out["net"] * out["discount_factor"]
    out["cumulative_discounted"] = out["discounted"].cumsum()
    return out


def _project_sensitivity(
    inputs: list[eco.ProjectInputs],
    regulation: list[RegulationRule] | None,
    parameter: str,
    values: list[float],
    rate: float,
) -> pd.DataFrame:
    rows = []
    for value in values:
        net = sum(
            eco.cash_flows(eco.vary(x, parameter, value), regulation=regulation)["net"].to_numpy() for x in inputs
        )
        rows.append(
            {
                "value": value,
                "npv_eur": eco.npv(rate, net),
                "irr": eco.irr(net),
                "payback_years": eco.payback_years(net),
            }
        )
    return pd.DataFrame(rows)
