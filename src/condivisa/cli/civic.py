"""``condivisa civic``: the municipality's public services from the command line (municipalities, public
buildings, open data)."""

from __future__ import annotations

from typing import Annotated

import typer

from condivisa.cli.db import DbUrl, _db_guard, _engine
from condivisa.store import DEFAULT_URL, session_factory

civic_app = typer.Typer(
    help="Servizi pubblici del comune: comuni, edifici pubblici, dati aperti.", no_args_is_help=True
)


@civic_app.command("add-municipality")
def add_municipality_cmd(
    name: Annotated[str, typer.Argument(help="nome del comune (come in communities.municipality e nei ruoli)")],
    region: Annotated[str, typer.Option(help="regione, per esempio Piemonte")],
    db: DbUrl = DEFAULT_URL,
    slug: Annotated[str | None, typer.Option(help="nome nelle pagine pubbliche /comune/SLUG")] = None,
    province: Annotated[str | None, typer.Option(help="sigla della provincia")] = None,
    latitude: Annotated[float | None, typer.Option(help="latitudine del centro [gradi]")] = None,
    longitude: Annotated[float | None, typer.Option(help="longitudine del centro [gradi]")] = None,
) -> None:
    """Aggiunge un comune che offre i servizi pubblici (sportello, registro, incontri, edifici, eventi)."""
    from condivisa.store.municipalities import ensure_municipality

    def run() -> str:
        engine = _engine(db)
        try:
            with session_factory(engine)() as session:
                info = ensure_municipality(
                    session,
                    name,
                    region=region,
                    slug=slug,
                    province=province,
                    latitude=latitude,
                    longitude=longitude,
                )
                return f"{info.name}: /comune/{info.slug} (id {info.id})"
        finally:
            engine.dispose()

    typer.echo(_db_guard(run))


# Commands of each service register themselves on civic_app when their module is imported.
from condivisa.cli import civic_buildings, civic_register  # noqa: E402, F401
