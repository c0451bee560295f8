"""Apply a community's benefit-sharing regulation to the money of a period.

Rules are applied to the total (TIP + valorisation, rounded to the cent): first the total is split among the
rules by their shares, then each rule's amount among its recipients by its basis. Every split uses
:func:`~condivisa.allocation.cents.split_cents`, so the lines add up exactly to the total and are never negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from condivisa.allocation.cents import split_cents
from condivisa.model.community import RegulationRule

UNALLOCATED = "unallocated"
"""Recipient of money that no rule could place (e.g. a producers' share in a community without producers)."""


@dataclass(frozen=True)
class Bases:
    """What each recipient brings, for the split of a rule's amount.

    Attributes
    ----------
    producers : mapping owner -> {"incentivised_injection": kWh, "injected": kWh}
    consumers : mapping member -> {"shared_withdrawal": kWh, "withdrawn": kWh}
    non_business : set of member ids
        Consumers that are not businesses (recipients of the yearly excess when ``excess_to: consumers``).
    order : mapping id -> int
        Tie-break rank for the last cent (by id unless given).
    """

    producers: Mapping[str, Mapping[str, float]]
    consumers: Mapping[str, Mapping[str, float]]
    non_business: frozenset[str] = frozenset()
    order: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AllocationLine:
    """Cents given to one recipient by one rule (``rule`` is the 0-based index, -1 for the excess carve-out)."""

    rule: int
    to: str
    amount_cents: int
    basis: str | None


@dataclass(frozen=True)
class Allocation:
    """Result of a regulation: lines per rule and recipient, and the warnings raised while splitting."""

    total_cents: int
    lines: tuple[AllocationLine, ...]
    warnings: tuple[str, ...] = ()

    def by_recipient(self) -> dict[str, int]:
        """Cents per recipient, summed over rules, in order of first appearance."""
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.to] = out.get(line.to, 0) + line.amount_cents
        return out


def _split_group(
    amount: int,
    group: Mapping[str, Mapping[str, float]],
    basis: str,
    label: str,
    rule: int,
    order: Mapping[str, int],
    warnings: list[str],
) -> list[AllocationLine]:
    if amount == 0:
        return []
    if not group:
        warnings.append(f"regola {rule + 1} ({label}): nessun destinatario; {amount / 100:.2f} € non ripartiti")
        return [AllocationLine(rule, UNALLOCATED, amount, basis)]
    if basis == "equal":
        weights = dict.fromkeys(group, 1.0)
    else:
        weights = {k: float(v.get(basis, 0.0)) for k, v in group.items()}
        if sum(weights.values()) <= 0:
            warnings.append(f"regola {rule + 1} ({label} per {basis}): base nulla, ripartizione in parti uguali")
            weights = dict.fromkeys(group, 1.0)
    parts = split_cents(amount, weights, order=order)
    return [AllocationLine(rule, k, v, basis) for k, v in parts.items() if v]


def apply_regulation(
    total_cents: int,
    rules: Sequence[RegulationRule],
    bases: Bases,
    *,
    excess_cents: int = 0,
    excess_to: str | None = None,
) -> Allocation:
    """Split ``total_cents`` by the regulation.

    Parameters
    ----------
    total_cents : int
        TIP + valorisation of the period, rounded to the cent.
    rules : sequence of RegulationRule
        Shares summing to 1 (checked when the community was validated).
    bases : Bases
    excess_cents : int
        Yearly excess TIP [cent] to route first to ``excess_to`` (``fund:NAME`` or ``consumers``, meaning
        consumers that are not businesses by shared withdrawal); ignored without ``excess_to``.
    """
    warnings: list[str] = []
    lines: list[AllocationLine] = []
    remaining = total_cents
    order = bases.order
    if excess_to and excess_cents > 0:
        carve = min(excess_cents, total_cents)
        if excess_to == "consumers":
            households = {k: v for k, v in bases.consumers.items() if k in bases.non_business}
            lines += _split_group(carve, households, "shared_withdrawal", "quota eccedentaria", -1, order, warnings)
        else:
            lines.append(AllocationLine(-1, excess_to, carve, None))
        remaining -= carve
    if not rules:
        if remaining:
            warnings.append("nessun regolamento: importo non ripartito")
            lines.append(AllocationLine(len(rules), UNALLOCATED, remaining, None))
        return Allocation(total_cents, tuple(lines), tuple(warnings))
    per_rule = split_cents(
        remaining,
        {str(i): r.share for i, r in enumerate(rules)},
        order={str(i): i for i in range(len(rules))},
    )
    for i, rule in enumerate(rules):
        amount = per_rule[str(i)]
        if rule.to == "producers":
            lines += _split_group(amount, bases.producers, str(rule.by), "producers", i, order, warnings)
        elif rule.to == "consumers":
            lines += _split_group(amount, bases.consumers, str(rule.by), "consumers", i, order, warnings)
        elif amount:
            lines.append(AllocationLine(i, rule.to, amount, None))
    return Allocation(total_cents, tuple(lines), tuple(warnings))
