"""Energy management of districts and sites, ISO 50001 style: the pure core.

- :mod:`condivisa.energy_management.degree_days`: heating (DPR 412/93, Eurostat) and cooling degree days per local
  day and per period, DST days included;
- :mod:`condivisa.energy_management.baseline`: regression energy baselines (EnB) with ASHRAE Guideline 14
  statistics and acceptance, the 3-parameter heating change-point model, EnPIs (measured, ratio, regression);
- :mod:`condivisa.energy_management.savings`: avoided energy (IPMVP Option C) with non-routine adjustments,
  cumulative savings, ASHRAE 14 fractional savings uncertainty, normalised savings;
- :mod:`condivisa.energy_management.review`: significant energy uses (Pareto), targets tracking, action plans and
  the management-review summary.

All pure computation: sites, meters and their storage, continuous monitoring and pages are for the shells.
"""

from condivisa.energy_management.baseline import (
    ASHRAE14_HOURLY,
    ASHRAE14_MONTHLY,
    CHANGE_POINT_VARIABLE,
    INTERCEPT,
    AcceptanceCheck,
    AcceptanceCriteria,
    ChangePointModel,
    RegressionBaseline,
    balance_degree_days,
    check_acceptance,
    criteria_for_period,
    energy_performance_improvement,
    enpi_measured,
    enpi_ratio,
    enpi_regression,
    fit_baseline,
    fit_change_point_heating,
)
from condivisa.energy_management.degree_days import (
    CONVENTION_DPR412,
    CONVENTION_EUROSTAT,
    HEATING_SEASONS,
    PERIOD_DAY,
    PERIOD_MONTH,
    PERIOD_WEEK,
    climate_zone,
    cooling_degree_days,
    daily_mean_temperature,
    degree_days_by_period,
    heating_degree_days,
    heating_degree_days_from_daily,
    in_heating_season,
    period_starts,
)
from condivisa.energy_management.review import (
    Action,
    EnpiTrend,
    ManagementReview,
    SignificantEnergyUses,
    enpi_trend,
    management_review,
    significant_energy_uses,
    target_trajectory,
    track_targets,
)
from condivisa.energy_management.savings import (
    NormalizedSavings,
    SavingsReport,
    SavingsUncertainty,
    normalized_savings,
    savings_uncertainty,
    verify_savings,
)

__all__ = [
    "ASHRAE14_HOURLY",
    "ASHRAE14_MONTHLY",
    "CHANGE_POINT_VARIABLE",
    "CONVENTION_DPR412",
    "CONVENTION_EUROSTAT",
    "HEATING_SEASONS",
    "INTERCEPT",
    "PERIOD_DAY",
    "PERIOD_MONTH",
    "PERIOD_WEEK",
    "AcceptanceCheck",
    "AcceptanceCriteria",
    "Action",
    "ChangePointModel",
    "EnpiTrend",
    "ManagementReview",
    "NormalizedSavings",
    "RegressionBaseline",
    "SavingsReport",
    "SavingsUncertainty",
    "SignificantEnergyUses",
    "balance_degree_days",
    "check_acceptance",
    "climate_zone",
    "cooling_degree_days",
    "criteria_for_period",
    "daily_mean_temperature",
    "degree_days_by_period",
    "energy_performance_improvement",
    "enpi_measured",
    "enpi_ratio",
    "enpi_regression",
    "enpi_trend",
    "fit_baseline",
    "fit_change_point_heating",
    "heating_degree_days",
    "heating_degree_days_from_daily",
    "in_heating_season",
    "management_review",
    "normalized_savings",
    "period_starts",
    "savings_uncertainty",
    "significant_energy_uses",
    "target_trajectory",
    "track_targets",
    "verify_savings",
]
