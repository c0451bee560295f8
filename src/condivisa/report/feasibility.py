"""The feasibility report of a project: charts (plotly), an Italian HTML page, PNG charts for slides, a PDF and
a JSON document for machines.

The HTML carries plotly.js inline (no CDN: the page works offline). PNG export goes through kaleido, which drives
a local Chromium (Debian's ``chromium`` package); without one the PNG files and the PDF's charts are skipped with
a warning, never silently. The PDF is made by WeasyPrint from the same page with the PNG charts in place of the
interactive ones.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from condivisa import __version__
from condivisa.engine.timegrid import LOCAL_TZ
from condivisa.planning.plan import PlanResult
from condivisa.planning.profiles import band_split, base_load_kw, daily_heatmap
from condivisa.planning.sharing_rules import TOTAL_ROW
from condivisa.report.italian import format_eur, format_number
from condivisa.rules.rulebook import canonical_region, load_rulebook

GREEN, BLUE, ORANGE, GREY = "#0b6e4f", "#2a6f97", "#e07a1f", "#8d99a6"
LAYOUT = {
    "template": "plotly_white",
    "font": {"family": "DejaVu Sans, Arial", "size": 13},
    "height": 420,
    "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
    "separators": ",.",
}
MONTHS = ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"]


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote, and what it could not."""

    html: Path
    json: Path
    pdf: Path | None = None
    png: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def figures(r: PlanResult) -> dict[str, go.Figure]:
    """The report's charts, by name (the PNG file names)."""
    local = r.hours.tz_convert(LOCAL_TZ)
    load = r.member_load_kwh[[m.id for m in r.project.members if not m.candidate]].sum(axis=1).to_numpy()
    prod = r.plant_production_kwh.sum(axis=1).to_numpy()
    shared = r.settlement.energy.shared[0]
    month = local.month.to_numpy()
    out: dict[str, go.Figure] = {}

    monthly = pd.DataFrame({"load": load, "prod": prod, "shared": shared}).groupby(month).sum() / 1000.0
    fig = go.Figure()
    fig.add_bar(x=MONTHS, y=monthly["load"], name="Consumo dei soci", marker_color=BLUE)
    fig.add_bar(x=MONTHS, y=monthly["prod"], name="Produzione", marker_color=ORANGE)
    fig.add_bar(x=MONTHS, y=monthly["shared"], name="Energia condivisa", marker_color=GREEN)
    fig.update_layout(title="Energia per mese [MWh]", barmode="group", **LAYOUT)
    out["monthly"] = fig

    hour = local.hour.to_numpy()
    summer = np.isin(month, [6, 7, 8])
    winter = np.isin(month, [12, 1, 2])
    fig = go.Figure()
    for label, mask, dash in (("estate", summer, "solid"), ("inverno", winter, "dot")):
        day = pd.DataFrame({"load": load[mask], "prod": prod[mask], "h": hour[mask]}).groupby("h").mean()
        fig.add_scatter(x=day.index, y=day["load"], name=f"Consumo ({label})", line={"color": BLUE, "dash": dash})
        fig.add_scatter(x=day.index, y=day["prod"], name=f"Produzione ({label})", line={"color": ORANGE, "dash": dash})
    fig.update_layout(title="Giorno tipo [kWh per ora]", xaxis_title="ora locale", **LAYOUT)
    out["day"] = fig

    heat = daily_heatmap(pd.Series(load, index=r.hours))
    fig = go.Figure(
        go.Heatmap(
            z=heat.to_numpy().T, x=heat.index, y=list(heat.columns), colorscale="YlGnBu", colorbar={"title": "kWh"}
        )
    )
    fig.update_layout(title="Consumi dei soci per giorno e ora", yaxis_title="ora locale", **LAYOUT)
    out["heatmap"] = fig

    flows = r.cash_flows
    fig = go.Figure()
    fig.add_bar(x=flows.index, y=flows["net"], name="Flusso netto annuo", marker_color=GREY)
    fig.add_scatter(x=flows.index, y=flows["cumulative"], name="Cumulato", line={"color": GREEN, "width": 3})
    fig.add_scatter(
        x=flows.index,
        y=flows["cumulative_discounted"],
        name="Cumulato attualizzato",
        line={"color": BLUE, "dash": "dash"},
    )
    fig.update_layout(title="Flussi di cassa del progetto [€]", xaxis_title="anno", **LAYOUT)
    out["cashflow"] = fig

    if not r.pareto.empty:
        ok = r.pareto[r.pareto["status"] == "ok"]
        fig = go.Figure(
            go.Scatter(
                x=ok["investment_eur"] / 1000,
                y=ok["shared_kwh"] / 1000,
                mode="lines+markers",
                marker={"color": GREEN, "size": 9},
                line={"color": GREEN},
            )
        )
        fig.add_scatter(
            x=[r.sizing.investment_eur / 1000],
            y=[r.sizing.shared_kwh / 1000],
            mode="markers",
            name="soluzione scelta",
            marker={"color": ORANGE, "size": 13, "symbol": "star"},
        )
        fig.update_layout(
            title="Energia condivisa e investimento (fronte di Pareto)",
            xaxis_title="investimento [k€]",
            yaxis_title="energia condivisa [MWh/anno]",
            showlegend=False,
            **LAYOUT,
        )
        out["pareto"] = fig

    fig = go.Figure()
    base_price = r.sensitivity["sale_price_eur_mwh"]
    fig.add_scatter(
        x=base_price["value"],
        y=base_price["npv_eur"] / 1000,
        name="prezzo di vendita [€/MWh]",
        mode="lines+markers",
        line={"color": ORANGE},
    )
    part = r.sensitivity["participation"]
    fig.add_scatter(
        x=part["value"] * 100,
        y=part["npv_eur"] / 1000,
        name="partecipazione [%]",
        xaxis="x2",
        mode="lines+markers",
        line={"color": GREEN},
    )
    fig.update_layout(
        title="Sensibilità del valore attuale netto [k€]",
        xaxis={"title": "prezzo di vendita dell'energia [€/MWh]"},
        xaxis2={"title": "energia condivisa realizzata [%]", "overlaying": "x", "side": "top"},
        **{**LAYOUT, "margin": {"l": 60, "r": 20, "t": 100, "b": 50}},
    )
    out["sensitivity"] = fig

    table = r.regulation_comparison.drop(index=TOTAL_ROW, errors="ignore")
    fig = go.Figure()
    palette = [GREEN, BLUE, ORANGE, GREY, "#9b5de5", "#f15bb5"]
    for k, column in enumerate(table.columns):
        fig.add_bar(x=table.index, y=table[column], name=str(column), marker_color=palette[k % len(palette)])
    fig.update_layout(
        title="Ripartizione annua per destinatario secondo i regolamenti candidati [€]", barmode="group", **LAYOUT
    )
    out["allocation"] = fig
    return out


def _kwh(x: float) -> str:
    return f"{format_number(x, 0)} kWh"


def _context(r: PlanResult, charts: dict[str, Markup]) -> dict[str, Any]:
    rb = load_rulebook()
    s = r.settlement
    e = s.energy
    summary = r.summary
    region = canonical_region(r.project.region, rb) or r.project.region
    names = {m.id: m.name or m.id for m in r.project.members}
    incentive_total = s.allocation.total_cents / 100
    irr = f"{format_number(100 * summary.irr, 1)} %" if summary.irr is not None else "non definito"
    payback = (
        f"{format_number(summary.payback_years, 1)} anni" if summary.payback_years is not None else "oltre la vita"
    )
    kpis = [
        ("Potenza installata", f"{format_number(sum(r.plant_kw.values()), 1)} kW"),
        ("Investimento", format_eur(r.sizing.investment_eur)),
        ("Contributo PNRR", format_eur(summary.grant.amount_eur)),
        ("Energia condivisa", f"{format_number(e.shared.sum() / 1000, 1)} MWh/anno"),
        ("Incentivi (TIP + valorizzazione)", f"{format_eur(incentive_total)}/anno"),
        ("Valore attuale netto", format_eur(summary.npv_eur)),
        ("Tasso interno di rendimento", irr),
        ("Tempo di ritorno", payback),
    ]
    if summary.lcoe_eur_mwh is not None:
        kpis.append(("Costo livellato dell'energia", f"{format_number(summary.lcoe_eur_mwh, 1)} €/MWh"))
    limits = {p.id: p.upper_kw for p in r.project.plants}
    plants = [
        {
            "id": p.id,
            "technology": p.technology,
            "cabina": p.cabina,
            "owner": names.get(p.owner, p.owner),
            "kw": f"{format_number(r.plant_kw[p.id], 1)} kW",
            "limit": f"{format_number(limits[p.id], 1)} kW",
            "production": _kwh(float(r.plant_production_kwh[p.id].sum())) if p.id in r.plant_production_kwh else "-",
        }
        for p in r.project.plants
    ]
    members = []
    for m in r.project.members:
        series = pd.Series(r.member_load_kwh[m.id].to_numpy(), index=r.hours)
        bands = band_split(series)
        members.append(
            {
                "name": names[m.id] + (" (candidato)" if m.candidate else ""),
                "kind": m.kind,
                "cabina": m.cabina,
                "total": _kwh(float(series.sum())),
                "f1": _kwh(bands["F1"]),
                "f2": _kwh(bands["F2"]),
                "f3": _kwh(bands["F3"]),
                "base": f"{format_number(base_load_kw(series), 2)} kW",
            }
        )
    energy_rows = [
        ("Energia prelevata dai soci", _kwh(float(e.withdrawn.sum()))),
        ("Energia immessa dagli impianti", _kwh(float(e.injected.sum()))),
        ("Energia condivisa (minimo orario della configurazione)", _kwh(float(e.shared.sum()))),
        ("Energia incentivata (minimo orario per cabina primaria)", _kwh(float(e.incentivised.sum()))),
        ("Tariffa premio (TIP)", format_eur(s.tip_eur)),
        ("Valorizzazione ARERA", format_eur(s.valorisation_eur)),
        (
            "Quota eccedentaria (TIP da destinare a consumatori non imprese o fini sociali)",
            format_eur(sum(x.excess_eur for x in s.excess_sets)),
        ),
        ("Totale incentivi", format_eur(incentive_total)),
    ]
    shown = [
        ("capex", "Investimento"),
        ("grant", "Contributo"),
        ("opex", "Esercizio"),
        ("energy_sale", "Vendita"),
        ("tip", "TIP"),
        ("valorisation", "Valorizzazione"),
        ("net", "Netto"),
        ("cumulative", "Cumulato"),
    ]
    flow_rows = [
        [str(year)] + [format_number(float(row[c]), 0) for c, _ in shown] for year, row in r.cash_flows.iterrows()
    ]
    stakeholders = []
    if not r.stakeholder_flows.empty:
        rate = r.project.economics.discount_rate
        factor = (1 + rate) ** -np.arange(len(r.stakeholder_flows))
        for who in dict.fromkeys(r.stakeholder_flows.columns.get_level_values(0)):
            net = r.stakeholder_flows[(who, "net")].to_numpy()
            label = {"owner": "Proprietari degli impianti", "consumers": "Consumatori"}.get(str(who), str(who))
            stakeholders.append(
                {"name": label, "total": format_eur(float(net.sum())), "npv": format_eur(float((net * factor).sum()))}
            )
    comparison = r.regulation_comparison
    regulation_table = {
        "columns": [str(c) for c in comparison.columns],
        "rows": [
            [names.get(str(idx), "Totale" if idx == TOTAL_ROW else str(idx))] + [format_eur(float(v)) for v in row]
            for idx, row in comparison.iterrows()
        ],
    }
    exact = r.shapley.permutations is None
    regulation_text = (
        "Importi annui per destinatario con i regolamenti candidati, applicati all'anno calcolato come il GSE; ogni "
        "colonna somma al totale degli incentivi al centesimo. La colonna «Contributo (Shapley)» ripartisce secondo il "
        "contributo marginale medio di ogni socio al beneficio della comunità "
        + ("(valore esatto)." if exact else f"(stima su {r.shapley.permutations} permutazioni casuali).")
        + (
            " La colonna «Nucleolo» minimizza lessicograficamente il massimo scontento delle coalizioni di soci."
            if "Nucleolo" in comparison.columns
            else ""
        )
        + " Ogni colonna è esprimibile come regolamento della comunità (quote fisse per socio)."
    )
    recruits = [
        {
            "id": names.get(str(x["id"]), str(x["id"])),
            "cabina": x["cabina"],
            "yearly": _kwh(x["yearly_kwh"]),
            "added": _kwh(x["added_kwh"]),
            "eur": format_eur(x["added_eur"]),
            "reason": x["reason"],
        }
        for _, x in r.recruits.iterrows()
    ]
    conf = rb.configurations[r.project.configuration]
    sizing_text = (
        f"Dimensionamento con programmazione lineare su {len(r.hours)} ore (linopy + HiGHS), obiettivo "
        + ("valore attuale netto" if r.sizing.objective == "npv" else "energia condivisa")
        + f"; investimento {format_eur(r.sizing.investment_eur)}"
        + (
            f", batteria {format_number(r.sizing.battery_kwh, 0)} kWh / {format_number(r.sizing.battery_kw, 0)} kW"
            if r.sizing.battery_kwh >= 0.5
            else (", batteria non conveniente" if r.project.battery is not None else "")
        )
        + ". Il grafico mostra l'energia condivisa ottenibile al variare dell'investimento."
    )
    method = [
        "Consumi orari dalle curve di carico dei contatori o, in mancanza, dalle bollette per fascia F1/F2/F3 "
        "modellate con i profili standard BDEW 2025 (demandlib) e le festività italiane; i totali per fascia "
        "coincidono con le bollette.",
        "Produzione fotovoltaica con pvlib (ModelChain, PVWatts) sull'anno meteorologico tipico PVGIS (© EU JRC).",
        "Energia condivisa e incentivi calcolati ora per ora come il GSE: somma dei quarti d'ora, minimo orario per "
        "cabina primaria, attribuzione agli impianti in ordine di entrata in esercizio, tariffa premio con correzione "
        "geografica e riduzione per contributo in conto capitale (esenzioni incluse), valorizzazione ARERA.",
        "Ogni impianto ha un proprio punto di immissione (nessuna compensazione dietro il contatore di un socio); la "
        "batteria è conteggiata sull'impianto maggiore della sua cabina.",
        "Economia: flussi reali a prezzi costanti; TIP per 20 anni; degrado annuo della produzione; contributo PNRR "
        "con i massimali di costo per classe di potenza; imposte semplificate.",
    ]
    return {
        "name": r.project.name,
        "configuration": r.project.configuration,
        "configuration_name": conf.name,
        "region": region,
        "zone": s.zone,
        "year": r.project.year,
        "version": __version__,
        "generated": dt.date.today().strftime("%d/%m/%Y"),
        "kpis": kpis,
        "assumptions": r.assumptions,
        "plants": plants,
        "sizing_text": sizing_text,
        "members": members,
        "energy_rows": energy_rows,
        "years": r.project.economics.years,
        "flow_columns": [label for _, label in shown],
        "flow_rows": flow_rows,
        "stakeholders": stakeholders,
        "regulation_text": regulation_text,
        "regulation_table": regulation_table,
        "recruits": recruits,
        "method": method,
        "charts": charts,
    }


def render_html(r: PlanResult, figs: dict[str, go.Figure], *, images: dict[str, Path] | None = None) -> str:
    """The report page. Interactive charts (plotly.js inline once) unless ``images`` gives PNG files to embed."""
    env = Environment(loader=PackageLoader("condivisa.report", "templates"), autoescape=select_autoescape())
    charts: dict[str, Markup] = {}
    first = True
    for name, fig in figs.items():
        if images is not None:
            if name in images:
                charts[name] = Markup('<div class="chart"><img src="{}" alt="{}"></div>').format(
                    images[name].resolve().as_uri(), fig.layout.title.text or name
                )
            else:
                charts[name] = Markup("")
            continue
        html = fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False})
        charts[name] = Markup('<div class="chart">') + Markup(html) + Markup("</div>")
        first = False
    return env.get_template("feasibility.html.j2").render(**_context(r, charts))


def plan_document(r: PlanResult) -> dict[str, Any]:
    """The machine-readable result of ``condivisa plan`` (JSON)."""
    from condivisa.report.document import settlement_document

    s = r.summary
    return {
        "project": r.project.name,
        "year": r.project.year,
        "plants_kw": {k: round(v, 3) for k, v in r.plant_kw.items()},
        "battery": {"kwh": round(r.sizing.battery_kwh, 3), "kw": round(r.sizing.battery_kw, 3)},
        "sizing": {
            "objective": r.sizing.objective,
            "status": r.sizing.status,
            "investment_eur": round(r.sizing.investment_eur, 2),
            "shared_kwh": round(r.sizing.shared_kwh, 3),
            "build_seconds": round(r.sizing.build_seconds, 3),
            "solve_seconds": round(r.sizing.solve_seconds, 3),
        },
        "pareto": json.loads(r.pareto.to_json(orient="records")) if not r.pareto.empty else [],
        "economics": {
            "npv_eur": round(s.npv_eur, 2),
            "irr": s.irr,
            "payback_years": s.payback_years,
            "discounted_payback_years": s.discounted_payback_years,
            "lcoe_eur_mwh": s.lcoe_eur_mwh,
            "grant_eur": round(s.grant.amount_eur, 2),
            "grant_notes": list(s.grant.notes),
            "cash_flows": json.loads(r.cash_flows.reset_index().to_json(orient="records")),
        },
        "sensitivity": {k: json.loads(v.to_json(orient="records")) for k, v in r.sensitivity.items()},
        "regulations": json.loads(r.regulation_comparison.to_json(orient="columns")),
        "shapley": json.loads(r.shapley.to_frame().to_json(orient="index")),
        "recruits": json.loads(r.recruits.to_json(orient="records")),
        "settlement": settlement_document(r.settlement),
        "assumptions": r.assumptions,
    }


def browser_available() -> bool:
    """Whether a Chromium for kaleido's static export is on this machine."""
    return any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome", "chrome"))


def write_report(r: PlanResult, out_dir: Path, *, png: bool = True, pdf: bool = True) -> ReportFiles:
    """Write ``report.html``, ``plan.json``, ``charts/*.png`` and ``report.pdf`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = figures(r)
    files = ReportFiles(html=out_dir / "report.html", json=out_dir / "plan.json")
    files.html.write_text(render_html(r, figs), encoding="utf-8")
    files.json.write_text(
        json.dumps(plan_document(r), ensure_ascii=False, indent=2, default=float) + "\n", encoding="utf-8"
    )
    if (png or pdf) and not browser_available():
        files.warnings.append(
            "Chromium non trovato: grafici PNG e PDF non generati (installare il pacchetto "
            "Debian 'chromium'); il rapporto HTML e' completo"
        )
        return files
    if png or pdf:
        import plotly.io as pio

        charts = out_dir / "charts"
        charts.mkdir(exist_ok=True)
        paths = {name: charts / f"{name}.png" for name in figs}
        try:
            pio.write_images(list(figs.values()), [str(p) for p in paths.values()], width=1100, height=480, scale=2)
            files.png = paths
        except Exception as exc:  # kaleido reports browser problems with many exception types
            files.warnings.append(f"esportazione PNG non riuscita ({exc}); PDF senza grafici")
    if pdf:
        from weasyprint import HTML

        files.pdf = out_dir / "report.pdf"
        HTML(string=render_html(r, figs, images=files.png), base_url=str(out_dir)).write_pdf(str(files.pdf))
    return files
