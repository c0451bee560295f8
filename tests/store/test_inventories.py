"""Inventories stored per entity and year: the demo municipality's balance through the storage round trip, local
factors, communities from stored settlements; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from condivisa.balance import ConsumptionRow, Inventory, LocalProduction, custom_factor
from condivisa.balance.demo import demo_balances
from condivisa.errors import InputError
from condivisa.store import import_readings, save_community
from condivisa.store import inventories as inv
from condivisa.store.municipalities import ensure_municipality, municipality_by_slug
from condivisa.web.services import run_settlement
from tests.store.conftest import Demo


def test_demo_balance_adds_up_after_the_round_trip(engine: Engine, session: Session) -> None:
    bid, mid = inv.seed_demo_balance(engine)
    again = inv.seed_demo_balance(engine)  # idempotent: the same rows replaced
    assert again == (bid, mid)
    town = municipality_by_slug(session, "borgo-demo")
    view = inv.entity_balances(session, municipality_id=town.id)
    assert [(s.kind, s.year) for s in view.inventories] == [("baseline", 2005), ("monitoring", 2025)]
    assert view.baseline is not None and view.monitoring is not None and view.progress is not None
    bei, mei, progress = demo_balances()
    for stored, pure in ((view.baseline, bei), (view.monitoring, mei)):
        # Sector totals equal the grand total, and carrier totals too.
        assert math.fsum(stored.emissions_by_sector.values()) == pytest.approx(stored.total_emissions_t, rel=1e-12)
        assert math.fsum(stored.emissions_by_carrier.values()) == pytest.approx(stored.total_emissions_t, rel=1e-12)
        assert math.fsum(stored.consumption_by_sector.values()) == pytest.approx(stored.total_consumption_mwh)
        # The same balance as the pure computation.
        assert stored.total_emissions_t == pytest.approx(pure.total_emissions_t, rel=1e-9)
        assert dict(stored.emissions_by_sector) == pytest.approx(dict(pure.emissions_by_sector), rel=1e-9)
        assert stored.local_electricity_factor == pytest.approx(pure.local_electricity_factor, rel=1e-9)
        for f in stored.factors.values():
            assert f.source and f.year > 1900
    assert view.progress.reduction_pct == pytest.approx(progress.reduction_pct, rel=1e-9)
    assert view.monitoring.shared_energy_mwh > 0 and view.monitoring.local_production_mwh > 0


def test_save_replace_and_local_factor(session: Session) -> None:
    town = ensure_municipality(session, "Città Prova", region="Piemonte", slug="citta-prova")
    inventory = Inventory(
        entity="Città Prova",
        kind="municipality",
        year=2024,
        rows=(
            ConsumptionRow("residential", "district_heating", 1000.0, "rete"),
            ConsumptionRow("tertiary", "electricity", 500.0),
        ),
        production=(LocalProduction("pv", 100.0),),
        shared_energy_mwh=40.0,
        population=5000,
    )
    local = custom_factor("district_heating", 0.21, "Gestore rete TLR, dichiarazione 2024", year=2024)
    iid = inv.save_inventory(session, inventory, kind="monitoring", municipality_id=town.id, overrides=[local])
    stored = inv.load_inventory(session, iid)
    assert stored.overrides["district_heating"].value == 0.21
    assert stored.overrides["district_heating"].source.startswith("Gestore")
    balance = inv.stored_balance(stored)
    assert balance.emissions_by_carrier["district_heating"] == pytest.approx(210.0)
    assert balance.per_capita_t == pytest.approx(balance.total_emissions_t / 5000)
    # Same entity, year and kind: replaced, same id, new rows.
    smaller = Inventory("Città Prova", "municipality", 2024, rows=(ConsumptionRow("tertiary", "electricity", 10.0),))
    assert inv.save_inventory(session, smaller, kind="monitoring", municipality_id=town.id) == iid
    assert len(inv.load_inventory(session, iid).inventory.rows) == 1
    # Without the local factor district heating cannot be counted: a note, not a crash.
    inv.save_inventory(session, inventory, kind="baseline", municipality_id=town.id)
    view = inv.entity_balances(session, municipality_id=town.id)
    assert view.baseline is None and any("district_heating" in n for n in view.notes)
    with pytest.raises(ValueError, match="una sola entità"):
        inv.save_inventory(session, inventory, kind="baseline")
    with pytest.raises(ValueError, match="tipo di inventario"):
        inv.save_inventory(session, inventory, kind="altro", municipality_id=town.id)


def test_text_rows_name_row_and_field() -> None:
    rows = inv.parse_rows_text("# commento\nresidential;electricity;1.234,5\ntertiary;natural_gas;10;nota\n")
    assert rows[0].mwh == pytest.approx(1234.5)
    assert rows[1].note == "nota"
    assert inv.parse_rows_text(inv.rows_text(rows)) == rows
    with pytest.raises(InputError) as bad:
        inv.parse_rows_text("casa;electricity;1\nresidential;plasma;1\nresidential;electricity;-3\nx\n")
    text = str(bad.value)
    assert "riga 1, settore" in text and "riga 2, vettore" in text and "riga 3, MWh" in text and "riga 4" in text
    prod = inv.parse_production_text("pv;120;tetti\nwind;3")
    assert [p.technology for p in prod] == ["pv", "wind"]
    assert inv.parse_production_text(inv.production_text(prod)) == prod
    with pytest.raises(InputError, match="tecnologia"):
        inv.parse_production_text("nucleare;5")


def test_community_inventory_from_stored_settlements(engine: Engine, session: Session, demo: Demo) -> None:
    cid = save_community(session, demo.community, municipality="Città Prova")
    import_readings(engine, cid, demo.readings, source="demo")
    run_settlement(engine, session, cid, dt.date(2025, 6, 1), dt.date(2025, 6, 2))
    run_settlement(engine, session, cid, dt.date(2025, 6, 3), dt.date(2025, 6, 3))
    shared = inv.community_shared_energy_mwh(session, cid, 2025)
    frame = demo.readings.frame
    inventory = inv.community_inventory(session, cid, 2025)
    assert inventory.shared_energy_mwh == pytest.approx(shared)
    assert math.fsum(r.mwh for r in inventory.rows) == pytest.approx(
        float(frame["withdrawn_kwh"].sum()) / 1000, rel=1e-6
    )
    assert {r.sector for r in inventory.rows} <= {"residential", "municipal_buildings", "tertiary"}
    assert any("solo in parte" in n for n in inventory.notes)
    iid = inv.save_inventory(session, inventory, kind="monitoring", community_id=cid)
    balance = inv.stored_balance(inv.load_inventory(session, iid))
    assert math.fsum(balance.emissions_by_sector.values()) == pytest.approx(balance.total_emissions_t)
    with pytest.raises(ValueError, match="nessun ricalcolo"):
        inv.community_inventory(session, cid, 2024)
