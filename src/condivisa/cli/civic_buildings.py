"""``condivisa civic`` commands of the buildings service (filled in by its issue-7 step)."""

from __future__ import annotations

from condivisa.cli.civic import civic_app  # noqa: F401
