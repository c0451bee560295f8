"""PV yield on the bundled typical year near Turin is in the range expected for the site."""

from __future__ import annotations

import pytest

from condivisa.production import PVArray, pv_hourly_kwh, typical_year


def test_turin_south_30_degrees_yield() -> None:
    weather = typical_year()
    yearly = float(pv_hourly_kwh(PVArray(1.0, surface_tilt=30, surface_azimuth=180), weather).sum())
    assert 1150 <= yearly <= 1400  # kWh/kWp/yr for Turin, south-facing 30°


def test_orientation_and_size_behave() -> None:
    weather = typical_year()
    south = float(pv_hourly_kwh(PVArray(10.0, 30, 180), weather).sum())
    north = float(pv_hourly_kwh(PVArray(10.0, 30, 0), weather).sum())
    assert north < 0.75 * south
    assert float(pv_hourly_kwh(PVArray(20.0, 30, 180), weather).sum()) == pytest.approx(2 * south, rel=1e-6)
    with pytest.raises(ValueError, match="potenza di picco"):
        pv_hourly_kwh(PVArray(0.0), weather)
