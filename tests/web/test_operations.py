"""Operations pages: the manager checks alarms and launches a campaign; a member sees green hours and downloads the
statement; the green-hours feed works without login behind its signed link and only there."""

from __future__ import annotations

import icalendar
from fastapi.testclient import TestClient

from tests.web.conftest import World, csrf_from


def test_manager_checks_alarms_and_launches_a_campaign(world: World, clients: dict[str, TestClient]) -> None:
    client = clients["manager_a"]
    page = client.get(f"/communities/{world.a}/operations")
    assert page.status_code == 200
    assert "Allarmi" in page.text and "Registro integro" in page.text
    csrf = csrf_from(page.text)
    r = client.post(f"/communities/{world.a}/alarms/check", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    form = {
        "csrf_token": csrf,
        "title": "Lavatrici al sole",
        "start_date": "2025-01-03",
        "end_date": "2025-01-03",
        "window_start_hour": "11",
        "window_end_hour": "15",
        "budget_eur": "50,00",
    }
    r = client.post(f"/communities/{world.a}/campaigns", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/communities/{world.a}/operations")
    assert "Lavatrici al sole" in page.text and "50,00" in page.text
    bad = client.post(f"/communities/{world.a}/campaigns", data={**form, "window_start_hour": "16"})
    assert bad.status_code == 422 and "window" in bad.text


def test_member_green_hours_feed_and_statement(world: World, clients: dict[str, TestClient]) -> None:
    member = clients["member_a"]
    page = member.get(f"/communities/{world.a}/members/m10/green-hours")
    assert page.status_code == 200 and "Ore verdi" in page.text
    link = page.text.split('href="/feeds/')[1].split('"')[0]
    anonymous = TestClient(member.app)
    ics = anonymous.get(f"/feeds/{link}")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.content)
    assert str(calendar["PRODID"]).startswith("-//Condivisa//Ore verdi")
    data = anonymous.get(f"/feeds/{link.replace('.ics', '.json')}").json()
    assert data["community"] == "CER Borgo Demo" and isinstance(data["hours"], list)
    forged = link.split("/")[0][:-2] + "xx"
    assert anonymous.get(f"/feeds/{forged}/ore-verdi.ics").status_code == 404
    pdf = member.get(f"/communities/{world.a}/members/m10/statements/{world.settlement_a}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
