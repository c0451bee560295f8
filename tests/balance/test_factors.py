"""Emission factors: every entry carries its source and year; the year rule; errors that name the input."""

from __future__ import annotations

import warnings

import pytest

from condivisa.balance import FactorError, FactorYearWarning, custom_factor, factor, load_factors, lookup
from condivisa.balance.factors import parse_factors


def test_every_factor_has_source_and_year() -> None:
    table = load_factors()
    entries = [v for c in table.carriers.values() for v in c.values] + list(table.production.values())
    assert entries
    for e in entries:
        assert e.source.strip(), e.carrier
        assert e.table.strip() and e.url.startswith("http"), e.carrier
        assert 1990 <= e.year <= 2030, e.carrier
        assert e.value >= 0, e.carrier
        assert e.verified or e.note.strip(), f"{e.carrier} {e.year}: an unverified figure needs a note"
    for c in table.carriers.values():
        if c.parameter:
            assert c.source.strip() and c.note.strip()


def test_expected_carriers_are_present() -> None:
    table = load_factors()
    for code in ("electricity", "natural_gas", "lpg", "diesel", "heating_oil", "petrol", "biomass"):
        assert code in table.carriers
    assert table.carriers["district_heating"].parameter
    assert table.production_factor("pv").value == 0.0


def test_electricity_has_baseline_and_recent_years() -> None:
    years = load_factors().carriers["electricity"].years
    assert years[0] <= 2005 and 2005 in years
    assert max(years) >= 2023
    assert list(years) == sorted(years)


def test_ipcc_fuel_factors_match_their_kg_per_tj_source() -> None:
    # t CO2/MWh = kg CO2/TJ x 0.0036 / 1000, rounded to 3 decimals (IPCC 2006 Vol. 2 Ch. 2 Table 2.2)
    for carrier, kg_tj in {"natural_gas": 56100, "lpg": 63100, "diesel": 74100, "petrol": 69300}.items():
        assert factor(carrier, 2020) == pytest.approx(round(kg_tj * 0.0036 / 1000, 3))


def test_constant_factor_any_year_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert factor("natural_gas", 1990) == factor("natural_gas", 2031) == 0.202


def test_exact_year_and_nearest_earlier_year() -> None:
    exact = lookup("electricity", 2005)
    assert exact.year == 2005 and not exact.fallback
    with pytest.warns(FactorYearWarning, match="2007.*2005"):
        later = lookup("electricity", 2007)
    assert later.year == 2005 and later.requested_year == 2007 and later.fallback
    assert later.value == exact.value


def test_year_before_series_is_an_error_naming_carrier_and_year() -> None:
    with pytest.raises(FactorError, match=r"electricity.*1980"):
        lookup("electricity", 1980)


def test_unknown_carrier_is_an_error_naming_it() -> None:
    with pytest.raises(FactorError, match="carbone_magico"):
        factor("carbone_magico", 2020)


def test_district_heating_needs_a_local_factor() -> None:
    with pytest.raises(FactorError, match="district_heating"):
        factor("district_heating", 2020)
    local = custom_factor("district_heating", 0.15, "rete TLR di Borgo Demo, bilancio 2025", year=2025)
    assert local.value == 0.15 and not local.verified
    with pytest.raises(ValueError, match="fonte"):
        custom_factor("district_heating", 0.15, " ", year=2025)


def test_unknown_technology_is_an_error() -> None:
    with pytest.raises(FactorError, match="fusione"):
        load_factors().production_factor("fusione")


def test_table_checks() -> None:
    with pytest.raises(ValueError, match="source"):
        parse_factors({"carriers": {"x": {"values": [{"year": 2020, "value": 0.1}]}}})
    with pytest.raises(ValueError, match="crescenti"):
        parse_factors(
            {
                "carriers": {
                    "x": {
                        "values": [
                            {"year": 2021, "value": 0.1, "source": "s"},
                            {"year": 2020, "value": 0.1, "source": "s"},
                        ]
                    }
                }
            }
        )
