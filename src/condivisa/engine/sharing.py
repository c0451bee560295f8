"""The array core of the settlement: shared and incentivised energy, attribution to plants, TIP and valorisation.

Shapes: ``H`` hours, ``P`` member withdrawal points, ``N`` plants, ``C`` cabine primarie. Points must be sorted by
cabina (``point_cabina`` non-decreasing) so that each cabina's points are one contiguous slice; plants must be
given in their queue order (date of entry into operation, then id). Energies in kWh per hour, prices and tariffs
in €/MWh, money in €. No Python loop runs over hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
AnyFloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True)
class EnergyResult:
    """Energy accounting of a configuration, hour by hour.

    Attributes
    ----------
    withdrawn, injected, shared : (H,) arrays [kWh]
        Configuration totals; ``shared`` is the hourly minimum of the two.
    cabina_withdrawn, cabina_injected, cabina_incentivised : (H, C) arrays [kWh]
        Per cabina primaria; ``cabina_incentivised`` is the hourly minimum per cabina (energy that earns the TIP).
    plant_incentivised : (H, N) array [kWh]
        Incentivised energy attributed to each plant, in queue order within its cabina.
    plant_injected : (H, N) array [kWh]
    point_withdrawn, point_shared_withdrawal : (P,) arrays [kWh]
        Withdrawal of each point over the period, and its pro-rata share of its cabina's incentivised energy
        (each hour, in proportion to withdrawal), summed over hours.
    cabina_weighted_withdrawn : (H, C, K) array [kWh]
        Withdrawal weighted by each extra point weight (exempt flag, loss coefficient...), per cabina.
    """

    withdrawn: FloatArray
    injected: FloatArray
    shared: FloatArray
    cabina_withdrawn: FloatArray
    cabina_injected: FloatArray
    cabina_incentivised: FloatArray
    plant_injected: FloatArray
    plant_incentivised: FloatArray
    point_withdrawn: FloatArray
    point_shared_withdrawal: FloatArray
    cabina_weighted_withdrawn: FloatArray

    @property
    def incentivised(self) -> FloatArray:
        """Hourly incentivised energy of the configuration, the sum of per-cabina minima [kWh]."""
        return np.asarray(self.cabina_incentivised.sum(axis=1), dtype=np.float64)


def _cabina_slices(point_cabina: IntArray, n_cabine: int) -> IntArray:
    if point_cabina.size and np.any(np.diff(point_cabina) < 0):
        raise ValueError("points must be sorted by cabina")
    return np.searchsorted(point_cabina, np.arange(n_cabine + 1)).astype(np.intp)


def queue_predecessors(plant_cabina: IntArray) -> FloatArray:
    """Matrix ``B`` (N, N) with ``B[k, j] = 1`` when plant k precedes plant j in the queue of the same cabina."""
    n = plant_cabina.size
    same = plant_cabina[:, None] == plant_cabina[None, :]
    before = np.arange(n)[:, None] < np.arange(n)[None, :]
    return np.asarray(same & before, dtype=np.float64)


def share_energy(
    withdrawn: AnyFloatArray,
    injected: AnyFloatArray,
    point_cabina: IntArray,
    plant_cabina: IntArray,
    n_cabine: int,
    point_weights: AnyFloatArray | None = None,
) -> EnergyResult:
    """Shared and incentivised energy of a configuration.

    Parameters
    ----------
    withdrawn : (H, P) array
        Hourly withdrawal of each member point [kWh], points sorted by cabina.
    injected : (H, N) array
        Hourly injection of each plant [kWh], plants in queue order (earliest entry into operation first).
    point_cabina : (P,) int array
        Cabina index of each point, non-decreasing.
    plant_cabina : (N,) int array
        Cabina index of each plant.
    n_cabine : int
        Number of cabine primarie C.
    point_weights : (P, K) array, optional
        Extra weights of each point (1 for an exempt kind, a loss coefficient...). Their withdrawal-weighted sums
        per cabina come back in ``cabina_weighted_withdrawn``, computed in the same pass over ``withdrawn``.

    Returns
    -------
    EnergyResult
    """
    h, p = withdrawn.shape
    k = 0 if point_weights is None else point_weights.shape[1]
    bounds = _cabina_slices(point_cabina, n_cabine)
    # One pass over W: per-cabina sums and per-cabina weighted sums, as a single matrix product.
    mix = np.zeros((p, n_cabine * (1 + k)), dtype=withdrawn.dtype)
    cols = np.arange(p)
    mix[cols, point_cabina] = 1.0
    for j in range(k):
        assert point_weights is not None
        mix[cols, n_cabine * (1 + j) + point_cabina] = point_weights[:, j]
    sums = np.asarray(withdrawn @ mix, dtype=np.float64)
    cab_w = sums[:, :n_cabine]
    weighted = sums[:, n_cabine:].reshape(h, k, n_cabine).transpose(0, 2, 1)

    inj = np.asarray(injected, dtype=np.float64)
    cab_i = np.zeros((h, n_cabine))
    if inj.shape[1]:
        onehot_plants = np.zeros((inj.shape[1], n_cabine))
        onehot_plants[np.arange(inj.shape[1]), plant_cabina] = 1.0
        cab_i = inj @ onehot_plants
    cab_inc = np.minimum(cab_w, cab_i)

    total_w = cab_w.sum(axis=1)
    total_i = inj.sum(axis=1)
    shared = np.minimum(total_w, total_i)

    # Queue: each plant gets what its cabina's incentivised energy leaves after earlier plants, up to its injection.
    before = inj @ queue_predecessors(plant_cabina) if inj.shape[1] else inj
    plant_inc = np.clip(cab_inc[:, plant_cabina] - before, 0.0, inj)

    # Second pass over W: per-point totals and pro-rata share of the cabina's incentivised energy.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cab_w > 0, cab_inc / cab_w, 0.0)
    rhs = np.concatenate([ratio, np.ones((h, 1))], axis=1).astype(withdrawn.dtype)
    per_point = np.asarray(withdrawn.T @ rhs, dtype=np.float64)
    point_shared = np.empty(p)
    for c in range(n_cabine):
        a, b = bounds[c], bounds[c + 1]
        point_shared[a:b] = per_point[a:b, c]
    return EnergyResult(
        withdrawn=total_w,
        injected=total_i,
        shared=shared,
        cabina_withdrawn=cab_w,
        cabina_injected=cab_i,
        cabina_incentivised=cab_inc,
        plant_injected=inj,
        plant_incentivised=plant_inc,
        point_withdrawn=per_point[:, n_cabine],
        point_shared_withdrawal=point_shared,
        cabina_weighted_withdrawn=weighted,
    )


@dataclass(frozen=True)
class MoneyResult:
    """Money of a configuration, hour by hour [€] (unrounded).

    Attributes
    ----------
    plant_tip : (H, N) array
        TIP earned by each plant's attributed energy [€].
    valorisation : (H,) array
        ARERA valorisation of the incentivised energy, CU_Af x energy [€].
    avoided_losses : (H,) array
        AUC only: incentivised energy x c_PR x Pz [€]; zeros otherwise.
    """

    plant_tip: FloatArray
    valorisation: FloatArray
    avoided_losses: FloatArray

    @property
    def tip(self) -> FloatArray:
        """Hourly TIP of the configuration [€]."""
        return np.asarray(self.plant_tip.sum(axis=1), dtype=np.float64)


def value_energy(
    energy: EnergyResult,
    plant_cabina: IntArray,
    plant_rate_eur_mwh: FloatArray,
    plant_reduction: FloatArray,
    plant_tip_share: FloatArray,
    cu_af_eur_mwh: FloatArray,
    price_eur_mwh: FloatArray,
    *,
    exempt_weight: int | None = None,
    exempt_first_to_grant_plants: bool = True,
    loss_weight: int | None = None,
) -> MoneyResult:
    """TIP per plant and hour, and ARERA valorisation.

    Parameters
    ----------
    energy : EnergyResult
    plant_cabina : (N,) int array
    plant_rate_eur_mwh : (H, N) array
        TIP before the grant reduction, ``min(CAP, BASE + max(0, 180 - Pz)) + FC`` [€/MWh].
    plant_reduction : (N,) array
        Grant reduction F of each plant [unitless].
    plant_tip_share : (N,) array
        Share of each plant that earns the TIP [unitless]; the rest earns the valorisation only.
    cu_af_eur_mwh : (H,) array
        Unit valorisation CU_Af of each hour [€/MWh].
    price_eur_mwh : (H,) array
        Zonal price Pz [€/MWh] (used for AUC avoided losses).
    exempt_weight : int, optional
        Index in ``energy.cabina_weighted_withdrawn`` of the withdrawal of points exempt from the reduction F.
        The reduction applies only to the part of each cabina's incentivised energy not attributable (pro rata of
        withdrawal) to exempt points.
    exempt_first_to_grant_plants : bool
        Give the exempt energy of each cabina and hour first to the plants with a grant (F > 0), as GSE's
        operating rules prescribe; otherwise every plant gets the cabina's exempt share pro rata.
    loss_weight : int, optional
        Index of the loss-coefficient-weighted withdrawal (AUC): avoided losses = incentivised x weighted c_PR x Pz.
    """
    cab_w = energy.cabina_withdrawn
    with np.errstate(divide="ignore", invalid="ignore"):
        if exempt_weight is None:
            exempt_share = np.zeros_like(cab_w)
        else:
            ew = energy.cabina_weighted_withdrawn[:, :, exempt_weight]
            exempt_share = np.where(cab_w > 0, ew / cab_w, 0.0)
        if loss_weight is None:
            loss_coeff = np.zeros_like(cab_w)
        else:
            lw = energy.cabina_weighted_withdrawn[:, :, loss_weight]
            loss_coeff = np.where(cab_w > 0, lw / cab_w, 0.0)
    if exempt_first_to_grant_plants and plant_cabina.size:
        granted = (plant_reduction > 0).astype(np.float64)
        onehot = np.zeros((plant_cabina.size, cab_w.shape[1]))
        onehot[np.arange(plant_cabina.size), plant_cabina] = 1.0
        granted_energy = (energy.plant_incentivised * granted[None, :]) @ onehot
        exempt_energy = energy.cabina_incentivised * exempt_share
        with np.errstate(divide="ignore", invalid="ignore"):
            exempt_share = np.where(granted_energy > 0, np.minimum(1.0, exempt_energy / granted_energy), 0.0)
    effective_reduction = plant_reduction[None, :] * (1.0 - exempt_share[:, plant_cabina])
    plant_tip = (
        energy.plant_incentivised * plant_rate_eur_mwh * plant_tip_share[None, :] * (1.0 - effective_reduction)
    ) / 1000.0
    incentivised = energy.cabina_incentivised
    valorisation = incentivised.sum(axis=1) * cu_af_eur_mwh / 1000.0
    avoided = (incentivised * loss_coeff).sum(axis=1) * price_eur_mwh / 1000.0
    return MoneyResult(plant_tip=plant_tip, valorisation=valorisation, avoided_losses=avoided)
