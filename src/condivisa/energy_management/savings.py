"""Measurement and verification of savings (IPMVP Option C, ASHRAE Guideline 14 whole-building approach).

Avoided energy (IPMVP Core Concepts, "avoided energy consumption"), per reporting period ``t``:

.. math:: S_t = \\hat E_{b,t} + NRA_t - E_{r,t}

where :math:`\\hat E_{b,t}` is the *adjusted baseline*, the baseline model applied to the reporting period's
conditions (weather, activity), :math:`E_{r,t}` the measured reporting consumption and :math:`NRA_t` the
non-routine adjustments [kWh]: positive when something not due to the measures added load in the reporting period
(a new wing, longer opening hours), so that the baseline must grow; negative when load went away. Cumulative
savings are :math:`\\sum_{\\tau \\le t} S_\\tau`. The savings fraction is :math:`F = S / \\hat E_b` over the whole
reporting period.

Uncertainty (ASHRAE Guideline 14-2014, Annex B, fractional savings uncertainty of a regression baseline, after
Reddy & Claridge, *Uncertainty of "measured" energy savings from statistical baseline models*, HVAC&R Research
6(1), 2000):

.. math:: \\frac{\\Delta S}{S} = \\frac{1.26\\ t\\ CV \\sqrt{\\frac{n}{n'}\\left(1 + \\frac{2}{n'}\\right)
          \\frac{1}{m}}}{F},
          \\qquad n' = n \\frac{1 - \\rho}{1 + \\rho}

with ``CV`` the baseline CV(RMSE) as a fraction, ``n`` the baseline periods, ``m`` the reporting periods, ``ρ`` the
lag-1 autocorrelation of the baseline residuals (taken as 0 when negative: never more effective points than
points), ``t`` the two-sided Student's t at the chosen confidence with ``n - p`` degrees of freedom; 1.26 is
Guideline 14's empirical factor (derived for monthly models and applied to other periods as is common practice).
Multiplying by ``S`` the absolute uncertainty is :math:`\\Delta S = 1.26\\,t\\,CV\\sqrt{\\cdots}\\;\\hat E_b`,
defined even when the savings are zero. Guideline 14 requires :math:`\\Delta S/S < 50\\%` at 68 % confidence
(:attr:`SavingsReport.meets_ashrae14`). Non-routine adjustments are taken as exact.

Normalised savings (IPMVP "normalised savings", optional): a baseline model and a reporting-period model are both
applied to the same standard conditions (typical-year degree days, nominal activity) and their difference is the
savings under those conditions; each model's uncertainty is the formula above with ``m`` the standard periods and
the two are added in quadrature.

Pure computation: no files, no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from condivisa.energy_management.baseline import RegressionBaseline

ASHRAE14_FACTOR = 1.26
"""Empirical coefficient of ASHRAE Guideline 14's fractional savings uncertainty."""
ASHRAE14_CONFIDENCE = 0.68
ASHRAE14_MAX_FSU = 0.50
DEFAULT_CONFIDENCE = 0.90
"""IPMVP's usual reporting confidence."""


def t_value(confidence: float, dof: int) -> float:
    """Two-sided Student's t for a confidence level (0..1) and degrees of freedom."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"livello di confidenza {confidence} fuori da (0, 1)")
    if dof < 1:
        raise ValueError(f"gradi di libertà non positivi: {dof}")
    return float(stats.t.ppf(0.5 + confidence / 2.0, dof))


def effective_points(n: int, autocorrelation: float) -> float:
    """``n' = n (1 - ρ) / (1 + ρ)``, with negative ρ taken as 0."""
    rho = max(0.0, float(autocorrelation))
    if rho >= 1.0:
        raise ValueError(f"autocorrelazione dei residui non valida: {rho}")
    return n * (1.0 - rho) / (1.0 + rho)


@dataclass(frozen=True)
class SavingsUncertainty:
    """Uncertainty of savings from a regression baseline (module docstring).

    Attributes
    ----------
    confidence : float
        Confidence level (0..1).
    t_value : float
        Two-sided Student's t with the baseline's ``n - p`` degrees of freedom.
    effective_n : float
        ``n'`` [periods].
    m : int
        Periods the savings cover.
    absolute_kwh : float
        ±ΔS [kWh].
    fractional : float
        ΔS / S [unitless]; NaN when the savings are 0, and taken on |S| when they are negative.
    """

    confidence: float
    t_value: float
    effective_n: float
    m: int
    absolute_kwh: float
    fractional: float


def savings_uncertainty(
    model: RegressionBaseline,
    m: int,
    expected_kwh: float,
    savings_kwh: float,
    confidence: float = DEFAULT_CONFIDENCE,
) -> SavingsUncertainty:
    """ASHRAE Guideline 14 uncertainty of savings computed with ``model`` over ``m`` periods.

    Parameters
    ----------
    model : RegressionBaseline
        The baseline (its ``n``, ``p``, CV(RMSE) and residual autocorrelation are used).
    m : int
        Reporting (or standard) periods, >= 1.
    expected_kwh : float
        Model energy over those periods (the adjusted baseline) [kWh].
    savings_kwh : float
        Savings [kWh], for the fractional uncertainty.
    confidence : float, default 0.90
    """
    if m < 1:
        raise ValueError(f"servono periodi di rendicontazione: {m}")
    t = t_value(confidence, model.dof)
    n_eff = effective_points(model.n, model.autocorrelation)
    cv = model.cv_rmse_pct / 100.0
    absolute = ASHRAE14_FACTOR * t * cv * math.sqrt((model.n / n_eff) * (1.0 + 2.0 / n_eff) / m) * abs(expected_kwh)
    fractional = absolute / abs(savings_kwh) if savings_kwh != 0 else math.nan
    return SavingsUncertainty(confidence, t, n_eff, m, absolute, fractional)


@dataclass(frozen=True)
class SavingsReport:
    """Verified savings over a reporting period.

    Attributes
    ----------
    periods : pandas.DataFrame
        Per reporting period: ``actual``, ``adjusted_baseline``, ``non_routine_adjustment``, ``avoided_energy``,
        ``cumulative_avoided_energy`` [kWh] and ``enpi_regression`` (actual / adjusted baseline) [unitless].
    adjusted_baseline_kwh, non_routine_kwh, actual_kwh, avoided_energy_kwh : float
        Totals [kWh].
    savings_fraction : float
        ``avoided / adjusted baseline`` [unitless].
    uncertainty : SavingsUncertainty
        At the confidence asked.
    fsu_68 : float
        Fractional savings uncertainty at 68 % confidence [unitless].
    excluded : tuple of pandas.Timestamp
        Reporting periods left out (consumption or variables missing).
    """

    periods: pd.DataFrame = field(repr=False)
    adjusted_baseline_kwh: float
    non_routine_kwh: float
    actual_kwh: float
    avoided_energy_kwh: float
    savings_fraction: float
    uncertainty: SavingsUncertainty
    fsu_68: float
    excluded: tuple[pd.Timestamp, ...] = ()

    @property
    def meets_ashrae14(self) -> bool:
        """Positive savings whose uncertainty at 68 % confidence is below 50 % of them (ASHRAE Guideline 14)."""
        return self.avoided_energy_kwh > 0 and self.fsu_68 < ASHRAE14_MAX_FSU

    @property
    def interval_kwh(self) -> tuple[float, float]:
        """Savings ± uncertainty at the confidence asked [kWh]."""
        u = self.uncertainty.absolute_kwh
        return (self.avoided_energy_kwh - u, self.avoided_energy_kwh + u)


def verify_savings(
    model: RegressionBaseline,
    reporting_consumption: pd.Series,
    reporting_drivers: pd.DataFrame | None = None,
    *,
    non_routine_adjustments: pd.Series | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> SavingsReport:
    """Avoided energy over a reporting period, with its ASHRAE Guideline 14 uncertainty.

    Parameters
    ----------
    model : RegressionBaseline
        Baseline fitted on the baseline period (for a change-point model, its ``regression`` with the variables
        from :meth:`~condivisa.energy_management.baseline.ChangePointModel.design`).
    reporting_consumption : pandas.Series
        Measured energy per reporting period [kWh], same period length as the baseline.
    reporting_drivers : pandas.DataFrame, optional
        The model's variables in the reporting periods (needed unless the model has none).
    non_routine_adjustments : pandas.Series, optional
        Per period, added to the adjusted baseline [kWh]; periods not listed get 0.
    confidence : float, default 0.90
        Confidence of the reported uncertainty.

    Returns
    -------
    SavingsReport
    """
    actual = reporting_consumption.astype(float)
    if actual.index.has_duplicates:
        raise ValueError("consumi del periodo di rendicontazione: periodi ripetuti")
    drivers = None if reporting_drivers is None else reporting_drivers.reindex(actual.index)
    expected = model.predict(drivers, index=actual.index)
    nra = pd.Series(0.0, index=actual.index)
    if non_routine_adjustments is not None:
        unknown = non_routine_adjustments.index.difference(actual.index)
        if len(unknown):
            raise ValueError(f"aggiustamenti non di routine per periodi fuori dalla rendicontazione: {list(unknown)}")
        nra = non_routine_adjustments.reindex(actual.index).astype(float).fillna(0.0)
    ok = actual.notna() & expected.notna()
    excluded = tuple(pd.Timestamp(t) for t in actual.index[~ok.to_numpy()])
    actual, expected, nra = actual[ok], expected[ok], nra[ok]
    if actual.empty:
        raise ValueError("nessun periodo di rendicontazione con consumi e variabili")
    avoided = expected + nra - actual
    with np.errstate(divide="ignore", invalid="ignore"):
        enpi = actual / expected.where(expected > 0)
    periods = pd.DataFrame(
        {
            "actual": actual,
            "adjusted_baseline": expected,
            "non_routine_adjustment": nra,
            "avoided_energy": avoided,
            "cumulative_avoided_energy": avoided.cumsum(),
            "enpi_regression": enpi,
        }
    )
    e_base = float(expected.sum())
    s = float(avoided.sum())
    m = len(actual)
    unc = savings_uncertainty(model, m, e_base, s, confidence)
    fsu_68 = savings_uncertainty(model, m, e_base, s, ASHRAE14_CONFIDENCE).fractional
    return SavingsReport(
        periods=periods,
        adjusted_baseline_kwh=e_base,
        non_routine_kwh=float(nra.sum()),
        actual_kwh=float(actual.sum()),
        avoided_energy_kwh=s,
        savings_fraction=s / e_base if e_base != 0 else math.nan,
        uncertainty=unc,
        fsu_68=fsu_68,
        excluded=excluded,
    )


@dataclass(frozen=True)
class NormalizedSavings:
    """Savings under standard conditions (IPMVP normalised savings).

    Attributes
    ----------
    baseline_kwh, reporting_kwh : float
        Each model's energy under the standard conditions [kWh].
    savings_kwh : float
        ``baseline_kwh - reporting_kwh`` [kWh].
    savings_fraction : float
        ``savings / baseline`` [unitless].
    uncertainty_kwh : float
        ± at the confidence asked, both models' uncertainties in quadrature [kWh].
    confidence : float
    """

    baseline_kwh: float
    reporting_kwh: float
    savings_kwh: float
    savings_fraction: float
    uncertainty_kwh: float
    confidence: float

    @property
    def fractional_uncertainty(self) -> float:
        """``uncertainty / |savings|``; NaN for zero savings."""
        return self.uncertainty_kwh / abs(self.savings_kwh) if self.savings_kwh != 0 else math.nan


def normalized_savings(
    baseline: RegressionBaseline,
    reporting: RegressionBaseline,
    standard_drivers: pd.DataFrame,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> NormalizedSavings:
    """Savings under standard conditions from a baseline model and a reporting-period model.

    Parameters
    ----------
    baseline, reporting : RegressionBaseline
        Models fitted on the baseline and on the reporting period.
    standard_drivers : pandas.DataFrame
        Standard conditions per period (typical-year degree days, nominal activity): the variables of both models.
    confidence : float, default 0.90
    """
    m = len(standard_drivers)
    if m == 0:
        raise ValueError("condizioni standard vuote")
    e_b = float(baseline.predict(standard_drivers).sum())
    e_r = float(reporting.predict(standard_drivers).sum())
    if not (math.isfinite(e_b) and math.isfinite(e_r)):
        raise ValueError("condizioni standard con valori mancanti")
    s = e_b - e_r
    u_b = savings_uncertainty(baseline, m, e_b, s, confidence).absolute_kwh
    u_r = savings_uncertainty(reporting, m, e_r, s, confidence).absolute_kwh
    return NormalizedSavings(
        baseline_kwh=e_b,
        reporting_kwh=e_r,
        savings_kwh=s,
        savings_fraction=s / e_b if e_b != 0 else math.nan,
        uncertainty_kwh=math.hypot(u_b, u_r),
        confidence=confidence,
    )
