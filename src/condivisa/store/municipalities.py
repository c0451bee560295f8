"""Municipalities offering public services: create, find by slug or name, list."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.store.models import MunicipalityRow
from condivisa.store.repository import NotFoundError


@dataclass(frozen=True)
class MunicipalityInfo:
    """A municipality as pages show it."""

    id: int
    name: str
    slug: str
    region: str
    province: str | None
    latitude: float | None
    longitude: float | None
    email: str | None


def slugify(name: str) -> str:
    """``"Torino"`` -> ``"torino"``, ``"Borgo d'Alba"`` -> ``"borgo-d-alba"`` (ASCII, lower case, dashes)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if not slug:
        raise ValueError(f"nome di comune non valido: {name!r}")
    return slug[:100]


def _info(row: MunicipalityRow) -> MunicipalityInfo:
    return MunicipalityInfo(
        row.id, row.name, row.slug, row.region, row.province, row.latitude, row.longitude, row.email
    )


def ensure_municipality(
    session: Session,
    name: str,
    *,
    region: str,
    province: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    email: str | None = None,
    slug: str | None = None,
) -> MunicipalityInfo:
    """The municipality ``name``, created (and committed) if it is not stored yet."""
    row = session.scalar(select(MunicipalityRow).where(MunicipalityRow.name == name))
    if row is None:
        row = MunicipalityRow(
            name=name,
            slug=slug or slugify(name),
            region=region,
            province=province,
            latitude=latitude,
            longitude=longitude,
            email=email,
        )
        session.add(row)
        session.commit()
    return _info(row)


def municipality_by_slug(session: Session, slug: str) -> MunicipalityInfo:
    """The municipality whose public pages are ``/comune/{slug}``.

    Raises
    ------
    NotFoundError
        No such municipality.
    """
    row = session.scalar(select(MunicipalityRow).where(MunicipalityRow.slug == slug))
    if row is None:
        raise NotFoundError(f"comune {slug!r} non trovato")
    return _info(row)


def list_municipalities(session: Session) -> list[MunicipalityInfo]:
    """Every municipality, by name."""
    return [_info(r) for r in session.scalars(select(MunicipalityRow).order_by(MunicipalityRow.name))]
