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
