"""District energy and water management, ISO 50001 style: storage and services on the pure core.

The maths is in :mod:`condivisa.energy_management` (degree days, regression baselines with ASHRAE 14 checks, IPMVP
savings, review); this module stores districts, sites, meters, readings and relevant variables, and runs the core on
what is stored:

- **consumption** of a boundary (a site, or the whole district) and a carrier per period (day, ISO week, month):
  the sum of its meters, each in kWh (``value × kwh_per_unit``; water stays in m3). A meter linked to a community
  POD reads the POD's withdrawal from the ``readings`` table (the community meters' ingestion: files, MQTT); other
  meters have values per local day (``date,value`` CSV, or the long readings CSV for their POD). A period in which
  a meter of the boundary has no value is missing (NaN) and is left out of fits, never filled;
- **variables**: ``hdd`` (heating degree days, DPR 412/93 base ``districts.hdd_base_c``, default 20 °C) and ``cdd``
  (Eurostat) from the district's temperature variable (daily means [°C]); activity variables summed per period;
- **baselines** fitted by :func:`condivisa.energy_management.fit_baseline` and stored with coefficients, statistics,
  residuals and acceptance; **EnPIs** (measured, ratio, regression), **targets**, **actions**, verified **savings**
  (:func:`condivisa.energy_management.verify_savings`), **management reviews**, the **transition team**;
- **continuous monitoring**: :func:`check_district` recomputes each targeted EnPI for the latest complete period and
  opens (or closes) a district alarm.

Units: energy kWh, water m3, temperature °C, degree days K·day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from condivisa.energy_management import (
    INTERCEPT,
    Action,
    RegressionBaseline,
    SavingsReport,
    check_acceptance,
    cooling_degree_days,
    criteria_for_period,
    degree_days_by_period,
    enpi_ratio,
    enpi_regression,
    fit_baseline,
    heating_degree_days_from_daily,
    management_review,
    significant_energy_uses,
    target_trajectory,
    track_targets,
    verify_savings,
)
from condivisa.energy_management.degree_days import LOCAL_TZ, PERIODS, period_starts
from condivisa.energy_management.review import ACTION_STATUSES, STATUS_OFF_TRACK
from condivisa.errors import InputError, Problem
from condivisa.store.db import session_factory
from condivisa.store.models import CommunityRow, MunicipalityRow, utc_now
from condivisa.store.models_district import (
    CARRIERS,
    DECISION_STATUSES,
    ENPI_KINDS,
    SITE_KINDS,
    UNITS,
    VARIABLE_KINDS,
    DistrictActionRow,
    DistrictAlarmRow,
    DistrictBaselineRow,
    DistrictDecisionRow,
    DistrictEnpiRow,
    DistrictMeterReadingRow,
    DistrictMeterRow,
    DistrictReviewRow,
    DistrictRow,
    DistrictSavingsRow,
    DistrictSiteRow,
    DistrictTargetRow,
    DistrictTeamMemberRow,
    DistrictVariableRow,
    DistrictVariableValueRow,
)
from condivisa.store.repository import NotFoundError, load_readings

DEGREE_DAY_VARIABLES = ("hdd", "cdd")
"""Variables computed from the district's temperature: heating and cooling degree days per period [K·day]."""
DEFAULT_KWH_PER_UNIT = {"kWh": 1.0, "Sm3": 10.69, "m3": 1.0}
"""Default conversion to kWh per meter unit: natural gas 10.69 kWh/Sm3 (PCI 38.5 MJ/Sm3, our rounding of the
usual Italian reference); water stays in m3 (factor unused)."""
UNIT_OF_CARRIER = {"electricity": ("kWh",), "heat": ("kWh",), "gas": ("Sm3", "kWh"), "water": ("m3",)}


# --- small helpers -------------------------------------------------------------------------------------------------


def _clean(v: Any) -> Any:
    """JSON-safe: NaN and infinities become None (PostgreSQL's json refuses NaN)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.floating):
        return _clean(float(v))
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    return v


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _local(days: Sequence[dt.date] | pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(days))).tz_localize(LOCAL_TZ)


def _period_index(start: dt.date, end: dt.date, period: str) -> pd.DatetimeIndex:
    """Local midnights starting each period that begins in ``start..end`` (periods cut by ``start`` included)."""
    if period not in PERIODS:
        raise ValueError(f"periodo {period!r} non valido: attesi {', '.join(PERIODS)}")
    if end < start:
        raise ValueError(f"periodo: fine {end} prima dell'inizio {start}")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D").tz_localize(LOCAL_TZ)
    return pd.DatetimeIndex(period_starts(days, period).unique())


def _group(daily: pd.Series, periods: pd.DatetimeIndex, period: str) -> pd.Series:
    """Sum a daily series (local midnights) into ``periods``; NaN where the period has no value at all."""
    if daily.empty:
        return pd.Series(np.nan, index=periods, dtype=float)
    keys = period_starts(pd.DatetimeIndex(daily.index), period)
    return daily.groupby(keys).sum(min_count=1).reindex(periods).astype(float)


def _get(session: Session, model: Any, ident: int, what: str) -> Any:
    row = session.get(model, ident)
    if row is None:
        raise NotFoundError(f"{what} {ident} non trovato")
    return row


def _check(value: str, allowed: Sequence[str], field: str) -> None:
    if value not in allowed:
        raise InputError.one(f"{value!r} non valido: attesi {', '.join(allowed)}", field=field)


# --- districts, sites, meters, variables ----------------------------------------------------------------------------


def create_district(
    session: Session, municipality_id: int, name: str, *, description: str = "", hdd_base_c: float = 20.0
) -> int:
    """A new district of a municipality (committed); its id. Names are unique within the municipality."""
    name = name.strip()
    if not name:
        raise InputError.one("indicare il nome del distretto", field="name")
    _get(session, MunicipalityRow, municipality_id, "comune")
    taken = session.scalar(
        select(DistrictRow.id).where(DistrictRow.municipality_id == municipality_id, DistrictRow.name == name)
    )
    if taken is not None:
        raise InputError.one(f"esiste già un distretto {name!r} in questo comune", field="name")
    if not -10.0 <= hdd_base_c <= 30.0:
        raise InputError.one(f"temperatura base {hdd_base_c} °C fuori da -10..30", field="hdd_base_c")
    row = DistrictRow(
        municipality_id=municipality_id, name=name[:200], description=description[:2000], hdd_base_c=hdd_base_c
    )
    session.add(row)
    session.commit()
    return row.id


def district_municipality(session: Session, district_id: int) -> tuple[DistrictRow, MunicipalityRow]:
    """The district and its municipality; :class:`NotFoundError` if there is no such district."""
    district: DistrictRow = _get(session, DistrictRow, district_id, "distretto")
    municipality: MunicipalityRow = _get(session, MunicipalityRow, district.municipality_id, "comune")
    return district, municipality


def list_districts(session: Session, municipality_id: int) -> list[DistrictRow]:
    """Districts of a municipality, by name."""
    return list(
        session.scalars(
            select(DistrictRow).where(DistrictRow.municipality_id == municipality_id).order_by(DistrictRow.name)
        )
    )


def add_site(
    session: Session,
    district_id: int,
    code: str,
    name: str,
    kind: str = "building",
    *,
    address: str = "",
    floor_area_m2: float | None = None,
) -> int:
    """A new site of the district (committed); its id."""
    _get(session, DistrictRow, district_id, "distretto")
    code, name = code.strip(), name.strip()
    if not code:
        raise InputError.one("indicare il codice del sito", field="code")
    if not name:
        raise InputError.one("indicare il nome del sito", field="name")
    _check(kind, SITE_KINDS, "kind")
    if floor_area_m2 is not None and not floor_area_m2 > 0:
        raise InputError.one(f"superficie {floor_area_m2} m²: attesa > 0", field="floor_area_m2")
    if session.scalar(
        select(DistrictSiteRow.id).where(DistrictSiteRow.district_id == district_id, DistrictSiteRow.code == code)
    ):
        raise InputError.one(f"esiste già un sito con codice {code!r}", field="code")
    row = DistrictSiteRow(
        district_id=district_id,
        code=code[:50],
        name=name[:200],
        kind=kind,
        address=address[:300],
        floor_area_m2=floor_area_m2,
    )
    session.add(row)
    session.commit()
    return row.id


def add_meter(
    session: Session,
    site_id: int,
    code: str,
    carrier: str,
    unit: str,
    *,
    kwh_per_unit: float | None = None,
    use: str = "",
    community_id: int | None = None,
    pod: str | None = None,
) -> int:
    """A new meter of a site (committed); its id.

    Parameters
    ----------
    carrier : {"electricity", "heat", "gas", "water"}
    unit : {"kWh", "Sm3", "m3"}
        Electricity and heat in kWh, gas in Sm3 or kWh, water in m3.
    kwh_per_unit : float, optional
        Conversion to kWh [kWh/unit]; default :data:`DEFAULT_KWH_PER_UNIT`.
    use : str
        The energy use it measures (heating, lighting, pumping...), for the significant energy uses.
    community_id, pod : optional
        An electricity meter that is a community's POD: its readings come from the ``readings`` table.
    """
    site: DistrictSiteRow = _get(session, DistrictSiteRow, site_id, "sito")
    code = code.strip()
    if not code:
        raise InputError.one("indicare il codice del contatore", field="code")
    _check(carrier, CARRIERS, "carrier")
    _check(unit, UNITS, "unit")
    if unit not in UNIT_OF_CARRIER[carrier]:
        raise InputError.one(
            f"unità {unit} non adatta a {carrier}: attese {', '.join(UNIT_OF_CARRIER[carrier])}", field="unit"
        )
    factor = DEFAULT_KWH_PER_UNIT[unit] if kwh_per_unit is None else float(kwh_per_unit)
    if not factor > 0 or not math.isfinite(factor):
        raise InputError.one(f"fattore di conversione {kwh_per_unit}: atteso > 0 kWh/unità", field="kwh_per_unit")
    pod = (pod or "").strip().upper() or None
    if community_id is not None:
        if carrier != "electricity" or pod is None:
            raise InputError.one("solo un contatore elettrico con POD può leggere dalla comunità", field="pod")
        _get(session, CommunityRow, community_id, "comunità")
    if session.scalar(
        select(DistrictMeterRow.id).where(DistrictMeterRow.site_id == site_id, DistrictMeterRow.code == code)
    ):
        raise InputError.one(f"il sito {site.code} ha già un contatore {code!r}", field="code")
    row = DistrictMeterRow(
        site_id=site_id,
        code=code[:50],
        carrier=carrier,
        unit=unit,
        kwh_per_unit=factor,
        use=use.strip()[:100],
        community_id=community_id,
        pod=pod,
    )
    session.add(row)
    session.commit()
    return row.id


def add_variable(session: Session, district_id: int, name: str, kind: str, unit: str = "") -> int:
    """A relevant variable of the district (committed): ``temperature`` (daily mean °C) or ``activity``."""
    _get(session, DistrictRow, district_id, "distretto")
    name = name.strip()
    _check(kind, VARIABLE_KINDS, "kind")
    if not name or not name.replace("_", "").isalnum():
        raise InputError.one(f"nome {name!r}: usare lettere, cifre e _", field="name")
    if name in (*DEGREE_DAY_VARIABLES, INTERCEPT):
        raise InputError.one(f"{name!r} è un nome riservato", field="name")
    if session.scalar(
        select(DistrictVariableRow.id).where(
            DistrictVariableRow.district_id == district_id, DistrictVariableRow.name == name
        )
    ):
        raise InputError.one(f"esiste già la variabile {name!r}", field="name")
    row = DistrictVariableRow(district_id=district_id, name=name[:50], kind=kind, unit=(unit or "°C")[:30])
    session.add(row)
    session.commit()
    return row.id


def district_meters(session: Session, district_id: int) -> list[tuple[DistrictSiteRow, DistrictMeterRow]]:
    """Every meter of a district with its site, by site code and meter code."""
    rows = session.execute(
        select(DistrictSiteRow, DistrictMeterRow)
        .join(DistrictMeterRow, DistrictMeterRow.site_id == DistrictSiteRow.id)
        .where(DistrictSiteRow.district_id == district_id)
        .order_by(DistrictSiteRow.code, DistrictMeterRow.code)
    )
    return [(r[0], r[1]) for r in rows.all()]


def find_meter(session: Session, district_id: int, code: str) -> DistrictMeterRow:
    """The meter ``code`` of a district (``SITE/METER`` when two sites use the same meter code)."""
    site_code, _, meter_code = code.rpartition("/")
    found = [m for s, m in district_meters(session, district_id) if m.code == meter_code and site_code in ("", s.code)]
    if len(found) != 1:
        what = "non trovato" if not found else "ambiguo: usare SITO/CONTATORE"
        raise NotFoundError(f"contatore {code!r} {what}")
    return found[0]


def find_variable(session: Session, district_id: int, name: str) -> DistrictVariableRow:
    """The variable ``name`` of a district."""
    row = session.scalar(
        select(DistrictVariableRow).where(
            DistrictVariableRow.district_id == district_id, DistrictVariableRow.name == name
        )
    )
    if row is None:
        raise InputError.one(f"variabile {name!r} non trovata nel distretto", field="variables")
    return row


# --- readings and variable values -----------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    text = text.strip()
    if "/" in text:
        d, m, y = text.split("/")
        return dt.date(int(y), int(m), int(d))
    return dt.date.fromisoformat(text[:10])


def parse_date_value_csv(text: str, *, file: str = "valori.csv", allow_negative: bool = False) -> dict[dt.date, float]:
    """Values per local day from ``date,value`` lines (optional header; ``;`` with decimal comma also read).

    Dates ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``; a repeated date, a bad date or number is an error naming the row.
    """
    lines = text.lstrip("\ufeff").splitlines()
    sample = next((ln for ln in lines if ln.strip()), "")
    sep = ";" if sample.count(";") > sample.count(",") else ","
    out: dict[dt.date, float] = {}
    problems: list[Problem] = []
    for n, row in enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            problems.append(Problem("attese due colonne: data e valore", file=file, row=n))
            continue
        first = row[0].strip().lower()
        if n == 1 and first in ("date", "data", "day", "giorno"):
            continue
        try:
            day = _date(row[0])
        except (ValueError, IndexError):
            problems.append(Problem(f"data {row[0].strip()[:30]!r} non valida (AAAA-MM-GG)", file, n, "date"))
            continue
        raw = row[1].strip()
        try:
            value = float(raw.replace(",", ".") if sep == ";" else raw)
        except ValueError:
            problems.append(Problem(f"{raw[:30]!r} non è un numero", file, n, "value"))
            continue
        if not math.isfinite(value) or (value < 0 and not allow_negative):
            problems.append(Problem(f"valore {raw[:30]!r} non ammesso (servono numeri finiti >= 0)", file, n, "value"))
            continue
        if day in out:
            problems.append(Problem(f"data {day.isoformat()} ripetuta", file, n, "date"))
            continue
        out[day] = value
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError.one("nessun valore nel file", file=file)
    return out


def _upsert_days(session: Session, model: Any, key: str, ident: int, values: Mapping[dt.date, float]) -> int:
    days = list(values)
    for chunk in range(0, len(days), 500):
        part = days[chunk : chunk + 500]
        session.execute(delete(model).where(getattr(model, key) == ident, model.day.in_(part)))
    session.add_all(model(**{key: ident}, day=d, value=float(values[d])) for d in days)
    session.commit()
    return len(days)


def import_meter_values(session: Session, meter_id: int, values: Mapping[dt.date, float]) -> int:
    """Store a meter's values per local day [meter unit] (a date already stored is replaced); rows stored."""
    meter: DistrictMeterRow = _get(session, DistrictMeterRow, meter_id, "contatore")
    if meter.community_id is not None:
        raise InputError.one(
            f"il contatore {meter.code} legge il POD {meter.pod} dalla comunità: importare le letture nella comunità",
            field="meter",
        )
    return _upsert_days(session, DistrictMeterReadingRow, "meter_id", meter_id, values)


def import_variable_values(session: Session, variable_id: int, values: Mapping[dt.date, float]) -> int:
    """Store a variable's values per local day (temperature [°C]: daily mean; activity: the period's amount)."""
    _get(session, DistrictVariableRow, variable_id, "variabile")
    return _upsert_days(session, DistrictVariableValueRow, "variable_id", variable_id, values)


def import_long_readings(session: Session, district_id: int, text: str, *, file: str = "letture.csv") -> dict[str, int]:
    """The long readings CSV (``pod,timestamp,withdrawn_kwh,injected_kwh``) into the district's meters with that
    POD (not linked to a community): withdrawal summed per local day [kWh]. Returns days stored per meter code;
    PODs of no meter are an error naming them."""
    from condivisa.ingest import parse_readings_csv

    readings = parse_readings_csv(io.StringIO(text), name=file)
    by_pod = {m.pod: m for _, m in district_meters(session, district_id) if m.pod and m.community_id is None}
    frame = readings.frame
    unknown = sorted(set(frame["pod"]) - set(by_pod))
    if unknown:
        raise InputError.one(f"POD senza contatore nel distretto: {', '.join(unknown[:10])}", file=file, field="pod")
    out: dict[str, int] = {}
    for pod, part in frame.groupby("pod"):
        meter = by_pod[str(pod)]
        local = pd.DatetimeIndex(part["timestamp"]).tz_convert(LOCAL_TZ)
        daily = part["withdrawn_kwh"].groupby(period_starts(local, "day")).sum()
        values = {pd.Timestamp(str(ts)).date(): float(v) / meter.kwh_per_unit for ts, v in daily.items()}
        out[meter.code] = import_meter_values(session, meter.id, values)
    return out


def meter_daily(session: Session, meter: DistrictMeterRow, start: dt.date, end: dt.date) -> pd.Series:
    """A meter's values per local day in ``start..end`` [meter unit], indexed by local midnight; days without a
    value are absent. POD-linked meters sum the POD's withdrawal from the community's ``readings``."""
    if meter.community_id is not None and meter.pod:
        lo = pd.Timestamp(start).tz_localize(LOCAL_TZ)
        hi = pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(LOCAL_TZ)
        frame = load_readings(session, meter.community_id, start=lo, end=hi).frame
        part = frame[frame["pod"] == meter.pod]
        if part.empty:
            return pd.Series([], index=pd.DatetimeIndex([], tz=LOCAL_TZ), dtype=float)
        local = pd.DatetimeIndex(part["timestamp"]).tz_convert(LOCAL_TZ)
        daily = part["withdrawn_kwh"].groupby(period_starts(local, "day")).sum() / meter.kwh_per_unit
        return daily.astype(float)
    rows = session.execute(
        select(DistrictMeterReadingRow.day, DistrictMeterReadingRow.value)
        .where(
            DistrictMeterReadingRow.meter_id == meter.id,
            DistrictMeterReadingRow.day >= start,
            DistrictMeterReadingRow.day <= end,
        )
        .order_by(DistrictMeterReadingRow.day)
    ).all()
    return pd.Series([float(v) for _, v in rows], index=_local([d for d, _ in rows]), dtype=float)


def variable_daily(session: Session, variable_id: int, start: dt.date, end: dt.date) -> pd.Series:
    """A variable's values per local day in ``start..end``, every day present (NaN where missing)."""
    rows = session.execute(
        select(DistrictVariableValueRow.day, DistrictVariableValueRow.value)
        .where(
            DistrictVariableValueRow.variable_id == variable_id,
            DistrictVariableValueRow.day >= start,
            DistrictVariableValueRow.day <= end,
        )
        .order_by(DistrictVariableValueRow.day)
    ).all()
    values = pd.Series([float(v) for _, v in rows], index=_local([d for d, _ in rows]), dtype=float)
    every = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D").tz_localize(LOCAL_TZ)
    return values.reindex(every)


# --- series of a boundary ---------------------------------------------------------------------------------------------


def boundary_meters(
    session: Session, district_id: int, site_id: int | None, carrier: str
) -> list[tuple[DistrictSiteRow, DistrictMeterRow]]:
    """The meters of a boundary: a site (or every site when ``site_id`` is None) and one carrier."""
    return [
        (s, m)
        for s, m in district_meters(session, district_id)
        if m.carrier == carrier and (site_id is None or s.id == site_id)
    ]


def consumption(
    session: Session,
    district_id: int,
    site_id: int | None,
    carrier: str,
    start: dt.date,
    end: dt.date,
    period: str = "month",
) -> pd.Series:
    """Consumption of a boundary per period [kWh; m3 for water]; NaN where a meter of it has no value."""
    periods = _period_index(start, end, period)
    meters = boundary_meters(session, district_id, site_id, carrier)
    if not meters:
        raise InputError.one(f"nessun contatore {carrier} nel perimetro scelto", field="carrier")
    parts = []
    for _, m in meters:
        factor = 1.0 if carrier == "water" else m.kwh_per_unit
        parts.append(_group(meter_daily(session, m, start, end) * factor, periods, period))
    total = pd.concat(parts, axis=1).sum(axis=1, min_count=len(parts))
    total.name = "consumption"
    return total.astype(float)


def drivers(
    session: Session,
    district_id: int,
    variables: Sequence[str],
    start: dt.date,
    end: dt.date,
    period: str = "month",
) -> pd.DataFrame:
    """The relevant variables per period: ``hdd``/``cdd`` from the temperature [K·day], activity sums."""
    district: DistrictRow = _get(session, DistrictRow, district_id, "distretto")
    periods = _period_index(start, end, period)
    out = pd.DataFrame(index=periods)
    temp: pd.Series | None = None
    for name in variables:
        if name in DEGREE_DAY_VARIABLES:
            if temp is None:
                tvar = session.scalar(
                    select(DistrictVariableRow)
                    .where(DistrictVariableRow.district_id == district_id, DistrictVariableRow.kind == "temperature")
                    .order_by(DistrictVariableRow.id)
                )
                if tvar is None:
                    raise InputError.one("serve una variabile di temperatura per i gradi-giorno", field="variables")
                first = min(start, periods[0].date())
                temp = variable_daily(session, tvar.id, first, end)
            if name == "hdd":
                daily = heating_degree_days_from_daily(temp, base=district.hdd_base_c)
            else:
                daily = cooling_degree_days(temp.dropna())
                daily = daily.reindex(temp.index)
            out[name] = degree_days_by_period(daily, period).reindex(periods)
        else:
            var = find_variable(session, district_id, name)
            if var.kind != "activity":
                raise InputError.one(f"{name!r} non è una variabile di attività", field="variables")
            out[name] = _group(variable_daily(session, var.id, start, end).dropna(), periods, period)
    return out.astype(float)


# --- baselines ------------------------------------------------------------------------------------------------------


def _series_json(s: pd.Series) -> dict[str, float | None]:
    return {pd.Timestamp(str(k)).date().isoformat(): _clean(float(v)) for k, v in s.items()}


def _series_from(d: Mapping[str, float | None]) -> pd.Series:
    return pd.Series([_num(v) for v in d.values()], index=_local([dt.date.fromisoformat(k) for k in d]), dtype=float)


def fit_district_baseline(
    session: Session,
    district_id: int,
    *,
    carrier: str,
    start: dt.date,
    end: dt.date,
    variables: Sequence[str] = ("hdd",),
    site_id: int | None = None,
    period: str = "month",
    name: str = "",
) -> int:
    """Fit and store the energy baseline of a boundary over ``start..end`` (committed); its id.

    Raises
    ------
    InputError
        Unknown variable, no meter, too few periods, dependent variables (the core's message).
    """
    _check(carrier, CARRIERS, "carrier")
    _check(period, PERIODS, "period")
    if site_id is not None:
        site: DistrictSiteRow = _get(session, DistrictSiteRow, site_id, "sito")
        if site.district_id != district_id:
            raise NotFoundError(f"sito {site_id} non trovato nel distretto")
    names = [v.strip() for v in variables if v.strip()]
    if len(set(names)) != len(names):
        raise InputError.one("variabili ripetute", field="variables")
    y = consumption(session, district_id, site_id, carrier, start, end, period)
    x = drivers(session, district_id, names, start, end, period)
    try:
        model = fit_baseline(y, x, period=period)
    except ValueError as exc:
        raise InputError.one(str(exc), field="variables") from exc
    check = check_acceptance(model)
    statistics = {
        "n": model.n,
        "n_params": model.n_params,
        "r2": model.r2,
        "adj_r2": model.adj_r2,
        "rmse": model.rmse,
        "cv_rmse_pct": model.cv_rmse_pct,
        "nmbe_pct": model.nmbe_pct,
        "mean_consumption": model.mean_consumption,
        "autocorrelation": model.autocorrelation,
        "std_errors": dict(model.std_errors),
        "t_stats": dict(model.t_stats),
        "p_values": dict(model.p_values),
        "excluded": [pd.Timestamp(t).date().isoformat() for t in model.excluded],
        "fitted": _series_json(model.fitted),
        "residuals": _series_json(model.residuals),
        "unit": "m3" if carrier == "water" else "kWh",
        "criteria": check.criteria.source,
    }
    words = {"electricity": "Elettricità", "heat": "Calore", "gas": "Gas", "water": "Acqua"}
    label = name.strip() or f"{words[carrier]} {start.strftime('%d/%m/%Y')}–{end.strftime('%d/%m/%Y')}"
    row = DistrictBaselineRow(
        district_id=district_id,
        site_id=site_id,
        carrier=carrier,
        name=label[:200],
        period=period,
        start=start,
        end=end,
        variables=list(model.variables),
        coefficients=_clean(dict(model.coefficients)),
        statistics=_clean(statistics),
        accepted=check.passed,
        failures=list(check.failures),
    )
    session.add(row)
    session.commit()
    return row.id


def baseline_model(row: DistrictBaselineRow) -> RegressionBaseline:
    """The stored baseline as the core's :class:`RegressionBaseline` (for prediction and savings)."""
    st = row.statistics
    names = (INTERCEPT, *row.variables)
    return RegressionBaseline(
        variables=tuple(row.variables),
        coefficients={k: _num(row.coefficients[k]) for k in names},
        std_errors={k: _num(st["std_errors"].get(k)) for k in names},
        t_stats={k: _num(st["t_stats"].get(k)) for k in names},
        p_values={k: _num(st["p_values"].get(k)) for k in names},
        n=int(st["n"]),
        n_params=int(st["n_params"]),
        r2=_num(st["r2"]),
        adj_r2=_num(st["adj_r2"]),
        rmse=_num(st["rmse"]),
        cv_rmse_pct=_num(st["cv_rmse_pct"]),
        nmbe_pct=_num(st["nmbe_pct"]),
        mean_consumption=_num(st["mean_consumption"]),
        autocorrelation=_num(st["autocorrelation"]),
        period=row.period,
        fitted=_series_from(st["fitted"]),
        residuals=_series_from(st["residuals"]),
        excluded=tuple(pd.Timestamp(d).tz_localize(LOCAL_TZ) for d in st.get("excluded", [])),
    )


def get_baseline(session: Session, baseline_id: int) -> DistrictBaselineRow:
    """The stored baseline ``baseline_id``."""
    row: DistrictBaselineRow = _get(session, DistrictBaselineRow, baseline_id, "baseline")
    return row


def list_baselines(session: Session, district_id: int) -> list[DistrictBaselineRow]:
    """Baselines of a district, newest first."""
    return list(
        session.scalars(
            select(DistrictBaselineRow)
            .where(DistrictBaselineRow.district_id == district_id)
            .order_by(DistrictBaselineRow.id.desc())
        )
    )


@dataclass(frozen=True)
class BaselineSeries:
    """Actual and expected consumption of a baseline's boundary over a range, per period [kWh or m3]."""

    actual: pd.Series
    expected: pd.Series
    drivers: pd.DataFrame


def baseline_series(session: Session, baseline: DistrictBaselineRow, start: dt.date, end: dt.date) -> BaselineSeries:
    """What the boundary consumed and what the baseline expects in ``start..end``."""
    actual = consumption(session, baseline.district_id, baseline.site_id, baseline.carrier, start, end, baseline.period)
    x = drivers(session, baseline.district_id, baseline.variables, start, end, baseline.period)
    expected = baseline_model(baseline).predict(x if baseline.variables else None, index=actual.index)
    return BaselineSeries(actual, expected.reindex(actual.index), x)


# --- EnPIs and targets ------------------------------------------------------------------------------------------------


def add_enpi(
    session: Session,
    baseline_id: int,
    name: str,
    kind: str = "regression",
    *,
    variable: str | None = None,
    lower_is_better: bool = True,
) -> int:
    """An EnPI on a baseline's boundary (committed): ``measured``, ``ratio`` (per unit of ``variable``) or
    ``regression`` (actual / expected)."""
    baseline = get_baseline(session, baseline_id)
    _check(kind, ENPI_KINDS, "kind")
    if not name.strip():
        raise InputError.one("indicare il nome dell'indicatore", field="name")
    if kind == "ratio":
        if not variable:
            raise InputError.one("un indicatore a rapporto richiede la variabile di attività", field="variable")
        find_variable(session, baseline.district_id, variable)
    row = DistrictEnpiRow(
        baseline_id=baseline_id,
        name=name.strip()[:200],
        kind=kind,
        variable=variable if kind == "ratio" else None,
        lower_is_better=lower_is_better,
    )
    session.add(row)
    session.commit()
    return row.id


def enpi_values(session: Session, enpi: DistrictEnpiRow, start: dt.date, end: dt.date) -> pd.Series:
    """The EnPI per period in ``start..end`` (kWh, kWh/unit, or actual/expected)."""
    baseline = get_baseline(session, enpi.baseline_id)
    if enpi.kind == "regression":
        s = baseline_series(session, baseline, start, end)
        return enpi_regression(s.actual, s.expected)
    actual = consumption(session, baseline.district_id, baseline.site_id, baseline.carrier, start, end, baseline.period)
    if enpi.kind == "measured":
        return actual
    activity = drivers(session, baseline.district_id, [str(enpi.variable)], start, end, baseline.period)
    return enpi_ratio(actual, activity[str(enpi.variable)].where(activity[str(enpi.variable)] > 0))


def add_target(
    session: Session,
    enpi_id: int,
    *,
    start: dt.date,
    due: dt.date,
    target_value: float,
    baseline_value: float | None = None,
    tolerance: float = 0.0,
    description: str = "",
) -> int:
    """A target on an EnPI (committed)."""
    _get(session, DistrictEnpiRow, enpi_id, "indicatore")
    if due <= start:
        raise InputError.one(f"scadenza {due} non dopo l'inizio {start}", field="due")
    if tolerance < 0 or not math.isfinite(target_value):
        raise InputError.one("tolleranza >= 0 e obiettivo numerico richiesti", field="target_value")
    row = DistrictTargetRow(
        enpi_id=enpi_id,
        start=start,
        due=due,
        target_value=float(target_value),
        baseline_value=baseline_value,
        tolerance=tolerance,
        description=description[:500],
    )
    session.add(row)
    session.commit()
    return row.id


def target_series(target: DistrictTargetRow, index: pd.DatetimeIndex, period: str) -> pd.Series:
    """The target per period of ``index``: the straight path from ``baseline_value`` to ``target_value`` over the
    periods from ``start`` to ``due`` (then flat), or ``target_value`` throughout."""
    if target.baseline_value is None:
        return pd.Series(target.target_value, index=index, dtype=float, name="target")
    path_index = _period_index(target.start, target.due, period)
    path = target_trajectory(target.baseline_value, target.target_value, path_index)
    out = path.reindex(index)
    out[index > path_index[-1]] = target.target_value
    out[index < path_index[0]] = target.baseline_value
    return out.astype(float)


def enpi_tracking(
    session: Session, enpi: DistrictEnpiRow, target: DistrictTargetRow, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """EnPI against target per period (:func:`condivisa.energy_management.track_targets`)."""
    baseline = get_baseline(session, enpi.baseline_id)
    values = enpi_values(session, enpi, start, end)
    tgt = target_series(target, pd.DatetimeIndex(values.index), baseline.period)
    return track_targets(values, tgt, lower_is_better=enpi.lower_is_better, tolerance=target.tolerance)


def enpis_of(session: Session, district_id: int) -> list[tuple[DistrictEnpiRow, list[DistrictTargetRow]]]:
    """The EnPIs of a district with their targets."""
    enpis = session.scalars(
        select(DistrictEnpiRow)
        .join(DistrictBaselineRow, DistrictBaselineRow.id == DistrictEnpiRow.baseline_id)
        .where(DistrictBaselineRow.district_id == district_id)
        .order_by(DistrictEnpiRow.id)
    ).all()
    out = []
    for e in enpis:
        targets = list(
            session.scalars(
                select(DistrictTargetRow).where(DistrictTargetRow.enpi_id == e.id).order_by(DistrictTargetRow.id)
            )
        )
        out.append((e, targets))
    return out


# --- actions, savings -------------------------------------------------------------------------------------------------


def add_action(
    session: Session,
    district_id: int,
    code: str,
    title: str,
    *,
    status: str = "planned",
    due: dt.date | None = None,
    significant_use: str | None = None,
    responsible: str | None = None,
    expected_savings_kwh: float | None = None,
    site_id: int | None = None,
) -> int:
    """An action of the district's plan (committed)."""
    _get(session, DistrictRow, district_id, "distretto")
    code, title = code.strip(), title.strip()
    if not code or not title:
        raise InputError.one("indicare codice e titolo dell'azione", field="code" if not code else "title")
    _check(status, ACTION_STATUSES, "status")
    if expected_savings_kwh is not None and (not math.isfinite(expected_savings_kwh) or expected_savings_kwh < 0):
        raise InputError.one("risparmio atteso: numero >= 0 kWh/anno", field="expected_savings_kwh")
    if session.scalar(
        select(DistrictActionRow.id).where(DistrictActionRow.district_id == district_id, DistrictActionRow.code == code)
    ):
        raise InputError.one(f"esiste già un'azione {code!r}", field="code")
    row = DistrictActionRow(
        district_id=district_id,
        code=code[:50],
        title=title[:300],
        status=status,
        due=due,
        significant_use=(significant_use or None),
        responsible=(responsible or None),
        expected_savings_kwh=expected_savings_kwh,
        site_id=site_id,
    )
    session.add(row)
    session.commit()
    return row.id


def set_action_status(session: Session, action_id: int, status: str) -> None:
    """Change an action's status (committed)."""
    row: DistrictActionRow = _get(session, DistrictActionRow, action_id, "azione")
    _check(status, ACTION_STATUSES, "status")
    row.status = status
    session.commit()


def list_actions(session: Session, district_id: int) -> list[DistrictActionRow]:
    """The district's actions, by code."""
    return list(
        session.scalars(
            select(DistrictActionRow)
            .where(DistrictActionRow.district_id == district_id)
            .order_by(DistrictActionRow.code)
        )
    )


def savings_report(
    session: Session,
    baseline: DistrictBaselineRow,
    start: dt.date,
    end: dt.date,
    *,
    confidence: float = 0.90,
    non_routine: Mapping[dt.date, float] | None = None,
) -> SavingsReport:
    """Avoided energy of the boundary over ``start..end`` against the baseline, with uncertainty (not stored)."""
    if start <= baseline.end:
        raise InputError.one(
            f"il periodo di rendicontazione deve seguire la baseline (che finisce il {baseline.end})", field="start"
        )
    s = baseline_series(session, baseline, start, end)
    nra = None
    if non_routine:
        nra = pd.Series({pd.Timestamp(d).tz_localize(LOCAL_TZ): float(v) for d, v in non_routine.items()})
    try:
        return verify_savings(
            baseline_model(baseline),
            s.actual,
            s.drivers if baseline.variables else None,
            non_routine_adjustments=nra,
            confidence=confidence,
        )
    except ValueError as exc:
        raise InputError.one(str(exc), field="start") from exc


def verify_district_savings(
    session: Session,
    baseline_id: int,
    start: dt.date,
    end: dt.date,
    *,
    confidence: float = 0.90,
    action_id: int | None = None,
    non_routine: Mapping[dt.date, float] | None = None,
) -> int:
    """Verify and store the savings of a reporting period (committed); its id. With ``action_id`` the action's
    verified savings become the avoided energy [kWh]."""
    baseline = get_baseline(session, baseline_id)
    if not 0.5 <= confidence < 1.0:
        raise InputError.one(f"confidenza {confidence}: attesa tra 0,5 e 1", field="confidence")
    report = savings_report(session, baseline, start, end, confidence=confidence, non_routine=non_routine)
    periods = [
        {"period": pd.Timestamp(str(k)).date().isoformat(), **{c: _clean(float(v)) for c, v in r.items()}}
        for k, r in report.periods.iterrows()
    ]
    row = DistrictSavingsRow(
        baseline_id=baseline_id,
        action_id=action_id,
        start=start,
        end=end,
        confidence=confidence,
        adjusted_baseline_kwh=report.adjusted_baseline_kwh,
        actual_kwh=report.actual_kwh,
        non_routine_kwh=report.non_routine_kwh,
        avoided_kwh=report.avoided_energy_kwh,
        savings_fraction=_clean(report.savings_fraction),
        uncertainty_kwh=report.uncertainty.absolute_kwh,
        fsu_68=_clean(report.fsu_68),
        meets_ashrae14=report.meets_ashrae14,
        periods=periods,
    )
    session.add(row)
    if action_id is not None:
        action: DistrictActionRow = _get(session, DistrictActionRow, action_id, "azione")
        if action.district_id != baseline.district_id:
            raise NotFoundError(f"azione {action_id} non trovata nel distretto")
        action.verified_savings_kwh = report.avoided_energy_kwh
    session.commit()
    return row.id


def list_savings(session: Session, district_id: int) -> list[DistrictSavingsRow]:
    """Stored verified savings of a district, newest first."""
    return list(
        session.scalars(
            select(DistrictSavingsRow)
            .join(DistrictBaselineRow, DistrictBaselineRow.id == DistrictSavingsRow.baseline_id)
            .where(DistrictBaselineRow.district_id == district_id)
            .order_by(DistrictSavingsRow.id.desc())
        )
    )


# --- energy review, management review ------------------------------------------------------------------------------


def energy_by_use(session: Session, district_id: int, start: dt.date, end: dt.date) -> dict[str, float]:
    """Energy per use over ``start..end`` [kWh] (water left out): a meter's ``use``, else its carrier."""
    out: dict[str, float] = {}
    for _, m in district_meters(session, district_id):
        if m.carrier == "water":
            continue
        kwh = float(meter_daily(session, m, start, end).sum()) * m.kwh_per_unit
        key = m.use or m.carrier
        out[key] = out.get(key, 0.0) + kwh
    return out


def run_review(
    session: Session,
    district_id: int,
    *,
    baseline_id: int | None,
    start: dt.date,
    end: dt.date,
    review_date: dt.date,
    decisions: str = "",
) -> int:
    """Assemble and store a management review of ``start..end`` (committed); its id.

    With a baseline: regression EnPI, the first target of its regression EnPI, verified savings when the period
    follows the baseline, its acceptance; always: actions, significant energy uses of the district.
    """
    _get(session, DistrictRow, district_id, "distretto")
    if end < start:
        raise InputError.one(f"fine {end} prima dell'inizio {start}", field="end")
    enpi = pd.Series([], dtype=float)
    targets = None
    savings = None
    acceptance = None
    if baseline_id is not None:
        baseline = get_baseline(session, baseline_id)
        if baseline.district_id != district_id:
            raise NotFoundError(f"baseline {baseline_id} non trovata nel distretto")
        s = baseline_series(session, baseline, start, end)
        enpi = enpi_regression(s.actual, s.expected)
        acceptance = check_acceptance(baseline_model(baseline), criteria_for_period(baseline.period))
        for e, tlist in enpis_of(session, district_id):
            if e.baseline_id == baseline_id and e.kind == "regression" and tlist:
                tgt = target_series(tlist[0], pd.DatetimeIndex(enpi.index), baseline.period)
                targets = track_targets(enpi, tgt, lower_is_better=e.lower_is_better, tolerance=tlist[0].tolerance)
                break
        if start > baseline.end and s.actual.notna().any():
            savings = savings_report(session, baseline, start, end)
    actions = [
        Action(
            id=a.code,
            title=a.title,
            status=a.status,
            due=a.due,
            significant_use=a.significant_use,
            responsible=a.responsible,
            expected_savings_kwh=a.expected_savings_kwh,
            verified_savings_kwh=a.verified_savings_kwh,
        )
        for a in list_actions(session, district_id)
    ]
    uses = energy_by_use(session, district_id, start, end)
    seu = significant_energy_uses(uses) if uses and sum(uses.values()) > 0 else None
    review = management_review(
        period_start=start,
        period_end=end,
        enpi=enpi,
        targets=targets,
        savings=savings,
        actions=actions,
        significant_uses=seu,
        baseline_acceptance=acceptance,
    )
    row = DistrictReviewRow(
        district_id=district_id,
        baseline_id=baseline_id,
        review_date=review_date,
        period_start=start,
        period_end=end,
        summary=_clean(review.to_dict()),
        decisions=decisions.strip(),
    )
    session.add(row)
    session.commit()
    return row.id


def list_reviews(session: Session, district_id: int) -> list[DistrictReviewRow]:
    """Management reviews of a district, newest first."""
    return list(
        session.scalars(
            select(DistrictReviewRow)
            .where(DistrictReviewRow.district_id == district_id)
            .order_by(DistrictReviewRow.review_date.desc(), DistrictReviewRow.id.desc())
        )
    )


# --- transition team -----------------------------------------------------------------------------------------


def add_team_member(session: Session, district_id: int, name: str, role: str, organisation: str = "") -> int:
    """A member of the district transition team (committed)."""
    _get(session, DistrictRow, district_id, "distretto")
    if not name.strip():
        raise InputError.one("indicare il nome", field="name")
    if not role.strip():
        raise InputError.one("indicare il ruolo", field="role")
    row = DistrictTeamMemberRow(
        district_id=district_id, name=name.strip()[:200], role=role.strip()[:100], organisation=organisation[:200]
    )
    session.add(row)
    session.commit()
    return row.id


def add_decision(
    session: Session,
    district_id: int,
    *,
    decided_on: dt.date,
    title: str,
    owner: str = "",
    status: str = "open",
    due: dt.date | None = None,
) -> int:
    """A decision of the transition team (committed)."""
    _get(session, DistrictRow, district_id, "distretto")
    if not title.strip():
        raise InputError.one("indicare la decisione", field="title")
    _check(status, DECISION_STATUSES, "status")
    row = DistrictDecisionRow(
        district_id=district_id,
        decided_on=decided_on,
        title=title.strip()[:300],
        owner=owner[:200],
        status=status,
        due=due,
    )
    session.add(row)
    session.commit()
    return row.id


def set_decision_status(session: Session, decision_id: int, status: str) -> None:
    """Change a decision's status (committed)."""
    row: DistrictDecisionRow = _get(session, DistrictDecisionRow, decision_id, "decisione")
    _check(status, DECISION_STATUSES, "status")
    row.status = status
    session.commit()


def team_of(session: Session, district_id: int) -> tuple[list[DistrictTeamMemberRow], list[DistrictDecisionRow]]:
    """The team's members and decisions (newest first)."""
    members = list(
        session.scalars(
            select(DistrictTeamMemberRow)
            .where(DistrictTeamMemberRow.district_id == district_id)
            .order_by(DistrictTeamMemberRow.id)
        )
    )
    decisions = list(
        session.scalars(
            select(DistrictDecisionRow)
            .where(DistrictDecisionRow.district_id == district_id)
            .order_by(DistrictDecisionRow.decided_on.desc(), DistrictDecisionRow.id.desc())
        )
    )
    return members, decisions


# --- continuous monitoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnpiCheck:
    """Outcome of :func:`check_district` for one targeted EnPI."""

    enpi_id: int
    name: str
    period: dt.date | None
    enpi: float | None
    target: float | None
    status: str
    alarm_id: int | None


def _last_complete_day(today: dt.date, period: str) -> dt.date:
    start = period_starts(pd.DatetimeIndex([pd.Timestamp(today)]).tz_localize(LOCAL_TZ), period)[0]
    return (start - pd.Timedelta(days=1)).date()


def check_district(engine: Engine, district_id: int, today: dt.date) -> list[EnpiCheck]:
    """Recompute each targeted EnPI for the latest complete period with data before ``today``; open an alarm
    (``district_alarms``) when it is off its target, close the EnPI's open alarms when it is back on track."""
    out: list[EnpiCheck] = []
    with session_factory(engine)() as session:
        _get(session, DistrictRow, district_id, "distretto")
        for enpi, targets in enpis_of(session, district_id):
            if not targets:
                continue
            target = targets[-1]
            baseline = get_baseline(session, enpi.baseline_id)
            last = _last_complete_day(today, baseline.period)
            if last < target.start:
                out.append(EnpiCheck(enpi.id, enpi.name, None, None, None, "no_data", None))
                continue
            table = enpi_tracking(session, enpi, target, target.start, last).dropna(subset=["enpi"])
            if table.empty:
                out.append(EnpiCheck(enpi.id, enpi.name, None, None, None, "no_data", None))
                continue
            key = table.index[-1]
            r = table.iloc[-1]
            period = pd.Timestamp(key).date()
            status = str(r["status"])
            alarm_id = None
            opened = list(
                session.scalars(
                    select(DistrictAlarmRow).where(
                        DistrictAlarmRow.enpi_id == enpi.id, DistrictAlarmRow.status == "open"
                    )
                )
            )
            if status == STATUS_OFF_TRACK:
                alarm = session.scalar(
                    select(DistrictAlarmRow).where(
                        DistrictAlarmRow.district_id == district_id,
                        DistrictAlarmRow.enpi_id == enpi.id,
                        DistrictAlarmRow.period == period,
                    )
                )
                message = (
                    f"{enpi.name}: {float(r['enpi']):.3f} nel periodo dal {period.isoformat()}, "
                    f"oltre l'obiettivo {float(r['target']):.3f}"
                )
                if alarm is None:
                    alarm = DistrictAlarmRow(district_id=district_id, enpi_id=enpi.id, period=period, message=message)
                    session.add(alarm)
                alarm.message = message
                alarm.details = _clean({"enpi": float(r["enpi"]), "target": float(r["target"]), "gap": float(r["gap"])})
                alarm.status = "open"
                alarm.last_seen = utc_now()
                session.flush()
                alarm_id = alarm.id
                for other in opened:
                    if other.id != alarm.id:
                        other.status = "closed"
            else:
                for other in opened:
                    other.status = "closed"
            session.commit()
            out.append(
                EnpiCheck(enpi.id, enpi.name, period, float(r["enpi"]), _clean(float(r["target"])), status, alarm_id)
            )
    return out


def list_alarms(session: Session, district_id: int, *, open_only: bool = False) -> list[DistrictAlarmRow]:
    """Alarms of a district, newest first."""
    q = select(DistrictAlarmRow).where(DistrictAlarmRow.district_id == district_id)
    if open_only:
        q = q.where(DistrictAlarmRow.status == "open")
    return list(session.scalars(q.order_by(DistrictAlarmRow.period.desc(), DistrictAlarmRow.id.desc())))


def list_sites(session: Session, district_id: int) -> list[DistrictSiteRow]:
    """Sites of a district, by code."""
    return list(
        session.scalars(
            select(DistrictSiteRow).where(DistrictSiteRow.district_id == district_id).order_by(DistrictSiteRow.code)
        )
    )


def list_variables(session: Session, district_id: int) -> list[DistrictVariableRow]:
    """Relevant variables of a district, by name."""
    return list(
        session.scalars(
            select(DistrictVariableRow)
            .where(DistrictVariableRow.district_id == district_id)
            .order_by(DistrictVariableRow.name)
        )
    )
