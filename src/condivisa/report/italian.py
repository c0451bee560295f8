"""Italian summary of a settlement for the terminal (Rich tables, Italian number formats via Babel)."""

from __future__ import annotations

from babel.numbers import format_currency, format_decimal
from rich.console import Console
from rich.table import Table

from condivisa.engine.settle import Settlement

LOCALE = "it_IT"


def format_number(x: float, digits: int = 0) -> str:
    """Italian number: ``1.234,5``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(x, format=pattern, locale=LOCALE))


def format_kwh(x: float) -> str:
    return f"{format_number(x, 1)} kWh"


def format_eur(x: float) -> str:
    return str(format_currency(x, "EUR", locale=LOCALE))


def print_settlement(s: Settlement, console: Console | None = None) -> None:
    """Print the settlement as Italian tables."""
    out = console or Console()
    e = s.energy
    out.print(
        f"[bold]{s.community.name}[/bold] ({s.community.configuration}, zona {s.zone}) - "
        f"periodo {s.period.start:%d/%m/%Y} - {s.period.end:%d/%m/%Y}, {format_number(len(s.hours))} ore"
    )
    t = Table(title="Energia")
    t.add_column("Voce")
    t.add_column("kWh", justify="right")
    for label, value in (
        ("Prelevata dai soci", e.withdrawn.sum()),
        ("Immessa dagli impianti", e.injected.sum()),
        ("Condivisa (configurazione)", e.shared.sum()),
        ("Incentivata (per cabina primaria)", e.incentivised.sum()),
    ):
        t.add_row(label, format_number(float(value), 1))
    out.print(t)

    t = Table(title="Impianti (in ordine di entrata in esercizio)")
    for c in ("Impianto", "Cabina", "Immessa kWh", "Incentivata kWh", "Tariffa premio", "Quota eccedentaria"):
        t.add_column(c, justify="right" if c not in ("Impianto", "Cabina") else "left")
    for r in s.plant_results:
        t.add_row(
            r.id,
            r.cabina,
            format_number(r.injected_kwh, 1),
            format_number(r.incentivised_kwh, 1),
            format_eur(r.tip_eur),
            format_eur(r.excess_eur),
        )
    out.print(t)

    t = Table(title="Incentivi")
    t.add_column("Voce")
    t.add_column("Importo", justify="right")
    t.add_row("Tariffa premio (TIP)", format_eur(s.tip_eur))
    t.add_row("Valorizzazione ARERA", format_eur(s.valorisation_eur))
    t.add_row("[bold]Totale[/bold]", f"[bold]{format_eur(s.allocation.total_cents / 100)}[/bold]")
    out.print(t)

    t = Table(title="Ripartizione secondo il regolamento")
    t.add_column("Destinatario")
    t.add_column("Importo", justify="right")
    names = {m.id: m.name for m in s.community.members}
    for to, cents in s.allocation.by_recipient().items():
        label = f"{to} - {names[to]}" if names.get(to) else to
        t.add_row(label, format_eur(cents / 100))
    out.print(t)
    out.print(f"Prezzi: {s.price_source}")
    for w in s.warnings:
        out.print(f"[yellow]Avviso:[/yellow] {w}")
