"""The register's repository on SQLite and PostgreSQL: entries, tokens, criteria, applications, labels."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.civic.register import validate_entry
from condivisa.store import create_user
from condivisa.store.models_register import LabelCriterionRow, RegisterEntryRow
from condivisa.store.municipalities import ensure_municipality
from condivisa.store.register import (
    add_office_entry,
    award_label,
    current_label,
    entry_by_token,
    get_application,
    hash_token,
    label_settings,
    list_criteria,
    public_entries,
    publish_entry,
    refuse_label,
    register_entry,
    reject_entry,
    save_criterion,
    set_label_settings,
    submit_application,
    update_entry,
)
from condivisa.store.repository import NotFoundError

AREA = '{"type":"Polygon","coordinates":[[[7.68,45.06],[7.70,45.06],[7.70,45.08],[7.68,45.08],[7.68,45.06]]]}'


def _setup(session: Session) -> tuple[int, int, int]:
    a = ensure_municipality(session, "Borgo Uno", region="Piemonte", slug="borgo-uno").id
    b = ensure_municipality(session, "Borgo Due", region="Piemonte", slug="borgo-due").id
    uid = create_user(session, email="ufficio@comune.it", password_hash="x", display_name="Ufficio").id
    return a, b, uid


def _data(name: str, **extra: str) -> object:
    return validate_entry({"name": name, "configuration": "CER", "status": "operating", **extra})


EVIDENCE_ALL = {
    "famiglie_vulnerabili": {"value": 12.0, "note": "elenco"},
    "filiera_locale": {"value": True, "note": ""},
    "assemblee_aperte": {"value": 2.0, "note": "verbali"},
    "regolamento_pubblicato": {"value": True, "note": "https://cer.it/reg.pdf"},
    "fondo_poverta_energetica": {"value": 5.0, "note": ""},
}


def test_registration_token_review_and_public_view(session: Session) -> None:
    a, b, uid = _setup(session)
    data = _data("CER Sole", cabina_area=AREA, contact_email="segreteria@cer.it", plants="fotovoltaico; 80")
    entry_id, token = register_entry(session, a, data)  # type: ignore[arg-type]
    row = session.get(RegisterEntryRow, entry_id)
    assert row is not None and row.publication == "submitted" and row.source == "self"
    assert row.manage_token_hash == hash_token(token) and token not in row.manage_token_hash
    assert entry_by_token(session, a, token) is row
    assert entry_by_token(session, b, token) is None  # another municipality's link
    assert entry_by_token(session, a, token + "x") is None
    assert public_entries(session, a) == []  # not yet reviewed

    publish_entry(session, row, user_id=uid)
    [public] = public_entries(session, a)
    assert public.name == "CER Sole" and public.total_kw == 80
    assert public.public_email == ""  # not ticked: not published
    assert public.cabina_area is not None and public.point() is not None

    # a community's change sends it back to review; the office's keeps it published
    update_entry(session, row, _data("CER Sole 2", contact_email="x@cer.it", contact_public="on"), by_office=False)  # type: ignore[arg-type]
    assert row.publication == "submitted" and public_entries(session, a) == []
    publish_entry(session, row, user_id=uid)
    update_entry(session, row, _data("CER Sole 3", contact_email="x@cer.it", contact_public="on"), by_office=True)  # type: ignore[arg-type]
    [public] = public_entries(session, a)
    assert public.name == "CER Sole 3" and public.public_email == "x@cer.it"

    with pytest.raises(ValueError, match="motivo"):
        reject_entry(session, row, user_id=uid, reason="  ")
    reject_entry(session, row, user_id=uid, reason="dati incompleti")
    assert row.publication == "rejected" and public_entries(session, a) == []


def test_office_entries_are_published_without_token(session: Session) -> None:
    a, _, uid = _setup(session)
    entry_id = add_office_entry(session, a, _data("AUC Via Roma"), user_id=uid)  # type: ignore[arg-type]
    row = session.get(RegisterEntryRow, entry_id)
    assert row is not None and row.manage_token_hash is None and row.publication == "published"
    assert [e.id for e in public_entries(session, a)] == [entry_id]


def test_criteria_seeded_once_and_managed(session: Session) -> None:
    a, b, _ = _setup(session)
    criteria = list_criteria(session, a)
    assert len(criteria) == 5
    assert len(list_criteria(session, a)) == 5  # not seeded twice
    assert session.scalars(select(LabelCriterionRow).where(LabelCriterionRow.municipality_id == b)).all() == []
    assert label_settings(session, a).validity_years == 2

    new_id = save_criterion(
        session,
        a,
        criterion_id=None,
        code="scuole",
        title="Scuole coinvolte",
        description="",
        kind="min_count",
        threshold=1,
        required=False,
        weight=1,
        active=True,
        source="proposta",
        proposal=True,
    )
    with pytest.raises(ValueError, match="già usato"):
        save_criterion(
            session,
            a,
            criterion_id=None,
            code="scuole",
            title="Doppio",
            description="",
            kind="boolean",
            threshold=None,
            required=False,
            weight=1,
            active=True,
            source="",
            proposal=False,
        )
    with pytest.raises(ValueError, match="soglia"):
        save_criterion(
            session,
            a,
            criterion_id=new_id,
            code="scuole",
            title="Scuole",
            description="",
            kind="min_share",
            threshold=None,
            required=False,
            weight=1,
            active=True,
            source="",
            proposal=False,
        )
    other = list_criteria(session, b)[0]
    with pytest.raises(NotFoundError):
        save_criterion(
            session,
            a,
            criterion_id=other.id,
            code="x",
            title="X",
            description="",
            kind="boolean",
            threshold=None,
            required=False,
            weight=1,
            active=True,
            source="",
            proposal=False,
        )
    save_criterion(
        session,
        a,
        criterion_id=new_id,
        code="scuole",
        title="Scuole",
        description="",
        kind="min_count",
        threshold=1,
        required=False,
        weight=1,
        active=False,
        source="",
        proposal=True,
    )
    assert "scuole" not in {c.code for c in list_criteria(session, a, active_only=True)}
    with pytest.raises(ValueError, match="anni"):
        set_label_settings(session, a, min_score=0.5, validity_years=0)
    set_label_settings(session, a, min_score=0.5, validity_years=3)
    assert label_settings(session, a).validity_years == 3


def test_application_award_refuse_and_expiry(session: Session) -> None:
    a, b, uid = _setup(session)
    entry_id, _ = register_entry(session, a, _data("CER Luna"))  # type: ignore[arg-type]
    row = session.get(RegisterEntryRow, entry_id)
    assert row is not None
    with pytest.raises(ValueError, match="pubblicata"):
        submit_application(session, row, EVIDENCE_ALL)
    publish_entry(session, row, user_id=uid)

    first = submit_application(session, row, {"famiglie_vulnerabili": {"value": 3.0, "note": ""}})
    with pytest.raises(ValueError, match="già una domanda"):
        submit_application(session, row, EVIDENCE_ALL)
    application = get_application(session, a, first)
    assert application.evaluation["eligible"] is False
    assert "famiglie_vulnerabili" in application.evaluation["missing_required"]
    with pytest.raises(NotFoundError):
        get_application(session, b, first)
    with pytest.raises(ValueError, match="motivo"):
        refuse_label(session, application, user_id=uid, reason="", review={})
    refuse_label(session, application, user_id=uid, reason="quota vulnerabili troppo bassa", review={})
    assert current_label(session, entry_id) is None

    second = submit_application(session, row, EVIDENCE_ALL)
    application = get_application(session, a, second)
    assert application.evaluation["eligible"] is True and application.evaluation["score"] == pytest.approx(1.0)
    expires = award_label(
        session,
        application,
        user_id=uid,
        awarded_on=dt.date(2024, 2, 29),
        review={"famiglie_vulnerabili": {"met": True, "note": "verificato"}},
    )
    assert expires == dt.date(2026, 2, 28)
    with pytest.raises(ValueError, match="già stata decisa"):
        award_label(session, application, user_id=uid, awarded_on=dt.date(2025, 1, 1), review={})
    [public] = public_entries(session, a)
    assert public.label_awarded_on == dt.date(2024, 2, 29) and public.label_expires_on == dt.date(2026, 2, 28)
    assert public.label(dt.date(2026, 2, 28)) == "valid" and public.label(dt.date(2026, 3, 1)) == "expired"
    session.expire_all()
    reloaded = get_application(session, a, second)
    assert reloaded.review["famiglie_vulnerabili"]["note"] == "verificato"
    assert reloaded.decided_at is not None and reloaded.decided_at.tzinfo is not None


def test_cli_register_export(db_url: str, session: Session, tmp_path: object) -> None:
    import csv
    import io
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from condivisa.cli.app import app

    a, _, uid = _setup(session)
    entry_id, token = register_entry(session, a, _data("CER Export", contact_email="nascosta@cer.it"))  # type: ignore[arg-type]
    row = session.get(RegisterEntryRow, entry_id)
    assert row is not None
    publish_entry(session, row, user_id=uid)
    register_entry(session, a, _data("CER Non Pubblicata"))  # type: ignore[arg-type]
    session.close()
    runner = CliRunner()
    out = Path(str(tmp_path)) / "registro.geojson"
    result = runner.invoke(
        app, ["civic", "register-export", "borgo-uno", "--format", "geojson", "--out", str(out), "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["nome"] for f in collection["features"]] == ["CER Export"]
    result = runner.invoke(app, ["civic", "register-export", "borgo-uno", "--db", db_url])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["nome"] for r in rows] == ["CER Export"]
    assert "nascosta@cer.it" not in result.stdout and token not in result.stdout
    missing = runner.invoke(app, ["civic", "register-export", "nessuno", "--db", db_url])
    assert missing.exit_code == 2 and "non trovato" in missing.output
