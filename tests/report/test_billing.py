"""Billing export: one row per member (and POD), totals that read back exactly, Italian or dot decimals."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from condivisa.report.billing import COLUMNS, BillingMember, billing_csv, billing_rows
from tests.store.settled import demo_settled


def read(text: str, decimal: str = ",") -> list[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    for r in rows:
        for key in ("withdrawn_kwh", "shared_withdrawal_kwh", "amount_eur"):
            r[key] = Decimal(r[key].replace(decimal, "."))
    return rows


def members() -> list[BillingMember]:
    return [BillingMember(m.id, m.name, tuple(p.pod for p in m.pods)) for m in demo_settled().community.members]


def test_totals_read_back_exactly() -> None:
    settled = demo_settled()
    doc = settled.document
    text = billing_csv(doc, members(), settlement_id=7)
    assert text.splitlines()[0] == ";".join(COLUMNS)
    rows = read(text)
    member_ids = {m.id for m in settled.community.members}
    paid = sum(x.amount_cents for x in settled.lines if x.to in member_ids)
    assert sum(r["amount_eur"] for r in rows) * 100 == paid
    assert sum(r["withdrawn_kwh"] for r in rows) == sum(Decimal(repr(m["withdrawn_kwh"])) for m in doc["per_member"])
    assert sum(r["shared_withdrawal_kwh"] for r in rows) == sum(
        Decimal(repr(m["shared_withdrawal_kwh"])) for m in doc["per_member"]
    )
    assert {r["member"] for r in rows} <= member_ids
    assert not any(r["member"].startswith("fund:") for r in rows)
    assert {(r["settlement_id"], r["period_start"], r["period_end"], r["community"]) for r in rows} == {
        ("7", doc["period"]["start"], doc["period"]["end"], doc["community"])
    }
    by_member = {r["member"]: r for r in rows}
    m01 = next(m for m in settled.community.members if m.id == "m01")
    assert by_member["m01"]["pod"] == "+".join(p.pod for p in m01.pods) and by_member["m01"]["name"] == m01.name
    per_member_cents: dict[str, int] = {}
    for x in settled.lines:
        per_member_cents[x.to] = per_member_cents.get(x.to, 0) + x.amount_cents
    for member_id, r in by_member.items():
        assert r["amount_eur"] * 100 == per_member_cents.get(member_id, 0)


def test_dot_decimals_and_no_comma_in_numbers() -> None:
    doc = demo_settled().document
    comma = billing_csv(doc, members())
    dot = billing_csv(doc, members(), decimal=".")
    assert read(comma) == read(dot, ".")
    numbers = [line.split(";")[-3:] for line in dot.splitlines()[1:]]
    assert all("," not in n for row in numbers for n in row)
    with pytest.raises(ValueError):
        billing_csv(doc, members(), decimal=";")


def test_per_point_figures_give_a_row_per_pod_adding_up_to_the_cent() -> None:
    doc = {
        "community": "CER Prova",
        "period": {"start": "2025-01-01", "end": "2025-01-31"},
        "per_member": [
            {"id": "a", "withdrawn_kwh": 30.0, "shared_withdrawal_kwh": 3.0},
            {"id": "b", "withdrawn_kwh": 5.5, "shared_withdrawal_kwh": 0.0},
        ],
        "per_point": [
            {"pod": "IT001E00000001", "member": "a", "withdrawn_kwh": 10.0, "shared_withdrawal_kwh": 1.0},
            {"pod": "IT001E00000002", "member": "a", "withdrawn_kwh": 20.0, "shared_withdrawal_kwh": 2.0},
            {"pod": "IT001E00000003", "member": "b", "withdrawn_kwh": 5.5, "shared_withdrawal_kwh": 0.0},
        ],
        "allocation_detail": [
            {"rule": 1, "to": "fund:x", "basis": None, "amount_eur": 1.0},
            {"rule": 2, "to": "a", "basis": "shared_withdrawal", "amount_eur": 1.0},
            {"rule": 3, "to": "p", "basis": "injected", "amount_eur": 2.5},
        ],
    }
    people = [
        BillingMember("a", "Anna", ("IT001E00000001", "IT001E00000002")),
        BillingMember("b", "Bruno", ("IT001E00000003",)),
        BillingMember("p", "Produttore", ()),
    ]
    rows = billing_rows(doc, people)
    assert [(r.member, r.pod) for r in rows] == [
        ("a", "IT001E00000001"),
        ("a", "IT001E00000002"),
        ("b", "IT001E00000003"),
        ("p", ""),
    ]
    # 100 cents by shared withdrawal 1 : 2 -> quotas 33.33 and 66.67, the leftover cent to the larger remainder
    assert [(r.amount_cents, r.withdrawn_kwh) for r in rows if r.member == "a"] == [(33, 10.0), (67, 20.0)]
    assert rows[3].amount_cents == 250 and rows[2].amount_cents == 0
    parsed = read(billing_csv(doc, people))
    assert sum(r["amount_eur"] for r in parsed) == Decimal("3.50")
