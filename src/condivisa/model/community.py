"""Pydantic model of a community description.

The field names are a product interface: files written by users and by other tools use them. Extra fields are
refused (a typo is an error, not a silently ignored key), except under ``parameters`` keys the rulebook knows.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POD_PATTERN = re.compile(r"^IT\d{3}E\d{8,9}$")
"""Electricity POD: ``IT`` + 3-digit distributor code + ``E`` + 8 or 9 digits."""

MemberKind = Literal[
    "household",
    "business",
    "municipality",
    "local_authority",
    "public_body",
    "third_sector",
    "religious",
    "environmental",
    "university",
    "other",
]
MEMBER_KINDS: tuple[str, ...] = get_args(MemberKind)
"""Kinds of member. Which of them are exempt from the grant reduction is rulebook data, not code."""

Technology = Literal["pv", "wind", "hydro", "biomass", "biogas", "geothermal", "other"]
TECHNOLOGIES: tuple[str, ...] = get_args(Technology)

REGULATION_BASES = {
    "producers": ("incentivised_injection", "injected", "equal"),
    "consumers": ("shared_withdrawal", "withdrawn", "equal"),
}

PARAMETER_KEYS = {
    "cu_af_eur_mwh": "unit valorisation of incentivised shared energy [€/MWh]",
    "auc_loss_lv": "avoided-loss coefficient for low-voltage AUC points [unitless]",
    "auc_loss_mv": "avoided-loss coefficient for medium-voltage AUC points [unitless]",
    "sharing_target": "target share of production that is shared, for the monitoring alarm [fraction, 0-1]",
    "latitude": "latitude of the plants, for forecasts and expected production [degrees north]",
    "longitude": "longitude of the plants, for forecasts and expected production [degrees east]",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _check_iban(value: str | None) -> str | None:
    """An IBAN in electronic form (no spaces, upper case), checked by country length and check digits."""
    if value is None:
        return None
    from schwifty import IBAN  # imported here: loading its bank registry costs time at start-up

    try:
        return str(IBAN(value).compact)
    except ValueError as exc:
        raise ValueError(f"IBAN non valido {value!r}: {exc}") from None


def _check_pod(value: str) -> str:
    if not POD_PATTERN.match(value):
        raise ValueError(f"POD {value!r} non valido: atteso IT + 3 cifre + E + 8 o 9 cifre (es. IT001E12345678)")
    return value


class Point(_Strict):
    """A withdrawal point (POD) of a member."""

    pod: str
    cabina: str = Field(min_length=1, description="code of the cabina primaria (primary substation area)")
    voltage: Literal["LV", "MV", "HV"] = "LV"
    building: str | None = Field(default=None, description="building or condominium id (required for AUC)")

    _pod = field_validator("pod")(_check_pod)


class Member(_Strict):
    """A member (or, for AID, the one customer) of the configuration."""

    id: str = Field(min_length=1)
    name: str = ""
    kind: MemberKind = "household"
    region: str | None = Field(default=None, description="region of the member's points, if not the community's")
    pods: list[Point] = Field(default_factory=list)
    email: str | None = Field(default=None, max_length=320, description="for statements and notices")
    iban: str | None = Field(default=None, description="account for payouts (SEPA credit transfer)")

    _iban = field_validator("iban")(_check_iban)

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or " " in value:
            raise ValueError(f"indirizzo email non valido: {value!r}")
        return value


class Plant(_Strict):
    """A renewable plant in the configuration's availability."""

    id: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="a member id, or the name of a third party")
    pod: str
    cabina: str = Field(min_length=1)
    technology: Technology = "pv"
    power_kw: float = Field(gt=0, description="nominal power of this single plant [kW]")
    commissioning_date: dt.date
    grant_share: float = Field(default=0.0, ge=0.0, le=0.40, description="capital grant / eligible cost")
    tip_share: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of the plant that earns the TIP (0 for power built for building-code obligations)",
    )
    region: str | None = None
    building: str | None = None

    _pod = field_validator("pod")(_check_pod)


class RegulationRule(_Strict):
    """One line of the community's benefit-sharing regulation.

    ``to`` is ``fund:NAME``, ``producers``, ``consumers`` or a member id (a fixed share to that member).
    ``by`` is the basis for ``producers`` (incentivised_injection, injected, equal) or ``consumers``
    (shared_withdrawal, withdrawn, equal).
    """

    to: str = Field(min_length=1)
    share: float = Field(ge=0.0, le=1.0)
    by: str | None = None

    @model_validator(mode="after")
    def _check_basis(self) -> RegulationRule:
        if self.to in REGULATION_BASES:
            allowed = REGULATION_BASES[self.to]
            if self.by is None:
                raise ValueError(f"la regola per {self.to!r} deve indicare 'by' tra: {', '.join(allowed)}")
            if self.by not in allowed:
                raise ValueError(f"base {self.by!r} non ammessa per {self.to!r}; ammesse: {', '.join(allowed)}")
        elif self.by is not None:
            raise ValueError(f"'by' vale solo per producers e consumers, non per {self.to!r}")
        if self.to.startswith("fund:") and len(self.to) == len("fund:"):
            raise ValueError("un fondo va indicato come fund:NOME")
        return self


class Community(_Strict):
    """A configuration for sharing energy (CER, AUC or AID)."""

    name: str = Field(min_length=1)
    configuration: Literal["CER", "AUC", "AID"] = "CER"
    region: str
    constitution_date: dt.date | None = None
    parameters: dict[str, float] = Field(default_factory=dict)
    members: list[Member] = Field(min_length=1)
    plants: list[Plant] = Field(default_factory=list)
    regulation: list[RegulationRule] = Field(default_factory=list)
    excess_to: str | None = Field(
        default=None,
        description="where the yearly excess TIP goes before the regulation: fund:NAME or consumers "
        "(members that are not businesses, by shared withdrawal)",
    )

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(PARAMETER_KEYS))
        if unknown:
            raise ValueError(
                f"parametri sconosciuti: {', '.join(unknown)}; ammessi: {', '.join(sorted(PARAMETER_KEYS))}"
            )
        for key, val in value.items():
            if key == "longitude":
                if not -180 <= val <= 180:
                    raise ValueError(f"longitudine fuori intervallo ({val})")
            elif key == "latitude":
                if not -90 <= val <= 90:
                    raise ValueError(f"latitudine fuori intervallo ({val})")
            elif val < 0:
                raise ValueError(f"il parametro {key} non puo' essere negativo ({val})")
        return value

    @field_validator("excess_to")
    @classmethod
    def _excess_target(cls, value: str | None) -> str | None:
        if value is not None and value != "consumers" and not (value.startswith("fund:") and len(value) > 5):
            raise ValueError("excess_to deve essere fund:NOME oppure consumers")
        return value

    @model_validator(mode="after")
    def _check_identity(self) -> Community:
        seen: dict[str, str] = {}
        for m in self.members:
            if m.id in seen:
                raise ValueError(f"id socio duplicato: {m.id!r}")
            seen[m.id] = "member"
        for p in self.plants:
            if p.id in seen:
                raise ValueError(f"id impianto {p.id!r} gia' usato da un socio o da un altro impianto")
            seen[p.id] = "plant"
        pods: dict[str, str] = {}
        for m in self.members:
            for pt in m.pods:
                if pt.pod in pods:
                    raise ValueError(f"POD {pt.pod} assegnato sia a {pods[pt.pod]} sia a {m.id}")
                pods[pt.pod] = m.id
        if self.regulation:
            total = sum(r.share for r in self.regulation)
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"le quote del regolamento sommano a {total:.6g}, non a 1")
            member_ids = {m.id for m in self.members}
            for r in self.regulation:
                special = r.to in REGULATION_BASES or r.to.startswith("fund:")
                if not special and r.to not in member_ids:
                    raise ValueError(
                        f"regolamento: destinatario {r.to!r} sconosciuto (usa fund:NOME, producers, consumers "
                        "o l'id di un socio)"
                    )
        return self

    # Convenience views ---------------------------------------------------------------------------------
    def member_of_pod(self) -> dict[str, str]:
        """Map each member withdrawal POD to its member id."""
        return {pt.pod: m.id for m in self.members for pt in m.pods}

    def points(self) -> list[tuple[Member, Point]]:
        """All (member, point) pairs, in file order."""
        return [(m, pt) for m in self.members for pt in m.pods]
