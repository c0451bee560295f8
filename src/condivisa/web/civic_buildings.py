"""Pages of the municipality's buildings service: public buildings as hosts of shared PV plants.

Public (no login, no request to another host, no personal data: buildings are public assets and no contact
field is ever stored):

- ``GET /comune/{slug}/edifici``: ranked table (Italian numbers) and map (Leaflet served locally, no tile
  layer: footprints as polygons, or markers, coloured by rank);
- ``GET /comune/{slug}/edifici/{code}``: one building, its score explained and a monthly chart (inline SVG);
- ``GET /comune/{slug}/edifici/report.html`` and ``.pdf``: the report in Italian (WeasyPrint), with assumptions
  and sources.

Officers of the municipality and platform admins (:func:`condivisa.web.civic.require_civic`):

- ``GET|POST /comune/{slug}/edifici/importa``: upload of the building table (CSV or GeoJSON); every problem is
  listed with file, row and field and nothing is stored (422); a good file is stored and the ranking recomputed;
- ``POST /comune/{slug}/edifici/famiglie``: candidate households of a cabina primaria;
- ``POST /comune/{slug}/edifici/ricalcola``: recompute the ranking.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import math
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from condivisa.civic.buildings import SOURCES, USE_PROFILES, Households, read_buildings
from condivisa.errors import InputError, Problem
from condivisa.store.buildings import StoredRanking, import_buildings, load_ranking, rank_municipality, set_households
from condivisa.store.municipalities import MunicipalityInfo
from condivisa.store.repository import NotFoundError
from condivisa.web import i18n
from condivisa.web.access import Principal
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import FormCsrf, OptionalUserDep, PageUserDep, SessionDep, locale_of, render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest building table accepted [bytes]."""
MONTHS = {
    "it": ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
"""Month abbreviations of the chart by locale."""
COMPONENT_LABELS = {
    "shared": "Energia condivisa con i vicini",
    "self": "Autoconsumo dell'edificio",
    "yield": "Producibilità",
}
"""Italian labels of the score components (translated in templates with ``t``)."""


# --------------------------------------------------------------------------------------------------------------------
# Presentation helpers (pure)


def rank_colour(rank: int, count: int) -> str:
    """Colour of a rank on the map and in the table: green for the best, through yellow, to red for the last."""
    share = 0.0 if count <= 1 else (rank - 1) / (count - 1)
    r, g, b = colorsys.hls_to_rgb((1.0 - share) * 120.0 / 360.0, 0.42, 0.75)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def map_features(ranking: StoredRanking) -> list[dict[str, Any]]:
    """GeoJSON features of the buildings for the map (footprint polygon, else a point), public fields only."""
    count = sum(1 for e in ranking.entries if e.result is not None)
    out = []
    for e in ranking.entries:
        b, r = e.building, e.result
        geometry = dict(b.footprint) if b.footprint else {"type": "Point", "coordinates": [b.longitude, b.latitude]}
        out.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "code": b.code,
                    "name": b.name,
                    "rank": r.rank if r else None,
                    "score": round(r.score, 1) if r else None,
                    "colour": rank_colour(r.rank, count) if r else "#777777",
                },
            }
        )
    return out


def _nice_ceiling(peak: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k not below ``peak`` (axis top)."""
    power = 10.0 ** math.floor(math.log10(peak))
    for factor in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if factor * power >= peak:
            return factor * power
    return 10.0 * power


def monthly_chart_svg(monthly: tuple[tuple[float, float, float, float], ...], locale: str = "it") -> Markup:
    """Grouped monthly bars of production, consumption and shared energy [kWh] as inline SVG (no script)."""
    width, height, left, bottom, top = 720, 260, 64, 28, 16
    plot_w, plot_h = width - left - 12, height - bottom - top
    peak = max([max(m[0], m[1], m[3]) for m in monthly] + [1.0])
    ceiling = _nice_ceiling(peak)
    series = [
        (0, "#e8a33d", i18n.gettext(locale, "Produzione")),
        (1, "#3b6ea8", i18n.gettext(locale, "Consumo")),
        (3, "#2e8b57", i18n.gettext(locale, "Condivisa con i vicini")),
    ]
    months = MONTHS.get(locale, MONTHS["it"])
    group = plot_w / 12
    bar = group * 0.26
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="monthly-chart" viewBox="0 0 {width} {height + 22}" '
        f'width="100%" role="img" aria-label="{escape(i18n.gettext(locale, "Energia mese per mese"))}">'
    ]
    for k in range(5):
        value = ceiling * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(i18n.number(value, locale))}</text>"
        )
    for m, values in enumerate(monthly):
        x0 = left + m * group + group * 0.11
        for j, (idx, colour, label) in enumerate(series):
            h = plot_h * values[idx] / ceiling
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)} {months[m]}: '
                f"{escape(i18n.number(values[idx], locale))} kWh</title></rect>"
            )
        parts.append(
            f'<text x="{left + m * group + group / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle">{months[m]}</text>'
        )
    parts.append(f'<text x="4" y="{top - 4}" font-size="11">kWh</text>')
    for j, (_, colour, label) in enumerate(series):
        x = left + j * 200
        parts.append(f'<rect x="{x}" y="{height + 6}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 18}" y="{height + 16}" font-size="12">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _report_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("condivisa.web") / "templates")),
        autoescape=True,
    )
    return env


def render_report_html(municipality: MunicipalityInfo, ranking: StoredRanking, *, pdf: bool = False) -> str:
    """The report on the municipality's buildings as a standalone HTML page in Italian (also the PDF's source).

    Parameters
    ----------
    municipality : MunicipalityInfo
        The municipality.
    ranking : StoredRanking
        Its buildings and their latest assessment.
    pdf : bool
        Layout for WeasyPrint (page size and margins).
    """
    locale = "it"
    formats: dict[str, Callable[..., str]] = {
        "t": lambda message: i18n.gettext(locale, message),
        "num": lambda x, digits=0: i18n.number(x, locale, digits),
        "eur": lambda x: i18n.euro(x, locale),
        "day": lambda d: i18n.day(d, locale),
        "moment": lambda m: i18n.moment(m, locale),
    }
    count = sum(1 for e in ranking.entries if e.result is not None)
    return (
        _report_env()
        .get_template("civic_buildings_report.html")
        .render(
            municipality=municipality,
            ranking=ranking,
            sources=SOURCES,
            labels=COMPONENT_LABELS,
            uses=USE_PROFILES,
            colour=lambda rank: rank_colour(rank, count),
            chart=lambda r: monthly_chart_svg(r.monthly, locale),
            pdf=pdf,
            generated=dt.datetime.now(dt.UTC),
            **formats,
        )
    )


def render_report_pdf(municipality: MunicipalityInfo, ranking: StoredRanking) -> bytes:
    """The report as PDF bytes (WeasyPrint)."""
    from weasyprint import HTML  # imported here: loading it costs time

    pdf = HTML(string=render_report_html(municipality, ranking, pdf=True)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


# --------------------------------------------------------------------------------------------------------------------
# Routes


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _import_page(
    request: Request,
    db: SessionDep,
    municipality: MunicipalityInfo,
    user: Principal,
    *,
    problems: list[Problem] | None = None,
    household_problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ranking = load_ranking(db, municipality.id)
    cabine = sorted({e.building.cabina for e in ranking.entries} | set(ranking.households))
    return render(
        request,
        "civic_buildings_import.html",
        {
            "municipality": municipality,
            "ranking": ranking,
            "cabine": cabine,
            "problems": problems or [],
            "household_problems": household_problems or [],
        },
        user=user,
        status_code=status_code,
    )


@router.get("/comune/{slug}/edifici", response_class=HTMLResponse)
def buildings_page(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """Public ranked table and map of the municipality's buildings."""
    municipality = municipality_or_404(db, slug)
    ranking = load_ranking(db, municipality.id)
    count = sum(1 for e in ranking.entries if e.result is not None)
    return render(
        request,
        "civic_buildings_list.html",
        {
            "municipality": municipality,
            "ranking": ranking,
            "features": map_features(ranking),
            "colour": lambda rank: rank_colour(rank, count),
            "uses": USE_PROFILES,
            "officer": can_run(user, municipality),
        },
        user=user,
    )


@router.get("/comune/{slug}/edifici/importa", response_class=HTMLResponse)
def import_form(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The officer's page: upload the building table, candidate households, recompute."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return _import_page(request, db, municipality, user)


@router.post("/comune/{slug}/edifici/importa", response_class=HTMLResponse, dependencies=[FormCsrf])
async def import_upload(request: Request, slug: str, db: SessionDep, user: PageUserDep, file: UploadFile) -> Response:
    """Import a CSV or GeoJSON building table; problems listed (422), nothing stored; then the ranking."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    name = (file.filename or "edifici.csv")[-200:]
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InputError.one(f"file troppo grande (oltre {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)", file=name)
        if not raw.strip():
            raise InputError.one("nessun file scelto o file vuoto", file=name, field="file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError.one("il file non è testo UTF-8", file=name) from exc
        buildings = read_buildings(text, name)
    except InputError as exc:
        return _import_page(request, db, municipality, user, problems=exc.problems, status_code=422)
    summary = import_buildings(db, municipality.id, buildings, source=name)
    rank_municipality(db, municipality)
    request.session["flash"] = f"buildings:{len(summary.created)}|{len(summary.updated)}"
    return _see_other(f"/comune/{municipality.slug}/edifici")


@router.post("/comune/{slug}/edifici/famiglie", response_class=HTMLResponse, dependencies=[FormCsrf])
def households_form(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    cabina: Annotated[str, Form()] = "",
    households: Annotated[str, Form()] = "",
    kwh_per_household: Annotated[str, Form()] = "",
) -> Response:
    """Set the candidate households of a cabina primaria (0 removes them); bad fields re-show the form (422)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    try:
        if not cabina.strip():
            raise InputError.one("indicare la cabina primaria", field="cabina")
        try:
            count = int(households.strip() or "0")
        except ValueError as exc:
            raise InputError.one(f"{households[:30]!r} non è un numero intero", field="households") from exc
        try:
            kwh = float(kwh_per_household.strip().replace(",", ".") or "2700")
        except ValueError as exc:
            raise InputError.one(f"{kwh_per_household[:30]!r} non è un numero", field="kwh_per_household") from exc
        try:
            home = Households(count, kwh)
            set_households(db, municipality.id, cabina, home)
        except ValueError as exc:
            raise InputError.one(str(exc), field="households") from exc
    except InputError as exc:
        return _import_page(request, db, municipality, user, household_problems=exc.problems, status_code=422)
    if load_ranking(db, municipality.id).entries:
        rank_municipality(db, municipality)
    request.session["flash"] = "buildings-households"
    return _see_other(f"/comune/{municipality.slug}/edifici/importa")


@router.post("/comune/{slug}/edifici/ricalcola", dependencies=[FormCsrf])
def recompute(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> Response:
    """Recompute potential, sharing and ranking of every building of the municipality."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    try:
        rank_municipality(db, municipality)
    except ValueError as exc:
        return _import_page(request, db, municipality, user, problems=[Problem(str(exc))], status_code=422)
    request.session["flash"] = "buildings-recomputed"
    return _see_other(f"/comune/{municipality.slug}/edifici")


@router.get("/comune/{slug}/edifici/report.html", response_class=HTMLResponse)
def report_html(slug: str, db: SessionDep) -> HTMLResponse:
    """The public report in Italian, as a standalone page."""
    municipality = municipality_or_404(db, slug)
    return HTMLResponse(render_report_html(municipality, load_ranking(db, municipality.id)))


@router.get("/comune/{slug}/edifici/report.pdf")
def report_pdf(slug: str, db: SessionDep) -> Response:
    """The public report in Italian, as PDF."""
    municipality = municipality_or_404(db, slug)
    pdf = render_report_pdf(municipality, load_ranking(db, municipality.id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="edifici-{municipality.slug}.pdf"'},
    )


@router.get("/comune/{slug}/edifici/{code}", response_class=HTMLResponse)
def building_page(request: Request, slug: str, code: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """One building: potential, shared energy, economics, the score explained, the monthly chart."""
    municipality = municipality_or_404(db, slug)
    ranking = load_ranking(db, municipality.id)
    try:
        entry = ranking.entry(code)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="edificio non trovato") from exc
    count = sum(1 for e in ranking.entries if e.result is not None)
    locale = locale_of(request)
    return render(
        request,
        "civic_buildings_detail.html",
        {
            "municipality": municipality,
            "ranking": ranking,
            "entry": entry,
            "count": count,
            "labels": COMPONENT_LABELS,
            "uses": USE_PROFILES,
            "colour": rank_colour(entry.result.rank, count) if entry.result else "#777777",
            "chart": monthly_chart_svg(entry.result.monthly, locale) if entry.result else None,
            "features": [f for f in map_features(ranking) if f["properties"]["code"] == code],
        },
        user=user,
    )
