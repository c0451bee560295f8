"""Energy and emissions balance of a community, a municipality or a district (pure computation).

Emission factors are data with their sources (:mod:`condivisa.balance.factors`); inventories and balances in the
Covenant of Mayors style, BEI/MEI comparison and chart data are in :mod:`condivisa.balance.inventory`; the demo
municipality is :mod:`condivisa.balance.demo` (imported on demand: it settles the demo community).
"""

from condivisa.balance.factors import (
    CarrierFactors,
    EmissionFactor,
    FactorError,
    FactorTable,
    FactorYearWarning,
    custom_factor,
    factor,
    load_factors,
    lookup,
)
from condivisa.balance.inventory import (
    SECTORS,
    Balance,
    ConsumptionRow,
    ElectricityRule,
    EmissionRow,
    EntityKind,
    Inventory,
    LocalProduction,
    Progress,
    balance_matrix,
    carrier_series,
    compare,
    compute_balance,
    local_electricity_factor,
    progress_series,
    sector_series,
)

__all__ = [
    "SECTORS",
    "Balance",
    "CarrierFactors",
    "ConsumptionRow",
    "ElectricityRule",
    "EmissionFactor",
    "EmissionRow",
    "EntityKind",
    "FactorError",
    "FactorTable",
    "FactorYearWarning",
    "Inventory",
    "LocalProduction",
    "Progress",
    "balance_matrix",
    "carrier_series",
    "compare",
    "compute_balance",
    "custom_factor",
    "factor",
    "load_factors",
    "local_electricity_factor",
    "lookup",
    "progress_series",
    "sector_series",
]
