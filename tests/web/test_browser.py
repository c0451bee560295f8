"""End to end in Debian's Chromium (Playwright): manager and member journeys on a live server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn

from condivisa.store import assign_role, create_user, make_engine, member_row_id, session_factory
from condivisa.web.app import create_app
from condivisa.web.security import hash_password
from tests.web.conftest import PASSWORD, SECRET, World, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(tmp_path_factory.mktemp("browser") / "browser.db", days=3)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(world.url, secret_key=SECRET), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", world
    server.should_exit = True
    thread.join(10)


def test_manager_then_member(live: tuple[str, World]) -> None:
    from playwright.sync_api import sync_playwright

    base, world = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    csv = "pod,timestamp,withdrawn_kwh,injected_kwh\n" + "".join(
        f"IT001E99999999,2025-01-0{d}T{h:02d}:00:00+01:00,{0.3 + h / 100:.3f},0\n" for d in (1, 2) for h in range(24)
    )
    upload = SHOTS.parent / "letture-m90.csv"
    upload.write_text(csv, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname != "127.0.0.1" else None)

        page.goto(f"{base}/login")
        page.screenshot(path=str(SHOTS / "login.png"))
        page.fill("input[name=email]", world.emails["manager_a"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/communities/{world.a}")
        page.wait_for_selector("#chart-monthly svg")
        page.wait_for_selector("#chart-hourly svg")

        form = page.locator("#member-form")
        form.locator("input[name=id]").fill("m90")
        form.locator("input[name=name]").fill("Verdi Giovanna")
        form.locator("input[name=pod]").fill("IT001E99999999")
        form.locator("input[name=cabina]").fill("AC001E00123")
        form.locator("button").click()
        page.wait_for_selector("text=Verdi Giovanna")

        page.locator("#readings-form input[type=file]").set_input_files(str(upload))
        page.locator("#readings-form button").click()
        page.wait_for_load_state()
        assert page.locator(".problems").count() == 0

        page.fill("#settle-form input[name=start]", "2025-01-01")
        page.fill("#settle-form input[name=end]", "2025-01-02")
        page.locator("#settle-form button").click()
        page.wait_for_url("**/settlements/*")
        assert page.locator("text=m90").count() >= 1
        page.screenshot(path=str(SHOTS / "settlement.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#csv-link")
        assert "recipient,rule,basis,amount_eur" in Path(download.value.path()).read_text()

        page.goto(f"{base}/communities/{world.a}")
        page.wait_for_selector("#chart-money svg")
        page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
        page.click("#logout")
        page.wait_for_url(f"{base}/login")

        engine = make_engine(world.url)
        with session_factory(engine)() as s:
            uid = create_user(s, email="verdi@prova.it", password_hash=hash_password(PASSWORD), display_name="Verdi").id
            mid = member_row_id(s, world.a, "m90")
            assign_role(s, user_id=uid, role="member", community_id=world.a, member_id=mid)
        engine.dispose()

        page.fill("input[name=email]", "verdi@prova.it")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/communities/{world.a}/members/m90")
        page.wait_for_selector("#chart-curve svg")
        page.wait_for_selector("#chart-hours svg")
        text = page.inner_text("body")
        assert "Verdi Giovanna" in text
        assert not [n for n in world.a_other_names if n in page.content()]
        page.screenshot(path=str(SHOTS / "member.png"), full_page=True)
        assert page.goto(f"{base}/communities/{world.a}").status == 403  # type: ignore[union-attr]
        assert page.goto(f"{base}/communities/{world.a}/members/m10").status == 403  # type: ignore[union-attr]
        browser.close()
    assert not outside, outside
