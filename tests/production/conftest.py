"""Shared weather for the production tests: the bundled Turin typical year, read once."""

from __future__ import annotations

import pytest

from condivisa.production import WeatherYear, typical_year


@pytest.fixture(scope="session")
def turin_year() -> WeatherYear:
    """Bundled PVGIS typical year (lat 45.0, lon 8.0); do not modify its frame in a test: copy it."""
    return typical_year()
