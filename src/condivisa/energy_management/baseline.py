"""Energy baseline (EnB) and energy performance indicators (EnPI), ISO 50006 / IPMVP Option C style.

Regression baseline
    :func:`fit_baseline` fits by ordinary least squares the consumption of each period (hour, day, week or month)
    on its relevant variables (heating and cooling degree days, production units, occupancy, opening days...):

    .. math:: E_t = \\beta_0 + \\sum_j \\beta_j x_{j,t} + \\varepsilon_t

    with ``n`` periods and ``p`` parameters (intercept included). Statistics, as ASHRAE Guideline 14-2014
    defines them (clause 3 and Annex B):

    - :math:`R^2 = 1 - SSE/SST` and the adjusted :math:`R^2`;
    - :math:`RMSE = \\sqrt{SSE/(n-p)}`, :math:`CV(RMSE) = 100 \\cdot RMSE/\\bar E` [%];
    - :math:`NMBE = 100 \\cdot \\sum_t (E_t - \\hat E_t) / ((n-p)\\,\\bar E)` [%] (0 for OLS with an intercept on
      the fitting data; it matters for a model applied to other data);
    - standard errors from :math:`\\hat\\sigma^2 (X^T X)^{-1}`, t-statistics :math:`\\beta_j / se_j` and two-sided
      p-values from Student's t with ``n - p`` degrees of freedom (scipy);
    - lag-1 autocorrelation of the residuals :math:`\\rho = \\sum_t e_t e_{t-1} / \\sum_t e_t^2`, used by the
      savings uncertainty (:mod:`condivisa.energy_management.savings`).

Acceptance (:func:`check_acceptance`)
    ASHRAE Guideline 14-2014, in its calibration criteria for simulation models, accepts a model with NMBE
    within ±5 % and CV(RMSE) <= 15 % against monthly data, ±10 % and 30 % against hourly data
    (:data:`ASHRAE14_MONTHLY`, :data:`ASHRAE14_HOURLY`); these limits are widely applied to regression baselines
    too, and we use them as such (daily and weekly models are checked against the hourly limits: our choice,
    Guideline 14 gives none for them). Guideline 14's whole-building path also asks that the savings uncertainty
    be below 50 % of the savings at 68 % confidence
    (checked in :mod:`~condivisa.energy_management.savings`). Two further rules of thumb: every variable
    significant, :math:`|t| \\ge 2` (IPMVP, Uncertainty appendix), and :math:`R^2 \\ge 0.75` (IPMVP: "a
    reasonable indicator of a good causal relationship"). A failed check is reported, not raised.

Change-point heating model (:func:`fit_change_point_heating`)
    The 3-parameter heating model (3PH) of ASHRAE RP-1050 (Kissock, Haberl, Claridge, *Inverse Modeling
    Toolkit: Numerical Algorithms*, ASHRAE Transactions 109(2), 2003):
    :math:`E = \\beta_0 + \\beta_1 \\max(0, T_b - T)`, with the balance temperature :math:`T_b` searched over a grid
    for the least squared error. On daily data ``T`` is the daily mean temperature; on weekly or monthly data the
    variable is the sum of the period's daily :math:`\\max(0, T_b - T_d)`, i.e. heating degree days with a variable
    base (PRISM, Fels, Energy and Buildings 9, 1986). Other variables (activity) may enter the same regression.

EnPI (ISO 50006:2014 clause 4.4)
    - measured value: the energy of the period (:func:`enpi_measured`);
    - ratio of measured values: energy per unit of activity, kWh/unit (:func:`enpi_ratio`);
    - statistical model: actual / expected energy from the baseline model (:func:`enpi_regression`); 1 is the
      baseline performance, below 1 is better.

    :func:`energy_performance_improvement` turns a baseline and a reporting EnPI into the relative improvement.

Pure computation: no files, no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from condivisa.energy_management.degree_days import (
    PERIOD_DAY,
    PERIOD_MONTH,
    PERIODS,
    degree_days_by_period,
    period_starts,
)

INTERCEPT = "intercept"
PERIOD_HOUR = "hour"
MODEL_PERIODS = (PERIOD_HOUR, *PERIODS)
CHANGE_POINT_VARIABLE = "hdd_balance"
"""Name of the heating variable ``max(0, Tb - T)`` (summed over the period) in a change-point model."""


@dataclass(frozen=True)
class AcceptanceCriteria:
    """Limits a baseline model must meet (percentages in percent).

    Parameters
    ----------
    max_cv_rmse_pct : float
        Largest CV(RMSE) [%].
    max_abs_nmbe_pct : float
        Largest |NMBE| [%].
    min_r2 : float
        Smallest R² [unitless].
    min_abs_t : float
        Smallest |t| of each variable's coefficient (the intercept is not checked) [unitless].
    source : str
        Where the limits come from.
    """

    max_cv_rmse_pct: float
    max_abs_nmbe_pct: float
    min_r2: float = 0.75
    min_abs_t: float = 2.0
    source: str = ""


ASHRAE14_MONTHLY = AcceptanceCriteria(
    15.0, 5.0, source="ASHRAE Guideline 14-2014 calibration criteria (monthly data); IPMVP |t| >= 2, R² >= 0.75"
)
ASHRAE14_HOURLY = AcceptanceCriteria(
    30.0, 10.0, source="ASHRAE Guideline 14-2014 calibration criteria (hourly data); IPMVP |t| >= 2, R² >= 0.75"
)


def criteria_for_period(period: str) -> AcceptanceCriteria:
    """The acceptance limits used for a model period: monthly limits for months, hourly limits otherwise."""
    if period not in MODEL_PERIODS:
        raise ValueError(f"periodo {period!r} non valido; servono {', '.join(MODEL_PERIODS)}")
    return ASHRAE14_MONTHLY if period == PERIOD_MONTH else ASHRAE14_HOURLY


@dataclass(frozen=True)
class RegressionBaseline:
    """A fitted linear energy baseline: coefficients and fit statistics.

    Attributes
    ----------
    variables : tuple of str
        The relevant variables, in order (the intercept is apart).
    coefficients, std_errors, t_stats, p_values : dict
        Per parameter, ``"intercept"`` first; coefficients in kWh (intercept) and kWh per unit of variable.
    n : int
        Periods fitted.
    n_params : int
        Parameters, intercept included (``p``).
    r2, adj_r2 : float
        Coefficient of determination and its adjusted value [unitless].
    rmse : float
        ``sqrt(SSE / (n - p))`` [kWh per period].
    cv_rmse_pct, nmbe_pct : float
        ASHRAE 14 CV(RMSE) and NMBE [%].
    mean_consumption : float
        Mean energy per period over the fitting data [kWh].
    autocorrelation : float
        Lag-1 autocorrelation of the residuals [unitless].
    period : str
        "hour", "day", "week" or "month".
    fitted, residuals : pandas.Series
        Model values and actual - model over the fitting periods [kWh].
    excluded : tuple of pandas.Timestamp
        Periods left out because the consumption or a variable was missing.
    """

    variables: tuple[str, ...]
    coefficients: Mapping[str, float]
    std_errors: Mapping[str, float]
    t_stats: Mapping[str, float]
    p_values: Mapping[str, float]
    n: int
    n_params: int
    r2: float
    adj_r2: float
    rmse: float
    cv_rmse_pct: float
    nmbe_pct: float
    mean_consumption: float
    autocorrelation: float
    period: str
    fitted: pd.Series = field(repr=False)
    residuals: pd.Series = field(repr=False)
    excluded: tuple[pd.Timestamp, ...] = ()

    @property
    def dof(self) -> int:
        """Residual degrees of freedom ``n - p``."""
        return self.n - self.n_params

    def predict(self, drivers: pd.DataFrame | None = None, index: pd.Index | None = None) -> pd.Series:
        """Expected energy per period for given values of the variables [kWh].

        Parameters
        ----------
        drivers : pandas.DataFrame, optional
            One column per variable of the model (others are ignored); needed unless the model has none.
        index : pandas.Index, optional
            Periods to predict when the model has no variable (else the index of ``drivers``).
        """
        if drivers is None:
            if self.variables:
                raise ValueError(f"servono i valori delle variabili {', '.join(self.variables)}")
            if index is None:
                raise ValueError("senza variabili serve l'indice dei periodi da stimare")
            return pd.Series(self.coefficients[INTERCEPT], index=index, dtype=float, name="expected")
        missing = [v for v in self.variables if v not in drivers.columns]
        if missing:
            raise ValueError(f"mancano le variabili {', '.join(missing)} del modello di baseline")
        x = drivers.loc[:, list(self.variables)].to_numpy(dtype=float)
        beta = np.array([self.coefficients[v] for v in self.variables], dtype=float)
        values = self.coefficients[INTERCEPT] + x @ beta
        return pd.Series(values, index=drivers.index, name="expected")


def _autocorrelation(e: np.ndarray) -> float:
    denom = float(e @ e)
    if len(e) < 2 or denom <= 0.0:
        return 0.0
    return float(e[1:] @ e[:-1]) / denom


def _align(consumption: pd.Series, drivers: pd.DataFrame | None) -> tuple[pd.Series, pd.DataFrame]:
    if drivers is None:
        drivers = pd.DataFrame(index=consumption.index)
    if INTERCEPT in drivers.columns:
        raise ValueError(f"una variabile non può chiamarsi {INTERCEPT!r}")
    if consumption.index.has_duplicates:
        raise ValueError("consumi: periodi ripetuti nell'indice")
    return consumption.astype(float), drivers.reindex(consumption.index).astype(float)


def fit_baseline(
    consumption: pd.Series, drivers: pd.DataFrame | None = None, *, period: str = PERIOD_MONTH
) -> RegressionBaseline:
    """Fit a linear energy baseline by ordinary least squares (module docstring for the statistics).

    Parameters
    ----------
    consumption : pandas.Series
        Energy per period [kWh], indexed by period.
    drivers : pandas.DataFrame, optional
        Relevant variables per period (columns), aligned on the index of ``consumption``; none gives the
        mean-consumption model.
    period : {"hour", "day", "week", "month"}
        Length of the periods (chooses the acceptance limits).

    Returns
    -------
    RegressionBaseline

    Raises
    ------
    ValueError
        Too few periods (need more than the parameters), or variables that are constant together with the
        intercept or linearly dependent.
    """
    if period not in MODEL_PERIODS:
        raise ValueError(f"periodo {period!r} non valido; servono {', '.join(MODEL_PERIODS)}")
    y_s, x_df = _align(consumption, drivers)
    ok = y_s.notna() & x_df.notna().all(axis=1)
    excluded = tuple(pd.Timestamp(t) for t in y_s.index[~ok.to_numpy()])
    y_s, x_df = y_s[ok], x_df[ok]
    variables = tuple(str(c) for c in x_df.columns)
    y = y_s.to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(y)), x_df.to_numpy(dtype=float)])
    n, p = x.shape
    if n <= p:
        raise ValueError(f"baseline: {n} periodi validi per {p} parametri; servono più periodi che parametri")
    if np.linalg.matrix_rank(x) < p:
        raise ValueError(
            "baseline: variabili costanti o linearmente dipendenti tra loro ("
            + ", ".join(variables)
            + "); toglierne una"
        )
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    fitted = x @ beta
    e = y - fitted
    sse = float(e @ e)
    ybar = float(y.mean())
    sst = float(((y - ybar) ** 2).sum())
    dof = n - p
    r2 = 1.0 - sse / sst if sst > 0 else math.nan
    adj_r2 = 1.0 - (1.0 - r2) * (n - 1) / dof if sst > 0 else math.nan
    sigma2 = sse / dof
    rmse = math.sqrt(sigma2)
    cv = 100.0 * rmse / ybar if ybar != 0 else math.nan
    nmbe = 100.0 * float(e.sum()) / (dof * ybar) if ybar != 0 else math.nan
    cov = sigma2 * np.linalg.inv(x.T @ x)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, beta / np.where(se > 0, se, 1.0), np.copysign(np.inf, beta))
        t = np.where((se == 0) & (beta == 0), 0.0, t)
    pv = 2.0 * stats.t.sf(np.abs(t), dof)
    names = (INTERCEPT, *variables)
    return RegressionBaseline(
        variables=variables,
        coefficients=dict(zip(names, (float(b) for b in beta), strict=True)),
        std_errors=dict(zip(names, (float(s) for s in se), strict=True)),
        t_stats=dict(zip(names, (float(v) for v in t), strict=True)),
        p_values=dict(zip(names, (float(v) for v in pv), strict=True)),
        n=n,
        n_params=p,
        r2=r2,
        adj_r2=adj_r2,
        rmse=rmse,
        cv_rmse_pct=cv,
        nmbe_pct=nmbe,
        mean_consumption=ybar,
        autocorrelation=_autocorrelation(e),
        period=period,
        fitted=pd.Series(fitted, index=y_s.index, name="fitted"),
        residuals=pd.Series(e, index=y_s.index, name="residual"),
        excluded=excluded,
    )


@dataclass(frozen=True)
class AcceptanceCheck:
    """Outcome of :func:`check_acceptance`: each test, and the failures in words."""

    criteria: AcceptanceCriteria
    cv_rmse_ok: bool
    nmbe_ok: bool
    r2_ok: bool
    coefficients_ok: bool
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """All tests passed."""
        return not self.failures


def check_acceptance(model: RegressionBaseline, criteria: AcceptanceCriteria | None = None) -> AcceptanceCheck:
    """Check a baseline against acceptance limits (default: :func:`criteria_for_period` of its period)."""
    c = criteria_for_period(model.period) if criteria is None else criteria
    failures: list[str] = []
    cv_ok = bool(model.cv_rmse_pct <= c.max_cv_rmse_pct)
    if not cv_ok:
        failures.append(f"CV(RMSE) {model.cv_rmse_pct:.1f}% oltre il limite {c.max_cv_rmse_pct:g}%")
    nmbe_ok = bool(abs(model.nmbe_pct) <= c.max_abs_nmbe_pct)
    if not nmbe_ok:
        failures.append(f"NMBE {model.nmbe_pct:.1f}% oltre il limite ±{c.max_abs_nmbe_pct:g}%")
    r2_ok = bool(model.r2 >= c.min_r2)
    if not r2_ok:
        failures.append(f"R² {model.r2:.3f} sotto {c.min_r2:g}")
    weak = [v for v in model.variables if not abs(model.t_stats[v]) >= c.min_abs_t]
    for v in weak:
        failures.append(f"variabile {v}: |t| = {abs(model.t_stats[v]):.2f} sotto {c.min_abs_t:g}")
    return AcceptanceCheck(c, cv_ok, nmbe_ok, r2_ok, not weak, tuple(failures))


# --- change-point model ---------------------------------------------------------------------------------------


def _check_daily(temperature: pd.Series) -> pd.Series:
    idx = temperature.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        raise ValueError("temperatura giornaliera: serve un DatetimeIndex con fuso orario")
    days = period_starts(idx, PERIOD_DAY)
    if days.has_duplicates:
        raise ValueError("temperatura giornaliera: più valori per lo stesso giorno; usare daily_mean_temperature")
    return pd.Series(np.asarray(temperature, dtype=float), index=days)


def balance_degree_days(
    temperature: pd.Series, balance_temperature: float, index: pd.DatetimeIndex, period: str
) -> pd.Series:
    """Sum over each period of ``max(0, Tb - T_d)`` from daily mean temperatures [K·day].

    Parameters
    ----------
    temperature : pandas.Series
        Daily mean temperature [°C] per local day
        (:func:`~condivisa.energy_management.degree_days.daily_mean_temperature`).
    balance_temperature : float
        Tb [°C].
    index : pandas.DatetimeIndex
        The periods wanted (timezone-aware; any timestamp inside a period names it).
    period : {"day", "week", "month"}

    Returns
    -------
    pandas.Series
        Indexed by ``index``; NaN for a period with a missing day (NaN or outside the data).
    """
    daily = _check_daily(temperature)
    hdd = (balance_temperature - daily).clip(lower=0.0)
    by_period = degree_days_by_period(hdd, period, max_missing_days=0)
    wanted = period_starts(index, period)
    return pd.Series(by_period.reindex(wanted).to_numpy(dtype=float), index=index, name=CHANGE_POINT_VARIABLE)


@dataclass(frozen=True)
class ChangePointModel:
    """A fitted 3-parameter heating change-point model (3PH), possibly with other variables.

    Attributes
    ----------
    balance_temperature : float
        Tb found [°C].
    regression : RegressionBaseline
        The regression at Tb, variable :data:`CHANGE_POINT_VARIABLE` plus the other variables.
    grid : tuple of float
        Tb values tried [°C].
    sse : tuple of float
        Sum of squared errors at each Tb (NaN where the model could not be fitted) [kWh²].
    """

    balance_temperature: float
    regression: RegressionBaseline
    grid: tuple[float, ...]
    sse: tuple[float, ...]

    @property
    def base_load(self) -> float:
        """Energy per period with no heating (the intercept) [kWh]."""
        return self.regression.coefficients[INTERCEPT]

    @property
    def heating_slope(self) -> float:
        """Energy per degree day below Tb [kWh/(K·day)]."""
        return self.regression.coefficients[CHANGE_POINT_VARIABLE]

    def design(
        self, temperature: pd.Series, index: pd.DatetimeIndex, drivers: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """The variables of :attr:`regression` for given periods: the heating variable at Tb and ``drivers``."""
        return _design(temperature, self.balance_temperature, index, self.regression.period, drivers)

    def predict(
        self, temperature: pd.Series, index: pd.DatetimeIndex, drivers: pd.DataFrame | None = None
    ) -> pd.Series:
        """Expected energy for the periods ``index`` under the given daily temperatures (and variables) [kWh]."""
        return self.regression.predict(self.design(temperature, index, drivers))


def _design(
    temperature: pd.Series,
    balance_temperature: float,
    index: pd.DatetimeIndex,
    period: str,
    drivers: pd.DataFrame | None,
) -> pd.DataFrame:
    hdd = balance_degree_days(temperature, balance_temperature, index, period)
    frame = pd.DataFrame({CHANGE_POINT_VARIABLE: hdd}, index=index)
    if drivers is not None:
        if CHANGE_POINT_VARIABLE in drivers.columns:
            raise ValueError(f"una variabile non può chiamarsi {CHANGE_POINT_VARIABLE!r}")
        frame = frame.join(drivers.reindex(index))
    return frame


def fit_change_point_heating(
    consumption: pd.Series,
    temperature: pd.Series,
    *,
    period: str = PERIOD_DAY,
    drivers: pd.DataFrame | None = None,
    balance_grid: Sequence[float] | None = None,
) -> ChangePointModel:
    """Fit the 3-parameter heating change-point model, searching the balance temperature over a grid.

    Parameters
    ----------
    consumption : pandas.Series
        Energy per period [kWh], timezone-aware index naming the periods (local midnights for days, Mondays for
        weeks, first days for months).
    temperature : pandas.Series
        Daily mean outdoor temperature [°C] per local day.
    period : {"day", "week", "month"}
    drivers : pandas.DataFrame, optional
        Other variables per period (activity), aligned on ``consumption``.
    balance_grid : sequence of float, optional
        Tb candidates [°C]; default 8 to 24 °C by 0.5 °C.

    Returns
    -------
    ChangePointModel
        At the Tb with the least squared error (the lowest such Tb on ties).
    """
    if period not in PERIODS:
        raise ValueError(f"periodo {period!r} non valido per il modello a punto di cambio; servono {PERIODS}")
    index = consumption.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("consumi: serve un DatetimeIndex con fuso orario")
    grid = tuple(float(v) for v in (np.arange(8.0, 24.0001, 0.5) if balance_grid is None else balance_grid))
    if not grid:
        raise ValueError("griglia delle temperature di bilanciamento vuota")
    best: tuple[float, float, RegressionBaseline] | None = None
    sse: list[float] = []
    for tb in grid:
        frame = _design(temperature, tb, index, period, drivers)
        try:
            model = fit_baseline(consumption, frame, period=period)
        except ValueError:
            sse.append(math.nan)
            continue
        e = model.residuals.to_numpy(dtype=float)
        s = float(e @ e)
        sse.append(s)
        if best is None or s < best[1] - 1e-9 * max(1.0, best[1]):
            best = (tb, s, model)
    if best is None:
        raise ValueError(
            "modello a punto di cambio: nessuna temperatura della griglia dà una variabile di riscaldamento utile"
        )
    return ChangePointModel(best[0], best[2], grid, tuple(sse))


# --- EnPI ------------------------------------------------------------------------------------------------------


def enpi_measured(consumption: pd.Series) -> pd.Series:
    """EnPI as measured energy value per period [kWh] (ISO 50006 4.4.3 a)."""
    return consumption.astype(float).rename("enpi_measured")


def enpi_ratio(consumption: pd.Series, activity: pd.Series) -> pd.Series:
    """EnPI as ratio of measured values: energy per unit of activity [kWh/unit] (ISO 50006 4.4.3 b).

    Periods with zero or missing activity give NaN.
    """
    act = activity.reindex(consumption.index).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = consumption.astype(float) / act.where(act != 0)
    return ratio.rename("enpi_ratio")


def enpi_regression(consumption: pd.Series, expected: pd.Series) -> pd.Series:
    """EnPI from a statistical model: actual / expected energy per period [unitless] (ISO 50006 4.4.3 c).

    ``expected`` is the baseline model applied to the period's conditions (:meth:`RegressionBaseline.predict`);
    1 is baseline performance, below 1 better. Periods with expected energy <= 0 give NaN.
    """
    exp = expected.reindex(consumption.index).astype(float)
    return (consumption.astype(float) / exp.where(exp > 0)).rename("enpi_regression")


def energy_performance_improvement(enpi_baseline: float, enpi_reporting: float) -> float:
    """Relative energy performance improvement ``(EnPI_base - EnPI_rep) / EnPI_base`` [unitless].

    For indicators where lower is better (energy, kWh/unit, actual/expected); positive is an improvement
    (ISO 50006 clause 6, comparison of EnPI values).
    """
    if enpi_baseline == 0 or not math.isfinite(enpi_baseline):
        raise ValueError(f"EnPI di riferimento non utilizzabile: {enpi_baseline}")
    return (enpi_baseline - enpi_reporting) / enpi_baseline
