"""Response and request shapes of the HTTP API (pydantic): nothing private leaks into a response."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Me(BaseModel):
    """The logged-in user, the roles held and the CSRF token to echo in ``X-CSRF-Token``."""

    email: str
    display_name: str
    roles: list[str]
    csrf_token: str


class CommunityPublic(BaseModel):
    """A community of the installation."""

    id: int
    name: str
    configuration: str
    region: str
    municipality: str | None
    members: int


class CommunitiesPublic(BaseModel):
    """Communities the caller may read."""

    data: list[CommunityPublic]
    count: int


class PointPublic(BaseModel):
    """A withdrawal point of a member."""

    pod: str
    cabina: str
    voltage: str


class MemberPublic(BaseModel):
    """A member with its points."""

    id: str
    name: str
    kind: str
    pods: list[PointPublic]


class MembersPublic(BaseModel):
    """One page of members: ``count`` is the total matching the filter."""

    data: list[MemberPublic]
    count: int
    offset: int
    limit: int


class ReadingsImported(BaseModel):
    """Outcome of a readings upload."""

    rows_in: int
    inserted: int
    updated: int
    unchanged: int
    warnings: list[str]


class SettlementCreate(BaseModel):
    """Local days to settle, both included."""

    start: dt.date
    end: dt.date


class SettlementPublic(BaseModel):
    """A stored settlement without its document."""

    id: int
    community_id: int
    period_start: dt.date
    period_end: dt.date
    created_at: dt.datetime
    total_eur: float
    status: str


class SettlementLinePublic(BaseModel):
    """Money given to one recipient by one rule (``rule`` None for the excess)."""

    recipient: str
    rule: int | None
    basis: str | None
    amount_eur: float


class SettlementDetail(SettlementPublic):
    """A stored settlement with its document and allocation lines."""

    document: dict[str, Any]
    lines: list[SettlementLinePublic]


class StatementPeriod(BaseModel):
    """One member in one settlement."""

    settlement_id: int
    period_start: dt.date
    period_end: dt.date
    withdrawn_kwh: float
    shared_withdrawal_kwh: float
    amount_eur: float


class MemberStatement(BaseModel):
    """A member's statement: energy and money per stored settlement."""

    community_id: int
    member: MemberPublic
    periods: list[StatementPeriod]
    total_eur: float


class ProblemPublic(BaseModel):
    """One problem of the input, with where it is."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None


class ProblemsPublic(BaseModel):
    """Why the input was refused (422)."""

    detail: list[ProblemPublic] = Field(default_factory=list)


class PointIn(BaseModel):
    """A withdrawal point sent by the caller (checked by the community model)."""

    model_config = ConfigDict(extra="forbid")

    pod: str
    cabina: str
    voltage: str = "LV"
    building: str | None = None


class MemberCreate(BaseModel):
    """A new member of a community with its points."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = ""
    kind: str = "household"
    pods: list[PointIn] = Field(default_factory=list)


class MemberUpdate(BaseModel):
    """Fields of a member to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    kind: str | None = None
    pods: list[PointIn] | None = None


class PlantPublic(BaseModel):
    """A production plant of a community."""

    id: str
    owner: str
    pod: str
    cabina: str
    technology: str
    power_kw: float
    commissioning_date: dt.date
    grant_share: float
    tip_share: float


class PlantsPublic(BaseModel):
    """The plants of a community."""

    data: list[PlantPublic]
    count: int


class PlantCreate(BaseModel):
    """A new plant of a community (checked by the community model)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    owner: str
    pod: str
    cabina: str
    technology: str = "pv"
    power_kw: float
    commissioning_date: dt.date
    grant_share: float = 0.0
    tip_share: float = 1.0
    region: str | None = None
    building: str | None = None


class PlantUpdate(BaseModel):
    """Fields of a plant to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = None
    pod: str | None = None
    cabina: str | None = None
    technology: str | None = None
    power_kw: float | None = None
    commissioning_date: dt.date | None = None
    grant_share: float | None = None
    tip_share: float | None = None
    region: str | None = None
    building: str | None = None
