"""The municipality's public register of local energy communities: validation, filters and open-data shapes.

Pure functions (no I/O): :func:`validate_entry` turns the fields of the registration form into an
:class:`EntryData` or an :class:`~condivisa.errors.InputError` naming every bad field; :func:`validate_area` checks a
cabina area given as GeoJSON with shapely; :class:`RegisterFilter` filters the published entries for the list and
the map alike; :func:`to_geojson` and :func:`to_csv` write the open data.

The open data hold only what a community chose to publish: never the manage token, never the reviewers, never the
contact email unless the community ticked "publish". Units: power in kW, coordinates WGS84 (lon/lat, degrees).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import shape
from shapely.validation import explain_validity

from condivisa.civic.label import label_state
from condivisa.errors import InputError, Problem

CONFIGURATIONS = ("CER", "AUC", "AID")
STATUSES = ("promoting", "constituted", "operating")
"""``promoting``: being promoted; ``constituted``: legally constituted; ``operating``: recognised by GSE and
sharing energy."""
STATUS_LABELS = {"promoting": "In promozione", "constituted": "Costituita", "operating": "Operativa"}
PUBLICATIONS = ("submitted", "published", "rejected")
PUBLICATION_LABELS = {"submitted": "In attesa di verifica", "published": "Pubblicata", "rejected": "Respinta"}
TECHNOLOGIES = ("fotovoltaico", "eolico", "idroelettrico", "biomassa", "altro")
MAX_PLANT_KW = 1000.0
"""A plant above 1 MW cannot join a CACER (D.Lgs. 199/2021, art. 31)."""

CSV_COLUMNS = (
    "id",
    "nome",
    "configurazione",
    "stato",
    "soci",
    "impianti",
    "potenza_totale_kw",
    "cabine_primarie",
    "latitudine",
    "longitudine",
    "area",
    "sito_web",
    "email_contatto",
    "descrizione",
    "regolamento_url",
    "etichetta",
    "etichetta_data",
    "etichetta_scadenza",
    "pubblicata_il",
)
"""Columns of the open-data CSV (comma separated, UTF-8): ``impianti`` lists ``tecnologia:kW`` joined by ``|``;
``cabine_primarie`` codes joined by ``|``; ``etichetta`` is ``valida``, ``scaduta`` or empty; dates ISO 8601;
``email_contatto`` is empty unless the community chose to publish it; ``latitudine``/``longitudine`` [°] are the
point, or the centroid of the cabina area."""

_VALIDITY_IT = {
    "Ring Self-intersection": "un anello tocca se stesso",
    "Self-intersection": "il contorno si interseca",
    "Too few points": "troppo pochi punti",
    "Hole lies outside shell": "un buco è fuori dal contorno",
    "Nested shells": "contorni annidati",
    "Interior is disconnected": "l'interno è diviso in parti",
    "Duplicate Rings": "anelli duplicati",
}
"""Italian for the reasons of shapely's ``explain_validity`` (GEOS), matched by prefix."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")
_CABINA = re.compile(r"^[A-Za-z0-9._-]{2,32}$")


@dataclass(frozen=True)
class Plant:
    """A plant of a registered community: technology, peak power [kW], optional name."""

    technology: str
    kw: float
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"technology": self.technology, "kw": self.kw, "name": self.name}


@dataclass(frozen=True)
class EntryData:
    """A validated register entry as the community or the office described it."""

    name: str
    configuration: str
    status: str
    members_count: int | None = None
    plants: tuple[Plant, ...] = ()
    cabina_codes: tuple[str, ...] = ()
    cabina_area: dict[str, Any] | None = None
    latitude: float | None = None
    longitude: float | None = None
    area_description: str = ""
    website: str = ""
    contact_email: str = ""
    contact_public: bool = False
    description: str = ""
    regulation_url: str = ""
    regulation_text: str = ""

    @property
    def total_kw(self) -> float:
        """Sum of the plants' power [kW] (for the register only, never for a tariff class)."""
        return round(sum(p.kw for p in self.plants), 3)


def validate_area(text: str, field: str = "cabina_area") -> dict[str, Any] | None:
    """A cabina area given as GeoJSON: a Polygon or MultiPolygon (bare, or as a Feature) in WGS84 lon/lat.

    Returns the bare geometry (dict), None when ``text`` is empty.

    Raises
    ------
    InputError
        Naming ``field``: "poligono non valido: ..." for bad JSON, another geometry type, coordinates outside
        -180..180 / -90..90 or a geometry that shapely finds invalid (self-intersection...).
    """
    if not text.strip():
        return None

    def bad(why: str) -> InputError:
        return InputError.one(f"poligono non valido: {why}", field=field)

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"JSON illeggibile (riga {exc.lineno}, colonna {exc.colno})") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise bad("serve un solo poligono o multipoligono, non una raccolta di più elementi")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise bad(f"serve una geometria GeoJSON Polygon o MultiPolygon (trovato {kind!r})")
    try:
        geometry = shape(data)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise bad(f"coordinate malformate ({exc})") from exc
    if geometry.is_empty:
        raise bad("geometria vuota")
    minx, miny, maxx, maxy = geometry.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise bad("coordinate non numeriche")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise bad("coordinate fuori da WGS84 (longitudine -180..180, latitudine -90..90, ordine lon, lat)")
    if not geometry.is_valid:
        why = explain_validity(geometry)
        italian = next((it for en, it in _VALIDITY_IT.items() if why.startswith(en)), "geometria non valida")
        raise bad(f"{italian} ({why})")
    out: dict[str, Any] = {"type": data["type"], "coordinates": data["coordinates"]}
    return out


def area_centroid(area: Mapping[str, Any]) -> tuple[float, float]:
    """``(lat, lon)`` of the centroid of a validated area [°]."""
    c = shape(area).centroid
    return float(c.y), float(c.x)


def parse_plants(text: str, field: str = "plants") -> tuple[tuple[Plant, ...], list[Problem]]:
    """Plants written one a line as ``tecnologia; kW; nome`` (name optional), e.g. ``fotovoltaico; 60; Scuola``."""
    plants: list[Plant] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        where = f"{field} riga {number}"
        if len(parts) < 2:
            problems.append(Problem("scrivere 'tecnologia; kW; nome' (nome facoltativo)", field=where))
            continue
        technology = parts[0].lower()
        if technology not in TECHNOLOGIES:
            problems.append(
                Problem(f"tecnologia {parts[0]!r} non valida (ammesse: {', '.join(TECHNOLOGIES)})", field=where)
            )
            continue
        try:
            kw = float(parts[1].replace(",", "."))
        except ValueError:
            problems.append(Problem(f"potenza {parts[1]!r} non valida: serve un numero in kW", field=where))
            continue
        if not math.isfinite(kw) or kw <= 0 or kw > MAX_PLANT_KW:
            problems.append(Problem(f"potenza {parts[1]} kW fuori dai limiti (oltre 0 e al più 1000 kW)", field=where))
            continue
        plants.append(Plant(technology, kw, ";".join(parts[2:])[:200]))
    return tuple(plants), problems


def plants_text(plants: Sequence[Plant]) -> str:
    """The inverse of :func:`parse_plants`, to re-show a form."""
    return "\n".join(f"{p.technology}; {p.kw:g}; {p.name}".rstrip("; ") for p in plants)


def _opt_float(raw: str, field: str, low: float, high: float, problems: list[Problem]) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        problems.append(Problem(f"{raw!r} non è un numero", field=field))
        return None
    if not math.isfinite(value) or not low <= value <= high:
        problems.append(Problem(f"{raw} fuori dall'intervallo {low:g}..{high:g}", field=field))
        return None
    return value


def validate_entry(fields: Mapping[str, str]) -> EntryData:
    """Validate the fields of the registration form (all strings, as posted).

    Fields: ``name``, ``configuration`` (CER, AUC, AID), ``status`` (promoting, constituted, operating),
    ``members_count``, ``plants`` (see :func:`parse_plants`), ``cabina_codes`` (comma separated), ``cabina_area``
    (GeoJSON, see :func:`validate_area`), ``latitude``, ``longitude`` [°], ``area_description``, ``website``,
    ``contact_email``, ``contact_public`` ("on" when ticked), ``description``, ``regulation_url``,
    ``regulation_text``.

    Raises
    ------
    InputError
        One problem per bad field, each naming it.
    """

    def get(name: str) -> str:
        return str(fields.get(name) or "").strip()

    problems: list[Problem] = []
    name = get("name")
    if not name:
        problems.append(Problem("il nome è obbligatorio", field="name"))
    elif len(name) > 200:
        problems.append(Problem("nome troppo lungo (al più 200 caratteri)", field="name"))
    configuration = get("configuration").upper()
    if configuration not in CONFIGURATIONS:
        problems.append(Problem(f"configurazione {configuration!r} non valida (CER, AUC o AID)", field="configuration"))
    status = get("status")
    if status not in STATUSES:
        problems.append(Problem(f"stato {status!r} non valido ({', '.join(STATUSES)})", field="status"))
    members: int | None = None
    if get("members_count"):
        try:
            members = int(get("members_count"))
            if members < 0 or members > 1_000_000:
                raise ValueError
        except ValueError:
            problems.append(Problem(f"{get('members_count')!r} non è un numero di soci valido", field="members_count"))
            members = None
    plants, plant_problems = parse_plants(get("plants"))
    problems += plant_problems
    codes = tuple(c.strip().upper() for c in re.split(r"[,\s]+", get("cabina_codes")) if c.strip())
    for code in codes:
        if not _CABINA.match(code):
            problems.append(
                Problem(f"codice di cabina primaria {code!r} non valido (lettere, cifre, . _ -)", field="cabina_codes")
            )
    area = None
    try:
        area = validate_area(get("cabina_area"))
    except InputError as exc:
        problems += exc.problems
    lat = _opt_float(get("latitude"), "latitude", -90, 90, problems)
    lon = _opt_float(get("longitude"), "longitude", -180, 180, problems)
    if (lat is None) != (lon is None) and not any(p.field in ("latitude", "longitude") for p in problems):
        problems.append(Problem("indicare latitudine e longitudine insieme", field="latitude/longitude"))
    website = get("website")
    if website and not _URL.match(website):
        problems.append(Problem("indirizzo web non valido (deve iniziare con http:// o https://)", field="website"))
    regulation_url = get("regulation_url")
    if regulation_url and not _URL.match(regulation_url):
        problems.append(
            Problem("indirizzo web non valido (deve iniziare con http:// o https://)", field="regulation_url")
        )
    email = get("contact_email")
    if email and not _EMAIL.match(email):
        problems.append(Problem(f"email {email!r} non valida", field="contact_email"))
    contact_public = get("contact_public").lower() in ("on", "1", "true", "si", "sì", "yes")
    if contact_public and not email:
        problems.append(Problem("per pubblicare il contatto serve un'email", field="contact_email"))
    limits = {"area_description": 500, "description": 2000, "regulation_text": 20000}
    for key, limit in limits.items():
        if len(get(key)) > limit:
            problems.append(Problem(f"testo troppo lungo (al più {limit} caratteri)", field=key))
    if problems:
        raise InputError(problems)
    return EntryData(
        name=name,
        configuration=configuration,
        status=status,
        members_count=members,
        plants=plants,
        cabina_codes=codes,
        cabina_area=area,
        latitude=lat,
        longitude=lon,
        area_description=get("area_description"),
        website=website,
        contact_email=email,
        contact_public=contact_public,
        description=get("description"),
        regulation_url=regulation_url,
        regulation_text=get("regulation_text"),
    )


def entry_form(data: EntryData) -> dict[str, str]:
    """The form fields of ``data``, to re-show it for editing."""
    return {
        "name": data.name,
        "configuration": data.configuration,
        "status": data.status,
        "members_count": "" if data.members_count is None else str(data.members_count),
        "plants": plants_text(data.plants),
        "cabina_codes": ", ".join(data.cabina_codes),
        "cabina_area": json.dumps(data.cabina_area) if data.cabina_area else "",
        "latitude": "" if data.latitude is None else f"{data.latitude:g}",
        "longitude": "" if data.longitude is None else f"{data.longitude:g}",
        "area_description": data.area_description,
        "website": data.website,
        "contact_email": data.contact_email,
        "contact_public": "on" if data.contact_public else "",
        "description": data.description,
        "regulation_url": data.regulation_url,
        "regulation_text": data.regulation_text,
    }


@dataclass(frozen=True)
class PublicEntry:
    """A published entry as the public sees it: no token, no reviewer, the email only if published by choice."""

    id: int
    name: str
    configuration: str
    status: str
    members_count: int | None
    plants: tuple[Plant, ...]
    cabina_codes: tuple[str, ...]
    cabina_area: dict[str, Any] | None
    latitude: float | None
    longitude: float | None
    area_description: str
    website: str
    public_email: str
    description: str
    regulation_url: str
    has_regulation_text: bool
    published_on: dt.date | None
    label_awarded_on: dt.date | None = None
    label_expires_on: dt.date | None = None
    live_members: bool = False

    @property
    def total_kw(self) -> float:
        """Sum of the plants' power [kW]."""
        return round(sum(p.kw for p in self.plants), 3)

    def label(self, today: dt.date) -> str:
        """``valid``, ``expired`` or ``none``."""
        return label_state(self.label_expires_on, today)

    def point(self) -> tuple[float, float] | None:
        """``(lat, lon)``: the point given, else the centroid of the area, else None [°]."""
        if self.latitude is not None and self.longitude is not None:
            return self.latitude, self.longitude
        if self.cabina_area:
            return area_centroid(self.cabina_area)
        return None


@dataclass(frozen=True)
class RegisterFilter:
    """Filters of the public register (query string): status, configuration, label yes/no, text search."""

    status: str = ""
    configuration: str = ""
    label: str = ""
    q: str = ""
    problems: tuple[Problem, ...] = field(default=())

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> RegisterFilter:
        """Read the query string; unknown values are dropped and reported (never an error page)."""
        problems = []
        status = str(params.get("status") or "")
        if status and status not in STATUSES:
            problems.append(Problem(f"stato {status!r} sconosciuto: filtro ignorato", field="status"))
            status = ""
        configuration = str(params.get("configuration") or "").upper()
        if configuration and configuration not in CONFIGURATIONS:
            problems.append(
                Problem(f"configurazione {configuration!r} sconosciuta: filtro ignorato", field="configuration")
            )
            configuration = ""
        label = str(params.get("label") or "")
        if label and label not in ("yes", "no"):
            problems.append(Problem(f"valore {label!r} sconosciuto: filtro ignorato", field="label"))
            label = ""
        q = str(params.get("q") or "").strip()[:100]
        return cls(status, configuration, label, q, tuple(problems))

    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.status or self.configuration or self.label or self.q)

    def matches(self, entry: PublicEntry, today: dt.date) -> bool:
        """Whether ``entry`` passes every filter (label ``yes`` means a label valid on ``today``)."""
        if self.status and entry.status != self.status:
            return False
        if self.configuration and entry.configuration != self.configuration:
            return False
        if self.label:
            valid = entry.label(today) == "valid"
            if valid != (self.label == "yes"):
                return False
        if self.q:
            needle = self.q.casefold()
            haystack = " ".join(
                [entry.name, entry.area_description, entry.description, " ".join(entry.cabina_codes)]
            ).casefold()
            if needle not in haystack:
                return False
        return True

    def apply(self, entries: Sequence[PublicEntry], today: dt.date) -> list[PublicEntry]:
        """The entries passing the filters, in their order."""
        return [e for e in entries if self.matches(e, today)]


def _properties(entry: PublicEntry, today: dt.date) -> dict[str, Any]:
    state = entry.label(today)
    return {
        "id": entry.id,
        "nome": entry.name,
        "configurazione": entry.configuration,
        "stato": entry.status,
        "soci": entry.members_count,
        "impianti": [p.as_dict() for p in entry.plants],
        "potenza_totale_kw": entry.total_kw,
        "cabine_primarie": list(entry.cabina_codes),
        "area": entry.area_description,
        "sito_web": entry.website or None,
        "email_contatto": entry.public_email or None,
        "descrizione": entry.description,
        "regolamento_url": entry.regulation_url or None,
        "etichetta": {"valid": "valida", "expired": "scaduta"}.get(state),
        "etichetta_data": entry.label_awarded_on.isoformat() if entry.label_awarded_on else None,
        "etichetta_scadenza": entry.label_expires_on.isoformat() if entry.label_expires_on else None,
        "pubblicata_il": entry.published_on.isoformat() if entry.published_on else None,
    }


def to_geojson(entries: Sequence[PublicEntry], today: dt.date, *, municipality: str = "") -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the entries: the cabina area where given, else the point, else no
    geometry (``null``, allowed by RFC 7946); properties as the CSV columns."""
    features = []
    for e in entries:
        geometry: dict[str, Any] | None = None
        if e.cabina_area:
            geometry = e.cabina_area
        elif e.latitude is not None and e.longitude is not None:
            geometry = {"type": "Point", "coordinates": [e.longitude, e.latitude]}
        features.append({"type": "Feature", "id": e.id, "geometry": geometry, "properties": _properties(e, today)})
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if municipality:
        collection["name"] = f"Registro delle comunità energetiche – {municipality}"
    return collection


def to_csv(entries: Sequence[PublicEntry], today: dt.date) -> str:
    """The entries as CSV (comma separated, header :data:`CSV_COLUMNS`, ``\\r\\n`` line ends as RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        p = _properties(e, today)
        point = e.point()
        row = {
            **p,
            "impianti": "|".join(f"{x.technology}:{x.kw:g}" for x in e.plants),
            "cabine_primarie": "|".join(e.cabina_codes),
            "latitudine": "" if point is None else f"{point[0]:.6f}",
            "longitudine": "" if point is None else f"{point[1]:.6f}",
        }
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
    return buffer.getvalue()
