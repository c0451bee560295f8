"""Matching storage on SQLite and PostgreSQL: profiles with hashed tokens, consents, calls for interest."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.demo import demo_community
from condivisa.errors import InputError
from condivisa.store import save_community
from condivisa.store.matching import (
    CallClosedError,
    answer_call,
    call_answers_csv,
    call_by_id,
    create_call,
    create_profile,
    list_calls,
    list_profiles,
    match_states,
    profile_by_token,
    profile_counts,
    ranked_matches,
    set_consent,
    token_hash,
)
from condivisa.store.models_matching import MatchProfileRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.repository import NotFoundError

CITIZEN = {"consumption_kwh_year": "3000", "pattern": "day", "use": "household"}
COMMUNITY = {
    "pv_kwp": "80",
    "consumption_kwh_year": "30000",
    "consumption_pattern": "evening",
    "lacking_pattern": "day",
}
ROOF = {"area_m2": "240", "orientation": "S", "tilt_deg": "30"}


def _profile(session: Session, mid: int, kind: str, attrs: dict[str, str], name: str, **kw: object):  # type: ignore[no-untyped-def]
    return create_profile(
        session,
        mid,
        kind=kind,
        display_name=name,
        attributes=attrs,
        contact_name=f"Referente {name}",
        contact_email=f"{name.lower().replace(' ', '')}@esempio.it",
        contact_phone="+39 011 1234567",
        cabina="AC001E00123",
        **kw,  # type: ignore[arg-type]
    )


def test_profiles_tokens_and_consent(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Prova", region="Piemonte", province="TO")
    other = ensure_municipality(session, "Altro Borgo", region="Piemonte")
    citizen, c_token = _profile(session, town.id, "citizen", CITIZEN, "Famiglia Sole", vulnerable=True)
    community, k_token = _profile(session, town.id, "community", COMMUNITY, "CER Prova")
    roof, r_token = _profile(session, town.id, "roof_owner", ROOF, "Tetto Scuola")
    # only the hash of the token is stored
    stored = session.scalars(select(MatchProfileRow.token_hash)).all()
    assert token_hash(c_token) in stored and c_token not in stored
    assert profile_by_token(session, town.id, c_token) == citizen
    assert profile_by_token(session, other.id, c_token) is None
    assert profile_by_token(session, town.id, "sbagliato") is None
    assert profile_counts(session, town.id)["citizen"] == 1
    assert {p.id for p in list_profiles(session, town.id)} == {citizen.id, community.id, roof.id}

    views = ranked_matches(session, community)
    assert {v.candidate.id for v in views} == {citizen.id, roof.id}
    assert all(v.contact is None and v.status == "suggested" for v in views)
    assert views == sorted(views, key=lambda v: (-v.match.score, v.candidate.id))

    assert set_consent(session, community, citizen.id, True) == "proposed"
    assert all(v.contact is None for v in ranked_matches(session, citizen))
    theirs = next(v for v in ranked_matches(session, citizen) if v.candidate.id == community.id)
    assert theirs.their_consent and not theirs.my_consent
    assert set_consent(session, citizen, community.id, True) == "consented"
    mine = next(v for v in ranked_matches(session, community) if v.candidate.id == citizen.id)
    assert mine.contact is not None and mine.contact.email == "famigliasole@esempio.it"
    back = next(v for v in ranked_matches(session, citizen) if v.candidate.id == community.id)
    assert back.contact is not None and back.contact.name == "Referente CER Prova"
    # the roof did not consent: no contact either way
    assert next(v for v in ranked_matches(session, roof) if v.candidate.id == community.id).contact is None

    # declining hides the match from both sides
    assert set_consent(session, roof, community.id, False) == "declined"
    assert roof.id not in {v.candidate.id for v in ranked_matches(session, community)}
    assert set_consent(session, community, roof.id, True) == "declined"
    # incompatible kinds and other municipalities are refused
    with pytest.raises(NotFoundError):
        set_consent(session, citizen, roof.id, True)
    stranger, _ = _profile(session, other.id, "roof_owner", ROOF, "Tetto Altrove")
    with pytest.raises(NotFoundError):
        set_consent(session, community, stranger.id, True)
    states = {(s.low.id, s.high.id): s.status for s in match_states(session, town.id)}
    assert states == {
        tuple(sorted((citizen.id, community.id))): "consented",
        tuple(sorted((roof.id, community.id))): "declined",
    }
    assert k_token and r_token


def test_bad_profile_names_fields(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Errori", region="Piemonte")
    with pytest.raises(InputError) as err:
        create_profile(
            session,
            town.id,
            kind="citizen",
            display_name="",
            attributes={"consumption_kwh_year": "-3", "pattern": "day", "use": "household"},
            contact_name="X",
            contact_email="non-una-email",
            latitude="95",
            longitude="7",
        )
    fields = {p.field for p in err.value.problems}
    assert {"display_name", "contact_email", "latitude", "consumption_kwh_year"} <= fields
    session.rollback()
    assert list_profiles(session, town.id) == []


def test_linked_community_takes_its_plants(session: Session) -> None:
    cid = save_community(session, demo_community(), municipality="Borgo Collegato")
    town = ensure_municipality(session, "Borgo Collegato", region="Piemonte")
    attrs = {**COMMUNITY, "pv_kwp": ""}
    prof, _ = create_profile(
        session,
        town.id,
        kind="community",
        display_name="CER collegata",
        attributes=attrs,
        contact_name="R",
        contact_email="r@esempio.it",
        community_id=cid,
    )
    assert prof.attributes["pv_kwp"] == pytest.approx(260.0) and prof.cabina == "AC001E00123"


def test_calls_answers_and_csv(session: Session) -> None:
    town = ensure_municipality(session, "Borgo Avvisi", region="Piemonte")
    call = create_call(
        session,
        town.id,
        title="Tetti per la CER",
        body="Cerchiamo tetti",
        opens_on="2026-01-01",
        closes_on="2026-12-31",
        profile_kind="roof_owner",
        questions="Il tetto è libero da vincoli?\nQuando è stato rifatto?",
    )
    assert call.questions == ["Il tetto è libero da vincoli?", "Quando è stato rifatto?"]
    assert [c.id for c in list_calls(session, town.id, open_on=dt.date(2026, 6, 1))] == [call.id]
    assert list_calls(session, town.id, open_on=dt.date(2027, 1, 1)) == []
    profile = {
        "display_name": "Capannone Rossi",
        "attributes": ROOF,
        "contact_name": "Mario Rossi",
        "contact_email": "mario.rossi@esempio.it",
    }
    answers = {"Il tetto è libero da vincoli?": "Sì", "Quando è stato rifatto?": "2019"}
    info, token = answer_call(session, call, dt.date(2026, 6, 1), answers=answers, profile=profile)
    assert info.kind == "roof_owner" and info.call_id == call.id and token
    with pytest.raises(CallClosedError, match="è chiuso"):
        answer_call(session, call, dt.date(2027, 1, 1), answers=answers, profile=profile)
    with pytest.raises(InputError) as err:
        answer_call(session, call, dt.date(2026, 6, 1), answers={}, profile=profile)
    assert {p.field for p in err.value.problems} == {"q0", "q1"}
    assert len(list_profiles(session, town.id)) == 1  # the refused answers created nothing
    rows = list(csv.reader(io.StringIO(call_answers_csv(session, call)), delimiter=";"))
    assert rows[0][-2:] == call.questions
    assert rows[1][4] == "Capannone Rossi" and rows[1][-2:] == ["Sì", "2019"]
    assert call_by_id(session, town.id, call.id) == call
    with pytest.raises(NotFoundError):
        call_by_id(session, town.id + 999, call.id)
    with pytest.raises(InputError) as bad:
        create_call(session, town.id, title="", body="", opens_on="ieri", closes_on="2026-01-01", profile_kind="x")
    assert {p.field for p in bad.value.problems} == {"title", "opens_on", "profile_kind"}
    with pytest.raises(InputError, match="precede"):
        create_call(
            session, town.id, title="T", body="", opens_on="2026-02-01", closes_on="2026-01-01", profile_kind="citizen"
        )
