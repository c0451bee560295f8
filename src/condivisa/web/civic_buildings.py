"""Pages of the municipality's buildings service (filled in by its issue-7 step)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
