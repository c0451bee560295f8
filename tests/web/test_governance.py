"""Governance pages: access by role, register, assemblies with votes and minutes, fund, documents."""

from __future__ import annotations

import datetime as dt
import io
import secrets

import pytest
from docx import Document
from fastapi.testclient import TestClient

from condivisa.store import make_engine, session_factory
from condivisa.store.governance import list_register
from tests.web.conftest import World, csrf_from

ROLES = ("admin", "manager_a", "manager_b", "member_a", "officer_a", "anonymous")


def _post(client: TestClient, page: str, url: str, data: dict[str, str]) -> object:
    token = csrf_from(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture(scope="module")
def governed(world: World, clients: dict[str, TestClient]) -> dict[str, int]:
    """Community A with its founders registered, one assembly with votes; community B with one assembly."""
    manager = clients["manager_a"]
    base = f"/communities/{world.a}/governance"
    r = _post(manager, base, f"{base}/register/founders", {"admitted_on": "2024-03-01", "decision": "atto costitutivo"})
    assert r.status_code == 303, r.text[:300]  # type: ignore[attr-defined]
    r = _post(
        manager,
        f"{base}/assemblies",
        f"{base}/assemblies",
        {
            "held_on": "2026-04-20",
            "kind": "ordinary",
            "call": "first",
            "place": "Sala consiliare",
            "agenda": "Approvazione del rendiconto\nNomina del consiglio",
        },
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    aid = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    b_manager = clients["manager_b"]
    b_base = f"/communities/{world.b}/governance"
    r = _post(
        b_manager, f"{b_base}/assemblies", f"{b_base}/assemblies", {"held_on": "2026-05-01", "agenda": "Bilancio"}
    )
    bid = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    return {"a": aid, "b": bid}


def test_routes_by_role(world: World, clients: dict[str, TestClient], governed: dict[str, int]) -> None:
    a, b = world.a, world.b
    aid, bid = governed["a"], governed["b"]
    pages = {
        f"/communities/{a}/governance": {"member_a": 200, "officer_a": 200, "manager_b": 403},
        f"/communities/{a}/governance/assemblies": {"member_a": 200, "officer_a": 200, "manager_b": 403},
        f"/communities/{a}/governance/assemblies/{aid}": {"member_a": 200, "officer_a": 200, "manager_b": 403},
        f"/communities/{a}/governance/assemblies/{aid}/verbale.docx": {
            "member_a": 200,
            "officer_a": 200,
            "manager_b": 403,
        },
        f"/communities/{a}/governance/documents/statuto.docx": {"member_a": 200, "officer_a": 200, "manager_b": 403},
        f"/communities/{a}/governance/documents/regolamento.docx": {
            "member_a": 200,
            "officer_a": 200,
            "manager_b": 403,
        },
        f"/communities/{a}/governance/fund": {"member_a": 403, "officer_a": 200, "manager_b": 403},
        f"/communities/{b}/governance": {"member_a": 403, "officer_a": 403, "manager_b": 200},
        f"/communities/{b}/governance/assemblies/{bid}": {"member_a": 403, "officer_a": 403, "manager_b": 200},
        f"/communities/{b}/governance/fund": {"member_a": 403, "officer_a": 403, "manager_b": 200},
    }
    for url, expected in pages.items():
        owner = "manager_b" if f"/communities/{b}/" in url else "manager_a"
        want = {"admin": 200, owner: 200, "anonymous": 303, **expected}
        if owner == "manager_b":
            want["manager_a"] = 403
        for role in ROLES:
            got = clients[role].get(url).status_code
            assert got == want[role], (url, role, got)
    # writes: only managers of the community and admins; officers read only; anonymous goes to login
    posts = [
        f"/communities/{a}/governance/profile",
        f"/communities/{a}/governance/register",
        f"/communities/{a}/governance/assemblies",
        f"/communities/{a}/governance/assemblies/{aid}/attendance",
        f"/communities/{a}/governance/assemblies/{aid}/votes/0",
        f"/communities/{a}/governance/fund/beneficiaries",
        f"/communities/{a}/governance/fund/disbursements",
    ]
    for role in ("manager_b", "member_a", "officer_a"):
        token = csrf_from(clients[role].get(f"/communities/{b if role == 'manager_b' else a}/governance").text)
        for url in posts:
            assert clients[role].post(url, data={"csrf_token": token}).status_code == 403, (url, role)
    assert clients["anonymous"].post(posts[0], data={}).status_code in (303, 403)
    assert clients["admin"].post(posts[0], data={}).status_code == 403  # no CSRF token


def test_member_sees_only_own_register_row(
    world: World, clients: dict[str, TestClient], governed: dict[str, int]
) -> None:
    html = clients["member_a"].get(f"/communities/{world.a}/governance").text
    assert "m10" in html
    for name in world.a_other_names:
        assert name not in html
    for other in ("m11", "m12", "m04"):
        assert f"<td>{other}</td>" not in html
    assert "admit-form" not in html and "profile-form" not in html
    manager_html = clients["manager_a"].get(f"/communities/{world.a}/governance").text
    assert "<td>m11</td>" in manager_html and "admit-form" in manager_html
    # manager B sees nothing of A, A's manager nothing of B
    assert all(
        n not in clients["manager_b"].get(f"/communities/{world.b}/governance").text for n in world.a_other_names
    )
    assert all(n not in manager_html for n in world.b_names)


def test_profile_admission_withdrawal(world: World, clients: dict[str, TestClient], governed: dict[str, int]) -> None:
    manager = clients["manager_a"]
    base = f"/communities/{world.a}/governance"
    r = _post(manager, base, f"{base}/profile", {"legal_form": "spa", "seat_address": "x", "seat_municipality": "y"})
    assert r.status_code == 422 and "legal_form" in r.text  # type: ignore[attr-defined]
    r = _post(
        manager,
        base,
        f"{base}/profile",
        {"legal_form": "associazione_ets", "seat_address": "Piazza Municipio 1", "seat_municipality": "Borgo Demo"},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    html = manager.get(base).text
    assert "Associazione del Terzo settore" in html and "Piazza Municipio 1" in html
    new = f"nuovo-{secrets.token_hex(3)}"
    r = _post(manager, base, f"{base}/register", {"member": new, "admitted_on": "2025-01-10", "decision": "delibera 3"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _post(manager, base, f"{base}/register", {"member": new, "admitted_on": "2025-01-10", "decision": "delibera 4"})
    assert r.status_code == 422 and "già iscritto" in r.text  # type: ignore[attr-defined]
    r = _post(manager, base, f"{base}/register", {"member": "x", "admitted_on": "ieri", "decision": "d"})
    assert r.status_code == 422 and "admitted_on" in r.text  # type: ignore[attr-defined]
    html = manager.get(base).text
    assert f"{new}: iscritto nel libro dei soci ma non tra i soci" in html  # mismatch flagged
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        entry = next(e for e in list_register(s, world.a, member=new))
    engine.dispose()
    url = f"{base}/register/{entry.id}/withdraw"
    assert _post(manager, base, url, {"withdrawn_on": "2025-02-01", "reason": "trasloco"}).status_code == 303  # type: ignore[attr-defined]
    r = _post(manager, base, url, {"withdrawn_on": "2025-03-01", "reason": "ancora"})
    assert r.status_code == 422 and "già receduto" in r.text  # type: ignore[attr-defined]
    # B's manager cannot withdraw A's members
    token = csrf_from(clients["manager_b"].get(f"/communities/{world.b}/governance").text)
    assert (
        clients["manager_b"]
        .post(url, data={"csrf_token": token, "withdrawn_on": "2025-03-01", "reason": "x"})
        .status_code
        == 403
    )


def test_assembly_votes_outcome_and_minutes(
    world: World, clients: dict[str, TestClient], governed: dict[str, int]
) -> None:
    manager = clients["manager_a"]
    page = f"/communities/{world.a}/governance/assemblies/{governed['a']}"
    ids = [f"m{i:02d}" for i in range(1, 40)]
    over = "m10: m11, m12, m13, m14, m15, m16, m17, m18, m19, m20, m21"
    r = _post(manager, page, f"{page}/attendance", {"attendees": over})
    assert r.status_code == 422 and "deleghe" in r.text  # type: ignore[attr-defined]
    lines = "\n".join(ids[:17]) + "\nm18: m19, m20"
    assert _post(manager, page, f"{page}/attendance", {"attendees": lines}).status_code == 303  # type: ignore[attr-defined]
    html = manager.get(page).text
    assert "cioè 20 su 39: raggiunto." in html  # 17 present + 1 with 2 proxies = 20 of 39 members: at least half
    yes = " ".join(ids[:20])
    assert _post(manager, page, f"{page}/votes/0", {"yes": yes}).status_code == 303  # type: ignore[attr-defined]
    r = _post(manager, page, f"{page}/votes/1", {"yes": " ".join(ids[:10]), "no": " ".join(ids[10:20])})
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _post(manager, page, f"{page}/votes/1", {"yes": "m39"})
    assert r.status_code == 422 and "m39" in r.text  # type: ignore[attr-defined]
    html = manager.get(page).text
    assert "respinta per parità" in html
    docx = clients["member_a"].get(f"{page}/verbale.docx")
    assert docx.status_code == 200 and docx.headers["content-type"].startswith("application/vnd.openxml")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "Approvazione del rendiconto" in text and "Sala consiliare" in text and "con delega di m19" in text
    pdf = manager.get(f"{page}/verbale.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_documents_have_the_community_and_its_rule(world: World, clients: dict[str, TestClient]) -> None:
    base = f"/communities/{world.a}/governance/documents"
    for name in ("statuto", "regolamento"):
        r = clients["officer_a"].get(f"{base}/{name}.docx")
        text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
        assert "CER Borgo Demo" in text and "Borgo Demo" in text
        assert "il 60%" in text and "energia condivisa prelevata" in text
    pdf = clients["manager_a"].get(f"{base}/statuto.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert clients["manager_a"].get(f"{base}/altro.docx").status_code == 404


def test_fund_inflows_beneficiaries_disbursements(world: World, clients: dict[str, TestClient]) -> None:
    manager = clients["manager_a"]
    page = f"/communities/{world.a}/governance/fund"
    html = manager.get(page).text
    assert "sociale" in html and "gestione" in html
    pseudonym = f"Famiglia-{secrets.token_hex(3)}"
    r = _post(
        manager,
        page,
        f"{page}/beneficiaries",
        {"fund": "fund:sociale", "pseudonym": pseudonym, "isee_band": "0-6000", "admitted_on": "2025-01-05"},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        from condivisa.store.governance import fund_summaries, list_beneficiaries

        bid = next(b.id for b in list_beneficiaries(s, world.a) if b.pseudonym == pseudonym)
        balance = next(f for f in fund_summaries(s, world.a) if f.fund == "fund:sociale").balance_cents
    engine.dispose()
    too_much = f"{(balance + 1) / 100:.2f}".replace(".", ",")
    r = _post(
        manager,
        page,
        f"{page}/disbursements",
        {"beneficiary_id": str(bid), "amount_eur": too_much, "paid_on": "2025-02-01"},
    )
    assert r.status_code == 422 and "superiore al saldo" in r.text  # type: ignore[attr-defined]
    if balance > 0:
        r = _post(
            manager,
            page,
            f"{page}/disbursements",
            {"beneficiary_id": str(bid), "amount_eur": "0,01", "paid_on": "2025-02-01"},
        )
        assert r.status_code == 303  # type: ignore[attr-defined]
    html = clients["officer_a"].get(page).text
    assert pseudonym in html
    assert pseudonym not in clients["manager_b"].get(f"/communities/{world.b}/governance/fund").text
    _ = dt


def test_english_catalog(world: World, clients: dict[str, TestClient]) -> None:
    from condivisa.web import i18n

    client = clients["manager_a"]
    client.cookies.set("condivisa_lang", "en")
    try:
        html = client.get(f"/communities/{world.a}/governance").text
    finally:
        client.cookies.delete("condivisa_lang")
    assert "Members&#39; register" in html or "Members' register" in html
    assert "Founding documents" in html
    assert i18n.gettext("en", "Fondo per la povertà energetica") == "Energy-poverty fund"
