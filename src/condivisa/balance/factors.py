"""Emission factors as data: ``data/emission_factors.toml`` loaded into typed, immutable records.

Every factor is in t CO2 per MWh of final energy (CO2 only, the Covenant of Mayors standard approach) and
carries its source, table, address, year and whether it was checked against a text (``verified``).

Year rule
---------
A carrier is either *constant* (one figure for every year, e.g. the IPCC fuel defaults) or has a *yearly
series* (grid electricity). For a series, :func:`lookup` returns the figure of the requested year or, when that
year is missing, the figure of the nearest **earlier** year, with a :class:`FactorYearWarning` (and the
returned record says which year it used). A year before the first figure of a series is an error: the series
is never extrapolated backwards. A *parameter* carrier (district heating) has no default and needs an override.
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "CarrierFactors",
    "EmissionFactor",
    "FactorError",
    "FactorTable",
    "FactorYearWarning",
    "custom_factor",
    "factor",
    "load_factors",
    "lookup",
    "parse_factors",
]


class FactorError(ValueError):
    """An emission factor that cannot be given: unknown carrier or technology, year before the series,
    or a parameter carrier without a local figure."""


class FactorYearWarning(UserWarning):
    """The requested year is not in a carrier's series: the nearest earlier year is used."""


@dataclass(frozen=True)
class EmissionFactor:
    """One emission factor with its provenance.

    Attributes
    ----------
    carrier : str
        Carrier code (``electricity``, ``natural_gas``...) or production technology (``pv``...).
    year : int
        Year the figure refers to (for constant factors: the year of the source).
    value : float
        Emission factor [t CO2/MWh].
    source, table, url : str
        Document, table (or section) and address the figure comes from.
    verified : bool
        True when the figure was checked against a text; False marks an approximate or unchecked figure.
    note : str
        What was or was not checked, and caveats.
    constant : bool
        True when the figure applies to every inventory year.
    requested_year : int or None
        The year asked for in :func:`lookup` when it differs from ``year`` (nearest earlier year used).
    """

    carrier: str
    year: int
    value: float
    source: str
    table: str = ""
    url: str = ""
    verified: bool = False
    note: str = ""
    constant: bool = False
    requested_year: int | None = None

    @property
    def fallback(self) -> bool:
        """True when the figure of an earlier year stands in for the requested one."""
        return self.requested_year is not None and self.requested_year != self.year


@dataclass(frozen=True)
class CarrierFactors:
    """All figures of one carrier: a constant, a yearly series, or a parameter with no default."""

    code: str
    label: str
    kind: str
    values: tuple[EmissionFactor, ...]
    parameter: bool = False
    source: str = ""
    note: str = ""

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(v.year for v in self.values)


@dataclass(frozen=True)
class FactorTable:
    """The emission factor table: carriers for consumption, technologies for local electricity production."""

    carriers: Mapping[str, CarrierFactors]
    production: Mapping[str, EmissionFactor]
    meta: Mapping[str, str]

    def lookup(self, carrier: str, year: int) -> EmissionFactor:
        """The factor of ``carrier`` for ``year`` (see the module's year rule)."""
        entry = self.carriers.get(carrier)
        if entry is None:
            raise FactorError(
                f"vettore energetico sconosciuto {carrier!r} (anno {year}): attesi {', '.join(sorted(self.carriers))}"
            )
        if entry.parameter:
            raise FactorError(
                f"{carrier} (anno {year}): nessun fattore predefinito, serve il fattore locale "
                f"[t CO2/MWh] come override ({entry.note or entry.source})"
            )
        if entry.values[0].constant:
            return entry.values[0]
        earlier = [v for v in entry.values if v.year <= year]
        if not earlier:
            raise FactorError(
                f"{carrier}: nessun fattore per l'anno {year}; la serie inizia nel {entry.values[0].year} "
                f"(anni disponibili: {', '.join(str(y) for y in entry.years)})"
            )
        chosen = earlier[-1]
        if chosen.year != year:
            warnings.warn(
                f"{carrier}: fattore {year} non presente, uso quello del {chosen.year} ({chosen.value:.3f} t CO2/MWh)",
                FactorYearWarning,
                stacklevel=3,
            )
            return replace(chosen, requested_year=year)
        return chosen

    def production_factor(self, technology: str) -> EmissionFactor:
        """CO2 factor of local electricity production by ``technology`` [t CO2/MWh produced]."""
        entry = self.production.get(technology)
        if entry is None:
            raise FactorError(
                f"tecnologia di produzione locale sconosciuta {technology!r}: "
                f"attese {', '.join(sorted(self.production))}"
            )
        return entry


def _factor(code: str, raw: Mapping[str, Any], where: str) -> EmissionFactor:
    missing = [k for k in ("year", "value", "source") if k not in raw]
    if missing:
        raise ValueError(f"emission_factors.toml, {where}: mancano {', '.join(missing)}")
    if not str(raw["source"]).strip():
        raise ValueError(f"emission_factors.toml, {where}: source vuoto")
    value = float(raw["value"])
    if value < 0:
        raise ValueError(f"emission_factors.toml, {where}: fattore negativo {value}")
    return EmissionFactor(
        carrier=code,
        year=int(raw["year"]),
        value=value,
        source=str(raw["source"]),
        table=str(raw.get("table", "")),
        url=str(raw.get("url", "")),
        verified=bool(raw.get("verified", False)),
        note=str(raw.get("note", "")),
        constant=bool(raw.get("constant", False)),
    )


def parse_factors(doc: Mapping[str, Any]) -> FactorTable:
    """Build a :class:`FactorTable` from the parsed TOML document (checks order and completeness)."""
    carriers: dict[str, CarrierFactors] = {}
    for code, body in doc.get("carriers", {}).items():
        parameter = bool(body.get("parameter", False))
        values = tuple(_factor(code, v, f"carriers.{code}.values[{i}]") for i, v in enumerate(body.get("values", [])))
        if not parameter and not values:
            raise ValueError(f"emission_factors.toml, carriers.{code}: nessun valore e non e' un parametro")
        years = [v.year for v in values]
        if years != sorted(set(years)):
            raise ValueError(f"emission_factors.toml, carriers.{code}: anni non crescenti o ripetuti {years}")
        if any(v.constant for v in values) and len(values) > 1:
            raise ValueError(f"emission_factors.toml, carriers.{code}: un fattore costante deve essere l'unico")
        carriers[code] = CarrierFactors(
            code=code,
            label=str(body.get("label", code)),
            kind=str(body.get("kind", "")),
            values=values,
            parameter=parameter,
            source=str(body.get("source", "")),
            note=str(body.get("note", "")),
        )
    production = {code: _factor(code, body, f"production.{code}") for code, body in doc.get("production", {}).items()}
    meta = {str(k): str(v) for k, v in doc.get("meta", {}).items()}
    return FactorTable(carriers=carriers, production=production, meta=meta)


@cache
def load_factors() -> FactorTable:
    """The bundled emission factor table (``condivisa/balance/data/emission_factors.toml``)."""
    text = resources.files("condivisa.balance").joinpath("data/emission_factors.toml").read_text(encoding="utf-8")
    return parse_factors(tomllib.loads(text))


def lookup(carrier: str, year: int, table: FactorTable | None = None) -> EmissionFactor:
    """The emission factor record of ``carrier`` for ``year``.

    Parameters
    ----------
    carrier : str
        Carrier code, e.g. ``electricity``, ``natural_gas``, ``diesel``.
    year : int
        Inventory year.
    table : FactorTable, optional
        Default: the bundled table.

    Returns
    -------
    EmissionFactor
        With ``requested_year`` set when an earlier year stands in (a :class:`FactorYearWarning` is emitted).

    Raises
    ------
    FactorError
        Unknown carrier, year before the first figure of a series, or a parameter carrier (district heating).
    """
    return (table or load_factors()).lookup(carrier, year)


def factor(carrier: str, year: int, table: FactorTable | None = None) -> float:
    """The emission factor of ``carrier`` for ``year`` [t CO2/MWh]; see :func:`lookup`."""
    return lookup(carrier, year, table).value


def custom_factor(carrier: str, value: float, source: str, *, year: int, note: str = "") -> EmissionFactor:
    """A local factor given by the user (e.g. the district heating network's own figure) [t CO2/MWh]."""
    if not source.strip():
        raise ValueError(f"{carrier}: un fattore locale deve indicare la sua fonte")
    if value < 0:
        raise ValueError(f"{carrier}: fattore negativo {value} t CO2/MWh")
    return EmissionFactor(
        carrier=carrier, year=year, value=float(value), source=source, verified=False, note=note or "fattore locale"
    )
