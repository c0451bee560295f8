"""Strategy tool pages: officers' editor with Italian errors (422), public pages and exports, the best-practice
library and its copy action, who may do what, no personal data in public pages."""

from __future__ import annotations

import copy
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from condivisa.store import assign_role, create_user, make_engine, session_factory
from condivisa.store import strategy as store
from condivisa.store.models import MunicipalityRow
from condivisa.strategy.artefacts import EXAMPLES, parse_artefact
from condivisa.web.security import hash_password
from tests.web.conftest import PASSWORD, ROLES, World, csrf_from, login

TAG = secrets.token_hex(3)


@pytest.fixture(scope="module")
def officer_b(world: World, app_factory: object) -> Iterator[TestClient]:
    """A municipality officer of Altrove (the shared world has only Borgo Demo's)."""
    engine = make_engine(world.url)
    email = f"ufficio.altrove.{TAG}@prova.it"
    with session_factory(engine)() as s:
        uid = create_user(s, email=email, password_hash=hash_password(PASSWORD), display_name="officer_b").id
        assign_role(s, user_id=uid, role="municipality_officer", municipality="Altrove")
    engine.dispose()
    client = TestClient(app_factory, follow_redirects=True)  # type: ignore[arg-type]
    login(client, email)
    client.follow_redirects = False
    yield client
    client.close()


@pytest.fixture(scope="module")
def plan(world: World) -> dict[str, Any]:
    """Borgo Demo's artefacts: a public ToC, a draft map, a public practice linking the ToC, a draft practice."""
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        borgo = s.scalar(select(MunicipalityRow.id).where(MunicipalityRow.slug == "borgo-demo"))
        assert borgo is not None
        toc = store.create_artefact(
            s, borgo, parse_artefact("toc", EXAMPLES["toc"] | {"title": f"ToC pubblica {TAG}"}), public=True
        )
        draft = store.create_artefact(s, borgo, parse_artefact("map", EXAMPLES["map"] | {"title": f"Bozza {TAG}"}))
        data = copy.deepcopy(EXAMPLES["practice"]) | {"title": f"Pratica {TAG}", "artefacts": [f"toc:{toc}"]}
        data["tags"] = [f"tag{TAG}"]
        practice = store.create_artefact(s, borgo, parse_artefact("practice", data), public=True)
        hidden = store.create_artefact(
            s, borgo, parse_artefact("practice", EXAMPLES["practice"] | {"title": f"Pratica bozza {TAG}"})
        )
    engine.dispose()
    base = "/comune/borgo-demo/strategia"
    return {
        "toc": toc,
        "draft": draft,
        "practice": practice,
        "hidden": hidden,
        "toc_url": f"{base}/teoria-del-cambiamento/{toc}",
        "draft_url": f"{base}/barriere-opportunita/{draft}",
        "practice_url": f"{base}/buona-pratica/{practice}",
    }


def token(client: TestClient) -> str:
    """The client's CSRF token (from the login form for visitors, from the logout form otherwise)."""
    page = client.get("/buone-pratiche").text
    if 'name="csrf_token"' not in page:
        page = client.get("/login").text
    return csrf_from(page)


def test_public_pages_and_exports(clients: dict[str, TestClient], plan: dict[str, Any]) -> None:
    anon = clients["anonymous"]
    page = anon.get("/comune/borgo-demo/strategia")
    assert page.status_code == 200
    assert f"ToC pubblica {TAG}" in page.text and f"Bozza {TAG}" not in page.text and "manage-link" not in page.text
    page = anon.get(plan["toc_url"])
    assert page.status_code == 200 and "<svg" in page.text and "action:PAESC-12" in page.text
    assert "edit-link" not in page.text
    exported = anon.get(plan["toc_url"] + ".json")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    doc = json.loads(exported.text)
    assert doc["kind"] == "toc" and doc["municipality"] == "Borgo Demo" and doc["content"]["nodes"][0]["id"] == "r1"
    md = anon.get(plan["toc_url"] + ".md")
    assert md.status_code == 200 and md.text.startswith(f"# ToC pubblica {TAG}\n") and "## Impatto" in md.text
    svg = anon.get(plan["toc_url"] + ".svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    ET.fromstring(svg.text)
    assert anon.get(plan["toc_url"] + ".mmd").text.startswith("flowchart LR")
    assert anon.get(plan["practice_url"] + ".svg").status_code == 404
    assert anon.get(plan["toc_url"] + ".pdf").status_code == 404
    # Library: the public practice, not the draft one; filters.
    library = anon.get("/buone-pratiche")
    assert f"Pratica {TAG}" in library.text and f"Pratica bozza {TAG}" not in library.text
    assert f"Pratica {TAG}" in anon.get(f"/buone-pratiche?etichetta=tag{TAG}").text
    assert f"Pratica {TAG}" not in anon.get("/buone-pratiche?q=zzzznessuna").text
    detail = anon.get(f"/buone-pratiche/{plan['practice']}")
    assert detail.status_code == 200 and f"ToC pubblica {TAG}" in detail.text and "copy-button" not in detail.text
    assert anon.get(f"/buone-pratiche/{plan['hidden']}").status_code == 404
    assert anon.get(f"/buone-pratiche/{plan['toc']}").status_code == 404
    english = anon.get("/comune/borgo-demo/strategia", headers={"Accept-Language": "en"})
    assert "Strategy tools" in english.text and "Theory of Change" in english.text


def test_drafts_are_hidden_from_everybody_else(
    clients: dict[str, TestClient], officer_b: TestClient, plan: dict[str, Any]
) -> None:
    for client in [*(clients[r] for r in ROLES if r not in ("admin", "officer_a")), officer_b]:
        assert client.get(plan["draft_url"]).status_code == 404
        assert client.get(plan["draft_url"] + ".json").status_code == 404
    for role in ("admin", "officer_a"):
        page = clients[role].get(plan["draft_url"])
        assert page.status_code == 200 and "Bozza: visibile solo al comune" in page.text and "edit-link" in page.text


def expected_officer(role: str) -> int:
    return {"admin": 200, "officer_a": 200, "anonymous": 303}.get(role, 403)


def throwaway(world: World) -> int:
    """A new draft sandbox experiment of Borgo Demo (to be deleted)."""
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        borgo = s.scalar(select(MunicipalityRow.id).where(MunicipalityRow.slug == "borgo-demo"))
        assert borgo is not None
        artefact_id = store.create_artefact(s, borgo, parse_artefact("sandbox", EXAMPLES["sandbox"]))
    engine.dispose()
    return artefact_id


def test_authorization_matrix(
    clients: dict[str, TestClient], officer_b: TestClient, plan: dict[str, Any], world: World
) -> None:
    public = [
        "/comune/borgo-demo/strategia",
        "/buone-pratiche",
        f"/buone-pratiche/{plan['practice']}",
        plan["toc_url"],
        plan["toc_url"] + ".json",
        plan["toc_url"] + ".md",
        plan["toc_url"] + ".svg",
        plan["practice_url"],
    ]
    officer = [
        "/comune/borgo-demo/strategia/gestione",
        "/comune/borgo-demo/strategia/gestione/nuova/pestle",
        plan["toc_url"] + "/modifica",
    ]
    everybody = {**clients, "officer_b": officer_b}
    for role, client in everybody.items():
        for url in public:
            assert client.get(url).status_code == 200, (role, url)
        for url in officer:
            status = 403 if role == "officer_b" else expected_officer(role)
            assert client.get(url).status_code == status, (role, url)
            if status == 303:
                assert client.get(url).headers["location"].startswith("/login")
        # Writes: an empty editor gives 422 to who may write, 403 to the others (303 to login for visitors).
        csrf = token(client)
        posted = client.post(
            "/comune/borgo-demo/strategia/gestione/nuova/pestle", data={"csrf_token": csrf, "content": "{}"}
        )
        assert posted.status_code == (422 if role in ("admin", "officer_a") else 403 if role != "anonymous" else 303)
        victim = throwaway(world)
        posted = client.post(
            f"/comune/borgo-demo/strategia/sperimentazione/{victim}/elimina", data={"csrf_token": csrf}
        )
        assert posted.status_code == (403 if role not in ("admin", "officer_a", "anonymous") else 303), role
        if role in ("admin", "officer_a"):
            assert posted.headers["location"] == "/comune/borgo-demo/strategia/gestione"
            assert clients["admin"].get(f"/comune/borgo-demo/strategia/sperimentazione/{victim}").status_code == 404
    # officer_a of Borgo Demo cannot work on Altrove's plan.
    assert clients["officer_a"].get("/comune/altrove/strategia/gestione").status_code == 403
    assert officer_b.get("/comune/altrove/strategia/gestione").status_code == 200


def test_officer_edits_with_italian_errors(clients: dict[str, TestClient], officer_b: TestClient) -> None:
    client = clients["officer_a"]
    new = "/comune/borgo-demo/strategia/gestione/nuova/teoria-del-cambiamento"
    form = client.get(new)
    assert form.status_code == 200 and "teoria-del-cambiamento" in form.text
    bad = copy.deepcopy(EXAMPLES["toc"]) | {"title": f"ToC officer {TAG}"}
    bad["edges"].append({"source": "i1", "target": "o1"})
    bad["nodes"][3]["indicators"] = []
    response = client.post(new, data={"csrf_token": csrf_from(form.text), "content": json.dumps(bad)})
    assert response.status_code == 422
    assert "toc.edges[4]" in response.text and "all&#39;indietro" in response.text
    assert "toc.nodes[3].indicators" in response.text and "ToC officer" in response.text  # the text is kept
    yaml_text = "title: PESTLE " + TAG + "\nfactors:\n  - dimension: legal\n    title: Norma\n    impact: 5\n"
    response = client.post(
        "/comune/borgo-demo/strategia/gestione/nuova/pestle",
        data={"csrf_token": csrf_from(form.text), "content": yaml_text},
    )
    assert (
        response.status_code == 422
        and "pestle.factors[0].impact" in response.text
        and "fuori intervallo" in response.text
    )
    response = client.post(
        "/comune/borgo-demo/strategia/gestione/nuova/pestle",
        data={
            "csrf_token": csrf_from(form.text),
            "content": yaml_text.replace("impact: 5", "impact: -2"),
            "public": "1",
        },
    )
    assert response.status_code == 303
    url = response.headers["location"]
    page = client.get(url)
    assert page.status_code == 200 and f"PESTLE {TAG}" in page.text and "Artefact saved" not in page.text
    assert clients["anonymous"].get(url).status_code == 200  # public
    # Edit: make it a draft; the other municipality's officer may neither see the editor nor post to it.
    edit = client.get(url + "/modifica")
    assert edit.status_code == 200 and "Norma" in edit.text
    assert officer_b.get(url + "/modifica").status_code == 403
    assert (
        officer_b.post(url + "/modifica", data={"csrf_token": token(officer_b), "content": yaml_text}).status_code
        == 403
    )
    assert officer_b.post(url + "/elimina", data={"csrf_token": token(officer_b)}).status_code == 403
    changed = yaml_text.replace("impact: 5", "impact: 1").replace("Norma", "Norma rivista")
    response = client.post(url + "/modifica", data={"csrf_token": csrf_from(edit.text), "content": changed})
    assert response.status_code == 303
    assert "Norma rivista" in client.get(url).text
    assert clients["anonymous"].get(url).status_code == 404  # now a draft


def test_copy_into_my_plan(clients: dict[str, TestClient], officer_b: TestClient, plan: dict[str, Any]) -> None:
    url = f"/buone-pratiche/{plan['practice']}/copia"
    detail = officer_b.get(f"/buone-pratiche/{plan['practice']}")
    assert 'value="altrove"' in detail.text and 'value="borgo-demo"' not in detail.text
    # Into Borgo Demo (not theirs): 403; officer_a into Altrove: 403; a visitor goes to login.
    assert officer_b.post(url, data={"csrf_token": token(officer_b), "target": "borgo-demo"}).status_code == 403
    officer_a = clients["officer_a"]
    assert officer_a.post(url, data={"csrf_token": token(officer_a), "target": "altrove"}).status_code == 403
    anon = clients["anonymous"]
    assert anon.post(url, data={"csrf_token": token(anon), "target": "altrove"}).status_code == 303
    assert (
        clients["manager_b"]
        .post(url, data={"csrf_token": token(clients["manager_b"]), "target": "altrove"})
        .status_code
        == 403
    )
    # The officer of Altrove copies it into Altrove.
    response = officer_b.post(
        url, data={"csrf_token": token(officer_b), "target": "altrove", "adaptations": "Due scuole"}
    )
    assert response.status_code == 303
    copy_url = response.headers["location"]
    assert copy_url.startswith("/comune/altrove/strategia/buona-pratica/")
    page = officer_b.get(copy_url)
    assert page.status_code == 200 and "Borgo Demo" in page.text and "Due scuole" in page.text
    assert "Bozza: visibile solo al comune" in page.text
    assert anon.get(copy_url).status_code == 404  # a draft of Altrove
    doc = json.loads(officer_b.get(copy_url + ".json").text)
    assert (
        doc["provenance"]["practice_id"] == plan["practice"]
        and doc["provenance"]["source_municipality"] == "Borgo Demo"
    )
    (new_ref,) = doc["content"]["artefacts"]
    assert new_ref != f"toc:{plan['toc']}" and new_ref.startswith("toc:")
    assert officer_b.get(f"/comune/altrove/strategia/teoria-del-cambiamento/{new_ref[4:]}").status_code == 200
    # The original is untouched, and a second copy is refused (409) with the reason.
    original = json.loads(anon.get(plan["practice_url"] + ".json").text)
    assert original["content"]["artefacts"] == [f"toc:{plan['toc']}"] and original["provenance"] is None
    again = officer_b.post(url, data={"csrf_token": token(officer_b), "target": "altrove"})
    assert again.status_code == 409 and "già stata copiata nel piano di Altrove" in again.text


def test_no_personal_data_in_public_pages(clients: dict[str, TestClient], world: World, plan: dict[str, Any]) -> None:
    anon = clients["anonymous"]
    pages = [
        anon.get(u).text
        for u in (
            "/comune/borgo-demo/strategia",
            "/buone-pratiche",
            f"/buone-pratiche/{plan['practice']}",
            plan["toc_url"],
        )
    ]
    for text in pages:
        for email in world.emails.values():
            assert email not in text
        for name in [n for n in world.a_other_names if "Comune" not in n] + world.b_names[:5]:  # people, not the town
            assert name not in text
