"""The digital help desk end to end in Debian's Chromium: a citizen fills the questionnaire, reads the answer and
the estimate, asks to be contacted and books a slot; the officer answers and closes the ticket; the citizen reads
the answer on the follow-up page. No request leaves 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from condivisa.store import desk as store
from condivisa.store import make_engine, session_factory
from condivisa.store.municipalities import municipality_by_slug
from tests.web.conftest import PASSWORD, build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_citizen_desk_then_officer_answers(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = build_world(tmp_path_factory.mktemp("desk") / "desk.db", days=3)
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        town = municipality_by_slug(s, "borgo-demo")
        office = store.create_office(s, town.id, name="Sportello Circoscrizione 1", address="Piazza Palazzo 1")
        start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
        store.create_slot(s, town.id, office.id, starts_at=start, ends_at=start + dt.timedelta(minutes=30))
    engine.dispose()
    SHOTS.mkdir(parents=True, exist_ok=True)

    with serve(world.url) as base, chromium_page(base) as (page, outside):
        # the citizen, from the municipality's home
        page.goto(f"{base}/lang/it?next=/comune/borgo-demo")  # Italian, whatever the browser's language
        page.click("a[href='/comune/borgo-demo/sportello']")
        page.select_option("#subject", "household")
        page.select_option("#region", "Piemonte")
        page.fill("#cabina", "AC001E00123")
        page.select_option("#tenure", "owner")
        page.select_option("#building", "house")
        page.select_option("#roof", "yes")
        page.fill("#roof_area_m2", "30")
        page.select_option("#orientation", "sud")
        page.fill("#yearly_kwh", "3.200")
        page.fill("#budget_eur", "9.000")
        page.select_option("#small_municipality", "yes")
        page.click("#desk-submit")
        page.wait_for_selector("#recommended")
        assert page.get_attribute("#recommended", "data-form") == "individual"
        reasons = page.inner_text("#reasons")
        assert "dietro il tuo contatore" in reasons and "D.Lgs. 199/2021" in reasons
        estimate = page.inner_text("#estimate-1")
        assert "kWh/kWp" in estimate and "€" in estimate
        page.screenshot(path=str(SHOTS / "desk-result.png"), full_page=True)

        page.fill("#contact_name", "Elena Ferrero")
        page.fill("#contact_email", "elena.ferrero@example.org")
        page.fill("#contact_phone", "+39 011 555 1234")
        page.select_option("#slot_id", index=1)
        page.check("#privacy")
        page.click("#contact-submit")
        page.wait_for_selector("#follow-up")
        follow_up = page.url
        assert page.get_attribute("#status", "data-status") == "open"
        assert "Sportello Circoscrizione 1" in page.inner_text("#appointment")
        assert "Elena" not in page.content()

        # the officer
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.fill("input[name=email]", world.emails["officer_a"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/comune/borgo-demo/sportello/richieste")
        page.click("text=Elena Ferrero")
        page.wait_for_selector("#actions")
        assert "elena.ferrero@example.org" in page.inner_text("#contact")
        page.click("#assign")
        page.wait_for_selector("#actions")
        assert page.get_attribute("#status", "data-status") == "assigned"
        page.fill("#answer", "Il suo tetto è adatto: la aspettiamo allo sportello con l'ultima bolletta.")
        page.click("#send-answer")
        page.wait_for_selector("#actions")
        assert page.get_attribute("#status", "data-status") == "answered"
        page.click("#close")
        page.wait_for_selector("#status[data-status=closed]")
        page.screenshot(path=str(SHOTS / "desk-ticket.png"), full_page=True)

        # the citizen's follow-up page shows the answer
        page.context.clear_cookies()
        page.goto(follow_up)
        assert "la aspettiamo allo sportello" in page.inner_text("#answer")
        assert page.get_attribute("#status", "data-status") == "closed"
        assert outside == []
