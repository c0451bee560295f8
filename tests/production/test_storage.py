"""Battery dispatch and EV charging rules: invariants with hypothesis, worked examples, bad input."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from condivisa.production import Battery, EVCharger, dispatch_self_consumption, schedule_ev

TOL = 1e-9

batteries = st.builds(
    lambda energy, power, eta, soc_min, span, start: Battery(
        energy, power, eta, soc_min, soc_min + span * (1 - soc_min), soc_min + start * span * (1 - soc_min)
    ),
    st.floats(0.5, 500.0),
    st.floats(0.1, 300.0),
    st.floats(0.5, 1.0),
    st.floats(0.0, 0.5),
    st.floats(0.05, 1.0),
    st.floats(0.0, 1.0),
)
net_series = arrays(np.float64, st.integers(1, 200), elements=st.floats(-100.0, 100.0))


def split(net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(net, 0.0), np.maximum(-net, 0.0)


@settings(max_examples=150, deadline=None)
@given(battery=batteries, net=net_series)
def test_dispatch_invariants(battery: Battery, net: np.ndarray) -> None:
    surplus, deficit = split(net)
    result = dispatch_self_consumption(battery, surplus, deficit)
    charge = result.charge_kwh.to_numpy()
    discharge = result.discharge_kwh.to_numpy()
    soc = result.soc_kwh.to_numpy()
    scale = TOL * max(1.0, battery.energy_kwh)
    assert (soc >= battery.soc_min * battery.energy_kwh - scale).all()
    assert (soc <= battery.soc_max * battery.energy_kwh + scale).all()
    assert (charge >= 0).all() and (discharge >= 0).all()
    assert (charge <= surplus + TOL).all() and (charge <= battery.power_kw + TOL).all()
    assert (discharge <= deficit + TOL).all() and (discharge <= battery.power_kw + TOL).all()
    assert not ((charge > 0) & (discharge > 0)).any()
    eta = battery.efficiency_roundtrip
    initial, final = battery.initial_energy_kwh, soc[-1]
    # no energy from nowhere: what came out plus what is left never exceeds what went in plus what was there;
    # exactly, with sqrt(eta) on each side: discharged = eta charged + sqrt(eta) (initial - final)
    assert discharge.sum() + final <= charge.sum() + initial + scale
    if final <= initial:
        assert discharge.sum() <= eta * charge.sum() + initial - final + scale
    assert discharge.sum() == pytest.approx(eta * charge.sum() + math.sqrt(eta) * (initial - final), abs=1e-6)
    assert result.losses_kwh >= -1e-6
    added = result.added_shared_kwh.to_numpy()
    assert (added >= 0).all()
    assert added == pytest.approx(discharge, abs=1e-9)
    assert result.added_shared_total_kwh == pytest.approx(discharge.sum(), abs=1e-6)


def test_worked_example() -> None:
    battery = Battery(energy_kwh=10.0, power_kw=5.0, efficiency_roundtrip=0.81, soc_min=0.0, soc_max=1.0)
    result = dispatch_self_consumption(battery, [10.0, 0.0, 2.0, 0.0], [0.0, 10.0, 0.0, 1.0])
    # 5 kWh taken (power limit), 4.5 stored; 4.05 delivered (energy limit); 2 taken, 1.8 stored; 1 delivered
    assert result.charge_kwh.tolist() == pytest.approx([5.0, 0.0, 2.0, 0.0])
    assert result.discharge_kwh.tolist() == pytest.approx([0.0, 4.05, 0.0, 1.0])
    assert result.soc_kwh.tolist() == pytest.approx([4.5, 0.0, 1.8, 1.8 - 1.0 / 0.9])
    assert result.added_shared_total_kwh == pytest.approx(5.05)


def test_limits_of_energy_and_initial_state() -> None:
    battery = Battery(energy_kwh=10.0, power_kw=100.0, efficiency_roundtrip=1.0, soc_min=0.2, soc_max=0.9)
    full = dispatch_self_consumption(battery, [50.0, 50.0], [0.0, 0.0])
    assert full.charge_kwh.tolist() == pytest.approx([7.0, 0.0])
    assert full.soc_kwh.iloc[-1] == pytest.approx(9.0)
    half = Battery(energy_kwh=10.0, power_kw=100.0, efficiency_roundtrip=1.0, soc_min=0.2, initial_soc=0.5)
    empty = dispatch_self_consumption(half, [0.0, 0.0], [50.0, 50.0])
    assert empty.discharge_kwh.tolist() == pytest.approx([3.0, 0.0])
    assert empty.soc_kwh.tolist() == pytest.approx([2.0, 2.0])


def test_keeps_the_index_and_a_year_is_fast() -> None:
    hours = pd.date_range("2025-01-01", periods=8760, freq="h", tz="UTC")
    rng = np.random.default_rng(1)
    net = pd.Series(rng.normal(0.0, 20.0, hours.size), index=hours)
    surplus, deficit = net.clip(lower=0.0), (-net).clip(lower=0.0)
    battery = Battery(100.0, 50.0)
    start = time.perf_counter()
    result = dispatch_self_consumption(battery, surplus, deficit)
    elapsed = time.perf_counter() - start
    assert result.soc_kwh.index.equals(hours)
    assert result.added_shared_total_kwh > 0
    assert elapsed < 0.5  # about 10 ms measured; the bound only catches a pathological slowdown


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"energy_kwh": -10.0}, "energy_kwh"),
        ({"power_kw": 0.0}, "power_kw"),
        ({"efficiency_roundtrip": 1.1}, "efficiency_roundtrip"),
        ({"efficiency_roundtrip": 0.0}, "efficiency_roundtrip"),
        ({"soc_min": 0.8, "soc_max": 0.5}, "soc_min, soc_max"),
        ({"soc_max": 1.2}, "soc_min, soc_max"),
        ({"initial_soc": 0.05}, "initial_soc"),
        ({"energy_kwh": float("nan")}, "energy_kwh"),
    ],
)
def test_bad_battery_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"energy_kwh": 10.0, "power_kw": 5.0, **kwargs}
    with pytest.raises(ValueError, match=rf"^{field}: "):
        Battery(**args)


@pytest.mark.parametrize(
    ("surplus", "deficit", "message"),
    [
        ([1.0, -1.0], [0.0, 0.0], r"^surplus_kwh: .* -1\.0 all'ora 1"),
        ([1.0, 0.0], [0.0, np.nan], r"^deficit_kwh: .* nan all'ora 1"),
        ([1.0, 0.0], [0.0], r"^surplus_kwh, deficit_kwh: lunghezze diverse"),
        ([1.0, 2.0], [0.0, 1.0], r"^surplus_kwh, deficit_kwh: entrambi positivi all'ora 1"),
    ],
)
def test_bad_series_name_the_argument(surplus: list[float], deficit: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dispatch_self_consumption(Battery(10.0, 5.0), surplus, deficit)


# --- EV charging -------------------------------------------------------------------------------------------------

JUNE = pd.date_range("2025-06-02", periods=72, freq="h", tz="Europe/Rome").tz_convert("UTC")  # three whole days


@st.composite
def ev_cases(draw: st.DrawFn) -> tuple[EVCharger, np.ndarray]:
    power = draw(st.floats(1.0, 22.0))
    hours = draw(st.sets(st.integers(0, 23), min_size=1, max_size=24))
    energy = draw(st.floats(0.0, 1.0)) * power * len(hours)
    surplus = draw(arrays(np.float64, JUNE.size, elements=st.floats(0.0, 30.0)))
    return EVCharger(power, energy, frozenset(hours)), surplus


@settings(max_examples=150, deadline=None)
@given(case=ev_cases())
def test_ev_schedule_invariants(case: tuple[EVCharger, np.ndarray]) -> None:
    charger, surplus = case
    load = schedule_ev(charger, surplus, JUNE)
    local = JUNE.tz_convert("Europe/Rome")
    assert load.index.equals(JUNE)
    assert (load >= 0).all()
    assert (load <= charger.power_kw + TOL).all()
    outside = ~np.isin(local.hour, sorted(charger.available_hours))
    assert (load[outside] == 0).all()
    days = pd.Series(load.to_numpy(), index=local).groupby(local.date)
    assert days.sum().to_numpy() == pytest.approx(charger.daily_energy_kwh, abs=1e-9)
    # as much of each day's energy on surplus as any schedule could place there
    available = ~outside
    on_surplus = np.minimum(load.to_numpy(), surplus)
    best = np.where(available, np.minimum(charger.power_kw, surplus), 0.0)
    for day in np.unique(local.date):
        mask = np.asarray(local.date == day)
        assert on_surplus[mask].sum() == pytest.approx(min(charger.daily_energy_kwh, best[mask].sum()), abs=1e-9)


def test_ev_charges_at_midday_when_the_sun_gives_surplus() -> None:
    local = JUNE.tz_convert("Europe/Rome")
    surplus = np.where((local.hour >= 11) & (local.hour <= 14), 10.0, 0.0)
    charger = EVCharger(power_kw=7.4, daily_energy_kwh=20.0, available_hours=frozenset(range(7, 21)))
    load = schedule_ev(charger, surplus, JUNE)
    midday = (local.hour >= 11) & (local.hour <= 14)
    assert load[midday].groupby(local.date[midday]).sum().to_numpy() == pytest.approx([20.0] * 3)
    assert (load[~midday] == 0).all()
    bigger = EVCharger(power_kw=7.4, daily_energy_kwh=40.0, available_hours=frozenset(range(7, 21)))
    more = schedule_ev(bigger, surplus, JUNE)
    # surplus hours at full power first, the remaining 10.4 kWh from 07:00 on
    assert more[midday].to_numpy() == pytest.approx(np.full(12, 7.4))
    first_day = more.iloc[:24].to_numpy()
    assert first_day[[7, 8]] == pytest.approx([7.4, 3.0])
    assert first_day[9] == 0


def test_ev_prefers_the_hour_of_largest_surplus() -> None:
    local = JUNE.tz_convert("Europe/Rome")
    surplus = np.where(local.hour == 12, 10.0, np.where(local.hour == 13, 3.0, 0.0))
    charger = EVCharger(power_kw=7.4, daily_energy_kwh=5.0, available_hours=frozenset(range(7, 21)))
    load = schedule_ev(charger, surplus, JUNE)
    assert (load[local.hour == 12] == 5.0).all()
    assert load[local.hour != 12].sum() == 0.0


def test_ev_day_cut_by_the_period_or_by_daylight_saving_gets_what_fits() -> None:
    spring = pd.date_range("2025-03-30", periods=23, freq="h", tz="Europe/Rome").tz_convert("UTC")  # 23-hour day
    charger = EVCharger(power_kw=1.0, daily_energy_kwh=24.0, available_hours=frozenset(range(24)))
    assert schedule_ev(charger, np.zeros(23), spring).sum() == pytest.approx(23.0)
    afternoon = JUNE[15:24]
    assert schedule_ev(charger, np.zeros(9), afternoon).sum() == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: EVCharger(-7.4, 10.0, frozenset({1})), "power_kw"),
        (lambda: EVCharger(7.4, -1.0, frozenset({1})), "daily_energy_kwh"),
        (lambda: EVCharger(7.4, 20.0, frozenset({1, 2})), "daily_energy_kwh"),
        (lambda: EVCharger(7.4, 1.0, frozenset({24})), "available_hours"),
        (lambda: EVCharger(7.4, 1.0, frozenset()), "available_hours"),
        (lambda: EVCharger(7.4, 1.0, frozenset({1}), timezone="Mars/Olympus"), "timezone"),
        (lambda: schedule_ev(EVCharger(7.4, 1.0, frozenset({1})), np.zeros(3), JUNE), "surplus_kwh"),
        (lambda: schedule_ev(EVCharger(7.4, 1.0, frozenset({1})), -np.ones(72), JUNE), "surplus_kwh"),
        (lambda: schedule_ev(EVCharger(7.4, 1.0, frozenset({1})), np.zeros(72), JUNE.tz_localize(None)), "hours_utc"),
        (lambda: schedule_ev(EVCharger(7.4, 1.0, frozenset({1})), np.zeros(72), JUNE[::-1]), "hours_utc"),
    ],
)
def test_bad_ev_input_names_the_field(build: object, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        build()  # type: ignore[operator]
