"""The municipality's public home: services for everyone, office links only for its officers, English catalog."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import World


def test_home_is_public_and_office_links_only_for_officers(world: World, clients: dict[str, TestClient]) -> None:
    for role, client in clients.items():
        page = client.get("/comune/borgo-demo")
        assert page.status_code == 200, role
        assert "/comune/borgo-demo/sportello" in page.text and "/comune/borgo-demo/edifici" in page.text
        assert ('id="civic-office"' in page.text) == (role in ("admin", "officer_a")), role
    assert 'id="civic-office"' not in clients["officer_a"].get("/comune/altrove").text
    assert clients["anonymous"].get("/comune/nessuno").status_code == 404
    listing = clients["anonymous"].get("/comuni")
    assert listing.status_code == 200 and "/comune/altrove" in listing.text


def test_home_in_english(world: World, app_factory: object) -> None:
    with TestClient(app_factory) as client:  # type: ignore[arg-type]
        client.cookies.set("condivisa_lang", "en")
        page = client.get("/comune/borgo-demo")
    assert "Municipality of" in page.text and "Register and map of energy communities" in page.text
