"""``condivisa civic`` commands of the register service: open-data export, default label criteria."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from condivisa.cli.civic import civic_app
from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.store import DEFAULT_URL, session_factory


class ExportFormat(StrEnum):
    """Open-data formats of the register."""

    csv = "csv"
    geojson = "geojson"


@civic_app.command("register-export")
def register_export_cmd(
    slug: Annotated[str, typer.Argument(help="il comune, come in /comune/SLUG")],
    format: Annotated[ExportFormat, typer.Option("--format", help="csv o geojson")] = ExportFormat.csv,
    out: Annotated[Path | None, typer.Option("--out", help="file da scrivere (senza: a schermo)")] = None,
    db: DbUrl = DEFAULT_URL,
) -> None:
    """Esporta il registro pubblico (solo voci pubblicate, nessun dato personale) in CSV o GeoJSON."""
    import datetime as dt
    import json
    from zoneinfo import ZoneInfo

    from condivisa.civic.register import to_csv, to_geojson
    from condivisa.store.municipalities import municipality_by_slug
    from condivisa.store.register import public_entries

    def run() -> str:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                municipality = municipality_by_slug(session, slug)
                entries = public_entries(session, municipality.id)
        finally:
            engine.dispose()
        today = dt.datetime.now(ZoneInfo("Europe/Rome")).date()
        if format is ExportFormat.csv:
            return to_csv(entries, today)
        return json.dumps(to_geojson(entries, today, municipality=municipality.name), ensure_ascii=False, indent=1)

    text = _db_guard(run)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"scritto {out}", err=True)


@civic_app.command("label-criteria")
def label_criteria_cmd() -> None:
    """Mostra i criteri predefiniti dell'etichetta di qualità, con la fonte di ciascuno."""
    from condivisa.civic.label import default_criteria

    defaults = default_criteria()
    typer.echo(f"punteggio minimo {defaults.min_score:.0%}, validità {defaults.validity_years} anni")
    for c in defaults.criteria:
        unit = " %" if c.kind == "min_share" else ""
        rule = "sì/no" if c.threshold is None else f">= {c.threshold:g}{unit}"
        flags = ("obbligatorio, " if c.required else "") + f"peso {c.weight:g}"
        tag = " [proposta]" if c.proposal else ""
        typer.echo(f"- {c.code}: {c.title} ({rule}; {flags}){tag}\n  fonte: {c.source}")
