"""Matchmaking end to end in Debian's Chromium: a roof owner and a community meet, consent, then see contacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.web.conftest import build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SLUG = "/comune/borgo-demo"
ROOF = {"name": "Tetto della palestra", "person": "Ottavio Tegolini", "email": "ottavio.tegolini@tetti.example"}
COMMUNITY = {"name": "CER dei Castagni", "person": "Benedetta Solari", "email": "benedetta.solari@cer.example"}


def _create(page: object, base: str, kind: str, who: dict[str, str], attrs: dict[str, str], phone: str) -> str:
    page.goto(f"{base}{SLUG}/incontri/nuovo")  # type: ignore[attr-defined]
    page.click(f'#kind-choice a[data-kind="{kind}"]')  # type: ignore[attr-defined]
    page.fill('input[name="display_name"]', who["name"])  # type: ignore[attr-defined]
    page.fill('textarea[name="description"]', f"{who['name']}: profilo di prova")  # type: ignore[attr-defined]
    for field, value in attrs.items():
        selector = f'[name="{field}"]'
        if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":  # type: ignore[attr-defined]
            page.select_option(selector, value)  # type: ignore[attr-defined]
        else:
            page.fill(selector, value)  # type: ignore[attr-defined]
    page.fill('input[name="cabina"]', "AC001E00123")  # type: ignore[attr-defined]
    page.fill('input[name="contact_name"]', who["person"])  # type: ignore[attr-defined]
    page.fill('input[name="contact_email"]', who["email"])  # type: ignore[attr-defined]
    page.fill('input[name="contact_phone"]', phone)  # type: ignore[attr-defined]
    page.check('input[name="privacy"]')  # type: ignore[attr-defined]
    page.click("#create-profile")  # type: ignore[attr-defined]
    page.wait_for_selector("#created")  # type: ignore[attr-defined]
    url: str = page.url.split("?")[0]  # type: ignore[attr-defined]
    assert "/incontri/profilo/" in url
    return url


def test_roof_owner_and_community_meet(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = build_world(tmp_path_factory.mktemp("matching") / "x.db", days=3)
    with serve(world.url) as base, chromium_page(base) as (page, outside):
        page.goto(f"{base}/lang/it?next={SLUG}")  # Italian, whatever the browser's language
        community_url = _create(
            page,
            base,
            "community",
            COMMUNITY,
            {"pv_kwp": "40", "consumption_kwh_year": "120000", "consumption_pattern": "day", "lacking_pattern": "day"},
            "+39 011 5550001",
        )
        roof_url = _create(
            page, base, "roof_owner", ROOF, {"area_m2": "400", "orientation": "SE", "tilt_deg": "20"}, "+39 347 5550002"
        )
        # the roof owner sees the community among the ranked matches, with explained components
        page.goto(roof_url)
        card = page.locator(f'article[data-candidate="{COMMUNITY["name"]}"]')
        assert card.count() == 1
        text = card.inner_text()
        assert "Energia condivisa aggiunta" in text and "kWh/anno" in text and "Stessa cabina primaria" in text
        assert len(card.locator("tr.component").all()) == 2
        assert COMMUNITY["person"] not in page.content() and COMMUNITY["email"] not in page.content()
        card.locator("button.accept").click()
        page.wait_for_load_state()
        assert "in attesa" in page.locator(f'article[data-candidate="{COMMUNITY["name"]}"]').inner_text()
        assert COMMUNITY["email"] not in page.content()
        # the community accepts from its own page
        page.goto(community_url)
        roof_card = page.locator(f'article[data-candidate="{ROOF["name"]}"]')
        assert "proposto il contatto" in roof_card.inner_text()
        assert ROOF["email"] not in page.content()
        roof_card.locator("button.accept").click()
        page.wait_for_load_state()
        contact = page.locator(f'article[data-candidate="{ROOF["name"]}"] .mt-contact').inner_text()
        assert ROOF["person"] in contact and ROOF["email"] in contact and "+39 347 5550002" in contact
        # and the roof owner now sees the community's contact
        page.goto(roof_url)
        contact = page.locator(f'article[data-candidate="{COMMUNITY["name"]}"] .mt-contact').inner_text()
        assert COMMUNITY["person"] in contact and COMMUNITY["email"] in contact
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "incontri-abbinamento.png"), full_page=True)
        # the public listing shows public data only
        page.goto(f"{base}{SLUG}/incontri")
        listing = page.content()
        assert ROOF["name"] in listing and COMMUNITY["name"] in listing
        for secret in (ROOF["person"], ROOF["email"], COMMUNITY["person"], COMMUNITY["email"]):
            assert secret not in listing
        assert outside == []
