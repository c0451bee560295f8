"""Tariffa incentivante premio (TIP) of a plant, hour by hour.

.. math::

    TIP_{jh} = \\left(\\min(CAP_j,\\; BASE_j + \\max(0, 180 - P_{z,h})) + FC_j\\right)(1 - F_j)

with the power class of the single plant j giving BASE and CAP, FC the geographic correction (PV only) and F the
reduction for capital grants. See ``data/tip.toml`` for the figures and their sources.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from condivisa.rules.rulebook import PowerClass, Rulebook, canonical_region, load_rulebook

FloatArray = npt.NDArray[np.float64]


def power_class(power_kw: float, rulebook: Rulebook | None = None) -> PowerClass:
    """TIP class of a single plant by its power [kW].

    Raises
    ------
    ValueError
        If the power is not positive or exceeds the largest class (1 MW).
    """
    rb = rulebook or load_rulebook()
    if not power_kw > 0:
        raise ValueError(f"potenza dell'impianto non positiva: {power_kw} kW")
    for cls in rb.classes:
        if power_kw <= cls.max_power_kw:
            return cls
    raise ValueError(
        f"impianto di {power_kw:g} kW oltre il limite di {rb.max_plant_power_kw:g} kW: non ammesso agli incentivi"
    )


def geographic_correction(technology: str, region: str, rulebook: Rulebook | None = None) -> float:
    """FC [€/MWh]: +4 centre, +10 north, for PV only; 0 otherwise."""
    rb = rulebook or load_rulebook()
    if technology not in rb.fc_technologies:
        return 0.0
    canon = canonical_region(region, rb)
    return rb.fc_eur_mwh.get(canon or "", 0.0)


def power_class_limits(power_kw: npt.ArrayLike, rulebook: Rulebook | None = None) -> FloatArray:
    """Upper limit [kW] of the TIP class of each plant power, vectorised (see :func:`power_class`)."""
    rb = rulebook or load_rulebook()
    power = np.asarray(power_kw, dtype=np.float64)
    limits = np.array([c.max_power_kw for c in rb.classes])
    if np.any(power <= 0) or np.any(power > limits[-1]):
        bad = power[(power <= 0) | (power > limits[-1])][0]
        power_class(float(bad), rb)  # raises with the message
    return np.asarray(limits[np.searchsorted(limits, power, side="left")], dtype=np.float64)


def grant_reduction(grant_share: float, rulebook: Rulebook | None = None) -> float:
    """Reduction F of the TIP for a capital grant covering ``grant_share`` of the cost [unitless, 0..0.5].

    F grows linearly from 0 (no grant) to 0.5 at the maximum grant share (40 %).

    Raises
    ------
    ValueError
        If the share is negative or above the maximum grant share.
    """
    rb = rulebook or load_rulebook()
    if grant_share < 0 or grant_share > rb.max_grant_share + 1e-12:
        raise ValueError(f"quota di contributo {grant_share} fuori dall'intervallo 0 .. {rb.max_grant_share}")
    return rb.reduction_at_max_grant * grant_share / rb.max_grant_share


def tip_eur_mwh(
    power_kw: float,
    price_eur_mwh: npt.ArrayLike,
    *,
    fc_eur_mwh: float = 0.0,
    reduction: float = 0.0,
    rulebook: Rulebook | None = None,
) -> FloatArray:
    """TIP of one plant for each hourly zonal price.

    Parameters
    ----------
    power_kw : float
        Power of the single plant [kW]; selects the class.
    price_eur_mwh : array_like
        Hourly zonal price Pz [€/MWh].
    fc_eur_mwh : float
        Geographic correction FC [€/MWh], added outside the cap.
    reduction : float
        Grant reduction F [unitless], applied to the whole (capped tariff + FC).

    Returns
    -------
    numpy.ndarray
        TIP [€/MWh], same shape as ``price_eur_mwh``.

    Examples
    --------
    >>> float(tip_eur_mwh(100, 150.0, fc_eur_mwh=10))
    120.0
    """
    rb = rulebook or load_rulebook()
    cls = power_class(power_kw, rb)
    pz = np.asarray(price_eur_mwh, dtype=np.float64)
    variable = np.maximum(0.0, rb.price_reference_eur_mwh - pz)
    return (np.minimum(cls.cap_eur_mwh, cls.base_eur_mwh + variable) + fc_eur_mwh) * (1.0 - reduction)
