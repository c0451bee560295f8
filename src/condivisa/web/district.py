"""Pages of issue 8, points 3 and 4: the energy and emissions balance of a municipality, and district energy and
water management (ISO 50001 style).

Public (no login, no request to another host; charts are inline SVG):

- ``GET /comune/{slug}/bilancio``: the balance tables (sector × carrier) of the stored inventories, charts by
  sector, every emission factor with its source, year and ``verified`` marker, notes and warnings;
- ``GET /comune/{slug}/bilancio/report.html`` and ``report.pdf``: the report in Italian (WeasyPrint).

Officers of the municipality and platform admins (``civic:write``):

- ``GET|POST /comune/{slug}/bilancio/gestione``: store or replace an inventory (rows ``settore;vettore;MWh``,
  production, population, shared energy, target); ``POST .../gestione/comunita``: a stored community's inventory
  from its settlements; ``POST .../gestione/{iid}/elimina``;
- ``GET|POST /comune/{slug}/distretti``: the municipality's districts, create one;
- ``/districts/{did}`` (overview), ``/sites`` (sites, meters, variables, CSV import), ``/baseline`` (fit, EnPIs,
  targets, chart), ``/savings`` (actions, M&V), ``/review`` (management reviews), ``/team`` (transition team), and
  ``POST /districts/{did}/check`` (continuous monitoring now): officers of the district's municipality.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.balance import SECTORS, Inventory, balance_matrix, custom_factor, load_factors
from condivisa.energy_management.review import ACTION_STATUSES
from condivisa.errors import InputError, Problem
from condivisa.store import district as ds
from condivisa.store import inventories as inv
from condivisa.store.models import CommunityRow
from condivisa.store.models_district import CARRIERS, DECISION_STATUSES, SITE_KINDS, UNITS, DistrictRow
from condivisa.store.municipalities import MunicipalityInfo, municipality_by_slug
from condivisa.store.repository import NotFoundError
from condivisa.web import i18n
from condivisa.web.access import Principal, authorize
from condivisa.web.civic import can_run, municipality_or_404, require_civic
from condivisa.web.deps import EngineDep, FormCsrf, OptionalUserDep, PageUserDep, SessionDep, locale_of, render

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
PALETTE = ("#3b6ea8", "#e8a33d", "#2e8b57", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#b7950b")
CARRIER_LABELS = {
    "electricity": "Energia elettrica",
    "heat": "Calore",
    "gas": "Gas",
    "water": "Acqua",
}
SITE_KIND_LABELS = {
    "building": "Edificio",
    "plant": "Impianto",
    "pumping_station": "Stazione di pompaggio",
    "lighting": "Illuminazione",
    "other": "Altro",
}
STATUS_LABELS = {
    "planned": "pianificata",
    "in_progress": "in corso",
    "done": "conclusa",
    "cancelled": "annullata",
    "open": "aperta",
    "on_track": "in linea",
    "off_track": "fuori obiettivo",
    "no_data": "senza dati",
    "closed": "chiuso",
}


# --------------------------------------------------------------------------------------------------------------------
# Inline SVG charts (no script, no other host)


def _ceiling(peak: float) -> float:
    if peak <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(peak))
    for factor in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if factor * power >= peak:
            return factor * power
    return 10.0 * power


def svg_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    unit: str,
    locale: str = "it",
    stacked: bool = False,
    chart_id: str = "chart",
) -> Markup:
    """Grouped (or stacked) vertical bars as inline SVG: one group per category, one bar per series."""
    width, height, left, bottom, top = 760, 290, 70, 30, 28
    plot_w, plot_h = width - left - 12, height - bottom - top
    vals = [[0.0 if v is None or not math.isfinite(v) else float(v) for v in s] for _, s in series]
    if stacked:
        peak = max([sum(col) for col in zip(*vals, strict=False)] + [0.0])
    else:
        peak = max([max(v, default=0.0) for v in vals] + [0.0])
    top_value = _ceiling(peak)
    n = max(len(categories), 1)
    group = plot_w / n
    bar = group * 0.8 / (1 if stacked else max(len(series), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" viewBox="0 0 {width} '
        f'{height + 22 * ((len(series) + 1) // 2)}" width="100%" role="img">'
    ]
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(i18n.number(top_value * k / 4, locale))}</text>"
        )
    for c, cat in enumerate(categories):
        x0 = left + c * group + group * 0.1
        base = 0.0
        for j, (label, _) in enumerate(series):
            v = vals[j][c] if c < len(vals[j]) else 0.0
            h = plot_h * max(v, 0.0) / top_value
            x = x0 if stacked else x0 + j * bar
            y = top + plot_h - h - (plot_h * base / top_value if stacked else 0.0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)} · {escape(cat)}: '
                f"{escape(i18n.number(v, locale, 1))} {escape(unit)}</title></rect>"
            )
            if stacked:
                base += max(v, 0.0)
        parts.append(
            f'<text x="{left + c * group + group / 2:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle">{escape(cat)}</text>'
        )
    parts.append(f'<text x="4" y="14" font-size="11">{escape(unit)}</text>')
    for j, (label, _) in enumerate(series):
        x = left + (j % 2) * 340
        y = height + 6 + 22 * (j // 2)
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 18}" y="{y + 10}" font-size="12">{escape(label[:56])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def svg_lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    unit: str,
    locale: str = "it",
    chart_id: str = "chart",
    zero_based: bool = True,
) -> Markup:
    """Lines with points as inline SVG (gaps where a value is missing); ``zero_based=False`` zooms on the data."""
    width, height, left, bottom, top = 760, 270, 70, 30, 28
    plot_w, plot_h = width - left - 40, height - bottom - top
    finite = [float(v) for _, s in series for v in s if v is not None and math.isfinite(v)]
    if zero_based or not finite:
        lo, hi = min([0.0, *finite]), _ceiling(max([*finite, 0.0]))
    else:
        pad = 0.1 * ((max(finite) - min(finite)) or abs(max(finite)) or 1.0)
        lo, hi = min(finite) - pad, max(finite) + pad
    span = hi - lo or 1.0
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" viewBox="0 0 {width} {height + 24}" '
             'width="100%" role="img">']  # fmt: skip
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(i18n.number(lo + span * k / 4, locale, 3 if span < 1 else 2 if span < 10 else 0))}</text>"
        )
    every = max(1, n // 12)
    for i, lab in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" font-size="10" '
                f'text-anchor="middle">{escape(lab)}</text>'
            )
    for j, (label, values) in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        path: list[str] = []
        for i, v in enumerate(values):
            if v is None or not math.isfinite(v):
                path.append("")
                continue
            x, y = left + i * step, top + plot_h - plot_h * (float(v) - lo) / span
            path.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(label)} {escape(labels[i])}: '
                f"{escape(i18n.number(float(v), locale, 3 if span < 10 else 0))} {escape(unit)}</title></circle>"
            )
        for run in " ".join(path).split("  "):
            pts = run.strip()
            if " " in pts:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<rect x="{left + j * 230}" y="{height + 8}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + j * 230 + 18}" y="{height + 18}" font-size="12">{escape(label)}</text>')
    parts.append(f'<text x="4" y="14" font-size="11">{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------------------------------------------------
# Balance: presentation helpers


def carrier_label(code: str) -> str:
    """The Italian label of a carrier of the factor table (or the code)."""
    c = load_factors().carriers.get(code)
    return c.label if c is not None else code


def balance_context(view: inv.BalanceView, locale: str) -> dict[str, Any]:
    """Tables and charts of a :class:`condivisa.store.inventories.BalanceView` for the templates."""
    balances = list(view.balances)
    kind_of = {id(s.inventory): s.kind for s in view.inventories}
    charts: dict[str, Markup] = {}
    if balances:
        present = [s for s in SECTORS if any(s in b.emissions_by_sector for b in balances)]
        words = {"baseline": i18n.gettext(locale, "base"), "monitoring": i18n.gettext(locale, "monitoraggio")}
        cats = [f"{b.year} ({words.get(kind_of.get(id(b.inventory), ''), '')})" for b in balances]
        charts["emissions"] = svg_bars(
            cats,
            [
                (i18n.gettext(locale, SECTORS[s]), [b.emissions_by_sector.get(s, 0.0) for b in balances])
                for s in present
            ],
            unit="t CO2",
            locale=locale,
            stacked=True,
            chart_id="chart-emissions",
        )
        carriers = list(dict.fromkeys(c for b in balances for c in b.consumption_by_carrier))
        charts["consumption"] = svg_bars(
            cats,
            [(i18n.gettext(locale, carrier_label(c)), [b.consumption_by_carrier.get(c, 0.0) for b in balances])
             for c in carriers],
            unit="MWh",
            locale=locale,
            stacked=True,
            chart_id="chart-consumption",
        )  # fmt: skip
    factors: dict[tuple[str, int], Any] = {}
    for b in balances:
        for f in b.factors.values():
            factors.setdefault((f.carrier, f.year), f)
    return {
        "entries": [
            {
                "kind": kind_of.get(id(b.inventory), ""),
                "balance": b,
                "emissions": balance_matrix(b, "emissions"),
                "consumption": balance_matrix(b, "consumption"),
            }
            for b in balances
        ],
        "factors": sorted(factors.values(), key=lambda f: (f.carrier, f.year)),
        "charts": charts,
        "progress": view.progress,
        "notes": list(view.notes),
        "carrier_label": carrier_label,
        "sectors": SECTORS,
    }


def _report_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("condivisa.web") / "templates")), autoescape=True
    )


def render_balance_report(municipality: MunicipalityInfo, view: inv.BalanceView, *, pdf: bool = False) -> str:
    """The balance report in Italian as a standalone HTML page (the PDF's source too)."""
    locale = "it"
    formats: dict[str, Callable[..., str]] = {
        "t": lambda message: i18n.gettext(locale, message),
        "num": lambda x, digits=0: i18n.number(x, locale, digits),
        "day": lambda d: i18n.day(d, locale),
        "moment": lambda m: i18n.moment(m, locale),
    }
    return (
        _report_env()
        .get_template("balance_report.html")
        .render(
            municipality=municipality,
            pdf=pdf,
            generated=dt.datetime.now(dt.UTC),
            meta=load_factors().meta,
            **balance_context(view, locale),
            **formats,
        )
    )


def render_balance_pdf(municipality: MunicipalityInfo, view: inv.BalanceView) -> bytes:
    """The balance report as PDF bytes (WeasyPrint)."""
    from weasyprint import HTML

    pdf = HTML(string=render_balance_report(municipality, view, pdf=True)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


# --------------------------------------------------------------------------------------------------------------------
# Balance routes


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _float(text: str, field: str, *, optional: bool = False) -> float | None:
    raw = text.strip().replace(" ", "")
    if not raw:
        if optional:
            return None
        raise InputError.one("valore obbligatorio", field=field)
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError.one(f"{text.strip()[:30]!r} non è un numero", field=field) from exc
    if not math.isfinite(value):
        raise InputError.one("numero non finito", field=field)
    return value


def _int(text: str, field: str, *, optional: bool = False) -> int | None:
    value = _float(text, field, optional=optional)
    if value is None:
        return None
    if value != int(value):
        raise InputError.one(f"{text.strip()[:30]!r} non è un numero intero", field=field)
    return int(value)


def _date(text: str, field: str, *, optional: bool = False) -> dt.date | None:
    if not text.strip():
        if optional:
            return None
        raise InputError.one("data obbligatoria (AAAA-MM-GG)", field=field)
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError.one(f"{text.strip()[:30]!r} non è una data (AAAA-MM-GG)", field=field) from exc


@router.get("/comune/{slug}/bilancio", response_class=HTMLResponse)
def balance_page(request: Request, slug: str, db: SessionDep, user: OptionalUserDep) -> HTMLResponse:
    """Public balance of the municipality: tables, charts, factors with source and year, notes."""
    municipality = municipality_or_404(db, slug)
    view = inv.entity_balances(db, municipality_id=municipality.id)
    return render(
        request,
        "balance_public.html",
        {"municipality": municipality, "officer": can_run(user, municipality),
         **balance_context(view, locale_of(request))},
        user=user,
    )  # fmt: skip


@router.get("/comune/{slug}/bilancio/report.html", response_class=HTMLResponse)
def balance_report_html(slug: str, db: SessionDep) -> HTMLResponse:
    """The public balance report, as a standalone page in Italian."""
    municipality = municipality_or_404(db, slug)
    return HTMLResponse(render_balance_report(municipality, inv.entity_balances(db, municipality_id=municipality.id)))


@router.get("/comune/{slug}/bilancio/report.pdf")
def balance_report_pdf(slug: str, db: SessionDep) -> Response:
    """The public balance report as PDF."""
    municipality = municipality_or_404(db, slug)
    pdf = render_balance_pdf(municipality, inv.entity_balances(db, municipality_id=municipality.id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bilancio-{municipality.slug}.pdf"'},
    )


def _manage_page(
    request: Request,
    db: Session,
    municipality: MunicipalityInfo,
    user: Principal,
    *,
    problems: Sequence[Problem] = (),
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    stored = inv.inventories_of(db, municipality_id=municipality.id)
    communities = db.scalars(
        select(CommunityRow).where(CommunityRow.municipality == municipality.name).order_by(CommunityRow.name)
    ).all()
    return render(
        request,
        "balance_manage.html",
        {
            "municipality": municipality,
            "stored": stored,
            "communities": communities,
            "problems": list(problems),
            "form": form or {},
            "rows_text": inv.rows_text,
            "production_text": inv.production_text,
            "sectors": SECTORS,
            "carriers": sorted(load_factors().carriers),
            "technologies": sorted(load_factors().production),
        },
        user=user,
        status_code=status_code,
    )


@router.get("/comune/{slug}/bilancio/gestione", response_class=HTMLResponse)
def balance_manage(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The officer's page: stored inventories and the form to store one."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return _manage_page(request, db, municipality, user)


@router.post("/comune/{slug}/bilancio/gestione", response_class=HTMLResponse, dependencies=[FormCsrf])
def balance_save(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    kind: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    population: Annotated[str, Form()] = "",
    shared_energy_mwh: Annotated[str, Form()] = "",
    rows: Annotated[str, Form()] = "",
    production: Annotated[str, Form()] = "",
    target_reduction_pct: Annotated[str, Form()] = "",
    target_year: Annotated[str, Form()] = "",
    district_heating_factor: Annotated[str, Form()] = "",
    district_heating_source: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Store (or replace) an inventory of the municipality; bad fields re-show the form (422)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    form = {k: v for k, v in locals().items() if isinstance(v, str) and k != "slug"}
    try:
        if kind not in ("baseline", "monitoring"):
            raise InputError.one("scegliere inventario di base o di monitoraggio", field="kind")
        y = _int(year, "year")
        assert y is not None
        if not 1990 <= y <= 2100:
            raise InputError.one(f"anno {y} fuori da 1990..2100", field="year")
        pop = _int(population, "population", optional=True)
        shared = _float(shared_energy_mwh, "shared_energy_mwh", optional=True) or 0.0
        parsed_rows = inv.parse_rows_text(rows, file="consumi")
        if not parsed_rows:
            raise InputError.one("almeno una riga di consumo", field="rows")
        parsed_prod = inv.parse_production_text(production, file="produzione")
        overrides = []
        dh = _float(district_heating_factor, "district_heating_factor", optional=True)
        if dh is not None:
            if not district_heating_source.strip():
                raise InputError.one("indicare la fonte del fattore locale", field="district_heating_source")
            overrides.append(custom_factor("district_heating", dh, district_heating_source.strip(), year=y))
        try:
            inventory = Inventory(
                entity=municipality.name,
                kind="municipality",
                year=y,
                rows=tuple(parsed_rows),
                production=tuple(parsed_prod),
                shared_energy_mwh=shared,
                population=pop,
                notes=tuple(n.strip() for n in notes.splitlines() if n.strip()),
            )
            inv.save_inventory(
                db,
                inventory,
                kind=kind,
                municipality_id=municipality.id,
                overrides=overrides,
                target_reduction_pct=_float(target_reduction_pct, "target_reduction_pct", optional=True),
                target_year=_int(target_year, "target_year", optional=True),
                source=f"inserito da {user.display_name}"[:200],
            )
        except ValueError as exc:
            db.rollback()
            raise InputError.one(str(exc)) from exc
    except InputError as exc:
        return _manage_page(request, db, municipality, user, problems=exc.problems, form=form, status_code=422)
    request.session["flash"] = "balance-saved"
    return _see_other(f"/comune/{municipality.slug}/bilancio")


@router.post("/comune/{slug}/bilancio/gestione/comunita", response_class=HTMLResponse, dependencies=[FormCsrf])
def balance_from_community(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    community_id: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
) -> Response:
    """Store a community's monitoring inventory of a year from its stored settlements (the community's entity)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    try:
        cid = _int(community_id, "community_id")
        y = _int(year, "year")
        community = db.get(CommunityRow, cid)
        if community is None or community.municipality != municipality.name:
            raise InputError.one("comunità non trovata in questo comune", field="community_id")
        assert y is not None
        try:
            inventory = inv.community_inventory(db, community.id, y)
        except ValueError as exc:
            raise InputError.one(str(exc), field="year") from exc
        inv.save_inventory(db, inventory, kind="monitoring", community_id=community.id, source="ricalcoli memorizzati")
    except InputError as exc:
        return _manage_page(request, db, municipality, user, problems=exc.problems, status_code=422)
    request.session["flash"] = "balance-community"
    return _see_other(f"/comune/{municipality.slug}/bilancio/gestione")


@router.post("/comune/{slug}/bilancio/gestione/{iid}/elimina", dependencies=[FormCsrf])
def balance_delete(request: Request, slug: str, iid: int, db: SessionDep, user: PageUserDep) -> Response:
    """Remove one of the municipality's inventories."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    stored = next((s for s in inv.inventories_of(db, municipality_id=municipality.id) if s.id == iid), None)
    if stored is None:
        raise HTTPException(status_code=404, detail="inventario non trovato")
    inv.delete_inventory(db, iid)
    return _see_other(f"/comune/{municipality.slug}/bilancio/gestione")


# --------------------------------------------------------------------------------------------------------------------
# Districts


def _district(db: Session, did: int, user: Principal) -> tuple[DistrictRow, MunicipalityInfo]:
    """The district and its municipality; 404 when missing, 403 unless ``civic:write`` on its municipality."""
    try:
        district, town = ds.district_municipality(db, did)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="distretto non trovato") from exc
    if not authorize(user, "civic:write", None, municipality=town.name):
        raise HTTPException(status_code=403, detail="accesso negato")
    return district, municipality_by_slug(db, town.slug)


def _labels(index: Any, period: str) -> list[str]:
    fmt = {"month": "%m/%Y", "week": "%d/%m/%y", "day": "%d/%m"}.get(period, "%Y-%m-%d")
    return [k.strftime(fmt) for k in index]


def _district_page(
    request: Request,
    db: Session,
    user: Principal,
    district: DistrictRow,
    municipality: MunicipalityInfo,
    template: str,
    context: dict[str, Any],
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        template,
        {
            "district": district,
            "municipality": municipality,
            "problems": list(problems),
            "status_labels": STATUS_LABELS,
            "carrier_labels": CARRIER_LABELS,
            "site_kind_labels": SITE_KIND_LABELS,
            **context,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/comune/{slug}/distretti", response_class=HTMLResponse)
def districts_page(request: Request, slug: str, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The municipality's districts (officers)."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    return render(
        request,
        "district_list.html",
        {"municipality": municipality, "districts": ds.list_districts(db, municipality.id), "problems": []},
        user=user,
    )


@router.post("/comune/{slug}/distretti", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_create(
    request: Request,
    slug: str,
    db: SessionDep,
    user: PageUserDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    hdd_base_c: Annotated[str, Form()] = "20",
) -> Response:
    """Create a district of the municipality."""
    municipality = municipality_or_404(db, slug)
    require_civic(user, municipality)
    try:
        base = _float(hdd_base_c, "hdd_base_c", optional=True)
        did = ds.create_district(
            db, municipality.id, name, description=description, hdd_base_c=20.0 if base is None else base
        )
    except InputError as exc:
        return render(
            request,
            "district_list.html",
            {
                "municipality": municipality,
                "districts": ds.list_districts(db, municipality.id),
                "problems": exc.problems,
            },
            user=user,
            status_code=422,
        )
    return _see_other(f"/districts/{did}")


@router.get("/districts/{did}", response_class=HTMLResponse)
def district_overview(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Overview: sites, meters, baselines, EnPIs with their targets, open alarms, actions."""
    district, municipality = _district(db, did, user)
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_overview.html",
        {
            "sites": ds.list_sites(db, did),
            "meters": ds.district_meters(db, did),
            "baselines": ds.list_baselines(db, did),
            "enpis": ds.enpis_of(db, did),
            "alarms": ds.list_alarms(db, did),
            "actions": ds.list_actions(db, did),
            "checks": request.session.pop("district_checks", None),
        },
    )


@router.post("/districts/{did}/check", dependencies=[FormCsrf])
def district_check(request: Request, did: int, db: SessionDep, engine: EngineDep, user: PageUserDep) -> Response:
    """Run the continuous monitoring now (latest complete period before today)."""
    _district(db, did, user)
    checks = ds.check_district(engine, did, dt.date.today())
    request.session["district_checks"] = [
        {"name": c.name, "status": c.status, "period": c.period.isoformat() if c.period else None} for c in checks
    ]
    return _see_other(f"/districts/{did}")


def _sites_page(
    request: Request,
    db: Session,
    user: Principal,
    did: int,
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    district, municipality = _district(db, did, user)
    communities = db.scalars(
        select(CommunityRow).where(CommunityRow.municipality == municipality.name).order_by(CommunityRow.name)
    ).all()
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_sites.html",
        {
            "sites": ds.list_sites(db, did),
            "meters": ds.district_meters(db, did),
            "variables": ds.list_variables(db, did),
            "communities": communities,
            "site_kinds": SITE_KINDS,
            "carriers": CARRIERS,
            "units": UNITS,
        },
        problems=problems,
        status_code=status_code,
    )


@router.get("/districts/{did}/sites", response_class=HTMLResponse)
def district_sites(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Sites, meters and relevant variables; forms to add them and to import readings."""
    return _sites_page(request, db, user, did)


@router.post("/districts/{did}/sites", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_add_site(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "building",
    address: Annotated[str, Form()] = "",
    floor_area_m2: Annotated[str, Form()] = "",
) -> Response:
    """Add a site."""
    _district(db, did, user)
    try:
        ds.add_site(
            db,
            did,
            code,
            name,
            kind,
            address=address,
            floor_area_m2=_float(floor_area_m2, "floor_area_m2", optional=True),
        )
    except InputError as exc:
        return _sites_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/sites")


@router.post("/districts/{did}/meters", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_add_meter(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    site_id: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    carrier: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    kwh_per_unit: Annotated[str, Form()] = "",
    use: Annotated[str, Form()] = "",
    community_id: Annotated[str, Form()] = "",
    pod: Annotated[str, Form()] = "",
) -> Response:
    """Add a meter to a site (optionally a community POD)."""
    _, municipality = _district(db, did, user)
    try:
        sid = _int(site_id, "site_id")
        if sid not in {s.id for s in ds.list_sites(db, did)}:
            raise InputError.one("sito non trovato nel distretto", field="site_id")
        cid = _int(community_id, "community_id", optional=True)
        if cid is not None:
            community = db.get(CommunityRow, cid)
            if community is None or community.municipality != municipality.name:
                raise InputError.one("comunità non trovata in questo comune", field="community_id")
        assert sid is not None
        ds.add_meter(
            db, sid, code, carrier, unit, kwh_per_unit=_float(kwh_per_unit, "kwh_per_unit", optional=True),
            use=use, community_id=cid, pod=pod or None,
        )  # fmt: skip
    except InputError as exc:
        return _sites_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/sites")


@router.post("/districts/{did}/variables", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_add_variable(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
) -> Response:
    """Add a relevant variable (temperature or activity)."""
    _district(db, did, user)
    try:
        ds.add_variable(db, did, name, kind, unit)
    except InputError as exc:
        return _sites_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/sites")


@router.post("/districts/{did}/import", response_class=HTMLResponse, dependencies=[FormCsrf])
async def district_import(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    file: UploadFile,
    target: Annotated[str, Form()] = "",
) -> Response:
    """Import a CSV: ``date,value`` into a meter (``meter:ID``) or a variable (``variable:ID``), or the long readings
    CSV into the meters with those PODs (``long``)."""
    _district(db, did, user)
    name = (file.filename or "valori.csv")[-200:]
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InputError.one("file troppo grande (oltre 5 MB)", file=name)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError.one("il file non è testo UTF-8", file=name) from exc
        if not text.strip():
            raise InputError.one("nessun file scelto o file vuoto", file=name, field="file")
        what, _, ident = target.partition(":")
        if what == "long":
            ds.import_long_readings(db, did, text, file=name)
        elif what == "meter" and ident.isdigit():
            if int(ident) not in {m.id for _, m in ds.district_meters(db, did)}:
                raise InputError.one("contatore non trovato nel distretto", field="target")
            ds.import_meter_values(db, int(ident), ds.parse_date_value_csv(text, file=name))
        elif what == "variable" and ident.isdigit():
            variables = {v.id: v for v in ds.list_variables(db, did)}
            if int(ident) not in variables:
                raise InputError.one("variabile non trovata nel distretto", field="target")
            negative = variables[int(ident)].kind == "temperature"
            ds.import_variable_values(db, int(ident), ds.parse_date_value_csv(text, file=name, allow_negative=negative))
        else:
            raise InputError.one("scegliere dove importare", field="target")
    except InputError as exc:
        db.rollback()
        return _sites_page(request, db, user, did, problems=exc.problems, status_code=422)
    request.session["flash"] = "district-imported"
    return _see_other(f"/districts/{did}/sites")


def _baseline_page(
    request: Request,
    db: Session,
    user: Principal,
    did: int,
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    district, municipality = _district(db, did, user)
    locale = locale_of(request)
    baselines = ds.list_baselines(db, did)
    charts: dict[int, Markup] = {}
    for b in baselines[:3]:
        fitted = b.statistics.get("fitted", {})
        residuals = b.statistics.get("residuals", {})
        keys = list(fitted)
        actual = [None if fitted[k] is None or residuals.get(k) is None else fitted[k] + residuals[k] for k in keys]
        labels = [dt.date.fromisoformat(k).strftime("%m/%Y" if b.period == "month" else "%d/%m/%y") for k in keys]
        charts[b.id] = svg_lines(
            labels,
            [(i18n.gettext(locale, "Misurato"), actual), (i18n.gettext(locale, "Modello"), list(fitted.values()))],
            unit=str(b.statistics.get("unit", "kWh")),
            locale=locale,
            chart_id=f"chart-baseline-{b.id}",
        )
    enpi_charts: dict[int, Markup] = {}
    enpis = ds.enpis_of(db, did)
    for e, targets in enpis:
        if not targets:
            continue
        base = next((b for b in baselines if b.id == e.baseline_id), None)
        if base is None:
            continue
        end = min(targets[-1].due, dt.date.today())
        if end <= targets[-1].start:
            continue
        try:
            table = ds.enpi_tracking(db, e, targets[-1], targets[-1].start, end)
        except InputError:
            continue
        enpi_charts[e.id] = svg_lines(
            _labels(table.index, base.period),
            [
                (e.name, [float(v) for v in table["enpi"]]),
                (i18n.gettext(locale, "Obiettivo"), [float(v) for v in table["target"]]),
            ],
            unit="",
            locale=locale,
            chart_id=f"chart-enpi-{e.id}",
            zero_based=False,
        )
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_baseline.html",
        {
            "baselines": baselines,
            "charts": charts,
            "enpis": enpis,
            "enpi_charts": enpi_charts,
            "sites": ds.list_sites(db, did),
            "variables": ds.list_variables(db, did),
            "carriers": CARRIERS,
        },
        problems=problems,
        status_code=status_code,
    )


@router.get("/districts/{did}/baseline", response_class=HTMLResponse)
def district_baseline(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Baselines with their statistics and acceptance, EnPIs and targets, charts."""
    return _baseline_page(request, db, user, did)


@router.post("/districts/{did}/baseline", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_fit(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    carrier: Annotated[str, Form()] = "",
    site_id: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    variables: Annotated[str, Form()] = "hdd",
    period: Annotated[str, Form()] = "month",
    name: Annotated[str, Form()] = "",
) -> Response:
    """Fit and store a baseline."""
    _district(db, did, user)
    try:
        sid = _int(site_id, "site_id", optional=True)
        if sid is not None and sid not in {s.id for s in ds.list_sites(db, did)}:
            raise InputError.one("sito non trovato nel distretto", field="site_id")
        s, e = _date(start, "start"), _date(end, "end")
        assert s is not None and e is not None
        if e <= s:
            raise InputError.one("la fine deve seguire l'inizio", field="end")
        ds.fit_district_baseline(
            db, did, carrier=carrier, site_id=sid, start=s, end=e,
            variables=[v.strip() for v in variables.split(",") if v.strip()], period=period, name=name,
        )  # fmt: skip
    except InputError as exc:
        return _baseline_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/baseline")


@router.post("/districts/{did}/enpis", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_add_enpi(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    baseline_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "regression",
    variable: Annotated[str, Form()] = "",
    target_value: Annotated[str, Form()] = "",
    baseline_value: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    tolerance: Annotated[str, Form()] = "",
) -> Response:
    """Add an EnPI on a baseline, with its target when one is given."""
    _district(db, did, user)
    try:
        bid = _int(baseline_id, "baseline_id")
        if bid not in {b.id for b in ds.list_baselines(db, did)}:
            raise InputError.one("baseline non trovata nel distretto", field="baseline_id")
        assert bid is not None
        tv = _float(target_value, "target_value", optional=True)
        s = _date(start, "start", optional=tv is None)
        d = _date(due, "due", optional=tv is None)
        eid = ds.add_enpi(db, bid, name, kind, variable=variable.strip() or None)
        if tv is not None and s is not None and d is not None:
            ds.add_target(
                db, eid, start=s, due=d, target_value=tv,
                baseline_value=_float(baseline_value, "baseline_value", optional=True),
                tolerance=_float(tolerance, "tolerance", optional=True) or 0.0,
            )  # fmt: skip
    except InputError as exc:
        db.rollback()
        return _baseline_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/baseline")


def _savings_page(
    request: Request,
    db: Session,
    user: Principal,
    did: int,
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    district, municipality = _district(db, did, user)
    locale = locale_of(request)
    savings = ds.list_savings(db, did)
    charts: dict[int, Markup] = {}
    for s in savings[:3]:
        labels = [dt.date.fromisoformat(p["period"]).strftime("%m/%Y") for p in s.periods]
        charts[s.id] = svg_bars(
            labels,
            [
                (i18n.gettext(locale, "Baseline adattata"), [p.get("adjusted_baseline") for p in s.periods]),
                (i18n.gettext(locale, "Consumo misurato"), [p.get("actual") for p in s.periods]),
            ],
            unit="kWh",
            locale=locale,
            chart_id=f"chart-savings-{s.id}",
        )
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_savings.html",
        {
            "savings": savings,
            "charts": charts,
            "actions": ds.list_actions(db, did),
            "baselines": ds.list_baselines(db, did),
            "sites": ds.list_sites(db, did),
            "action_statuses": ACTION_STATUSES,
        },
        problems=problems,
        status_code=status_code,
    )


@router.get("/districts/{did}/savings", response_class=HTMLResponse)
def district_savings(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Action plan and verified savings."""
    return _savings_page(request, db, user, did)


@router.post("/districts/{did}/savings", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_verify(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    baseline_id: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    confidence: Annotated[str, Form()] = "0.90",
    action_id: Annotated[str, Form()] = "",
) -> Response:
    """Verify and store the savings of a reporting period."""
    _district(db, did, user)
    try:
        bid = _int(baseline_id, "baseline_id")
        if bid not in {b.id for b in ds.list_baselines(db, did)}:
            raise InputError.one("baseline non trovata nel distretto", field="baseline_id")
        aid = _int(action_id, "action_id", optional=True)
        if aid is not None and aid not in {a.id for a in ds.list_actions(db, did)}:
            raise InputError.one("azione non trovata nel distretto", field="action_id")
        s, e = _date(start, "start"), _date(end, "end")
        assert bid is not None and s is not None and e is not None
        if e <= s:
            raise InputError.one("la fine deve seguire l'inizio", field="end")
        ds.verify_district_savings(
            db, bid, s, e, confidence=_float(confidence, "confidence", optional=True) or 0.90, action_id=aid
        )
    except InputError as exc:
        db.rollback()
        return _savings_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/savings")


@router.post("/districts/{did}/actions", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_add_action(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    code: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "planned",
    due: Annotated[str, Form()] = "",
    significant_use: Annotated[str, Form()] = "",
    responsible: Annotated[str, Form()] = "",
    expected_savings_kwh: Annotated[str, Form()] = "",
) -> Response:
    """Add an action to the plan."""
    _district(db, did, user)
    try:
        ds.add_action(
            db, did, code, title, status=status, due=_date(due, "due", optional=True),
            significant_use=significant_use.strip() or None, responsible=responsible.strip() or None,
            expected_savings_kwh=_float(expected_savings_kwh, "expected_savings_kwh", optional=True),
        )  # fmt: skip
    except InputError as exc:
        return _savings_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/savings")


@router.post("/districts/{did}/actions/{aid}/status", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_action_status(
    request: Request, did: int, aid: int, db: SessionDep, user: PageUserDep, status: Annotated[str, Form()] = ""
) -> Response:
    """Change an action's status."""
    _district(db, did, user)
    if aid not in {a.id for a in ds.list_actions(db, did)}:
        raise HTTPException(status_code=404, detail="azione non trovata")
    try:
        ds.set_action_status(db, aid, status)
    except InputError as exc:
        return _savings_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/savings")


def _review_page(
    request: Request,
    db: Session,
    user: Principal,
    did: int,
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    district, municipality = _district(db, did, user)
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_review.html",
        {"reviews": ds.list_reviews(db, did), "baselines": ds.list_baselines(db, did)},
        problems=problems,
        status_code=status_code,
    )


@router.get("/districts/{did}/review", response_class=HTMLResponse)
def district_reviews(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Management reviews: the numbers and the decisions."""
    return _review_page(request, db, user, did)


@router.post("/districts/{did}/review", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_review_run(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    baseline_id: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    review_date: Annotated[str, Form()] = "",
    decisions: Annotated[str, Form()] = "",
) -> Response:
    """Hold a management review of a period and store it with its decisions."""
    _district(db, did, user)
    try:
        bid = _int(baseline_id, "baseline_id", optional=True)
        if bid is not None and bid not in {b.id for b in ds.list_baselines(db, did)}:
            raise InputError.one("baseline non trovata nel distretto", field="baseline_id")
        s, e = _date(start, "start"), _date(end, "end")
        when = _date(review_date, "review_date", optional=True) or dt.date.today()
        assert s is not None and e is not None
        ds.run_review(db, did, baseline_id=bid, start=s, end=e, review_date=when, decisions=decisions[:5000])
    except InputError as exc:
        db.rollback()
        return _review_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/review")


def _team_page(
    request: Request,
    db: Session,
    user: Principal,
    did: int,
    *,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    district, municipality = _district(db, did, user)
    members, decisions = ds.team_of(db, did)
    return _district_page(
        request,
        db,
        user,
        district,
        municipality,
        "district_team.html",
        {"members": members, "decisions": decisions, "decision_statuses": DECISION_STATUSES},
        problems=problems,
        status_code=status_code,
    )


@router.get("/districts/{did}/team", response_class=HTMLResponse)
def district_team(request: Request, did: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The district transition team: members and decisions."""
    return _team_page(request, db, user, did)


@router.post("/districts/{did}/team/members", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_team_member(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
) -> Response:
    """Add a member to the team."""
    _district(db, did, user)
    try:
        ds.add_team_member(db, did, name, role, organisation)
    except InputError as exc:
        return _team_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/team")


@router.post("/districts/{did}/team/decisions", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_team_decision(
    request: Request,
    did: int,
    db: SessionDep,
    user: PageUserDep,
    title: Annotated[str, Form()] = "",
    decided_on: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "open",
    due: Annotated[str, Form()] = "",
) -> Response:
    """Record a decision of the team."""
    _district(db, did, user)
    try:
        when = _date(decided_on, "decided_on", optional=True) or dt.date.today()
        ds.add_decision(
            db, did, decided_on=when, title=title, owner=owner, status=status, due=_date(due, "due", optional=True)
        )
    except InputError as exc:
        return _team_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/team")


@router.post("/districts/{did}/team/decisions/{dec}/status", response_class=HTMLResponse, dependencies=[FormCsrf])
def district_decision_status(
    request: Request, did: int, dec: int, db: SessionDep, user: PageUserDep, status: Annotated[str, Form()] = ""
) -> Response:
    """Change a decision's status."""
    _district(db, did, user)
    if dec not in {d.id for d in ds.team_of(db, did)[1]}:
        raise HTTPException(status_code=404, detail="decisione non trovata")
    try:
        ds.set_decision_status(db, dec, status)
    except InputError as exc:
        return _team_page(request, db, user, did, problems=exc.problems, status_code=422)
    return _see_other(f"/districts/{did}/team")
