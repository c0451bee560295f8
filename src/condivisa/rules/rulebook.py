"""Load the rulebook (``rules/data/*.toml``) into typed, immutable objects.

The rulebook is data, not code: every figure lives in a TOML file beside this module with the text it comes
from. Yearly figures (CU_Af, loss factors, the fallback monthly prices) live in ``data/years/YYYY.toml``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

ZONES = ("NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD")


@dataclass(frozen=True)
class PowerClass:
    """A TIP power class: plants with ``power <= max_power_kw`` (and above the previous class)."""

    max_power_kw: float
    base_eur_mwh: float
    cap_eur_mwh: float
    text: str


@dataclass(frozen=True)
class YearParameters:
    """Figures that change every year.

    Attributes
    ----------
    year : int
    cu_af_eur_mwh : float
        Unit valorisation of shared energy, TRAS_E (+ max BTAU where included) [€/MWh].
    auc_loss_lv, auc_loss_mv : float
        Avoided-loss coefficients c_PR for AUC points in low and medium voltage [unitless].
    monthly_price_eur_mwh : tuple of 12 float
        Fallback monthly price, January..December [€/MWh].
    sources : dict
        The text each figure comes from, by figure name.
    """

    year: int
    cu_af_eur_mwh: float
    auc_loss_lv: float
    auc_loss_mv: float
    monthly_price_eur_mwh: tuple[float, ...]
    monthly_price_series: str
    cu_af_provisional: bool = False
    monthly_price_provisional: bool = False
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigurationType:
    """What a configuration type (CER, AUC, AID) shares and within which perimeter."""

    code: str
    name: str
    incentive_perimeter: str
    membership_perimeter: str
    avoided_losses: bool
    text: str


@dataclass(frozen=True)
class Rulebook:
    """The whole rulebook: TIP, zones, bands, configuration types and yearly parameters."""

    price_reference_eur_mwh: float
    classes: tuple[PowerClass, ...]
    fc_technologies: frozenset[str]
    fc_eur_mwh: dict[str, float]
    max_grant_share: float
    reduction_at_max_grant: float
    exempt_member_kinds: frozenset[str]
    exempt_priority_to_grant_plants: bool
    excess_threshold_tip_only: float
    excess_threshold_with_grant: float
    max_plant_power_kw: float
    min_commissioning_date: dt.date
    region_zone: dict[str, str]
    region_aliases: dict[str, str]
    bands: dict[str, dict[int, str]]
    configurations: dict[str, ConfigurationType]
    years: dict[int, YearParameters]
    sources: dict[str, str]

    def year(self, year: int) -> tuple[YearParameters, bool]:
        """Parameters for ``year``; falls back to the nearest year on file.

        Returns
        -------
        params : YearParameters
        exact : bool
            False when another year's figures were used.
        """
        if year in self.years:
            return self.years[year], True
        known = sorted(self.years)
        earlier = [y for y in known if y <= year]
        pick = earlier[-1] if earlier else known[0]
        return self.years[pick], False


def _read_toml(name: str) -> dict[str, Any]:
    ref = resources.files("condivisa.rules") / "data" / name
    with ref.open("rb") as fh:
        return tomllib.load(fh)


def _year_files() -> list[str]:
    folder = resources.files("condivisa.rules") / "data" / "years"
    return sorted(f"years/{p.name}" for p in folder.iterdir() if p.name.endswith(".toml"))


def _parse_year(doc: dict[str, Any]) -> YearParameters:
    cu = doc["cu_af"]
    cu_af = float(cu["tras_e_eur_mwh"]) + (float(cu["btau_max_eur_mwh"]) if cu.get("include_btau") else 0.0)
    prices = tuple(float(x) for x in doc["monthly_price"]["eur_mwh"])
    if len(prices) != 12:
        raise ValueError(f"rulebook year {doc['year']}: monthly_price.eur_mwh needs 12 values, got {len(prices)}")
    return YearParameters(
        year=int(doc["year"]),
        cu_af_eur_mwh=round(cu_af, 6),
        auc_loss_lv=float(doc["auc_losses"]["lv"]),
        auc_loss_mv=float(doc["auc_losses"]["mv"]),
        monthly_price_eur_mwh=prices,
        monthly_price_series=str(doc["monthly_price"].get("series", "PUN")),
        cu_af_provisional=bool(cu.get("provisional", False)),
        monthly_price_provisional=bool(doc["monthly_price"].get("provisional", False)),
        sources={
            "cu_af": str(cu["text"]),
            "auc_losses": str(doc["auc_losses"]["text"]),
            "monthly_price": str(doc["monthly_price"]["text"]),
        },
    )


@cache
def load_rulebook() -> Rulebook:
    """Read the rulebook shipped with the package (cached)."""
    tip = _read_toml("tip.toml")
    zones = _read_toml("zones.toml")
    bands_doc = _read_toml("bands.toml")
    conf = _read_toml("configurations.toml")

    classes = tuple(
        PowerClass(float(c["max_power_kw"]), float(c["base_eur_mwh"]), float(c["cap_eur_mwh"]), str(c["text"]))
        for c in tip["classes"]
    )
    bands: dict[str, dict[int, str]] = {}
    for day_type in ("weekday", "saturday", "sunday_or_holiday"):
        table = {h: band for band, hours in bands_doc[day_type].items() for h in hours}
        if sorted(table) != list(range(24)):
            raise ValueError(f"bands.toml: {day_type} must give a band to each hour 0..23")
        bands[day_type] = table
    gr = tip["grant_reduction"]
    years = {}
    for name in _year_files():
        params = _parse_year(_read_toml(name))
        years[params.year] = params
    return Rulebook(
        price_reference_eur_mwh=float(tip["price_term"]["reference_eur_mwh"]),
        classes=classes,
        fc_technologies=frozenset(tip["geographic_correction"]["technologies"]),
        fc_eur_mwh={k: float(v) for k, v in tip["geographic_correction"]["eur_mwh"].items()},
        max_grant_share=float(gr["max_grant_share"]),
        reduction_at_max_grant=float(gr["reduction_at_max_grant"]),
        exempt_member_kinds=frozenset(gr["exempt_member_kinds"]),
        exempt_priority_to_grant_plants=bool(gr.get("exempt_priority_to_grant_plants", False)),
        excess_threshold_tip_only=float(tip["excess"]["threshold_tip_only"]),
        excess_threshold_with_grant=float(tip["excess"]["threshold_with_grant"]),
        max_plant_power_kw=float(tip["eligibility"]["max_plant_power_kw"]),
        min_commissioning_date=tip["eligibility"]["min_commissioning_date"],
        region_zone=dict(zones["regions"]),
        region_aliases=dict(zones["aliases"]),
        bands=bands,
        configurations={
            code: ConfigurationType(
                code=code,
                name=str(d["name"]),
                incentive_perimeter=str(d["incentive_perimeter"]),
                membership_perimeter=str(d["membership_perimeter"]),
                avoided_losses=bool(d["avoided_losses"]),
                text=str(d["text"]),
            )
            for code, d in conf.items()
        },
        years=years,
        sources={
            "tip": str(tip["source"]["text"]),
            "price_term": str(tip["price_term"]["text"]),
            "geographic_correction": str(tip["geographic_correction"]["text"]),
            "grant_reduction": str(gr["text"]),
            "grant_exemption": str(gr["exempt_text"]),
            "excess": str(tip["excess"]["text"]),
            "eligibility": str(tip["eligibility"]["text"]),
            "zones": str(zones["source"]["text"]),
            "bands": str(bands_doc["source"]["text"]),
            "holidays": str(bands_doc["holidays"]["text"]),
        },
    )


def _fold(name: str) -> str:
    return " ".join(name.replace("’", "'").replace("-", " ").lower().split())


def canonical_region(name: str, rulebook: Rulebook | None = None) -> str | None:
    """Return the rulebook's spelling of an Italian region, or None if unknown.

    Matching ignores case, hyphens and repeated spaces, and knows common aliases ("Emilia Romagna", "Trentino").
    """
    rb = rulebook or load_rulebook()
    folded = _fold(name)
    for region in rb.region_zone:
        if _fold(region) == folded:
            return region
    for alias, region in rb.region_aliases.items():
        if _fold(alias) == folded:
            return region
    return None


def zone_of_region(name: str, rulebook: Rulebook | None = None) -> str:
    """Market zone (NORD, CNOR, ...) of an Italian region.

    Raises
    ------
    ValueError
        If the region is unknown; the message lists the known regions.
    """
    rb = rulebook or load_rulebook()
    region = canonical_region(name, rb)
    if region is None:
        raise ValueError(f"regione sconosciuta {name!r}; regioni ammesse: {', '.join(sorted(rb.region_zone))}")
    return rb.region_zone[region]
