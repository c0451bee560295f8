"""A member's own GDPR export (art. 15 and 20) from the member portal: JSON download with the member's data only,
same access as the portal, recorded in the audit log, link on the portal in Italian and English."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from condivisa.demo import demo_community
from condivisa.store import audit, get_user_by_email, make_engine, member_row_id, session_factory
from tests.web.conftest import World

LINK_IT = "Scarica i miei dati (GDPR)"
LINK_EN = "Download my data (GDPR)"


@pytest.fixture(scope="module")
def engine(world: World) -> Iterator[Engine]:
    engine = make_engine(world.url)
    yield engine
    engine.dispose()


def _url(world: World, member: str) -> str:
    return f"/communities/{world.a}/members/{member}/my-data.json"


def _exports(engine: Engine, community_id: int) -> list[audit.AuditEntry]:
    return audit.list_entries(engine, community_id=community_id, action="gdpr_export", limit=10_000)


def _ids(engine: Engine, world: World, email_role: str, member: str) -> tuple[int, int]:
    """(user id of the role's account, database id of ``member`` in community A)."""
    with session_factory(engine)() as s:
        user = get_user_by_email(s, email=world.emails[email_role])
        member_id = member_row_id(s, world.a, member)
    assert user is not None and member_id is not None
    return user.id, member_id


def test_member_downloads_own_data_only(world: World, clients: dict[str, TestClient], engine: Engine) -> None:
    community = demo_community()
    m10 = next(m for m in community.members if m.id == "m10")
    before = len(_exports(engine, world.a))

    r = clients["member_a"].get(_url(world, "m10"))

    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    match = re.search(r'filename="condivisa-dati-m10-(\d{4}-\d{2}-\d{2})\.json"', disposition)
    assert match, disposition
    assert abs((dt.date.fromisoformat(match.group(1)) - dt.date.today()).days) <= 1
    data = r.json()
    assert data["format"] == "condivisa-gdpr-export"
    assert data["community"]["id"] == world.a
    assert data["member"]["external_id"] == "m10"
    assert data["member"]["name"] == m10.name
    assert sorted(p["pod"] for p in data["points"]) == sorted(p.pod for p in m10.pods)
    assert {x["pod"] for x in data["readings"]["summary"]} == {p.pod for p in m10.pods}
    assert data["settlements"], "the fixture settled a period: m10's lines belong in the export"
    text = r.text
    others = [m for m in community.members if m.id != "m10"]
    leaked = [m.name for m in others if m.name in world.a_other_names and m.name in text]
    leaked += [p.pod for m in others for p in m.pods if p.pod in text]
    leaked += [n for n in world.b_names if n in text]
    assert not leaked, f"other members' data in the export: {leaked[:5]}"

    entries = _exports(engine, world.a)
    assert len(entries) == before + 1
    user_id, member_id = _ids(engine, world, "member_a", "m10")
    newest = entries[0]
    assert newest.object_type == "members" and newest.object_id == str(member_id)
    assert newest.user_id == user_id and newest.actor == "web"
    assert newest.changes == {"member": "m10"}


def test_another_member_gets_403_and_nothing_is_recorded(
    world: World, clients: dict[str, TestClient], engine: Engine
) -> None:
    before = len(_exports(engine, world.a))
    r = clients["member_a"].get(_url(world, "m11"))
    assert r.status_code == 403
    assert "external_id" not in r.text
    assert clients["manager_b"].get(_url(world, "m10")).status_code == 403
    assert len(_exports(engine, world.a)) == before


def test_anonymous_is_sent_to_login(world: World, clients: dict[str, TestClient], engine: Engine) -> None:
    before = len(_exports(engine, world.a))
    r = clients["anonymous"].get(_url(world, "m10"))
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={_url(world, 'm10')}"
    assert len(_exports(engine, world.a)) == before


def test_manager_downloads_a_member_and_is_recorded(
    world: World, clients: dict[str, TestClient], engine: Engine
) -> None:
    m11 = next(m for m in demo_community().members if m.id == "m11")
    before = len(_exports(engine, world.a))
    r = clients["manager_a"].get(_url(world, "m11"))
    assert r.status_code == 200, r.text[:300]
    assert "condivisa-dati-m11-" in r.headers["content-disposition"]
    data = r.json()
    assert data["member"]["external_id"] == "m11" and data["member"]["name"] == m11.name
    entries = _exports(engine, world.a)
    assert len(entries) == before + 1
    user_id, member_id = _ids(engine, world, "manager_a", "m11")
    assert entries[0].object_id == str(member_id) and entries[0].user_id == user_id


def test_unknown_member_or_community_is_404(world: World, clients: dict[str, TestClient]) -> None:
    assert clients["manager_a"].get(_url(world, "nessuno")).status_code == 404
    assert clients["member_a"].get(_url(world, "nessuno")).status_code == 404
    assert clients["admin"].get("/communities/999999/members/m10/my-data.json").status_code == 404


def test_portal_links_the_export_in_italian_and_english(world: World, clients: dict[str, TestClient]) -> None:
    client = clients["member_a"]
    page = f"/communities/{world.a}/members/m10"
    href = f'href="{_url(world, "m10")}"'

    italian = html.unescape(client.get(page).text)
    assert href in italian and LINK_IT in italian and LINK_EN not in italian
    assert "art. 2220 c.c." in italian and "dieci anni" in italian

    client.cookies.set("condivisa_lang", "en")
    try:
        english = html.unescape(client.get(page).text)
    finally:
        client.cookies.delete("condivisa_lang")
    assert href in english and LINK_EN in english and LINK_IT not in english
    assert "ten years" in english and "dieci anni" not in english


def test_officer_sees_the_portal_but_cannot_download(
    world: World, clients: dict[str, TestClient], engine: Engine
) -> None:
    before = len(_exports(engine, world.a))
    assert clients["officer_a"].get(f"/communities/{world.a}/members/m10").status_code == 200
    r = clients["officer_a"].get(_url(world, "m10"))
    assert r.status_code == 403
    assert len(_exports(engine, world.a)) == before
    assert clients["admin"].get(_url(world, "m10")).status_code == 200
