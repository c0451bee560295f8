"""``condivisa`` commands of issue 9 (safety; filled in by its step)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the ``condivisa`` command line."""
