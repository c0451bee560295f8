"""Public buildings as hosts of shared PV plants: the building table, PV potential, sharing with neighbours, ranking.

A municipality lists its buildings (town hall, schools, gyms, libraries, offices...) in a CSV or GeoJSON file;
this module reads and checks that table (:func:`read_buildings`), estimates the PV plant each roof can hold and
its hourly production over a year with pvlib (through :mod:`condivisa.production`, on the bundled offline typical
year), the building's own hourly consumption (BDEW profiles of :mod:`condivisa.planning.profiles`), the energy it
would use itself and the surplus it would share with the other buildings (and candidate households) of the same
cabina primaria, the incentive of that shared energy by the rulebook (:mod:`condivisa.rules`), simple economics,
and a ranking with an explained score (:func:`assess_buildings`).

Pure computation: no database, no network. The only files read are package data (the bundled typical year, the
rulebook, demandlib's tables), loaded once and cached.

Building table
--------------
CSV columns (header on line 1, ``,`` or ``;`` as separator, UTF-8; unknown columns are ignored and never stored):

============================  ============================================================================
``code``                      identifier within the municipality (letters, digits, ``.``, ``_``, ``-``)
``name``                      building name (a public asset: no personal data)
``use``                       use, free text classified by :func:`use_category` (scuola, municipio, ...)
``address``                   optional street address
``latitude``, ``longitude``   position [°] (WGS84)
``roof_area_m2``              roof area [m²]; in GeoJSON it defaults to the footprint's area
``usable_share``              share of the roof usable for modules [0..1]; default :data:`DEFAULT_USABLE_SHARE`
``tilt_deg``                  roof tilt [°]; below :data:`FLAT_BELOW_DEG` the roof is flat
``azimuth_deg``               roof azimuth [°], 0 = north, 90 = east, 180 = south
``consumption_kwh_year``      yearly consumption of the building [kWh]
``cabina``                    code of the cabina primaria the building is connected under
``orientation``               optional: N, NE, E, SE, S, SW, W, NW (or Italian: NO, O, SO...) or ``flat``
                              (``piano``), giving the azimuth when ``azimuth_deg`` is empty
``constraints``               optional, ``;``-separated: ``vincolo storico``, ``amianto``, ``strutturale``...
============================  ============================================================================

A GeoJSON ``FeatureCollection`` carries the same names in each Feature's ``properties``; a Polygon (or
MultiPolygon) footprint gives the position (its centroid, when latitude/longitude are not in the properties) and
the default roof area (the footprint's horizontal area); a Point gives the position.

Figures and their sources (see :data:`SOURCES`)
-----------------------------------------------
- Modules flush on a pitched roof: :data:`M2_PER_KWP` = 6.0 m²/kWp (modules of about 2 m² and 400-430 Wp, i.e.
  4.7-5 m²/kWp, plus edge distances and gaps: 5.5-6 m²/kWp is the usual planning figure).
- Flat roofs: modules on racks tilted :data:`FLAT_TILT_DEG` = 10° facing south; rows must be spaced to limit
  mutual shading, so only :data:`FLAT_LAYOUT_FACTOR` = 0.7 of the usable area is covered: 6.0 / 0.7 = 8.6 m²/kWp.
- One plant per building, capped at the CER plant limit of 1,000 kW (``rules/data/tip.toml``).
- Consumption profiles by use (:data:`USE_PROFILES`): BDEW 2025 ``G25`` (commerce, services, offices) for offices,
  town halls, libraries, health centres, depots; ``G25`` with the Italian school calendar (summer closure,
  holidays) for schools and kindergartens; half ``G25`` half ``H25`` for gyms and sports halls (school use by day,
  clubs in the evening); ``H25`` for social housing.
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
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.errors import InputError, Problem
from condivisa.planning.profiles import standard_profile
from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.weather import WeatherYear, lay_on_hours, typical_year
from condivisa.rules.rulebook import load_rulebook
from condivisa.rules.tip import geographic_correction, grant_reduction, tip_eur_mwh

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "COLUMNS",
    "DEFAULT_USABLE_SHARE",
    "FLAT_LAYOUT_FACTOR",
    "FLAT_TILT_DEG",
    "M2_PER_KWP",
    "SOURCES",
    "USE_PROFILES",
    "Assessment",
    "Building",
    "BuildingResult",
    "CabinaResult",
    "Households",
    "Parameters",
    "ScoreComponent",
    "assess_buildings",
    "building_load_kwh",
    "parse_buildings_csv",
    "parse_buildings_geojson",
    "plant_kwp",
    "pv_potential",
    "ranking_document",
    "read_buildings",
    "typical_weather",
    "use_category",
]

# --------------------------------------------------------------------------------------------------------------------
# Figures

M2_PER_KWP = 6.0
"""Roof area per kWp of modules flush on a pitched roof [m²/kWp]."""
FLAT_TILT_DEG = 10.0
"""Tilt of the racks on a flat roof [°] (facing south unless ``azimuth_deg`` says otherwise)."""
FLAT_LAYOUT_FACTOR = 0.7
"""Share of a flat roof's usable area covered by modules once rows are spaced against shading [unitless]."""
FLAT_BELOW_DEG = 5.0
"""A roof tilted less than this [°] is flat."""
DEFAULT_USABLE_SHARE = 0.6
"""Share of the roof usable for modules when the table does not say [unitless] (chimneys, skylights, edges)."""
DEFAULT_TILT_DEG = 20.0
"""Tilt of a pitched roof when only its orientation is known [°] (Italian roofs: 30-40 % slope, 17-22°)."""
MAX_ROOF_M2 = 200_000.0
MAX_CONSUMPTION_KWH = 1e9
DEFAULT_HOUSEHOLD_KWH = 2_700.0
"""Typical yearly consumption of an Italian household [kWh] (ARERA reference household: 2,700 kWh, 3 kW)."""
YIELD_FLOOR, YIELD_TOP = 700.0, 1_400.0
"""Specific yields [kWh/kWp] scored 0 and 1 (a north roof near Turin gives about 700, the best south roof 1,400)."""

COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "use",
    "address",
    "latitude",
    "longitude",
    "roof_area_m2",
    "usable_share",
    "tilt_deg",
    "azimuth_deg",
    "consumption_kwh_year",
    "cabina",
    "orientation",
    "constraints",
)
"""Columns of the building table (``orientation`` and ``constraints`` optional, see the module notes)."""
REQUIRED: tuple[str, ...] = ("code", "name", "use", "latitude", "longitude", "consumption_kwh_year", "cabina")
"""Columns that must be present and filled (``roof_area_m2`` too, except in GeoJSON with a footprint)."""

RESERVED_CODES = frozenset({"importa", "ricalcola", "famiglie", "report.html", "report.pdf"})
"""Codes that would clash with the pages under ``/comune/{slug}/edifici/``."""
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")

ORIENTATIONS: Mapping[str, float] = {
    "N": 0.0,
    "NE": 45.0,
    "E": 90.0,
    "SE": 135.0,
    "S": 180.0,
    "SW": 225.0,
    "W": 270.0,
    "NW": 315.0,
    # Italian
    "NORD": 0.0,
    "EST": 90.0,
    "SUD": 180.0,
    "SO": 225.0,
    "O": 270.0,
    "OVEST": 270.0,
    "NO": 315.0,
}
"""Azimuth of each compass orientation [°], 0 = north, clockwise."""
FLAT_WORDS = frozenset({"FLAT", "PIANO", "PIANA", "PIATTO", "ORIZZONTALE"})

SOURCES: tuple[str, ...] = (
    "Produzione FV: pvlib (ModelChain, PVWatts, temperatura SAPM), perdite di sistema 14 %, anno meteorologico "
    "tipico PVGIS (© EU JRC) incluso nel programma, vicino a Torino (45,0 N, 8,0 E).",
    "Potenza installabile: 6,0 m²/kWp su falda (moduli da circa 2 m² e 400-430 Wp, con distanze dai bordi); "
    "coperture piane: moduli su supporti a 10° verso sud, fattore di occupazione 0,7 per la distanza tra le file "
    "(8,6 m²/kWp). Limite di 1.000 kW per impianto (D.M. 414/2023, Regole operative GSE).",
    "Consumi orari: profili standard BDEW 2025 (demandlib) con le festività italiane, scalati al consumo annuo; "
    "uffici, municipi, biblioteche, ambulatori e magazzini G25; scuole e asili G25 con il calendario scolastico "
    "(chiusura estiva); palestre metà G25 e metà H25; alloggi sociali H25; famiglie candidate H25.",
    "Energia condivisa: per ogni ora il minimo tra l'eccedenza dell'edificio e la domanda residua degli altri "
    "edifici e delle famiglie candidate sotto la stessa cabina primaria (D.Lgs. 199/2021, TIAD ARERA 727/2022).",
    "Incentivo: tariffa premio (TIP) della classe di potenza con il termine variabile sul prezzo zonale mensile "
    "del regolamento, correzione geografica FV, riduzione per contributi in conto capitale (D.M. 414/2023), più "
    "la valorizzazione ARERA (CU_Af) dell'energia condivisa.",
    "Economia semplice: costo d'investimento €/kWp, manutenzione €/kWp anno, risparmio in bolletta sull'energia "
    "autoconsumata, vendita dell'energia immessa al prezzo mensile del regolamento (ritiro dedicato), tempo di "
    "ritorno semplice senza attualizzazione.",
)
"""Italian statements of every assumption and where its figures come from (shown in the report)."""


@dataclass(frozen=True)
class UseProfile:
    """How a use of building consumes over the year.

    Parameters
    ----------
    label : str
        Italian name of the use.
    mix : mapping of str to float
        BDEW 2025 profiles and their weights (summing to 1).
    monthly : tuple of 12 float, optional
        Relative level of each month January..December (1 = normal), applied on top of the profile.
    """

    label: str
    mix: Mapping[str, float]
    monthly: tuple[float, ...] | None = None


_SCHOOL_MONTHS = (1.0, 1.0, 1.0, 0.95, 1.0, 0.6, 0.3, 0.15, 0.9, 1.0, 1.0, 0.8)
_KINDERGARTEN_MONTHS = (1.0, 1.0, 1.0, 0.95, 1.0, 0.9, 0.7, 0.15, 0.9, 1.0, 1.0, 0.8)

USE_PROFILES: Mapping[str, UseProfile] = {
    "town_hall": UseProfile("Municipio", {"G25": 1.0}),
    "office": UseProfile("Uffici", {"G25": 1.0}),
    "school": UseProfile("Scuola", {"G25": 1.0}, _SCHOOL_MONTHS),
    "kindergarten": UseProfile("Asilo / scuola dell'infanzia", {"G25": 1.0}, _KINDERGARTEN_MONTHS),
    "gym": UseProfile("Palestra / impianto sportivo", {"G25": 0.5, "H25": 0.5}),
    "library": UseProfile("Biblioteca / cultura", {"G25": 1.0}),
    "health": UseProfile("Ambulatorio / servizi sociali", {"G25": 1.0}),
    "social_housing": UseProfile("Alloggi sociali", {"H25": 1.0}),
    "depot": UseProfile("Magazzino / deposito", {"G25": 1.0}),
    "other": UseProfile("Altro", {"G25": 1.0}),
}
"""Consumption profile of each use category (see the module notes)."""

_USE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("asilo", "kindergarten"),
    ("nido", "kindergarten"),
    ("infanzia", "kindergarten"),
    ("materna", "kindergarten"),
    ("kindergarten", "kindergarten"),
    ("palestra", "gym"),
    ("palazzetto", "gym"),
    ("sport", "gym"),
    ("piscina", "gym"),
    ("gym", "gym"),
    ("scuol", "school"),
    ("istituto", "school"),
    ("liceo", "school"),
    ("school", "school"),
    ("bibliotec", "library"),
    ("library", "library"),
    ("museo", "library"),
    ("teatro", "library"),
    ("uffic", "office"),
    ("office", "office"),
    ("municipio", "town_hall"),
    ("palazzo comunale", "town_hall"),
    ("town hall", "town_hall"),
    ("town_hall", "town_hall"),
    ("ambulator", "health"),
    ("sanit", "health"),
    ("health", "health"),
    ("alloggi", "social_housing"),
    ("housing", "social_housing"),
    ("magazzin", "depot"),
    ("deposit", "depot"),
    ("depot", "depot"),
    ("cimitero", "depot"),
)

CONSTRAINT_PENALTIES: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("storic", "historic", "vincol", "tutela", "beni culturali", "soprintendenza"), 0.30, "vincolo storico"),
    (("amianto", "asbestos", "eternit"), 0.20, "copertura in amianto da bonificare"),
    (("struttur", "structural"), 0.20, "verifica strutturale della copertura"),
    (("ombr", "shad"), 0.10, "ombreggiamenti"),
)
"""Penalty of each kind of constraint (matched by keyword) as a fraction of the score; any other constraint
costs :data:`OTHER_CONSTRAINT_PENALTY`; the total is capped at :data:`MAX_PENALTY`."""
OTHER_CONSTRAINT_PENALTY = 0.10
MAX_PENALTY = 0.60


def use_category(use: str) -> str:
    """Category of :data:`USE_PROFILES` for a free-text use (``"Scuola primaria"`` -> ``"school"``).

    Examples
    --------
    >>> use_category("Scuola dell'infanzia"), use_category("Palestra comunale"), use_category("Serra")
    ('kindergarten', 'gym', 'other')
    """
    text = use.strip().lower()
    if text in USE_PROFILES:
        return text
    for word, category in _USE_KEYWORDS:
        if word in text:
            return category
    return "other"


# --------------------------------------------------------------------------------------------------------------------
# The building table


@dataclass(frozen=True)
class Building:
    """A public building as the table describes it, checked.

    Attributes
    ----------
    code, name, use, address : str
        Identifier, name, use (free text) and street address.
    latitude, longitude : float
        Position [°].
    roof_area_m2 : float
        Roof area [m²].
    usable_share : float
        Share of the roof usable for modules [0..1].
    tilt_deg, azimuth_deg : float
        Tilt [°] and azimuth (180 = south) [°] of the modules (10° and south on a flat roof, unless given).
    flat : bool
        Flat roof: modules on spaced racks (:data:`FLAT_LAYOUT_FACTOR`).
    consumption_kwh_year : float
        Yearly consumption [kWh].
    cabina : str
        Cabina primaria.
    orientation : str or None
        The orientation as written in the table.
    constraints : tuple of str
        Constraints on the roof (historic building...).
    footprint : mapping or None
        GeoJSON geometry of the footprint (WGS84 longitude, latitude).
    roof_area_from_footprint : bool
        The roof area is the footprint's horizontal area (none was given).
    """

    code: str
    name: str
    use: str
    latitude: float
    longitude: float
    roof_area_m2: float
    consumption_kwh_year: float
    cabina: str
    address: str = ""
    usable_share: float = DEFAULT_USABLE_SHARE
    tilt_deg: float = DEFAULT_TILT_DEG
    azimuth_deg: float = 180.0
    flat: bool = False
    orientation: str | None = None
    constraints: tuple[str, ...] = ()
    footprint: Mapping[str, Any] | None = None
    roof_area_from_footprint: bool = False

    @property
    def category(self) -> str:
        """Use category (key of :data:`USE_PROFILES`)."""
        return use_category(self.use)


class _Row:
    """Collects the problems of one row while its fields are checked."""

    def __init__(self, values: Mapping[str, object], file: str, row: int | None, prefix: str) -> None:
        self.values = values
        self.file = file
        self.row = row
        self.prefix = prefix
        self.problems: list[Problem] = []

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(message, file=self.file, row=self.row, field=f"{self.prefix}{name}"))

    def raw(self, name: str) -> object:
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value if value else None
        return value

    def text(self, name: str, max_len: int, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.problem(name, "valore mancante")
            return None
        if isinstance(value, bool | dict | list):
            self.problem(name, f"atteso un testo, trovato {value!r}"[:200])
            return None
        text = str(value)
        if len(text) > max_len:
            self.problem(name, f"testo troppo lungo ({len(text)} caratteri, al massimo {max_len})")
            return None
        return text

    def number(
        self, name: str, low: float, high: float, unit: str, required: bool = False, low_open: bool = False
    ) -> float | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.problem(name, "valore mancante")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.problem(name, f"atteso un numero, trovato {value!r}"[:200])
            return None
        if isinstance(value, str):
            text = value.replace(" ", "")
            if "," in text and "." not in text:
                text = text.replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                self.problem(name, f"{value[:60]!r} non è un numero")
                return None
        else:
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
        if not math.isfinite(number):
            self.problem(name, f"{number} non è un numero finito")
            return None
        too_low = number <= low if low_open else number < low
        if too_low or number > high:
            if number < 0 and low >= 0:
                self.problem(name, f"valore negativo ({number:g} {unit})".strip())
            else:
                bracket = "(" if low_open else "["
                self.problem(name, f"{number:g} fuori dall'intervallo {bracket}{low:g}, {high:g}] {unit}".rstrip())
            return None
        return number


def _check_row(
    values: Mapping[str, object],
    file: str,
    row: int | None,
    prefix: str = "",
    footprint: Mapping[str, Any] | None = None,
    footprint_area_m2: float | None = None,
    centroid: tuple[float, float] | None = None,
) -> tuple[Building | None, list[Problem]]:
    """Check one row of the table; the building, or None and the problems found."""
    r = _Row(values, file, row, prefix)
    code = r.text("code", 50, required=True)
    if code is not None:
        if not _CODE.match(code):
            r.problem("code", f"codice {code!r} non valido: lettere, cifre, '.', '_' o '-' (al massimo 50)")
        elif code.lower() in RESERVED_CODES:
            r.problem("code", f"codice {code!r} riservato alle pagine del servizio: sceglierne un altro")
    name = r.text("name", 200, required=True)
    use = r.text("use", 100, required=True)
    address = r.text("address", 300) or ""
    cabina = r.text("cabina", 64, required=True)
    latitude = r.number("latitude", -90.0, 90.0, "°", required=centroid is None)
    longitude = r.number("longitude", -180.0, 180.0, "°", required=centroid is None)
    if centroid is not None:
        latitude = centroid[1] if latitude is None else latitude
        longitude = centroid[0] if longitude is None else longitude
    area = r.number("roof_area_m2", 0.0, MAX_ROOF_M2, "m²", required=footprint_area_m2 is None, low_open=True)
    from_footprint = False
    if area is None and r.raw("roof_area_m2") is None and footprint_area_m2 is not None:
        if footprint_area_m2 > 0:
            area, from_footprint = footprint_area_m2, True
        else:
            r.problem("roof_area_m2", "valore mancante e impronta dell'edificio di area nulla")
    share = r.number("usable_share", 0.0, 1.0, "")
    tilt = r.number("tilt_deg", 0.0, 90.0, "°")
    azimuth = r.number("azimuth_deg", 0.0, 360.0, "°")
    consumption = r.number("consumption_kwh_year", 0.0, MAX_CONSUMPTION_KWH, "kWh", required=True)
    orientation = r.text("orientation", 20)
    flat = tilt is not None and tilt < FLAT_BELOW_DEG
    orientation_azimuth: float | None = None
    if orientation is not None:
        key = orientation.upper().replace("-", "").replace(" ", "")
        if key in FLAT_WORDS:
            flat = True
        elif key in ORIENTATIONS:
            orientation_azimuth = ORIENTATIONS[key]
        else:
            r.problem(
                "orientation",
                f"orientamento {orientation[:20]!r} sconosciuto; attesi N, NE, E, SE, S, SW, W, NW oppure flat",
            )
    if azimuth is None:
        azimuth = orientation_azimuth
    if azimuth is None and not flat and orientation is None:
        r.problem("azimuth_deg", "manca l'orientamento della falda: indicare azimuth_deg oppure orientation")
    constraints_text = r.text("constraints", 500)
    constraints = tuple(c.strip() for c in re.split(r"[;|]", constraints_text or "") if c.strip() and c.strip() != "-")
    if r.problems:
        return None, r.problems
    assert code and name and use and cabina and latitude is not None and longitude is not None
    assert area is not None and consumption is not None
    building = Building(
        code=code,
        name=name,
        use=use,
        address=address,
        latitude=latitude,
        longitude=longitude,
        roof_area_m2=area,
        usable_share=DEFAULT_USABLE_SHARE if share is None else share,
        tilt_deg=FLAT_TILT_DEG if flat else (DEFAULT_TILT_DEG if tilt is None else tilt),
        azimuth_deg=float(azimuth if azimuth is not None else 180.0) % 360.0,
        flat=flat,
        orientation=orientation,
        consumption_kwh_year=consumption,
        cabina=cabina,
        constraints=constraints,
        footprint=footprint,
        roof_area_from_footprint=from_footprint,
    )
    return building, []


def _no_duplicates(codes: Sequence[tuple[object, int | None, str]], file: str) -> list[Problem]:
    """Problems for codes given again (every row counts, good or bad), naming the later row."""
    seen: dict[str, str] = {}
    problems = []
    for raw, row, prefix in codes:
        code = raw.strip() if isinstance(raw, str) else None
        if not code:
            continue
        if code in seen:
            problems.append(
                Problem(f"codice {code!r} ripetuto (già in {seen[code]})", file=file, row=row, field=f"{prefix}code")
            )
        else:
            seen[code] = f"riga {row}" if row is not None else prefix.removesuffix(".properties.")
    return problems


def parse_buildings_csv(text: str, name: str = "edifici.csv") -> list[Building]:
    """Read the building table from CSV text (see the module notes for the columns).

    Parameters
    ----------
    text : str
        The file's content.
    name : str
        File name, for messages.

    Returns
    -------
    list of Building
        In file order.

    Raises
    ------
    InputError
        Every problem found, each naming file, line (header = line 1) and column; nothing is returned then.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError.one("file vuoto: servono l'intestazione e almeno un edificio", file=name)
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in (*REQUIRED, "roof_area_m2") if c not in header]
        if missing:
            raise InputError(
                [
                    Problem(f"colonna mancante (colonne attese: {', '.join(COLUMNS)})", file=name, row=1, field=c)
                    for c in missing
                ]
            )
        duplicated = sorted({h for h in header if h and header.count(h) > 1})
        if duplicated:
            raise InputError([Problem("colonna ripetuta", file=name, row=1, field=c) for c in duplicated])
        problems: list[Problem] = []
        found: list[tuple[Building, int | None, str]] = []
        codes: list[tuple[object, int | None, str]] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    Problem(f"{len(cells)} campi invece di {len(header)} come nell'intestazione", file=name, row=line)
                )
                continue
            building, found_problems = _check_row(dict(zip(header, cells, strict=True)), name, line)
            problems.extend(found_problems)
            if building is not None:
                found.append((building, line, ""))
            codes.append((cells[header.index("code")], line, ""))
    except csv.Error as exc:
        raise InputError.one(f"CSV non leggibile: {exc}", file=name, row=reader.line_num) from exc
    problems.extend(_no_duplicates(codes, name))
    if problems:
        raise InputError(problems)
    if not found:
        raise InputError.one("nessun edificio nel file", file=name)
    return [b for b, _, _ in found]


def _local_metres(geometry: Any, lat0: float, lon0: float) -> Any:
    """The geometry in metres on a local equirectangular plane around (lat0, lon0) (fine for a building)."""
    import shapely

    radius = 6_371_008.8
    scale = np.array([radius * math.cos(math.radians(lat0)) * math.pi / 180.0, radius * math.pi / 180.0])
    origin = np.array([lon0, lat0])
    return shapely.transform(geometry, lambda xy: (xy - origin) * scale)


def parse_buildings_geojson(text: str, name: str = "edifici.geojson") -> list[Building]:
    """Read the building table from a GeoJSON FeatureCollection (properties named as the CSV columns).

    A Polygon or MultiPolygon footprint gives the position (its centroid, unless the properties give latitude
    and longitude) and the default roof area (its horizontal area, from a local metric projection); a Point gives
    the position. Problems name the feature by its index: ``features[3].properties.roof_area_m2``.

    Raises
    ------
    InputError
        Every problem found; nothing is returned then.
    """
    from shapely.geometry import shape

    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError.one(f"GeoJSON non leggibile: {exc}", file=name) from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise InputError.one("atteso un oggetto GeoJSON FeatureCollection con l'elenco features", file=name)
    problems: list[Problem] = []
    found: list[tuple[Building, int | None, str]] = []
    codes: list[tuple[object, int | None, str]] = []
    for i, feature in enumerate(doc["features"]):
        where = f"features[{i}]."
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            problems.append(
                Problem("attesa una Feature con le proprietà (properties)", file=name, field=f"features[{i}]")
            )
            continue
        props: dict[str, object] = feature["properties"]
        geometry = feature.get("geometry")
        footprint: Mapping[str, Any] | None = None
        area: float | None = None
        centroid: tuple[float, float] | None = None
        if geometry is not None:
            try:
                geom = shape(geometry)
                kind = geom.geom_type
                if kind not in ("Point", "Polygon", "MultiPolygon"):
                    raise ValueError(f"geometria {kind} non ammessa (Point, Polygon o MultiPolygon)")
                if geom.is_empty:
                    raise ValueError("geometria vuota")
                minx, miny, maxx, maxy = geom.bounds
                if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                    raise ValueError("coordinate fuori intervallo (attese longitudine, latitudine in gradi WGS84)")
                c = geom.centroid
                centroid = (float(c.x), float(c.y))
                if kind != "Point":
                    if not geom.is_valid:
                        raise ValueError("impronta non valida (poligono che si interseca)")
                    area = float(_local_metres(geom, centroid[1], centroid[0]).area)
                    footprint = dict(geometry)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                problems.append(Problem(f"geometria non valida: {exc}"[:300], file=name, field=f"{where}geometry"))
                continue
            except Exception as exc:  # shapely's GEOS errors on malformed coordinates
                problems.append(Problem(f"geometria non valida: {exc}"[:300], file=name, field=f"{where}geometry"))
                continue
        values = {k.strip().lower(): v for k, v in props.items() if isinstance(k, str)}
        building, found_problems = _check_row(values, name, None, f"{where}properties.", footprint, area, centroid)
        problems.extend(found_problems)
        if building is not None:
            found.append((building, None, f"{where}properties."))
        codes.append((values.get("code"), None, f"{where}properties."))
    problems.extend(_no_duplicates(codes, name))
    if problems:
        raise InputError(problems)
    if not found:
        raise InputError.one("nessun edificio nel file", file=name)
    return [b for b, _, _ in found]


def read_buildings(text: str, name: str) -> list[Building]:
    """Read a building table, GeoJSON when the name ends in ``.geojson``/``.json`` or the text starts with ``{``,
    CSV otherwise. Raises :class:`InputError` as the two readers do."""
    if name.lower().endswith((".geojson", ".json")) or text.lstrip("\ufeff \t\r\n").startswith("{"):
        return parse_buildings_geojson(text, name)
    return parse_buildings_csv(text, name)


# --------------------------------------------------------------------------------------------------------------------
# Production and consumption


@dataclass(frozen=True)
class Parameters:
    """Assumptions of an assessment (every figure can be changed by the officer).

    Parameters
    ----------
    year : int
        Calendar year of the hourly grid and of the rulebook's prices.
    region : str
        Italian region (PV geographic correction of the TIP).
    m2_per_kwp : float
        Roof area per kWp on a pitched roof [m²/kWp].
    flat_layout_factor : float
        Share of a flat roof's usable area covered by modules [unitless].
    losses_percent : float
        PV system losses [%].
    capex_eur_per_kwp : float
        Investment [€/kWp].
    opex_eur_per_kwp_year : float
        Operation and maintenance [€/kWp per year].
    energy_price_eur_kwh : float
        Purchase price the building saves on self-consumed energy, all charges included [€/kWh].
    grant_share : float
        Capital grant as a share of the investment (0..0.40); it reduces the TIP (rulebook).
    weight_shared, weight_self, weight_yield : float
        Weights of the score components (sum 1).
    """

    year: int = 2025
    region: str = "Piemonte"
    m2_per_kwp: float = M2_PER_KWP
    flat_layout_factor: float = FLAT_LAYOUT_FACTOR
    losses_percent: float = 14.0
    capex_eur_per_kwp: float = 1_300.0
    opex_eur_per_kwp_year: float = 20.0
    energy_price_eur_kwh: float = 0.20
    grant_share: float = 0.0
    weight_shared: float = 0.45
    weight_self: float = 0.30
    weight_yield: float = 0.25

    def __post_init__(self) -> None:
        checks: list[tuple[str, float, float, float]] = [
            ("m2_per_kwp", self.m2_per_kwp, 2.0, 50.0),
            ("flat_layout_factor", self.flat_layout_factor, 0.1, 1.0),
            ("losses_percent", self.losses_percent, 0.0, 60.0),
            ("capex_eur_per_kwp", self.capex_eur_per_kwp, 0.0, 20_000.0),
            ("opex_eur_per_kwp_year", self.opex_eur_per_kwp_year, 0.0, 1_000.0),
            ("energy_price_eur_kwh", self.energy_price_eur_kwh, 0.0, 5.0),
            ("grant_share", self.grant_share, 0.0, 0.40),
            ("weight_shared", self.weight_shared, 0.0, 1.0),
            ("weight_self", self.weight_self, 0.0, 1.0),
            ("weight_yield", self.weight_yield, 0.0, 1.0),
        ]
        for name, value, low, high in checks:
            if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
                raise ValueError(f"parametro {name}: {value!r} fuori dall'intervallo [{low:g}, {high:g}]")
        if not 2000 <= self.year <= 2100:
            raise ValueError(f"parametro year: {self.year} fuori dall'intervallo 2000-2100")
        total = self.weight_shared + self.weight_self + self.weight_yield
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"pesi del punteggio: la somma è {total:g}, deve essere 1")

    def as_dict(self) -> dict[str, float | int | str]:
        """The parameters as a JSON-ready mapping."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Households:
    """Candidate households under a cabina primaria, that would take the shared energy.

    Parameters
    ----------
    count : int
        Number of households [-].
    kwh_per_household : float
        Yearly consumption of each [kWh].
    """

    count: int
    kwh_per_household: float = DEFAULT_HOUSEHOLD_KWH

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or not 0 <= self.count <= 1_000_000:
            raise ValueError(f"famiglie: numero {self.count!r} non valido (intero da 0 a 1.000.000)")
        kwh = self.kwh_per_household
        if not (isinstance(kwh, int | float) and math.isfinite(kwh) and 0 <= kwh <= 100_000):
            raise ValueError(f"famiglie: consumo annuo {kwh!r} kWh non valido (da 0 a 100.000)")


def plant_kwp(building: Building, params: Parameters | None = None) -> tuple[float, bool]:
    """PV power a roof can hold [kWp], and whether the 1,000 kW plant limit capped it.

    kWp = roof area × usable share / (m² per kWp), with m² per kWp divided by the layout factor on flat roofs.

    Examples
    --------
    >>> b = Building("A", "Scuola", "scuola", 45.0, 7.6, 100.0, 1000.0, "AC1", usable_share=0.6)
    >>> plant_kwp(b)
    (10.0, False)
    """
    p = params or Parameters()
    limit = load_rulebook().max_plant_power_kw
    m2 = p.m2_per_kwp / (p.flat_layout_factor if building.flat else 1.0)
    kwp = building.roof_area_m2 * building.usable_share / m2
    return (limit, True) if kwp > limit else (round(kwp, 6), False)


@cache
def typical_weather() -> WeatherYear:
    """The bundled PVGIS typical year near Turin (package data, no network), read once."""
    return typical_year()


def year_hours(year: int) -> pd.DatetimeIndex:
    """UTC starts of every hour of Italian local ``year`` (8,760 or 8,784)."""
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31)).hours()


_UNIT_PV: dict[tuple[str, float, float, int, float, float, float], FloatArray] = {}


def unit_pv_kwh(weather: WeatherYear, year: int, tilt: float, azimuth: float, losses_percent: float) -> FloatArray:
    """Hourly AC production of 1 kWp [kWh/kWp] on the hours of ``year``, by pvlib (cached per orientation)."""
    key = (weather.source, weather.latitude, weather.longitude, year, round(tilt, 3), round(azimuth, 3), losses_percent)
    hit = _UNIT_PV.get(key)
    if hit is None:
        on_hours = lay_on_hours(weather, year_hours(year))
        array = PVArray(1.0, surface_tilt=tilt, surface_azimuth=azimuth, losses_percent=losses_percent)
        hit = np.asarray(pv_hourly_kwh(array, on_hours).to_numpy(dtype=np.float64))
        hit.flags.writeable = False
        if len(_UNIT_PV) > 256:
            _UNIT_PV.clear()
        _UNIT_PV[key] = hit
    return hit


@dataclass(frozen=True)
class Potential:
    """PV potential of one roof.

    Attributes
    ----------
    kwp : float
        Installable power [kWp].
    capped : bool
        The 1,000 kW plant limit applied.
    hourly_kwh : pandas.Series
        AC production of each hour of the year [kWh], UTC hour starts.
    """

    kwp: float
    capped: bool
    hourly_kwh: pd.Series

    @property
    def yearly_kwh(self) -> float:
        """Production over the year [kWh]."""
        return float(self.hourly_kwh.sum())

    @property
    def yield_kwh_kwp(self) -> float:
        """Specific yield [kWh/kWp]; 0 without modules."""
        return self.yearly_kwh / self.kwp if self.kwp > 0 else 0.0


def pv_potential(building: Building, weather: WeatherYear | None = None, params: Parameters | None = None) -> Potential:
    """Installable kWp and hourly production over a year of one roof (pvlib on the typical year)."""
    p = params or Parameters()
    w = weather or typical_weather()
    kwp, capped = plant_kwp(building, p)
    unit = unit_pv_kwh(w, p.year, building.tilt_deg, building.azimuth_deg, p.losses_percent)
    return Potential(kwp, capped, pd.Series(unit * kwp, index=year_hours(p.year), name="pv_kwh"))


@cache
def _use_shape(category: str, year: int) -> FloatArray:
    """Hourly shape of a use over ``year``, summing to 1."""
    profile = USE_PROFILES[category]
    hours = year_hours(year)
    shape = np.zeros(len(hours))
    for name, weight in profile.mix.items():
        part = standard_profile(name, hours)
        shape += weight * part / part.sum()
    if profile.monthly is not None:
        months = hours.tz_convert(LOCAL_TZ).month.to_numpy()
        shape *= np.asarray(profile.monthly)[months - 1]
    out: FloatArray = np.asarray(shape / shape.sum(), dtype=np.float64)
    out.flags.writeable = False
    return out


def building_load_kwh(category: str, yearly_kwh: float, year: int) -> FloatArray:
    """Hourly consumption of a building of use ``category`` consuming ``yearly_kwh`` [kWh] over ``year``."""
    if category not in USE_PROFILES:
        raise ValueError(f"uso {category!r} sconosciuto; attesi {', '.join(USE_PROFILES)}")
    return np.asarray(_use_shape(category, year) * yearly_kwh, dtype=np.float64)


# --------------------------------------------------------------------------------------------------------------------
# Sharing, incentive, ranking


@dataclass(frozen=True)
class ScoreComponent:
    """One term of the score: ``points = 100 × weight × normalised`` (before the constraints penalty)."""

    key: str
    value: float
    unit: str
    normalised: float
    weight: float
    points: float


@dataclass(frozen=True)
class BuildingResult:
    """Yearly figures of one building hosting its plant [kWh, €]."""

    code: str
    kwp: float
    capped: bool
    production_kwh: float
    consumption_kwh: float
    self_kwh: float
    surplus_kwh: float
    shared_kwh: float
    neighbours_demand_kwh: float
    yield_kwh_kwp: float
    incentive_eur: float
    savings_eur: float
    sale_eur: float
    opex_eur: float
    capex_eur: float
    grant_eur: float
    payback_years: float | None
    score: float
    rank: int
    components: tuple[ScoreComponent, ...]
    penalty: float
    penalty_reasons: tuple[str, ...]
    monthly: tuple[tuple[float, float, float, float], ...]
    """(production, consumption, self-consumption, shared) of each month January..December [kWh]."""

    @property
    def self_share(self) -> float:
        """Self-consumed share of the production [unitless]."""
        return self.self_kwh / self.production_kwh if self.production_kwh > 0 else 0.0


@dataclass(frozen=True)
class CabinaResult:
    """A cabina primaria if every candidate plant under it were built.

    ``shared_kwh`` = Σ_h min(Σ surplus, Σ residual demand + households): not the sum of the buildings' own
    ``shared_kwh``, which each count the neighbours' whole residual demand for themselves.
    """

    cabina: str
    buildings: int
    households: int
    households_kwh: float
    surplus_kwh: float
    residual_kwh: float
    shared_kwh: float


@dataclass(frozen=True)
class Hourly:
    """Hourly matrices (buildings × hours) [kWh], for checks and charts."""

    hours: pd.DatetimeIndex
    production: FloatArray
    consumption: FloatArray
    surplus: FloatArray
    neighbours: FloatArray
    shared: FloatArray


@dataclass(frozen=True)
class Assessment:
    """Results of every building, best first, with the assumptions used."""

    results: tuple[BuildingResult, ...]
    cabine: tuple[CabinaResult, ...]
    parameters: Parameters
    notes: tuple[str, ...]
    hourly: Hourly | None = field(default=None, repr=False, compare=False)

    def by_code(self) -> dict[str, BuildingResult]:
        return {r.code: r for r in self.results}


def _penalty(constraints: Sequence[str]) -> tuple[float, tuple[str, ...]]:
    total, reasons = 0.0, []
    for c in constraints:
        low = c.lower()
        for words, value, label in CONSTRAINT_PENALTIES:
            if any(w in low for w in words):
                total += value
                reasons.append(f"{label} (−{value * 100:.0f} %)")
                break
        else:
            total += OTHER_CONSTRAINT_PENALTY
            reasons.append(f"{c} (−{OTHER_CONSTRAINT_PENALTY * 100:.0f} %)")
    return min(total, MAX_PENALTY), tuple(reasons)


def _monthly_price(year: int, months: npt.NDArray[np.int_]) -> tuple[FloatArray, float, list[str]]:
    rb = load_rulebook()
    params, exact = rb.year(year)
    notes = [f"Prezzo zonale: media mensile {params.monthly_price_series} {params.year} del regolamento."]
    if not exact:
        notes.append(f"Per il {year} il regolamento non ha cifre: usate quelle del {params.year}.")
    if params.cu_af_provisional or params.monthly_price_provisional:
        notes.append(f"Alcune cifre {params.year} del regolamento sono provvisorie.")
    price = np.asarray(params.monthly_price_eur_mwh, dtype=np.float64)[months - 1]
    return price, params.cu_af_eur_mwh, notes


def assess_buildings(
    buildings: Sequence[Building],
    *,
    weather: WeatherYear | None = None,
    params: Parameters | None = None,
    households: Mapping[str, Households] | None = None,
    keep_hourly: bool = False,
) -> Assessment:
    """PV potential, self-consumption, energy shared with neighbours, incentive, economics and score of each
    building, ranked.

    For building *i* with production P_i and consumption C_i (hourly [kWh]): self-consumption S_i = min(P_i, C_i),
    surplus E_i = P_i − S_i, residual demand R_i = C_i − S_i. The neighbours' demand N_i is the residual demand of
    the other buildings in the same cabina primaria (each with its own plant) plus the candidate households there
    (H25 profile); the shared energy is Σ_h min(E_i, N_i). A building alone in its cabina, without households,
    shares nothing. Incentive = shared × (TIP of the plant's class on the monthly zonal price + CU_Af).

    Score (0-100) = 100 × (w_shared × shared/best shared + w_self × self/best self + w_yield × yield scale) ×
    (1 − constraints penalty); the yield scale goes linearly from 0 at 700 to 1 at 1,400 kWh/kWp.

    Parameters
    ----------
    buildings : sequence of Building
        Checked buildings, codes unique.
    weather : WeatherYear, optional
        Weather year; default the bundled typical year (:func:`typical_weather`).
    params : Parameters, optional
        Assumptions; default :class:`Parameters`.
    households : mapping of str to Households, optional
        Candidate households by cabina.
    keep_hourly : bool
        Keep the hourly matrices in :attr:`Assessment.hourly`.

    Raises
    ------
    ValueError
        No building, or repeated codes.
    """
    if not buildings:
        raise ValueError("nessun edificio da valutare")
    codes = [b.code for b in buildings]
    if len(set(codes)) != len(codes):
        raise ValueError("codici degli edifici ripetuti")
    p = params or Parameters()
    w = weather or typical_weather()
    homes = dict(households or {})
    rb = load_rulebook()
    hours = year_hours(p.year)
    months = hours.tz_convert(LOCAL_TZ).month.to_numpy()
    n = len(buildings)

    kwp = np.zeros(n)
    capped = np.zeros(n, dtype=bool)
    production = np.zeros((n, len(hours)))
    consumption = np.zeros((n, len(hours)))
    for i, b in enumerate(buildings):
        kwp[i], capped[i] = plant_kwp(b, p)
        if kwp[i] > 0:
            production[i] = kwp[i] * unit_pv_kwh(w, p.year, b.tilt_deg, b.azimuth_deg, p.losses_percent)
        consumption[i] = building_load_kwh(b.category, b.consumption_kwh_year, p.year)

    self_use = np.minimum(production, consumption)
    surplus = production - self_use
    residual = consumption - self_use

    cabina_of = np.array([b.cabina for b in buildings], dtype=object)
    neighbours = np.zeros_like(residual)
    cabine: list[CabinaResult] = []
    h25 = building_load_kwh("social_housing", 1.0, p.year)
    for cabina in sorted(set(cabina_of.tolist())):
        mask = cabina_of == cabina
        home = homes.get(cabina, Households(0))
        home_kwh = h25 * (home.count * home.kwh_per_household)
        total_residual = residual[mask].sum(axis=0) + home_kwh
        neighbours[mask] = total_residual - residual[mask]
        cabine.append(
            CabinaResult(
                cabina=cabina,
                buildings=int(mask.sum()),
                households=home.count,
                households_kwh=float(home_kwh.sum()),
                surplus_kwh=float(surplus[mask].sum()),
                residual_kwh=float(total_residual.sum()),
                shared_kwh=float(np.minimum(surplus[mask].sum(axis=0), total_residual).sum()),
            )
        )
    neighbours = np.maximum(neighbours, 0.0)  # rounding only
    shared = np.minimum(surplus, neighbours)

    price, cu_af, notes = _monthly_price(p.year, months)
    fc = geographic_correction("pv", p.region, rb)
    reduction = grant_reduction(p.grant_share, rb)
    incentive = np.zeros(n)
    for i in range(n):
        if kwp[i] > 0:
            tip = tip_eur_mwh(float(kwp[i]), price, fc_eur_mwh=fc, reduction=reduction, rulebook=rb)
            incentive[i] = float(shared[i] @ (tip + cu_af)) / 1000.0
    sale = surplus @ price / 1000.0

    prod_y, cons_y = production.sum(axis=1), consumption.sum(axis=1)
    self_y, surplus_y, shared_y = self_use.sum(axis=1), surplus.sum(axis=1), shared.sum(axis=1)
    yield_y = np.divide(prod_y, kwp, out=np.zeros(n), where=kwp > 0)
    best_shared, best_self = float(shared_y.max()), float(self_y.max())

    month_index = [months == m for m in range(1, 13)]
    results: list[BuildingResult] = []
    for i, b in enumerate(buildings):
        s_shared = float(shared_y[i] / best_shared) if best_shared > 0 else 0.0
        s_self = float(self_y[i] / best_self) if best_self > 0 else 0.0
        s_yield = float(np.clip((yield_y[i] - YIELD_FLOOR) / (YIELD_TOP - YIELD_FLOOR), 0.0, 1.0))
        components = (
            ScoreComponent(
                "shared", float(shared_y[i]), "kWh", s_shared, p.weight_shared, 100 * p.weight_shared * s_shared
            ),
            ScoreComponent("self", float(self_y[i]), "kWh", s_self, p.weight_self, 100 * p.weight_self * s_self),
            ScoreComponent(
                "yield", float(yield_y[i]), "kWh/kWp", s_yield, p.weight_yield, 100 * p.weight_yield * s_yield
            ),
        )
        penalty, reasons = _penalty(b.constraints)
        score = sum(c.points for c in components) * (1.0 - penalty)
        capex = float(kwp[i] * p.capex_eur_per_kwp)
        grant = capex * p.grant_share
        opex = float(kwp[i] * p.opex_eur_per_kwp_year)
        savings = float(self_y[i] * p.energy_price_eur_kwh)
        net = savings + float(sale[i]) + float(incentive[i]) - opex
        payback = (capex - grant) / net if net > 0 and capex > 0 else None
        monthly = tuple(
            (
                float(production[i, m].sum()),
                float(consumption[i, m].sum()),
                float(self_use[i, m].sum()),
                float(shared[i, m].sum()),
            )
            for m in month_index
        )
        results.append(
            BuildingResult(
                code=b.code,
                kwp=float(kwp[i]),
                capped=bool(capped[i]),
                production_kwh=float(prod_y[i]),
                consumption_kwh=float(cons_y[i]),
                self_kwh=float(self_y[i]),
                surplus_kwh=float(surplus_y[i]),
                shared_kwh=float(shared_y[i]),
                neighbours_demand_kwh=float(neighbours[i].sum()),
                yield_kwh_kwp=float(yield_y[i]),
                incentive_eur=float(incentive[i]),
                savings_eur=savings,
                sale_eur=float(sale[i]),
                opex_eur=opex,
                capex_eur=capex,
                grant_eur=grant,
                payback_years=payback,
                score=round(score, 2),
                rank=0,
                components=components,
                penalty=penalty,
                penalty_reasons=reasons,
                monthly=monthly,
            )
        )
    order = sorted(range(n), key=lambda k: (-results[k].score, -results[k].shared_kwh, results[k].code))
    ranked = tuple(_with_rank(results[k], pos + 1) for pos, k in enumerate(order))
    notes = [
        f"Anno di calcolo {p.year}, {len(hours)} ore; meteo: {w.source}.",
        f"Tariffa premio: correzione geografica FV {fc:g} €/MWh ({p.region}), riduzione per contributi "
        f"{reduction * 100:g} %; valorizzazione CU_Af {cu_af:g} €/MWh.",
        *notes,
    ]
    hourly = (
        Hourly(
            hours,
            production[order],
            consumption[order],
            surplus[order],
            neighbours[order],
            shared[order],
        )
        if keep_hourly
        else None
    )
    return Assessment(ranked, tuple(cabine), p, tuple(notes), hourly)


def _with_rank(r: BuildingResult, rank: int) -> BuildingResult:
    from dataclasses import replace

    return replace(r, rank=rank)


def ranking_document(assessment: Assessment, buildings: Sequence[Building]) -> dict[str, Any]:
    """JSON-ready document of an assessment: parameters, notes, sources, cabine and buildings by rank.

    Energies in kWh rounded to 0.1, money in € rounded to the cent.
    """
    info = {b.code: b for b in buildings}

    def r1(x: float) -> float:
        return round(float(x), 1)

    items = []
    for r in assessment.results:
        b = info.get(r.code)
        items.append(
            {
                "rank": r.rank,
                "code": r.code,
                "name": b.name if b else None,
                "use": b.use if b else None,
                "cabina": b.cabina if b else None,
                "score": round(r.score, 1),
                "kwp": round(r.kwp, 2),
                "capped": r.capped,
                "production_kwh": r1(r.production_kwh),
                "yield_kwh_kwp": r1(r.yield_kwh_kwp),
                "consumption_kwh": r1(r.consumption_kwh),
                "self_kwh": r1(r.self_kwh),
                "surplus_kwh": r1(r.surplus_kwh),
                "shared_kwh": r1(r.shared_kwh),
                "incentive_eur": round(r.incentive_eur, 2),
                "savings_eur": round(r.savings_eur, 2),
                "sale_eur": round(r.sale_eur, 2),
                "capex_eur": round(r.capex_eur, 2),
                "payback_years": None if r.payback_years is None else round(r.payback_years, 1),
                "penalty": r.penalty,
                "penalty_reasons": list(r.penalty_reasons),
                "components": [
                    {
                        "key": c.key,
                        "value": round(c.value, 1),
                        "unit": c.unit,
                        "normalised": round(c.normalised, 4),
                        "weight": c.weight,
                        "points": round(c.points, 2),
                    }
                    for c in r.components
                ],
            }
        )
    return {
        "parameters": assessment.parameters.as_dict(),
        "notes": list(assessment.notes),
        "sources": list(SOURCES),
        "cabine": [
            {
                "cabina": c.cabina,
                "buildings": c.buildings,
                "households": c.households,
                "surplus_kwh": r1(c.surplus_kwh),
                "residual_kwh": r1(c.residual_kwh),
                "shared_kwh": r1(c.shared_kwh),
            }
            for c in assessment.cabine
        ],
        "buildings": items,
    }
