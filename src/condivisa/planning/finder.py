"""Configuration finder: group candidate members and plants into valid configurations, and rank new members.

Perimeters follow the rulebook's configuration types (:mod:`condivisa.rules`): a CER gathers points of one market
zone and earns incentives per cabina primaria; an AUC gathers the points of one building; an AID is one customer's
points. Recruitment ranks candidates by the incentivised energy and money each would add, hour by hour.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CandidateMember:
    """A prospective member with one withdrawal point.

    Parameters
    ----------
    id, kind : str
    cabina : str
        Cabina primaria of the point.
    region : str
        Italian region (gives the market zone).
    load_kwh : (H,) array
        Hourly withdrawal [kWh] (from meter curves or bills, see :mod:`condivisa.planning.profiles`).
    building : str, optional
        Building or condominium (for AUC).
    customer : str, optional
        Final customer holding the point (for AID); defaults to ``id``.
    """

    id: str
    kind: str
    cabina: str
    region: str
    load_kwh: FloatArray
    building: str | None = None
    customer: str | None = None


@dataclass(frozen=True)
class CandidatePlant:
    """A prospective or existing plant with its hourly injection [kWh]."""

    id: str
    cabina: str
    region: str
    production_kwh: FloatArray
    building: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class ConfigurationProposal:
    """A valid grouping: its type, perimeter key, members and plants, and what it would share."""

    configuration: str
    key: str
    members: tuple[str, ...]
    plants: tuple[str, ...]
    incentivised_kwh: float
    notes: tuple[str, ...] = field(default=())


def _zone(region: str, rb: Rulebook) -> str:
    canon = canonical_region(region, rb)
    if canon is None:
        raise ValueError(f"regione sconosciuta {region!r}")
    return rb.region_zone[canon]


def incentivised_kwh(members: list[CandidateMember], plants: list[CandidatePlant]) -> float:
    """Incentivised energy of a grouping: sum over cabine of the hourly minimum of withdrawal and injection [kWh]."""
    load: dict[str, FloatArray] = {}
    prod: dict[str, FloatArray] = {}
    for m in members:
        load[m.cabina] = load.get(m.cabina, 0.0) + np.asarray(m.load_kwh, dtype=float)
    for p in plants:
        prod[p.cabina] = prod.get(p.cabina, 0.0) + np.asarray(p.production_kwh, dtype=float)
    return float(sum(np.minimum(load[c], prod[c]).sum() for c in load.keys() & prod.keys()))


def find_configurations(
    members: list[CandidateMember],
    plants: list[CandidatePlant],
    configuration: str = "CER",
    *,
    rulebook: Rulebook | None = None,
) -> list[ConfigurationProposal]:
    """Group candidates into valid configurations of the given type.

    CER: one proposal per market zone (members and plants of that zone); notes name the cabine whose members
    would earn no incentive because no plant is in their cabina. AUC: one proposal per building holding a plant
    and at least two points. AID: one proposal per customer and cabina holding a plant.

    Returns
    -------
    list of ConfigurationProposal, largest incentivised energy first.
    """
    rb = rulebook or load_rulebook()
    if configuration not in rb.configurations:
        raise ValueError(f"configurazione sconosciuta {configuration!r}; ammesse: {', '.join(rb.configurations)}")
    perimeter = rb.configurations[configuration].membership_perimeter
    groups_m: dict[str, list[CandidateMember]] = defaultdict(list)
    groups_p: dict[str, list[CandidatePlant]] = defaultdict(list)
    for m in members:
        if perimeter == "zone":
            key = _zone(m.region, rb)
        elif perimeter == "building":
            if not m.building:
                continue
            key = m.building
        else:
            key = f"{m.customer or m.id}@{m.cabina}"
        groups_m[key].append(m)
    for p in plants:
        if perimeter == "zone":
            groups_p[_zone(p.region, rb)].append(p)
        elif perimeter == "building":
            if p.building:
                groups_p[p.building].append(p)
        elif p.owner:
            groups_p[f"{p.owner}@{p.cabina}"].append(p)
    proposals = []
    for key, group in groups_m.items():
        group_plants = groups_p.get(key, [])
        if not group_plants or (perimeter == "building" and len(group) < 2):
            continue
        notes = []
        plant_cabine = {p.cabina for p in group_plants}
        orphan = sorted({m.cabina for m in group} - plant_cabine)
        if orphan:
            notes.append(
                "soci in cabine senza impianti (nessun incentivo finche' non vi si aggiunge un impianto): "
                + ", ".join(orphan)
            )
        proposals.append(
            ConfigurationProposal(
                configuration=configuration,
                key=key,
                members=tuple(m.id for m in group),
                plants=tuple(p.id for p in group_plants),
                incentivised_kwh=incentivised_kwh(group, group_plants),
                notes=tuple(notes),
            )
        )
    return sorted(proposals, key=lambda pr: -pr.incentivised_kwh)


def rank_recruits(
    members: list[CandidateMember],
    plants: list[CandidatePlant],
    candidates: list[CandidateMember],
    incentive_eur_mwh: FloatArray,
) -> pd.DataFrame:
    """Rank candidate members by what each would add to the community, alone.

    For a candidate in cabina c: added incentivised energy = Σ_h [min(W_c,h + w_h, I_c,h) − min(W_c,h, I_c,h)]
    [kWh], valued hour by hour at ``incentive_eur_mwh`` (TIP + valorisation) [€/MWh]. All candidates are
    evaluated at once as one (candidates x hours) array.

    Returns
    -------
    pandas.DataFrame
        Columns id, cabina, yearly_kwh, added_kwh, added_eur, share_of_own_load (added / own withdrawal), and a
        reason in Italian; sorted by added_eur, largest first.
    """
    if not candidates:
        return pd.DataFrame(
            columns=["id", "cabina", "yearly_kwh", "added_kwh", "added_eur", "share_of_own_load", "reason"]
        )
    h = len(incentive_eur_mwh)
    load: dict[str, FloatArray] = defaultdict(lambda: np.zeros(h))
    prod: dict[str, FloatArray] = defaultdict(lambda: np.zeros(h))
    for m in members:
        load[m.cabina] = load[m.cabina] + np.asarray(m.load_kwh, dtype=float)
    for p in plants:
        prod[p.cabina] = prod[p.cabina] + np.asarray(p.production_kwh, dtype=float)
    cand_load = np.stack([np.asarray(c.load_kwh, dtype=float) for c in candidates])
    base_w = np.stack([load[c.cabina] for c in candidates])
    base_i = np.stack([prod[c.cabina] for c in candidates])
    added = np.minimum(base_w + cand_load, base_i) - np.minimum(base_w, base_i)  # (K, H)
    added_kwh = added.sum(axis=1)
    added_eur = added @ (np.asarray(incentive_eur_mwh, dtype=float) / 1000.0)
    yearly = cand_load.sum(axis=1)
    surplus = np.maximum(base_i - base_w, 0.0).sum(axis=1)
    reasons = []
    for k, c in enumerate(candidates):
        if surplus[k] <= 0:
            reasons.append(f"nessuna eccedenza di produzione nella cabina {c.cabina}")
        else:
            reasons.append(
                f"userebbe {added_kwh[k] / max(surplus[k], 1e-9):.0%} dell'eccedenza della cabina {c.cabina}, "
                f"pari al {added_kwh[k] / max(yearly[k], 1e-9):.0%} dei suoi consumi"
            )
    frame = pd.DataFrame(
        {
            "id": [c.id for c in candidates],
            "cabina": [c.cabina for c in candidates],
            "yearly_kwh": yearly,
            "added_kwh": added_kwh,
            "added_eur": added_eur,
            "share_of_own_load": np.divide(added_kwh, yearly, out=np.zeros_like(yearly), where=yearly > 0),
            "reason": reasons,
        }
    )
    return frame.sort_values(["added_eur", "id"], ascending=[False, True]).reset_index(drop=True)
