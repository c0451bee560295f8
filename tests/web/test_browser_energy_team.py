"""The energy team's coordinator in Debian's Chromium: logs in, schedules a meeting of the political table, records a
decision, updates an action's status and indicator; the progress report shows the decision and the updated action.
No request leaves 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from condivisa.store import make_engine
from condivisa.store.energy_team import DEMO_COORDINATOR, DEMO_TEAM, seed_demo_team
from condivisa.web.seed import DEMO_PASSWORD
from tests.web.conftest import build_world, chromium_page, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_coordinator_meeting_decision_action_report(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = build_world(tmp_path_factory.mktemp("team") / "team.db", days=3)
    engine = make_engine(world.url)
    seed_demo_team(engine)
    engine.dispose()
    SHOTS.mkdir(parents=True, exist_ok=True)
    decision = "Approvato il bando per il fotovoltaico sulle scuole"

    with serve(world.url) as base, chromium_page(base) as (page, outside):
        page.goto(f"{base}/lang/it?next=/login")
        page.fill("input[name=email]", DEMO_COORDINATOR)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/teams")
        page.click(f"text={DEMO_TEAM}")
        assert page.inner_text("h1") == DEMO_TEAM

        # schedule a meeting of the political table
        page.click("#tab-meetings")
        page.select_option("#meeting-table", "political")
        page.fill("#meeting-starts", "2031-05-12T17:30")
        page.fill("#meeting-place", "Municipio di Altrove, sala giunta")
        page.click("#schedule-submit")
        page.wait_for_selector("#decision-form")
        assert "12/05/2031 17:30" in page.inner_text("h1")
        assert "Relazione del tavolo tecnico" in page.inner_text("#agenda")

        # record a decision
        page.fill("#decision-text", decision)
        page.fill("#decision-owner", "Tavolo tecnico")
        page.fill("#decision-due", "2031-06-30")
        page.click("#decision-submit")
        page.wait_for_selector("#decisions")
        assert decision in page.inner_text("#decisions")
        page.screenshot(path=str(SHOTS / "energy-team-meeting.png"), full_page=True)

        # update an action: status and an indicator value
        page.click("#tab-actions")
        page.click("text=Illuminazione pubblica a LED")
        page.select_option("#status-select", "completed")
        page.fill("#status-note", "Collaudo dei nuovi punti luce completato")
        page.click("#status-submit")
        page.wait_for_selector("#flash")
        assert page.inner_text("#action-status-label") == "Completata"
        page.fill(".indicator-value", "1200")
        page.click(".indicator-value-submit")
        page.wait_for_selector("#flash")
        assert "1.200,00" in page.inner_text(".indicator-latest")

        # the progress report shows the decision and the updated action
        page.click("#tab-report")
        page.wait_for_selector("#changes")
        changes = page.inner_text("#changes")
        assert "IP-01" in changes and "Collaudo dei nuovi punti luce completato" in changes
        assert "Completata" in changes and "RE-01" not in changes  # the seeded plan predates the last meeting
        assert "IP-01" in page.inner_text("#status-completed")
        assert decision in page.inner_text("#report-decisions")
        assert "1.200,00" in page.inner_text("#readings")
        page.screenshot(path=str(SHOTS / "energy-team-report.png"), full_page=True)
        assert outside == []
