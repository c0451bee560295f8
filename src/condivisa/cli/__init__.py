"""Command line (Typer): thin shell over the core."""
