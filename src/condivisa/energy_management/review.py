"""Energy review and management review helpers (ISO 50001:2018 clauses 6.3, 6.2, 9.3).

Significant energy uses (:func:`significant_energy_uses`)
    ISO 50001:2018 3.5.6 calls significant an energy use that accounts for substantial consumption and/or offers
    considerable potential for improvement, by criteria the organisation sets. The criterion here is the usual
    Pareto one: uses sorted by energy, largest first (ties by name), are significant until together they reach
    ``share`` (default 80 %) of the total, the use that crosses the line included. Uses named in
    ``also_significant`` (improvement potential) are added whatever their size.

Targets (:func:`track_targets`)
    An EnPI is compared with its target per period: *on track* when it is no worse than the target (by at most a
    relative ``tolerance``), *off track* otherwise, *no data* when either value is missing. ``lower_is_better``
    says the direction (energy, kWh/unit, actual/expected: lower is better). :func:`target_trajectory` draws the
    straight path from the baseline value to the target.

Management review (:func:`management_review`)
    What a review report needs from the numbers (ISO 50001:2018 9.3 inputs): the EnPI trend, the verified savings
    and their uncertainty, the extent to which targets were met, the status of the action plans (overdue ones
    named), the significant energy uses, the acceptance of the baseline, and the points needing attention, as
    one data structure with a JSON-ready :meth:`ManagementReview.to_dict`.

Pure computation: no files, no database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from condivisa.energy_management.baseline import AcceptanceCheck
from condivisa.energy_management.savings import SavingsReport

DEFAULT_SEU_SHARE = 0.80

STATUS_ON_TRACK = "on_track"
STATUS_OFF_TRACK = "off_track"
STATUS_NO_DATA = "no_data"

ACTION_PLANNED = "planned"
ACTION_IN_PROGRESS = "in_progress"
ACTION_DONE = "done"
ACTION_CANCELLED = "cancelled"
ACTION_STATUSES = (ACTION_PLANNED, ACTION_IN_PROGRESS, ACTION_DONE, ACTION_CANCELLED)

REASON_PARETO = "pareto"
REASON_POTENTIAL = "potential"


# --- significant energy uses -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignificantEnergyUses:
    """Outcome of :func:`significant_energy_uses`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per use, largest first: ``use``, ``energy_kwh``, ``share``, ``cumulative_share``, ``significant``,
        ``reason`` ("pareto", "potential" or "").
    share : float
        The Pareto line used (0..1).
    """

    table: pd.DataFrame = field(repr=False)
    share: float

    @property
    def uses(self) -> tuple[str, ...]:
        """The significant uses, largest first."""
        return tuple(str(u) for u in self.table.loc[self.table["significant"], "use"])

    @property
    def significant_share(self) -> float:
        """Share of the total consumption of the significant uses [unitless]."""
        return float(self.table.loc[self.table["significant"], "share"].sum())


def significant_energy_uses(
    consumption: Mapping[str, float] | pd.Series,
    *,
    share: float = DEFAULT_SEU_SHARE,
    also_significant: Collection[str] = (),
) -> SignificantEnergyUses:
    """Significant energy uses by the Pareto rule.

    Parameters
    ----------
    consumption : mapping or pandas.Series
        Energy per use over the review period [kWh], >= 0.
    share : float, default 0.8
        Cumulative share the significant uses must reach (0 < share <= 1).
    also_significant : collection of str
        Uses significant for their improvement potential, whatever their size.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"quota degli usi significativi {share} fuori da (0, 1]")
    items = [(str(k), float(v)) for k, v in dict(consumption).items()]
    for use, kwh in items:
        if not kwh >= 0.0:
            raise ValueError(f"uso {use!r}: consumo non valido {kwh} (servono valori >= 0)")
    unknown = set(also_significant) - {u for u, _ in items}
    if unknown:
        raise ValueError(f"usi significativi per potenziale non presenti nei consumi: {sorted(unknown)}")
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    total = sum(v for _, v in items)
    rows: list[dict[str, Any]] = []
    cumulative = 0.0
    for use, kwh in items:
        frac = kwh / total if total > 0 else 0.0
        pareto = total > 0 and kwh > 0 and cumulative < share - 1e-12
        cumulative += frac
        reason = REASON_PARETO if pareto else (REASON_POTENTIAL if use in also_significant else "")
        rows.append(
            {
                "use": use,
                "energy_kwh": kwh,
                "share": frac,
                "cumulative_share": cumulative,
                "significant": bool(reason),
                "reason": reason,
            }
        )
    columns = ["use", "energy_kwh", "share", "cumulative_share", "significant", "reason"]
    return SignificantEnergyUses(pd.DataFrame(rows, columns=columns), share)


# --- targets ---------------------------------------------------------------------------------------------------


def target_trajectory(baseline_value: float, target_value: float, index: pd.Index) -> pd.Series:
    """Straight path from ``baseline_value`` (before the first period) to ``target_value`` (at the last period).

    Period ``k`` of ``N`` (1-based) gets ``baseline + (target - baseline) * k / N``.
    """
    n = len(index)
    if n == 0:
        return pd.Series([], index=index, dtype=float, name="target")
    k = np.arange(1, n + 1, dtype=float)
    return pd.Series(baseline_value + (target_value - baseline_value) * k / n, index=index, name="target")


def track_targets(
    enpi: pd.Series,
    target: pd.Series | float,
    *,
    lower_is_better: bool = True,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """EnPI against target per period.

    Parameters
    ----------
    enpi : pandas.Series
        EnPI per period.
    target : pandas.Series or float
        Target per period (aligned on ``enpi``) or one value for all.
    lower_is_better : bool, default True
    tolerance : float, default 0
        Relative margin still on track: with lower-is-better, on track when ``enpi <= target * (1 + tolerance)``.

    Returns
    -------
    pandas.DataFrame
        ``enpi``, ``target``, ``gap`` (enpi - target, same unit), ``gap_pct`` (gap / |target| × 100), ``status``
        ("on_track", "off_track", "no_data").
    """
    if tolerance < 0:
        raise ValueError(f"tolleranza negativa: {tolerance}")
    values = enpi.astype(float)
    if isinstance(target, pd.Series):
        tgt = target.reindex(values.index).astype(float)
    else:
        tgt = pd.Series(float(target), index=values.index)
    gap = values - tgt
    margin = tolerance * tgt.abs()
    on = gap <= margin if lower_is_better else gap >= -margin
    status = np.where(values.isna() | tgt.isna(), STATUS_NO_DATA, np.where(on, STATUS_ON_TRACK, STATUS_OFF_TRACK))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_pct = 100.0 * gap / tgt.abs().where(tgt != 0)
    return pd.DataFrame({"enpi": values, "target": tgt, "gap": gap, "gap_pct": gap_pct, "status": status})


# --- actions ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """An action plan item (ISO 50001:2018 6.2).

    Parameters
    ----------
    id, title : str
    status : {"planned", "in_progress", "done", "cancelled"}
    due : datetime.date, optional
    significant_use : str, optional
        The SEU the action addresses.
    responsible : str, optional
    expected_savings_kwh, verified_savings_kwh : float, optional
        Per year [kWh]; verified from :func:`~condivisa.energy_management.savings.verify_savings`.
    """

    id: str
    title: str
    status: str = ACTION_PLANNED
    due: dt.date | None = None
    significant_use: str | None = None
    responsible: str | None = None
    expected_savings_kwh: float | None = None
    verified_savings_kwh: float | None = None

    def __post_init__(self) -> None:
        if self.status not in ACTION_STATUSES:
            allowed = ", ".join(ACTION_STATUSES)
            raise ValueError(f"azione {self.id}: stato {self.status!r} non valido; servono {allowed}")

    def overdue(self, on: dt.date) -> bool:
        """Still open (planned or in progress) after its due date."""
        return self.status in (ACTION_PLANNED, ACTION_IN_PROGRESS) and self.due is not None and self.due < on


# --- management review -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnpiTrend:
    """Trend of an EnPI over the reviewed periods.

    Attributes
    ----------
    values : pandas.Series
        The EnPI per period.
    first, last : float
        First and last available values.
    change_pct : float
        ``(last - first) / |first| × 100`` [%].
    slope_per_period : float
        Least-squares slope over the available periods, in EnPI units per period.
    improving : bool
        The slope goes the good way (down when lower is better).
    """

    values: pd.Series = field(repr=False)
    first: float
    last: float
    change_pct: float
    slope_per_period: float
    improving: bool


def enpi_trend(enpi: pd.Series, *, lower_is_better: bool = True) -> EnpiTrend:
    """Trend of an EnPI series (NaN periods skipped, positions kept for the slope)."""
    values = enpi.astype(float)
    pos = np.flatnonzero(values.notna().to_numpy())
    if len(pos) == 0:
        return EnpiTrend(values, math.nan, math.nan, math.nan, math.nan, False)
    y = values.to_numpy()[pos]
    first, last = float(y[0]), float(y[-1])
    slope = float(np.polyfit(pos.astype(float), y, 1)[0]) if len(pos) >= 2 else 0.0
    change = 100.0 * (last - first) / abs(first) if first != 0 else math.nan
    improving = slope < 0 if lower_is_better else slope > 0
    return EnpiTrend(values, first, last, change, slope, bool(improving))


@dataclass(frozen=True)
class ManagementReview:
    """Numbers for an ISO 50001 management review (module docstring).

    Attributes
    ----------
    period_start, period_end : datetime.date
        Reviewed period (inclusive).
    enpi : EnpiTrend
    targets : pandas.DataFrame or None
        From :func:`track_targets`.
    savings : SavingsReport or None
    actions : tuple of Action
    significant_uses : SignificantEnergyUses or None
    baseline_acceptance : AcceptanceCheck or None
    attention : tuple of str
        Points needing the review's attention, in Italian, for the report.
    """

    period_start: dt.date
    period_end: dt.date
    enpi: EnpiTrend
    targets: pd.DataFrame | None = field(repr=False)
    savings: SavingsReport | None
    actions: tuple[Action, ...]
    significant_uses: SignificantEnergyUses | None
    baseline_acceptance: AcceptanceCheck | None
    attention: tuple[str, ...]

    def target_counts(self) -> dict[str, int]:
        """Periods per target status."""
        counts = {STATUS_ON_TRACK: 0, STATUS_OFF_TRACK: 0, STATUS_NO_DATA: 0}
        if self.targets is not None:
            for s in self.targets["status"]:
                counts[str(s)] += 1
        return counts

    def actions_by_status(self) -> dict[str, int]:
        """Actions per status."""
        counts = dict.fromkeys(ACTION_STATUSES, 0)
        for a in self.actions:
            counts[a.status] += 1
        return counts

    def overdue_actions(self) -> tuple[str, ...]:
        """Ids of the actions still open after their due date at the end of the period."""
        return tuple(a.id for a in self.actions if a.overdue(self.period_end))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (dates and timestamps as ISO strings, NaN as None)."""
        out: dict[str, Any] = {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "enpi": {
                "values": _series_dict(self.enpi.values),
                "first": _num(self.enpi.first),
                "last": _num(self.enpi.last),
                "change_pct": _num(self.enpi.change_pct),
                "slope_per_period": _num(self.enpi.slope_per_period),
                "improving": self.enpi.improving,
            },
            "targets": None,
            "savings": None,
            "actions": {
                "by_status": self.actions_by_status(),
                "overdue": list(self.overdue_actions()),
                "items": [
                    {
                        "id": a.id,
                        "title": a.title,
                        "status": a.status,
                        "due": a.due.isoformat() if a.due else None,
                        "significant_use": a.significant_use,
                        "responsible": a.responsible,
                        "expected_savings_kwh": _num(a.expected_savings_kwh),
                        "verified_savings_kwh": _num(a.verified_savings_kwh),
                    }
                    for a in self.actions
                ],
            },
            "significant_uses": None,
            "baseline_acceptance": None,
            "attention": list(self.attention),
        }
        if self.targets is not None:
            out["targets"] = {
                "counts": self.target_counts(),
                "periods": [
                    {
                        "period": _key(k),
                        "enpi": _num(r["enpi"]),
                        "target": _num(r["target"]),
                        "gap": _num(r["gap"]),
                        "status": str(r["status"]),
                    }
                    for k, r in self.targets.iterrows()
                ],
            }
        if self.savings is not None:
            s = self.savings
            out["savings"] = {
                "adjusted_baseline_kwh": _num(s.adjusted_baseline_kwh),
                "actual_kwh": _num(s.actual_kwh),
                "non_routine_kwh": _num(s.non_routine_kwh),
                "avoided_energy_kwh": _num(s.avoided_energy_kwh),
                "savings_fraction": _num(s.savings_fraction),
                "uncertainty_kwh": _num(s.uncertainty.absolute_kwh),
                "confidence": s.uncertainty.confidence,
                "fsu_68": _num(s.fsu_68),
                "meets_ashrae14": s.meets_ashrae14,
                "cumulative": _series_dict(s.periods["cumulative_avoided_energy"]),
            }
        if self.significant_uses is not None:
            t = self.significant_uses.table
            out["significant_uses"] = {
                "share": self.significant_uses.share,
                "uses": list(self.significant_uses.uses),
                "table": [
                    {
                        "use": str(r["use"]),
                        "energy_kwh": _num(r["energy_kwh"]),
                        "share": _num(r["share"]),
                        "significant": bool(r["significant"]),
                        "reason": str(r["reason"]),
                    }
                    for _, r in t.iterrows()
                ],
            }
        if self.baseline_acceptance is not None:
            a = self.baseline_acceptance
            out["baseline_acceptance"] = {
                "passed": a.passed,
                "failures": list(a.failures),
                "source": a.criteria.source,
            }
        return out


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _key(k: Any) -> str:
    return k.isoformat() if hasattr(k, "isoformat") else str(k)


def _series_dict(s: pd.Series) -> dict[str, float | None]:
    return {_key(k): _num(v) for k, v in s.items()}


def management_review(
    *,
    period_start: dt.date,
    period_end: dt.date,
    enpi: pd.Series,
    lower_is_better: bool = True,
    targets: pd.DataFrame | None = None,
    savings: SavingsReport | None = None,
    actions: Sequence[Action] = (),
    significant_uses: SignificantEnergyUses | None = None,
    baseline_acceptance: AcceptanceCheck | None = None,
) -> ManagementReview:
    """Assemble the numbers of a management review and list the points needing attention.

    Parameters
    ----------
    period_start, period_end : datetime.date
        Reviewed period, inclusive.
    enpi : pandas.Series
        The EnPI per period (typically the regression EnPI, actual / expected).
    lower_is_better : bool, default True
    targets : pandas.DataFrame, optional
        From :func:`track_targets`.
    savings : SavingsReport, optional
    actions : sequence of Action
    significant_uses : SignificantEnergyUses, optional
    baseline_acceptance : AcceptanceCheck, optional
    """
    if period_end < period_start:
        raise ValueError(f"riesame: fine {period_end} prima dell'inizio {period_start}")
    ids = [a.id for a in actions]
    if len(set(ids)) != len(ids):
        raise ValueError("riesame: azioni con lo stesso identificativo")
    trend = enpi_trend(enpi, lower_is_better=lower_is_better)
    attention: list[str] = []
    if baseline_acceptance is not None and not baseline_acceptance.passed:
        attention.append("baseline non accettabile: " + "; ".join(baseline_acceptance.failures))
    if len(trend.values.dropna()) >= 2 and not trend.improving:
        attention.append("l'indicatore di prestazione energetica (EnPI) non migliora nel periodo")
    if targets is not None:
        off = targets.index[targets["status"] == STATUS_OFF_TRACK]
        if len(off):
            attention.append(f"obiettivo non rispettato in {len(off)} periodi su {len(targets)}")
    if savings is not None:
        if savings.avoided_energy_kwh <= 0:
            attention.append("nessun risparmio verificato nel periodo")
        elif not savings.meets_ashrae14:
            attention.append(
                f"incertezza del risparmio al 68% pari al {100 * savings.fsu_68:.0f}% del risparmio "
                "(ASHRAE 14 chiede meno del 50%)"
            )
    overdue = [a.id for a in actions if a.overdue(period_end)]
    if overdue:
        attention.append("azioni scadute e non concluse: " + ", ".join(overdue))
    if significant_uses is not None:
        covered = {a.significant_use for a in actions if a.status != ACTION_CANCELLED}
        uncovered = [u for u in significant_uses.uses if u not in covered]
        if uncovered:
            attention.append("usi energetici significativi senza azioni: " + ", ".join(uncovered))
    return ManagementReview(
        period_start=period_start,
        period_end=period_end,
        enpi=trend,
        targets=targets,
        savings=savings,
        actions=tuple(actions),
        significant_uses=significant_uses,
        baseline_acceptance=baseline_acceptance,
        attention=tuple(attention),
    )
