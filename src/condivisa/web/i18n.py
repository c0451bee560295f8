"""Translations (Babel catalogs: Italian first, English second) and locale-aware formats for people."""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LOCALES = ("it", "en")
DEFAULT_LOCALE = "it"
_BABEL_LOCALE = {"it": "it_IT", "en": "en_GB"}


@cache
def translations(locale: str) -> Translations:
    """Translations of ``locale`` read from ``web/locale/<locale>/LC_MESSAGES/*.po``.

    ``messages.po`` holds the platform's messages, one more catalog per public service (``civic_desk.po``...);
    they are merged. Catalogs are compiled in memory from the ``.po`` files, so no build step is needed. Italian is
    the source language: its catalog may be empty.
    """
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    folder = resources.files("condivisa.web") / "locale" / locale / "LC_MESSAGES"
    names = sorted(x.name for x in folder.iterdir() if x.name.endswith(".po"))
    merged: Translations | None = None
    for name in ["messages.po", *(n for n in names if n != "messages.po")]:
        with (folder / name).open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    assert merged is not None
    return merged


def gettext(locale: str, message: str) -> str:
    """``message`` (Italian source text) in ``locale``."""
    return str(translations(locale).gettext(message))


def number(x: float, locale: str = DEFAULT_LOCALE, digits: int = 0) -> str:
    """Number with the locale's separators (``1.234,5`` in Italian)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(x, format=pattern, locale=_BABEL_LOCALE.get(locale, "it_IT")))


def euro(x: float, locale: str = DEFAULT_LOCALE) -> str:
    """Amount in euro (``1.234,50 €`` in Italian)."""
    return str(format_currency(x, "EUR", locale=_BABEL_LOCALE.get(locale, "it_IT")))


def day(d: dt.date, locale: str = DEFAULT_LOCALE) -> str:
    """A date as people read it (``23/11/2026`` in Italian)."""
    return str(format_date(d, format="short" if locale == "en" else "dd/MM/yyyy", locale=_BABEL_LOCALE[locale]))


def moment(t: dt.datetime, locale: str = DEFAULT_LOCALE) -> str:
    """A date and time in Italian local time as people read it."""
    return str(
        format_datetime(t, format="dd/MM/yyyy HH:mm", tzinfo=ZoneInfo("Europe/Rome"), locale=_BABEL_LOCALE[locale])
    )


def pick_locale(accept_language: str | None, explicit: str | None = None) -> str:
    """The user's explicit choice, else the first supported language of the Accept-Language header, else Italian."""
    if explicit in LOCALES:
        return str(explicit)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LOCALES:
            return code
    return DEFAULT_LOCALE
