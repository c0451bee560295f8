"""Assembly of the web application: middleware, static files, templates, the API and the pages.

Everything the browser needs is served by the app itself (plotly.js from the installed plotly package, Leaflet
from ``xstatic-leaflet`` under ``/static/leaflet/``, the style sheet from ``web/static``): pages make no request
to another site. Maps draw GeoJSON without a tile layer for the same reason.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from condivisa.store import make_engine, session_factory
from condivisa.web import (
    api,
    civic,
    civic_buildings,
    civic_desk,
    civic_engagement,
    civic_matching,
    civic_register,
    district,
    energy_team,
    governance,
    operations,
    pages,
    strategy,
)
from condivisa.web.deps import LoginRequired, render

SESSION_COOKIE = "condivisa_session"
SESSION_MAX_AGE_S = 12 * 3600


def plotly_js_path() -> Path:
    """The minified plotly.js shipped inside the installed ``plotly`` package."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js non trovato in {path}: reinstallare il pacchetto plotly")
    return path


def leaflet_dir() -> str:
    """Leaflet's files (``leaflet.js``, ``leaflet.css``, ``images/``) from the installed ``xstatic-leaflet``."""
    import xstatic.pkg.leaflet as leaflet

    return str(leaflet.BASE_DIR)


def create_app(
    database_url: str,
    *,
    secret_key: str,
    https_only: bool = False,
    engine_options: dict[str, Any] | None = None,
) -> FastAPI:
    """Build the Condivisa web application on the database at ``database_url`` (already migrated).

    Parameters
    ----------
    database_url : str
        SQLite file or PostgreSQL URL (see :func:`condivisa.store.make_engine`).
    secret_key : str
        Key that signs the session cookie; at least 16 characters, kept secret and stable across restarts.
    https_only : bool
        Send the session cookie only over HTTPS (set it behind a TLS proxy).
    engine_options : dict, optional
        Passed to :func:`condivisa.store.make_engine`.

    Returns
    -------
    fastapi.FastAPI
        Pages at ``/``, the API under ``/api`` (OpenAPI document at ``/openapi.json``), static files under
        ``/static``.
    """
    if len(secret_key) < 16:
        raise ValueError("secret_key deve avere almeno 16 caratteri")
    app = FastAPI(title="Condivisa", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    app.state.engine = make_engine(database_url, **(engine_options or {}))
    app.state.secret_key = secret_key
    app.state.sessions = session_factory(app.state.engine)
    app.state.templates = Jinja2Templates(directory=str(resources.files("condivisa.web") / "templates"))
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=https_only,
    )
    plotly_js = plotly_js_path()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(
            plotly_js.read_bytes(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static/leaflet", StaticFiles(directory=leaflet_dir()), name="leaflet")
    app.mount("/static", StaticFiles(directory=str(resources.files("condivisa.web") / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(operations.router)
    app.include_router(civic.router)
    for service in (civic_desk, civic_register, civic_matching, civic_buildings, civic_engagement):
        app.include_router(service.router)
    for part in (governance, energy_team, district, strategy):
        app.include_router(part.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api") or request.url.path.startswith("/static"):
            return await http_exception_handler(request, exc)
        return render(request, "error.html", {"status": exc.status_code}, status_code=exc.status_code)

    return app
