"""Demo data of the municipality's public services, so that ``condivisa serve --demo`` shows each of them filled.

:func:`seed_civic_demo` adds to the demo municipality (see :mod:`condivisa.web.seed`):

- help desk: two district offices with free 30-minute appointment slots on working-day mornings (09:00-12:00,
  Europe/Rome) of the next two weeks;
- register: the demo community as a published, operating CER linked to its stored community (members and plants
  from the stored description, a point and a cabina-area polygon), a parish CER being promoted, label criteria;
- matching: a community profile of the demo CER, a private roof, an installer, an open call for interest;
- public buildings: ``examples/edifici-pubblici.csv`` of the repository, imported and ranked (skipped when the file
  is missing, as in an installed package);
- engagement: a citizens' course, a staff training, a school session and a stakeholder working table in the coming
  month, published with capacity, and one current announcement.

It uses the repository functions of each service only and is idempotent: what is already there (same office, slot
start, entry, profile, call, building code, event or announcement title) is left alone, so a second run adds
nothing. Slots and dates follow ``today``: a run on a later day adds the slots of the new days only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from condivisa.civic.buildings import read_buildings
from condivisa.civic.register import validate_entry
from condivisa.demo import demo_community
from condivisa.model import Community
from condivisa.store import buildings as buildings_store
from condivisa.store import desk as desk_store
from condivisa.store import engagement as engagement_store
from condivisa.store import find_community, get_user_by_email, load_community, session_factory
from condivisa.store import matching as matching_store
from condivisa.store import register as register_store
from condivisa.store.municipalities import MunicipalityInfo, ensure_municipality, list_municipalities
from condivisa.web.seed import DEMO_MUNICIPALITY, DEMO_USERS

log = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Europe/Rome")
DEMO_LATITUDE = 45.07
DEMO_LONGITUDE = 7.69
BUILDINGS_FILE = Path(__file__).resolve().parents[3] / "examples" / "edifici-pubblici.csv"
"""The example building table of the repository (absent from an installed package)."""

OFFICES = (
    ("Sportello Centro", "Centro storico", "Piazza Vittorio Emanuele II 1", (1, 3)),
    ("Sportello Borgo Nuovo", "Borgo Nuovo", "Via dei Mulini 12", (2,)),
)
"""Name, district, address and opening weekdays (0 = Monday) of the desk's offices."""
SLOT_MINUTES = 30
SLOT_HOURS = (dt.time(9, 0), dt.time(12, 0))
"""Appointments from 09:00 to 12:00 local time."""
SLOT_DAYS = 14
_HOLIDAYS = {(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)}
"""Fixed-date national holidays (month, day): no appointments."""

_TECHNOLOGY = {
    "pv": "fotovoltaico",
    "wind": "eolico",
    "hydro": "idroelettrico",
    "biomass": "biomassa",
    "biogas": "biomassa",
}
"""Technology of the stored community -> technology of the register."""

PROMOTING_CER = "CER Solidale San Giovanni"
ROOF_PROFILE = "Capannone Via Roma"
INSTALLER_PROFILE = "Solare Canavese Impianti S.r.l."
CALL_TITLE = "Manifestazione di interesse: tetti per la CER"
ANNOUNCEMENT_TITLE = "Aperte le iscrizioni agli incontri sulle comunità energetiche"


def _working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in _HOLIDAYS


def _next_working_day(day: dt.date) -> dt.date:
    while not _working_day(day):
        day += dt.timedelta(days=1)
    return day


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_TZ)


def _municipality(session: Session, name: str) -> tuple[MunicipalityInfo, int]:
    """The municipality called ``name`` and 1 if it had to be created (as the demo one, in Piemonte)."""
    for found in list_municipalities(session):
        if found.name == name:
            return found, 0
    created = ensure_municipality(
        session,
        name,
        region="Piemonte",
        province="TO",
        latitude=DEMO_LATITUDE,
        longitude=DEMO_LONGITUDE,
        slug="borgo-demo" if name == DEMO_MUNICIPALITY else None,
    )
    return created, 1


# Help desk --------------------------------------------------------------------------------------------------------


def _seed_desk(session: Session, municipality: MunicipalityInfo, today: dt.date) -> dict[str, int]:
    offices = {o.name: o for o in desk_store.list_offices(session, municipality.id)}
    taken = {(s.office_id, s.starts_at) for s in desk_store.list_slots(session, municipality.id)}
    counts = {"desk_offices": 0, "desk_slots": 0}
    for name, district, address, weekdays in OFFICES:
        office = offices.get(name)
        if office is None:
            office = desk_store.create_office(session, municipality.id, name=name, district=district, address=address)
            counts["desk_offices"] += 1
        for k in range(1, SLOT_DAYS + 1):
            day = today + dt.timedelta(days=k)
            if day.weekday() not in weekdays or not _working_day(day):
                continue
            start = _local(day, SLOT_HOURS[0].hour, SLOT_HOURS[0].minute)
            last = _local(day, SLOT_HOURS[1].hour, SLOT_HOURS[1].minute)
            while start + dt.timedelta(minutes=SLOT_MINUTES) <= last:
                end = start + dt.timedelta(minutes=SLOT_MINUTES)
                if (office.id, start) not in taken:
                    desk_store.create_slot(session, municipality.id, office.id, starts_at=start, ends_at=end)
                    taken.add((office.id, start))
                    counts["desk_slots"] += 1
                start = end
    return counts


# Register ---------------------------------------------------------------------------------------------------------


def _square(lat: float, lon: float, half_deg: float) -> str:
    """A closed square polygon (GeoJSON text, lon/lat) of half side ``half_deg`` [°] around a point."""
    ring = [
        [lon - half_deg, lat - half_deg],
        [lon + half_deg, lat - half_deg],
        [lon + half_deg, lat + half_deg],
        [lon - half_deg, lat + half_deg],
        [lon - half_deg, lat - half_deg],
    ]
    return json.dumps({"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]})


def _plants_text(community: Community) -> str:
    lines = []
    for p in community.plants:
        owner = next((m.name for m in community.members if m.id == p.owner), p.owner)
        lines.append(f"{_TECHNOLOGY.get(p.technology, 'altro')}; {p.power_kw:g}; {owner}")
    return "\n".join(lines)


def _seed_register(
    session: Session,
    municipality: MunicipalityInfo,
    community: Community,
    community_id: int | None,
    officer_id: int | None,
) -> dict[str, int]:
    register_store.ensure_criteria(session, municipality.id)
    names = {row.name for row in register_store.list_entries(session, municipality.id)}
    counts = {"register_entries": 0}
    cabine = sorted({p.cabina for p in community.plants} | {pt.cabina for m in community.members for pt in m.pods})
    entries = [
        (
            {
                "name": community.name,
                "configuration": community.configuration,
                "status": "operating",
                "members_count": str(len(community.members)),
                "plants": _plants_text(community),
                "cabina_codes": ", ".join(cabine),
                "cabina_area": _square(DEMO_LATITUDE, DEMO_LONGITUDE, 0.012),
                "latitude": f"{DEMO_LATITUDE}",
                "longitude": f"{DEMO_LONGITUDE}",
                "area_description": "Centro storico e Borgo Nuovo, cabine primarie " + " e ".join(cabine),
                "website": "https://cer.borgodemo.example.it",
                "contact_email": "segreteria@cer.borgodemo.example.it",
                "contact_public": "on",
                "description": (
                    "Comunità energetica rinnovabile promossa dal Comune con famiglie, imprese, la parrocchia e "
                    "un'associazione del territorio: condivide l'energia di due impianti fotovoltaici e destina "
                    "parte degli incentivi al contrasto della povertà energetica."
                ),
                "regulation_url": "https://cer.borgodemo.example.it/regolamento.pdf",
            },
            community_id,
        ),
        (
            {
                "name": PROMOTING_CER,
                "configuration": "CER",
                "status": "promoting",
                "members_count": "14",
                "plants": "fotovoltaico; 45; Tetto dell'oratorio",
                "cabina_codes": "AC001E00124",
                "latitude": f"{DEMO_LATITUDE + 0.011:.3f}",
                "longitude": f"{DEMO_LONGITUDE - 0.008:.3f}",
                "area_description": "Quartiere San Giovanni, attorno alla parrocchia",
                "contact_email": "cer@parrocchiasangiovanni.example.it",
                "contact_public": "on",
                "description": (
                    "Gruppo promotore della parrocchia San Giovanni e dell'Associazione Il Ponte ETS: raccoglie "
                    "adesioni di famiglie ed enti del terzo settore per un impianto sul tetto dell'oratorio."
                ),
            },
            None,
        ),
    ]
    for fields, linked in entries:
        if fields["name"] in names:
            continue
        data = validate_entry(fields)
        register_store.add_office_entry(session, municipality.id, data, user_id=officer_id, community_id=linked)
        counts["register_entries"] += 1
    return counts


# Matching ---------------------------------------------------------------------------------------------------------


def _seed_matching(
    session: Session,
    municipality: MunicipalityInfo,
    community: Community,
    community_id: int | None,
    officer_id: int | None,
    today: dt.date,
) -> dict[str, int]:
    existing = {(p.kind, p.display_name) for p in matching_store.list_profiles(session, municipality.id)}
    counts = {"match_profiles": 0, "match_calls": 0}
    pv = [p for p in community.plants if p.technology == "pv"]
    largest = max(pv, key=lambda p: p.power_kw, default=None)
    profiles: list[dict[str, Any]] = [
        {
            "kind": "community",
            "display_name": community.name,
            "description": "Cerchiamo soci che consumano di giorno: uffici, negozi, laboratori, scuole.",
            "attributes": {
                "pv_kwp": f"{sum(p.power_kw for p in pv):g}",
                "consumption_kwh_year": "95000",
                "consumption_pattern": "evening",
                "lacking_pattern": "day",
            },
            "contact_name": f"Segreteria {community.name}",
            "contact_email": "segreteria@cer.borgodemo.example.it",
            "latitude": DEMO_LATITUDE,
            "longitude": DEMO_LONGITUDE,
            "cabina": largest.cabina if largest else None,
            "community_id": community_id,
        },
        {
            "kind": "roof_owner",
            "display_name": ROOF_PROFILE,
            "description": "Copertura piana di un capannone artigianale, libera da ombre, disponibile in comodato.",
            "attributes": {"area_m2": "600", "orientation": "piano", "tilt_deg": "0"},
            "contact_name": "Giovanni Ferrero",
            "contact_email": "capannone.viaroma@example.it",
            "contact_phone": "+39 011 555 0101",
            "latitude": DEMO_LATITUDE + 0.004,
            "longitude": DEMO_LONGITUDE + 0.006,
            "cabina": "AC001E00123",
        },
        {
            "kind": "installer",
            "display_name": INSTALLER_PROFILE,
            "description": "Progettazione e installazione di impianti fotovoltaici per comunità energetiche.",
            "attributes": {"province": "TO", "certifications": "FER, CEI 0-21, F-gas", "capacity_kwp_year": "800"},
            "contact_name": "Laura Bertola",
            "contact_email": "commerciale@solarecanavese.example.it",
            "contact_phone": "+39 0125 555 202",
            "latitude": 45.46,
            "longitude": 7.87,
        },
    ]
    for profile in profiles:
        if (profile["kind"], profile["display_name"]) in existing:
            continue
        matching_store.create_profile(session, municipality.id, **profile)
        counts["match_profiles"] += 1
    if all(c.title != CALL_TITLE for c in matching_store.list_calls(session, municipality.id)):
        matching_store.create_call(
            session,
            municipality.id,
            title=CALL_TITLE,
            body=(
                "Il Comune raccoglie la disponibilità di tetti e coperture, pubblici e privati, su cui installare "
                "impianti fotovoltaici della comunità energetica rinnovabile.\n\n"
                "Possono rispondere proprietari di edifici nel territorio comunale con almeno 100 m² di copertura "
                "libera. La risposta non impegna: serve a individuare le superfici più adatte."
            ),
            opens_on=today,
            closes_on=today + dt.timedelta(days=60),
            profile_kind="roof_owner",
            questions=(
                "Il tetto è stato rifatto negli ultimi 10 anni?",
                "Ci sono vincoli paesaggistici o storici sull'edificio?",
            ),
            created_by=officer_id,
        )
        counts["match_calls"] += 1
    return counts


# Public buildings -------------------------------------------------------------------------------------------------


def _seed_buildings(session: Session, municipality: MunicipalityInfo, path: Path) -> dict[str, int]:
    counts = {"buildings": 0, "building_rankings": 0}
    if not path.is_file():
        log.info("edifici pubblici demo: %s non trovato, nessun edificio caricato", path)
        return counts
    stored = {b.code for b in buildings_store.list_buildings(session, municipality.id)}
    new = [b for b in read_buildings(path.read_text(encoding="utf-8"), path.name) if b.code not in stored]
    if new:
        summary = buildings_store.import_buildings(session, municipality.id, new, source=path.name)
        counts["buildings"] = len(summary.created)
    ranking = buildings_store.load_ranking(session, municipality.id)
    if ranking.entries and (not ranking.assessed or ranking.stale):
        buildings_store.rank_municipality(session, municipality)
        counts["building_rankings"] = 1
    return counts


# Engagement -------------------------------------------------------------------------------------------------------


def _seed_engagement(session: Session, municipality: MunicipalityInfo, today: dt.date) -> dict[str, int]:
    counts = {"events": 0, "announcements": 0}
    titles = {e.title for e in engagement_store.list_events(session, municipality.id)}

    def day(offset: int) -> dt.date:
        return _next_working_day(today + dt.timedelta(days=offset))

    events = [
        engagement_store.EventFields(
            kind="course_citizens",
            title="Comunità energetiche: come funzionano e come aderire",
            starts_at=_local(day(7), 18),
            ends_at=_local(day(7), 20),
            description=(
                "Corso serale in due ore per cittadini e famiglie: che cos'è una CER, chi può aderire, come si "
                "calcolano gli incentivi sull'energia condivisa, che cosa cambia in bolletta."
            ),
            audience="Cittadini e famiglie",
            place="Sala consiliare, Piazza Vittorio Emanuele II 1",
            capacity=60,
            registration_open=True,
            published=True,
            district="Centro storico",
        ),
        engagement_store.EventFields(
            kind="course_staff",
            title="Formazione del personale: registro CER e sportello energia",
            starts_at=_local(day(10), 9, 30),
            ends_at=_local(day(10), 12, 30),
            description=(
                "Per gli uffici tecnico, ambiente e relazioni con il pubblico: le richieste allo sportello, la "
                "verifica delle iscrizioni al registro e l'etichetta comunale."
            ),
            audience="Personale comunale",
            place="Municipio, sala riunioni 2° piano",
            capacity=20,
            registration_open=True,
            published=True,
        ),
        engagement_store.EventFields(
            kind="school",
            title="A scuola di energia: il sole sul tetto della Rodari",
            starts_at=_local(day(14), 10),
            ends_at=_local(day(14), 12),
            description=(
                "Laboratorio per le classi quarte e quinte: leggere i dati dell'impianto fotovoltaico della scuola "
                "e capire quando conviene consumare l'energia prodotta."
            ),
            audience="Classi IV e V della scuola primaria",
            place="Scuola primaria G. Rodari, Via delle Scuole 4",
            capacity=50,
            registration_open=True,
            published=True,
            district="Borgo Nuovo",
        ),
        engagement_store.EventFields(
            kind="working_table",
            title="Tavolo di lavoro sulla transizione energetica locale",
            starts_at=_local(day(21), 17),
            ends_at=_local(day(21), 19),
            description=(
                "Tavolo con imprese, terzo settore, scuole e installatori: priorità per i tetti pubblici e privati "
                "e azioni contro la povertà energetica."
            ),
            audience="Imprese, associazioni, scuole, installatori",
            place="Biblioteca civica, sala conferenze",
            capacity=30,
            registration_open=True,
            published=True,
            district="Centro storico",
        ),
    ]
    for fields in events:
        if fields.title not in titles:
            engagement_store.create_event(session, municipality.id, fields)
            counts["events"] += 1
    if all(a.title != ANNOUNCEMENT_TITLE for a in engagement_store.list_announcements(session, municipality.id)):
        start = _local(today, 0)
        engagement_store.create_announcement(
            session,
            municipality.id,
            title=ANNOUNCEMENT_TITLE,
            body=(
                "Sono aperte le iscrizioni al corso per cittadini e al tavolo di lavoro sulla transizione "
                "energetica.\n\nLa partecipazione è gratuita; i posti sono limitati."
            ),
            published_from=start,
            published_until=start + dt.timedelta(days=30),
        )
        counts["announcements"] += 1
    return counts


# Entry point ------------------------------------------------------------------------------------------------------


def seed_civic_demo(
    engine: Engine, municipality: str = DEMO_MUNICIPALITY, *, today: dt.date | None = None
) -> dict[str, int]:
    """Fill the public services of ``municipality`` with demo data; a second run adds nothing.

    Parameters
    ----------
    engine : Engine
        A migrated database, normally already holding :func:`condivisa.web.seed.seed_demo`'s data (the demo
        community is linked to the register and matching when it is stored in this municipality; otherwise its
        description is used unlinked).
    municipality : str
        Name of the municipality (created in Piemonte when missing).
    today : date, optional
        First day of the demo calendar (default: today in Europe/Rome). Slots are on the working days after it.

    Returns
    -------
    dict of str to int
        What was created: ``municipalities``, ``desk_offices``, ``desk_slots``, ``register_entries``,
        ``match_profiles``, ``match_calls``, ``buildings``, ``building_rankings``, ``events``, ``announcements``.
    """
    today = today or dt.datetime.now(LOCAL_TZ).date()
    counts: dict[str, int] = {}
    with session_factory(engine)() as session:
        town, created = _municipality(session, municipality)
        counts["municipalities"] = created
        officer = get_user_by_email(session, email=DEMO_USERS["officer"])
        officer_id = officer.id if officer is not None else None
        community_id = find_community(session, demo_community().name)
        if community_id is not None and community_id in dict(matching_store.communities_of(session, town.name)):
            community = load_community(session, community_id)
        else:
            log.info("comunità demo non trovata nel comune %s: registro e profilo non collegati", town.name)
            community, community_id = demo_community(), None
        counts |= _seed_desk(session, town, today)
        counts |= _seed_register(session, town, community, community_id, officer_id)
        counts |= _seed_matching(session, town, community, community_id, officer_id, today)
        counts |= _seed_buildings(session, town, BUILDINGS_FILE)
        counts |= _seed_engagement(session, town, today)
    log.info("servizi demo del comune %s: %s", town.name, counts)
    return counts
