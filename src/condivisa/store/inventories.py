"""Energy and emissions inventories stored per entity and year, and their balances.

An inventory (:class:`condivisa.balance.Inventory`) belongs to one entity: a municipality (``municipalities``), a
stored community (``communities``) or a district (``districts``); it is a ``baseline`` or a ``monitoring``
inventory of one year. Saving the same (entity, year, kind) again replaces it. Balances are computed on reading
with the bundled emission factors (:mod:`condivisa.balance.factors`) and the inventory's local overrides.

For a community, :func:`community_inventory` builds the inventory of a year from its stored settlements:
withdrawals by member kind (sector), injection of its plants (a lower bound of their production), shared energy.

Units: energies MWh, emissions t CO2, factors t CO2/MWh.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from condivisa.balance import (
    SECTORS,
    Balance,
    ConsumptionRow,
    ElectricityRule,
    EmissionFactor,
    Inventory,
    LocalProduction,
    Progress,
    compare,
    compute_balance,
    custom_factor,
    load_factors,
)
from condivisa.errors import InputError, Problem
from condivisa.store.db import session_factory
from condivisa.store.models import CommunityRow, MemberRow, MunicipalityRow, SettlementRow, utc_now
from condivisa.store.models_district import (
    INVENTORY_KINDS,
    DistrictRow,
    EnergyInventoryFactorRow,
    EnergyInventoryLineRow,
    EnergyInventoryProductionRow,
    EnergyInventoryRow,
)
from condivisa.store.repository import NotFoundError

__all__ = [
    "MEMBER_KIND_SECTOR",
    "BalanceView",
    "StoredInventory",
    "community_inventory",
    "community_shared_energy_mwh",
    "delete_inventory",
    "entity_balances",
    "inventories_of",
    "load_inventory",
    "parse_production_text",
    "parse_rows_text",
    "production_text",
    "rows_text",
    "save_inventory",
    "seed_demo_balance",
    "stored_balance",
]

MEMBER_KIND_SECTOR: dict[str, str] = {
    "household": "residential",
    "municipality": "municipal_buildings",
    "local_authority": "municipal_buildings",
}
"""Sector of a community member's withdrawal by member kind; every other kind is ``tertiary``."""


@dataclass(frozen=True)
class StoredInventory:
    """An inventory as stored: its id, kind, entity and the inventory itself."""

    id: int
    kind: str
    entity_kind: str
    entity_ref: str
    inventory: Inventory
    electricity_rule: ElectricityRule
    overrides: Mapping[str, EmissionFactor]
    target_reduction_pct: float | None
    target_year: int | None
    source: str
    updated_at: dt.datetime

    @property
    def year(self) -> int:
        return self.inventory.year


@dataclass(frozen=True)
class BalanceView:
    """What the pages show: every stored inventory's balance (by year), the baseline, the latest monitoring
    inventory, and their comparison with the baseline's target when there is one."""

    inventories: tuple[StoredInventory, ...]
    balances: tuple[Balance, ...]
    baseline: Balance | None
    monitoring: Balance | None
    progress: Progress | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _entity(
    session: Session, municipality_id: int | None, community_id: int | None, district_id: int | None
) -> tuple[str, str, str]:
    given = [(k, v) for k, v in (("municipality", municipality_id), ("community", community_id),
                                  ("district", district_id)) if v is not None]  # fmt: skip
    if len(given) != 1:
        raise ValueError("un inventario appartiene a una sola entità: comune, comunità o distretto")
    kind, ident = given[0]
    model: Any = {"municipality": MunicipalityRow, "community": CommunityRow, "district": DistrictRow}[kind]
    row = session.get(model, ident)
    if row is None:
        raise NotFoundError(f"{kind} {ident} non trovato")
    return kind, f"{kind}:{ident}", str(row.name)


def save_inventory(
    session: Session,
    inventory: Inventory,
    *,
    kind: str,
    municipality_id: int | None = None,
    community_id: int | None = None,
    district_id: int | None = None,
    electricity_rule: ElectricityRule = "local",
    overrides: Iterable[EmissionFactor] = (),
    target_reduction_pct: float | None = None,
    target_year: int | None = None,
    source: str = "",
) -> int:
    """Store (or replace) the ``kind`` inventory of an entity for ``inventory.year``; returns its id (committed).

    Parameters
    ----------
    inventory : Inventory
        Rows [MWh], production [MWh], shared energy [MWh], population.
    kind : {"baseline", "monitoring"}
    municipality_id, community_id, district_id : int
        Exactly one: the entity the inventory describes.
    overrides : iterable of EmissionFactor
        Local factors (district heating) [t CO2/MWh] with their source.
    target_reduction_pct, target_year : optional
        On a baseline: the reduction commitment [%] and its year.
    """
    if kind not in INVENTORY_KINDS:
        raise ValueError(f"tipo di inventario {kind!r} non valido: attesi {', '.join(INVENTORY_KINDS)}")
    entity_kind, ref, name = _entity(session, municipality_id, community_id, district_id)
    if inventory.kind != entity_kind:
        inventory = Inventory(
            entity=inventory.entity, kind=entity_kind,  # type: ignore[arg-type]
            year=inventory.year, rows=inventory.rows, production=inventory.production,
            shared_energy_mwh=inventory.shared_energy_mwh, green_purchases_mwh=inventory.green_purchases_mwh,
            population=inventory.population, notes=inventory.notes,
        )  # fmt: skip
    if target_reduction_pct is not None and not 0 < target_reduction_pct <= 100:
        raise ValueError(f"obiettivo di riduzione {target_reduction_pct} %: atteso tra 0 (escluso) e 100")
    if target_year is not None and target_year <= inventory.year:
        raise ValueError(f"anno obiettivo {target_year}: deve seguire l'anno {inventory.year}")
    row = session.scalar(
        select(EnergyInventoryRow).where(
            EnergyInventoryRow.entity_ref == ref,
            EnergyInventoryRow.year == inventory.year,
            EnergyInventoryRow.kind == kind,
        )
    )
    if row is None:
        row = EnergyInventoryRow(entity_ref=ref, year=inventory.year, kind=kind)
        session.add(row)
    row.entity_kind = entity_kind
    row.entity_name = (inventory.entity or name)[:200]
    row.municipality_id, row.community_id, row.district_id = municipality_id, community_id, district_id
    row.population = inventory.population
    row.shared_energy_mwh = inventory.shared_energy_mwh
    row.green_purchases_mwh = inventory.green_purchases_mwh
    row.electricity_rule = electricity_rule
    row.target_reduction_pct = target_reduction_pct
    row.target_year = target_year
    row.notes = list(inventory.notes)
    row.source = source[:200]
    row.updated_at = utc_now()
    session.flush()
    for model in (EnergyInventoryLineRow, EnergyInventoryProductionRow, EnergyInventoryFactorRow):
        session.execute(delete(model).where(model.inventory_id == row.id))
    for i, r in enumerate(inventory.rows):
        session.add(EnergyInventoryLineRow(
            inventory_id=row.id, position=i, sector=r.sector, carrier=r.carrier, mwh=r.mwh, note=r.note[:500]
        ))  # fmt: skip
    for i, p in enumerate(inventory.production):
        session.add(EnergyInventoryProductionRow(
            inventory_id=row.id, position=i, technology=p.technology, mwh=p.mwh, note=p.note[:500]
        ))  # fmt: skip
    for f in overrides:
        session.add(EnergyInventoryFactorRow(
            inventory_id=row.id, carrier=f.carrier, value=f.value, source=f.source[:300], note=f.note[:500]
        ))  # fmt: skip
    session.commit()
    return row.id


def _stored(session: Session, row: EnergyInventoryRow) -> StoredInventory:
    lines = session.scalars(
        select(EnergyInventoryLineRow)
        .where(EnergyInventoryLineRow.inventory_id == row.id)
        .order_by(EnergyInventoryLineRow.position)
    )
    prod = session.scalars(
        select(EnergyInventoryProductionRow)
        .where(EnergyInventoryProductionRow.inventory_id == row.id)
        .order_by(EnergyInventoryProductionRow.position)
    )
    factors = session.scalars(select(EnergyInventoryFactorRow).where(EnergyInventoryFactorRow.inventory_id == row.id))
    inventory = Inventory(
        entity=row.entity_name,
        kind=row.entity_kind,  # type: ignore[arg-type]
        year=row.year,
        rows=tuple(ConsumptionRow(r.sector, r.carrier, r.mwh, r.note) for r in lines),
        production=tuple(LocalProduction(p.technology, p.mwh, p.note) for p in prod),
        shared_energy_mwh=row.shared_energy_mwh,
        green_purchases_mwh=row.green_purchases_mwh,
        population=row.population,
        notes=tuple(row.notes or ()),
    )
    overrides = {f.carrier: custom_factor(f.carrier, f.value, f.source, year=row.year, note=f.note) for f in factors}
    return StoredInventory(
        id=row.id,
        kind=row.kind,
        entity_kind=row.entity_kind,
        entity_ref=row.entity_ref,
        inventory=inventory,
        electricity_rule=row.electricity_rule,  # type: ignore[arg-type]
        overrides=overrides,
        target_reduction_pct=row.target_reduction_pct,
        target_year=row.target_year,
        source=row.source,
        updated_at=row.updated_at,
    )


def load_inventory(session: Session, inventory_id: int) -> StoredInventory:
    """The stored inventory ``inventory_id``; :class:`NotFoundError` if there is none."""
    row = session.get(EnergyInventoryRow, inventory_id)
    if row is None:
        raise NotFoundError(f"inventario {inventory_id} non trovato")
    return _stored(session, row)


def inventories_of(
    session: Session,
    *,
    municipality_id: int | None = None,
    community_id: int | None = None,
    district_id: int | None = None,
) -> list[StoredInventory]:
    """Every inventory of one entity, by year (baseline before monitoring in the same year)."""
    _, ref, _ = _entity(session, municipality_id, community_id, district_id)
    rows = session.scalars(
        select(EnergyInventoryRow).where(EnergyInventoryRow.entity_ref == ref).order_by(EnergyInventoryRow.year)
    )
    out = [_stored(session, r) for r in rows]
    return sorted(out, key=lambda s: (s.year, INVENTORY_KINDS.index(s.kind)))


def delete_inventory(session: Session, inventory_id: int) -> None:
    """Remove a stored inventory (committed)."""
    row = session.get(EnergyInventoryRow, inventory_id)
    if row is None:
        raise NotFoundError(f"inventario {inventory_id} non trovato")
    session.delete(row)
    session.commit()


def stored_balance(stored: StoredInventory) -> Balance:
    """The emissions balance of a stored inventory (year warnings become notes of the balance, not warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_balance(
            stored.inventory, electricity_rule=stored.electricity_rule, overrides=dict(stored.overrides)
        )


def entity_balances(
    session: Session,
    *,
    municipality_id: int | None = None,
    community_id: int | None = None,
    district_id: int | None = None,
) -> BalanceView:
    """Balances of every inventory of an entity; baseline = the earliest ``baseline`` inventory, monitoring = the
    latest ``monitoring`` one after it; progress against the baseline's target when both exist."""
    stored = inventories_of(
        session, municipality_id=municipality_id, community_id=community_id, district_id=district_id
    )
    by_id: dict[int, Balance] = {}
    notes: list[str] = []
    for s in stored:
        try:
            by_id[s.id] = stored_balance(s)
        except ValueError as exc:  # FactorError is a ValueError
            notes.append(f"inventario {s.kind} {s.year}: {exc}")
    balances = [by_id[s.id] for s in stored if s.id in by_id]
    base_s = next((s for s in stored if s.kind == "baseline" and s.id in by_id), None)
    baseline = by_id[base_s.id] if base_s else None
    mon_s = [s for s in stored if s.kind == "monitoring" and s.id in by_id and (base_s is None or s.year > base_s.year)]
    monitoring = by_id[mon_s[-1].id] if mon_s else None
    progress = None
    if base_s is not None and baseline is not None and monitoring is not None:
        pct, year = base_s.target_reduction_pct, base_s.target_year
        if pct is not None and year is not None and year > base_s.year:
            try:
                progress = compare(baseline, monitoring, target_reduction_pct=pct, target_year=year)
            except ValueError as exc:
                notes.append(str(exc))
    return BalanceView(tuple(stored), tuple(balances), baseline, monitoring, progress, tuple(notes))


# --- communities: inventories from stored settlements ------------------------------------------------------------


def _year_settlements(session: Session, community_id: int, year: int) -> list[SettlementRow]:
    """Non-overlapping settlements inside ``year`` (latest first wins), not superseded."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = session.scalars(
        select(SettlementRow)
        .where(
            SettlementRow.community_id == community_id,
            SettlementRow.period_start >= first,
            SettlementRow.period_end <= last,
            SettlementRow.status != "superseded",
        )
        .order_by(SettlementRow.created_at.desc(), SettlementRow.id.desc())
    )
    chosen: list[SettlementRow] = []
    for r in rows:
        if all(r.period_end < c.period_start or r.period_start > c.period_end for c in chosen):
            chosen.append(r)
    return sorted(chosen, key=lambda r: r.period_start)


def community_shared_energy_mwh(session: Session, community_id: int, year: int) -> float:
    """Energy shared by a community in ``year`` from its stored settlements [MWh] (overlaps counted once)."""
    return (
        math.fsum(
            float(r.document.get("energy_kwh", {}).get("shared", 0.0))
            for r in _year_settlements(session, community_id, year)
        )
        / 1000.0
    )


def community_inventory(session: Session, community_id: int, year: int) -> Inventory:
    """The electricity inventory of a community for ``year`` from its stored settlements.

    Withdrawals by member kind (:data:`MEMBER_KIND_SECTOR`), injection of the plants counted as local PV production
    (a lower bound: self-consumed production is not metered), shared energy; notes say which months are covered.
    """
    community = session.get(CommunityRow, community_id)
    if community is None:
        raise NotFoundError(f"comunità {community_id} non trovata")
    settlements = _year_settlements(session, community_id, year)
    if not settlements:
        raise ValueError(f"{community.name}: nessun ricalcolo (liquidazione) memorizzato nel {year}")
    kinds = {
        m.external_id: m.kind for m in session.scalars(select(MemberRow).where(MemberRow.community_id == community_id))
    }
    by_sector: dict[str, float] = {}
    injected = shared = 0.0
    days = 0
    for s in settlements:
        doc = s.document
        for m in doc.get("per_member", []):
            sector = MEMBER_KIND_SECTOR.get(kinds.get(str(m.get("id")), ""), "tertiary")
            by_sector[sector] = by_sector.get(sector, 0.0) + float(m.get("withdrawn_kwh", 0.0))
        injected += float(doc.get("energy_kwh", {}).get("injected", 0.0))
        shared += float(doc.get("energy_kwh", {}).get("shared", 0.0))
        days += (s.period_end - s.period_start).days + 1
    rows = tuple(
        ConsumptionRow(sector, "electricity", kwh / 1000.0, note="prelievi dai ricalcoli memorizzati")
        for sector, kwh in sorted(by_sector.items(), key=lambda kv: list(SECTORS).index(kv[0]))
    )
    span = ", ".join(f"{s.period_start.isoformat()}..{s.period_end.isoformat()}" for s in settlements)
    notes = [f"dai ricalcoli memorizzati: {span} ({days} giorni)"]
    if days < (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1:
        notes.append(f"anno {year} coperto solo in parte: {days} giorni")
    return Inventory(
        entity=community.name,
        kind="community",
        year=year,
        rows=rows,
        production=(LocalProduction("pv", injected / 1000.0, note="energia immessa (limite inferiore)"),),
        shared_energy_mwh=min(shared, injected) / 1000.0,
        notes=tuple(notes),
    )


# --- text form of rows (officer pages, CLI) ------------------------------------------------------------------------


def _number(text: str, what: str, row: int, file: str) -> float:
    raw = text.strip().replace(" ", "")
    if "," in raw:  # Italian: 1.234,5
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError.one(f"{text.strip()[:30]!r} non è un numero", file=file, row=row, field=what) from exc
    if not math.isfinite(value) or value < 0:
        raise InputError.one(f"atteso un valore >= 0, ricevuto {value}", file=file, row=row, field=what)
    return value


def parse_rows_text(text: str, *, file: str = "consumi") -> list[ConsumptionRow]:
    """Rows ``settore;vettore;MWh[;nota]`` one per line (blank lines and ``#`` comments skipped).

    Raises
    ------
    InputError
        Every bad line, with its row number and field (``settore``, ``vettore``, ``MWh``).
    """
    carriers = set(load_factors().carriers)
    problems: list[Problem] = []
    out: list[ConsumptionRow] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 3:
            problems.append(Problem("attesi settore;vettore;MWh[;nota]", file=file, row=n))
            continue
        sector, carrier = parts[0], parts[1]
        if sector not in SECTORS:
            problems.append(Problem(f"settore {sector!r} sconosciuto: attesi {', '.join(SECTORS)}", file, n, "settore"))
            continue
        if carrier not in carriers:
            problems.append(
                Problem(f"vettore {carrier!r} sconosciuto: attesi {', '.join(sorted(carriers))}", file, n, "vettore")
            )
            continue
        try:
            mwh = _number(parts[2], "MWh", n, file)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        out.append(ConsumptionRow(sector, carrier, mwh, ";".join(parts[3:])[:500]))
    if problems:
        raise InputError(problems)
    return out


def parse_production_text(text: str, *, file: str = "produzione") -> list[LocalProduction]:
    """Lines ``tecnologia;MWh[;nota]`` (technologies of the factor table: pv, wind, hydro)."""
    techs = set(load_factors().production)
    problems: list[Problem] = []
    out: list[LocalProduction] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2:
            problems.append(Problem("attesi tecnologia;MWh[;nota]", file=file, row=n))
            continue
        if parts[0] not in techs:
            problems.append(
                Problem(
                    f"tecnologia {parts[0]!r} sconosciuta: attese {', '.join(sorted(techs))}", file, n, "tecnologia"
                )
            )
            continue
        try:
            mwh = _number(parts[1], "MWh", n, file)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        out.append(LocalProduction(parts[0], mwh, ";".join(parts[2:])[:500]))
    if problems:
        raise InputError(problems)
    return out


def rows_text(rows: Sequence[ConsumptionRow]) -> str:
    """The text form of consumption rows (inverse of :func:`parse_rows_text`)."""
    return "\n".join(f"{r.sector};{r.carrier};{r.mwh:.3f}" + (f";{r.note}" if r.note else "") for r in rows)


def production_text(rows: Sequence[LocalProduction]) -> str:
    """The text form of production rows (inverse of :func:`parse_production_text`)."""
    return "\n".join(f"{p.technology};{p.mwh:.3f}" + (f";{p.note}" if p.note else "") for p in rows)


# --- the demo municipality ----------------------------------------------------------------------------------------


def seed_demo_balance(engine: Engine) -> tuple[int, int]:
    """Store the demo municipality's baseline (2005) and monitoring (2025) inventories; returns their ids.

    Creates the municipality "Borgo Demo" (slug ``borgo-demo``) when missing; running it again replaces the two
    inventories with the same figures. Settles a year of the demo community (about 2 s, cached per process).
    """
    from condivisa.balance.demo import demo_inventories, demo_municipality_data
    from condivisa.store.municipalities import ensure_municipality

    data = demo_municipality_data()["municipality"]
    baseline, monitoring = demo_inventories()
    with session_factory(engine)() as session:
        info = ensure_municipality(
            session, str(data["name"]).removeprefix("Comune di "), region="Piemonte", province="TO",
            latitude=45.07, longitude=7.69, slug="borgo-demo",
        )  # fmt: skip
        source = "demo: condivisa.balance.demo (comunità demo + demo_municipality.toml)"
        bid = save_inventory(
            session, baseline, kind="baseline", municipality_id=info.id, source=source,
            target_reduction_pct=float(data["target_reduction_pct"]), target_year=int(data["target_year"]),
        )  # fmt: skip
        mid = save_inventory(session, monitoring, kind="monitoring", municipality_id=info.id, source=source)
    return bid, mid
