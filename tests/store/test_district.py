"""District energy management through storage: a constructed dataset with known answer stored as a meter and
temperatures, fitted and verified through :mod:`condivisa.store.district`, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from condivisa.energy_management import INTERCEPT, fit_baseline, verify_savings
from condivisa.errors import InputError
from condivisa.store import district as ds
from condivisa.store import import_readings, save_community
from condivisa.store.models_district import (
    DistrictActionRow,
    DistrictAlarmRow,
    DistrictMeterReadingRow,
    DistrictMeterRow,
    DistrictReviewRow,
    DistrictSavingsRow,
)
from condivisa.store.municipalities import ensure_municipality
from tests.energy_management.test_baseline import TRUE, baseline_year, daily_temperature
from tests.energy_management.test_savings import reporting_year
from tests.store.conftest import Demo


def _month_values(series: pd.Series) -> dict[dt.date, float]:
    return {pd.Timestamp(k).date(): float(v) for k, v in series.items()}


def _known_district(session: Session) -> tuple[int, int]:
    """A district whose heat meter and variables hold the constructed dataset of the pure tests."""
    town = ensure_municipality(session, "Paese Noto", region="Piemonte", slug="paese-noto")
    did = ds.create_district(session, town.id, "Quartiere Noto")
    site = ds.add_site(session, did, "S1", "Scuola", "building", floor_area_m2=2400)
    meter = ds.add_meter(session, site, "C-calore", "heat", "kWh", use="riscaldamento")
    temp = ds.add_variable(session, did, "temperatura", "temperature", "°C")
    act = ds.add_variable(session, did, "activity", "activity", "unità")
    consumption24, drivers24 = baseline_year()
    actual25, drivers25, _ = reporting_year()
    ds.import_meter_values(session, meter, _month_values(consumption24) | _month_values(actual25))
    temps = pd.concat([daily_temperature(2024), daily_temperature(2025, shift=0.8)])
    ds.import_variable_values(session, temp, _month_values(temps))
    activity = pd.concat([drivers24["activity"], drivers25["activity"]])
    ds.import_variable_values(session, act, _month_values(activity))
    return did, site


def test_baseline_and_savings_recover_the_known_answer(session: Session) -> None:
    did, site = _known_district(session)
    bid = ds.fit_district_baseline(
        session,
        did,
        carrier="heat",
        site_id=site,
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        variables=["hdd", "activity"],
    )
    row = ds.get_baseline(session, bid)
    # The same numbers as the pure fit on the same data...
    consumption, drivers = baseline_year()
    pure = fit_baseline(consumption, drivers)
    for name in (INTERCEPT, "hdd", "activity"):
        assert row.coefficients[name] == pytest.approx(pure.coefficients[name], rel=1e-9)
    # ... which recovers the known coefficients E = 500 + 12 HDD + 3 activity.
    assert row.coefficients["hdd"] == pytest.approx(TRUE["hdd"], rel=0.01)
    assert row.coefficients["activity"] == pytest.approx(TRUE["activity"], rel=0.01)
    assert row.coefficients[INTERCEPT] == pytest.approx(TRUE[INTERCEPT], rel=0.10)
    assert row.accepted and row.failures == [] and row.statistics["n"] == 12
    assert row.statistics["r2"] > 0.99
    model = ds.baseline_model(row)
    assert model.cv_rmse_pct == pytest.approx(pure.cv_rmse_pct) and model.autocorrelation == pytest.approx(
        pure.autocorrelation
    )

    aid = ds.add_action(session, did, "A1", "Valvole termostatiche", significant_use="riscaldamento")
    sid = ds.verify_district_savings(
        session, bid, dt.date(2025, 1, 1), dt.date(2025, 12, 31), confidence=0.90, action_id=aid
    )
    actual, rep_drivers, known = reporting_year()
    expected = verify_savings(pure, actual, rep_drivers, confidence=0.90)
    saved = session.get(DistrictSavingsRow, sid)
    assert saved is not None
    assert saved.avoided_kwh == pytest.approx(expected.avoided_energy_kwh, rel=1e-9)
    assert saved.avoided_kwh == pytest.approx(known, rel=0.03)
    assert abs(saved.avoided_kwh - known) <= saved.uncertainty_kwh
    assert saved.meets_ashrae14 and len(saved.periods) == 12
    action = session.get(DistrictActionRow, aid)
    assert action is not None and action.verified_savings_kwh == pytest.approx(saved.avoided_kwh)

    # EnPI (actual / expected) with a target of 0.85: December 2025 (0.9) is off track -> alarm; then 0.95 closes it.
    eid = ds.add_enpi(session, bid, "Calore scuola", "regression")
    ds.add_target(session, eid, start=dt.date(2025, 1, 1), due=dt.date(2025, 12, 31), target_value=0.85)
    checks = ds.check_district(session.get_bind(), did, dt.date(2026, 1, 10))  # type: ignore[arg-type]
    assert len(checks) == 1 and checks[0].period == dt.date(2025, 12, 1)
    assert checks[0].status == "off_track" and checks[0].enpi == pytest.approx(0.9, abs=0.02)
    assert checks[0].alarm_id is not None
    again = ds.check_district(session.get_bind(), did, dt.date(2026, 1, 11))  # type: ignore[arg-type]
    assert again[0].alarm_id == checks[0].alarm_id  # the same alarm, not a second one
    ds.add_target(session, eid, start=dt.date(2025, 1, 1), due=dt.date(2025, 12, 31), target_value=0.95)
    back = ds.check_district(session.get_bind(), did, dt.date(2026, 1, 12))  # type: ignore[arg-type]
    assert back[0].status == "on_track" and back[0].alarm_id is None
    session.expire_all()
    alarms = session.scalars(select(DistrictAlarmRow).where(DistrictAlarmRow.district_id == did)).all()
    assert [a.status for a in alarms] == ["closed"]

    # Management review of 2025: the same savings, the action, the significant use.
    rid = ds.run_review(
        session,
        did,
        baseline_id=bid,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        review_date=dt.date(2026, 2, 1),
        decisions="Estendere le valvole alla palestra",
    )
    review = session.get(DistrictReviewRow, rid)
    assert review is not None
    summary = review.summary
    assert summary["savings"]["avoided_energy_kwh"] == pytest.approx(saved.avoided_kwh)
    assert summary["significant_uses"]["uses"] == ["riscaldamento"]
    assert summary["baseline_acceptance"]["passed"] is True
    assert summary["actions"]["items"][0]["id"] == "A1"
    assert review.decisions.startswith("Estendere")


def test_ratio_and_measured_enpi(session: Session) -> None:
    did, _ = _known_district(session)
    bid = ds.fit_district_baseline(
        session, did, carrier="heat", start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), variables=["hdd"]
    )
    ratio = ds.add_enpi(session, bid, "kWh per unità", "ratio", variable="activity")
    measured = ds.add_enpi(session, bid, "kWh", "measured")
    enpis = dict(ds.enpis_of(session, did))
    by_id = {e.id: e for e in enpis}
    consumption, drivers = baseline_year()
    r = ds.enpi_values(session, by_id[ratio], dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert r.to_numpy() == pytest.approx((consumption / drivers["activity"]).to_numpy())
    m = ds.enpi_values(session, by_id[measured], dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert m.to_numpy() == pytest.approx(consumption.to_numpy())
    with pytest.raises(InputError, match="attività"):
        ds.add_enpi(session, bid, "senza", "ratio")


def test_missing_month_is_left_out_not_filled(session: Session) -> None:
    did, _ = _known_district(session)
    meter = ds.find_meter(session, did, "C-calore")
    session.execute(
        delete(DistrictMeterReadingRow).where(
            DistrictMeterReadingRow.meter_id == meter.id, DistrictMeterReadingRow.day == dt.date(2024, 4, 1)
        )
    )
    session.commit()
    bid = ds.fit_district_baseline(
        session,
        did,
        carrier="heat",
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 12, 31),
        variables=["hdd", "activity"],
    )
    row = ds.get_baseline(session, bid)
    assert row.statistics["n"] == 11 and row.statistics["excluded"] == ["2024-04-01"]


def test_pod_meter_reads_the_community_readings(session: Session, engine: Engine, demo: Demo) -> None:
    cid = save_community(session, demo.community, municipality="Paese Noto")
    import_readings(engine, cid, demo.readings, source="demo")
    town = ensure_municipality(session, "Paese Noto", region="Piemonte", slug="paese-noto")
    did = ds.create_district(session, town.id, "Centro")
    site = ds.add_site(session, did, "M", "Municipio")
    pod = demo.community.members[0].pods[0].pod
    mid = ds.add_meter(session, site, "E1", "electricity", "kWh", community_id=cid, pod=pod, use="uffici")
    meter = session.get(DistrictMeterRow, mid)
    assert meter is not None
    daily = ds.meter_daily(session, meter, dt.date(2025, 6, 1), dt.date(2025, 6, 3))
    frame = demo.readings.frame
    expected = float(frame.loc[frame["pod"] == pod, "withdrawn_kwh"].sum())
    assert len(daily) == 3 and float(daily.sum()) == pytest.approx(expected)
    total = ds.consumption(session, did, None, "electricity", dt.date(2025, 6, 1), dt.date(2025, 6, 3), "day")
    assert float(total.sum()) == pytest.approx(expected)
    with pytest.raises(InputError, match="comunità"):
        ds.import_meter_values(session, mid, {dt.date(2025, 6, 1): 1.0})


def test_csv_imports(session: Session) -> None:
    town = ensure_municipality(session, "Paese Noto", region="Piemonte", slug="paese-noto")
    did = ds.create_district(session, town.id, "Acque")
    site = ds.add_site(session, did, "P1", "Pompaggio", "pumping_station")
    water = ds.add_meter(session, site, "W1", "water", "m3")
    values = ds.parse_date_value_csv("date,value\n2025-01-01,12.5\n2025-01-02,13\n", file="acqua.csv")
    assert ds.import_meter_values(session, water, values) == 2
    # Re-importing replaces.
    ds.import_meter_values(session, water, ds.parse_date_value_csv("data;valore\n02/01/2025;14,5\n"))
    series = ds.consumption(session, did, None, "water", dt.date(2025, 1, 1), dt.date(2025, 1, 2), "day")
    assert series.tolist() == [12.5, 14.5]
    with pytest.raises(InputError) as bad:
        ds.parse_date_value_csv("date,value\n2025-13-01,1\n2025-01-02,x\n2025-01-03,-1\n", file="f.csv")
    text = str(bad.value)
    assert "f.csv, riga 2, date" in text and "riga 3, value" in text and "riga 4, value" in text
    with pytest.raises(InputError, match="ripetuta"):
        ds.parse_date_value_csv("2025-01-01,1\n2025-01-01,2\n")
    ds.add_meter(session, site, "E-pompa", "electricity", "kWh", pod="IT001E99999999")
    stored = ds.import_long_readings(
        session,
        did,
        "pod,timestamp,withdrawn_kwh,injected_kwh\n"
        "IT001E99999999,2025-01-01T00:00:00+01:00,2.0,0\n"
        "IT001E99999999,2025-01-01T01:00:00+01:00,3.0,0\n"
        "IT001E99999999,2025-01-02T00:00:00+01:00,4.0,0\n",
    )
    assert stored == {"E-pompa": 2}
    el = ds.consumption(session, did, None, "electricity", dt.date(2025, 1, 1), dt.date(2025, 1, 2), "day")
    assert el.tolist() == [5.0, 4.0]
    with pytest.raises(InputError, match="POD senza contatore"):
        ds.import_long_readings(
            session, did, "pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E11111111,2025-01-01T00:00:00+01:00,1,0\n"
        )
    with pytest.raises(InputError, match="unità"):
        ds.add_meter(session, site, "W2", "water", "kWh")


def test_team_and_decisions(session: Session) -> None:
    town = ensure_municipality(session, "Paese Noto", region="Piemonte", slug="paese-noto")
    did = ds.create_district(session, town.id, "Squadra")
    ds.add_team_member(session, did, "Anna Bianchi", "energy manager", "Comune")
    dec = ds.add_decision(session, did, decided_on=dt.date(2026, 3, 1), title="Audit scuole", owner="Anna Bianchi")
    ds.set_decision_status(session, dec, "done")
    members, decisions = ds.team_of(session, did)
    assert [m.role for m in members] == ["energy manager"] and decisions[0].status == "done"
    with pytest.raises(InputError):
        ds.set_decision_status(session, dec, "boh")
    with pytest.raises(InputError, match="esiste già"):
        ds.create_district(session, town.id, "Squadra")
