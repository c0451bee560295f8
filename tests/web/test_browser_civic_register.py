"""End to end in Debian's Chromium: a community registers, the office publishes it, it appears on the map, it
applies for the label with evidence from its private link, the office awards it, the register shows the badge."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tests.web.conftest import PASSWORD, build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]

AREA = {"type": "Polygon", "coordinates": [[[7.68, 45.06], [7.70, 45.06], [7.70, 45.08], [7.68, 45.08], [7.68, 45.06]]]}
NAME = "CER Collina Solare"


def test_register_publish_map_apply_award(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = build_world(tmp_path_factory.mktemp("register") / "register.db", days=3)
    with serve(world.url) as base, chromium_page(base) as (page, outside):

        def login(role: str) -> None:
            page.goto(f"{base}/login")
            page.fill("input[name=email]", world.emails[role])
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()

        # 1. the community registers through the public form (no login)
        page.goto(f"{base}/comune/borgo-demo/registro")
        page.click("#register-link")
        page.fill("#f-name", NAME)
        page.select_option("#f-configuration", "CER")
        page.select_option("#f-status", "constituted")
        page.fill("#f-members_count", "27")
        page.fill("#f-plants", "fotovoltaico; 95; Tetto della palestra")
        page.fill("#f-cabina_codes", "AC001E00555")
        page.fill("#f-cabina_area", json.dumps(AREA))
        page.fill("#f-contact_email", "segreteria@collina.example")
        page.click("#entry-submit")
        page.wait_for_selector("#manage-notice")
        manage = page.inner_text("#manage-link").strip()
        assert "/comune/borgo-demo/registro/gestisci/" in manage
        assert page.get_attribute("#publication", "data-publication") == "submitted"

        # 2. the officer publishes it
        login("officer_a")
        page.goto(f"{base}/comune/borgo-demo/registro/gestione")
        row = page.locator("#iscrizioni tr", has_text=NAME)
        row.locator("button.publish").click()
        page.wait_for_load_state()
        assert page.locator("#iscrizioni tr", has_text=NAME).count() == 0

        # 3. the register's map shows its area, the list shows the entry
        page.context.clear_cookies()
        page.goto(f"{base}/comune/borgo-demo/registro")
        page.wait_for_selector("#register-map path.leaflet-interactive")
        assert page.locator("#register-map path.leaflet-interactive").count() >= 1
        assert page.locator("#entries li", has_text=NAME).count() == 1
        assert page.locator(".leaflet-tile").count() == 0
        page.locator("#register-map path.leaflet-interactive").first.click(force=True)
        page.wait_for_selector(".leaflet-popup-content a")
        assert NAME in page.inner_text(".leaflet-popup-content")
        # filters are applied server side, to list and map alike
        page.select_option("#filters select[name=configuration]", "AUC")
        page.click("#filters button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#entries li", has_text=NAME).count() == 0
        assert page.locator("#register-map path.leaflet-interactive").count() == 0

        # 4. the community applies for the label with evidence from its private link
        page.goto(manage)
        page.fill("#value_famiglie_vulnerabili", "14")
        page.fill("#note_famiglie_vulnerabili", "elenco dei soci con bonus sociale")
        page.select_option("#value_filiera_locale", "si")
        page.fill("#value_assemblee_aperte", "3")
        page.select_option("#value_regolamento_pubblicato", "si")
        page.fill("#note_regolamento_pubblicato", "https://collina.example/regolamento.pdf")
        page.fill("#value_fondo_poverta_energetica", "5")
        page.click("#label-submit")
        page.wait_for_selector("#applications tr[data-status=submitted]")

        # 5. the officer reviews and awards it
        login("officer_a")
        page.goto(f"{base}/comune/borgo-demo/registro/gestione")
        page.locator("#etichette a.review-link", has_text=NAME).click()
        page.wait_for_selector("#review-form")
        assert page.get_attribute("#eligible", "data-eligible") == "yes"
        award_day = dt.date(2026, 3, 2)
        page.fill("#awarded_on", award_day.isoformat())
        page.click("#award")
        page.wait_for_load_state()

        # 6. the register shows the badge with date and expiry
        page.context.clear_cookies()
        page.goto(f"{base}/comune/borgo-demo/registro")
        badge = page.locator("#entries li", has_text=NAME).locator(".label-badge")
        text = badge.inner_text()
        assert badge.get_attribute("data-label") in ("valid", "expired")
        assert "02/03/2026" in text and "02/03/2028" in text
        if dt.date.today() <= dt.date(2028, 3, 2):
            assert badge.get_attribute("data-label") == "valid"
        page.wait_for_selector("#register-map path.leaflet-interactive")
        assert outside == []
