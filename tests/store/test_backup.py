"""Backup and restore: backup -> wipe -> restore -> settle gives byte-identical settlement JSON, on SQLite and
PostgreSQL (native copy and portable dump), across backends, older revisions upgraded, altered archives refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.cli.db import db_app
from condivisa.store import current_revision, head_revision, make_engine, session_factory, upgrade
from condivisa.store.backup import BackupError, backup, data_counts, open_archive, restore, wipe
from condivisa.store.ledger import verify_database
from condivisa.store.models import MemberRow, SettlementRow
from condivisa.web.seed import seed_demo
from tests.store.conftest import PgDatabases

runner = CliRunner()
PERIOD = ["--from", "2025-01-01", "--to", "2025-01-03"]


def seeded(url: str) -> int:
    """Migrate, load the demo community with three days of readings; returns the community id."""
    upgrade(url)
    engine = make_engine(url)
    try:
        return seed_demo(engine, days=3).community_id
    finally:
        engine.dispose()


def settle_json(url: str, community_id: int) -> bytes:
    """The settlement document as ``condivisa db settle --json -`` prints it (and stores it)."""
    res = runner.invoke(db_app, ["settle", str(community_id), *PERIOD, "--json", "-", "--db", url])
    assert res.exit_code == 0, res.output
    return res.stdout_bytes


def stored_documents(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return [
                json.dumps(d, sort_keys=True)
                for d in s.scalars(select(SettlementRow.document).order_by(SettlementRow.id))
            ]
    finally:
        engine.dispose()


def ledger_ok(url: str) -> tuple[bool, int]:
    engine = make_engine(url)
    try:
        result = verify_database(engine)
        return result.ok, result.count
    finally:
        engine.dispose()


def test_backup_wipe_restore_settle_is_byte_identical(empty_url: str, tmp_path: Path) -> None:
    cid = seeded(empty_url)
    before = settle_json(empty_url, cid)
    docs = stored_documents(empty_url)
    files = tmp_path / "files"
    (files / "statements").mkdir(parents=True)
    (files / "statements" / "m10.pdf").write_bytes(b"%PDF-1.7 demo\x00\xff")
    archive = tmp_path / "backup.tar.gz"

    result = backup(empty_url, archive, files_dir=files)
    m = result.manifest
    assert m["format_version"] == 1 and m["revision"] == head_revision()
    assert m["dialect"] == ("sqlite" if empty_url.startswith("sqlite") else "postgresql")
    assert m["native"] is not None  # SQLite copy or pg_dump
    assert m["tables"]["members"] == 39 and m["tables"]["settlements"] == 1
    assert m["files"] == ["files/statements/m10.pdf"]
    assert set(m["sha256"]) >= {"data/readings.jsonl", "files/statements/m10.pdf"}

    wipe(empty_url)
    assert current_revision(empty_url) is None and data_counts(empty_url) == {}

    restored_files = tmp_path / "restored"
    out = restore(archive, empty_url, files_dir=restored_files, manifest_sha256=result.manifest_sha256)
    assert out.method == "native"
    assert out.revision == head_revision()
    assert out.tables["members"] == 39 and out.tables["settlements"] == 1
    assert (restored_files / "statements" / "m10.pdf").read_bytes() == b"%PDF-1.7 demo\x00\xff"
    assert stored_documents(empty_url) == docs
    assert ledger_ok(empty_url) == (True, 1)

    after = settle_json(empty_url, cid)
    assert after == before
    assert ledger_ok(empty_url) == (True, 2)  # the new settlement got the next id and chained on


def test_portable_restore_same_backend(empty_url: str, tmp_path: Path) -> None:
    cid = seeded(empty_url)
    before = settle_json(empty_url, cid)
    archive = tmp_path / "b.tar.gz"
    backup(empty_url, archive, native=False)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "database.sqlite" not in names and "database.pgdump" not in names
    out = restore(archive, empty_url, force=True)
    assert out.method == "portable"
    assert settle_json(empty_url, cid) == before  # sequences reset: the new settlement is stored after the old
    assert ledger_ok(empty_url) == (True, 2)


@pytest.mark.postgres
@pytest.mark.parametrize("direction", ["sqlite->postgres", "postgres->sqlite"])
def test_cross_backend_restore(direction: str, pg_databases: PgDatabases, tmp_path: Path) -> None:
    sqlite_url, pg_url = f"sqlite:///{tmp_path / 'x.db'}", pg_databases.create()
    source, target = (sqlite_url, pg_url) if direction == "sqlite->postgres" else (pg_url, sqlite_url)
    cid = seeded(source)
    before = settle_json(source, cid)
    docs = stored_documents(source)
    archive = tmp_path / "b.tar.gz"
    backup(source, archive)
    out = restore(archive, target)
    assert out.method == "portable"
    assert stored_documents(target) == docs
    assert ledger_ok(target) == (True, 1)
    assert settle_json(target, cid) == before
    engine = make_engine(target)
    try:
        with session_factory(engine)() as s:
            member = s.scalars(select(MemberRow).where(MemberRow.external_id == "m10")).one()
            s.add(MemberRow(community_id=member.community_id, position=99, external_id="m99", kind="household"))
            s.commit()  # PostgreSQL: the sequence of members.id was moved past the restored ids
    finally:
        engine.dispose()


def _rewrite(archive: Path, out: Path, name: str, change: bytes) -> None:
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member)
            assert data is not None
            original = data.read()
            body = original.replace(b'"m10"', change, 1) if member.name == name else original
            assert member.name != name or body != original
            info = tarfile.TarInfo(member.name)
            info.size = len(body)
            dst.addfile(info, io.BytesIO(body))


def test_altered_archive_is_refused(empty_url: str, tmp_path: Path) -> None:
    seeded(empty_url)
    archive = tmp_path / "b.tar.gz"
    result = backup(empty_url, archive)
    bad = tmp_path / "bad.tar.gz"
    _rewrite(archive, bad, "data/members.jsonl", b'"m66"')
    target = f"sqlite:///{tmp_path / 'target.db'}"
    with pytest.raises(BackupError, match=r"archivio alterato.*data/members.jsonl ha SHA-256"):
        restore(bad, target)
    assert data_counts(target) == {}  # nothing restored

    res = runner.invoke(app, ["restore", str(bad), "--db", target])
    assert res.exit_code == 2
    assert "alterato" in res.output and "data/members.jsonl" in res.output

    # a manifest other than the one printed by the backup
    (tmp_path / "m").mkdir()
    with pytest.raises(BackupError, match="manifesto"):
        open_archive(archive, tmp_path / "m", manifest_sha256="0" * 64)
    assert open_archive(archive, tmp_path / "m", manifest_sha256=result.manifest_sha256)["revision"]

    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(BackupError, match=r"illeggibile|danneggiato"):
        restore(tmp_path / "junk.tar.gz", target)


def test_database_with_data_needs_force(empty_url: str, tmp_path: Path) -> None:
    seeded(empty_url)
    archive = tmp_path / "b.tar.gz"
    backup(empty_url, archive)
    with pytest.raises(BackupError, match=r"contiene dati.*--force"):
        restore(archive, empty_url)
    out = restore(archive, empty_url, force=True)
    assert out.tables["members"] == 39
    # a migrated database without data needs no --force
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(fresh)
    assert restore(archive, fresh).tables["members"] == 39


def test_older_backup_is_upgraded(empty_url: str, tmp_path: Path) -> None:
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO communities (id, name, configuration, region, parameters, created_at, updated_at) "
                    "VALUES (7, 'CER Vecchia', 'CER', 'Piemonte', '{}', :t, :t)"
                ),
                {"t": "2025-01-01 00:00:00.000000" if empty_url.startswith("sqlite") else "2025-01-01T00:00:00Z"},
            )
    finally:
        engine.dispose()
    archive = tmp_path / "old.tar.gz"
    assert backup(empty_url, archive).manifest["revision"] == "0012"
    target = f"sqlite:///{tmp_path / 'new.db'}"
    for url in (target, empty_url):
        out = restore(archive, url, force=True)
        assert out.backup_revision == "0012" and out.revision == head_revision()
        assert any("0012" in w for w in out.warnings)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT name FROM communities WHERE id = 7")).scalar_one() == "CER Vecchia"
                assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'restore'")).scalar_one() == 1
        finally:
            engine.dispose()


def test_cli_backup_and_restore(empty_url: str, tmp_path: Path) -> None:
    cid = seeded(empty_url)
    before = settle_json(empty_url, cid)
    archive = tmp_path / "b.tar.gz"
    res = runner.invoke(app, ["backup", "--db", empty_url, "--out", str(archive)])
    assert res.exit_code == 0, res.output
    assert "SHA-256 del manifesto" in res.stdout
    res = runner.invoke(app, ["restore", str(archive), "--db", empty_url])
    assert res.exit_code == 2 and "--force" in res.output
    res = runner.invoke(app, ["restore", str(archive), "--db", empty_url, "--force"])
    assert res.exit_code == 0, res.output
    assert "Ripristino" in res.stdout
    assert settle_json(empty_url, cid) == before
