"""Energy and emissions inventories in the Covenant of Mayors style, and their balance.

An :class:`Inventory` lists, for one entity (a community, a municipality or a district) and one year, the final
energy consumption by sector and carrier [MWh], the local renewable electricity production by technology [MWh]
and the energy shared by energy communities [MWh]. :func:`compute_balance` turns it into emissions
[t CO2] with the factors of :mod:`condivisa.balance.factors`; :func:`compare` sets a baseline inventory (BEI)
against a monitoring inventory (MEI) and a reduction target.

Grid electricity and local production
-------------------------------------
Electricity consumed in the territory is counted with a *local* emission factor (CoM SEAP Guidebook 2010,
Part II, section "Electricity", equation for EFE; SECAP Guidebook 2018, Part 2):

.. math::

    EFE = \\frac{(TCE - LPE - GEP) \\cdot NEEFE + CO2_{LPE} + CO2_{GEP}}{TCE}

with TCE the total electricity consumption of the territory, LPE the local electricity production counted, GEP
the certified green electricity purchased by the local authority, NEEFE the national factor for electricity
consumption (ISPRA), CO2LPE and CO2GEP the emissions of the local production and of the green purchases
(0 for PV, wind and hydro, and for certified purchases, in the standard approach). When LPE + GEP >= TCE (a net
exporter) the guidebook's exceptional case applies: EFE = (CO2LPE + CO2GEP) / (LPE + GEP).

What counts as LPE is a choice, named by ``electricity_rule``:

- ``"local"`` (default, the guidebook's): all local renewable production listed in the inventory;
- ``"shared_only"``: only the energy shared by communities (produced and consumed locally in the same hour),
  a conservative reading for a community, whose surplus injected outside the sharing hours is not credited;
- ``"national"``: no local credit, EFE = NEEFE.

Shared energy is reported (MWh, share of electricity consumption) but never subtracted a second time: it is part
of the local production already, and counting it again would double the credit.

Every electricity row, whatever its sector, is multiplied by the same EFE; other carriers by their own factor.
Sector totals, carrier totals and the grand total are sums of the same row emissions, so they agree to float
rounding (sums are taken with :func:`math.fsum`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from condivisa.balance.factors import (
    EmissionFactor,
    FactorTable,
    FactorYearWarning,
    load_factors,
)

__all__ = [
    "SECTORS",
    "Balance",
    "ConsumptionRow",
    "ElectricityRule",
    "EmissionRow",
    "EntityKind",
    "Inventory",
    "LocalProduction",
    "Progress",
    "balance_matrix",
    "carrier_series",
    "compare",
    "compute_balance",
    "local_electricity_factor",
    "progress_series",
    "sector_series",
]

# Covenant of Mayors sectors (SECAP template), with the labels of the Italian template.
SECTORS: dict[str, str] = {
    "municipal_buildings": "Edifici, attrezzature/impianti comunali",
    "tertiary": "Edifici, attrezzature/impianti terziari (non comunali)",
    "residential": "Edifici residenziali",
    "public_lighting": "Illuminazione pubblica",
    "industry": "Industria (non ETS)",
    "transport_municipal": "Trasporti: parco veicoli comunale",
    "transport_public": "Trasporti: trasporto pubblico",
    "transport_private": "Trasporti: trasporto privato e commerciale",
    "agriculture": "Agricoltura, silvicoltura, pesca",
    "other": "Altro",
}

EntityKind = Literal["community", "municipality", "district"]
ElectricityRule = Literal["local", "shared_only", "national"]
_RULES = ("local", "shared_only", "national")
_KINDS = ("community", "municipality", "district")
_REL_TOL = 1e-9


def _check_mwh(value: float, what: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{what}: atteso un valore finito >= 0 MWh, ricevuto {value!r}")
    return v


@dataclass(frozen=True)
class ConsumptionRow:
    """Final energy consumption of one sector and carrier [MWh]."""

    sector: str
    carrier: str
    mwh: float
    note: str = ""

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise ValueError(f"settore sconosciuto {self.sector!r}: attesi {', '.join(SECTORS)}")
        if not self.carrier:
            raise ValueError(f"{self.sector}: vettore energetico mancante")
        object.__setattr__(self, "mwh", _check_mwh(self.mwh, f"{self.sector}/{self.carrier}"))


@dataclass(frozen=True)
class LocalProduction:
    """Local renewable electricity production of one technology [MWh produced]."""

    technology: str
    mwh: float
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mwh", _check_mwh(self.mwh, f"produzione locale {self.technology}"))


@dataclass(frozen=True)
class Inventory:
    """Energy inventory of one entity for one year.

    Parameters
    ----------
    entity : str
        Name of the community, municipality or district.
    kind : {"community", "municipality", "district"}
    year : int
    rows : sequence of ConsumptionRow
        Final consumption [MWh]; electricity rows must be *total* consumption (self-consumed local production
        included), since local production enters through the local electricity factor.
    production : sequence of LocalProduction
        Local renewable electricity production [MWh].
    shared_energy_mwh : float
        Energy shared by the energy communities of the territory [MWh] (hourly min of injection and withdrawal).
    green_purchases_mwh : float
        Certified green electricity bought by the local authority (GEP) [MWh].
    population : int, optional
        Inhabitants, for per-capita figures.
    """

    entity: str
    kind: EntityKind
    year: int
    rows: tuple[ConsumptionRow, ...]
    production: tuple[LocalProduction, ...] = ()
    shared_energy_mwh: float = 0.0
    green_purchases_mwh: float = 0.0
    population: int | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"{self.entity}: tipo di entita' {self.kind!r} sconosciuto, attesi {', '.join(_KINDS)}")
        object.__setattr__(self, "rows", tuple(self.rows))
        object.__setattr__(self, "production", tuple(self.production))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "shared_energy_mwh", _check_mwh(self.shared_energy_mwh, "energia condivisa"))
        object.__setattr__(self, "green_purchases_mwh", _check_mwh(self.green_purchases_mwh, "acquisti verdi"))
        if self.population is not None and self.population <= 0:
            raise ValueError(f"{self.entity} {self.year}: popolazione deve essere > 0 (ricevuto {self.population})")
        produced = math.fsum(p.mwh for p in self.production)
        if self.shared_energy_mwh > produced * (1 + _REL_TOL) + 1e-9:
            raise ValueError(
                f"{self.entity} {self.year}: energia condivisa {self.shared_energy_mwh:.3f} MWh maggiore della "
                f"produzione locale {produced:.3f} MWh"
            )

    @property
    def electricity_mwh(self) -> float:
        """Total electricity consumption TCE [MWh]."""
        return math.fsum(r.mwh for r in self.rows if r.carrier == "electricity")

    @property
    def local_production_mwh(self) -> float:
        return math.fsum(p.mwh for p in self.production)


@dataclass(frozen=True)
class EmissionRow:
    """One inventory row with its factor and emissions."""

    sector: str
    carrier: str
    mwh: float
    factor_t_mwh: float
    t_co2: float
    note: str = ""


def local_electricity_factor(
    tce_mwh: float,
    neefe: float,
    lpe_mwh: float = 0.0,
    co2_lpe_t: float = 0.0,
    gep_mwh: float = 0.0,
    co2_gep_t: float = 0.0,
) -> float:
    """Local emission factor for electricity EFE [t CO2/MWh] (CoM SEAP Guidebook 2010, Part II).

    .. math::

        EFE = \\frac{(TCE - LPE - GEP) \\cdot NEEFE + CO2_{LPE} + CO2_{GEP}}{TCE}

    and, for a net exporter (LPE + GEP >= TCE), EFE = (CO2LPE + CO2GEP) / (LPE + GEP).

    Parameters
    ----------
    tce_mwh : float
        Total electricity consumption in the territory, TCE [MWh].
    neefe : float
        National emission factor for electricity consumption, NEEFE [t CO2/MWh].
    lpe_mwh, co2_lpe_t : float
        Local electricity production counted, LPE [MWh], and its emissions CO2LPE [t CO2].
    gep_mwh, co2_gep_t : float
        Certified green electricity purchases, GEP [MWh], and their emissions CO2GEP [t CO2].
    """
    for name, v in (("TCE", tce_mwh), ("NEEFE", neefe), ("LPE", lpe_mwh), ("GEP", gep_mwh)):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}: atteso un valore finito >= 0, ricevuto {v!r}")
    if co2_lpe_t < 0 or co2_gep_t < 0:
        raise ValueError("CO2LPE e CO2GEP devono essere >= 0 t CO2")
    local = lpe_mwh + gep_mwh
    if local == 0 and co2_lpe_t == 0 and co2_gep_t == 0:
        return neefe
    if local >= tce_mwh:
        if local == 0:
            return neefe
        return (co2_lpe_t + co2_gep_t) / local
    return ((tce_mwh - local) * neefe + co2_lpe_t + co2_gep_t) / tce_mwh


@dataclass(frozen=True)
class Balance:
    """Emissions balance of an inventory: rows, totals by sector and carrier, grand total.

    All energies in MWh, emissions in t CO2, factors in t CO2/MWh. Dictionaries list sectors in
    :data:`SECTORS` order and carriers in order of first appearance; only those present appear.
    """

    inventory: Inventory
    electricity_rule: ElectricityRule
    rows: tuple[EmissionRow, ...]
    factors: Mapping[str, EmissionFactor]
    national_electricity_factor: EmissionFactor | None
    local_electricity_factor: float | None
    consumption_by_sector: Mapping[str, float]
    consumption_by_carrier: Mapping[str, float]
    emissions_by_sector: Mapping[str, float]
    emissions_by_carrier: Mapping[str, float]
    total_consumption_mwh: float
    total_emissions_t: float
    electricity_mwh: float
    local_production_counted_mwh: float
    avoided_by_local_t: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def year(self) -> int:
        return self.inventory.year

    @property
    def per_capita_t(self) -> float | None:
        """Emissions per inhabitant [t CO2/inhabitant], or None without population."""
        pop = self.inventory.population
        return None if pop is None else self.total_emissions_t / pop

    @property
    def local_production_mwh(self) -> float:
        return self.inventory.local_production_mwh

    @property
    def shared_energy_mwh(self) -> float:
        return self.inventory.shared_energy_mwh

    @property
    def shared_share(self) -> float | None:
        """Shared energy over electricity consumption [0..1], or None without electricity consumption."""
        return None if self.electricity_mwh == 0 else self.shared_energy_mwh / self.electricity_mwh

    @property
    def local_production_share(self) -> float | None:
        """Local renewable production over electricity consumption (may exceed 1), or None."""
        return None if self.electricity_mwh == 0 else self.local_production_mwh / self.electricity_mwh

    @property
    def unverified_factors(self) -> tuple[EmissionFactor, ...]:
        return tuple(f for f in self.factors.values() if not f.verified)


def _group(rows: Iterable[EmissionRow], key: str, value: str, order: Sequence[str]) -> dict[str, float]:
    parts: dict[str, list[float]] = {}
    for r in rows:
        parts.setdefault(getattr(r, key), []).append(getattr(r, value))
    keys = [k for k in order if k in parts] + [k for k in parts if k not in order]
    return {k: math.fsum(parts[k]) for k in keys}


def compute_balance(
    inventory: Inventory,
    *,
    table: FactorTable | None = None,
    electricity_rule: ElectricityRule = "local",
    overrides: Mapping[str, EmissionFactor] | None = None,
    green_purchase_factor: float = 0.0,
) -> Balance:
    """Emissions of an inventory: consumption x factor, with the local electricity factor.

    Parameters
    ----------
    inventory : Inventory
    table : FactorTable, optional
        Default: the bundled table (:func:`condivisa.balance.factors.load_factors`).
    electricity_rule : {"local", "shared_only", "national"}
        What local production counts in the local electricity factor (see the module docstring).
    overrides : mapping of carrier to EmissionFactor, optional
        Local figures that replace the table's (district heating needs one), e.g. from
        :func:`condivisa.balance.factors.custom_factor`. An ``electricity`` override replaces NEEFE.
    green_purchase_factor : float
        Emission factor of certified green purchases [t CO2/MWh]; 0 in the standard approach.

    Returns
    -------
    Balance

    Raises
    ------
    FactorError
        Unknown carrier or technology, year outside a series, district heating without an override.
    """
    if electricity_rule not in _RULES:
        raise ValueError(f"electricity_rule {electricity_rule!r} sconosciuta: attese {', '.join(_RULES)}")
    tab = table or load_factors()
    over = dict(overrides or {})
    year = inventory.year
    notes: list[str] = list(inventory.notes)
    used: dict[str, EmissionFactor] = {}

    def get(carrier: str) -> EmissionFactor:
        if carrier not in used:
            if carrier in over:
                used[carrier] = over[carrier]
            else:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", FactorYearWarning)
                    used[carrier] = tab.lookup(carrier, year)
                for w in caught:
                    warnings.warn(str(w.message), w.category, stacklevel=3)
                    notes.append(str(w.message))
        return used[carrier]

    tce = inventory.electricity_mwh
    neefe: EmissionFactor | None = get("electricity") if tce > 0 else None
    efe: float | None = None
    lpe = 0.0
    avoided = 0.0
    if neefe is not None:
        prod_factors = [(p, tab.production_factor(p.technology).value) for p in inventory.production]
        co2_all = math.fsum(p.mwh * f for p, f in prod_factors)
        produced = inventory.local_production_mwh
        if electricity_rule == "local":
            lpe, co2_lpe = produced, co2_all
        elif electricity_rule == "shared_only":
            lpe = inventory.shared_energy_mwh
            co2_lpe = 0.0 if produced == 0 else co2_all * lpe / produced
        else:
            lpe, co2_lpe = 0.0, 0.0
        gep = inventory.green_purchases_mwh
        efe = local_electricity_factor(tce, neefe.value, lpe, co2_lpe, gep, gep * green_purchase_factor)
        if lpe + gep >= tce and lpe + gep > 0:
            notes.append(
                f"produzione locale + acquisti verdi ({lpe + gep:.1f} MWh) >= consumo elettrico ({tce:.1f} MWh): "
                "EFE = (CO2LPE + CO2GEP) / (LPE + GEP), caso dell'esportatore netto (Guidebook CoM)"
            )
        avoided = tce * (neefe.value - efe)

    rows: list[EmissionRow] = []
    for r in inventory.rows:
        ef = efe if r.carrier == "electricity" and efe is not None else get(r.carrier).value
        rows.append(EmissionRow(r.sector, r.carrier, r.mwh, ef, r.mwh * ef, r.note))

    for f in used.values():
        if not f.verified:
            notes.append(
                f"fattore non verificato: {f.carrier} {f.year} = {f.value:.3f} t CO2/MWh ({f.source}): {f.note}"
            )

    carriers_order = list(dict.fromkeys(r.carrier for r in rows))
    by_sector_e = _group(rows, "sector", "t_co2", list(SECTORS))
    return Balance(
        inventory=inventory,
        electricity_rule=electricity_rule,
        rows=tuple(rows),
        factors=dict(used),
        national_electricity_factor=neefe,
        local_electricity_factor=efe,
        consumption_by_sector=_group(rows, "sector", "mwh", list(SECTORS)),
        consumption_by_carrier=_group(rows, "carrier", "mwh", carriers_order),
        emissions_by_sector=by_sector_e,
        emissions_by_carrier=_group(rows, "carrier", "t_co2", carriers_order),
        total_consumption_mwh=math.fsum(r.mwh for r in rows),
        total_emissions_t=math.fsum(r.t_co2 for r in rows),
        electricity_mwh=tce,
        local_production_counted_mwh=lpe,
        avoided_by_local_t=avoided,
        notes=tuple(dict.fromkeys(notes)),
    )


@dataclass(frozen=True)
class Progress:
    """Baseline (BEI) against monitoring (MEI) inventory, and progress towards a reduction target.

    Emissions are totals [t CO2] or, with ``per_capita``, per inhabitant [t CO2/inhabitant]. Percentages are
    in percent of the baseline (positive = reduction).
    """

    entity: str
    baseline_year: int
    monitoring_year: int
    target_year: int
    per_capita: bool
    baseline_t: float
    monitoring_t: float
    reduction_t: float
    reduction_pct: float
    target_reduction_pct: float
    target_t: float
    remaining_t: float
    achieved_share: float
    linear_path_pct: float
    on_track: bool
    by_sector: Mapping[str, tuple[float, float]]


def compare(
    baseline: Balance,
    monitoring: Balance,
    *,
    target_reduction_pct: float = 55.0,
    target_year: int = 2030,
    per_capita: bool = False,
) -> Progress:
    """Reduction from the baseline (BEI) to the monitoring inventory (MEI), and progress towards a target.

    Parameters
    ----------
    baseline, monitoring : Balance
        Balances of the baseline and the monitoring year (the monitoring year after the baseline).
    target_reduction_pct : float
        Reduction target in percent of baseline emissions (55 for the Covenant's -55 % by 2030).
    target_year : int
    per_capita : bool
        Compare emissions per inhabitant (both inventories need a population).

    Notes
    -----
    ``reduction_pct = (E_BEI - E_MEI) / E_BEI x 100``; ``achieved_share`` is the reduction reached over the
    reduction required by the target (1 = target met); ``linear_path_pct`` is the reduction a straight line from
    the baseline year to the target would require by the monitoring year, and ``on_track`` says whether the
    monitoring inventory is at least there.
    """
    by, my = baseline.year, monitoring.year
    if my <= by:
        raise ValueError(f"l'anno di monitoraggio ({my}) deve seguire l'anno base ({by})")
    if target_year <= by:
        raise ValueError(f"l'anno obiettivo ({target_year}) deve seguire l'anno base ({by})")
    if not 0 < target_reduction_pct <= 100:
        raise ValueError(f"obiettivo di riduzione {target_reduction_pct} %: atteso tra 0 (escluso) e 100")

    def value(b: Balance) -> float:
        if not per_capita:
            return b.total_emissions_t
        pc = b.per_capita_t
        if pc is None:
            raise ValueError(f"{b.inventory.entity} {b.year}: serve la popolazione per il confronto pro capite")
        return pc

    base, mon = value(baseline), value(monitoring)
    if base <= 0:
        raise ValueError(f"{baseline.inventory.entity} {by}: emissioni dell'anno base nulle, riduzione non definita")
    reduction = base - mon
    reduction_pct = reduction / base * 100.0
    required = base * target_reduction_pct / 100.0
    target_t = base - required
    linear = target_reduction_pct * min(1.0, (my - by) / (target_year - by))
    sectors = list(dict.fromkeys([*baseline.emissions_by_sector, *monitoring.emissions_by_sector]))
    order = [s for s in SECTORS if s in sectors]
    return Progress(
        entity=monitoring.inventory.entity,
        baseline_year=by,
        monitoring_year=my,
        target_year=target_year,
        per_capita=per_capita,
        baseline_t=base,
        monitoring_t=mon,
        reduction_t=reduction,
        reduction_pct=reduction_pct,
        target_reduction_pct=target_reduction_pct,
        target_t=target_t,
        remaining_t=max(0.0, mon - target_t),
        achieved_share=reduction / required,
        linear_path_pct=linear,
        on_track=reduction_pct >= linear - 1e-9,
        by_sector={
            s: (baseline.emissions_by_sector.get(s, 0.0), monitoring.emissions_by_sector.get(s, 0.0)) for s in order
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Chart data: plain, JSON-ready structures; no plotting library.

Quantity = Literal["emissions", "consumption"]
_UNITS = {"emissions": "t CO2", "consumption": "MWh"}


def _check_quantity(quantity: str) -> None:
    if quantity not in _UNITS:
        raise ValueError(f"quantity {quantity!r} sconosciuta: attese {', '.join(_UNITS)}")


def sector_series(balances: Sequence[Balance], quantity: Quantity = "emissions") -> dict[str, Any]:
    """Values by sector for each balance (e.g. BEI and MEI side by side, or stacked bars by year).

    Returns ``{"x": [years], "unit": ..., "series": [{"key", "label", "values"}]}``, one series per sector
    present in any balance, in :data:`SECTORS` order; ``"totals"`` are the grand totals per balance.
    """
    _check_quantity(quantity)
    maps = [b.emissions_by_sector if quantity == "emissions" else b.consumption_by_sector for b in balances]
    present = {k for m in maps for k in m}
    keys = [s for s in SECTORS if s in present]
    return {
        "x": [b.year for b in balances],
        "unit": _UNITS[quantity],
        "series": [{"key": k, "label": SECTORS[k], "values": [m.get(k, 0.0) for m in maps]} for k in keys],
        "totals": [b.total_emissions_t if quantity == "emissions" else b.total_consumption_mwh for b in balances],
    }


def carrier_series(
    balances: Sequence[Balance], quantity: Quantity = "emissions", table: FactorTable | None = None
) -> dict[str, Any]:
    """Values by carrier for each balance; same shape as :func:`sector_series`."""
    _check_quantity(quantity)
    tab = table or load_factors()
    maps = [b.emissions_by_carrier if quantity == "emissions" else b.consumption_by_carrier for b in balances]
    keys = list(dict.fromkeys(k for m in maps for k in m))

    def label(k: str) -> str:
        c = tab.carriers.get(k)
        return c.label if c is not None else k

    return {
        "x": [b.year for b in balances],
        "unit": _UNITS[quantity],
        "series": [{"key": k, "label": label(k), "values": [m.get(k, 0.0) for m in maps]} for k in keys],
        "totals": [b.total_emissions_t if quantity == "emissions" else b.total_consumption_mwh for b in balances],
    }


def progress_series(progress: Progress) -> dict[str, Any]:
    """Baseline, monitoring and target on one time axis, with the straight path to the target."""
    p = progress
    unit = "t CO2/ab." if p.per_capita else "t CO2"
    return {
        "x": [p.baseline_year, p.monitoring_year, p.target_year],
        "unit": unit,
        "actual": [p.baseline_t, p.monitoring_t, None],
        "target_path": [p.baseline_t, p.baseline_t * (1 - p.linear_path_pct / 100.0), p.target_t],
        "reduction_pct": p.reduction_pct,
        "target_reduction_pct": p.target_reduction_pct,
        "on_track": p.on_track,
    }


def balance_matrix(balance: Balance, quantity: Quantity = "emissions") -> dict[str, Any]:
    """The CoM template table: sectors x carriers, with row and column totals and the grand total."""
    _check_quantity(quantity)
    attr = "t_co2" if quantity == "emissions" else "mwh"
    sectors = list(balance.consumption_by_sector)
    carriers = list(balance.consumption_by_carrier)
    cells: dict[tuple[str, str], list[float]] = {}
    for r in balance.rows:
        cells.setdefault((r.sector, r.carrier), []).append(getattr(r, attr))
    by_sector = balance.emissions_by_sector if quantity == "emissions" else balance.consumption_by_sector
    by_carrier = balance.emissions_by_carrier if quantity == "emissions" else balance.consumption_by_carrier
    return {
        "unit": _UNITS[quantity],
        "sectors": [{"key": s, "label": SECTORS[s]} for s in sectors],
        "carriers": carriers,
        "cells": [[math.fsum(cells.get((s, c), [])) for c in carriers] for s in sectors],
        "sector_totals": [by_sector[s] for s in sectors],
        "carrier_totals": [by_carrier[c] for c in carriers],
        "total": balance.total_emissions_t if quantity == "emissions" else balance.total_consumption_mwh,
    }
