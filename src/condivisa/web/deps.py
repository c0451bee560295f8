"""Request dependencies: database session, current user, CSRF checks, language, templates.

Handlers declare what they need with the ``Annotated`` aliases defined here (``SessionDep``, ``UserDep``...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from condivisa.store import audit
from condivisa.store.models import CommunityRow
from condivisa.web import i18n
from condivisa.web.access import Action, Principal, authorize, load_principal
from condivisa.web.security import csrf_matches, new_csrf_token

LANG_COOKIE = "condivisa_lang"


class LoginRequired(Exception):
    """A page was asked for without login: the app answers with a redirect to the login page."""


def get_db(request: Request) -> Iterator[Session]:
    """A database session for the request, closed afterwards."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


def get_engine(request: Request) -> Engine:
    """The application's engine (bulk imports and readers use it directly)."""
    engine: Engine = request.app.state.engine
    return engine


SessionDep = Annotated[Session, Depends(get_db)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def optional_user(request: Request, db: SessionDep) -> Principal | None:
    """The logged-in user, or None for a visitor."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    principal = load_principal(db, uid)
    if principal is None:
        request.session.clear()
    else:  # changes made through this request's session are audited as made by this user
        audit.bind_session(db, principal.user_id, "api" if request.url.path.startswith("/api") else "web")
    return principal


OptionalUserDep = Annotated[Principal | None, Depends(optional_user)]


def api_user(user: OptionalUserDep) -> Principal:
    """The logged-in user of an API call; 401 without login."""
    if user is None:
        raise HTTPException(status_code=401, detail="autenticazione richiesta")
    return user


def page_user(user: OptionalUserDep) -> Principal:
    """The logged-in user of a page; without login the app redirects to the login page."""
    if user is None:
        raise LoginRequired
    return user


ApiUserDep = Annotated[Principal, Depends(api_user)]
PageUserDep = Annotated[Principal, Depends(page_user)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def check_api_csrf(request: Request, user: ApiUserDep) -> None:
    """API writes need a login (401) and must echo the session's CSRF token in ``X-CSRF-Token`` (403)."""
    if not csrf_matches(request.session.get("csrf"), request.headers.get("x-csrf-token")):
        raise HTTPException(status_code=403, detail="token CSRF mancante o errato")


async def check_form_csrf(request: Request) -> None:
    """Form posts must carry the session's CSRF token in the hidden ``csrf_token`` field (403 otherwise)."""
    form = await request.form()
    value = form.get("csrf_token")
    if not csrf_matches(request.session.get("csrf"), value if isinstance(value, str) else None):
        raise HTTPException(status_code=403, detail="token CSRF mancante o errato")


ApiCsrf = Depends(check_api_csrf)
FormCsrf = Depends(check_form_csrf)


def locale_of(request: Request) -> str:
    """The language of the request: the cookie set by the language switch, else Accept-Language, else Italian."""
    return i18n.pick_locale(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))


LocaleDep = Annotated[str, Depends(locale_of)]


def community_or_404(db: Session, community_id: int) -> CommunityRow:
    """The stored community ``community_id``; 404 if there is none."""
    if not 0 < community_id < 2**63:  # beyond a 64-bit key the database refuses the query itself
        raise HTTPException(status_code=404, detail="comunita' non trovata")
    row = db.get(CommunityRow, community_id)
    if row is None:
        raise HTTPException(status_code=404, detail="comunita' non trovata")
    return row


def require(user: Principal, action: Action, row: CommunityRow, member_id: int | None = None) -> None:
    """403 unless ``user`` may perform ``action`` on the community ``row`` (and member ``member_id``)."""
    if not authorize(user, action, row.id, member_id, municipality=row.municipality):
        raise HTTPException(status_code=403, detail="accesso negato")


def render(
    request: Request, name: str, context: dict[str, Any], *, user: Principal | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` with the common context: user, language, translations, formats, CSRF token."""
    templates: Jinja2Templates = request.app.state.templates
    locale = locale_of(request)

    def t(message: str) -> str:
        return i18n.gettext(locale, message)

    formats: dict[str, Callable[..., str]] = {
        "num": lambda x, digits=0: i18n.number(x, locale, digits),
        "eur": lambda x: i18n.euro(x, locale),
        "day": lambda d: i18n.day(d, locale),
        "moment": lambda m: i18n.moment(m, locale),
    }
    flash = request.session.pop("flash", None)
    full = {
        "user": user,
        "locale": locale,
        "t": t,
        "csrf_token": csrf_token(request),
        "flash": flash,
        **formats,
        **context,
    }
    return templates.TemplateResponse(request, name, full, status_code=status_code)
