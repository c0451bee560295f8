"""Micro-hydro run-of-river production: a monthly flow regime through a turbine of given power.

The model is deliberately simple and every parameter is explicit:

.. math:: P_h = \\min\\left(P_{nom},\\ \\rho\\, g\\, Q_h\\, H\\, \\eta\\right),
          \\qquad Q_h = f_{m(h)}\\, Q_d

and :math:`P_h = 0` when :math:`f_{m(h)} < f_{min}` (the turbine stops below its minimum flow). The hour's
energy is :math:`P_h \\times 1\\,\\mathrm{h}`. :math:`f_m` is the flow available to the turbine in month
:math:`m` (net of the residual flow left in the river, the *deflusso minimo vitale*), as a fraction of the design
flow :math:`Q_d`. Flow varies within a month (storms, the daily snowmelt cycle) and efficiency at part load; the
model keeps a monthly step and a constant water-to-wire efficiency, fit for a first estimate of a community's
energy, not for sizing a turbine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

RHO_WATER = 1000.0
"""Density of water [kg/m³]."""

G = 9.81
"""Gravitational acceleration [m/s²]."""

ALPINE_MONTHLY_FLOW_FACTOR: tuple[float, ...] = (
    0.25,  # January: winter low flow, precipitation stored as snow
    0.22,  # February: lowest
    0.30,  # March
    0.60,  # April: melt begins
    1.20,  # May: snowmelt
    1.40,  # June: snowmelt peak
    1.00,  # July
    0.65,  # August
    0.55,  # September
    0.60,  # October: autumn rain
    0.50,  # November
    0.32,  # December
)
"""Default flow available to the turbine, January to December, as a fraction of the design flow [unitless].

Illustrative nivo-pluvial Alpine regime (winter low flow, May-June snowmelt peak, secondary autumn rise), with the
design flow about 1.3 times the mean available flow, a common choice for run-of-river plants. It is a shape, not
the measured data of any river: replace it with the site's monthly flows (regional hydrological annals, the
concession's studies). With it and the default minimum flow the capacity factor is about 0.58.
"""


def _check_factors(monthly_flow_factor: Sequence[float]) -> np.ndarray:
    factors = np.asarray(monthly_flow_factor, dtype=float)
    if factors.shape != (12,):
        raise ValueError(f"monthly_flow_factor: attesi 12 valori (gennaio..dicembre), trovati {factors.size}")
    if not np.isfinite(factors).all() or (factors < 0).any():
        raise ValueError(f"monthly_flow_factor: attesi valori finiti e non negativi, trovati {factors.tolist()}")
    return factors


def _capacity_factor(relative_power: np.ndarray, month_hours: np.ndarray) -> float:
    return float((relative_power * month_hours).sum() / month_hours.sum())


def _relative_power(
    factors: np.ndarray, hydraulic_ratio: float, min_flow_fraction: float, power_kw: float
) -> np.ndarray:
    """Monthly output as a fraction of nominal power [unitless]."""
    relative = np.minimum(1.0, factors * hydraulic_ratio / power_kw)
    return np.where(factors >= min_flow_fraction, relative, 0.0)


def _scale_to_capacity_factor(
    factors: np.ndarray,
    target: float,
    month_hours: np.ndarray,
    hydraulic_ratio: float,
    min_flow_fraction: float,
    power_kw: float,
) -> np.ndarray:
    """Smallest uniform scaling of the factors whose capacity factor reaches ``target`` (bisection)."""
    if not (factors > 0).any():
        raise ValueError("capacity_factor: con monthly_flow_factor tutti nulli nessun obiettivo è raggiungibile")

    def cf(k: float) -> float:
        return _capacity_factor(_relative_power(factors * k, hydraulic_ratio, min_flow_fraction, power_kw), month_hours)

    active = month_hours[factors > 0].sum() / month_hours.sum()
    if target >= active:
        raise ValueError(
            f"capacity_factor: {target} non raggiungibile, i mesi con portata coprono solo il {active:.1%} delle ore"
        )
    low, high = 0.0, 1.0
    while cf(high) < target:
        high *= 2.0
    for _ in range(100):
        mid = 0.5 * (low + high)
        if cf(mid) < target:
            low = mid
        else:
            high = mid
    return factors * high


def hydro_hourly_kwh(
    power_kw: float,
    hours_utc: pd.DatetimeIndex,
    *,
    monthly_flow_factor: Sequence[float] = ALPINE_MONTHLY_FLOW_FACTOR,
    efficiency: float = 0.80,
    head_m: float | None = None,
    design_flow_m3s: float | None = None,
    min_flow_fraction: float = 0.15,
    capacity_factor: float | None = None,
) -> pd.Series:
    """Energy of a run-of-river micro-hydro plant in each hour [kWh].

    Parameters
    ----------
    power_kw : float
        Nominal electrical power :math:`P_{nom}` [kW].
    hours_utc : pandas.DatetimeIndex
        Hour-start stamps, timezone-aware; the month is taken in UTC (a month boundary moves by one or two hours
        against Italian time, immaterial at this resolution).
    monthly_flow_factor : sequence of 12 float, default :data:`ALPINE_MONTHLY_FLOW_FACTOR`
        Flow available to the turbine in each month, January first, as a fraction of the design flow
        :math:`f_m = Q_m / Q_d` [unitless].
    efficiency : float, default 0.80
        Water-to-wire efficiency :math:`\\eta` (turbine, generator, transformer; 0.75-0.85 for small
        Pelton, Francis and Kaplan units at design flow) [unitless].
    head_m : float, optional
        Net head :math:`H` [m]. Give it together with ``design_flow_m3s`` to state the hydraulics; without both,
        the plant is taken as sized so that the design flow gives nominal power,
        :math:`\\rho g Q_d H \\eta = P_{nom}`, and the output is :math:`P_{nom} \\min(1, f_m)`.
    design_flow_m3s : float, optional
        Design flow :math:`Q_d` [m³/s]; see ``head_m``.
    min_flow_fraction : float, default 0.15
        Minimum flow as a fraction of design flow, below which the turbine stops :math:`f_{min}`: about 0.1 for
        Pelton, 0.15-0.2 for cross-flow and Kaplan, 0.3-0.4 for Francis [unitless].
    capacity_factor : float, optional
        Target capacity factor over ``hours_utc``, in (0, 1) [unitless]: the monthly factors are scaled by one
        common number, found by bisection, so that the mean output over these hours is this fraction of
        nominal power. Reached from above: where months switch on as their scaled flow crosses
        ``min_flow_fraction``, the result may overshoot by ``min_flow_fraction`` × their share of the hours.

    Returns
    -------
    pandas.Series
        ``hydro_kwh``, indexed by ``hours_utc``; never above ``power_kw`` × 1 h.

    Raises
    ------
    ValueError
        A parameter out of range, named in the message.
    """
    if not (np.isfinite(power_kw) and power_kw > 0):
        raise ValueError(f"power_kw: potenza nominale non positiva: {power_kw} kW")
    if not (np.isfinite(efficiency) and 0 < efficiency <= 1):
        raise ValueError(f"efficiency: {efficiency} fuori da (0, 1]")
    if not (np.isfinite(min_flow_fraction) and 0 <= min_flow_fraction < 1):
        raise ValueError(f"min_flow_fraction: {min_flow_fraction} fuori da [0, 1)")
    factors = _check_factors(monthly_flow_factor)
    if (head_m is None) != (design_flow_m3s is None):
        raise ValueError("head_m, design_flow_m3s: dare entrambi (salto netto e portata di progetto) o nessuno")
    if head_m is not None and design_flow_m3s is not None:
        if not (np.isfinite(head_m) and head_m > 0):
            raise ValueError(f"head_m: salto netto non positivo: {head_m} m")
        if not (np.isfinite(design_flow_m3s) and design_flow_m3s > 0):
            raise ValueError(f"design_flow_m3s: portata di progetto non positiva: {design_flow_m3s} m³/s")
        hydraulic_kw = RHO_WATER * G * design_flow_m3s * head_m * efficiency / 1000.0  # ρ g Q_d H η [kW]
    else:
        hydraulic_kw = power_kw
    if not isinstance(hours_utc, pd.DatetimeIndex) or hours_utc.tz is None:
        raise ValueError("hours_utc: atteso un DatetimeIndex con fuso orario (UTC)")
    months = np.asarray(hours_utc.tz_convert("UTC").month, dtype=np.int64) - 1
    month_hours = np.bincount(months, minlength=12).astype(float)
    if capacity_factor is not None:
        if not (np.isfinite(capacity_factor) and 0 < capacity_factor < 1):
            raise ValueError(f"capacity_factor: {capacity_factor} fuori da (0, 1)")
        if len(hours_utc) == 0:
            raise ValueError("capacity_factor: nessuna ora in hours_utc su cui misurarlo")
        factors = _scale_to_capacity_factor(
            factors, capacity_factor, month_hours, hydraulic_kw, min_flow_fraction, power_kw
        )
    relative = _relative_power(factors, hydraulic_kw, min_flow_fraction, power_kw)
    return pd.Series(power_kw * relative[months], index=hours_utc, name="hydro_kwh")
