"""Public buildings end to end in Debian's Chromium: officer_a imports the example CSV through the page, the public
page shows the ranked table and the Leaflet map with the buildings, the detail page opens; no external request."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_officer_imports_and_public_sees_ranking_map_and_detail(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = build_world(tmp_path_factory.mktemp("buildings") / "b.db", days=3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve(world.url) as base, chromium_page(base) as (page, outside):
        page.goto(f"{base}/login")
        page.fill("input[name=email]", world.emails["officer_a"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        page.goto(f"{base}/comune/borgo-demo/edifici")
        assert page.locator("#no-buildings").count() == 1
        page.click("#import-link")
        page.set_input_files("#buildings-file", str(EXAMPLES / "edifici-pubblici.csv"))
        page.click("#import-submit")
        page.wait_for_url(f"{base}/comune/borgo-demo/edifici")
        assert "12" in page.locator("#flash").inner_text()

        # log out, then look as a visitor
        page.click("#logout")
        page.wait_for_load_state()
        page.goto(f"{base}/comune/borgo-demo/edifici")
        rows = page.locator("#buildings-table tbody tr")
        assert rows.count() == 12
        first = rows.nth(0).locator("td").nth(0).inner_text().strip()
        assert first.endswith("1")
        page.wait_for_function("window.buildingsLayer && window.buildingsLayer.getLayers().length === 12")
        assert page.locator("#buildings-map .leaflet-interactive").count() == 12
        assert page.locator("#buildings-map .leaflet-tile").count() == 0  # no tile layer
        page.screenshot(path=str(SHOTS / "civic-buildings-list.png"), full_page=True)

        page.locator("#buildings-table a", has_text="Municipio").click()
        page.wait_for_url(f"{base}/comune/borgo-demo/edifici/MUN01")
        assert page.locator("#building-name").inner_text() == "Municipio"
        assert page.locator("#monthly-chart svg rect").count() > 36
        assert page.locator("#score-table tbody tr").count() == 4  # three terms and the historic-building penalty
        page.wait_for_function("window.buildingsLayer && window.buildingsLayer.getLayers().length === 1")
        page.screenshot(path=str(SHOTS / "civic-buildings-detail.png"), full_page=True)

        page.goto(f"{base}/comune/borgo-demo/edifici/report.html")
        assert page.locator("h1").inner_text() == "Edifici pubblici per impianti condivisi"
        assert outside == []
