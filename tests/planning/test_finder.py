"""Configuration finder and recruitment ranking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from condivisa.planning.finder import (
    CandidateMember,
    CandidatePlant,
    find_configurations,
    incentivised_kwh,
    rank_recruits,
)

H = 24
DAY = np.clip(np.sin(np.pi * (np.arange(H) - 6) / 12), 0, None)
EVENING = (np.arange(H) >= 18).astype(float)


def member(
    mid: str, cabina: str = "A", region: str = "Piemonte", load: np.ndarray | None = None, **kw: str
) -> CandidateMember:
    return CandidateMember(mid, "household", cabina, region, DAY if load is None else load, **kw)


def test_cer_groups_by_zone_and_flags_cabine_without_plants() -> None:
    members = [member("a"), member("b", cabina="B"), member("c", region="Sicilia")]
    plants = [CandidatePlant("p", "A", "Lombardia", DAY * 2)]
    (proposal,) = find_configurations(members, plants, "CER")
    assert proposal.key == "NORD" and set(proposal.members) == {"a", "b"}
    assert proposal.incentivised_kwh == pytest.approx(DAY.sum())  # only cabina A earns
    assert "B" in proposal.notes[0]


def test_auc_needs_one_building_and_two_points() -> None:
    members = [member("a", building="via Roma 1"), member("b", building="via Roma 1"), member("c", building="X")]
    plants = [
        CandidatePlant("p", "A", "Piemonte", DAY, building="via Roma 1"),
        CandidatePlant("q", "A", "Piemonte", DAY, building="X"),
    ]
    proposals = find_configurations(members, plants, "AUC")
    assert [p.key for p in proposals] == ["via Roma 1"]


def test_recruitment_prefers_daytime_consumers_where_there_is_surplus() -> None:
    members = [member("a", load=EVENING)]
    plants = [CandidatePlant("p", "A", "Piemonte", DAY * 3)]
    candidates = [member("night", load=EVENING * 5), member("day", load=DAY), member("other", cabina="B")]
    ranking = rank_recruits(members, plants, candidates, np.full(H, 120.0))
    assert ranking["id"].tolist()[0] == "day"
    assert ranking.set_index("id").loc["other", "added_kwh"] == 0.0
    assert ranking.set_index("id").loc["day", "added_eur"] == pytest.approx(DAY.sum() * 0.12)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, H, elements=st.floats(0, 10)),
    arrays(np.float64, H, elements=st.floats(0, 10)),
    arrays(np.float64, H, elements=st.floats(0, 10)),
)
def test_added_energy_matches_recomputation(w: np.ndarray, i: np.ndarray, c: np.ndarray) -> None:
    members = [member("a", load=w)]
    plants = [CandidatePlant("p", "A", "Piemonte", i)]
    cand = member("c", load=c)
    ranking = rank_recruits(members, plants, [cand], np.full(H, 100.0))
    expected = incentivised_kwh([*members, cand], plants) - incentivised_kwh(members, plants)
    assert ranking["added_kwh"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert 0 <= ranking["added_kwh"].iloc[0] <= c.sum() + 1e-9


def test_unknown_region_and_configuration() -> None:
    with pytest.raises(ValueError, match="regione sconosciuta"):
        find_configurations([member("a", region="Atlantide")], [], "CER")
    with pytest.raises(ValueError, match="configurazione sconosciuta"):
        find_configurations([], [], "XYZ")
