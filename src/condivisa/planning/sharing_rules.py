"""Sharing rules by contribution: what each member brings to the community, and candidate regulations compared.

The community's money (TIP + valorisation) is treated as a cooperative game among its members. The worth of a
coalition ``S`` of members, ``v(S)`` [€], is the money the community would have earned over the same period if
only the members in ``S`` had taken part: their withdrawal points and the plants they own, plus every plant owned
by a third party (an owner that is not a member id), which is always present because its owner is not a player.
``v`` is computed with the engine's array core (:func:`~condivisa.engine.sharing.share_energy` and
:func:`~condivisa.engine.sharing.value_energy`), so it follows exactly the settlement's rules: per-cabina minima,
plant queue, grant reduction and its exemption, CU_Af, AUC avoided losses. A batch of coalitions is settled as a
batch of independent configurations in one call of the core.

Contents
--------
Games
    :class:`CommunityGame` (``v`` from hourly arrays), :func:`game_from_settlement` (those arrays taken from a
    settled community and its readings), :class:`TabularGame` (``v`` listed by hand), :func:`coalition_value`.
Values
    :func:`shapley_exact` (all coalitions, at most :data:`EXACT_SHAPLEY_MAX_PLAYERS` players),
    :func:`shapley_monte_carlo` (random orders, any size, with standard errors), :func:`least_core` and
    :func:`nucleolus` (sequences of linear programs, at most :data:`NUCLEOLUS_MAX_PLAYERS` players).
Regulations
    :func:`regulation_from_weights` (a contribution-based split as fixed shares the allocation can apply),
    :func:`bases_from_settlement`, :func:`compare_rules` (each member's outcome under candidate regulations).

Everything here is pure computation: no files are read or written.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.allocation import Bases, apply_regulation, eur_to_cents, split_cents
from condivisa.engine.sharing import Layout, share_energy, value_energy
from condivisa.engine.timegrid import LOCAL_TZ, to_hourly
from condivisa.model.community import Community, RegulationRule
from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook
from condivisa.rules.tip import geographic_correction, grant_reduction, tip_eur_mwh

if TYPE_CHECKING:
    from condivisa.engine.settle import Settlement
    from condivisa.ingest.readings import Readings

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
CoalitionT = TypeVar("CoalitionT", bound=Collection[str])

EXACT_SHAPLEY_MAX_PLAYERS = 14
"""Most players :func:`shapley_exact` accepts: it evaluates all 2^n coalitions (16,384 at 14 players)."""

NUCLEOLUS_MAX_PLAYERS = 10
"""Most players :func:`nucleolus` and :func:`least_core` accept: each linear program has 2^n - 2 rows."""

TABULAR_MAX_PLAYERS = 20
"""Most players a :class:`TabularGame` holds (a table of 2^n values)."""

TOTAL_ROW = "total"
"""Label of the totals row that :func:`compare_rules` appends."""

_SHARE_UNITS = 1 << 53  # shares are whole multiples of 2^-53: they add up exactly
_DUAL_TOL = 1e-9
_SPAN_TOL = 1e-9


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.intp)


def _empty_float() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


def _empty_bool() -> BoolArray:
    return np.zeros(0, dtype=np.bool_)


# Games ------------------------------------------------------------------------------------------------------------


class Game(Protocol):
    """A cooperative game with transferable utility, evaluated on batches of coalitions.

    ``values`` takes a (B, n) boolean array, one row per coalition (column ``i`` true when player ``i`` is in
    it), and returns the (B,) worth of each coalition [€]. The empty coalition is worth 0.
    """

    @property
    def players(self) -> tuple[str, ...]: ...

    def values(self, coalitions: BoolArray) -> FloatArray: ...


def _as_coalitions(coalitions: npt.ArrayLike, n: int) -> BoolArray:
    mask = np.asarray(coalitions)
    if mask.ndim != 2 or mask.shape[1] != n:
        raise ValueError(f"coalitions must be a (B, {n}) boolean array, one column per player; got {mask.shape}")
    if mask.dtype != np.bool_:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("coalitions must hold only 0/1 or booleans")
        mask = mask.astype(np.bool_)
    return mask


def _coalition_mask(players: Sequence[str], coalition: Collection[str]) -> BoolArray:
    if isinstance(coalition, str):
        raise ValueError(f"a coalition is a collection of player ids, not the string {coalition!r}")
    index = {p: i for i, p in enumerate(players)}
    unknown = sorted(set(coalition) - set(index))
    if unknown:
        raise ValueError(f"unknown players {unknown}; players are {list(players)}")
    mask = np.zeros(len(players), dtype=np.bool_)
    mask[[index[p] for p in coalition]] = True
    return mask


def coalition_value(game: Game, coalition: Collection[str]) -> float:
    """Worth ``v(S)`` of one coalition given by player ids [€].

    Examples
    --------
    >>> g = TabularGame.from_values(["a", "b"], {("a",): 1.0, ("a", "b"): 3.0})
    >>> coalition_value(g, {"a", "b"})
    3.0
    """
    return float(game.values(_coalition_mask(game.players, coalition)[None, :])[0])


@dataclass(frozen=True, eq=False)
class TabularGame:
    """A game given by the worth of each coalition (hand examples, textbook games, precomputed values).

    Attributes
    ----------
    players : tuple of str
    table : (2^n,) float64 array
        Worth of each coalition [€], indexed by bit mask: bit ``i`` set when player ``i`` is in the coalition.
    """

    players: tuple[str, ...]
    table: FloatArray

    def __post_init__(self) -> None:
        n = len(self.players)
        if len(set(self.players)) != n:
            raise ValueError(f"duplicate player ids in {list(self.players)}")
        if n > TABULAR_MAX_PLAYERS:
            raise ValueError(f"a TabularGame holds at most {TABULAR_MAX_PLAYERS} players, got {n}")
        if self.table.shape != (1 << n,):
            raise ValueError(f"table must have 2^{n} = {1 << n} values, got shape {self.table.shape}")
        if not np.isfinite(self.table).all():
            raise ValueError("table values must be finite")
        if self.table[0] != 0.0:
            raise ValueError(f"the empty coalition must be worth 0, got {self.table[0]}")

    @classmethod
    def from_values(cls, players: Sequence[str], values: Mapping[CoalitionT, float]) -> TabularGame:
        """Build a game from ``{coalition: worth}``; coalitions not listed are worth 0.

        Parameters
        ----------
        players : sequence of str
            Player ids, in the order of the game's columns.
        values : mapping
            Keys are coalitions as collections of player ids (frozensets, tuples), values their worth [€].

        Raises
        ------
        ValueError
            Unknown player, a coalition listed twice, a non-zero worth for the empty coalition.
        """
        ids = tuple(players)
        n = len(ids)
        if n > TABULAR_MAX_PLAYERS:
            raise ValueError(f"a TabularGame holds at most {TABULAR_MAX_PLAYERS} players, got {n}")
        table = np.zeros(1 << n)
        seen: set[int] = set()
        weights = 1 << np.arange(n, dtype=np.int64)
        for coalition, worth in values.items():
            code = int(_coalition_mask(ids, coalition).astype(np.int64) @ weights)
            if code in seen:
                raise ValueError(f"coalition {sorted(coalition)} listed twice")
            seen.add(code)
            table[code] = float(worth)
        return cls(ids, table)

    def values(self, coalitions: BoolArray) -> FloatArray:
        """Worth of each coalition in a (B, n) boolean array [€]."""
        mask = _as_coalitions(coalitions, len(self.players))
        codes = mask.astype(np.int64) @ (1 << np.arange(len(self.players), dtype=np.int64))
        return np.asarray(self.table[codes], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class CommunityGame:
    """The game of a community's members: ``v(S)`` is TIP + valorisation if only coalition ``S`` took part.

    A coalition brings its members' withdrawal and the plants they own; plants owned by third parties
    (``plant_owner == -1``) are always present. ``v`` is computed by the engine's array core, each batch of
    coalitions settled as a batch of independent configurations, cabina by cabina: incentivised energy is the
    hourly minimum per cabina primaria, attributed to plants in queue order, then valued at each plant's TIP (with
    its grant reduction and the exemption of exempt members' energy) plus CU_Af (and, for AUC, avoided losses).

    Shapes: ``M`` members, ``R`` withdrawal rows (points, or members), ``N`` plants, ``H`` hours.

    Parameters
    ----------
    members : tuple of str
        Member ids (the players), ``M`` of them.
    withdrawn : (R, H) array
        Hourly withdrawal of each withdrawal row [kWh]; a row is a point (or a member's points in one cabina).
    injected : (N, H) array
        Hourly injection of each plant [kWh].
    plant_owner : (N,) int array
        Index in ``members`` of each plant's owner, -1 for a third party (plant always present).
    tip_rate_eur_mwh : (N, H) array
        Hourly TIP of each plant before the grant reduction, ``min(CAP, BASE + max(0, 180 - Pz)) + FC``
        [€/MWh].
    cu_af_eur_mwh : (H,) array
        Unit valorisation CU_Af of each hour [€/MWh].
    withdrawal_member : (R,) int array, optional
        Member index of each withdrawal row; default: row ``r`` is member ``r`` (then ``R`` must equal ``M``).
    withdrawal_cabina : (R,) int array, optional
        Cabina primaria index of each withdrawal row; default: all in cabina 0. ``v(S)`` is the sum over
        cabine of each cabina's money: nothing is shared across cabine.
    plant_cabina : (N,) int array, optional
        Cabina of each plant, non-decreasing; plants of a cabina in queue order (date of entry into operation,
        then id). Default: all in cabina 0.
    plant_reduction : (N,) array, optional
        Grant reduction F of each plant [unitless]; default 0.
    plant_tip_share : (N,) array, optional
        Share of each plant that earns the TIP [unitless]; default 1 (0 for plants that earn only the
        valorisation).
    withdrawal_exempt : (R,) bool array, optional
        Rows of members exempt from the grant reduction (see the engine); default none.
    withdrawal_loss_coefficient : (R,) or (R, H) array, optional
        AUC only: avoided-loss coefficient c_PR of each row [unitless]; default: no avoided losses.
    price_eur_mwh : (H,) array, optional
        Zonal price Pz [€/MWh]; needed with ``withdrawal_loss_coefficient``.
    exempt_first_to_grant_plants : bool
        Give each cabina's exempt energy first to plants with a grant, as GSE prescribes (see the engine).
    max_batch_elements : int
        Bound on the size of the per-batch arrays [array elements]; coalitions are evaluated in batches of
        about ``max_batch_elements / ((cabine x kinds + N) x H)`` (at least one), so memory stays near a few
        times ``8 x max_batch_elements`` bytes. Batches that stay in the processor's cache run fastest.

    Notes
    -----
    Hours in which nothing is withdrawn or nothing is injected are dropped once, at construction: no coalition
    shares energy in them. The cost is then about 1 to 2 ms per coalition for a year of hourly PV data with two
    cabine and three plants (measured on a 2-core machine), roughly proportional to (cabine + plants) x hours.
    The yearly excess TIP (quota eccedentaria) is not deducted from ``v``: it is part of the money, routed
    before the regulation (see :func:`compare_rules`).
    """

    members: tuple[str, ...]
    withdrawn: FloatArray
    injected: FloatArray
    plant_owner: IntArray
    tip_rate_eur_mwh: FloatArray
    cu_af_eur_mwh: FloatArray
    withdrawal_member: IntArray = field(default_factory=_empty_int)
    withdrawal_cabina: IntArray = field(default_factory=_empty_int)
    plant_cabina: IntArray = field(default_factory=_empty_int)
    plant_reduction: FloatArray = field(default_factory=_empty_float)
    plant_tip_share: FloatArray = field(default_factory=_empty_float)
    withdrawal_exempt: BoolArray = field(default_factory=_empty_bool)
    withdrawal_loss_coefficient: FloatArray = field(default_factory=_empty_float)
    price_eur_mwh: FloatArray = field(default_factory=_empty_float)
    exempt_first_to_grant_plants: bool = True
    max_batch_elements: int = 250_000
    # Derived in __post_init__: cabine, group kinds (exempt, loss coefficient) and the withdrawal blocks.
    _n_cabine: int = field(init=False, repr=False, default=1)
    _kind_exempt: BoolArray = field(init=False, repr=False, default_factory=_empty_bool)
    _kind_loss: FloatArray | None = field(init=False, repr=False, default=None)
    _blocks: tuple[tuple[int, int, IntArray, FloatArray], ...] = field(init=False, repr=False, default=())
    # The same series restricted to the hours where something is both withdrawn and injected: in any other hour
    # no coalition shares anything, so dropping them changes no worth (half the hours of a PV community).
    _injected: FloatArray = field(init=False, repr=False, default_factory=_empty_float)
    _rate: FloatArray = field(init=False, repr=False, default_factory=_empty_float)
    _cu_af: FloatArray = field(init=False, repr=False, default_factory=_empty_float)
    _price: FloatArray = field(init=False, repr=False, default_factory=_empty_float)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        m = len(self.members)
        if m == 0 or len(set(self.members)) != m:
            raise ValueError("members must be a non-empty tuple of distinct ids")
        set_(self, "members", tuple(self.members))
        w = np.asarray(self.withdrawn, dtype=np.float64)
        inj = np.asarray(self.injected, dtype=np.float64)
        if w.ndim != 2 or inj.ndim != 2:
            raise ValueError("withdrawn must be (R, H) and injected (N, H) arrays")
        r, h = w.shape
        n = inj.shape[0]
        if inj.shape[1] != h:
            raise ValueError(f"withdrawn has {h} hours, injected {inj.shape[1]}")
        if not (np.isfinite(w).all() and np.isfinite(inj).all()) or (w < 0).any() or (inj < 0).any():
            raise ValueError("withdrawn and injected must be finite and non-negative [kWh]")
        set_(self, "withdrawn", w)
        set_(self, "injected", inj)
        if self.max_batch_elements < 1:
            raise ValueError(f"max_batch_elements must be positive, got {self.max_batch_elements}")

        def ints(name: str, size: int, default: IntArray, upper: int | None) -> IntArray:
            arr = np.asarray(getattr(self, name), dtype=np.intp)
            if arr.size == 0 and size:
                arr = default
            if arr.shape != (size,):
                raise ValueError(f"{name} needs one entry per row ({size}), got shape {arr.shape}")
            if arr.size and (arr.min() < (-1 if name == "plant_owner" else 0) or (upper and arr.max() >= upper)):
                raise ValueError(f"{name} holds indices out of range")
            set_(self, name, arr)
            return arr

        def floats(name: str, size: int, default: float) -> FloatArray:
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.size == 0 and size:
                arr = np.full(size, default)
            if arr.shape != (size,) or not np.isfinite(arr).all():
                raise ValueError(f"{name} needs one finite entry per plant ({size}), got shape {arr.shape}")
            set_(self, name, arr)
            return arr

        if self.withdrawal_member.size == 0 and r and r != m:
            raise ValueError(f"withdrawn has {r} rows for {m} members: give withdrawal_member")
        ints("withdrawal_member", r, np.arange(r, dtype=np.intp), m)
        ints("plant_owner", n, np.full(n, -1, dtype=np.intp), m)
        row_cabina = ints("withdrawal_cabina", r, np.zeros(r, dtype=np.intp), None)
        plant_cabina = ints("plant_cabina", n, np.zeros(n, dtype=np.intp), None)
        if plant_cabina.size and np.any(np.diff(plant_cabina) < 0):
            raise ValueError("plant_cabina must be non-decreasing (plants sorted by cabina, in queue order)")
        reduction = floats("plant_reduction", n, 0.0)
        tip_share = floats("plant_tip_share", n, 1.0)
        if (reduction < 0).any() or (reduction > 1).any() or (tip_share < 0).any() or (tip_share > 1).any():
            raise ValueError("plant_reduction and plant_tip_share must lie in 0 .. 1")
        rate = np.asarray(self.tip_rate_eur_mwh, dtype=np.float64)
        if rate.shape != (n, h) or not np.isfinite(rate).all():
            raise ValueError(f"tip_rate_eur_mwh must be a finite ({n}, {h}) array, got shape {rate.shape}")
        set_(self, "tip_rate_eur_mwh", rate)
        cu = np.asarray(self.cu_af_eur_mwh, dtype=np.float64)
        if cu.shape != (h,) or not np.isfinite(cu).all():
            raise ValueError(f"cu_af_eur_mwh must be a finite ({h},) array, got shape {cu.shape}")
        set_(self, "cu_af_eur_mwh", cu)
        exempt = np.asarray(self.withdrawal_exempt, dtype=np.bool_)
        if exempt.size == 0:
            exempt = np.zeros(r, dtype=np.bool_)
        if exempt.shape != (r,):
            raise ValueError(f"withdrawal_exempt needs one entry per row ({r}), got shape {exempt.shape}")
        set_(self, "withdrawal_exempt", exempt)

        loss = np.asarray(self.withdrawal_loss_coefficient, dtype=np.float64)
        price = np.asarray(self.price_eur_mwh, dtype=np.float64)
        set_(self, "price_eur_mwh", price)
        if loss.size:
            loss = loss[:, None] if loss.ndim == 1 else loss
            if loss.shape not in ((r, 1), (r, h)) or not np.isfinite(loss).all() or (loss < 0).any():
                raise ValueError(f"withdrawal_loss_coefficient must be ({r},) or ({r}, {h}), finite, >= 0")
            if price.shape != (h,) or not np.isfinite(price).all():
                raise ValueError(f"price_eur_mwh must be a finite ({h},) array with loss coefficients")
        else:
            loss = np.zeros((r, 0))
        set_(self, "withdrawal_loss_coefficient", loss)

        # Group kinds: distinct (exempt, loss coefficient) pairs; every cabina gets one group per kind.
        key = np.column_stack([exempt.astype(np.float64), loss])
        kinds, row_kind = np.unique(key, axis=0, return_inverse=True)
        row_kind = np.asarray(row_kind).reshape(-1)
        active = np.flatnonzero((w.sum(axis=0) > 0) & (inj.sum(axis=0) > 0))
        set_(self, "_kind_exempt", kinds[:, 0] > 0.5)
        kind_loss = np.broadcast_to(kinds[:, 1:], (len(kinds), h)) if loss.shape[1] else None
        set_(self, "_kind_loss", None if kind_loss is None else np.ascontiguousarray(kind_loss[:, active]))
        set_(self, "_injected", np.ascontiguousarray(inj[:, active]))
        set_(self, "_rate", np.ascontiguousarray(rate[:, active]))
        set_(self, "_cu_af", cu[active])
        set_(self, "_price", price[active] if kind_loss is not None else _empty_float())
        n_cabine = 1 + max(int(row_cabina.max(initial=0)), int(plant_cabina.max(initial=0)))
        set_(self, "_n_cabine", n_cabine)
        blocks = []
        for c in range(n_cabine):
            for k in range(len(kinds)):
                rows = np.flatnonzero((row_cabina == c) & (row_kind == k))
                if rows.size == 0:
                    continue
                owners, where = np.unique(self.withdrawal_member[rows], return_inverse=True)
                summed = np.zeros((owners.size, active.size))
                np.add.at(summed, np.asarray(where).reshape(-1), w[np.ix_(rows, active)])  # points of a member
                blocks.append((c, k, owners.astype(np.intp), summed))
        set_(self, "_blocks", tuple(blocks))

    @property
    def players(self) -> tuple[str, ...]:
        """The members' ids."""
        return self.members

    @property
    def n_hours(self) -> int:
        return int(self.withdrawn.shape[1])

    def values(self, coalitions: BoolArray) -> FloatArray:
        """Worth of each coalition: TIP + valorisation (+ avoided losses) over the period [€].

        Parameters
        ----------
        coalitions : (B, M) bool array
            One row per coalition, column ``i`` true when member ``i`` takes part.

        Returns
        -------
        (B,) float64 array [€]
        """
        mask = _as_coalitions(coalitions, len(self.members))
        out = np.zeros(mask.shape[0])
        n, h = self._injected.shape
        if not self._blocks or n == 0 or h == 0 or mask.shape[0] == 0:
            return out  # nobody withdraws, or nothing injects: nothing is shared
        per_coalition = (self._n_cabine * self._kind_exempt.size + n) * h
        step = max(1, self.max_batch_elements // per_coalition)
        for start in range(0, mask.shape[0], step):
            out[start : start + step] = self._evaluate(mask[start : start + step])
        return out

    def _evaluate(self, mask: BoolArray) -> FloatArray:
        """Settle a batch of coalitions as independent configurations (one per coalition) with the array core."""
        b = mask.shape[0]
        n, h = self._injected.shape
        c, k = self._n_cabine, self._kind_exempt.size
        member = mask.astype(np.float64)
        withdrawn = np.zeros((b, c, k, h))
        for cab, kind, owners, rows in self._blocks:
            np.matmul(member[:, owners], rows, out=withdrawn[:, cab, kind])
        present = np.ones((b, n))
        owned = self.plant_owner >= 0
        present[:, owned] = member[:, self.plant_owner[owned]]
        injected = (present[:, :, None] * self._injected[None, :, :]).reshape(b * n, h)
        n_cab = b * c
        layout = Layout(
            point_group=np.arange(n_cab * k, dtype=np.intp),
            group_cabina=np.repeat(np.arange(n_cab, dtype=np.intp), k),
            plant_cabina=(np.arange(b, dtype=np.intp)[:, None] * c + self.plant_cabina[None, :]).reshape(-1),
            n_cabine=n_cab,
            cabina_configuration=np.repeat(np.arange(b, dtype=np.intp), c),
        )
        energy = share_energy(withdrawn.reshape(n_cab * k, h), injected, layout)
        loss = None if self._kind_loss is None else np.tile(self._kind_loss, (n_cab, 1))
        money = value_energy(
            energy,
            layout,
            self._rate,
            np.tile(np.arange(n, dtype=np.intp), b),
            np.tile(self.plant_reduction, b),
            np.tile(self.plant_tip_share, b),
            self._cu_af,
            group_exempt=np.tile(self._kind_exempt, n_cab),
            exempt_first_to_grant_plants=self.exempt_first_to_grant_plants,
            group_loss_coefficient=loss,
            price_eur_mwh=self._price if loss is not None else None,
        )
        total = money.tip.sum(axis=1) + money.valorisation.sum(axis=1) + money.avoided_losses.sum(axis=1)
        return np.asarray(total, dtype=np.float64)


def game_from_settlement(
    settlement: Settlement, readings: Readings, *, rulebook: Rulebook | None = None, check: bool = True
) -> CommunityGame:
    """The members' game of a settled community.

    A :class:`~condivisa.engine.settle.Settlement` keeps plant injections hour by hour but withdrawals only per
    group of points, so the readings the settlement was computed from are needed again for each point's hourly
    withdrawal. Tariffs, grant reductions, TIP eligibility, exemptions and AUC loss coefficients are rebuilt from
    the community and the rulebook exactly as :func:`~condivisa.engine.settle.settle` builds them.

    Parameters
    ----------
    settlement : Settlement
    readings : Readings
        The readings given to :func:`~condivisa.engine.settle.settle`.
    rulebook : Rulebook, optional
        The rulebook the settlement used; default: the packaged one.
    check : bool
        Check that the readings give the settlement's withdrawals and that ``v(all members)`` equals the
        settlement's TIP + valorisation (one extra evaluation).

    Returns
    -------
    CommunityGame
        One withdrawal row per point; plants in the settlement's queue order; third-party plants always present.

    Raises
    ------
    ValueError
        With ``check``: readings that are not the settlement's, or a total that differs (another rulebook).
    """
    rb = rulebook or load_rulebook()
    community = settlement.community
    members = tuple(m.id for m in community.members)
    member_index = {mid: i for i, mid in enumerate(members)}
    kind = {m.id: m.kind for m in community.members}
    point = {pt.pod: pt for _, pt in community.points()}
    cab_index = {cab: i for i, cab in enumerate(settlement.cabine)}
    pods = settlement.point_pods
    hours = settlement.hours

    matrix = to_hourly(readings.frame, list(dict.fromkeys(pods)), hours)
    col = {pod: j for j, pod in enumerate(matrix.pods)}
    withdrawn = np.ascontiguousarray(matrix.withdrawn[:, [col[p] for p in pods]].T) if pods else np.zeros((0, 0))
    withdrawn = withdrawn.reshape(len(pods), len(hours))
    if check and not np.allclose(withdrawn.sum(axis=1), settlement.energy.point_withdrawn, rtol=1e-9, atol=1e-6):
        raise ValueError("the readings do not give the settlement's withdrawals: pass the readings it was settled on")

    region = canonical_region(community.region, rb)
    if region is None:
        raise ValueError(f"unknown region {community.region!r}")
    plants = settlement.plants
    price = np.asarray(settlement.price_eur_mwh, dtype=np.float64)
    rate = np.zeros((len(plants), len(hours)))
    for j, p in enumerate(plants):
        fc = geographic_correction(p.technology, p.region or region, rb)
        rate[j] = tip_eur_mwh(p.power_kw, price, fc_eur_mwh=fc, rulebook=rb)
    eligible = np.array([p.commissioning_date >= rb.min_commissioning_date for p in plants], dtype=bool)

    loss = np.zeros((len(pods), 0))
    if rb.configurations[community.configuration].avoided_losses:
        loss = _loss_coefficients(community, [point[p].voltage for p in pods], hours, rb)

    game = CommunityGame(
        members=members,
        withdrawn=withdrawn,
        injected=np.asarray(settlement.energy.plant_injected, dtype=np.float64),
        plant_owner=np.array([member_index.get(p.owner, -1) for p in plants], dtype=np.intp),
        tip_rate_eur_mwh=rate,
        cu_af_eur_mwh=np.asarray(settlement.cu_af_eur_mwh, dtype=np.float64),
        withdrawal_member=np.array([member_index[m] for m in settlement.point_members], dtype=np.intp),
        withdrawal_cabina=np.array([cab_index[point[p].cabina] for p in pods], dtype=np.intp),
        plant_cabina=np.array([cab_index[p.cabina] for p in plants], dtype=np.intp),
        plant_reduction=np.array([grant_reduction(p.grant_share, rb) for p in plants], dtype=np.float64),
        plant_tip_share=np.array([p.tip_share for p in plants], dtype=np.float64) * eligible,
        withdrawal_exempt=np.array([kind[m] in rb.exempt_member_kinds for m in settlement.point_members], dtype=bool),
        withdrawal_loss_coefficient=loss if loss.shape[1] else _empty_float(),
        price_eur_mwh=price,
        exempt_first_to_grant_plants=rb.exempt_priority_to_grant_plants,
    )
    if check:
        grand = float(game.values(np.ones((1, len(members)), dtype=np.bool_))[0])
        if not math.isclose(grand, settlement.total_eur, rel_tol=1e-9, abs_tol=1e-6):
            raise ValueError(
                f"the game gives {grand:.6f} € for all members, the settlement {settlement.total_eur:.6f} €: "
                "was it settled with another rulebook?"
            )
    return game


def _loss_coefficients(community: Community, voltages: list[str], hours: pd.DatetimeIndex, rb: Rulebook) -> FloatArray:
    """AUC avoided-loss coefficient of each point and hour [unitless], as the settlement takes it."""
    year = hours.tz_convert(LOCAL_TZ).year.to_numpy()
    by_voltage = {"LV": np.zeros(len(hours)), "MV": np.zeros(len(hours)), "HV": np.zeros(len(hours))}
    for y in sorted(set(year.tolist())):
        params, _ = rb.year(int(y))
        at = year == y
        by_voltage["LV"][at] = community.parameters.get("auc_loss_lv", params.auc_loss_lv)
        by_voltage["MV"][at] = community.parameters.get("auc_loss_mv", params.auc_loss_mv)
    out = np.zeros((len(voltages), len(hours)))
    for i, v in enumerate(voltages):
        out[i] = by_voltage[v]
    return out


# Shapley values ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ShapleyValues:
    """Shapley value of each player, exact or estimated.

    Attributes
    ----------
    players : tuple of str
    value : (n,) float64 array
        Shapley value of each player [€]; the values add up to ``grand_value`` (efficiency).
    standard_error : (n,) float64 array
        Standard error of each estimate [€]: the sample standard deviation of the player's marginal
        contributions divided by the square root of the number of permutations; zeros when exact.
    permutations : int or None
        Random orders sampled; None when the value is exact.
    grand_value : float
        Worth of the grand coalition, ``v(N)`` [€].
    """

    players: tuple[str, ...]
    value: FloatArray
    standard_error: FloatArray
    permutations: int | None
    grand_value: float

    def as_dict(self) -> dict[str, float]:
        """``{player: value}`` [€], e.g. for :func:`regulation_from_weights`."""
        return {p: float(v) for p, v in zip(self.players, self.value, strict=True)}

    def to_frame(self) -> pd.DataFrame:
        """One row per player: ``value_eur``, ``standard_error_eur``, ``share`` (of ``v(N)``) [unitless]."""
        share = self.value / self.grand_value if self.grand_value else np.full(len(self.players), np.nan)
        return pd.DataFrame(
            {"value_eur": self.value, "standard_error_eur": self.standard_error, "share": share},
            index=pd.Index(list(self.players), name="player"),
        )


def _all_coalitions(n: int) -> tuple[npt.NDArray[np.int64], BoolArray]:
    codes = np.arange(1 << n, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.bool_)
    return codes, bits


def _checked_values(game: Game, coalitions: BoolArray) -> FloatArray:
    v = np.asarray(game.values(coalitions), dtype=np.float64)
    if v.shape != (coalitions.shape[0],) or not np.isfinite(v).all():
        raise ValueError("the game returned worths of the wrong shape or not finite")
    return v


def shapley_exact(game: Game) -> ShapleyValues:
    """Exact Shapley values by enumerating every coalition.

    ``phi_i = sum over S not containing i of |S|! (n - |S| - 1)! / n! x (v(S + i) - v(S))`` [€]. The 2^n worths
    are evaluated in one batched call of ``game.values``; the time grows as 2^n, so the number of players is
    limited to :data:`EXACT_SHAPLEY_MAX_PLAYERS` (14: 16,384 coalitions, some 20-30 s for a
    :class:`CommunityGame` over a year of hourly data, under a second over a few representative days). Beyond
    that, use :func:`shapley_monte_carlo`.

    Properties: efficiency (values add up to ``v(N) - v(∅)``, and ``v(∅) = 0`` here), symmetry (players with the
    same marginal contributions get the same value), null player (a player who adds nothing gets 0).

    Raises
    ------
    ValueError
        No players, or more than :data:`EXACT_SHAPLEY_MAX_PLAYERS`.
    """
    n = len(game.players)
    if n == 0:
        raise ValueError("a game needs at least one player")
    if n > EXACT_SHAPLEY_MAX_PLAYERS:
        raise ValueError(
            f"shapley_exact enumerates all 2^n coalitions and accepts at most {EXACT_SHAPLEY_MAX_PLAYERS} players; "
            f"this game has {n} (2^{n} = {1 << n:,} coalitions): use shapley_monte_carlo"
        )
    codes, bits = _all_coalitions(n)
    v = _checked_values(game, bits)
    size = bits.sum(axis=1)
    fact = [math.factorial(s) for s in range(n + 1)]
    weight = np.array([fact[s] * fact[n - s - 1] / fact[n] for s in range(n)])
    phi = np.empty(n)
    for i in range(n):
        bit = np.int64(1 << i)
        without = codes[(codes & bit) == 0]
        phi[i] = float(np.dot(weight[size[without]], v[without | bit] - v[without]))
    return ShapleyValues(tuple(game.players), phi, np.zeros(n), None, float(v[-1]))


def shapley_monte_carlo(game: Game, samples: int, seed: int | np.random.Generator | None = None) -> ShapleyValues:
    """Shapley values estimated from random orders of the players (permutation sampling).

    Each sample is a uniformly random order of the players; a player's marginal contribution in it is
    ``v(predecessors + player) - v(predecessors)``, and its Shapley value is the mean over all orders. The estimate
    is the mean over ``samples`` orders and the error stated is its **standard error**: the sample standard
    deviation (ddof=1) of the player's contributions over the square root of ``samples`` [€]; about 95 % of
    estimates fall within two standard errors of the exact value for large ``samples``. In every order the
    contributions add up to ``v(N) - v(∅)``, so the estimates are efficient exactly (up to rounding).

    Worths are evaluated in batches (the ``n + 1`` prefixes of many orders at once), each coalition once per
    batch; with at most 20 players worths are also remembered across batches.

    Parameters
    ----------
    game : Game
    samples : int
        Number of random orders, at least 2.
    seed : int, Generator or None
        Seed of :func:`numpy.random.default_rng`, for reproducible estimates.

    Returns
    -------
    ShapleyValues
        With ``permutations = samples`` and the standard errors.
    """
    n = len(game.players)
    if n == 0:
        raise ValueError("a game needs at least one player")
    if samples < 2:
        raise ValueError(f"samples must be at least 2 to estimate a standard error, got {samples}")
    rng = np.random.default_rng(seed)
    chunk = max(1, min(samples, 8_000_000 // ((n + 1) * n)))
    cache: dict[bytes, float] | None = {} if n <= 20 else None
    count = 0
    mean = np.zeros(n)
    m2 = np.zeros(n)  # sums of squared deviations, merged chunk by chunk (Chan et al.)
    grand = 0.0
    positions = np.arange(n + 1)
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        perm = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)
        rank = np.empty_like(perm)
        rank[np.arange(k)[:, None], perm] = np.arange(n)
        prefix = (rank[:, None, :] < positions[None, :, None]).reshape(k * (n + 1), n)
        packed = np.packbits(prefix, axis=1)
        unique, inverse = np.unique(packed, axis=0, return_inverse=True)
        worth = np.empty(unique.shape[0])
        todo = []
        for j in range(unique.shape[0]):
            hit = cache.get(unique[j].tobytes()) if cache is not None else None
            if hit is None:
                todo.append(j)
            else:
                worth[j] = hit
        if todo:
            masks = np.unpackbits(unique[todo], axis=1, count=n).astype(np.bool_)
            worth[todo] = _checked_values(game, masks)
            if cache is not None:
                cache.update((unique[j].tobytes(), float(worth[j])) for j in todo)
        along = worth[np.asarray(inverse).reshape(-1)].reshape(k, n + 1)
        grand = float(along[0, -1])
        contrib = np.empty((k, n))
        contrib[np.arange(k)[:, None], perm] = np.diff(along, axis=1)
        chunk_mean = contrib.mean(axis=0)
        chunk_m2 = ((contrib - chunk_mean) ** 2).sum(axis=0)
        total = count + k
        delta = chunk_mean - mean
        m2 += chunk_m2 + delta**2 * count * k / total
        mean += delta * k / total
        count = total
    se = np.sqrt(np.maximum(m2, 0.0) / (samples - 1) / samples)
    return ShapleyValues(tuple(game.players), mean, se, samples, grand)


# Least core and nucleolus -----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ExcessSolution:
    """A payoff vector chosen by its excesses ``e(S, x) = v(S) - x(S)`` [€].

    Attributes
    ----------
    players : tuple of str
    value : (n,) float64 array
        Payoff of each player [€]; adds up to ``v(N)``.
    max_excess : float
        Largest excess over proper coalitions at ``value`` [€]: the least-core value ``epsilon_1``; the core is
        non-empty when it is <= 0.
    linear_programs : int
        Linear programs solved.
    """

    players: tuple[str, ...]
    value: FloatArray
    max_excess: float
    linear_programs: int

    def as_dict(self) -> dict[str, float]:
        """``{player: payoff}`` [€]."""
        return {p: float(v) for p, v in zip(self.players, self.value, strict=True)}


@dataclass(frozen=True)
class _LpResult:
    x: FloatArray
    ineq_dual: FloatArray


def _solve_lp(
    cost: FloatArray,
    a_ub: FloatArray,
    b_ub: FloatArray,
    a_eq: FloatArray,
    b_eq: FloatArray,
    bounds: list[tuple[float | None, float | None]],
) -> _LpResult:
    """Minimise ``cost @ z`` s.t. ``a_ub z <= b_ub``, ``a_eq z = b_eq`` with HiGHS (through SciPy)."""
    from scipy.optimize import linprog  # type: ignore[import-untyped]  # SciPy comes with pvlib

    res: Any = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linear program not solved: {res.message}")
    return _LpResult(np.asarray(res.x, dtype=np.float64), -np.asarray(res.ineqlin.marginals, dtype=np.float64))


def _excess_setup(game: Game, imputations: bool) -> tuple[int, BoolArray, FloatArray, float, FloatArray]:
    n = len(game.players)
    if n == 0:
        raise ValueError("a game needs at least one player")
    if n > NUCLEOLUS_MAX_PLAYERS:
        raise ValueError(
            f"the nucleolus and least core solve linear programs over all 2^n - 2 coalitions and accept at most "
            f"{NUCLEOLUS_MAX_PLAYERS} players; this game has {n}"
        )
    _, bits = _all_coalitions(n)
    v = _checked_values(game, bits)
    grand = float(v[-1])
    singles = v[1 << np.arange(n)]
    if imputations and singles.sum() > grand + 1e-9 * max(1.0, abs(grand)):
        raise ValueError(
            f"no imputation exists: the players' stand-alone worths add up to {singles.sum():.6g} €, more than "
            f"v(N) = {grand:.6g} €"
        )
    return n, bits[1:-1], v[1:-1], grand, singles


def _excess_lp(
    n: int,
    coalitions: BoolArray,
    worth: FloatArray,
    eq_rows: list[FloatArray],
    eq_rhs: list[float],
    lower: FloatArray | None,
) -> _LpResult:
    """min eps s.t. v(S) - x(S) <= eps for the given coalitions, the equalities, and x >= lower."""
    a = coalitions.astype(np.float64)
    a_ub = np.hstack([-a, -np.ones((a.shape[0], 1))])
    a_eq = np.array([np.append(row, 0.0) for row in eq_rows])
    bounds: list[tuple[float | None, float | None]] = [
        (None if lower is None else float(lower[i]), None) for i in range(n)
    ]
    bounds.append((None, None))
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    return _solve_lp(cost, a_ub, -worth, a_eq, np.asarray(eq_rhs), bounds)


def least_core(game: Game, *, imputations: bool = True) -> ExcessSolution:
    """A point of the least core: one linear program, the first step of the nucleolus.

    Solves ``min eps`` over payoffs ``x`` with ``sum(x) = v(N)`` and ``v(S) - x(S) <= eps`` for every proper
    coalition ``S`` (and ``x_i >= v({i})`` with ``imputations``), by HiGHS. ``eps`` (``max_excess``) is the
    least-core value; the least core is usually a set, and ``value`` is the point the solver returned, not a
    canonical choice: use :func:`nucleolus` for a unique point. At most :data:`NUCLEOLUS_MAX_PLAYERS` players.
    """
    n, coalitions, worth, grand, singles = _excess_setup(game, imputations)
    if n == 1:
        return ExcessSolution(tuple(game.players), np.array([grand]), -math.inf, 0)
    res = _excess_lp(n, coalitions, worth, [np.ones(n)], [grand], singles if imputations else None)
    x = res.x[:n]
    return ExcessSolution(tuple(game.players), x, float(np.max(worth - coalitions @ x)), 1)


def nucleolus(game: Game, *, imputations: bool = True) -> ExcessSolution:
    """The nucleolus: the imputation that lexicographically minimises the largest excesses.

    Method (Maschler, Peleg and Shapley's sequence of linear programs, with Kopelowitz's fixing rule): each stage
    solves ``min eps`` s.t. ``v(S) - x(S) <= eps`` for the coalitions still free, the equalities fixed so far and
    ``sum(x) = v(N)`` (and ``x_i >= v({i})``). The coalitions whose constraint has a positive dual price keep the
    excess ``eps`` at every optimum, so they are fixed (``x(S) = v(S) - eps``); coalitions whose indicator vector
    lies in the span of the fixed ones (and of the grand coalition) have a constant excess from then on and are
    dropped. Each stage adds at least one independent equality, so at most ``n`` linear programs are solved and the
    last one pins ``x`` down. Over the imputations (``x_i >= v({i})``) this is Schmeidler's nucleolus; with
    ``imputations=False`` it is the prenucleolus. At most :data:`NUCLEOLUS_MAX_PLAYERS` players (each program has
    2^n - 2 rows).

    Raises
    ------
    ValueError
        Too many players, or no imputation (stand-alone worths above ``v(N)``).
    RuntimeError
        A linear program the solver could not solve.
    """
    n, coalitions, worth, grand, singles = _excess_setup(game, imputations)
    if n == 1:
        return ExcessSolution(tuple(game.players), np.array([grand]), -math.inf, 0)
    lower = singles if imputations else None
    eq_rows: list[FloatArray] = [np.ones(n)]
    eq_rhs: list[float] = [grand]
    a = coalitions.astype(np.float64)
    free = np.ones(coalitions.shape[0], dtype=np.bool_)
    basis = np.ones((1, n)) / math.sqrt(n)  # orthonormal rows spanning the fixed coalitions
    x = np.zeros(n)
    lps = 0
    while free.any():
        idx = np.flatnonzero(free)
        res = _excess_lp(n, coalitions[idx], worth[idx], eq_rows, eq_rhs, lower)
        lps += 1
        x, eps = res.x[:n], float(res.x[n])
        dual = res.ineq_dual
        tight = idx[dual > _DUAL_TOL * max(1.0, float(dual.max()))]
        if tight.size == 0:  # cannot happen (the duals add up to 1), but never loop forever
            tight = idx[[int(np.argmax(dual))]]
        for s in tight:
            residual = a[s] - (basis @ a[s]) @ basis
            norm = float(np.linalg.norm(residual))
            if norm > _SPAN_TOL:
                eq_rows.append(a[s])
                eq_rhs.append(float(worth[s]) - eps)
                basis = np.vstack([basis, residual / norm])
        residuals = a[idx] - (a[idx] @ basis.T) @ basis
        free[idx[np.linalg.norm(residuals, axis=1) <= 1e-7]] = False
        if basis.shape[0] >= n:
            break
    return ExcessSolution(tuple(game.players), x, float(np.max(worth - a @ x)), lps)


# Regulations ------------------------------------------------------------------------------------------------------


def regulation_from_weights(weights: Mapping[str, float], *, total_share: float = 1.0) -> list[RegulationRule]:
    """A contribution-based split (e.g. Shapley values) as fixed shares the allocation can apply.

    Each recipient with a positive weight gets ``RegulationRule(to=id, share≈total_share x w / sum(w))``.
    Negative weights (a member whose presence lowers the money, possible with Shapley values) are clipped to 0
    before normalising, and recipients left with no share get no rule.

    The shares are whole multiples of 2^-53 (about 1.1e-16), apportioned by largest remainder with
    :func:`~condivisa.allocation.split_cents`: such numbers add up without rounding in any order, so the plain sum
    that :class:`~condivisa.model.community.Community` checks is exactly ``total_share`` (rounded to a multiple of
    2^-53, which is ``total_share`` itself from 0.5 up). Each share is within 2^-53 of its exact proportion; a
    weight below about 1e-16 of the total gets no rule. With ``total_share < 1`` the rules are meant to be joined
    to others (a fund, a referent) whose shares add up to ``1 - total_share``.

    Parameters
    ----------
    weights : mapping of str to float
        Recipient id (member id or ``fund:NAME``) -> weight [any unit, e.g. €].
    total_share : float
        Share of the money split by these weights, in (0, 1].

    Returns
    -------
    list of RegulationRule
        Fixed shares ``RegulationRule(to=id, share=...)``, in the order of ``weights``.

    Raises
    ------
    ValueError
        No positive weight, a non-finite weight, or ``total_share`` out of range.

    Examples
    --------
    >>> [(r.to, r.share) for r in regulation_from_weights({"a": 3.0, "b": -1.0, "c": 1.0})]
    [('a', 0.75), ('c', 0.25)]
    """
    if not 0.0 < total_share <= 1.0:
        raise ValueError(f"total_share must lie in (0, 1], got {total_share}")
    clipped: dict[str, float] = {}
    for key, w in weights.items():
        value = float(w)
        if not math.isfinite(value):
            raise ValueError(f"weight of {key!r} is not finite: {w}")
        if value > 0:
            clipped[key] = value
    if not clipped:
        raise ValueError("no positive weight: nothing to split by")
    units = split_cents(round(total_share * _SHARE_UNITS), clipped)
    return [RegulationRule(to=k, share=units[k] / _SHARE_UNITS) for k in clipped if units[k]]


def bases_from_settlement(settlement: Settlement) -> Bases:
    """What each recipient brings, as :func:`~condivisa.engine.settle.settle` gives it to the regulation.

    Producers are plant owners (members or third parties) with their incentivised and injected energy [kWh];
    consumers are all members with their shared withdrawal and withdrawal [kWh]; ``non_business`` the members
    that are not businesses.
    """
    community = settlement.community
    producers: dict[str, dict[str, float]] = {}
    for r in settlement.plant_results:
        b = producers.setdefault(r.owner, {"incentivised_injection": 0.0, "injected": 0.0})
        b["incentivised_injection"] += r.incentivised_kwh
        b["injected"] += r.injected_kwh
    consumers: dict[str, dict[str, float]] = {
        m.id: {"shared_withdrawal": 0.0, "withdrawn": 0.0} for m in community.members
    }
    for k, mid in enumerate(settlement.point_members):
        consumers[mid]["shared_withdrawal"] += float(settlement.energy.point_shared_withdrawal[k])
        consumers[mid]["withdrawn"] += float(settlement.energy.point_withdrawn[k])
    return Bases(
        producers=producers,
        consumers=consumers,
        non_business=frozenset(m.id for m in community.members if m.kind != "business"),
    )


Candidate: TypeAlias = Sequence[RegulationRule] | Mapping[str, float]
"""A candidate regulation: rules, or weights per recipient (a contribution-based split)."""


def compare_rules(settlement: Settlement, candidates: Mapping[str, Candidate], *, totals: bool = True) -> pd.DataFrame:
    """Each recipient's money under candidate regulations, for the settlement's period and total.

    Every candidate is applied by :func:`~condivisa.allocation.apply_regulation` to the settlement's total
    (TIP + valorisation, to the cent) with the settlement's bases and its yearly excess rule (``excess_to``), just
    as :func:`~condivisa.engine.settle.settle` applies the community's own regulation, so the amounts are exact
    cents and each column adds up to the total. A settlement over a calendar year gives yearly outcomes.

    Parameters
    ----------
    settlement : Settlement
    candidates : mapping of str to candidate
        Name -> a list of :class:`~condivisa.model.community.RegulationRule` (fixed quotas to ``fund:NAME`` or a
        member id, ``producers`` by incentivised_injection/injected/equal, ``consumers`` by
        shared_withdrawal/withdrawn/equal), or a mapping ``{recipient: weight}`` turned into fixed shares by
        :func:`regulation_from_weights` (e.g. ``shapley.as_dict()`` for the contribution-based split).
    totals : bool
        Append a :data:`TOTAL_ROW` row with each column's total.

    Returns
    -------
    pandas.DataFrame
        One row per recipient (members in the community's order, then third-party producers, funds and
        ``unallocated`` as they appear), one column per candidate, amounts in € (whole cents). ``attrs["warnings"]``
        holds the allocation's warnings per candidate.

    Raises
    ------
    ValueError
        A candidate that is not a valid regulation for this community (shares not adding up to 1, unknown
        recipient, bad basis), an empty candidate, or a member named like the totals row.
    """
    if not candidates:
        raise ValueError("no candidate regulation to compare")
    community = settlement.community
    bases = bases_from_settlement(settlement)
    total_cents = settlement.allocation.total_cents
    excess_cents = eur_to_cents(sum(s.excess_eur for s in settlement.excess_sets))
    columns: dict[str, dict[str, int]] = {}
    warnings: dict[str, list[str]] = {}
    for name, candidate in candidates.items():
        rules = _candidate_rules(name, candidate, community)
        allocation = apply_regulation(
            total_cents, rules, bases, excess_cents=excess_cents, excess_to=community.excess_to
        )
        columns[name] = allocation.by_recipient()
        warnings[name] = list(allocation.warnings)
    rows = [m.id for m in community.members]
    known = set(rows)
    for col in columns.values():
        for recipient in col:
            if recipient not in known:
                known.add(recipient)
                rows.append(recipient)
    frame = pd.DataFrame(
        {name: [col.get(r, 0) / 100 for r in rows] for name, col in columns.items()},
        index=pd.Index(rows, name="recipient"),
    )
    if totals:
        if TOTAL_ROW in known:
            raise ValueError(f"a recipient is named {TOTAL_ROW!r}: pass totals=False")
        frame.loc[TOTAL_ROW] = [sum(col.values()) / 100 for col in columns.values()]
    frame.attrs["warnings"] = warnings
    return frame


def _candidate_rules(name: str, candidate: Candidate, community: Community) -> list[RegulationRule]:
    if isinstance(candidate, Mapping):
        rules = regulation_from_weights(candidate)
    elif isinstance(candidate, str):
        raise ValueError(f"candidate {name!r}: expected a list of RegulationRule or a mapping of weights")
    else:
        rules = list(candidate)
    if not rules:
        raise ValueError(f"candidate {name!r} has no rules")
    if not all(isinstance(r, RegulationRule) for r in rules):
        raise ValueError(f"candidate {name!r}: every rule must be a RegulationRule")
    try:  # the community's own validation: shares add up to 1, recipients known
        Community.model_validate({**community.model_dump(), "regulation": [r.model_dump() for r in rules]})
    except ValueError as exc:
        raise ValueError(f"candidate {name!r} is not a valid regulation for {community.name!r}: {exc}") from exc
    return rules
