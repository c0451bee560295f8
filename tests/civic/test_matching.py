"""Matchmaking scores: explained components, proximity and cabina, shared energy computed hour by hour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.civic.matching import (
    FIELDS,
    KINDS,
    Criteria,
    ProfileData,
    compatible,
    consumption_profile,
    parse_attributes,
    pv_profile,
    rank,
    score_pair,
    shared_kwh,
)
from condivisa.errors import InputError

COMMUNITY = {
    "pv_kwp": 100.0,
    "consumption_kwh_year": 40000.0,
    "consumption_pattern": "evening",
    "lacking_pattern": "day",
}


def community(pid: int = 1, cabina: str | None = "AC001E00123", **where: float) -> ProfileData:
    return ProfileData(pid, "community", f"CER {pid}", COMMUNITY, cabina=cabina, **where)  # type: ignore[arg-type]


def citizen(
    pid: int, pattern: str, kwh: float = 3000.0, cabina: str | None = "AC001E00123", **kw: object
) -> ProfileData:
    attrs = {"consumption_kwh_year": kwh, "pattern": pattern, "use": "household"}
    return ProfileData(pid, "citizen", f"C{pid}", attrs, cabina=cabina, **kw)  # type: ignore[arg-type]


def roof(pid: int = 5, area: float = 200.0, orientation: str = "S") -> ProfileData:
    return ProfileData(
        pid, "roof_owner", f"Tetto {pid}", {"area_m2": area, "orientation": orientation, "tilt_deg": 30.0}
    )


def _component(match: object, name: str) -> object:
    return next(c for c in match.components if c.name == name)  # type: ignore[attr-defined]


def test_profiles_come_from_the_design_engine() -> None:
    load = consumption_profile(2700.0, "flat")
    assert load.shape == (8760,) and load.sum() == pytest.approx(2700.0)
    pv = pv_profile(10.0)
    assert 10_000 < pv.sum() < 16_000  # 1,000-1,600 kWh/kWp near Turin
    assert pv[:6].sum() == 0.0  # the first hours of 1 January are dark
    south, east = pv_profile(1.0, 30, 180).sum(), pv_profile(1.0, 30, 90).sum()
    assert south > east


def test_daytime_consumer_adds_more_shared_energy_than_evening_consumer() -> None:
    com = community()
    day, evening = citizen(2, "day"), citizen(3, "evening")
    # computed directly with the same engine: the day profile overlaps production more
    production = pv_profile(100.0)
    base = consumption_profile(40000.0, "evening")
    before = shared_kwh(production, base)
    added_day = shared_kwh(production, base + consumption_profile(3000.0, "day")) - before
    added_evening = shared_kwh(production, base + consumption_profile(3000.0, "evening")) - before
    assert added_day > added_evening > 0
    m_day, m_evening = score_pair(com, day), score_pair(com, evening)
    c_day = _component(m_day, "Energia condivisa aggiunta")
    c_eve = _component(m_evening, "Energia condivisa aggiunta")
    assert c_day.value == pytest.approx(added_day, abs=1e-3)  # type: ignore[attr-defined]
    assert c_eve.value == pytest.approx(added_evening, abs=1e-3)  # type: ignore[attr-defined]
    assert c_day.points > c_eve.points  # type: ignore[attr-defined]
    assert [m.candidate_id for m in rank(com, [evening, day])] == [2, 3]


def test_same_cabina_beats_a_distant_candidate() -> None:
    person = citizen(2, "day", cabina="AC001E00123", latitude=45.07, longitude=7.68)
    near = community(10, cabina="AC001E00123", latitude=45.08, longitude=7.69)
    far = community(11, cabina="AC009E00999", latitude=45.40, longitude=8.20)
    ranking = rank(person, [far, near])
    assert [m.candidate_id for m in ranking] == [10, 11]
    near_m, far_m = ranking
    assert _component(near_m, "Vicinanza").points == 25.0  # type: ignore[attr-defined]
    assert "incentivata" in _component(near_m, "Vicinanza").explanation  # type: ignore[attr-defined]
    far_prox = _component(far_m, "Vicinanza")
    assert far_prox.points < 25.0 and far_prox.value > 40  # type: ignore[attr-defined]
    far_energy = _component(far_m, "Energia condivisa aggiunta")
    assert far_energy.points == 0.0 and "cabine primarie sono diverse" in far_energy.explanation  # type: ignore[attr-defined]
    assert far_energy.value > 0  # the energy is computed, it earns no points without incentive  # type: ignore[attr-defined]
    assert near_m.incentive_relevant


def test_unknown_cabina_asks_to_check_it() -> None:
    m = score_pair(citizen(2, "day", cabina=None), community(cabina=None))
    assert "da verificare" in _component(m, "Vicinanza").explanation  # type: ignore[attr-defined]


def test_components_sum_to_the_score_and_are_explained() -> None:
    others = [
        community(1),
        citizen(2, "day"),
        roof(3),
        ProfileData(4, "financer", "Banca", {"budget_min_eur": 10000.0, "budget_max_eur": 80000.0, "ethical": True}),
        ProfileData(
            5, "installer", "Impianti", {"province": "TO", "capacity_kwp_year": 500.0, "certifications": "FER"}
        ),
        ProfileData(6, "group_purchase", "GAS", {"households": 12.0, "total_kwp": 36.0}, province="TO"),
        ProfileData(7, "land_owner", "Campo", {"area_m2": 3000.0, "orientation": "S"}),
    ]
    seen = 0
    for p in others:
        for m in rank(p, others):
            seen += 1
            assert m.score == pytest.approx(sum(c.points for c in m.components), abs=1e-9)
            assert sum(c.maximum for c in m.components) == pytest.approx(100.0)
            for c in m.components_json():
                assert set(c) >= {"name", "value", "points", "explanation"}
                assert c["explanation"] and 0 <= c["points"] <= c["maximum"]
    assert seen >= 16


def test_financer_budget_and_installer_locality() -> None:
    r = roof(3, area=300.0)  # 50 kWp x 1,200 EUR/kWp = 60,000 EUR
    fits = ProfileData(4, "financer", "A", {"budget_min_eur": 10000.0, "budget_max_eur": 80000.0})
    small = ProfileData(5, "financer", "B", {"budget_min_eur": 1000.0, "budget_max_eur": 20000.0})
    assert [m.candidate_id for m in rank(r, [small, fits])] == [4, 5]
    assert _component(score_pair(r, fits), "Budget").value == pytest.approx(60000.0)  # type: ignore[attr-defined]
    gp = ProfileData(6, "group_purchase", "GAS", {"households": 10.0, "total_kwp": 30.0}, province="TO")
    local = ProfileData(7, "installer", "Locale", {"province": "TO", "capacity_kwp_year": 100.0})
    remote = ProfileData(8, "installer", "Lontano", {"province": "MI", "capacity_kwp_year": 100.0})
    assert [m.candidate_id for m in rank(gp, [remote, local])] == [7, 8]


def test_vulnerable_priority_is_not_named() -> None:
    com = community()
    plain, fragile = citizen(2, "flat"), citizen(3, "flat", vulnerable=True)
    a, b = score_pair(com, plain), score_pair(com, fragile)
    assert b.score - a.score == pytest.approx(15.0)
    for m in (a, b):
        for c in m.components:
            assert "vulnerab" not in c.explanation.lower()
    with pytest.raises(ValueError, match="vulnerable_points"):
        Criteria(vulnerable_points=50)


def test_incompatible_kinds_are_not_ranked() -> None:
    assert not compatible("citizen", "roof_owner") and compatible("roof_owner", "community")
    assert rank(citizen(2, "day"), [roof(3), citizen(4, "day")]) == []
    with pytest.raises(ValueError, match="non abbinabili"):
        score_pair(citizen(2, "day"), roof(3))


def test_parse_attributes_names_bad_fields() -> None:
    assert parse_attributes("citizen", {"consumption_kwh_year": "2.700,5", "pattern": "day", "use": "household"}) == {
        "consumption_kwh_year": 2700.5,
        "pattern": "day",
        "use": "household",
    }
    with pytest.raises(InputError) as err:
        parse_attributes("citizen", {"consumption_kwh_year": "molto", "pattern": "notte", "use": ""})
    fields = {p.field for p in err.value.problems}
    assert fields == {"consumption_kwh_year", "pattern", "use"}
    with pytest.raises(InputError, match="minimo oltre il massimo"):
        parse_attributes("financer", {"budget_min_eur": "9000", "budget_max_eur": "100"})
    with pytest.raises(InputError, match="sigla"):
        parse_attributes("installer", {"province": "Torino", "capacity_kwp_year": "100"})
    for kind in KINDS:
        assert FIELDS[kind]


# ---------------------------------------------------------------------------------------------------------------
# Properties

_kwh = st.floats(min_value=0.0, max_value=2e5, allow_nan=False)
_pattern = st.sampled_from(["day", "evening", "flat"])
_cabina = st.sampled_from([None, "AC1", "AC2"])
_coord = st.one_of(st.none(), st.tuples(st.floats(44.9, 45.3), st.floats(7.4, 7.9)))


@st.composite
def profiles(draw: st.DrawFn, pid: int) -> ProfileData:
    kind = draw(st.sampled_from(KINDS))
    attrs: dict[str, object]
    if kind == "citizen":
        attrs = {
            "consumption_kwh_year": draw(_kwh),
            "pattern": draw(_pattern),
            "use": draw(st.sampled_from(["household", "business"])),
        }
    elif kind == "community":
        attrs = {
            "pv_kwp": draw(st.floats(0, 1000)),
            "consumption_kwh_year": draw(_kwh),
            "consumption_pattern": draw(_pattern),
            "lacking_pattern": draw(_pattern),
        }
    elif kind in ("roof_owner", "land_owner"):
        attrs = {
            "area_m2": draw(st.floats(0, 50000)),
            "orientation": draw(st.sampled_from(["S", "SE", "SO", "E", "O", "piano"])),
            "tilt_deg": float(draw(st.sampled_from([0, 15, 30, 45]))),
        }
    elif kind == "financer":
        low = draw(st.floats(0, 1e6))
        attrs = {
            "budget_min_eur": low,
            "budget_max_eur": low + draw(st.floats(0, 1e6)),
            "expected_return_pct": draw(st.floats(0, 30)),
            "ethical": draw(st.booleans()),
        }
    elif kind in ("installer", "designer"):
        attrs = {"province": draw(st.sampled_from(["TO", "CN"])), "capacity_kwp_year": draw(st.floats(0, 5000))}
    else:
        attrs = {"households": draw(st.floats(0, 100)), "total_kwp": draw(st.floats(0, 500))}
    where = draw(_coord)
    return ProfileData(
        pid,
        kind,
        f"P{pid}",
        attrs,
        latitude=None if where is None else where[0],
        longitude=None if where is None else where[1],
        cabina=draw(_cabina),
        province="TO",
        vulnerable=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_scores_bounded_and_ranking_deterministic(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 8))
    items = [data.draw(profiles(i)) for i in range(n)]
    me = items[0]
    ranking = rank(me, items)
    for m in ranking:
        assert 0.0 <= m.score <= 100.0
        assert math.isclose(m.score, sum(c.points for c in m.components), abs_tol=1e-9)
    shuffled = data.draw(st.permutations(items))
    again = rank(me, list(shuffled))
    assert [(m.candidate_id, m.score) for m in again] == [(m.candidate_id, m.score) for m in ranking]
    scores = [m.score for m in ranking]
    assert scores == sorted(scores, reverse=True)
    # symmetric: the pair scores the same from either side
    for m in ranking:
        other = next(p for p in items if p.id == m.candidate_id)
        assert score_pair(other, me).score == m.score


def test_shared_energy_is_an_hourly_minimum() -> None:
    prod = np.array([0.0, 5.0, 10.0])
    cons = np.array([3.0, 3.0, 3.0])
    assert shared_kwh(prod, cons) == 6.0
