"""Fixtures of the web tests: a SQLite database with two tenants (A: the demo, B: another town) and users."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from condivisa.demo import demo_community
from condivisa.store import (
    assign_role,
    create_user,
    import_readings,
    load_readings,
    make_engine,
    member_row_id,
    save_community,
    session_factory,
    upgrade,
)
from condivisa.store.municipalities import ensure_municipality
from condivisa.web.app import create_app
from condivisa.web.security import hash_password
from condivisa.web.seed import DEMO_MUNICIPALITY, seed_demo
from condivisa.web.services import run_settlement

PASSWORD = "password-di-prova"
SECRET = "chiave-segreta-di-prova-abbastanza-lunga"
ROLES = ("admin", "manager_a", "manager_b", "member_a", "officer_a", "anonymous")


@dataclass(frozen=True)
class World:
    """Ids of what the fixture stored."""

    url: str
    a: int
    b: int
    settlement_a: int
    settlement_b: int
    emails: dict[str, str]
    b_names: list[str]
    a_other_names: list[str]


def csrf_from(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def build_world(path: Path, days: int = 3) -> World:
    """Two communities: the demo (A, municipality Borgo Demo) and a copy renamed (B, municipality Altrove)."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    a = seed_demo(engine, days=days).community_id
    data = demo_community().model_dump()
    data["name"] = "CER Altrove"
    data["members"] = data["members"][:12]
    for m in data["members"]:
        m["name"] = f"Altrove-{m['id']}"
    sessions = session_factory(engine)
    with sessions() as s:
        from condivisa.model import Community

        b = save_community(s, Community.model_validate(data), municipality="Altrove")
        ensure_municipality(s, "Altrove", region="Piemonte", slug="altrove")
    import_readings(engine, b, load_readings(engine, a), source="copia")
    start = dt.date(2025, 1, 1)
    with sessions() as s:
        sa = run_settlement(engine, s, a, start, start + dt.timedelta(days=1))
        sb = run_settlement(engine, s, b, start, start + dt.timedelta(days=1))
        emails = {}
        for role in ROLES[:-1]:
            emails[role] = f"{role.replace('_', '.')}@prova.it"
            uid = create_user(s, email=emails[role], password_hash=hash_password(PASSWORD), display_name=role).id
            if role == "admin":
                assign_role(s, user_id=uid, role="platform_admin")
            elif role == "manager_a":
                assign_role(s, user_id=uid, role="manager", community_id=a)
            elif role == "manager_b":
                assign_role(s, user_id=uid, role="manager", community_id=b)
            elif role == "member_a":
                mid = member_row_id(s, a, "m10")
                assign_role(s, user_id=uid, role="member", community_id=a, member_id=mid)
            else:
                assign_role(s, user_id=uid, role="municipality_officer", municipality=DEMO_MUNICIPALITY)
    community_a = demo_community()
    others = [m.name for m in community_a.members if m.id != "m10" and m.name not in community_a.name]
    engine.dispose()
    return World(url, a, b, sa, sb, emails, [f"Altrove-{m['id']}" for m in data["members"]], others)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("web") / "web.db")


@pytest.fixture(scope="session")
def app_factory(world: World) -> object:
    return create_app(world.url, secret_key=SECRET)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a browser does."""
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 200, response.text[:500]


@pytest.fixture(scope="session")
def clients(world: World, app_factory: object) -> Iterator[dict[str, TestClient]]:
    out = {}
    for role in ROLES:
        client = TestClient(app_factory, follow_redirects=False)  # type: ignore[arg-type]
        if role != "anonymous":
            client.follow_redirects = True
            login(client, world.emails[role])
            client.follow_redirects = False
        out[role] = client
    yield out
    for client in out.values():
        client.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(url: str) -> Iterator[str]:
    """The app on database ``url`` served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(url, secret_key=SECRET), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium_page(base: str) -> Iterator[tuple[Any, list[str]]]:
    """A Playwright page in Debian's Chromium, and the list of requests it made to any host but 127.0.0.1."""
    import shutil
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname != "127.0.0.1" else None)
        try:
            yield page, outside
        finally:
            browser.close()
