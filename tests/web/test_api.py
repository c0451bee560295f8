"""The HTTP API with FastAPI's TestClient on SQLite."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from condivisa.store import make_engine, session_factory
from condivisa.store.models import SettlementRow
from tests.web.conftest import World


def _token(client: TestClient) -> str:
    return str(client.get("/api/me").json()["csrf_token"])


def test_openapi_lists_the_routes(clients: dict[str, TestClient]) -> None:
    paths = clients["anonymous"].get("/openapi.json").json()["paths"]
    assert "/api/communities" in paths
    assert "/api/communities/{community_id}/members/{member}/statement" in paths
    assert "/login" not in paths


def test_communities_listed_by_access(world: World, clients: dict[str, TestClient]) -> None:
    def names(role: str) -> set[str]:
        return {c["name"] for c in clients[role].get("/api/communities").json()["data"]}

    assert names("admin") == {"CER Borgo Demo", "CER Altrove"}
    assert names("manager_a") == names("officer_a") == {"CER Borgo Demo"}
    assert names("manager_b") == {"CER Altrove"}
    assert names("member_a") == set()


def test_members_pagination_and_filter(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    page = c.get(f"/api/communities/{world.a}/members", params={"offset": 2, "limit": 3}).json()
    assert page["count"] == 39 and [m["id"] for m in page["data"]] == ["m03", "m04", "m05"]
    business = c.get(f"/api/communities/{world.a}/members", params={"kind": "business"}).json()
    assert business["count"] == 6 and {m["kind"] for m in business["data"]} == {"business"}
    assert c.get(f"/api/communities/{world.a}/members", params={"limit": 0}).status_code == 422


def test_post_needs_csrf_header(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    body = {"start": "2025-01-01", "end": "2025-01-01"}
    assert c.post(f"/api/communities/{world.a}/settlements", json=body).status_code == 403
    assert (
        c.post(f"/api/communities/{world.a}/settlements", json=body, headers={"X-CSRF-Token": "sbagliato"}).status_code
        == 403
    )


def test_settlement_created_listed_and_read(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    headers = {"X-CSRF-Token": _token(c)}
    created = c.post(
        f"/api/communities/{world.a}/settlements", json={"start": "2025-01-02", "end": "2025-01-03"}, headers=headers
    )
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["period_start"] == "2025-01-02" and doc["document"]["community"] == "CER Borgo Demo"
    assert round(sum(x["amount_eur"] for x in doc["lines"]), 2) == doc["total_eur"]
    listed = c.get(f"/api/communities/{world.a}/settlements").json()
    assert listed[0]["id"] == doc["id"]
    again = c.get(f"/api/communities/{world.a}/settlements/{doc['id']}").json()
    assert again["total_eur"] == doc["total_eur"]
    bad = c.post(
        f"/api/communities/{world.a}/settlements", json={"start": "2025-01-03", "end": "2025-01-01"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "end"
    empty = c.post(
        f"/api/communities/{world.a}/settlements", json={"start": "2024-01-01", "end": "2024-01-02"}, headers=headers
    )
    assert empty.status_code == 422 and "nessuna lettura" in empty.json()["detail"][0]["message"]


def test_readings_upload_valid_and_invalid(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    headers = {"X-CSRF-Token": _token(c)}
    good = "pod,timestamp,withdrawn_kwh,injected_kwh\nIT001E10000011,2025-01-05T10:00:00+01:00,0.5,0\n"
    r = c.post(f"/api/communities/{world.a}/readings", files={"file": ("r.csv", good)}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["rows_in"] == 1 and r.json()["inserted"] == 1
    bad = good + "IT001E10000011,non-una-data,abc,0\n"
    r = c.post(f"/api/communities/{world.a}/readings", files={"file": ("bad.csv", bad)}, headers=headers)
    assert r.status_code == 422
    problems = r.json()["detail"]
    assert any(p["row"] == 3 and p["field"] in {"timestamp", "withdrawn_kwh"} for p in problems)


def test_member_statement(world: World, clients: dict[str, TestClient]) -> None:
    r = clients["member_a"].get(f"/api/communities/{world.a}/members/m10/statement")
    assert r.status_code == 200
    body = r.json()
    assert body["member"]["id"] == "m10" and body["periods"]
    assert body["total_eur"] == round(sum(p["amount_eur"] for p in body["periods"]), 2)


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_create_community_yaml_or_json(world: World, clients: dict[str, TestClient], kind: str) -> None:
    c = clients["admin"]
    headers = {"X-CSRF-Token": _token(c)}
    name = f"CER Nuova {kind}"
    if kind == "yaml":
        text = (
            f"name: {name}\nregion: Piemonte\nmembers:\n"
            "  - {id: a, kind: household, pods: [{pod: IT001E00000001, cabina: AC001E00001}]}\n"
        )
        r = c.post("/api/communities", content=text, headers={**headers, "Content-Type": "application/yaml"})
    else:
        doc = {
            "name": name,
            "region": "Piemonte",
            "members": [{"id": "a", "pods": [{"pod": "IT001E00000001", "cabina": "AC001E00001"}]}],
        }
        r = c.post("/api/communities", json=doc, headers=headers, params={"municipality": "Nuova"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name and r.json()["members"] == 1
    assert c.post("/api/communities", json={"name": "x"}, headers=headers).status_code == 422
    dup = c.post("/api/communities", content=text if kind == "yaml" else "", headers=headers)
    assert dup.status_code in {409, 422}


def test_bad_community_problems_name_the_path(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    r = c.post(
        "/api/communities",
        json={"name": "X", "region": "Piemonte", "members": [{"id": "a", "pods": [{"pod": "bad", "cabina": "c"}]}]},
        headers={"X-CSRF-Token": _token(c)},
    )
    assert r.status_code == 422
    assert any(p["field"] == "members.0.pods.0.pod" for p in r.json()["detail"])


def test_settlements_stored(world: World) -> None:
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        assert s.get(SettlementRow, world.settlement_a) is not None
    engine.dispose()


def test_member_created_changed_and_deleted(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    headers = {"X-CSRF-Token": _token(c)}
    base = f"/api/communities/{world.a}/members"
    new = {"id": "t1", "name": "Nuovo Socio", "kind": "household", "pods": [{"pod": "IT001E99990001", "cabina": "X1"}]}
    r = c.post(base, json=new, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {**new, "pods": [{"pod": "IT001E99990001", "cabina": "X1", "voltage": "LV"}]}
    r = c.patch(f"{base}/t1", json={"name": "Rinominato", "kind": "business"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Rinominato" and r.json()["kind"] == "business"
    assert r.json()["pods"][0]["pod"] == "IT001E99990001"
    pods = [{"pod": "IT001E99990001", "cabina": "X1"}, {"pod": "IT001E99990002", "cabina": "X1", "voltage": "MV"}]
    assert len(c.patch(f"{base}/t1", json={"pods": pods}, headers=headers).json()["pods"]) == 2
    listed = c.get(base, params={"limit": 500}).json()
    assert listed["count"] == 40 and listed["data"][-1]["name"] == "Rinominato"
    assert c.delete(f"{base}/t1", headers=headers).status_code == 204
    assert c.get(base).json()["count"] == 39
    assert c.delete(f"{base}/t1", headers=headers).status_code == 404
    assert c.patch(f"{base}/t1", json={"name": "x"}, headers=headers).status_code == 404


def test_member_problems_are_422(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    headers = {"X-CSRF-Token": _token(c)}
    base = f"/api/communities/{world.a}/members"
    bad_pod = c.post(base, json={"id": "t2", "pods": [{"pod": "IT1", "cabina": "X"}]}, headers=headers)
    assert bad_pod.status_code == 422
    assert any(p["field"] == "members.39.pods.0.pod" and "POD" in p["message"] for p in bad_pod.json()["detail"])
    dup = c.post(base, json={"id": "m01", "pods": []}, headers=headers)
    assert dup.status_code == 422 and "duplicato" in dup.json()["detail"][0]["message"]
    taken = c.post(base, json={"id": "t3", "pods": [{"pod": "IT001E10000011", "cabina": "X"}]}, headers=headers)
    assert taken.status_code == 422 and "IT001E10000011" in taken.json()["detail"][0]["message"]
    kind = c.patch(f"{base}/m11", json={"kind": "alieno"}, headers=headers)
    assert kind.status_code == 422 and kind.json()["detail"][0]["field"] == "members.10.kind"
    assert c.get(base).json()["count"] == 39
    assert c.post("/api/communities/9999/members", json={"id": "x"}, headers=headers).status_code == 404


def test_deleting_a_member_named_by_the_regulation_is_refused(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    headers = {"X-CSRF-Token": _token(c)}
    doc = {
        "name": "CER Regolamento",
        "region": "Piemonte",
        "members": [
            {"id": "a", "pods": [{"pod": "IT001E00000011", "cabina": "AC001E00001"}]},
            {"id": "b", "pods": [{"pod": "IT001E00000012", "cabina": "AC001E00001"}]},
        ],
        "regulation": [{"to": "b", "share": 1.0}],
    }
    created = c.post("/api/communities", json=doc, headers=headers)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    r = c.delete(f"/api/communities/{cid}/members/b", headers=headers)
    assert r.status_code == 422 and "regolamento" in r.json()["detail"][0]["message"]
    assert c.get(f"/api/communities/{cid}/members").json()["count"] == 2
    assert c.delete(f"/api/communities/{cid}/members/a", headers=headers).status_code == 204
    last = c.delete(f"/api/communities/{cid}/members/b", headers=headers)
    assert last.status_code == 422 and last.json()["detail"][0]["field"] == "members"


def test_plant_created_changed_and_deleted(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    headers = {"X-CSRF-Token": _token(c)}
    base = f"/api/communities/{world.a}/plants"
    before = c.get(base).json()["count"]
    new = {
        "id": "p9",
        "owner": "m01",
        "pod": "IT001E99990003",
        "cabina": "AC001E00001",
        "power_kw": 12.5,
        "commissioning_date": "2024-03-01",
    }
    r = c.post(base, json=new, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["technology"] == "pv" and r.json()["power_kw"] == 12.5 and r.json()["tip_share"] == 1.0
    r = c.patch(f"{base}/p9", json={"power_kw": 20, "technology": "wind"}, headers=headers)
    assert r.status_code == 200 and r.json()["power_kw"] == 20 and r.json()["technology"] == "wind"
    assert r.json()["commissioning_date"] == "2024-03-01"
    bad = c.patch(f"{base}/p9", json={"power_kw": -1}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == f"plants.{before}.power_kw"
    again = c.post(base, json=new, headers=headers)
    assert again.status_code == 422 and "p9" in again.json()["detail"][0]["message"]
    assert c.get(base).json()["count"] == before + 1
    assert c.delete(f"{base}/p9", headers=headers).status_code == 204
    assert c.get(base).json()["count"] == before
    assert c.delete(f"{base}/p9", headers=headers).status_code == 404
    assert c.patch(f"{base}/p9", json={"power_kw": 1}, headers=headers).status_code == 404
    assert c.delete("/api/communities/9999/plants/p1", headers=headers).status_code == 404


def test_member_and_plant_writes_need_csrf(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["manager_a"]
    a = world.a
    member = {"id": "t4", "pods": [{"pod": "IT001E99990004", "cabina": "X"}]}
    bad = {"X-CSRF-Token": "sbagliato"}
    for headers in ({}, bad):
        assert c.post(f"/api/communities/{a}/members", json=member, headers=headers).status_code == 403
        assert c.patch(f"/api/communities/{a}/members/m11", json={"name": "x"}, headers=headers).status_code == 403
        assert c.delete(f"/api/communities/{a}/members/m11", headers=headers).status_code == 403
        assert c.patch(f"/api/communities/{a}/plants/p1", json={"power_kw": 1}, headers=headers).status_code == 403
        assert c.delete(f"/api/communities/{a}/plants/p1", headers=headers).status_code == 403
    ids = [m["id"] for m in c.get(f"/api/communities/{a}/members", params={"limit": 500}).json()["data"]]
    assert "m11" in ids and "t4" not in ids
    assert "p1" in [p["id"] for p in c.get(f"/api/communities/{a}/plants").json()["data"]]


def test_openapi_lists_member_and_plant_writes(clients: dict[str, TestClient]) -> None:
    paths = clients["anonymous"].get("/openapi.json").json()["paths"]
    assert set(paths["/api/communities/{community_id}/members/{member}"]) == {"patch", "delete"}
    assert set(paths["/api/communities/{community_id}/plants"]) == {"get", "post"}
    assert "/admin/users" not in paths


def test_admin_creates_users_and_assigns_roles(
    world: World, clients: dict[str, TestClient], app_factory: object
) -> None:
    from tests.web.conftest import csrf_from, login

    c = clients["admin"]
    page = c.get("/admin/users")
    assert page.status_code == 200 and world.emails["manager_a"] in page.text
    token = csrf_from(page.text)
    short = c.post(
        "/admin/users",
        data={"csrf_token": token, "email": "nuovo@prova.it", "display_name": "Nuovo", "password": "corta"},
    )
    assert short.status_code == 422 and "almeno 8 caratteri" in short.text
    user = {
        "csrf_token": token,
        "email": "Nuovo@Prova.it",
        "display_name": "Nuovo Gestore",
        "password": "lunga-abbastanza",
    }
    created = c.post("/admin/users", data=user)
    assert created.status_code == 303 and created.headers["location"] == "/admin/users"
    again = c.post("/admin/users", data=user)
    assert again.status_code == 422 and "esiste gia&#39; un utente" in again.text
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        from condivisa.store import get_user_by_email

        stored = get_user_by_email(s, email="nuovo@prova.it")
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
        uid = stored.id
    engine.dispose()
    role = {"csrf_token": token, "user_id": str(uid), "role": "member", "community_id": str(world.b), "member": "zz"}
    missing = c.post("/admin/users/roles", data=role)
    assert missing.status_code == 422 and "zz" in missing.text
    no_scope = c.post(
        "/admin/users/roles", data={**role, "role": "municipality_officer", "community_id": "", "member": ""}
    )
    assert no_scope.status_code == 422 and "municipality" in no_scope.text
    done = c.post("/admin/users/roles", data={**role, "role": "manager", "member": ""})
    assert done.status_code == 303
    listing = c.get("/admin/users").text
    assert "nuovo@prova.it" in listing and "CER Altrove" in listing
    fresh = TestClient(app_factory)  # type: ignore[arg-type]
    login(fresh, "nuovo@prova.it", "lunga-abbastanza")
    assert [x["name"] for x in fresh.get("/api/communities").json()["data"]] == ["CER Altrove"]
    fresh.close()


def test_member_id_with_spaces_is_trimmed(world: World, clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    headers = {"X-CSRF-Token": _token(c)}
    base = f"/api/communities/{world.b}/members"
    r = c.post(base, json={"id": " t5 ", "pods": [{"pod": "IT001E99990005", "cabina": "X"}]}, headers=headers)
    assert r.status_code == 201 and r.json()["id"] == "t5"
    assert c.delete(f"{base}/t5", headers=headers).status_code == 204
