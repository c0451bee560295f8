"""``condivisa backup|restore|gdpr|audit`` on a temporary SQLite database: exit codes, files, messages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.store import make_engine, session_factory, upgrade
from condivisa.store.gdpr import pseudonym
from condivisa.store.models import MemberRow, MunicipalityRow
from condivisa.store.models_desk import DeskTicketRow
from tests.store.settled import store_settled

runner = CliRunner()


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            cid, _ = store_settled(s)
    finally:
        engine.dispose()
    yield url, cid


def _member(url: str, ext: str) -> MemberRow:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return s.scalars(select(MemberRow).where(MemberRow.external_id == ext)).one()
    finally:
        engine.dispose()


def test_gdpr_export_and_erase(stored: tuple[str, int], tmp_path: Path) -> None:
    url, cid = stored
    name = _member(url, "m10").name
    out = tmp_path / "m10.json"
    res = runner.invoke(app, ["gdpr", "export", str(cid), "m10", "--out", str(out), "--db", url])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["name"] == name and data["member"]["email"] == "m10@example.org"

    res = runner.invoke(app, ["gdpr", "export", str(cid), "m999", "--out", "-", "--db", url])
    assert res.exit_code == 2 and "m999" in res.output

    res = runner.invoke(app, ["gdpr", "erase", str(cid), "m10", "--db", url], input="n\n")
    assert res.exit_code == 1 and _member(url, "m10").name == name  # not confirmed: nothing changed

    res = runner.invoke(app, ["gdpr", "erase", str(cid), "m10", "--db", url, "--yes"])
    assert res.exit_code == 0, res.output
    alias = pseudonym(cid, "m10")
    assert alias in res.stdout
    member = _member(url, "m10")
    assert (member.name, member.email, member.iban) == (alias, None, None)

    res = runner.invoke(app, ["audit", "list", "--db", url, "--json", "--community", str(cid)])
    assert res.exit_code == 0, res.output
    actions = [(e["action"], e["actor"]) for e in json.loads(res.stdout)]
    assert ("gdpr_erase", "cli") in actions and ("gdpr_export", "cli") in actions
    assert name not in res.stdout and "m10@example.org" not in res.stdout

    res = runner.invoke(app, ["ledger", "verify", "--db", url])
    assert res.exit_code == 0, res.output


def _tickets(url: str) -> dict[str, tuple[str, str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return {t.token: (t.contact_name, t.contact_email) for t in s.scalars(select(DeskTicketRow))}
    finally:
        engine.dispose()


def test_gdpr_erase_other_texts(stored: tuple[str, int]) -> None:
    url, cid = stored
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            town = MunicipalityRow(name="Borgo", slug="borgo", region="Piemonte")
            s.add(town)
            s.flush()
            for ext in ("m10", "m11"):
                m = s.scalars(select(MemberRow).where(MemberRow.external_id == ext)).one()
                s.add(
                    DeskTicketRow(
                        municipality_id=town.id,
                        token=ext,
                        subject="cer",
                        form="household",
                        answers={},
                        orientation={},
                        estimate={},
                        contact_name=m.name,
                        contact_email=str(m.email),
                        consent_at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
                    )
                )
            s.commit()
    finally:
        engine.dispose()
    kept = _tickets(url)["m10"]
    res = runner.invoke(app, ["gdpr", "erase", str(cid), "m10", "--db", url, "--yes", "--keep-other-texts"])
    assert res.exit_code == 0, res.output
    assert _tickets(url)["m10"] == kept
    assert "desk_tickets.contact_email" in res.stderr and "Dati ancora presenti" in res.stderr

    res = runner.invoke(app, ["gdpr", "erase", str(cid), "m11", "--db", url, "--yes"])
    assert res.exit_code == 0, res.output
    name, email = _tickets(url)["m11"]
    assert name == pseudonym(cid, "m11") and email.endswith("@invalid")
    assert "desk_tickets 1" in res.stdout and "Dati ancora presenti" not in res.stderr


def test_backup_restore_messages(stored: tuple[str, int], tmp_path: Path) -> None:
    url, _ = stored
    archive = tmp_path / "b.tar.gz"
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_text("ciao", encoding="utf-8")
    res = runner.invoke(app, ["backup", "--db", url, "--out", str(archive), "--files", str(files)])
    assert res.exit_code == 0, res.output
    sha = res.stdout.split("conservarlo a parte): ")[1].strip()
    target = f"sqlite:///{tmp_path / 'r.db'}"
    res = runner.invoke(app, ["restore", str(archive), "--db", target, "--manifest-sha256", "f" * 64])
    assert res.exit_code == 2 and "manifesto" in res.output
    res = runner.invoke(
        app, ["restore", str(archive), "--db", target, "--manifest-sha256", sha, "--files", str(tmp_path / "out")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "ciao"
    assert _member(target, "m10").email == "m10@example.org"
    res = runner.invoke(app, ["restore", str(tmp_path / "nessuno.tar.gz"), "--db", target])
    assert res.exit_code == 2 and "non esiste" in res.output
    res = runner.invoke(app, ["backup", "--db", f"sqlite:///{tmp_path / 'manca.db'}", "--out", str(archive)])
    assert res.exit_code == 2 and "non esiste" in res.output
