"""Passwords, CSRF tokens, translations and formats for people."""

from __future__ import annotations

import datetime as dt

import pytest

from condivisa.web import i18n
from condivisa.web.security import csrf_matches, hash_password, new_csrf_token, verify_password


def test_passwords_are_salted_argon2_and_verified() -> None:
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1 != h2 and h1.startswith("$argon2id$")
    assert verify_password("correct horse", h1)
    assert not verify_password("wrong horse", h1)
    assert not verify_password("correct horse", "not-a-hash")
    with pytest.raises(ValueError, match="almeno 8"):
        hash_password("short")


def test_csrf() -> None:
    token = new_csrf_token()
    assert csrf_matches(token, token)
    assert not csrf_matches(token, new_csrf_token())
    assert not csrf_matches(None, token) and not csrf_matches(token, "")


def test_translations_italian_source_english_catalog() -> None:
    assert i18n.gettext("it", "Accedi") == "Accedi"
    assert i18n.gettext("en", "Accedi") == "Log in"
    assert i18n.gettext("en", "testo non tradotto") == "testo non tradotto"


def test_formats_for_people() -> None:
    assert i18n.number(1234.5, "it", 1) == "1.234,5"
    assert i18n.number(1234.5, "en", 1) == "1,234.5"
    assert i18n.euro(1234.5, "it").replace("\xa0", " ") == "1.234,50 €"
    assert i18n.day(dt.date(2026, 11, 23), "it") == "23/11/2026"


@pytest.mark.parametrize(
    ("header", "explicit", "expected"),
    [
        ("en-GB,en;q=0.9", None, "en"),
        ("fr-FR,de", None, "it"),
        (None, None, "it"),
        ("en", "it", "it"),
    ],
)
def test_locale_choice(header: str | None, explicit: str | None, expected: str) -> None:
    assert i18n.pick_locale(header, explicit) == expected


def test_codes_read_as_words_in_both_languages() -> None:
    from condivisa.model.community import MEMBER_KINDS, TECHNOLOGIES

    for code in (*MEMBER_KINDS, *TECHNOLOGIES):
        italian = i18n.gettext("it", code)
        assert italian and (italian != code or code == "biogas"), code
    assert i18n.gettext("it", "household") == "famiglia"
    assert i18n.gettext("it", "pv") == "fotovoltaico"
