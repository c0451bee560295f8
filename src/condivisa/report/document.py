"""The settlement JSON document. Its keys are a product interface: keep them, add freely."""

from __future__ import annotations

from typing import Any

from condivisa import __version__
from condivisa.engine.settle import Settlement
from condivisa.engine.timegrid import LOCAL_TZ


def _kwh(x: float) -> float:
    return round(float(x), 3)


def _eur(x: float) -> float:
    return round(float(x), 2)


def settlement_document(s: Settlement) -> dict[str, Any]:
    """Build the JSON-ready document of a settlement.

    Energies in kWh rounded to the Wh, money in € rounded to the cent; allocation amounts are exact cents that
    add up to ``incentive_eur.total`` rounded to the cent.
    """
    e, m = s.energy, s.money
    per_cabina = [
        {
            "cabina": c,
            "withdrawn_kwh": _kwh(e.cabina_withdrawn[i].sum()),
            "injected_kwh": _kwh(e.cabina_injected[i].sum()),
            "incentivised_kwh": _kwh(e.cabina_incentivised[i].sum()),
        }
        for i, c in enumerate(s.cabine)
    ]
    per_plant = [
        {
            "id": r.id,
            "owner": r.owner,
            "cabina": r.cabina,
            "injected_kwh": _kwh(r.injected_kwh),
            "incentivised_kwh": _kwh(r.incentivised_kwh),
            "tip_eur": _eur(r.tip_eur),
            "excess_eur": _eur(r.excess_eur),
            "earns_tip": r.earns_tip,
        }
        for r in s.plant_results
    ]
    by_recipient = s.allocation.by_recipient()
    allocation = [{"to": k, "amount_eur": v / 100} for k, v in by_recipient.items()]
    detail = [
        {
            "rule": line.rule + 1 if line.rule >= 0 else "excess",
            "to": line.to,
            "basis": line.basis,
            "amount_eur": line.amount_cents / 100,
        }
        for line in s.allocation.lines
    ]
    members: dict[str, dict[str, float]] = {}
    for k, member in enumerate(s.point_members):
        d = members.setdefault(member, {"withdrawn_kwh": 0.0, "shared_withdrawal_kwh": 0.0})
        d["withdrawn_kwh"] += float(e.point_withdrawn[k])
        d["shared_withdrawal_kwh"] += float(e.point_shared_withdrawal[k])
    valorisation = float(m.valorisation.sum())
    losses = float(m.avoided_losses.sum())
    return {
        "community": s.community.name,
        "configuration": s.community.configuration,
        "zone": s.zone,
        "period": {
            "start": s.period.start.isoformat(),
            "end": s.period.end.isoformat(),
            "start_local": s.period.start_utc.tz_convert(LOCAL_TZ).isoformat(),
            "end_local_exclusive": s.period.end_utc.tz_convert(LOCAL_TZ).isoformat(),
        },
        "hours": len(s.hours),
        "energy_kwh": {
            "withdrawn": _kwh(e.withdrawn.sum()),
            "injected": _kwh(e.injected.sum()),
            "shared": _kwh(e.shared.sum()),
            "incentivised": _kwh(e.incentivised.sum()),
        },
        "per_cabina": per_cabina,
        "per_plant": per_plant,
        "per_member": [
            {
                "id": k,
                "withdrawn_kwh": _kwh(v["withdrawn_kwh"]),
                "shared_withdrawal_kwh": _kwh(v["shared_withdrawal_kwh"]),
            }
            for k, v in members.items()
        ],
        "incentive_eur": {
            "tip": _eur(s.tip_eur),
            "valorisation": _eur(valorisation + losses),
            "avoided_losses": _eur(losses),
            "total": s.allocation.total_cents / 100,
        },
        "excess": [
            {
                "set": x.name,
                "threshold": x.threshold,
                "plants": list(x.plants),
                "injected_kwh": _kwh(x.injected_kwh),
                "incentivised_kwh": _kwh(x.incentivised_kwh),
                "share": round(x.share, 6),
                "tip_eur": _eur(x.tip_eur),
                "excess_eur": _eur(x.excess_eur),
            }
            for x in s.excess_sets
        ],
        "allocation": allocation,
        "allocation_detail": detail,
        "prices": {
            "zone": s.zone,
            "source": s.price_source,
            "mean_eur_mwh": round(float(s.price_eur_mwh.mean()), 2) if len(s.price_eur_mwh) else None,
        },
        "warnings": list(s.warnings),
        "generator": f"condivisa {__version__}",
    }
