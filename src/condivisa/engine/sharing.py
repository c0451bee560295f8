"""The array core of the settlement: shared and incentivised energy, attribution to plants, TIP and valorisation.

Shapes: ``H`` hours, ``P`` member withdrawal points, ``G`` point groups, ``N`` plants, ``C`` cabine primarie,
``K`` configurations, ``T`` tariff rows. Energies in kWh per hour, prices and tariffs in €/MWh, money in €.

One call settles one configuration or a batch of independent configurations at once (a national scan passes
thousands, a few dozen per call): cabine belong to configurations, and nothing is shared across them.

Layout contract (the caller sorts, :class:`Layout` checks):

- points are sorted by group, groups by cabina and cabine by configuration, so that each group, cabina and
  configuration is one contiguous block of rows; a group gathers the points of one cabina that share the
  attributes the rules care about (exempt from the grant reduction or not, voltage level);
- plants are sorted by cabina, then in queue order (date of entry into operation, then id).

Arrays are *series-major*: one row per point, group, cabina, configuration or plant, one column per hour, so each
row is one meter's (or one aggregate's) time series and every reduction reads contiguous memory. The arithmetic
runs in the dtype of the readings (float64 for settlements, float32 is fine for national scans). No Python loop
runs over hours: the loops below run over groups and plants, each step a vectorised operation on whole series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _sum_by(labels: IntArray, n: int, rows: FloatArray) -> FloatArray:
    """Sum ``rows`` (R, H) by sorted ``labels`` (R,) into (n, H); each label's rows are one contiguous block."""
    out = np.zeros((n, rows.shape[1]), dtype=rows.dtype)
    bounds = _bounds(labels, n)
    for i in np.flatnonzero(np.diff(bounds)):  # labels present, never hours
        rows[bounds[i] : bounds[i + 1]].sum(axis=0, out=out[i])
    return out


def _bounds(sorted_labels: IntArray, n: int) -> IntArray:
    return np.searchsorted(sorted_labels, np.arange(n + 1)).astype(np.intp)


@dataclass(frozen=True)
class Layout:
    """Where points and plants sit.

    Parameters
    ----------
    point_group : (P,) int array
        Group of each point, non-decreasing.
    group_cabina : (G,) int array
        Cabina of each group, non-decreasing.
    plant_cabina : (N,) int array
        Cabina of each plant, non-decreasing (plants in queue order within a cabina).
    n_cabine : int
    cabina_configuration : (C,) int array, optional
        Configuration of each cabina, non-decreasing; default: all in configuration 0.
    """

    point_group: IntArray
    group_cabina: IntArray
    plant_cabina: IntArray
    n_cabine: int
    cabina_configuration: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    def __post_init__(self) -> None:
        if self.cabina_configuration.size == 0:
            object.__setattr__(self, "cabina_configuration", np.zeros(self.n_cabine, dtype=np.intp))
        if self.cabina_configuration.size != self.n_cabine:
            raise ValueError("cabina_configuration needs one entry per cabina")
        for name in ("point_group", "group_cabina", "plant_cabina", "cabina_configuration"):
            arr = getattr(self, name)
            if arr.size and np.any(np.diff(arr) < 0):
                raise ValueError(f"{name} must be non-decreasing (sort points by group, plants by cabina)")
        if self.point_group.size and self.point_group[-1] >= self.group_cabina.size:
            raise ValueError("point_group refers to a group that group_cabina does not list")
        if self.group_cabina.size and self.group_cabina[-1] >= self.n_cabine:
            raise ValueError("group_cabina refers to a cabina beyond n_cabine")
        if self.plant_cabina.size and self.plant_cabina[-1] >= self.n_cabine:
            raise ValueError("plant_cabina refers to a cabina beyond n_cabine")

    @property
    def n_configurations(self) -> int:
        return int(self.cabina_configuration[-1]) + 1 if self.n_cabine else 1

    @property
    def point_cabina(self) -> IntArray:
        """Cabina of each point."""
        return self.group_cabina[self.point_group]

    @property
    def plant_configuration(self) -> IntArray:
        """Configuration of each plant."""
        return self.cabina_configuration[self.plant_cabina]


@dataclass(frozen=True)
class EnergyResult:
    """Energy accounting, hour by hour.

    Attributes
    ----------
    withdrawn, injected, shared : (K, H) arrays [kWh]
        Configuration totals; ``shared`` is the hourly minimum of the two.
    group_withdrawn : (G, H) array [kWh]
    cabina_withdrawn, cabina_injected, cabina_incentivised : (C, H) arrays [kWh]
        Per cabina primaria; ``cabina_incentivised`` is the hourly minimum per cabina (energy that earns the TIP).
    incentivised : (K, H) array [kWh]
        Sum of the per-cabina minima of each configuration.
    plant_injected, plant_incentivised : (N, H) arrays [kWh]
        Incentivised energy is attributed in queue order within each cabina.
    point_withdrawn, point_shared_withdrawal : (P,) float64 arrays [kWh]
        Withdrawal of each point over the period, and its pro-rata share of its cabina's incentivised energy
        (each hour, in proportion to withdrawal), summed over hours.
    """

    withdrawn: FloatArray
    injected: FloatArray
    shared: FloatArray
    incentivised: FloatArray
    group_withdrawn: FloatArray
    cabina_withdrawn: FloatArray
    cabina_injected: FloatArray
    cabina_incentivised: FloatArray
    plant_injected: FloatArray
    plant_incentivised: FloatArray
    point_withdrawn: Float64Array
    point_shared_withdrawal: Float64Array


def share_energy(withdrawn: FloatArray, injected: FloatArray, layout: Layout) -> EnergyResult:
    """Shared and incentivised energy.

    Parameters
    ----------
    withdrawn : (P, H) array
        Hourly withdrawal of each member point [kWh], rows in layout order.
    injected : (N, H) array
        Hourly injection of each plant [kWh], rows in layout order.
    layout : Layout

    Returns
    -------
    EnergyResult
    """
    p, h = withdrawn.shape
    dtype = withdrawn.dtype
    c, n_groups = layout.n_cabine, layout.group_cabina.size
    inj = np.asarray(injected, dtype=dtype)
    if inj.shape[1] != h:
        raise ValueError(f"withdrawn has {h} hours, injected {inj.shape[1]}")
    if p != layout.point_group.size or inj.shape[0] != layout.plant_cabina.size:
        raise ValueError("withdrawn/injected rows do not match the layout's points/plants")

    # Pass 1 over W: each group is a contiguous block of rows.
    group_w = _sum_by(layout.point_group, n_groups, withdrawn)
    cab_w = _sum_by(layout.group_cabina, c, group_w)

    # Injection per cabina, and for each plant the injection of the plants ahead of it in its cabina's queue.
    cab_i = _sum_by(layout.plant_cabina, c, inj)
    before = np.empty_like(inj)
    first = np.ones(inj.shape[0], dtype=bool)
    first[1:] = layout.plant_cabina[1:] != layout.plant_cabina[:-1]
    for j in range(inj.shape[0]):  # plants
        if first[j]:
            before[j] = 0.0
        else:
            np.add(before[j - 1], inj[j - 1], out=before[j])
    cab_inc = np.minimum(cab_w, cab_i)

    # Queue: each plant gets what its cabina's incentivised energy leaves after the earlier plants, up to its
    # own injection.
    attributed = before
    np.subtract(cab_inc[layout.plant_cabina], before, out=attributed)
    np.maximum(attributed, 0.0, out=attributed)
    np.minimum(attributed, inj, out=attributed)

    # Pass 2 over W: each point's share of its cabina's incentivised energy, pro rata of its withdrawal (one
    # matrix-vector product per cabina: its points are one block of rows), and its total.
    ratio = np.zeros((c, h), dtype=dtype)
    np.divide(cab_inc, cab_w, out=ratio, where=cab_w > 0)
    point_shared = np.zeros(p)
    cab_bounds = _bounds(layout.point_cabina, c)
    for i in np.flatnonzero(np.diff(cab_bounds)):  # cabine with points
        point_shared[cab_bounds[i] : cab_bounds[i + 1]] = withdrawn[cab_bounds[i] : cab_bounds[i + 1]] @ ratio[i]
    point_total = withdrawn.sum(axis=1).astype(np.float64)

    k = layout.n_configurations
    total_w = _sum_by(layout.cabina_configuration, k, cab_w)
    total_i = _sum_by(layout.cabina_configuration, k, cab_i)
    return EnergyResult(
        withdrawn=total_w,
        injected=total_i,
        shared=np.minimum(total_w, total_i),
        incentivised=_sum_by(layout.cabina_configuration, k, cab_inc),
        group_withdrawn=group_w,
        cabina_withdrawn=cab_w,
        cabina_injected=cab_i,
        cabina_incentivised=cab_inc,
        plant_injected=inj,
        plant_incentivised=attributed,
        point_withdrawn=point_total,
        point_shared_withdrawal=point_shared,
    )


@dataclass(frozen=True)
class MoneyResult:
    """Money [€] (unrounded).

    Attributes
    ----------
    plant_tip : (N,) float64 array
        TIP earned by each plant over the period [€].
    tip : (K, H) array
        TIP of each configuration in each hour [€].
    valorisation : (K, H) array
        ARERA valorisation of the incentivised energy, CU_Af x energy [€].
    avoided_losses : (K, H) array
        AUC only: incentivised energy x c_PR x Pz [€]; zeros otherwise.
    """

    plant_tip: Float64Array
    tip: FloatArray
    valorisation: FloatArray
    avoided_losses: FloatArray


def _exempt_share(energy: EnergyResult, layout: Layout, group_exempt: npt.NDArray[np.bool_]) -> FloatArray:
    """Share of each cabina's withdrawal (hence of its incentivised energy) at exempt points, (C, H)."""
    cab_w = energy.cabina_withdrawn
    exempt = np.flatnonzero(group_exempt)
    exempt_w = _sum_by(layout.group_cabina[exempt], layout.n_cabine, energy.group_withdrawn[exempt])
    share = np.zeros_like(cab_w)
    np.divide(exempt_w, cab_w, out=share, where=cab_w > 0)
    return share


def value_energy(
    energy: EnergyResult,
    layout: Layout,
    tariff_eur_mwh: FloatArray,
    plant_tariff: IntArray,
    plant_reduction: Float64Array,
    plant_tip_share: Float64Array,
    cu_af_eur_mwh: FloatArray,
    *,
    group_exempt: npt.NDArray[np.bool_] | None = None,
    exempt_first_to_grant_plants: bool = True,
    group_loss_coefficient: FloatArray | None = None,
    price_eur_mwh: FloatArray | None = None,
) -> MoneyResult:
    """TIP per plant and hour, and ARERA valorisation.

    Parameters
    ----------
    energy : EnergyResult
    layout : Layout
    tariff_eur_mwh : (T, H) array
        Hourly TIP before the grant reduction of each distinct tariff, ``min(CAP, BASE + max(0, 180 - Pz)) + FC``
        [€/MWh] (see :func:`condivisa.rules.tip.tip_eur_mwh`).
    plant_tariff : (N,) int array
        Row of ``tariff_eur_mwh`` of each plant.
    plant_reduction : (N,) array
        Grant reduction F of each plant [unitless].
    plant_tip_share : (N,) array
        Share of each plant that earns the TIP [unitless]; the rest earns the valorisation only.
    cu_af_eur_mwh : (H,) array
        Unit valorisation CU_Af of each hour [€/MWh].
    group_exempt : (G,) bool array, optional
        Groups whose points are exempt from the grant reduction. Each cabina's incentivised energy is attributed
        to its points pro rata of withdrawal; the exempt part is not reduced.
    exempt_first_to_grant_plants : bool
        Give the exempt energy of each cabina and hour first to the plants with a grant (F > 0), as GSE's
        operating rules prescribe; otherwise every plant of the cabina gets the exempt share pro rata.
    group_loss_coefficient : (G,) or (G, H) array, optional
        AUC: avoided-loss coefficient c_PR of each group [unitless] (per hour when it changes by year).
    price_eur_mwh : (H,) array, optional
        Zonal price Pz [€/MWh]; required with ``group_loss_coefficient``.
    """
    attributed = energy.plant_incentivised
    dtype = attributed.dtype
    n, h = attributed.shape
    k = layout.n_configurations
    tariff = np.asarray(tariff_eur_mwh, dtype=dtype)
    weight = np.asarray(plant_tip_share, dtype=np.float64) / 1000.0  # €/MWh x kWh -> €
    reduction = np.asarray(plant_reduction, dtype=np.float64)

    # Reduced share of each hour's energy: 1 - F x (1 - exempt share), only for plants with a grant.
    granted = np.flatnonzero((reduction > 0) & (weight > 0))
    factor = None
    if granted.size:
        cabina = layout.plant_cabina[granted]
        exempt_share = (
            _exempt_share(energy, layout, group_exempt)
            if group_exempt is not None and group_exempt.any()
            else np.zeros((layout.n_cabine, h), dtype=dtype)
        )
        if exempt_first_to_grant_plants:
            # The exempt energy of a cabina goes first to its granted plants, up to what they were attributed.
            granted_energy = _sum_by(cabina, layout.n_cabine, attributed[granted])
            exempt_energy = energy.cabina_incentivised * exempt_share
            exempt_share = np.zeros_like(exempt_energy)
            np.divide(exempt_energy, granted_energy, out=exempt_share, where=granted_energy > 0)
            np.minimum(exempt_share, 1.0, out=exempt_share)
        factor = exempt_share[cabina] - 1.0
        factor *= reduction[granted, None].astype(dtype)
        factor += 1.0

    # Money of each plant and hour, TIP-earning plants only.
    earning = np.flatnonzero(weight > 0)
    money = tariff[plant_tariff[earning]]  # a fresh (N', H) array: filled in place below
    money *= attributed if earning.size == n else attributed[earning]
    money *= weight[earning, None].astype(dtype)
    if factor is not None:
        money[np.searchsorted(earning, granted)] *= factor
    plant_tip = np.zeros(n)
    plant_tip[earning] = money.sum(axis=1, dtype=np.float64)
    hourly_tip = _sum_by(layout.plant_configuration[earning], k, money)

    incentivised = energy.incentivised
    valorisation = incentivised * (np.asarray(cu_af_eur_mwh, dtype=dtype) / 1000.0)
    if group_loss_coefficient is None:
        avoided = np.zeros((k, h), dtype=dtype)
    else:
        if price_eur_mwh is None:
            raise ValueError("price_eur_mwh is needed for avoided losses")
        coefficient = np.asarray(group_loss_coefficient, dtype=np.float64)
        if coefficient.ndim == 1:
            coefficient = coefficient[:, None]
        weighted = _sum_by(layout.group_cabina, layout.n_cabine, energy.group_withdrawn * coefficient)
        coeff = np.zeros_like(weighted)
        np.divide(weighted, energy.cabina_withdrawn, out=coeff, where=energy.cabina_withdrawn > 0)
        avoided = _sum_by(layout.cabina_configuration, k, energy.cabina_incentivised * coeff)
        avoided *= np.asarray(price_eur_mwh) / 1000.0
    return MoneyResult(plant_tip=plant_tip, tip=hourly_tip, valorisation=valorisation, avoided_losses=avoided)
