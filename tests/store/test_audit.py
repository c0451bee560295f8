"""Audit log: ORM changes of audited tables are logged with the actor, before/after, no secrets; bulk changes
make one entry; explicit entries; databases without the log keep working."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.store import audit, create_user, make_engine, save_community, session_factory, upgrade
from condivisa.store.models import MemberRow, PointRow, PriceRow, User
from tests.store.conftest import Demo


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    audit.install()
    yield
    audit.uninstall()


def entries(session: Session, **kw: object) -> list[audit.AuditEntry]:
    session.rollback()
    return audit.list_entries(session, limit=1000, **kw)  # type: ignore[arg-type]


def test_member_change_is_logged_with_actor(session: Session, demo: Demo) -> None:
    with audit.actor(label="cli"):
        cid = save_community(session, demo.community)
    bulk = entries(session, action="bulk", object_type="members")
    assert len(bulk) == 1
    assert bulk[0].changes["action"] == "insert" and bulk[0].changes["count"] == 39
    assert bulk[0].actor == "cli" and bulk[0].community_id == cid
    assert "name" not in json.dumps(bulk[0].changes)  # ids only

    admin = create_user(session, email="capo@example.org", password_hash="$argon2id$segreto", display_name="Capo")
    member = session.scalars(
        select(MemberRow).where(MemberRow.community_id == cid, MemberRow.external_id == "m10")
    ).one()
    old_name = member.name
    with audit.actor(user_id=admin.id, label="web"):
        member.name = "Maria Verdi"
        member.email = "maria.verdi@example.org"
        member.kind = member.kind  # unchanged value: not logged
        session.commit()
    found = entries(session, object_type="members", object_ids=[str(member.id)])
    assert len(found) == 1
    e = found[0]
    assert (e.action, e.user_id, e.actor, e.community_id) == ("update", admin.id, "web", cid)
    assert e.changes == {
        "name": {"before": old_name, "after": "Maria Verdi"},
        "email": {"before": None, "after": "maria.verdi@example.org"},
    }
    assert e.at.tzinfo is not None

    # delete of a point, insert of a point: both logged, outside any actor: "system"
    point = session.scalars(select(PointRow).where(PointRow.member_id == member.id)).first()
    assert point is not None
    pod = point.pod
    session.delete(point)
    session.commit()
    deleted = entries(session, object_type="points", action="delete")
    assert deleted[0].changes["pod"] == {"before": pod} and deleted[0].actor == "system"
    assert deleted[0].user_id is None


def test_session_binding_wins_and_secrets_are_masked(session: Session) -> None:
    user = create_user(session, email="u@example.org", password_hash="$argon2id$vecchio", display_name="U")
    inserted = entries(session, object_type="users", action="insert")
    assert inserted[0].changes["password_hash"] == {"after": "[segreto]"}
    assert inserted[0].changes["email"] == {"after": "u@example.org"}
    audit.bind_session(session, user.id, "api")
    with audit.actor(user_id=None, label="mqtt"):
        user.password_hash = "$argon2id$nuovo"
        session.commit()
    e = entries(session, object_type="users", action="update")[0]
    assert (e.user_id, e.actor) == (user.id, "api")
    assert e.changes == {"password_hash": {"before": "[segreto]", "after": "[segreto]"}}
    everything = json.dumps([x.as_dict() for x in entries(session)])
    assert "argon2id" not in everything


def test_unaudited_tables_suspension_and_explicit_record(session: Session) -> None:
    import datetime as dt

    session.add(PriceRow(zone="NORD", ts=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), price_eur_mwh=100.0))
    session.commit()
    assert entries(session) == []
    with audit.suspended(session):
        create_user(session, email="silenzio@example.org", password_hash="x", display_name="S")
    assert entries(session) == []
    with audit.actor(label="cli"):
        audit.record(session, "backup", "database", changes={"archive": "b.tar.gz"})
    session.commit()
    (e,) = entries(session)
    assert (e.action, e.object_type, e.actor, e.changes) == ("backup", "database", "cli", {"archive": "b.tar.gz"})
    with pytest.raises(ValueError, match="azione"):
        audit.record(session, "peek", "database")
    with pytest.raises(ValueError, match="canale"), audit.actor(label="fax"):
        pass


def test_database_without_the_log_keeps_working(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine: Engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            s.add(User(email="a@example.org", password_hash="x", display_name="A"))
            s.commit()  # no audit_log table: nothing logged, nothing fails
            assert s.scalar(select(User.email)) == "a@example.org"
            assert not audit.record_if_logged(engine, "backup", "database")
        upgrade(url)
        with session_factory(engine)() as s:
            s.add(User(email="b@example.org", password_hash="x", display_name="B"))
            s.commit()
            assert [e.changes["email"]["after"] for e in audit.list_entries(s)] == ["b@example.org"]
    finally:
        engine.dispose()


def test_cli_audit_list(db_url: str, session: Session) -> None:
    with audit.actor(label="cli"):
        create_user(session, email="lista@example.org", password_hash="x", display_name="Lista")
    res = CliRunner().invoke(app, ["audit", "list", "--db", db_url, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data[0]["object_type"] == "users" and data[0]["actor"] == "cli"
    res = CliRunner().invoke(app, ["audit", "list", "--db", db_url])
    assert res.exit_code == 0 and "users" in res.stdout
