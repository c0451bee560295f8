"""TIP: the rulebook's worked checks as fixed cases, class boundaries, grant reduction."""

from __future__ import annotations

import numpy as np
import pytest

from condivisa.rules import grant_reduction, load_rulebook, power_class, tip_eur_mwh
from condivisa.rules.tip import geographic_correction

# (power kW, Pz €/MWh, FC €/MWh, F, expected TIP €/MWh) from the domain reference's worked checks.
WORKED = [
    (100, 100, 10, 0.0, 130.0),
    (100, 150, 10, 0.0, 120.0),
    (100, 200, 10, 0.0, 90.0),
    (300, 150, 4, 0.0, 104.0),
    (100, 150, 10, 0.5, 60.0),
]


@pytest.mark.parametrize(("power", "pz", "fc", "f", "expected"), WORKED)
def test_worked_examples(power: float, pz: float, fc: float, f: float, expected: float) -> None:
    assert float(tip_eur_mwh(power, pz, fc_eur_mwh=fc, reduction=f)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("power", "base", "cap"),
    [(200, 80, 120), (200.01, 70, 110), (600, 70, 110), (600.5, 60, 100), (1000, 60, 100)],
)
def test_class_boundaries(power: float, base: float, cap: float) -> None:
    cls = power_class(power)
    assert (cls.base_eur_mwh, cls.cap_eur_mwh) == (base, cap)


def test_plant_over_one_megawatt_is_rejected() -> None:
    with pytest.raises(ValueError, match="1000 kW"):
        power_class(1000.1)


def test_cap_binds_at_low_prices_and_fc_is_outside_the_cap() -> None:
    prices = np.array([-50.0, 0.0, 60.0, 140.0, 180.0, 400.0])
    tip = tip_eur_mwh(150, prices, fc_eur_mwh=10)
    assert tip.tolist() == [130.0, 130.0, 130.0, 130.0, 90.0, 90.0]


def test_grant_reduction_is_linear_up_to_forty_percent() -> None:
    assert grant_reduction(0.0) == 0.0
    assert grant_reduction(0.2) == pytest.approx(0.25)
    assert grant_reduction(0.4) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        grant_reduction(0.41)


@pytest.mark.parametrize(
    ("tech", "region", "fc"),
    [
        ("pv", "Piemonte", 10),
        ("pv", "lazio", 4),
        ("pv", "Sicilia", 0),
        ("wind", "Piemonte", 0),
        ("pv", "Emilia Romagna", 10),
    ],
)
def test_geographic_correction_pv_only(tech: str, region: str, fc: float) -> None:
    assert geographic_correction(tech, region) == fc


def test_every_rulebook_figure_names_its_source() -> None:
    rb = load_rulebook()
    assert all(c.text for c in rb.classes)
    assert all(text for text in rb.sources.values())
    for params in rb.years.values():
        assert set(params.sources) == {"cu_af", "auc_losses", "monthly_price"}
        assert all(params.sources.values())
        assert len(params.monthly_price_eur_mwh) == 12


def test_exempt_kinds_are_member_kinds_and_businesses_are_not_exempt() -> None:
    from condivisa.model.community import MEMBER_KINDS

    rb = load_rulebook()
    assert rb.exempt_member_kinds <= set(MEMBER_KINDS)
    assert "business" not in rb.exempt_member_kinds and "household" in rb.exempt_member_kinds
