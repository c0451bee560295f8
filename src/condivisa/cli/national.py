"""``condivisa`` commands of national scale: ``national-generate`` and ``settle-many``.

Exit codes: 0 done, 2 bad input (unknown source, a dataset of another year, a bad scheduler address), 1 some
communities could not be settled (each one is named on stderr; the others are in the output).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from condivisa.cli.common import guard


def national_generate_cmd(
    directory: Annotated[Path, typer.Argument(help="cartella del dataset da creare")],
    communities: Annotated[int, typer.Option("--communities", help="numero di configurazioni")] = 100,
    pods: Annotated[
        int | None, typer.Option("--pods", help="POD per configurazione (se omesso: estratti, circa 10 in media)")
    ] = None,
    year: Annotated[int, typer.Option("--year", help="anno delle letture orarie")] = 2025,
    seed: Annotated[int, typer.Option("--seed", help="seme del generatore")] = 0,
) -> None:
    """Genera un dataset nazionale realistico: letture orarie in Parquet (zona/cabina/mese) e descrizioni JSON."""
    from condivisa.national.parquet import write_dataset

    def run() -> None:
        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                typer.echo(f"  {done}/{total} comunita'", err=True)

        try:
            ds = write_dataset(directory, communities, pods=pods, year=year, seed=seed, progress=progress)
        except ValueError as exc:
            from condivisa.errors import InputError

            raise InputError.one(str(exc)) from None
        n_pods = sum(e.pods for e in ds.entries)
        typer.echo(f"Dataset scritto in {directory}: {len(ds.entries)} comunita', {n_pods} POD, anno {year}")

    guard(run)


def settle_many_cmd(
    source: Annotated[str, typer.Argument(help="cartella di un dataset nazionale o URL del database")],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="local (LocalCluster) o tcp://host:porta; se omesso: in processo")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="worker del LocalCluster")] = 2,
    out: Annotated[Path | None, typer.Option("--out", help="risultati in .parquet o .json")] = None,
    year: Annotated[int | None, typer.Option("--year", help="anno da liquidare")] = None,
    batch: Annotated[int, typer.Option("--batch", help="comunita' per task")] = 20,
    memory_limit: Annotated[str, typer.Option("--memory-limit", help="memoria per worker locale")] = "4GiB",
) -> None:
    """Liquida tutte le comunita' di un dataset o di un database, in processo o su un cluster Dask."""
    from condivisa.national.settle_many import is_database_url, settle_many, write_records

    def run() -> int:
        from condivisa.errors import InputError

        if out is not None and out.suffix.lower() not in (".parquet", ".json"):
            raise InputError.one("formato di uscita non riconosciuto: usare .parquet o .json", field="--out")
        if not is_database_url(source) and not Path(source).is_dir():
            raise InputError.one("non e' una cartella di dataset ne' un URL di database", file=source)
        r = settle_many(source, scheduler=scheduler, workers=workers, batch=batch, memory_limit=memory_limit, year=year)
        if out is not None:
            write_records(r.records, out)
        t = r.totals()
        summary = {
            "communities": len(r.records),
            "failed": len(r.failures),
            "scheduler": r.scheduler,
            "workers": r.workers,
            "seconds": round(r.wall_s, 3),
            "shared_kwh": round(t["shared_kwh"], 3),
            "incentivised_kwh": round(t["incentivised_kwh"], 3),
            "total_eur": round(t["total_cents"] / 100, 2),
        }
        typer.echo(json.dumps(summary, ensure_ascii=False))
        for cid, why in r.failures:
            typer.echo(f"comunita' {cid} non liquidata: {why}", err=True)
        return 1 if r.failures else 0

    code = guard(run)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the ``condivisa`` command line."""
    app.command("national-generate")(national_generate_cmd)
    app.command("settle-many")(settle_many_cmd)
