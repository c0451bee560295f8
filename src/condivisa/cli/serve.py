"""``condivisa serve``: the web application (with ``--demo``, on a database filled with the demo community).

The lead registers it with ``register(app)`` in :mod:`condivisa.cli.app`.
"""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer


def serve(
    demo: Annotated[bool, typer.Option("--demo", help="carica la comunita' demo e gli utenti demo")] = False,
    db: Annotated[str, typer.Option("--db", help="URL del database (sqlite:///file.db, postgresql://...)")] = "",
    host: Annotated[str, typer.Option("--host", help="indirizzo di ascolto")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="porta")] = 8000,
) -> None:
    """Avvia l'applicazione web (pagine in italiano e inglese, API sotto /api)."""
    import uvicorn

    from condivisa.store import DEFAULT_URL, make_engine, upgrade
    from condivisa.store.energy_team import seed_demo_team
    from condivisa.store.inventories import seed_demo_balance
    from condivisa.web.app import create_app
    from condivisa.web.seed import DEMO_PASSWORD, seed_demo
    from condivisa.web.seed_civic import seed_civic_demo

    url = db or ("sqlite:///condivisa-demo.db" if demo else DEFAULT_URL)
    upgrade(url)
    if demo:
        typer.echo("Caricamento della comunita' demo (un anno di letture)...")
        engine = make_engine(url)
        try:
            done = seed_demo(engine)
            civic = seed_civic_demo(engine)
            seed_demo_team(engine)
            seed_demo_balance(engine)
        finally:
            engine.dispose()
        typer.echo(f"Comunita' demo {done.community_id}, {done.settlements} ripartizioni mensili.")
        if any(civic.values()):
            typer.echo(f"Servizi del comune demo: http://{host}:{port}/comune/borgo-demo")
        typer.echo(f"Accessi demo (password per tutti: {DEMO_PASSWORD}):")
        for role, email in done.users.items():
            typer.echo(f"  {role:8s} {email}")
    secret = os.environ.get("CONDIVISA_SECRET_KEY") or secrets.token_urlsafe(32)
    app = create_app(url, secret_key=secret)
    typer.echo(f"Condivisa su http://{host}:{port}/  (API: http://{host}:{port}/api/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the ``condivisa`` command line."""
    app.command("serve")(serve)
