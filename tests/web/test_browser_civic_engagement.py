"""Training and engagement end to end in Debian's Chromium: an officer creates a published course with one place,
two citizens register (the second waits), the first cancels through the private link and the second gets the
place; the officer records attendance and uploads a material that the public page then offers."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import PASSWORD, World, build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BASE = "/comune/borgo-demo/eventi"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(tmp_path_factory.mktemp("engagement") / "engagement.db", days=3)
    with serve(world.url) as base:
        yield base, world


def test_course_with_one_place_waiting_list_attendance_and_material(live: tuple[str, World], tmp_path: Path) -> None:
    base, world = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    material = tmp_path / "slide-corso.pdf"
    material.write_bytes(b"%PDF-1.4\n% slide del corso CER\n")
    day = dt.datetime.now(ZoneInfo("Europe/Rome")).date() + dt.timedelta(days=30)
    with chromium_page(base) as (page, outside):
        browser = page.context.browser

        def visitor() -> Any:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            context.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname != "127.0.0.1" else None)
            return context.new_page()

        # the officer creates a published course with one place
        page.goto(f"{base}/login")
        page.fill("input[name=email]", world.emails["officer_a"])
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}{BASE}/gestione")
        form = page.locator("#event-form")
        form.locator("select[name=kind]").select_option("course_citizens")
        form.locator("input[name=title]").fill("Corso: nasce una CER nel quartiere")
        form.locator("input[name=starts_at]").fill(f"{day.isoformat()}T18:00")
        form.locator("input[name=ends_at]").fill(f"{day.isoformat()}T20:00")
        form.locator("input[name=capacity]").fill("1")
        form.locator("input[name=place]").fill("Sala civica, via Garibaldi 3")
        form.locator("input[name=published]").check()
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}{BASE}/gestione/*")
        event_path = page.locator("#public-page").get_attribute("href")
        assert event_path is not None and event_path.startswith(f"{BASE}/")

        # first citizen: confirmed
        first = visitor()
        first.goto(f"{base}{event_path}")
        assert "18:00" in first.inner_text("#event-details")
        reg = first.locator("#registration-form")
        reg.locator("input[name=name]").fill("Giulia Bianchi")
        reg.locator("input[name=email]").fill("giulia@esempio.it")
        reg.locator("select[name=stakeholder_group]").select_option("citizens")
        reg.locator("input[name=privacy]").check()
        reg.locator("button[type=submit]").click()
        first.wait_for_url("**/eventi/iscrizione/*")
        assert first.get_attribute("#status", "data-status") == "confirmed"
        first_link = first.inner_text("#private-link").strip()
        assert first_link.startswith(f"{base}{BASE}/iscrizione/")

        # second citizen: waiting list
        second = visitor()
        second.goto(f"{base}{event_path}")
        reg = second.locator("#registration-form")
        reg.locator("input[name=name]").fill("Marco Rossi")
        reg.locator("input[name=email]").fill("marco@esempio.it")
        reg.locator("input[name=organisation]").fill("Bottega Rossi")
        reg.locator("select[name=stakeholder_group]").select_option("businesses")
        reg.locator("input[name=privacy]").check()
        reg.locator("button[type=submit]").click()
        second.wait_for_url("**/eventi/iscrizione/*")
        assert second.get_attribute("#status", "data-status") == "waiting"
        second_url = second.url

        # the first cancels through the private link; the second is now confirmed
        first.goto(first_link)
        first.click("#cancel")
        first.wait_for_selector("#status[data-status=cancelled]")
        second.goto(second_url)
        assert second.get_attribute("#status", "data-status") == "confirmed"
        second.screenshot(path=str(SHOTS / "engagement-registration.png"), full_page=True)

        # the officer marks attendance and uploads a public material
        page.reload()
        row = page.locator("tr", has_text="Marco Rossi")
        row.locator("input[name=present]").check()
        page.click("#save-attendance")
        page.wait_for_selector("#flash")
        assert page.locator("tr", has_text="Marco Rossi").locator("input[name=present]").is_checked()
        assert page.locator("tr", has_text="Giulia Bianchi").locator("input[name=present]").count() == 0
        upload = page.locator("#material-form")
        upload.locator("input[name=title]").fill("Slide del corso")
        upload.locator("input[name=file]").set_input_files(str(material))
        upload.locator("button[type=submit]").click()
        page.wait_for_selector("#materiali >> text=Slide del corso")
        page.screenshot(path=str(SHOTS / "engagement-manage.png"), full_page=True)

        # the public page offers the material, and nobody's name
        second.goto(f"{base}{event_path}")
        link = second.locator("#materials a", has_text="Slide del corso")
        href = link.get_attribute("href")
        assert href is not None
        body = second.request.get(f"{base}{href}").body()
        assert body == material.read_bytes()
        text = second.inner_text("main")
        assert "Marco Rossi" not in text and "Giulia Bianchi" not in text
        second.goto(f"{base}{BASE}")
        assert second.locator(f"a[href='{event_path}']").count() == 1
        second.screenshot(path=str(SHOTS / "engagement-list.png"), full_page=True)
    assert outside == []
