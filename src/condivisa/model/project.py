"""Pydantic model of a design project (``condivisa plan PROJECT.yaml``): candidate members with bills or meter
curves, candidate plants with their roofs, an optional battery, economic assumptions, candidate regulations.

Field names are a product interface, like the community file's; extra fields are refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from condivisa.model.community import POD_PATTERN, MemberKind, RegulationRule, Technology

BANDS = ("F1", "F2", "F3", "F23", "total")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _check_bands(value: dict[str, float], where: str) -> dict[str, float]:
    unknown = sorted(set(value) - set(BANDS))
    if unknown:
        raise ValueError(f"{where}: fasce sconosciute {', '.join(unknown)}; ammesse F1, F2, F3, F23, total")
    if "F23" in value and ({"F2", "F3"} & set(value)):
        raise ValueError(f"{where}: F23 non si combina con F2 o F3")
    if "total" in value and len(value) > 1:
        raise ValueError(f"{where}: 'total' esclude le fasce")
    for band, kwh in value.items():
        if kwh < 0:
            raise ValueError(f"{where}, {band}: consumo negativo ({kwh} kWh)")
    return value


class BillSpec(_Strict):
    """Consumption from bills: yearly per band, or monthly per band (months 1..12) [kWh]."""

    yearly: dict[str, float] | None = None
    monthly: dict[int, dict[str, float]] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> BillSpec:
        if (self.yearly is None) == (self.monthly is None):
            raise ValueError("indicare i consumi annuali (yearly) oppure mensili (monthly), non entrambi")
        if self.yearly is not None:
            _check_bands(self.yearly, "consumi annuali")
        if self.monthly is not None:
            for month, bands in self.monthly.items():
                if not 1 <= month <= 12:
                    raise ValueError(f"mese {month} inesistente")
                _check_bands(bands, f"mese {month}")
        return self


class CandidateMemberSpec(_Strict):
    """A member (or candidate member) of the project."""

    id: str = Field(min_length=1)
    name: str = ""
    kind: MemberKind = "household"
    cabina: str = Field(min_length=1)
    region: str | None = None
    building: str | None = None
    pod: str | None = None
    bill: BillSpec | None = None
    profile: str | None = Field(default=None, description="standard profile (H25, G25, L25, P25, S25)")
    candidate: bool = Field(default=False, description="not yet a member: ranked for recruitment")

    @field_validator("pod")
    @classmethod
    def _pod(cls, value: str | None) -> str | None:
        if value is not None and not POD_PATTERN.match(value):
            raise ValueError(f"POD {value!r} non valido: atteso IT + 3 cifre + E + 8 o 9 cifre")
        return value

    @model_validator(mode="after")
    def _source(self) -> CandidateMemberSpec:
        if self.bill is None and self.pod is None:
            raise ValueError("indicare la bolletta (bill) oppure il POD le cui letture sono nel file --readings")
        return self


class PlantSpec(_Strict):
    """A candidate plant: fixed power, or a roof/land to be sized."""

    id: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    cabina: str = Field(min_length=1)
    technology: Technology = "pv"
    power_kw: float | None = Field(default=None, gt=0, le=1000, description="fixed size [kW]; omit to size it")
    max_kw: float | None = Field(default=None, gt=0, description="largest size [kW]")
    roof_area_m2: float | None = Field(default=None, description="usable area [m²]")
    m2_per_kw: float = Field(default=5.5, gt=0, description="area needed per kWp [m²/kW]")
    tilt: float = Field(default=30.0, ge=0, le=90)
    azimuth: float = Field(default=180.0, ge=0, lt=360)
    losses_percent: float = Field(default=14.0, ge=0, lt=100)
    capex_eur_per_kw: float = Field(default=1100.0, ge=0)
    opex_eur_per_kw_year: float = Field(default=18.0, ge=0)
    grant_share: float = Field(default=0.0, ge=0.0, le=0.40)
    commissioning_date: dt.date | None = None

    @model_validator(mode="after")
    def _size(self) -> PlantSpec:
        if self.roof_area_m2 is not None and self.roof_area_m2 <= 0:
            raise ValueError(f"impianto {self.id}: superficie del tetto nulla o negativa ({self.roof_area_m2} m²)")
        if self.power_kw is None and self.max_kw is None and self.roof_area_m2 is None:
            raise ValueError(f"impianto {self.id}: indicare power_kw (taglia fissa) oppure max_kw o roof_area_m2")
        if self.technology != "pv" and self.power_kw is None:
            raise ValueError(f"impianto {self.id}: per la tecnologia {self.technology} indicare power_kw")
        return self

    @property
    def upper_kw(self) -> float:
        """Largest size allowed by power, roof and the 1 MW limit [kW]."""
        limits = [1000.0]
        if self.power_kw is not None:
            return self.power_kw
        if self.max_kw is not None:
            limits.append(self.max_kw)
        if self.roof_area_m2 is not None:
            limits.append(self.roof_area_m2 / self.m2_per_kw)
        return min(limits)


class BatterySpec(_Strict):
    cabina: str
    capex_eur_per_kwh: float = Field(default=450.0, ge=0)
    capex_eur_per_kw: float = Field(default=150.0, ge=0)
    max_kwh: float = Field(default=2000.0, gt=0)
    max_kw: float = Field(default=1000.0, gt=0)


class EconomicsSpec(_Strict):
    discount_rate: float = Field(default=0.04, gt=-1)
    years: int = Field(default=20, ge=1, le=40)
    sale_price_eur_mwh: float | None = Field(default=None, description="default: the zonal price of each hour")
    price_escalation: float = 0.0
    budget_eur: float | None = Field(default=None, ge=0)
    tax_rate: float = Field(default=0.0, ge=0, lt=1)


class LocationSpec(_Strict):
    latitude: float = Field(ge=35, le=48)
    longitude: float = Field(ge=6, le=19)


class CandidateRegulation(_Strict):
    name: str
    rules: list[RegulationRule]

    @model_validator(mode="after")
    def _sum(self) -> CandidateRegulation:
        total = sum(r.share for r in self.rules)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"regolamento {self.name!r}: le quote sommano a {total:.6g}, non a 1")
        return self


class Project(_Strict):
    """A community being designed."""

    name: str = Field(min_length=1)
    configuration: Literal["CER", "AUC", "AID"] = "CER"
    region: str
    year: int = Field(default=2025, ge=2022, le=2035)
    location: LocationSpec | None = None
    online_weather: bool = Field(default=False, description="fetch the site's typical year from PVGIS")
    members: list[CandidateMemberSpec] = Field(min_length=1)
    plants: list[PlantSpec] = Field(min_length=1)
    battery: BatterySpec | None = None
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)
    objective: Literal["npv", "shared"] = "npv"
    regulation: list[RegulationRule] = Field(default_factory=list)
    regulations: list[CandidateRegulation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids(self) -> Project:
        ids = [m.id for m in self.members] + [p.id for p in self.plants]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"id duplicati: {', '.join(dup)}")
        cabine = {m.cabina for m in self.members}
        for p in self.plants:
            if p.cabina not in cabine:
                raise ValueError(f"impianto {p.id}: nessun socio nella cabina {p.cabina}")
        if self.battery is not None and self.battery.cabina not in cabine:
            raise ValueError(f"batteria: nessun socio nella cabina {self.battery.cabina}")
        return self
