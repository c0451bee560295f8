"""The national generator: seeded, order-independent, and drawing from its documented distributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from condivisa.national.generator import (
    KIND_SHARES,
    N_CABINE,
    ZONE_PRICE_FACTOR,
    NationalSpec,
    generate_community,
    national_cabine,
    national_slots,
    zone_prices,
)
from condivisa.rules.checks import check_community
from condivisa.rules.rulebook import load_rulebook


def test_cabine_cover_every_region_in_its_zone() -> None:
    rb = load_rulebook()
    cabine = national_cabine()
    assert len(cabine) == N_CABINE
    assert len({c.code for c in cabine}) == N_CABINE
    assert {c.region for c in cabine} == set(rb.region_zone)
    assert all(rb.region_zone[c.region] == c.zone for c in cabine)
    per_region = pd.Series([c.region for c in cabine]).value_counts()
    assert per_region["Lombardia"] > per_region["Piemonte"] > per_region["Valle d'Aosta"] >= 1


def test_slots_are_seeded_and_second_cabina_is_in_the_same_region() -> None:
    spec = NationalSpec(communities=400, seed=3)
    slots = national_slots(spec)
    assert slots == national_slots(spec)
    assert slots != national_slots(NationalSpec(communities=400, seed=4))
    by_code = {c.code: c for c in national_cabine()}
    two = [s for s in slots if len(s.cabine) == 2]
    assert 0.08 < len(two) / len(slots) < 0.22
    for s in slots:
        assert all(by_code[c].region == s.region for c in s.cabine)
        assert len(set(s.cabine)) == len(s.cabine)
    # About N / 2,107 configurations per cabina: with 400 most cabine used hold one.
    counts = pd.Series([s.cabine[0] for s in slots]).value_counts()
    assert counts.max() <= 5


def test_a_community_is_the_same_alone_or_in_a_run() -> None:
    spec = NationalSpec(communities=5, pods=12, seed=11)
    slots = national_slots(spec)
    alone = generate_community(spec, slots[3])
    for s in slots:  # a run in another order
        g = generate_community(spec, s)
    again = generate_community(spec, slots[3])
    assert g.slot == slots[-1]
    assert alone.community == again.community
    assert np.array_equal(alone.withdrawn_wh, again.withdrawn_wh)
    assert np.array_equal(alone.injected_wh, again.injected_wh)
    other = generate_community(NationalSpec(communities=5, pods=12, seed=12), slots[3])
    assert not np.array_equal(alone.withdrawn_wh, other.withdrawn_wh)


def test_communities_are_valid_and_readings_consistent() -> None:
    rb = load_rulebook()
    spec = NationalSpec(communities=30, pods=20, seed=5)
    for s in national_slots(spec):
        g = generate_community(spec, s)
        problems, _ = check_community(g.community, rulebook=rb)
        assert problems == []
        assert g.withdrawn_wh.shape == (20, 8760) and g.withdrawn_wh.dtype == np.int32
        assert (g.withdrawn_wh >= 0).all() and (g.injected_wh >= 0).all()
        assert g.pods == [pt.pod for _, pt in g.community.points()]
        plant_rows = {g.pods.index(p.pod) for p in g.community.plants}
        assert 1 <= len(plant_rows) == len(g.community.plants)
        no_plant = [i for i in range(20) if i not in plant_rows]
        assert not g.injected_wh[no_plant].any()
        assert all(p.power_kw < 1000 for p in g.community.plants)
        # A prosumer's meter never withdraws and injects in the same hour.
        rows = sorted(plant_rows)
        assert not ((g.withdrawn_wh[rows] > 0) & (g.injected_wh[rows] > 0)).any()
        assert set(g.pod_cabina) <= set(s.cabine)


def test_sizes_kinds_and_consumption_follow_the_documented_figures() -> None:
    spec = NationalSpec(communities=300, seed=8)
    kinds: list[str] = []
    sizes = []
    household_kwh = []
    for s in national_slots(spec):
        g = generate_community(spec, s)
        sizes.append(len(g.pods))
        plant_pods = {p.pod for p in g.community.plants}
        for m in g.community.members:
            for pt in m.pods:
                kinds.append(m.kind)
                if m.kind == "household" and pt.pod not in plant_pods:
                    household_kwh.append(g.withdrawn_wh[g.pods.index(pt.pod)].sum() / 1000.0)
    assert 8.0 < np.mean(sizes) < 11.5  # GSE: about 10 members per configuration
    assert min(sizes) >= 3
    share = pd.Series(kinds).value_counts(normalize=True)
    for kind, expected in KIND_SHARES.items():
        assert abs(share.get(kind, 0.0) - expected) < 0.03, kind
    # ARERA's typical household: 2,700 kWh/year (the median, with day and hour noise on top).
    assert 2450 < np.median(household_kwh) < 2950


def test_zone_prices_follow_the_monthly_table() -> None:
    rb = load_rulebook()
    prices = zone_prices(2025, seed=1)
    assert set(prices["zone"]) == set(ZONE_PRICE_FACTOR)
    nord = prices[prices["zone"] == "NORD"]
    assert len(nord) == 8760
    params, _ = rb.year(2025)
    month = nord["timestamp"].dt.tz_convert("Europe/Rome").dt.month
    means = nord.groupby(month.to_numpy())["price_eur_mwh"].mean().to_numpy()
    assert means == pytest.approx(np.asarray(params.monthly_price_eur_mwh), abs=0.01)
    sici = prices[prices["zone"] == "SICI"]["price_eur_mwh"].mean()
    assert sici == pytest.approx(nord["price_eur_mwh"].mean() * ZONE_PRICE_FACTOR["SICI"], rel=0.01)


def test_bad_spec_is_refused_in_italian() -> None:
    with pytest.raises(ValueError, match="comunita'"):
        NationalSpec(communities=0)
    with pytest.raises(ValueError, match="POD"):
        NationalSpec(communities=1, pods=0)
