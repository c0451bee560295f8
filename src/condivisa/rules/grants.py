"""PNRR capital-grant rules (``data/grants.toml``) as a typed, immutable object.

The grant covers up to 40 % of the eligible cost of a plant in a CER or AUC configuration whose municipality has
fewer than 50,000 inhabitants; the eligible cost is capped per kW by the plant's power band. Every figure lives in
the TOML file with the text it comes from; this module only reads it.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class CostCap:
    """A cap on the eligible cost for plants with ``power <= max_power_kw`` (and above the previous band).

    Attributes
    ----------
    max_power_kw : float
        Upper limit of the band, included [kW].
    eur_per_kw : float
        Largest eligible cost per kW of the plant's power [€/kW].
    text : str
        The text the figure comes from.
    """

    max_power_kw: float
    eur_per_kw: float
    text: str


@dataclass(frozen=True)
class GrantRules:
    """The PNRR grant rules.

    Attributes
    ----------
    max_share : float
        Largest grant as a fraction of the eligible cost [unitless] (0.40).
    vat_included : bool
        Whether VAT counts as eligible cost (it does not, unless it cannot be recovered).
    population_below : int
        The plant's municipality must have fewer inhabitants than this [inhabitants].
    eligible_configurations : frozenset of str
        Configuration codes whose plants may receive the grant (CER, AUC).
    cost_caps : tuple of CostCap
        Bands in increasing order of power.
    applications_close, works_complete_by, in_operation_by : datetime.date
        Last day to apply, to finish the works, to enter into operation.
    in_operation_within_months : int
        Largest delay between the end of the works and the entry into operation [months].
    budget_eur : float
        Approximate remaining budget of the measure [€] (a caveat, not a rule).
    sources : dict
        The text each group of figures comes from, by name.
    """

    max_share: float
    vat_included: bool
    population_below: int
    eligible_configurations: frozenset[str]
    cost_caps: tuple[CostCap, ...]
    applications_close: dt.date
    works_complete_by: dt.date
    in_operation_by: dt.date
    in_operation_within_months: int
    budget_eur: float
    sources: dict[str, str]

    def cost_cap(self, power_kw: float) -> CostCap:
        """Cap band of a single plant of ``power_kw`` [kW]: the first band with ``power_kw <= max_power_kw``.

        Raises
        ------
        ValueError
            If the power is not positive or exceeds the largest band (1,000 kW).
        """
        if not power_kw > 0:
            raise ValueError(f"power_kw deve essere > 0 kW (ricevuto {power_kw})")
        for cap in self.cost_caps:
            if power_kw <= cap.max_power_kw:
                return cap
        raise ValueError(
            f"impianto di {power_kw:g} kW oltre il limite di {self.cost_caps[-1].max_power_kw:g} kW: "
            "nessun massimale di costo per il contributo PNRR"
        )


def _read_toml(name: str) -> dict[str, Any]:
    ref = resources.files("condivisa.rules") / "data" / name
    with ref.open("rb") as fh:
        return tomllib.load(fh)


@cache
def load_grant_rules() -> GrantRules:
    """Read ``data/grants.toml`` shipped with the package (cached).

    Raises
    ------
    ValueError
        If the cost-cap bands are not in strictly increasing order of power or a figure is not positive.
    """
    doc = _read_toml("grants.toml")
    caps = tuple(CostCap(float(c["max_power_kw"]), float(c["eur_per_kw"]), str(c["text"])) for c in doc["cost_caps"])
    limits = [c.max_power_kw for c in caps]
    if not caps or limits != sorted(set(limits)) or any(c.eur_per_kw <= 0 or c.max_power_kw <= 0 for c in caps):
        raise ValueError("grants.toml: cost_caps must be positive bands in strictly increasing order of power")
    share = doc["share"]
    deadlines = doc["deadlines"]
    return GrantRules(
        max_share=float(share["max_share"]),
        vat_included=bool(doc["eligible_cost"]["vat_included"]),
        population_below=int(doc["municipality"]["population_below"]),
        eligible_configurations=frozenset(doc["configurations"]["eligible"]),
        cost_caps=caps,
        applications_close=deadlines["applications_close"],
        works_complete_by=deadlines["works_complete_by"],
        in_operation_by=deadlines["in_operation_by"],
        in_operation_within_months=int(deadlines["in_operation_within_months"]),
        budget_eur=float(doc["budget"]["approx_eur"]),
        sources={
            "grant": str(doc["source"]["text"]),
            "share": str(share["text"]),
            "eligible_cost": str(doc["eligible_cost"]["text"]),
            "municipality": str(doc["municipality"]["text"]),
            "configurations": str(doc["configurations"]["text"]),
            "deadlines": str(deadlines["text"]),
            "budget": str(doc["budget"]["text"]),
        },
    )
