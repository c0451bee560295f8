"""Matchmaking pages: authorization by role and by manage token, consent before contact, calls for interest."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ROLES, World, csrf_from

SLUG = "/comune/borgo-demo"
OFFICER_PAGE = (200, 403, 403, 403, 200, 303)
OFFICER_PAGE_B = (200, 403, 403, 403, 403, 303)


def _person(tag: str) -> dict[str, str]:
    uid = secrets.token_hex(3)
    return {
        "contact_name": f"Ermenegilda {tag.capitalize()}{uid}",
        "contact_email": f"{tag}.{uid}@riservato.example",
        "contact_phone": f"+39 333 {secrets.randbelow(9_000_000) + 1_000_000}",
    }


def _create(
    client: TestClient, kind: str, attrs: dict[str, str], name: str, contact: dict[str, str], **extra: str
) -> str:
    page = client.get(f"{SLUG}/incontri/nuovo", params={"tipo": kind})
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.text),
        "kind": kind,
        "display_name": name,
        "description": f"Descrizione pubblica di {name}",
        "cabina": "AC001E00123",
        "privacy": "1",
        **attrs,
        **contact,
        **extra,
    }
    response = client.post(f"{SLUG}/incontri/nuovo", data=data)
    assert response.status_code == 303, response.text[:2000]
    url = response.headers["location"]
    assert url.startswith(f"{SLUG}/incontri/profilo/") and url.endswith("?nuovo=1")
    return url.removesuffix("?nuovo=1")


def _post(
    client: TestClient, url: str, data: dict[str, str] | None = None, page: str = f"{SLUG}/incontri/nuovo?tipo=citizen"
) -> int:
    token = csrf_from(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})}).status_code


@pytest.fixture(scope="module")
def parties(clients: dict[str, TestClient]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Roof owner, community, financer and citizen created from the public form: (manage url, name, contact)."""
    anon = clients["anonymous"]
    tag = secrets.token_hex(2)
    made = {}
    specs = {
        "roof": ("roof_owner", {"area_m2": "300", "orientation": "S", "tilt_deg": "30"}),
        "community": (
            "community",
            {"pv_kwp": "60", "consumption_kwh_year": "80000", "consumption_pattern": "day", "lacking_pattern": "day"},
        ),
        "financer": ("financer", {"budget_min_eur": "10000", "budget_max_eur": "90000", "ethical": "1"}),
        "citizen": ("citizen", {"consumption_kwh_year": "3500", "pattern": "day", "use": "household"}),
    }
    for key, (kind, attrs) in specs.items():
        name = f"Profilo {key} {tag}"
        contact = _person(key)
        extra = {"vulnerable": "1"} if key == "citizen" else {}
        made[key] = (_create(anon, kind, attrs, name, contact, **extra), name, contact)
    return made


def _id_of(client: TestClient, manage_url: str, name: str) -> int:
    html = client.get(manage_url).text
    marker = f'data-candidate="{name}"'
    assert marker in html, f"{name} not among the matches"
    head = html[: html.index(marker)]
    return int(head[head.rindex('id="abbinamento-') + len('id="abbinamento-') :].split('"')[0])


def _private(contact: dict[str, str]) -> list[str]:
    return [contact["contact_name"], contact["contact_email"], contact["contact_phone"]]


def test_authorization_matrix(world: World, clients: dict[str, TestClient], parties: dict) -> None:  # type: ignore[type-arg]
    manage_url = parties["roof"][0]
    admin = clients["admin"]
    token = csrf_from(admin.get(f"{SLUG}/incontri/avvisi").text)
    today = dt.date.today()
    created = admin.post(
        f"{SLUG}/incontri/avvisi",
        data={
            "csrf_token": token,
            "title": f"Avviso matrice {secrets.token_hex(2)}",
            "opens_on": (today - dt.timedelta(days=1)).isoformat(),
            "closes_on": (today + dt.timedelta(days=30)).isoformat(),
            "profile_kind": "citizen",
        },
    )
    assert created.status_code == 303
    html = admin.get(f"{SLUG}/incontri/avvisi").text
    call_id = int(html.split(f"{SLUG}/incontri/avvisi/")[1].split("/")[0])
    gets: list[tuple[str, tuple[int, ...]]] = [
        (f"{SLUG}/incontri", (200,) * 6),
        (f"{SLUG}/incontri/nuovo", (200,) * 6),
        (f"{SLUG}/incontri/nuovo?tipo=community", (200,) * 6),
        (f"{SLUG}/manifestazioni", (200,) * 6),
        (f"{SLUG}/manifestazioni/{call_id}", (200,) * 6),
        (f"{SLUG}/manifestazioni/999999", (404,) * 6),
        (manage_url, (200,) * 6),
        (f"{SLUG}/incontri/profilo/non-un-token", (404,) * 6),
        (manage_url.replace("borgo-demo", "altrove"), (404,) * 6),
        ("/comune/nessuno/incontri", (404,) * 6),
        (f"{SLUG}/incontri/gestione", OFFICER_PAGE),
        (f"{SLUG}/incontri/avvisi", OFFICER_PAGE),
        (f"{SLUG}/incontri/avvisi/{call_id}/risposte.csv", OFFICER_PAGE),
        ("/comune/altrove/incontri/gestione", OFFICER_PAGE_B),
        ("/comune/altrove/incontri/avvisi", OFFICER_PAGE_B),
        (f"/comune/altrove/incontri/avvisi/{call_id}/risposte.csv", (404, 403, 403, 403, 403, 303)),
    ]
    for path, expected in gets:
        for role, status in zip(ROLES, expected, strict=True):
            got = clients[role].get(path).status_code
            assert got == status, f"GET {path} as {role}: {got} != {status}"
    bad_call = {"title": "", "opens_on": "x", "closes_on": "y", "profile_kind": "citizen"}
    posts: list[tuple[str, tuple[int, ...]]] = [
        (f"{SLUG}/incontri/avvisi", (422, 403, 403, 403, 422, 303)),
        ("/comune/altrove/incontri/avvisi", (422, 403, 403, 403, 403, 303)),
    ]
    for path, expected in posts:
        for role, status in zip(ROLES, expected, strict=True):
            got = _post(clients[role], path, bad_call)
            assert got == status, f"POST {path} as {role}: {got} != {status}"
    # without the CSRF token nothing is accepted
    assert clients["officer_a"].post(f"{SLUG}/incontri/avvisi", data=bad_call).status_code == 403
    assert clients["anonymous"].post(f"{SLUG}/incontri/nuovo", data={"kind": "citizen"}).status_code == 403


def test_no_personal_data_before_consent(world: World, clients: dict[str, TestClient], parties: dict) -> None:  # type: ignore[type-arg]
    anon = clients["anonymous"]
    roof_url, roof_name, roof_contact = parties["roof"]
    com_url, com_name, com_contact = parties["community"]
    fin_url, _fin_name, _ = parties["financer"]
    cit_url, _cit_name, cit_contact = parties["citizen"]
    public = [f"{SLUG}/incontri", f"{SLUG}/incontri/nuovo", f"{SLUG}/manifestazioni", "/comune/borgo-demo"]
    officer = [f"{SLUG}/incontri/gestione", f"{SLUG}/incontri/avvisi"]

    def check_hidden(secrets_: list[str], pages: list[str], roles: tuple[str, ...] = ROLES) -> None:
        for role in roles:
            for page in pages:
                text = clients[role].get(page).text
                for s in secrets_:
                    assert s not in text, f"{s!r} visible on {page} as {role}"

    everything = _private(roof_contact) + _private(com_contact) + _private(cit_contact)
    check_hidden(everything, public)
    check_hidden(everything, officer, ("admin", "officer_a"))
    # the roof owner sees the community ranked with explanations, no contact
    roof_page = anon.get(roof_url).text
    assert com_name in roof_page and "Energia condivisa aggiunta" in roof_page and "Stessa cabina primaria" in roof_page
    check_hidden(_private(com_contact), [roof_url])
    check_hidden(_private(roof_contact) + _private(cit_contact), [com_url, fin_url])
    # public pages show public data, not the private flag
    listing = anon.get(f"{SLUG}/incontri").text
    assert roof_name in listing and "Superficie disponibile" in listing
    assert "vulnerab" not in anon.get(com_url).text.lower()

    com_id = _id_of(anon, roof_url, com_name)
    roof_id = _id_of(anon, com_url, roof_name)
    assert _post(anon, f"{roof_url}/abbinamenti/{com_id}/accetta") == 303
    # one side only: still hidden everywhere
    check_hidden(_private(roof_contact), [com_url, fin_url, *public])
    check_hidden(_private(com_contact), [roof_url])
    assert "altra parte ha proposto il contatto" in anon.get(com_url).text
    officer_page = clients["officer_a"].get(f"{SLUG}/incontri/gestione").text
    assert roof_name in officer_page and "proposto" in officer_page

    assert _post(anon, f"{com_url}/abbinamenti/{roof_id}/accetta") == 303
    # both consented: each sees the other's contact details, nobody else does
    for s in _private(com_contact):
        assert s in anon.get(roof_url).text
    for s in _private(roof_contact):
        assert s in anon.get(com_url).text
    check_hidden(_private(roof_contact) + _private(com_contact), [*public, fin_url, cit_url])
    check_hidden(_private(roof_contact) + _private(com_contact), officer, ("admin", "officer_a"))
    assert "accettato da entrambi" in clients["officer_a"].get(f"{SLUG}/incontri/gestione").text


def test_tokens_act_only_on_their_own_matches(clients: dict[str, TestClient], parties: dict) -> None:  # type: ignore[type-arg]
    anon = clients["anonymous"]
    roof_url, roof_name, roof_contact = parties["roof"]
    com_url, com_name, _ = parties["community"]
    cit_url, _, _ = parties["citizen"]
    fin_url, fin_name, fin_contact = parties["financer"]
    roof_id = _id_of(anon, com_url, roof_name)
    fin_id = _id_of(anon, roof_url, fin_name)
    # a citizen's token cannot accept a roof (incompatible: that match is not the citizen's)
    assert _post(anon, f"{cit_url}/abbinamenti/{roof_id}/accetta") == 404
    # a profile cannot be matched with itself, nor act with a token of another municipality's path
    assert _post(anon, f"{roof_url}/abbinamenti/{roof_id}/accetta") == 404
    assert _post(anon, roof_url.replace("borgo-demo", "altrove") + f"/abbinamenti/{fin_id}/accetta") == 404
    assert _post(anon, f"{roof_url}/abbinamenti/{fin_id}/inventa") == 404
    # the financer's own page still hides the roof owner's contact (only the roof owner could have consented)
    assert _post(anon, f"{roof_url}/abbinamenti/{fin_id}/accetta") == 303
    for s in _private(roof_contact):
        assert s not in anon.get(fin_url).text
    # declining hides the match on both sides
    assert _post(anon, f"{fin_url}/abbinamenti/{roof_id}/rifiuta") == 303
    assert f'data-candidate="{fin_name}"' not in anon.get(roof_url).text
    assert f'data-candidate="{roof_name}"' not in anon.get(fin_url).text
    for s in _private(fin_contact):
        assert s not in anon.get(roof_url).text
    assert com_name


def test_bad_profile_form_is_shown_again(clients: dict[str, TestClient]) -> None:
    anon = clients["anonymous"]
    page = anon.get(f"{SLUG}/incontri/nuovo", params={"tipo": "citizen"}).text
    data = {
        "csrf_token": csrf_from(page),
        "kind": "citizen",
        "display_name": "Senza consenso",
        "consumption_kwh_year": "tanti",
        "pattern": "day",
        "use": "household",
        "contact_name": "A",
        "contact_email": "a@b.it",
    }
    response = anon.post(f"{SLUG}/incontri/nuovo", data=data)
    assert response.status_code == 422 and "consenso al trattamento" in response.text
    response = anon.post(f"{SLUG}/incontri/nuovo", data={**data, "privacy": "1"})
    assert response.status_code == 422 and "non è un numero" in response.text
    assert 'value="Senza consenso"' in response.text  # the form keeps what was typed
    response = anon.post(f"{SLUG}/incontri/nuovo", data={**data, "kind": "alieno"})
    assert response.status_code == 422


def test_calls_for_interest(clients: dict[str, TestClient]) -> None:
    officer, anon = clients["officer_a"], clients["anonymous"]
    today = dt.date.today()
    tag = secrets.token_hex(2)

    def publish(title: str, first: dt.date, last: dt.date) -> int:
        assert (
            _post(
                officer,
                f"{SLUG}/incontri/avvisi",
                {
                    "title": title,
                    "body": "Il comune cerca tetti per un impianto condiviso.",
                    "opens_on": first.isoformat(),
                    "closes_on": last.isoformat(),
                    "profile_kind": "roof_owner",
                    "questions": "Il tetto ha vincoli?\nAnno di rifacimento?",
                },
                page=f"{SLUG}/incontri/avvisi",
            )
            == 303
        )
        html = officer.get(f"{SLUG}/incontri/avvisi").text
        head = html[: html.index(title)]
        return int(head[head.rindex("/manifestazioni/") + len("/manifestazioni/") :].split('"')[0])

    open_id = publish(f"Tetti aperti {tag}", today - dt.timedelta(days=2), today + dt.timedelta(days=10))
    closed_id = publish(f"Tetti chiusi {tag}", today - dt.timedelta(days=30), today - dt.timedelta(days=1))
    listing = anon.get(f"{SLUG}/manifestazioni").text
    assert f"Tetti aperti {tag}" in listing and f"Tetti chiusi {tag}" not in listing
    contact = _person("avviso")
    page = anon.get(f"{SLUG}/manifestazioni/{open_id}").text
    form = {
        "csrf_token": csrf_from(page),
        "display_name": f"Capannone {tag}",
        "area_m2": "500",
        "orientation": "SE",
        "tilt_deg": "10",
        "q0": "Nessun vincolo",
        "q1": "2020",
        "privacy": "1",
        **contact,
    }
    missing = anon.post(f"{SLUG}/manifestazioni/{open_id}", data={**form, "q1": ""})
    assert missing.status_code == 422 and "risposta obbligatoria" in missing.text
    answered = anon.post(f"{SLUG}/manifestazioni/{open_id}", data=form)
    assert answered.status_code == 303 and "/incontri/profilo/" in answered.headers["location"]
    # the answer created a matchable profile
    assert f"Capannone {tag}" in anon.get(f"{SLUG}/incontri").text
    closed_page = anon.get(f"{SLUG}/manifestazioni/{closed_id}").text
    assert "non accetta risposte" in closed_page and 'id="answer-form"' not in closed_page
    refused = anon.post(f"{SLUG}/manifestazioni/{closed_id}", data=form)
    assert refused.status_code == 409 and "è chiuso" in refused.text
    exported = officer.get(f"{SLUG}/incontri/avvisi/{open_id}/risposte.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert f"Capannone {tag}" in exported.text and "Nessun vincolo" in exported.text
    assert clients["manager_a"].get(f"{SLUG}/incontri/avvisi/{open_id}/risposte.csv").status_code == 403
    # a call of Borgo Demo is not reachable under Altrove
    assert anon.get(f"/comune/altrove/manifestazioni/{open_id}").status_code == 404


def test_english_labels(clients: dict[str, TestClient]) -> None:
    client = TestClient(clients["anonymous"].app, follow_redirects=False)
    client.cookies.set("condivisa_lang", "en")
    html = client.get(f"{SLUG}/incontri").text
    assert "Roof owner" in html and "Add your profile" in html
