"""Matchmaking of the local supply chain: roofs, money, demand and skills, ranked with explained scores.

A municipality gathers *profiles* of several kinds (:data:`KINDS`): citizens and businesses looking for a
community, communities looking for members, owners of roofs and land, financers, installers and designers, and
group-purchasing requests. For a profile, :func:`rank` scores every candidate of a compatible kind
(:data:`COMPATIBLE`) in [0, 100] as a sum of explained components (:class:`Component`): the shared energy a
candidate adds (computed hour by hour with the design engine), proximity (the same cabina primaria is the maximum
and is required for the incentive), the fit of a financer's budget to the plant cost, an installer's capacity and
locality, and the municipality's criteria (priority to vulnerable households, shown without naming the flag).

Energy is computed on one typical year (the local calendar year :data:`YEAR`): consumption from BDEW 2025
standard load profiles (:func:`condivisa.planning.profiles.standard_profile`, households H25, businesses G25)
reshaped by the declared pattern (:data:`PATTERN_WEIGHTS`) and scaled to the yearly kWh; PV from pvlib
(:func:`condivisa.production.pv.pv_hourly_kwh`) on the bundled typical year near Turin. Shared energy of an hour is
``min(production, consumption)``; what a candidate *adds* is the increase of its yearly sum when the candidate
joins.

Pure computation: no database, no network; the only files read are the package's own bundled tables (demandlib's
profiles and the typical weather year), cached per shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.errors import InputError, Problem
from condivisa.production.pvgis import haversine_km

FloatArray = npt.NDArray[np.float64]

KINDS: tuple[str, ...] = (
    "citizen",
    "community",
    "roof_owner",
    "land_owner",
    "financer",
    "installer",
    "designer",
    "group_purchase",
)
"""Kinds of profile."""

KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "citizen": "Cittadino o impresa che cerca una comunità",
        "community": "Comunità che cerca soci",
        "roof_owner": "Proprietario di un tetto",
        "land_owner": "Proprietario di un terreno",
        "financer": "Finanziatore",
        "installer": "Installatore",
        "designer": "Progettista",
        "group_purchase": "Gruppo di acquisto fotovoltaico",
    }
)
"""Italian name of each kind, as pages show it."""

COMPATIBLE: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("citizen", "community"),
        ("roof_owner", "community"),
        ("land_owner", "community"),
        ("roof_owner", "financer"),
        ("land_owner", "financer"),
        ("roof_owner", "installer"),
        ("land_owner", "installer"),
        ("roof_owner", "designer"),
        ("land_owner", "designer"),
        ("group_purchase", "installer"),
        ("group_purchase", "designer"),
        ("community", "financer"),
    )
)
"""Pairs of kinds that can be matched (unordered)."""

INCENTIVE_PAIRS: frozenset[frozenset[str]] = frozenset(
    frozenset(p) for p in (("citizen", "community"), ("roof_owner", "community"), ("land_owner", "community"))
)
"""Pairs whose shared energy earns the incentive only within one cabina primaria."""

YEAR = 2025
"""Calendar year on which the typical profiles are laid (local time, 8,760 hours)."""

PATTERNS: tuple[str, ...] = ("day", "evening", "flat")
PATTERN_LABELS: Mapping[str, str] = MappingProxyType(
    {"day": "di giorno", "evening": "di sera", "flat": "costante nella giornata"}
)

_NIGHT, _MORNING, _DAY, _LATE, _EVENING = 0.4, 0.8, 2.5, 1.5, 2.5
PATTERN_WEIGHTS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        # local hour:  0..6 night, 7 morning, 8..17 day, 18..22 evening, 23 late
        "day": (_NIGHT,) * 7 + (1.0,) + (_DAY,) * 10 + (1.0,) * 5 + (_NIGHT,),
        "evening": (_NIGHT,) * 7 + (_MORNING,) + (0.5,) * 9 + (_LATE,) + (_EVENING,) * 5 + (1.0,),
        "flat": (1.0,) * 24,
    }
)
"""Weights by local hour of day applied to the standard profile before scaling to the yearly consumption: a
consumer "di giorno" uses 2.5 times the standard shape between 08:00 and 18:00, one "di sera" 2.5 times between
18:00 and 23:00; "costante" flattens each day to equal hours. [unitless]"""

USES: tuple[str, ...] = ("household", "business")
USE_PROFILE: Mapping[str, str] = MappingProxyType({"household": "H25", "business": "G25"})

ORIENTATIONS: Mapping[str, float] = MappingProxyType(
    {"S": 180.0, "SE": 135.0, "SO": 225.0, "E": 90.0, "O": 270.0, "piano": 180.0}
)
"""Azimuth of each orientation, 180 = south [°]; a flat roof takes panels tilted :data:`FLAT_TILT_DEG` to south."""
FLAT_TILT_DEG = 10.0

M2_PER_KWP: Mapping[str, float] = MappingProxyType({"roof_owner": 6.0, "land_owner": 15.0})
"""Surface needed per kWp [m²/kWp]: modules on a roof, rows with spacing on the ground."""

MAX_PLANT_KW = 1000.0
"""A CER plant earns the incentive up to 1 MW [kW]."""

DEFAULT_COST_EUR_PER_KWP = 1200.0
"""Cost of a PV plant when the profile does not state one [€/kWp]."""

NEAR_KM = 30.0
"""Beyond this distance proximity gives no points [km]."""


@dataclass(frozen=True)
class FieldSpec:
    """A public attribute of a kind of profile, as forms ask for it.

    ``type`` is ``number`` (float, at least ``minimum``), ``choice`` (one of ``choices``), ``text`` or ``bool``.
    """

    name: str
    label: str
    type: Literal["number", "choice", "text", "bool"]
    required: bool = True
    unit: str = ""
    minimum: float = 0.0
    maximum: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""


_PATTERN_CHOICES = tuple(PATTERN_LABELS.items())
_ORIENTATION_CHOICES = (
    ("S", "Sud"),
    ("SE", "Sud-est"),
    ("SO", "Sud-ovest"),
    ("E", "Est"),
    ("O", "Ovest"),
    ("piano", "Tetto piano"),
)
_SURFACE_FIELDS = (
    FieldSpec("area_m2", "Superficie disponibile", "number", unit="m²", minimum=1.0),
    FieldSpec("orientation", "Orientamento", "choice", choices=_ORIENTATION_CHOICES, default="S"),
    FieldSpec("tilt_deg", "Inclinazione", "number", required=False, unit="°", maximum=90.0, default="30"),
)
_FIRM_FIELDS = (
    FieldSpec("province", "Provincia della sede (sigla)", "text", default=""),
    FieldSpec("certifications", "Certificazioni e abilitazioni", "text", required=False),
    FieldSpec("capacity_kwp_year", "Capacità", "number", unit="kWp/anno", minimum=1.0),
)

FIELDS: Mapping[str, tuple[FieldSpec, ...]] = MappingProxyType(
    {
        "citizen": (
            FieldSpec("consumption_kwh_year", "Consumo annuo", "number", unit="kWh/anno", minimum=1.0),
            FieldSpec("pattern", "Quando consumi di più", "choice", choices=_PATTERN_CHOICES, default="flat"),
            FieldSpec("use", "Utenza", "choice", choices=(("household", "Famiglia"), ("business", "Impresa"))),
        ),
        "community": (
            FieldSpec("pv_kwp", "Fotovoltaico della comunità", "number", required=False, unit="kWp"),
            FieldSpec(
                "consumption_kwh_year", "Consumo annuo dei soci attuali", "number", required=False, unit="kWh/anno"
            ),
            FieldSpec(
                "consumption_pattern",
                "Profilo di consumo dei soci attuali",
                "choice",
                choices=_PATTERN_CHOICES,
                default="evening",
            ),
            FieldSpec(
                "lacking_pattern", "Profilo di consumo che manca", "choice", choices=_PATTERN_CHOICES, default="day"
            ),
        ),
        "roof_owner": _SURFACE_FIELDS,
        "land_owner": _SURFACE_FIELDS,
        "financer": (
            FieldSpec("budget_min_eur", "Investimento minimo", "number", unit="€"),
            FieldSpec("budget_max_eur", "Investimento massimo", "number", unit="€", minimum=1.0),
            FieldSpec("expected_return_pct", "Rendimento atteso", "number", required=False, unit="%/anno"),
            FieldSpec("ethical", "Fondo etico o finalità sociale", "bool", required=False),
        ),
        "installer": _FIRM_FIELDS,
        "designer": _FIRM_FIELDS,
        "group_purchase": (
            FieldSpec("households", "Famiglie del gruppo", "number", minimum=2.0),
            FieldSpec("total_kwp", "Potenza complessiva", "number", unit="kWp", minimum=0.5),
        ),
    }
)
"""Public attributes asked of each kind (stored as JSON, shown on public pages)."""


def parse_attributes(kind: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Check and convert the public attributes of a profile of ``kind`` from form text.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    form : mapping of str to str
        Raw values by attribute name (Italian decimal comma accepted); missing optional ones are left out.

    Returns
    -------
    dict
        Attributes with numbers as float, booleans as bool, choices and texts as str.

    Raises
    ------
    InputError
        One problem per bad field, naming it and saying what was expected.
    """
    if kind not in FIELDS:
        raise InputError.one(f"tipo di profilo sconosciuto {kind!r}; ammessi: {', '.join(KINDS)}", field="kind")
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in FIELDS[kind]:
        raw = (form.get(spec.name) or "").strip()
        if spec.type == "bool":
            out[spec.name] = raw.lower() in ("1", "on", "true", "si", "sì")
            continue
        if not raw:
            if spec.required:
                problems.append(Problem(f"{spec.label}: campo obbligatorio", field=spec.name))
            continue
        if spec.type == "number":
            try:
                value = float(raw.replace(".", "").replace(",", ".") if "," in raw else raw)
            except ValueError:
                problems.append(Problem(f"{spec.label}: {raw!r} non è un numero", field=spec.name))
                continue
            if not math.isfinite(value) or value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
                upper = f" e non oltre {spec.maximum:g}" if spec.maximum is not None else ""
                message = f"{spec.label}: {raw} fuori intervallo; atteso almeno {spec.minimum:g}{upper}"
                problems.append(Problem(message, field=spec.name))
                continue
            out[spec.name] = value
        elif spec.type == "choice":
            allowed = [c for c, _ in spec.choices]
            if raw not in allowed:
                message = f"{spec.label}: {raw!r} non ammesso; scegli tra {', '.join(allowed)}"
                problems.append(Problem(message, field=spec.name))
                continue
            out[spec.name] = raw
        else:
            if len(raw) > 200:
                problems.append(Problem(f"{spec.label}: al massimo 200 caratteri", field=spec.name))
                continue
            out[spec.name] = raw.upper() if spec.name == "province" else raw
    if kind == "financer" and not problems and out["budget_min_eur"] > out["budget_max_eur"]:
        problems.append(Problem("investimento minimo oltre il massimo", field="budget_min_eur"))
    if kind in ("installer", "designer") and not problems:
        province = str(out.get("province", ""))
        if len(province) != 2 or not province.isalpha():
            problems.append(Problem("Provincia: attesa la sigla di due lettere (ad esempio TO)", field="province"))
    if problems:
        raise InputError(problems)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Profiles and scores


@dataclass(frozen=True)
class ProfileData:
    """A profile as the scoring sees it.

    Parameters
    ----------
    id : int
        Identifier (ties in the ranking are broken by it).
    kind : str
        One of :data:`KINDS`.
    name : str
        Public display name.
    attributes : mapping
        Public attributes (see :data:`FIELDS`).
    latitude, longitude : float, optional
        Location [°].
    cabina : str, optional
        Cabina primaria code.
    province : str, optional
        Province of the profile's municipality (two letters), for the locality of firms.
    vulnerable : bool
        Private flag of citizens (vulnerable household): weighs in the municipality's criteria, never shown.
    """

    id: int
    kind: str
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    latitude: float | None = None
    longitude: float | None = None
    cabina: str | None = None
    province: str | None = None
    vulnerable: bool = False


@dataclass(frozen=True)
class Component:
    """One explained part of a score: ``points`` out of ``maximum``; ``value`` in the unit the name says."""

    name: str
    value: float
    points: float
    maximum: float
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "value", "points", "explanation"}`` (and ``maximum``), as stored and shown."""
        return {
            "name": self.name,
            "value": self.value,
            "points": self.points,
            "maximum": self.maximum,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Match:
    """A scored candidate: ``score`` [0, 100] is the sum of the components' points."""

    candidate_id: int
    score: float
    components: tuple[Component, ...]
    incentive_relevant: bool

    def components_json(self) -> list[dict[str, Any]]:
        """The components as a list of dictionaries."""
        return [c.as_dict() for c in self.components]


@dataclass(frozen=True)
class Criteria:
    """The municipality's criteria: points (0 to 30, taken from the 30 of "profilo cercato") given to the citizens
    it wants to favour (vulnerable households)."""

    vulnerable_points: float = 15.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.vulnerable_points <= 30.0:
            raise ValueError(f"vulnerable_points: {self.vulnerable_points} fuori da [0, 30] punti")


DEFAULT_CRITERIA = Criteria()


def compatible(kind_a: str, kind_b: str) -> bool:
    """Whether profiles of these kinds can be matched."""
    return frozenset((kind_a, kind_b)) in COMPATIBLE and kind_a != kind_b


def _it(x: float, digits: int = 0) -> str:
    """Italian number format (``1.234,5``)."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


def _num(attrs: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = attrs.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)


def _component(name: str, value: float, fraction: float, maximum: float, explanation: str) -> Component:
    fraction = min(1.0, max(0.0, fraction))
    return Component(name, round(value, 3), round(fraction * maximum, 1), maximum, explanation)


# --------------------------------------------------------------------------------------------------------------------
# Energy: hourly profiles from the design engine


@cache
def year_hours() -> pd.DatetimeIndex:
    """The hours of the local calendar year :data:`YEAR`, as UTC hour starts (8,760)."""
    start = pd.Timestamp(f"{YEAR}-01-01", tz=LOCAL_TZ)
    end = pd.Timestamp(f"{YEAR + 1}-01-01", tz=LOCAL_TZ)
    return pd.date_range(start, end, freq="h", inclusive="left").tz_convert("UTC")


@cache
def _consumption_shape(use: str, pattern: str) -> FloatArray:
    from condivisa.planning.profiles import standard_profile

    hours = year_hours()
    base = standard_profile(USE_PROFILE.get(use, "H25"), hours)
    local_hour = hours.tz_convert(LOCAL_TZ).hour.to_numpy()
    weights = np.asarray(PATTERN_WEIGHTS.get(pattern, PATTERN_WEIGHTS["flat"]), dtype=np.float64)
    if pattern == "flat":
        days = hours.tz_convert(LOCAL_TZ).normalize()
        daily = pd.Series(base).groupby(days).transform("mean").to_numpy()
        shaped = np.asarray(daily, dtype=np.float64)
    else:
        shaped = base * weights[local_hour]
    out: FloatArray = shaped / shaped.sum()
    out.flags.writeable = False
    return out


def consumption_profile(kwh_year: float, pattern: str = "flat", use: str = "household") -> FloatArray:
    """Hourly consumption over the typical year [kWh], summing to ``kwh_year``.

    Parameters
    ----------
    kwh_year : float
        Yearly consumption [kWh/year]; 0 gives zeros.
    pattern : {"day", "evening", "flat"}
        When most is used (see :data:`PATTERN_WEIGHTS`).
    use : {"household", "business"}
        BDEW profile H25 or G25.
    """
    if kwh_year <= 0:
        return np.zeros(len(year_hours()))
    return np.asarray(_consumption_shape(use, pattern) * kwh_year, dtype=np.float64)


@cache
def _pv_unit(tilt_deg: float, azimuth_deg: float) -> FloatArray:
    from condivisa.production.pv import PVArray, pv_hourly_kwh
    from condivisa.production.weather import lay_on_hours, typical_year

    weather = lay_on_hours(typical_year(), year_hours())
    out = np.asarray(pv_hourly_kwh(PVArray(1.0, tilt_deg, azimuth_deg), weather).to_numpy(), dtype=np.float64)
    out.flags.writeable = False
    return out


def pv_profile(kwp: float, tilt_deg: float = 30.0, azimuth_deg: float = 180.0) -> FloatArray:
    """Hourly AC production of a PV plant over the typical year near Turin [kWh] (pvlib, PVWatts).

    Tilt and azimuth are rounded to 5° so that shapes are computed once and scaled by ``kwp`` [kWp].
    """
    if kwp <= 0:
        return np.zeros(len(year_hours()))
    tilt = float(round(min(90.0, max(0.0, tilt_deg)) / 5.0) * 5.0)
    azimuth = float(round((azimuth_deg % 360.0) / 5.0) * 5.0)
    return np.asarray(_pv_unit(tilt, azimuth) * kwp, dtype=np.float64)


def shared_kwh(production: FloatArray, consumption: FloatArray) -> float:
    """Shared energy of a year: Σ_h min(production_h, consumption_h) [kWh]."""
    return float(np.minimum(production, consumption).sum())


def surface_kwp(profile: ProfileData) -> float:
    """PV power a roof or a plot can host [kWp]: surface / :data:`M2_PER_KWP`, at most :data:`MAX_PLANT_KW`."""
    area = _num(profile.attributes, "area_m2")
    return min(MAX_PLANT_KW, area / M2_PER_KWP.get(profile.kind, 6.0))


def _surface_pv(profile: ProfileData) -> FloatArray:
    orientation = str(profile.attributes.get("orientation", "S"))
    tilt = FLAT_TILT_DEG if orientation == "piano" else _num(profile.attributes, "tilt_deg", 30.0)
    return pv_profile(surface_kwp(profile), tilt, ORIENTATIONS.get(orientation, 180.0))


def _community_arrays(profile: ProfileData) -> tuple[FloatArray, FloatArray]:
    attrs = profile.attributes
    production = pv_profile(_num(attrs, "pv_kwp"))
    consumption = consumption_profile(
        _num(attrs, "consumption_kwh_year"), str(attrs.get("consumption_pattern", "evening")), "household"
    )
    return production, consumption


def plant_kwp(profile: ProfileData) -> float:
    """Power of the plant a profile brings or asks for [kWp]: roofs and land by surface, group purchases and
    communities by what they state."""
    if profile.kind in M2_PER_KWP:
        return surface_kwp(profile)
    if profile.kind == "group_purchase":
        return _num(profile.attributes, "total_kwp")
    if profile.kind == "community":
        return _num(profile.attributes, "pv_kwp")
    return 0.0


# --------------------------------------------------------------------------------------------------------------------
# Components


def _proximity(a: ProfileData, b: ProfileData, maximum: float, incentive: bool) -> tuple[Component, bool | None]:
    """Proximity points and whether the two share a cabina (None when unknown)."""
    same: bool | None = None
    if a.cabina and b.cabina:
        same = a.cabina.strip().upper() == b.cabina.strip().upper()
    if same:
        text = f"Stessa cabina primaria ({a.cabina}): il massimo della vicinanza"
        if incentive:
            text += "; è il requisito perché l'energia condivisa sia incentivata"
        return _component("Vicinanza", 0.0, 1.0, maximum, text), same
    note = ""
    if incentive:
        note = (
            "; cabine primarie diverse: l'energia condivisa non sarebbe incentivata"
            if same is False
            else "; cabina primaria da verificare: è il requisito per l'energia incentivata"
        )
    if None not in (a.latitude, a.longitude, b.latitude, b.longitude):
        km = haversine_km(float(a.latitude), float(a.longitude), float(b.latitude), float(b.longitude))  # type: ignore[arg-type]
        fraction = 0.8 * max(0.0, 1.0 - km / NEAR_KM)
        return _component("Vicinanza", km, fraction, maximum, f"Distanza {_it(km, 1)} km{note}"), same
    return (
        _component("Vicinanza", 0.0, 0.3, maximum, f"Stesso comune, posizione non indicata{note}"),
        same,
    )


def _added_by_consumer(community: ProfileData, citizen: ProfileData, maximum: float, cabina_ok: bool) -> Component:
    production, consumption = _community_arrays(community)
    attrs = citizen.attributes
    added_load = consumption_profile(
        _num(attrs, "consumption_kwh_year"), str(attrs.get("pattern", "flat")), str(attrs.get("use", "household"))
    )
    before = shared_kwh(production, consumption)
    added = shared_kwh(production, consumption + added_load) - before
    total = float(added_load.sum())
    fraction = added / total if total > 0 else 0.0
    text = (
        f"Con il nuovo socio l'energia condivisa cresce di {_it(added)} kWh/anno "
        f"({_it(100 * fraction)} % del suo consumo cade nelle ore di produzione non ancora condivisa)"
    )
    if not production.any():
        text = "La comunità non ha indicato produzione fotovoltaica: nessuna energia condivisa aggiunta"
    if not cabina_ok:
        text += "; nessun punto perché le cabine primarie sono diverse (energia non incentivata)"
        fraction = 0.0
    return _component("Energia condivisa aggiunta", added, fraction, maximum, text)


def _added_by_plant(community: ProfileData, surface: ProfileData, maximum: float, cabina_ok: bool) -> Component:
    production, consumption = _community_arrays(community)
    new = _surface_pv(surface)
    before = shared_kwh(production, consumption)
    added = shared_kwh(production + new, consumption) - before
    total = float(new.sum())
    fraction = added / total if total > 0 else 0.0
    text = (
        f"Un impianto di {_it(surface_kwp(surface), 1)} kWp produrrebbe {_it(total)} kWh/anno; "
        f"l'energia condivisa della comunità crescerebbe di {_it(added)} kWh/anno ({_it(100 * fraction)} %)"
    )
    if not consumption.any():
        text = "La comunità non ha indicato consumi dei soci: la nuova produzione non sarebbe condivisa"
    if not cabina_ok:
        text += "; nessun punto perché le cabine primarie sono diverse (energia non incentivata)"
        fraction = 0.0
    return _component("Energia condivisa aggiunta", added, fraction, maximum, text)


def _lacking(community: ProfileData, citizen: ProfileData, maximum: float) -> Component:
    wanted = str(community.attributes.get("lacking_pattern", ""))
    has = str(citizen.attributes.get("pattern", ""))
    fit = 1.0 if wanted and wanted == has else 0.0
    text = f"La comunità cerca consumi {PATTERN_LABELS.get(wanted, wanted)}: " + (
        "corrisponde" if fit else f"il profilo è {PATTERN_LABELS.get(has, has)}"
    )
    return _component("Profilo cercato", fit, fit, maximum, text)


def _criteria(citizen: ProfileData, maximum: float) -> Component:
    fit = 1.0 if citizen.vulnerable else 0.0
    return _component(
        "Criteri del comune",
        fit,
        fit,
        maximum,
        "Punti di priorità secondo i criteri sociali stabiliti dal comune (i dati che li determinano sono riservati)",
    )


def _budget(financer: ProfileData, project: ProfileData, maximum: float) -> Component:
    kwp = plant_kwp(project)
    cost_per_kwp = _num(project.attributes, "cost_eur_per_kwp", DEFAULT_COST_EUR_PER_KWP)
    cost = kwp * cost_per_kwp
    low = _num(financer.attributes, "budget_min_eur")
    high = _num(financer.attributes, "budget_max_eur")
    if cost <= 0:
        return _component("Budget", 0.0, 0.0, maximum, "Potenza dell'impianto non indicata: costo non stimabile")
    if low <= cost <= high:
        fraction, verdict = 1.0, "nel budget del finanziatore"
    elif cost > high:
        fraction = high / cost if cost > 0 else 0.0
        verdict = f"oltre il budget massimo ({_it(high)} €): coperto al {_it(100 * fraction)} %"
    else:
        fraction = cost / low if low > 0 else 1.0
        verdict = f"sotto l'investimento minimo ({_it(low)} €)"
    text = f"Costo stimato {_it(kwp, 1)} kWp × {_it(cost_per_kwp)} €/kWp = {_it(cost)} €, {verdict}"
    return _component("Budget", cost, fraction, maximum, text)


def _ethics(financer: ProfileData, maximum: float) -> Component:
    ethical = bool(financer.attributes.get("ethical", False))
    ret = _num(financer.attributes, "expected_return_pct", 0.0)
    if ethical:
        return _component("Finalità", ret, 1.0, maximum, "Fondo etico: adatto a una comunità con finalità sociali")
    fraction = max(0.0, 1.0 - ret / 10.0)
    text = f"Rendimento atteso {_it(ret, 1)} %/anno: più è basso, più è compatibile con una comunità"
    return _component("Finalità", ret, fraction, maximum, text)


def _capacity(firm: ProfileData, project: ProfileData, maximum: float) -> Component:
    kwp = plant_kwp(project)
    capacity = _num(firm.attributes, "capacity_kwp_year")
    if kwp <= 0:
        return _component("Capacità", capacity, 0.0, maximum, "Potenza richiesta non indicata")
    fraction = 1.0 if capacity >= kwp else capacity / kwp
    text = f"Capacità {_it(capacity)} kWp/anno per un impianto di {_it(kwp, 1)} kWp"
    if project.kind == "group_purchase":
        households = _num(project.attributes, "households")
        text += f" (acquisto di gruppo di {_it(households)} famiglie)"
    return _component("Capacità", capacity, fraction, maximum, text)


def _locality(firm: ProfileData, project: ProfileData, maximum: float) -> Component:
    province = str(firm.attributes.get("province", "")).upper()
    local = bool(province) and province == (project.province or "").upper()
    text = (
        f"Impresa locale: sede nella provincia {province}"
        if local
        else f"Sede in provincia {province or 'non indicata'}, fuori dalla provincia del comune"
    )
    return _component("Impresa locale", 1.0 if local else 0.0, 1.0 if local else 0.0, maximum, text)


def _certifications(firm: ProfileData, maximum: float) -> Component:
    text = str(firm.attributes.get("certifications", "")).strip()
    fit = 1.0 if text else 0.0
    return _component(
        "Certificazioni", fit, fit, maximum, f"Dichiarate: {text}" if text else "Nessuna certificazione dichiarata"
    )


def score_pair(a: ProfileData, b: ProfileData, criteria: Criteria = DEFAULT_CRITERIA) -> Match:
    """Score of the pair ``a``-``b`` from ``a``'s side (the components are the same from either side).

    Raises
    ------
    ValueError
        When the kinds cannot be matched (see :data:`COMPATIBLE`).
    """
    if not compatible(a.kind, b.kind):
        raise ValueError(f"profili non abbinabili: {a.kind} e {b.kind}")
    by = {a.kind: a, b.kind: b}
    incentive = frozenset((a.kind, b.kind)) in INCENTIVE_PAIRS
    comps: list[Component] = []
    if "citizen" in by and "community" in by:
        near, same = _proximity(a, b, 25.0, True)
        comps.append(_added_by_consumer(by["community"], by["citizen"], 45.0, same is not False))
        comps.append(near)
        comps.append(_lacking(by["community"], by["citizen"], 30.0 - criteria.vulnerable_points))
        comps.append(_criteria(by["citizen"], criteria.vulnerable_points))
    elif "community" in by and ("roof_owner" in by or "land_owner" in by):
        surface = by.get("roof_owner") or by["land_owner"]
        near, same = _proximity(a, b, 40.0, True)
        comps.append(_added_by_plant(by["community"], surface, 60.0, same is not False))
        comps.append(near)
    elif "financer" in by:
        project = by.get("roof_owner") or by.get("land_owner") or by["community"]
        near, _ = _proximity(a, b, 15.0, False)
        comps.append(_budget(by["financer"], project, 70.0))
        comps.append(_ethics(by["financer"], 15.0))
        comps.append(near)
    else:
        firm = by.get("installer") or by["designer"]
        project = by.get("roof_owner") or by.get("land_owner") or by["group_purchase"]
        near, _ = _proximity(a, b, 20.0, False)
        comps.append(_capacity(firm, project, 40.0))
        comps.append(_locality(firm, project, 30.0))
        comps.append(near)
        comps.append(_certifications(firm, 10.0))
    score = round(sum(c.points for c in comps), 1)
    return Match(b.id, min(100.0, max(0.0, score)), tuple(comps), incentive)


def candidates_of(profile: ProfileData, others: Iterable[ProfileData]) -> list[ProfileData]:
    """The profiles among ``others`` that can be matched with ``profile`` (compatible kind, not itself)."""
    return [o for o in others if o.id != profile.id and compatible(profile.kind, o.kind)]


def rank(
    profile: ProfileData,
    others: Sequence[ProfileData],
    criteria: Criteria = DEFAULT_CRITERIA,
    *,
    limit: int | None = None,
) -> list[Match]:
    """Candidates for ``profile``, best first (ties by candidate id, so the order is deterministic).

    Parameters
    ----------
    profile : ProfileData
        The profile looking for counterparts.
    others : sequence of ProfileData
        Every other profile of the municipality; incompatible kinds are left out.
    criteria : Criteria
        The municipality's criteria.
    limit : int, optional
        Keep only the first ``limit``.
    """
    matches = [score_pair(profile, o, criteria) for o in candidates_of(profile, others)]
    matches.sort(key=lambda m: (-m.score, m.candidate_id))
    return matches if limit is None else matches[:limit]


__all__ = [
    "COMPATIBLE",
    "DEFAULT_CRITERIA",
    "FIELDS",
    "INCENTIVE_PAIRS",
    "KINDS",
    "KIND_LABELS",
    "Component",
    "Criteria",
    "FieldSpec",
    "Match",
    "ProfileData",
    "compatible",
    "consumption_profile",
    "parse_attributes",
    "plant_kwp",
    "pv_profile",
    "rank",
    "score_pair",
    "shared_kwh",
    "surface_kwp",
]
