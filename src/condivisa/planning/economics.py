"""Economics of a community plant over its life: PNRR grant, yearly cash flows, split among stakeholders, indicators.

Pure computation: the only file read is the packaged ``rules/data/grants.toml`` (and the rulebook, for the TIP
reduction F and the excess thresholds). Money is in euro as floats, never rounded: planning figures are estimates,
the cent-exact split belongs to :mod:`condivisa.allocation`.

Timeline and money
------------------
Year 0 is the investment (capital cost, grant); years 1..N are the years of operation, each flow counted at the
end of its year. All money inputs are in money of year 0 (today), except the TIP, which the decree fixes in
nominal €/MWh. With ``inflation = 0`` (the default) the model is a plain real-terms model. With ``inflation > 0``
the cash flows are nominal: costs, the sale price and the valorisation grow by ``(1 + inflation)`` a year on top of
their real escalation, the TIP does not, and discounting uses the nominal rate ``(1 + r)(1 + inflation) - 1``; the
NPV is then the same as in real terms, and :func:`summary` converts the IRR back to a real rate.

Modelling simplifications (each a choice, stated once here)
-----------------------------------------------------------
- Energy: the first-year energies are inputs (from the settlement engine or a sizing run); later years degrade
  geometrically, ``E_t = E_1 (1 - d)^(t-1)``. Injected and incentivised energy degrade at the same rate, which is
  conservative: when the members' withdrawal is the binding side of the hourly minimum, the shared energy falls
  less than the production.
- All injected energy is sold (ritiro dedicato or market) at one yearly average price; sharing is virtual and does
  not reduce the energy sold. A PV plant earns less than the average zonal price: pass its capture price.
- TIP and valorisation are proportional to the incentivised energy at one yearly average €/MWh each. The TIP is
  paid for the first :data:`TIP_DURATION_YEARS` years only; the valorisation for the whole life. The TIP's
  dependence on the zonal price is reduced to that average; use :func:`sensitivity` with ``tip_of_price``.
- Grant: paid in year 0 in full (in practice an advance of up to 30 % and the balance after the works). Its
  amount follows :func:`eligible_grant_eur`. The TIP reduction F follows the grant share actually granted (0 when
  no grant is awarded) and applies to all incentivised energy, which is conservative: energy attributed to points
  of exempt members (households, municipalities, ...) is not reduced. Override with ``EnergyInputs.tip_reduction``.
- Taxes (simple): one rate on the plant owner's taxable income, ``sale + owner's share of TIP and valorisation -
  O&M - inverter - depreciation``, depreciation straight-line on the investment net of the grant over the
  lifetime; inverter replacements are expensed in their year; a year's loss gives no tax credit and is not carried
  forward; consumers' and funds' shares are not taxed here.
- Stakeholders: the incentives (TIP + valorisation) are split by the regulation's shares, the same shares every
  year; the plant owner(s) bear the whole investment, O&M, inverter, taxes and keep the energy sale. The yearly
  excess TIP (quota eccedentaria) is carved out first only when ``excess_to`` is given.
- Payback: the time after which the cumulative flow stays non-negative, interpolated linearly inside the year
  (flows of a year accrue evenly over it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import numpy_financial as npf
import pandas as pd

from condivisa.model.community import RegulationRule
from condivisa.rules.grants import GrantRules, load_grant_rules
from condivisa.rules.rulebook import Rulebook, load_rulebook
from condivisa.rules.tip import grant_reduction

FloatArray = npt.NDArray[np.float64]

TIP_DURATION_YEARS = 20
"""Years for which the TIP is paid from the plant's entry into operation (cacer-rules.md, TIP: "20 years")."""

FLOW_COLUMNS: tuple[str, ...] = ("capex", "grant", "opex", "inverter", "energy_sale", "tip", "valorisation", "taxes")
"""Money columns of :func:`cash_flows` whose sum is ``net`` [€, signed: income positive, spending negative]."""

OWNER = "owner"
"""Stakeholder that owns the plant(s): bears investment and costs, sells the energy, takes the producers' share."""

CONSUMERS = "consumers"
"""Stakeholder group of the consumer members (the consumers' share of the incentives)."""

Regulation = Mapping[str, float] | Sequence[RegulationRule]
"""Shares of TIP + valorisation by recipient: ``{"producers": 0.3, "consumers": 0.6, "fund:social": 0.1}`` or the
community's regulation rules. Other keys are member ids (a fixed share to that member)."""


# ---------------------------------------------------------------------------------------------------------------
# Grant
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantResult:
    """The PNRR grant of one plant.

    Attributes
    ----------
    amount_eur : float
        Grant [€]; 0 when not eligible.
    eligible_cost_eur : float
        ``min(capex, cap × power)`` [€].
    cap_eur_per_kw : float
        Cap on the eligible cost of the plant's power band [€/kW].
    share : float
        Grant share requested, of the eligible cost [unitless].
    eligible : bool
        False when a condition of the measure is not met (see ``reasons``).
    reasons : tuple of str
        Why the grant is zero; empty when eligible.
    notes : tuple of str
        Caveats: cap binding, conditions not checked for lack of data, budget.
    """

    amount_eur: float
    eligible_cost_eur: float
    cap_eur_per_kw: float
    share: float
    eligible: bool
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _grouped(value: float) -> str:
    """Italian thousands separator: 12.000 (rounded to the unit)."""
    return f"{value:,.0f}".replace(",", ".")


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in range(day.day, 0, -1):  # clamp 31 -> 30, 29, 28
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def eligible_grant_eur(
    power_kw: float,
    capex_eur: float,
    grant_share: float,
    municipality_population: int | None = None,
    *,
    configuration: str = "CER",
    application_date: dt.date | None = None,
    works_completed: dt.date | None = None,
    in_operation: dt.date | None = None,
    rules: GrantRules | None = None,
) -> GrantResult:
    """PNRR capital grant of a single plant: ``min(capex, cap(power) × power) × share``.

    The cap per kW is that of the plant's power band, applied to the whole plant (not in slabs): a band holds the
    powers ``<= max_power_kw`` and above the previous limit, so exactly 20 kW is in the 1,500 €/kW band, 20.01 kW
    in the 1,200 €/kW band, exactly 200 kW in the 1,200 band, 600 kW in the 1,100 band (``data/grants.toml``).

    Parameters
    ----------
    power_kw : float
        Power of the single plant [kW], ``0 < power_kw <= 1000``.
    capex_eur : float
        Investment the beneficiary may claim (VAT excluded unless not recoverable) [€], ``>= 0``.
    grant_share : float
        Share of the eligible cost requested [unitless], ``0 .. 0.40``.
    municipality_population : int, optional
        Inhabitants of the plant's municipality; at or above 50,000 the grant is zero. Not checked when None
        (a note says so).
    configuration : str
        Configuration code; only CER and AUC are eligible.
    application_date, works_completed, in_operation : datetime.date, optional
        Dates checked against the deadlines (applications by 30/11/2025, works by 30/06/2026, operation within 24
        months of the works and by 31/12/2027); a missing date leaves its deadline unchecked (a note says so).
    rules : GrantRules, optional
        Defaults to the packaged rules.

    Returns
    -------
    GrantResult

    Raises
    ------
    ValueError
        If the power is not in ``(0, 1000]`` kW, the cost is negative or not finite, or the share is outside
        ``0 .. 0.40``.

    Examples
    --------
    >>> eligible_grant_eur(20.0, 40_000.0, 0.40, 3_000).amount_eur
    12000.0
    """
    gr = rules or load_grant_rules()
    if not math.isfinite(capex_eur) or capex_eur < 0:
        raise ValueError(f"capex_eur deve essere un importo finito >= 0 € (ricevuto {capex_eur})")
    if not (math.isfinite(grant_share) and 0.0 <= grant_share <= gr.max_share + 1e-12):
        raise ValueError(
            f"grant_share {grant_share} fuori dall'intervallo 0 .. {gr.max_share:g} (il contributo PNRR copre al "
            f"massimo il {gr.max_share:.0%} dei costi ammissibili)"
        )
    cap = gr.cost_cap(power_kw)  # raises on power outside (0, 1000]
    cap_total = float(cap.eur_per_kw * power_kw)
    eligible_cost = float(min(capex_eur, cap_total))
    reasons: list[str] = []
    notes: list[str] = []
    if capex_eur > cap_total:
        notes.append(
            f"costo {_grouped(capex_eur)} € oltre il massimale di {_grouped(cap.eur_per_kw)} €/kW × {power_kw:g} kW: "
            f"ammissibili {_grouped(cap_total)} €"
        )
    if municipality_population is None:
        notes.append(
            f"popolazione del comune non indicata: requisito < {_grouped(gr.population_below)} abitanti non verificato"
        )
    elif municipality_population >= gr.population_below:
        reasons.append(
            f"comune di {_grouped(municipality_population)} abitanti: il contributo PNRR spetta solo sotto "
            f"{_grouped(gr.population_below)} abitanti"
        )
    if configuration not in gr.eligible_configurations:
        reasons.append(
            f"configurazione {configuration}: il contributo spetta solo a "
            f"{', '.join(sorted(gr.eligible_configurations))}"
        )
    checks: list[tuple[str, dt.date | None, dt.date]] = [
        ("domanda presentata", application_date, gr.applications_close),
        ("lavori conclusi", works_completed, gr.works_complete_by),
        ("entrata in esercizio", in_operation, gr.in_operation_by),
    ]
    for label, day, limit in checks:
        if day is None:
            notes.append(f"{label}: scadenza {limit.isoformat()} non verificata (data non indicata)")
        elif day > limit:
            reasons.append(f"{label} il {day.isoformat()}, oltre la scadenza del {limit.isoformat()}")
    if works_completed is not None and in_operation is not None:
        latest = _add_months(works_completed, gr.in_operation_within_months)
        if in_operation > latest:
            reasons.append(
                f"entrata in esercizio il {in_operation.isoformat()}, oltre {gr.in_operation_within_months} mesi "
                f"dalla conclusione dei lavori ({latest.isoformat()})"
            )
    if grant_share == 0:
        notes.append("nessun contributo richiesto (grant_share = 0)")
    elif not reasons:
        notes.append(
            f"dotazione della misura ridotta a circa {_grouped(gr.budget_eur / 1e6)} M€: i progetti ammissibili non "
            "finanziati restano in lista d'attesa"
        )
    amount = 0.0 if reasons else eligible_cost * grant_share
    return GrantResult(
        amount_eur=amount,
        eligible_cost_eur=eligible_cost,
        cap_eur_per_kw=cap.eur_per_kw,
        share=grant_share,
        eligible=not reasons,
        reasons=tuple(reasons),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------------------
# Assumptions
# ---------------------------------------------------------------------------------------------------------------


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} deve essere un numero finito (ricevuto {value!r})")


def _at_least(name: str, value: float, low: float, unit: str) -> None:
    _finite(name, value)
    if value < low:
        raise ValueError(f"{name} deve essere >= {low:g}{unit} (ricevuto {value:g})")


def _rate(name: str, value: float) -> None:
    _finite(name, value)
    if value <= -1:
        raise ValueError(f"{name} deve essere > -1 (cioe' > -100 % l'anno; ricevuto {value:g})")


@dataclass(frozen=True)
class PlantEconomics:
    """Costs and physical life of one plant (or of a set of plants treated as one).

    Parameters
    ----------
    power_kw : float
        Nominal power [kW], ``0 < power_kw <= 1000`` (the incentive limit of a single plant).
    capex_eur_per_kw : float
        Investment, VAT excluded unless not recoverable [€/kW], in money of year 0.
    opex_eur_per_kw_year : float
        Operation and maintenance, insurance, metering [€/kW/yr], in money of year 0.
    inverter_replacement_year : int, optional
        Year of operation (1 .. lifetime) in which the inverters are replaced; None for no replacement.
    inverter_cost_eur_per_kw : float
        Cost of that replacement [€/kW], in money of year 0.
    degradation_per_year : float
        Yearly loss of production [1/yr], ``0 <= d < 1`` (0.005 = 0.5 %/yr).
    grant_share : float
        PNRR grant requested, fraction of the eligible cost [unitless], ``0 .. 0.40``.
    municipality_population : int, optional
        Inhabitants of the plant's municipality (PNRR eligibility below 50,000); None leaves it unchecked.
    lifetime_years : int
        Years of operation N [yr], ``>= 1``; the TIP lasts 20 years of them at most.
    """

    power_kw: float
    capex_eur_per_kw: float
    opex_eur_per_kw_year: float
    inverter_replacement_year: int | None = None
    inverter_cost_eur_per_kw: float = 0.0
    degradation_per_year: float = 0.005
    grant_share: float = 0.0
    municipality_population: int | None = None
    lifetime_years: int = 20

    def __post_init__(self) -> None:
        _finite("power_kw", self.power_kw)
        limit = load_rulebook().max_plant_power_kw
        if not 0 < self.power_kw <= limit:
            raise ValueError(f"power_kw deve essere > 0 e <= {limit:g} kW (ricevuto {self.power_kw:g})")
        _at_least("capex_eur_per_kw", self.capex_eur_per_kw, 0.0, " €/kW")
        _at_least("opex_eur_per_kw_year", self.opex_eur_per_kw_year, 0.0, " €/kW/anno")
        _at_least("inverter_cost_eur_per_kw", self.inverter_cost_eur_per_kw, 0.0, " €/kW")
        if not (math.isfinite(self.degradation_per_year) and 0.0 <= self.degradation_per_year < 1.0):
            raise ValueError(
                f"degradation_per_year deve essere tra 0 e 1 escluso (ricevuto {self.degradation_per_year})"
            )
        top = load_grant_rules().max_share
        if not (math.isfinite(self.grant_share) and 0.0 <= self.grant_share <= top + 1e-12):
            raise ValueError(f"grant_share deve essere tra 0 e {top:g} (ricevuto {self.grant_share})")
        if int(self.lifetime_years) != self.lifetime_years or self.lifetime_years < 1:
            raise ValueError(
                f"lifetime_years deve essere un numero intero di anni >= 1 (ricevuto {self.lifetime_years})"
            )
        y = self.inverter_replacement_year
        if y is not None and (int(y) != y or not 1 <= y <= self.lifetime_years):
            raise ValueError(
                f"inverter_replacement_year deve essere un anno di esercizio tra 1 e {self.lifetime_years} "
                f"(ricevuto {y})"
            )
        if self.municipality_population is not None and self.municipality_population < 0:
            raise ValueError(f"municipality_population non puo' essere negativa ({self.municipality_population})")

    @property
    def capex_eur(self) -> float:
        """Investment [€]."""
        return float(self.capex_eur_per_kw * self.power_kw)


@dataclass(frozen=True)
class MarketAssumptions:
    """Prices and financial assumptions.

    Parameters
    ----------
    sale_price_eur_mwh : float
        First-year average price of the injected energy (ritiro dedicato: the zonal price; for PV its capture
        price) [€/MWh], in money of year 0.
    price_escalation : float
        Real yearly change of the sale price [1/yr], ``> -1``.
    discount_rate : float
        Real discount rate [1/yr], ``> -1``.
    tax_rate : float
        Tax on the plant owner's taxable income [unitless], ``0 .. 1``.
    inflation : float
        General inflation [1/yr], ``> -1``; 0 keeps the model in real terms.
    """

    sale_price_eur_mwh: float
    price_escalation: float = 0.0
    discount_rate: float = 0.05
    tax_rate: float = 0.0
    inflation: float = 0.0

    def __post_init__(self) -> None:
        _finite("sale_price_eur_mwh", self.sale_price_eur_mwh)
        _rate("price_escalation", self.price_escalation)
        _rate("discount_rate", self.discount_rate)
        _rate("inflation", self.inflation)
        if not (math.isfinite(self.tax_rate) and 0.0 <= self.tax_rate <= 1.0):
            raise ValueError(f"tax_rate deve essere tra 0 e 1 (ricevuto {self.tax_rate})")

    @property
    def nominal_discount_rate(self) -> float:
        """``(1 + r)(1 + inflation) - 1`` [1/yr]: the rate applied to the (nominal) cash flows."""
        return (1.0 + self.discount_rate) * (1.0 + self.inflation) - 1.0


@dataclass(frozen=True)
class EnergyInputs:
    """First-year energy and unit incentives of the plant.

    Parameters
    ----------
    injected_kwh : float
        Energy injected into the grid in the first year [kWh] (all of it is sold).
    incentivised_kwh : float
        Incentivised shared energy attributed to the plant in the first year [kWh], ``<= injected_kwh``.
    tip_eur_mwh : float
        Average TIP on the incentivised energy **before** the grant reduction F [€/MWh], nominal.
    valorisation_eur_mwh : float
        ARERA valorisation (CU_Af, plus avoided losses for AUC) [€/MWh], in money of year 0.
    withdrawn_kwh : float, optional
        Members' withdrawal in the first year [kWh]; only checked (``incentivised_kwh <= withdrawn_kwh``).
    produced_kwh : float, optional
        First-year production [kWh], ``>= injected_kwh``, for the LCOE; defaults to ``injected_kwh``.
        Self-consumption behind the plant's meter is not valued.
    tip_reduction : float, optional
        Reduction applied to the TIP [unitless], ``0 .. 1``. None: F from the plant's grant (0.5 × share / 0.40
        when a grant is awarded, else 0) on all the incentivised energy. Give a smaller value when exempt
        members take part of the energy, or 0.0 when ``tip_eur_mwh`` is already net of F.
    """

    injected_kwh: float
    incentivised_kwh: float
    tip_eur_mwh: float
    valorisation_eur_mwh: float
    withdrawn_kwh: float | None = None
    produced_kwh: float | None = None
    tip_reduction: float | None = None

    def __post_init__(self) -> None:
        _at_least("injected_kwh", self.injected_kwh, 0.0, " kWh")
        _at_least("incentivised_kwh", self.incentivised_kwh, 0.0, " kWh")
        _at_least("tip_eur_mwh", self.tip_eur_mwh, 0.0, " €/MWh")
        _at_least("valorisation_eur_mwh", self.valorisation_eur_mwh, 0.0, " €/MWh")
        tol = 1e-9 * max(1.0, self.injected_kwh)
        if self.incentivised_kwh > self.injected_kwh + tol:
            raise ValueError(
                f"incentivised_kwh ({self.incentivised_kwh:g}) non puo' superare injected_kwh ({self.injected_kwh:g})"
            )
        if self.withdrawn_kwh is not None:
            _at_least("withdrawn_kwh", self.withdrawn_kwh, 0.0, " kWh")
            if self.incentivised_kwh > self.withdrawn_kwh + 1e-9 * max(1.0, self.withdrawn_kwh):
                raise ValueError(
                    f"incentivised_kwh ({self.incentivised_kwh:g}) non puo' superare withdrawn_kwh "
                    f"({self.withdrawn_kwh:g})"
                )
        if self.produced_kwh is not None:
            _at_least("produced_kwh", self.produced_kwh, 0.0, " kWh")
            if self.produced_kwh < self.injected_kwh - tol:
                raise ValueError(
                    f"produced_kwh ({self.produced_kwh:g}) non puo' essere minore di injected_kwh "
                    f"({self.injected_kwh:g})"
                )
        if self.tip_reduction is not None and not (
            math.isfinite(self.tip_reduction) and 0.0 <= self.tip_reduction <= 1.0
        ):
            raise ValueError(f"tip_reduction deve essere tra 0 e 1 (ricevuto {self.tip_reduction})")

    @classmethod
    def from_amounts(
        cls,
        *,
        injected_kwh: float,
        incentivised_kwh: float,
        tip_eur: float,
        valorisation_eur: float,
        withdrawn_kwh: float | None = None,
        produced_kwh: float | None = None,
        tip_reduction: float | None = None,
    ) -> EnergyInputs:
        """Build the inputs from first-year amounts [€] instead of unit values [€/MWh].

        A TIP amount taken from a settlement is already net of the grant reduction F: pass ``tip_reduction=0.0``.

        Raises
        ------
        ValueError
            If an amount is positive while ``incentivised_kwh`` is zero.
        """
        mwh = incentivised_kwh / 1000.0
        if mwh <= 0 and (tip_eur != 0 or valorisation_eur != 0):
            raise ValueError("tip_eur e valorisation_eur richiedono incentivised_kwh > 0")
        return cls(
            injected_kwh=injected_kwh,
            incentivised_kwh=incentivised_kwh,
            tip_eur_mwh=tip_eur / mwh if mwh > 0 else 0.0,
            valorisation_eur_mwh=valorisation_eur / mwh if mwh > 0 else 0.0,
            withdrawn_kwh=withdrawn_kwh,
            produced_kwh=produced_kwh,
            tip_reduction=tip_reduction,
        )


@dataclass(frozen=True)
class ProjectInputs:
    """Everything :func:`cash_flows` needs: the plant, the market and the first-year energy."""

    plant: PlantEconomics
    market: MarketAssumptions
    energy: EnergyInputs

    def grant(self, rules: GrantRules | None = None) -> GrantResult:
        """The plant's PNRR grant (:func:`eligible_grant_eur` on the plant's figures)."""
        p = self.plant
        return eligible_grant_eur(p.power_kw, p.capex_eur, p.grant_share, p.municipality_population, rules=rules)

    def tip_factor(self, grant: GrantResult, rulebook: Rulebook | None = None) -> float:
        """``1 - F``: the share of the gross TIP paid [unitless] (see ``EnergyInputs.tip_reduction``)."""
        if self.energy.tip_reduction is not None:
            return 1.0 - self.energy.tip_reduction
        share = self.plant.grant_share if grant.amount_eur > 0 else 0.0
        return 1.0 - grant_reduction(share, rulebook)


# ---------------------------------------------------------------------------------------------------------------
# Cash flows
# ---------------------------------------------------------------------------------------------------------------


def regulation_shares(regulation: Regulation) -> dict[str, float]:
    """Shares of TIP + valorisation by recipient, from a mapping or the community's regulation rules.

    ``producers`` becomes :data:`OWNER`; ``consumers``, ``fund:NAME`` and member ids are kept. Rules with the
    same recipient are added.

    Raises
    ------
    ValueError
        If a share is negative or not finite, the shares do not add up to 1, or a member id is ``owner``.
    """
    items = list(regulation.items()) if isinstance(regulation, Mapping) else [(r.to, r.share) for r in regulation]
    shares: dict[str, float] = {}
    for to, share in items:
        if not (math.isfinite(share) and share >= 0):
            raise ValueError(f"regolamento: quota di {to!r} non valida ({share})")
        if to == OWNER:
            raise ValueError(f"regolamento: {OWNER!r} e' riservato; usa 'producers' per la quota dei produttori")
        key = OWNER if to == "producers" else to
        shares[key] = shares.get(key, 0.0) + float(share)
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"regolamento: le quote sommano a {total:.6g}, non a 1")
    return shares


@dataclass(frozen=True)
class _Computed:
    frame: pd.DataFrame
    grant: GrantResult
    incentives: dict[str, tuple[FloatArray, FloatArray]]  # stakeholder -> (tip, valorisation) [€]
    owner_taxes: FloatArray


def _compute(inputs: ProjectInputs, regulation: Regulation | None, excess_to: str | None) -> _Computed:
    plant, market, energy = inputs.plant, inputs.market, inputs.energy
    n = int(plant.lifetime_years)
    years = np.arange(n + 1)
    operating = years >= 1
    age = np.maximum(years - 1, 0)
    decay = np.where(operating, (1.0 - plant.degradation_per_year) ** age, 0.0)
    inflate = (1.0 + market.inflation) ** years

    injected = energy.injected_kwh * decay
    incentivised = energy.incentivised_kwh * decay
    produced = (energy.produced_kwh if energy.produced_kwh is not None else energy.injected_kwh) * decay

    grant = inputs.grant()
    capex = np.zeros(n + 1)
    capex[0] = -plant.capex_eur
    grant_col = np.zeros(n + 1)
    grant_col[0] = grant.amount_eur
    opex = np.where(operating, -plant.opex_eur_per_kw_year * plant.power_kw * inflate, 0.0)
    inverter = np.zeros(n + 1)
    if plant.inverter_replacement_year is not None:
        y = int(plant.inverter_replacement_year)
        inverter[y] = -plant.inverter_cost_eur_per_kw * plant.power_kw * inflate[y]
    price = market.sale_price_eur_mwh * (1.0 + market.price_escalation) ** age * inflate
    sale = injected / 1000.0 * price
    tip_paid = operating & (years <= TIP_DURATION_YEARS)
    tip = np.where(tip_paid, incentivised / 1000.0 * energy.tip_eur_mwh * inputs.tip_factor(grant), 0.0)
    valorisation = incentivised / 1000.0 * energy.valorisation_eur_mwh * inflate

    incentives = _split_incentives(inputs, grant, tip, valorisation, injected, incentivised, regulation, excess_to)
    owner_tip, owner_val = incentives[OWNER]
    depreciation = np.where(operating, (plant.capex_eur - grant.amount_eur) / n, 0.0)
    taxable = sale + owner_tip + owner_val + opex + inverter - depreciation
    taxes = np.where(operating, -market.tax_rate * np.maximum(taxable, 0.0), 0.0)

    frame = pd.DataFrame(
        {
            "produced_kwh": produced,
            "injected_kwh": injected,
            "incentivised_kwh": incentivised,
            "capex": capex,
            "grant": grant_col,
            "opex": opex,
            "inverter": inverter,
            "energy_sale": sale,
            "tip": tip,
            "valorisation": valorisation,
            "taxes": taxes,
        },
        index=pd.Index(years, name="year"),
    )
    net = frame[list(FLOW_COLUMNS)].sum(axis=1).to_numpy()
    discount = (1.0 + market.nominal_discount_rate) ** -years.astype(np.float64)
    frame["net"] = net
    frame["cumulative"] = np.cumsum(net)
    frame["discount_factor"] = discount
    frame["discounted"] = net * discount
    frame["cumulative_discounted"] = np.cumsum(net * discount)
    return _Computed(frame, grant, incentives, taxes)


def _split_incentives(
    inputs: ProjectInputs,
    grant: GrantResult,
    tip: FloatArray,
    valorisation: FloatArray,
    injected: FloatArray,
    incentivised: FloatArray,
    regulation: Regulation | None,
    excess_to: str | None,
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Split TIP and valorisation among stakeholders; the owner is always the first key."""
    if regulation is None:
        if excess_to is not None:
            raise ValueError("excess_to richiede un regolamento (regulation)")
        return {OWNER: (tip, valorisation)}
    shares = regulation_shares(regulation)
    zero = np.zeros_like(tip)
    out: dict[str, tuple[FloatArray, FloatArray]] = {OWNER: (zero, zero)}
    out.update({to: (zero, zero) for to in shares})
    excess = zero
    if excess_to is not None:
        if excess_to != CONSUMERS and not (excess_to.startswith("fund:") and len(excess_to) > len("fund:")):
            raise ValueError(f"excess_to deve essere fund:NOME oppure consumers (ricevuto {excess_to!r})")
        rb = load_rulebook()
        threshold = rb.excess_threshold_with_grant if grant.amount_eur > 0 else rb.excess_threshold_tip_only
        ratio = np.divide(incentivised, injected, out=np.zeros_like(incentivised), where=injected > 0)
        excess = tip * np.maximum(0.0, ratio - threshold)
    for to, share in shares.items():
        out[to] = (share * (tip - excess), share * valorisation)
    if excess_to is not None:
        t, v = out.get(excess_to, (zero, zero))
        out[excess_to] = (t + excess, v)
    return out


def cash_flows(
    inputs: ProjectInputs,
    *,
    regulation: Regulation | None = None,
    excess_to: str | None = None,
) -> pd.DataFrame:
    """Yearly cash flows of the project, year 0 (investment) to N.

    Parameters
    ----------
    inputs : ProjectInputs
    regulation : mapping or sequence of RegulationRule, optional
        Sharing of TIP + valorisation; here it only decides the owner's taxable income (the owner is taxed on
        its own share of the incentives). None: the owner keeps all of them.
    excess_to : str, optional
        ``consumers`` or ``fund:NAME``: carve the yearly excess TIP out before the regulation's shares.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year`` (0..N). Energy columns ``produced_kwh``, ``injected_kwh``, ``incentivised_kwh``
        [kWh]; money columns [€], signed (income positive): ``capex``, ``grant``, ``opex``, ``inverter``,
        ``energy_sale``, ``tip``, ``valorisation``, ``taxes``, their sum ``net``, ``cumulative`` (of net),
        ``discount_factor`` [unitless], ``discounted`` (net × factor) and ``cumulative_discounted``. Money is
        nominal (real when inflation is 0).

    Raises
    ------
    ValueError
        On a bad regulation (see :func:`regulation_shares`) or a bad ``excess_to``; the grant's own errors.
    """
    return _compute(inputs, regulation, excess_to).frame


def stakeholder_cash_flows(
    inputs: ProjectInputs,
    regulation: Regulation,
    *,
    excess_to: str | None = None,
) -> pd.DataFrame:
    """Yearly cash flows by stakeholder group.

    The plant owner (:data:`OWNER`) bears ``capex``, ``opex``, ``inverter`` and ``taxes``, receives the
    ``grant`` and the ``energy_sale``, and the producers' share of TIP and valorisation; every other recipient
    of the regulation (``consumers``, each ``fund:NAME``, each member with a fixed share) receives its share of
    TIP and valorisation. For each year and item the groups add up to :func:`cash_flows` with the same
    ``regulation`` and ``excess_to``.

    Parameters
    ----------
    inputs : ProjectInputs
    regulation : mapping or sequence of RegulationRule
        Shares of TIP + valorisation by recipient (``producers``, ``consumers``, ``fund:NAME``, member ids),
        adding up to 1.
    excess_to : str, optional
        ``consumers`` or ``fund:NAME``: the yearly excess TIP goes there before the shares are applied.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year``; columns a MultiIndex (``stakeholder``, ``item``) with items ``FLOW_COLUMNS`` and
        ``net`` [€]. ``frame.xs("net", axis=1, level="item")`` gives the net flow of each group.
    """
    computed = _compute(inputs, regulation, excess_to)
    project = computed.frame
    zeros = np.zeros(len(project))
    blocks: dict[tuple[str, str], FloatArray] = {}
    for who, (tip, val) in computed.incentives.items():
        owner = who == OWNER
        items = {
            col: (project[col].to_numpy() if owner else zeros)
            for col in ("capex", "grant", "opex", "inverter", "energy_sale")
        }
        items["tip"] = tip
        items["valorisation"] = val
        items["taxes"] = computed.owner_taxes if owner else zeros
        items["net"] = np.sum([items[c] for c in FLOW_COLUMNS], axis=0)
        for item in (*FLOW_COLUMNS, "net"):
            blocks[(who, item)] = items[item]
    frame = pd.DataFrame(blocks, index=project.index)
    frame.columns = pd.MultiIndex.from_tuples(list(blocks), names=["stakeholder", "item"])
    return frame


# ---------------------------------------------------------------------------------------------------------------
# Indicators
# ---------------------------------------------------------------------------------------------------------------


def _flows(flows: npt.ArrayLike, name: str = "flows") -> FloatArray:
    arr = np.asarray(flows, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: serve una sequenza non vuota di importi annui (anno 0, 1, ...)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: valori mancanti o infiniti")
    return arr


def npv(rate: float, flows: npt.ArrayLike) -> float:
    """Net present value ``sum_t flows_t / (1 + rate)^t``, t = 0, 1, ... [€].

    Parameters
    ----------
    rate : float
        Discount rate [1/yr], ``> -1``.
    flows : array_like
        Yearly flows from year 0 [€].

    Raises
    ------
    ValueError
        If ``rate <= -1`` or the flows are empty or not finite.

    Examples
    --------
    >>> round(npv(0.10, [-100.0, 110.0]), 9)
    0.0
    """
    _rate("rate", rate)
    arr = _flows(flows)
    return float(np.sum(arr * (1.0 + rate) ** -np.arange(arr.size, dtype=np.float64)))


def irr(flows: npt.ArrayLike) -> float | None:
    """Internal rate of return of yearly flows from year 0 [1/yr], via :func:`numpy_financial.irr`.

    Returns
    -------
    float or None
        None when undefined: fewer than two flows, flows that never change sign (no rate makes the NPV zero), or
        no real root above -100 %. With several sign changes the IRR may not be unique; numpy-financial returns
        the root closest to zero.

    Raises
    ------
    ValueError
        If the flows are empty or not finite.
    """
    arr = _flows(flows)
    nonzero = arr[arr != 0]
    if nonzero.size < 2 or np.all(nonzero > 0) or np.all(nonzero < 0):
        return None
    value = float(npf.irr(arr))
    return value if math.isfinite(value) else None


def payback_years(flows: npt.ArrayLike, rate: float | None = None) -> float | None:
    """Years until the cumulative flow turns non-negative for good, interpolated within the year [yr].

    Parameters
    ----------
    flows : array_like
        Yearly flows from year 0 [€].
    rate : float, optional
        Discount rate [1/yr]: given, the discounted payback; None, the simple payback.

    Returns
    -------
    float or None
        ``k + (-C_k) / f_(k+1)`` where ``C_k`` is the last negative cumulative flow (the flows of year k+1 are taken
        to accrue evenly over the year); 0 when the cumulative flow is never negative; None when it is still
        negative at the end.

    Examples
    --------
    >>> payback_years([-100.0, 40.0, 40.0, 40.0])
    2.5
    """
    arr = _flows(flows)
    if rate is not None:
        _rate("rate", rate)
        arr = arr * (1.0 + rate) ** -np.arange(arr.size, dtype=np.float64)
    cumulative = np.cumsum(arr)
    # a cumulative flow within rounding of zero (e.g. 110 / 1.1 - 100 = -1.4e-14) has paid back
    tolerance = 1e-9 * max(1.0, float(np.abs(arr).max()))
    if cumulative[-1] < -tolerance:
        return None
    negative = np.nonzero(cumulative < -tolerance)[0]
    if negative.size == 0:
        return 0.0
    k = int(negative[-1])
    return float(k + (-cumulative[k]) / arr[k + 1])


def lcoe_eur_mwh(rate: float, costs_eur: npt.ArrayLike, energy_kwh: npt.ArrayLike) -> float | None:
    """Levelised cost of energy: discounted costs / discounted energy [€/MWh].

    Parameters
    ----------
    rate : float
        Discount rate [1/yr], ``> -1``, applied to both costs and energy.
    costs_eur : array_like
        Yearly costs from year 0 [€], positive for spending.
    energy_kwh : array_like
        Yearly energy produced from year 0 [kWh], same length.

    Returns
    -------
    float or None
        None when the discounted energy is zero.

    Raises
    ------
    ValueError
        If the lengths differ, ``rate <= -1``, or values are not finite.
    """
    _rate("rate", rate)
    costs = _flows(costs_eur, "costs_eur")
    energy = _flows(energy_kwh, "energy_kwh")
    if costs.size != energy.size:
        raise ValueError(f"costs_eur ({costs.size} anni) e energy_kwh ({energy.size} anni) di lunghezza diversa")
    discount = (1.0 + rate) ** -np.arange(costs.size, dtype=np.float64)
    mwh = float(np.sum(energy / 1000.0 * discount))
    if mwh <= 0:
        return None
    return float(np.sum(costs * discount)) / mwh


@dataclass(frozen=True)
class EconomicSummary:
    """Indicators of a project or of one stakeholder.

    Attributes
    ----------
    npv_eur : float
        Net present value at the real discount rate [€] (money of year 0).
    irr : float or None
        Real internal rate of return [1/yr]; None when undefined (see :func:`irr`).
    payback_years, discounted_payback_years : float or None
        Simple and discounted payback [yr]; None when never reached within the lifetime.
    lcoe_eur_mwh : float or None
        Real levelised cost of the energy produced, investment net of the grant, O&M and inverter, no taxes
        [€/MWh]; always the project's, also for a stakeholder summary.
    grant : GrantResult
        The grant used.
    """

    npv_eur: float
    irr: float | None
    payback_years: float | None
    discounted_payback_years: float | None
    lcoe_eur_mwh: float | None
    grant: GrantResult


def summary(
    inputs: ProjectInputs,
    *,
    regulation: Regulation | None = None,
    excess_to: str | None = None,
    stakeholder: str | None = None,
) -> EconomicSummary:
    """NPV, IRR, paybacks and LCOE of the project (or of one stakeholder's net flows).

    Parameters
    ----------
    inputs : ProjectInputs
    regulation, excess_to
        As in :func:`stakeholder_cash_flows`; without a regulation the owner keeps all the incentives.
    stakeholder : str, optional
        ``owner``, ``consumers``, ``fund:NAME`` or a member id of the regulation: indicators of that group's net
        flows instead of the project's.

    Raises
    ------
    ValueError
        If ``stakeholder`` is not a recipient of the regulation.
    """
    computed = _compute(inputs, regulation, excess_to)
    frame = computed.frame
    market = inputs.market
    if stakeholder is None:
        net = frame["net"].to_numpy()
    else:
        groups = stakeholder_cash_flows(inputs, regulation or {"producers": 1.0}, excess_to=excess_to)
        names = list(dict.fromkeys(groups.columns.get_level_values("stakeholder")))
        if stakeholder not in names:
            raise ValueError(f"stakeholder {stakeholder!r} sconosciuto; presenti: {', '.join(names)}")
        net = groups[(stakeholder, "net")].to_numpy()
    nominal_rate = market.nominal_discount_rate
    nominal_irr = irr(net)
    real_irr = None if nominal_irr is None else (1.0 + nominal_irr) / (1.0 + market.inflation) - 1.0
    years = frame.index.to_numpy().astype(np.float64)
    deflate = (1.0 + market.inflation) ** -years
    costs_real = -(frame[["capex", "grant", "opex", "inverter"]].sum(axis=1).to_numpy()) * deflate
    return EconomicSummary(
        npv_eur=npv(nominal_rate, net),
        irr=real_irr,
        payback_years=payback_years(net),
        discounted_payback_years=payback_years(net, nominal_rate),
        lcoe_eur_mwh=lcoe_eur_mwh(market.discount_rate, costs_real, frame["produced_kwh"].to_numpy()),
        grant=computed.grant,
    )


# ---------------------------------------------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------------------------------------------

PARTICIPATION = "participation"
"""Sensitivity parameter: share of the base incentivised energy realised [unitless, 0..1]."""

ZONAL_PRICE = "zonal_price_eur_mwh"
"""Sensitivity parameter: zonal price [€/MWh], setting the sale price and, through ``tip_of_price``, the TIP."""

_COMPONENTS: dict[str, str] = {
    **{f.name: "plant" for f in dataclasses.fields(PlantEconomics)},
    **{f.name: "market" for f in dataclasses.fields(MarketAssumptions)},
    **{f.name: "energy" for f in dataclasses.fields(EnergyInputs)},
}
_INT_FIELDS = frozenset({"lifetime_years", "inverter_replacement_year", "municipality_population"})


def vary(
    base: ProjectInputs,
    parameter: str,
    value: float,
    *,
    tip_of_price: Callable[[float], float] | None = None,
) -> ProjectInputs:
    """A copy of ``base`` with one parameter set to ``value`` (see :func:`sensitivity` for the names).

    Raises
    ------
    ValueError
        If the parameter is unknown, an integer field gets a fractional value, ``participation`` is outside 0..1,
        ``zonal_price_eur_mwh`` comes without ``tip_of_price``, or the new inputs are invalid.
    """
    if parameter == PARTICIPATION:
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(f"participation deve essere tra 0 e 1 (ricevuto {value})")
        energy = dataclasses.replace(base.energy, incentivised_kwh=base.energy.incentivised_kwh * value)
        return dataclasses.replace(base, energy=energy)
    if parameter == ZONAL_PRICE:
        if tip_of_price is None:
            raise ValueError(
                "zonal_price_eur_mwh richiede tip_of_price (prezzo zonale -> TIP lorda in €/MWh), ad esempio "
                "lambda pz: float(tip_eur_mwh(100, pz, fc_eur_mwh=10))"
            )
        market = dataclasses.replace(base.market, sale_price_eur_mwh=value)
        energy = dataclasses.replace(base.energy, tip_eur_mwh=float(tip_of_price(value)))
        return dataclasses.replace(base, market=market, energy=energy)
    component = _COMPONENTS.get(parameter)
    if component is None:
        known = ", ".join([PARTICIPATION, ZONAL_PRICE, *sorted(_COMPONENTS)])
        raise ValueError(f"parametro {parameter!r} sconosciuto; ammessi: {known}")
    new: Any = value
    if parameter in _INT_FIELDS:
        if not float(value).is_integer():
            raise ValueError(f"{parameter} vuole un numero intero (ricevuto {value})")
        new = int(value)
    changed = dataclasses.replace(getattr(base, component), **{parameter: new})
    return dataclasses.replace(base, **{component: changed})


def sensitivity(
    base_inputs: ProjectInputs,
    parameter_name: str,
    values: Sequence[float],
    *,
    tip_of_price: Callable[[float], float] | None = None,
) -> pd.DataFrame:
    """Indicators of the project as one parameter takes each of ``values``.

    Parameters
    ----------
    base_inputs : ProjectInputs
    parameter_name : str
        Any numeric field of :class:`PlantEconomics`, :class:`MarketAssumptions` or :class:`EnergyInputs`
        (e.g. ``sale_price_eur_mwh``, ``tip_eur_mwh`` to override the TIP, ``capex_eur_per_kw``,
        ``discount_rate``), or:

        - ``participation``: share of the base incentivised energy realised [unitless, 0..1];
        - ``zonal_price_eur_mwh``: sets the sale price to the value and the gross TIP to ``tip_of_price(value)``
          (the TIP rises when the zonal price falls). The TIP at an average price is not the average of hourly
          TIPs (the cap binds at low prices): for that, let ``tip_of_price`` shift an hourly price series and
          average the hourly TIP.
    values : sequence of float
    tip_of_price : callable, optional
        Zonal price [€/MWh] -> gross TIP [€/MWh], for ``zonal_price_eur_mwh``.

    Returns
    -------
    pandas.DataFrame
        Indexed by the values (named after the parameter); columns ``npv_eur`` [€], ``irr`` [1/yr],
        ``payback_years``, ``discounted_payback_years`` [yr], ``lcoe_eur_mwh`` [€/MWh]; undefined indicators are
        NaN.

    Raises
    ------
    ValueError
        As :func:`vary`.
    """
    rows = []
    for value in values:
        s = summary(vary(base_inputs, parameter_name, value, tip_of_price=tip_of_price))
        rows.append(
            {
                "npv_eur": s.npv_eur,
                "irr": np.nan if s.irr is None else s.irr,
                "payback_years": np.nan if s.payback_years is None else s.payback_years,
                "discounted_payback_years": np.nan
                if s.discounted_payback_years is None
                else s.discounted_payback_years,
                "lcoe_eur_mwh": np.nan if s.lcoe_eur_mwh is None else s.lcoe_eur_mwh,
            }
        )
    columns = ["npv_eur", "irr", "payback_years", "discounted_payback_years", "lcoe_eur_mwh"]
    return pd.DataFrame(rows, index=pd.Index(list(values), name=parameter_name), columns=columns, dtype=np.float64)
