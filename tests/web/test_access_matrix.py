"""Authorization matrix: every role x every API route and page -> expected status, and no data of another tenant
or member in any response."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ROLES, World

#            admin mgr_a mgr_b mem_a off_a anon
READ_A = (200, 200, 403, 403, 200, 401)
OWN_A = (200, 200, 403, 200, 200, 401)
WRITE_A = (422, 422, 403, 403, 403, 401)
ADMIN_W = (422, 403, 403, 403, 403, 401)
MISSING = (404, 404, 404, 404, 404, 401)
PAGE_READ_A = (200, 200, 403, 403, 200, 303)
PAGE_OWN_A = (200, 200, 403, 200, 200, 303)
PAGE_WRITE_A = (422, 422, 403, 403, 403, 403)
PAGE_MISSING = (404, 404, 404, 404, 404, 303)
PAGE_ANY = (200, 200, 200, 200, 200, 303)
WRITE_MISSING = (404, 404, 403, 403, 403, 401)
ADMIN_PAGE = (200, 403, 403, 403, 403, 303)
ADMIN_PAGE_W = (422, 403, 403, 403, 403, 403)
PAGE_WRITE_MISSING = (404, 404, 403, 403, 403, 403)
PAGE_WRITE_OK_A = (303, 303, 403, 403, 403, 403)

BAD_CSV = "pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E10000011,ieri,x,0\n"


def routes(w: World) -> list[tuple[str, str, dict[str, object], tuple[int, ...]]]:
    a, sa, sb = w.a, w.settlement_a, w.settlement_b
    bad_period = {"json": {"start": "2025-01-02", "end": "2025-01-01"}}
    bad_member = {"id": "x1", "pods": [{"pod": "no", "cabina": "c"}]}
    bad_plant = {
        "id": "p9",
        "owner": "m01",
        "pod": "IT001E99990009",
        "cabina": "c",
        "power_kw": -1,
        "commissioning_date": "2024-01-01",
    }
    return [
        ("GET", f"/api/communities/{a}", {}, READ_A),
        ("GET", f"/api/communities/{a}/members", {}, READ_A),
        ("GET", f"/api/communities/{a}/settlements", {}, READ_A),
        ("GET", f"/api/communities/{a}/settlements/{sa}", {}, READ_A),
        ("GET", f"/api/communities/{a}/settlements/{sb}", {}, MISSING),
        ("GET", f"/api/communities/{a}/members/m10/statement", {}, OWN_A),
        ("GET", f"/api/communities/{a}/members/m11/statement", {}, READ_A),
        ("GET", f"/api/communities/{a}/members/nessuno/statement", {}, MISSING),
        ("GET", "/api/communities/9999", {}, MISSING),
        ("GET", "/api/communities/9999/members", {}, MISSING),
        ("POST", f"/api/communities/{a}/settlements", bad_period, WRITE_A),
        ("POST", f"/api/communities/{a}/readings", {"files": {"file": ("x.csv", BAD_CSV)}}, WRITE_A),
        ("POST", "/api/communities", {"json": {"name": ""}}, ADMIN_W),
        ("GET", f"/api/communities/{a}/plants", {}, READ_A),
        ("GET", "/api/communities/9999/plants", {}, MISSING),
        ("POST", f"/api/communities/{a}/members", {"json": bad_member}, WRITE_A),
        ("POST", "/api/communities/9999/members", {"json": bad_member}, MISSING),
        ("PATCH", f"/api/communities/{a}/members/m11", {"json": {"kind": "alieno"}}, WRITE_A),
        ("PATCH", f"/api/communities/{a}/members/nessuno", {"json": {"name": "x"}}, WRITE_MISSING),
        ("DELETE", f"/api/communities/{a}/members/nessuno", {}, WRITE_MISSING),
        ("DELETE", "/api/communities/9999/members/m11", {}, MISSING),
        ("POST", f"/api/communities/{a}/plants", {"json": bad_plant}, WRITE_A),
        ("PATCH", f"/api/communities/{a}/plants/p1", {"json": {"power_kw": -1}}, WRITE_A),
        ("PATCH", f"/api/communities/{a}/plants/nessuno", {"json": {"power_kw": 5}}, WRITE_MISSING),
        ("DELETE", f"/api/communities/{a}/plants/nessuno", {}, WRITE_MISSING),
        ("GET", "/admin/users", {}, ADMIN_PAGE),
        (
            "POST",
            "/admin/users",
            {"data": {"email": "x@prova.it", "display_name": "X", "password": "corta"}},
            ADMIN_PAGE_W,
        ),
        ("POST", "/admin/users/roles", {"data": {"user_id": "1", "role": "manager"}}, ADMIN_PAGE_W),
        ("GET", "/communities", {}, PAGE_ANY),
        ("GET", f"/communities/{a}", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/members/m10", {}, PAGE_OWN_A),
        ("GET", f"/communities/{a}/members/m11", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/settlements/{sa}", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/settlements/{sa}/lines.csv", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/settlements/{sb}", {}, PAGE_MISSING),
        ("GET", "/communities/9999", {}, PAGE_MISSING),
        ("POST", f"/communities/{a}/settlements", {"data": {"start": "2025-01-02", "end": "2025-01-01"}}, PAGE_WRITE_A),
        ("POST", f"/communities/{a}/members", {"data": {"id": "", "pod": "no", "cabina": ""}}, PAGE_WRITE_A),
        ("POST", f"/communities/{a}/plants", {"data": {"id": "p9", "power_kw": "-1"}}, PAGE_WRITE_A),
        ("POST", f"/communities/{a}/readings", {"files": {"file": ("x.csv", BAD_CSV)}}, PAGE_WRITE_A),
        ("GET", f"/communities/{a}/operations", {}, PAGE_READ_A),
        ("GET", "/communities/9999/operations", {}, PAGE_MISSING),
        ("POST", f"/communities/{a}/campaigns", {"data": {"title": "", "start_date": "x"}}, PAGE_WRITE_A),
        ("POST", f"/communities/{a}/alarms/9999/ack", {}, PAGE_WRITE_MISSING),
        ("POST", f"/communities/{a}/alarms/9999/close", {}, PAGE_WRITE_MISSING),
        ("POST", f"/communities/{a}/campaigns/9999/rewards", {}, PAGE_WRITE_MISSING),
        ("POST", f"/communities/{a}/quarantine/release", {}, PAGE_WRITE_OK_A),
        ("GET", f"/communities/{a}/members/m10/green-hours", {}, PAGE_OWN_A),
        ("GET", f"/communities/{a}/members/m11/green-hours", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/members/m10/statements/{sa}.pdf", {}, PAGE_OWN_A),
        ("GET", f"/communities/{a}/members/m11/statements/{sa}.pdf", {}, PAGE_READ_A),
        ("GET", f"/communities/{a}/members/m10/statements/{sb}.pdf", {}, PAGE_MISSING),
        ("GET", "/feeds/non-valido/ore-verdi.ics", {}, (404,) * 6),
        ("GET", "/", {}, (303, 303, 303, 303, 303, 303)),
        ("GET", "/login", {}, (303, 303, 303, 303, 303, 200)),
        ("GET", "/static/plotly.min.js", {}, (200,) * 6),
        ("GET", "/static/style.css", {}, (200,) * 6),
    ]


def _call(client: TestClient, method: str, path: str, kwargs: dict[str, object]) -> tuple[int, str]:
    token = client.cookies.get("condivisa_session")
    csrf = client.get("/api/me").json().get("csrf_token", "") if token else ""
    if method == "GET":
        r = client.get(path)
    elif path.startswith("/api"):
        r = client.request(method, path, headers={"X-CSRF-Token": csrf}, **kwargs)  # type: ignore[arg-type]
    else:
        data = dict(kwargs.get("data", {}))  # type: ignore[call-overload]
        data["csrf_token"] = csrf
        r = client.post(path, data=data, files=kwargs.get("files"))  # type: ignore[arg-type]
    return r.status_code, r.text if "javascript" not in r.headers.get("content-type", "") else ""


@pytest.mark.parametrize("role", ROLES)
def test_matrix(world: World, clients: dict[str, TestClient], role: str) -> None:
    client = clients[role]
    k = ROLES.index(role)
    failures = []
    for method, path, kwargs, expected in routes(world):
        status, text = _call(client, method, path, kwargs)
        if status != expected[k]:
            failures.append(f"{method} {path}: {status} != {expected[k]}")
        if role != "admin" and role != "manager_b":
            leaked = [n for n in world.b_names if n in text] + (["CER Altrove"] if "CER Altrove" in text else [])
            if leaked:
                failures.append(f"{method} {path}: other tenant's data {leaked[:3]}")
        if role == "manager_b":
            leaked = [n for n in world.a_other_names if n in text]
            if leaked:
                failures.append(f"{method} {path}: other tenant's data {leaked[:3]}")
        if role == "member_a":
            leaked = [n for n in world.a_other_names if n in text]
            if leaked:
                failures.append(f"{method} {path}: other members' data {leaked[:3]}")
    assert not failures, "\n".join(failures)


def test_officer_is_read_only_and_scoped(world: World, clients: dict[str, TestClient]) -> None:
    page = clients["officer_a"].get(f"/communities/{world.a}").text
    assert "member-form" not in page and "settle-form" not in page
    assert "member-form" in clients["manager_a"].get(f"/communities/{world.a}").text
    assert clients["officer_a"].get(f"/api/communities/{world.b}").status_code == 403


@pytest.mark.parametrize("role", ["manager_b", "member_a", "officer_a", "anonymous"])
def test_non_writers_change_no_member_or_plant(world: World, clients: dict[str, TestClient], role: str) -> None:
    client = clients[role]
    csrf = client.get("/api/me").json().get("csrf_token", "") if role != "anonymous" else ""
    headers = {"X-CSRF-Token": csrf}
    expected = 401 if role == "anonymous" else 403
    a = world.a
    assert client.delete(f"/api/communities/{a}/members/m11", headers=headers).status_code == expected
    assert (
        client.patch(f"/api/communities/{a}/members/m11", json={"name": "x"}, headers=headers).status_code == expected
    )
    assert client.delete(f"/api/communities/{a}/plants/p1", headers=headers).status_code == expected
    assert (
        client.patch(f"/api/communities/{a}/plants/p1", json={"power_kw": 9}, headers=headers).status_code == expected
    )
    good = {"id": "zz", "pods": [{"pod": "IT001E99990008", "cabina": "AC001E00001"}]}
    assert client.post(f"/api/communities/{a}/members", json=good, headers=headers).status_code == expected
    admin = clients["admin"]
    members = {m["id"]: m for m in admin.get(f"/api/communities/{a}/members", params={"limit": 500}).json()["data"]}
    assert "m11" in members and "zz" not in members and members["m11"]["name"] != "x"
    plants = {p["id"]: p for p in admin.get(f"/api/communities/{a}/plants").json()["data"]}
    assert "p1" in plants and plants["p1"]["power_kw"] != 9


def test_users_link_only_for_admins(world: World, clients: dict[str, TestClient]) -> None:
    assert 'href="/admin/users"' in clients["admin"].get("/communities").text
    for role in ("manager_a", "officer_a"):
        assert 'href="/admin/users"' not in clients[role].get("/communities").text


def test_home_redirects_by_role(world: World, clients: dict[str, TestClient]) -> None:
    assert clients["manager_a"].get("/").headers["location"] == f"/communities/{world.a}"
    assert clients["member_a"].get("/").headers["location"] == f"/communities/{world.a}/members/m10"
    assert clients["officer_a"].get("/").headers["location"] == "/communities"
    assert clients["anonymous"].get("/").headers["location"] == "/login"


def test_language_switch_and_italian_formats(world: World, app_factory: object) -> None:
    from tests.web.conftest import login

    client = TestClient(app_factory)  # type: ignore[arg-type]
    login(client, world.emails["manager_a"])
    italian = client.get(f"/communities/{world.a}/settlements/{world.settlement_a}").text
    assert "Ripartizione" in italian and " €" in italian
    client.get("/lang/en")
    english = client.get(f"/communities/{world.a}/settlements/{world.settlement_a}").text
    assert "Allocation" in english and "€" in english and 'lang="en"' in english
    assert client.get("/lang/en?next=//evil.example").headers.get("location") is None
    client.close()


def test_wrong_password_and_logout(world: World, app_factory: object) -> None:
    from tests.web.conftest import csrf_from

    client = TestClient(app_factory, follow_redirects=False)  # type: ignore[arg-type]
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": world.emails["admin"], "password": "sbagliata!"})
    assert r.status_code == 401 and "Credenziali non valide" in r.text
    assert client.post("/login", data={"email": world.emails["admin"], "password": "x"}).status_code == 403
    client.close()
