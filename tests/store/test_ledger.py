"""The stored ledger on SQLite and PostgreSQL: appends chain, tampering with rows is found, exports verify
without the database, concurrent appends never fork the chain."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from condivisa.ledger import GENESIS, NotCanonicalError, canonical_json, entry_hash, sha256_hex
from condivisa.store import get_settlement, session_factory
from condivisa.store.ledger import (
    append_entry,
    export_jsonl,
    find_entries,
    iter_entries,
    record_settlement,
    verify_database,
    verify_jsonl,
)
from condivisa.store.models import LedgerEntry
from condivisa.store.repository import NotFoundError
from tests.store.settled import store_settled


def _append(session: Session, n: int, *, community_id: int | None = 1) -> list[LedgerEntry]:
    rows = [append_entry(session, "payment_status", community_id, {"n": k, "nota": "è ok"}) for k in range(n)]
    session.commit()
    return rows


def test_appends_chain_and_verify(session: Session, engine: Engine) -> None:
    assert verify_database(engine).ok and verify_database(engine).head == GENESIS
    rows = _append(session, 4)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert json.loads(rows[2].payload) == {"n": 2, "nota": "è ok"}
    result = verify_database(engine)
    assert (result.ok, result.count, result.head) == (True, 4, rows[-1].hash)
    assert verify_database(session, expected_head=rows[-1].hash).ok
    assert not verify_database(session, expected_head=rows[-2].hash).ok
    assert [e.seq for e in iter_entries(engine, community_id=1)] == [1, 2, 3, 4]
    assert list(iter_entries(engine, community_id=2)) == []


def test_bad_payloads_and_kinds_are_refused(session: Session, engine: Engine) -> None:
    with pytest.raises(ValueError, match="sconosciuto"):
        append_entry(session, "gossip", 1, {})
    with pytest.raises(NotCanonicalError):
        append_entry(session, "settlement", 1, {"total_eur": 12.5})
    session.rollback()
    assert list(iter_entries(engine)) == []


def test_an_entry_rolled_back_with_its_transaction_leaves_no_trace(session: Session, engine: Engine) -> None:
    _append(session, 2)
    append_entry(session, "payment_status", 1, {"n": 99})
    session.rollback()
    assert [e.seq for e in iter_entries(engine)] == [1, 2]
    _append(session, 1)
    assert verify_database(engine).count == 3


def test_a_changed_payload_is_found_at_its_entry(session: Session, engine: Engine) -> None:
    _append(session, 5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET payload = :p WHERE seq = 3"), {"p": '{"n":200,"nota":"è ok"}'})
    result = verify_database(engine)
    assert (result.ok, result.bad_seq, result.count) == (False, 3, 2)
    assert result.reason is not None and "hash" in result.reason
    assert "voce 3" in result.message


def test_a_deleted_row_is_found_as_a_gap(session: Session, engine: Engine) -> None:
    _append(session, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 3"))
    result = verify_database(engine)
    assert (result.ok, result.bad_seq, result.count) == (False, 4, 2)
    assert result.reason is not None and "mancanti: 3" in result.reason


def test_a_recomputed_hash_still_breaks_the_next_entry(session: Session, engine: Engine) -> None:
    rows = _append(session, 4)
    # A forger who rewrites entry 2 and its hash consistently cannot fix entry 3's prev_hash without rewriting all.
    forged = canonical_json({"n": 1000, "nota": "falso"})
    new_hash = entry_hash(rows[1].prev_hash, 2, rows[1].kind, rows[1].community_id, rows[1].created_at, forged)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_entries SET payload = :p, hash = :h WHERE seq = 2"), {"p": forged, "h": new_hash}
        )
    result = verify_database(engine)
    assert (result.ok, result.bad_seq) == (False, 3)
    assert result.reason is not None and "prev_hash" in result.reason


def test_export_verifies_without_the_database(session: Session, engine: Engine, tmp_path: Path) -> None:
    rows = _append(session, 3, community_id=None)
    out = tmp_path / "sub" / "ledger.jsonl"
    exported = export_jsonl(engine, out)
    assert exported.ok and exported.count == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["community_id"] is None
    assert json.loads(lines[2])["hash"] == rows[2].hash
    checked = verify_jsonl(out, expected_head=rows[2].hash)
    assert (checked.ok, checked.count, checked.head) == (True, 3, rows[2].hash)

    tampered = tmp_path / "tampered.jsonl"
    entry = json.loads(lines[1])
    entry["created_at"] = "2020-01-01T00:00:00.000000+00:00"
    tampered.write_text("\n".join([lines[0], json.dumps(entry), lines[2]]) + "\n", encoding="utf-8")
    bad = verify_jsonl(tampered)
    assert (bad.ok, bad.bad_seq, bad.position) == (False, 2, 1)

    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines[0] + "\n{non json\n", encoding="utf-8")
    unreadable = verify_jsonl(broken)
    assert not unreadable.ok and unreadable.count == 1
    assert unreadable.reason is not None and unreadable.reason.startswith("riga 2:")


def test_export_of_a_broken_ledger_writes_every_entry(session: Session, engine: Engine, tmp_path: Path) -> None:
    _append(session, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET kind = 'settlement' WHERE seq = 2"))
    result = export_jsonl(engine, tmp_path / "l.jsonl")
    assert (result.ok, result.bad_seq) == (False, 2)
    assert len((tmp_path / "l.jsonl").read_text(encoding="utf-8").splitlines()) == 4


def test_record_settlement(session: Session, engine: Engine) -> None:
    community_id, settlement_id = store_settled(session)
    (entry,) = find_entries(session, "settlement", "settlement_id", settlement_id)  # written by save_settlement
    payload = json.loads(entry.payload)
    stored = get_settlement(session, settlement_id)
    assert stored is not None
    assert (entry.kind, entry.community_id) == ("settlement", community_id)
    assert payload["settlement_id"] == settlement_id and payload["total_cents"] == stored.total_cents
    assert payload["period"] == {"start": "2025-06-01", "end": "2025-06-03"}
    expected: dict[str, int] = {}
    for line in stored.lines:
        expected[line.recipient] = expected.get(line.recipient, 0) + line.amount_cents
    assert payload["recipients"] == expected and sum(expected.values()) == stored.total_cents
    document_text = json.dumps(stored.document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert payload["document_sha256"] == sha256_hex(document_text)
    again = record_settlement(session, settlement_id)  # recording it by hand appends a second entry
    session.commit()
    assert json.loads(again.payload) == payload and again.seq == entry.seq + 1
    assert find_entries(session, "settlement", "settlement_id", settlement_id + 1) == []
    with pytest.raises(NotFoundError):
        record_settlement(session, settlement_id + 1)
    assert verify_database(engine).ok


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    sessions = session_factory(engine)
    errors: list[BaseException] = []
    threads_n, per_thread = 4, 8

    def work(t: int) -> None:
        try:
            for k in range(per_thread):
                with sessions() as s:
                    append_entry(s, "payment_status", t, {"thread": t, "k": k})
                    s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    result = verify_database(engine)
    assert result.ok and result.count == threads_n * per_thread
    with sessions() as s:
        pairs = {(json.loads(p)["thread"], json.loads(p)["k"]) for p in s.scalars(select(LedgerEntry.payload))}
    assert pairs == {(t, k) for t in range(threads_n) for k in range(per_thread)}
