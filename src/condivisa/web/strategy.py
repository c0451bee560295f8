"""Pages of the strategy tools of issue 8 (filled in by its step)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
