"""Export of a settlement for the utility's billing: a CSV row per member and POD.

Format (one choice, documented here and in the header row):

- UTF-8 without byte-order mark, ``;`` as separator, ``\\n`` line ends, a header row;
- columns ``community;settlement_id;period_start;period_end;member;name;pod;withdrawn_kwh;shared_withdrawal_kwh;
  amount_eur``;
- dates ISO ``YYYY-MM-DD`` (unambiguous for programs);
- numbers without thousands separators, with the decimal separator ``decimal`` (default ``,`` so that Italian
  spreadsheets read them as numbers; ``.`` for programs): energies with 3 decimals [kWh], money with 2 [€],
  exact from integer cents.

Rows: members in the order of the settlement document's ``per_member`` section, then members that only receive
money (plant owners without withdrawal). A member with one POD, or whose PODs' figures are not in the document,
has one row (its PODs joined by ``+``). When the document carries per-POD figures (a ``per_point`` list of
``{"pod", "member", "withdrawn_kwh", "shared_withdrawal_kwh"}``), a member with several PODs gets one row per POD
and its amount is split among them in proportion to their shared withdrawal (else their withdrawal, else equally)
with :func:`condivisa.allocation.cents.split_cents`, so that the rows still add up to the cent. Recipients that are
not members (``fund:NAME``, third parties) are not billed and not listed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from condivisa.allocation.cents import split_cents

COLUMNS = (
    "community",
    "settlement_id",
    "period_start",
    "period_end",
    "member",
    "name",
    "pod",
    "withdrawn_kwh",
    "shared_withdrawal_kwh",
    "amount_eur",
)


@dataclass(frozen=True)
class BillingMember:
    """A member as the billing needs it: id, name and PODs."""

    id: str
    name: str
    pods: tuple[str, ...]


@dataclass(frozen=True)
class BillingRow:
    """One row of the export: energies [kWh], amount [cents]."""

    member: str
    name: str
    pod: str
    withdrawn_kwh: float
    shared_withdrawal_kwh: float
    amount_cents: int


def _cents(amount_eur: Any) -> int:
    return int((Decimal(str(amount_eur)) * 100).to_integral_value())


def member_amounts(document: Mapping[str, Any]) -> dict[str, int]:
    """Cents per recipient from the document's ``allocation_detail`` (its ``allocation`` when absent)."""
    out: dict[str, int] = {}
    for line in document.get("allocation_detail") or document.get("allocation") or []:
        out[str(line["to"])] = out.get(str(line["to"]), 0) + _cents(line["amount_eur"])
    return out


def billing_rows(document: Mapping[str, Any], members: Iterable[BillingMember]) -> list[BillingRow]:
    """The rows of the export of a settlement document (see the module's description).

    Parameters
    ----------
    document : mapping
        A settlement document (:func:`condivisa.report.settlement_document`, or a stored one).
    members : iterable of BillingMember
        The community's members; recipients and ``per_member`` ids not among them are not members (a member
        missing from this list but present in ``per_member`` gets a row with an empty name and POD).
    """
    known = {m.id: m for m in members}
    amounts = member_amounts(document)
    per_member = {str(m["id"]): m for m in document.get("per_member", [])}
    per_point: dict[str, list[Mapping[str, Any]]] = {}
    for p in document.get("per_point", []):
        per_point.setdefault(str(p["member"]), []).append(p)
    order = list(per_member) + [k for k in amounts if k in known and k not in per_member]
    rows: list[BillingRow] = []
    for member_id in order:
        info = known.get(member_id, BillingMember(member_id, "", ()))
        figures = per_member.get(member_id, {})
        cents = amounts.get(member_id, 0)
        points = per_point.get(member_id, [])
        if len(points) > 1:
            rows.extend(_split(member_id, info.name, points, cents))
            continue
        rows.append(
            BillingRow(
                member=member_id,
                name=info.name,
                pod="+".join(info.pods),
                withdrawn_kwh=float(figures.get("withdrawn_kwh", 0.0)),
                shared_withdrawal_kwh=float(figures.get("shared_withdrawal_kwh", 0.0)),
                amount_cents=cents,
            )
        )
    return rows


def _split(member: str, name: str, points: Sequence[Mapping[str, Any]], cents: int) -> list[BillingRow]:
    pods = [str(p["pod"]) for p in points]
    order = {pod: k for k, pod in enumerate(pods)}
    parts: dict[str, int] = dict.fromkeys(pods, 0)
    for key in ("shared_withdrawal_kwh", "withdrawn_kwh", None):
        weights = {str(p["pod"]): (float(p.get(key, 0.0)) if key else 1.0) for p in points}
        if cents and sum(weights.values()) > 0:
            parts = split_cents(cents, weights, order=order)
            break
    return [
        BillingRow(
            member=member,
            name=name,
            pod=str(p["pod"]),
            withdrawn_kwh=float(p.get("withdrawn_kwh", 0.0)),
            shared_withdrawal_kwh=float(p.get("shared_withdrawal_kwh", 0.0)),
            amount_cents=parts[str(p["pod"])],
        )
        for p in points
    ]


def _number(value: Decimal, digits: int, decimal: str) -> str:
    return f"{value:.{digits}f}".replace(".", decimal)


def billing_csv(
    document: Mapping[str, Any],
    members: Iterable[BillingMember],
    *,
    settlement_id: int | None = None,
    decimal: str = ",",
) -> str:
    """The CSV text of the export (see the module's description for the format).

    Parameters
    ----------
    document : mapping
        A settlement document.
    members : iterable of BillingMember
    settlement_id : int, optional
        Written in its column (empty when None).
    decimal : str
        Decimal separator, ``","`` (Italian spreadsheets, default) or ``"."``.

    Raises
    ------
    ValueError
        Another decimal separator.
    """
    if decimal not in (",", "."):
        raise ValueError(f"separatore decimale {decimal!r} non ammesso: ',' o '.'")
    period = document.get("period", {})
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in billing_rows(document, members):
        writer.writerow(
            [
                document.get("community", ""),
                "" if settlement_id is None else settlement_id,
                period.get("start", ""),
                period.get("end", ""),
                r.member,
                r.name,
                r.pod,
                _number(Decimal(repr(r.withdrawn_kwh)), 3, decimal),
                _number(Decimal(repr(r.shared_withdrawal_kwh)), 3, decimal),
                _number(Decimal(r.amount_cents) / 100, 2, decimal),
            ]
        )
    return out.getvalue()
