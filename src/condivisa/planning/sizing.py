"""Sizing PV sites and a battery for a community with a linear program (linopy + HiGHS) over a year of hours.

The description (:class:`SizingProblem`) holds data only; :func:`build_model` returns a linopy ``Model`` and
:func:`solve` runs HiGHS and reads the solution back. An infeasible or unbounded model is a status, not an
exception.

Model (hours ``h``, cabine ``c``, PV sites ``s`` in cabina ``c(s)``, one optional battery in cabina ``b``)::

    x_s        PV size [kWp],   0 <= x_s <= min(max_kwp_s, 1000)
    E, P       battery energy [kWh] and power [kW]
    ch_h, dis_h, soc_h   battery charge, discharge [kWh], state of charge [kWh]
    inj_{c,h}  energy injected in cabina c = sum_{s in c} y_{s,h} x_s - ch_h + dis_h (battery terms in its cabina),
               inj >= 0 (the battery charges from PV only)
    sh_{c,h}   shared (incentivised) energy, sh <= load_{c,h}, sh <= inj_{c,h}
    soc_h = soc_{h-1} + eta_c ch_h - dis_h / eta_d (cyclic), soc <= E, ch, dis <= P

Objective, either ``"npv"``: annuity(r, years) x yearly margin - investment, where the yearly margin is
(TIP_h + CU_Af) x sh + sale price_h x inj - O&M; or ``"shared"``: the shared energy of the year. Budget and
roof limits are constraints. Incentives are linear in the shared energy: the TIP of each hour is one given
tariff row (the class the plants are expected to fall in), a documented simplification of the per-plant queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
MAX_PLANT_KW = 1000.0


@dataclass(frozen=True)
class PVSite:
    """A candidate PV site.

    Parameters
    ----------
    name : str
    cabina : str
    yield_kwh_per_kwp : (H,) array
        Hourly production of 1 kWp at this site [kWh/kWp].
    max_kwp : float
        Largest size the roof or land allows [kWp]; capped at 1 MW per plant.
    capex_eur_per_kwp, opex_eur_per_kwp_year : float
        Investment [€/kWp] and yearly O&M [€/kWp/yr].
    min_kwp : float
        Smallest size [kWp]; equal to ``max_kwp`` for a plant whose size is already decided.
    """

    name: str
    cabina: str
    yield_kwh_per_kwp: FloatArray
    max_kwp: float
    capex_eur_per_kwp: float = 1100.0
    opex_eur_per_kwp_year: float = 18.0
    min_kwp: float = 0.0


@dataclass(frozen=True)
class BatteryOption:
    """A candidate battery in one cabina: sizes are decided by the model within the bounds.

    Costs [€/kWh], [€/kW]; efficiencies per direction [unitless].
    """

    cabina: str
    capex_eur_per_kwh: float = 450.0
    capex_eur_per_kw: float = 150.0
    max_kwh: float = 2000.0
    max_kw: float = 1000.0
    efficiency_charge: float = 0.95
    efficiency_discharge: float = 0.95


@dataclass(frozen=True)
class SizingProblem:
    """Data of a sizing problem.

    Parameters
    ----------
    load_kwh : mapping cabina -> (H,) array
        Hourly withdrawal of the members of each cabina [kWh].
    sites : list of PVSite
    battery : BatteryOption, optional
    incentive_eur_mwh : (H,) array
        TIP + CU_Af earned by each MWh shared in each hour [€/MWh].
    sale_price_eur_mwh : (H,) array
        Value of injected energy (ritiro dedicato or market) [€/MWh].
    discount_rate : float
        Real discount rate [1/yr].
    years : int
        Horizon [yr] (20: the TIP's duration).
    budget_eur : float, optional
        Largest total investment [€].
    fixed_production_kwh : mapping cabina -> (H,) array, optional
        Production of plants whose size is not decided here (hydro, wind, existing PV) [kWh].
    """

    load_kwh: dict[str, FloatArray]
    sites: list[PVSite]
    incentive_eur_mwh: FloatArray
    sale_price_eur_mwh: FloatArray
    battery: BatteryOption | None = None
    discount_rate: float = 0.04
    years: int = 20
    budget_eur: float | None = None
    fixed_production_kwh: dict[str, FloatArray] = field(default_factory=dict)
    hours: pd.DatetimeIndex | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        h = len(self.incentive_eur_mwh)
        if h == 0:
            raise ValueError("nessuna ora nel problema di dimensionamento")
        for cabina, load in self.load_kwh.items():
            if len(load) != h:
                raise ValueError(f"carico della cabina {cabina}: {len(load)} ore invece di {h}")
            if np.any(np.asarray(load) < 0) or not np.all(np.isfinite(load)):
                raise ValueError(f"carico della cabina {cabina}: valori negativi o mancanti")
        for site in self.sites:
            if site.cabina not in self.load_kwh:
                raise ValueError(f"sito {site.name}: cabina {site.cabina} senza carichi")
            if len(site.yield_kwh_per_kwp) != h:
                raise ValueError(f"sito {site.name}: producibilita' di {len(site.yield_kwh_per_kwp)} ore invece di {h}")
            if not site.max_kwp > 0:
                raise ValueError(f"sito {site.name}: superficie o potenza massima nulla ({site.max_kwp} kWp)")
            if not 0 <= site.min_kwp <= site.max_kwp:
                raise ValueError(f"sito {site.name}: potenza minima {site.min_kwp} fuori da 0 .. {site.max_kwp} kWp")
        for cabina in self.fixed_production_kwh:
            if cabina not in self.load_kwh:
                raise ValueError(f"produzione fissa nella cabina {cabina} senza carichi")
        if self.battery is not None and self.battery.cabina not in self.load_kwh:
            raise ValueError(f"batteria: cabina {self.battery.cabina} senza carichi")
        if len(self.sale_price_eur_mwh) != h:
            raise ValueError("prezzi di vendita e incentivi con un numero di ore diverso")
        if self.discount_rate <= -1 or self.years <= 0:
            raise ValueError("tasso di sconto o durata non validi")

    @property
    def n_hours(self) -> int:
        return len(self.incentive_eur_mwh)

    def annuity_factor(self) -> float:
        """Present value of 1 €/yr for ``years`` years at ``discount_rate`` [yr]."""
        r = self.discount_rate
        return float(self.years if r == 0 else (1 - (1 + r) ** -self.years) / r)


@dataclass(frozen=True)
class SizingResult:
    """Solution of a sizing problem."""

    status: str
    objective: str
    site_kwp: dict[str, float]
    battery_kwh: float
    battery_kw: float
    investment_eur: float
    shared_kwh: float
    injected_kwh: float
    yearly_margin_eur: float
    npv_eur: float
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    hourly: pd.DataFrame | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def build_model(problem: SizingProblem, objective: Literal["npv", "shared"] = "npv") -> Any:
    """Build the linopy model of ``problem`` (see the module docstring). Nothing is solved here."""
    import linopy
    import xarray as xr

    h = problem.n_hours
    hours = pd.RangeIndex(h, name="hour")
    cabine = list(problem.load_kwh)
    cab = pd.Index(cabine, name="cabina")
    sites = pd.Index([s.name for s in problem.sites], name="site")
    m = linopy.Model()

    upper = xr.DataArray([min(s.max_kwp, MAX_PLANT_KW) for s in problem.sites], coords=[sites])
    lower = xr.DataArray([min(s.min_kwp, MAX_PLANT_KW) for s in problem.sites], coords=[sites])
    x = m.add_variables(lower=lower, upper=upper, coords=[sites], name="pv_kwp")
    yields = xr.DataArray(np.stack([s.yield_kwh_per_kwp for s in problem.sites]), coords=[sites, hours])
    site_in_cab = xr.DataArray(
        np.array([[1.0 if s.cabina == c else 0.0 for c in cabine] for s in problem.sites]), coords=[sites, cab]
    )
    fixed = xr.DataArray(
        np.stack([problem.fixed_production_kwh.get(c, np.zeros(h)) for c in cabine], axis=1), coords=[hours, cab]
    )
    production = (yields * site_in_cab * x).sum("site") + fixed  # (hour, cabina) [kWh]
    load = xr.DataArray(np.stack([problem.load_kwh[c] for c in cabine], axis=1), coords=[hours, cab])

    injected = production
    investment = (xr.DataArray([s.capex_eur_per_kwp for s in problem.sites], coords=[sites]) * x).sum()
    opex = (xr.DataArray([s.opex_eur_per_kwp_year for s in problem.sites], coords=[sites]) * x).sum()
    if problem.battery is not None:
        b = problem.battery
        energy = m.add_variables(lower=0, upper=b.max_kwh, name="battery_kwh")
        power = m.add_variables(lower=0, upper=b.max_kw, name="battery_kw")
        ch = m.add_variables(lower=0, coords=[hours], name="charge")
        dis = m.add_variables(lower=0, coords=[hours], name="discharge")
        soc = m.add_variables(lower=0, coords=[hours], name="soc")
        m.add_constraints(ch - power <= 0, name="charge_power")
        m.add_constraints(dis - power <= 0, name="discharge_power")
        m.add_constraints(soc - energy <= 0, name="soc_energy")
        # Cyclic state of charge: the hour before the first is the last.
        m.add_constraints(
            soc - soc.roll(hour=1) - b.efficiency_charge * ch + (1.0 / b.efficiency_discharge) * dis == 0,
            name="soc_balance",
        )
        in_b = xr.DataArray([1.0 if c == b.cabina else 0.0 for c in cabine], coords=[cab])
        injected = production - in_b * ch + in_b * dis
        investment = investment + b.capex_eur_per_kwh * energy + b.capex_eur_per_kw * power
    if problem.battery is not None:
        m.add_constraints(injected >= 0, name="charge_from_pv")
    shared = m.add_variables(lower=0, upper=load, name="shared")
    m.add_constraints(shared - injected <= 0, name="shared_injection")
    if problem.budget_eur is not None:
        m.add_constraints(investment <= problem.budget_eur, name="budget")

    incentive = xr.DataArray(problem.incentive_eur_mwh / 1000.0, coords=[hours])
    sale = xr.DataArray(problem.sale_price_eur_mwh / 1000.0, coords=[hours])
    margin = (incentive * shared).sum() + (sale * injected).sum() - opex
    if objective == "npv":
        m.add_objective(problem.annuity_factor() * margin - investment, sense="max")
    elif objective == "shared":
        m.add_objective(shared.sum() - 1e-9 * investment, sense="max")
    else:
        raise ValueError(f"obiettivo sconosciuto {objective!r}: npv oppure shared")
    return m


def solve(
    problem: SizingProblem,
    objective: Literal["npv", "shared"] = "npv",
    *,
    keep_hourly: bool = False,
    highs_solver: str = "choose",
) -> SizingResult:
    """Build and solve the sizing LP with HiGHS; read sizes, energies and money back."""
    import time

    t0 = time.perf_counter()
    m = build_model(problem, objective)
    t1 = time.perf_counter()
    # "choose" lets HiGHS pick (dual simplex for these LPs, measured faster than its interior point here).
    status, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False, solver=highs_solver)
    t2 = time.perf_counter()
    if status != "ok":
        return SizingResult(str(condition), objective, {}, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, t1 - t0, t2 - t1)
    sol = m.solution
    sizes = {str(k): float(v) for k, v in zip(sol["pv_kwp"].coords["site"].values, sol["pv_kwp"].values, strict=True)}
    shared = sol["shared"].values  # (hour, cabina)
    production = sum(sizes[s.name] * s.yield_kwh_per_kwp for s in problem.sites) + sum(
        problem.fixed_production_kwh.values(), np.zeros(problem.n_hours)
    )
    battery_kwh = float(sol["battery_kwh"]) if problem.battery is not None else 0.0
    battery_kw = float(sol["battery_kw"]) if problem.battery is not None else 0.0
    charge = sol["charge"].values if problem.battery is not None else np.zeros(problem.n_hours)
    discharge = sol["discharge"].values if problem.battery is not None else np.zeros(problem.n_hours)
    injected = np.asarray(production) - charge + discharge
    investment = sum(sizes[s.name] * s.capex_eur_per_kwp for s in problem.sites)
    if problem.battery is not None:
        investment += problem.battery.capex_eur_per_kwh * battery_kwh + problem.battery.capex_eur_per_kw * battery_kw
    opex = sum(sizes[s.name] * s.opex_eur_per_kwp_year for s in problem.sites)
    margin = float(
        (problem.incentive_eur_mwh * shared.sum(axis=1)).sum() / 1000.0
        + (problem.sale_price_eur_mwh * injected).sum() / 1000.0
        - opex
    )
    hourly = None
    if keep_hourly:
        hourly = pd.DataFrame(
            {
                "production_kwh": production,
                "injected_kwh": injected,
                "shared_kwh": shared.sum(axis=1),
                "charge_kwh": charge,
                "discharge_kwh": discharge,
            }
        )
        if problem.hours is not None:
            hourly.index = problem.hours
    return SizingResult(
        status="ok",
        objective=objective,
        site_kwp=sizes,
        battery_kwh=battery_kwh,
        battery_kw=battery_kw,
        investment_eur=float(investment),
        shared_kwh=float(shared.sum()),
        injected_kwh=float(injected.sum()),
        yearly_margin_eur=margin,
        npv_eur=problem.annuity_factor() * margin - float(investment),
        build_seconds=t1 - t0,
        solve_seconds=t2 - t1,
        hourly=hourly,
    )


def pareto_front(problem: SizingProblem, budgets: list[float]) -> pd.DataFrame:
    """Shared energy against investment: the shared-energy optimum for each budget [€].

    Returns a frame with columns budget_eur, investment_eur, shared_kwh, npv_eur and one column per site [kWp]
    plus battery_kwh.
    """
    rows = []
    for budget in budgets:
        res = solve(SizingProblem(**{**problem.__dict__, "budget_eur": float(budget)}), "shared")
        row: dict[str, float | str] = {
            "budget_eur": float(budget),
            "status": res.status,
            "investment_eur": res.investment_eur,
            "shared_kwh": res.shared_kwh,
            "npv_eur": res.npv_eur,
            "battery_kwh": res.battery_kwh,
        }
        row.update({f"{k}_kwp": v for k, v in res.site_kwp.items()})
        rows.append(row)
    return pd.DataFrame(rows)
