"""A settlement interrupted while it is being written leaves no half-written settlement, on both backends.

A child process runs :func:`condivisa.web.services.run_settlement` (what the dashboard's form and the API call) on
the stored demo community. A SQLAlchemy ``after_cursor_execute`` listener registered *in the child's script* (no
product code is changed) pauses it right after one of its writes, inside the open transaction:

- ``settlements``: the header row is inserted, its lines are not;
- ``settlement_lines``: header and lines are inserted, the ledger entry is not;
- ``ledger_entries``: everything is inserted, the commit has not been sent.

The test checks that the child really holds an open write transaction, then

- kills it with SIGKILL (no Python cleanup at all), or
- interrupts it with SIGINT: a ``KeyboardInterrupt`` raised in the middle of the write, as Ctrl-C would. The child
  catches it at the top, stays alive while the test looks at the database, then settles again on the same engine
  (its connection pool must not hand back a connection with the half-done transaction). Found on the way:
  SQLAlchemy invalidates the interrupted connection without closing it, and on SQLite an interruption inside the
  multi-row INSERT of the lines leaves that sqlite3 connection - and the database's write lock - alive until the
  garbage collector frees the traceback's reference cycle ("database is locked" for the next write of the same
  process meanwhile). Nothing is committed either way; the child calls ``gc.collect()`` before settling again.

Afterwards: no settlement row without all its lines (as many as the document's ``allocation_detail``, summing to
its total), no ledger entry without its settlement and no settlement without its entry, the ledger's chain
intact, and a new run settles normally.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from condivisa.store import import_prices, import_readings, save_community, session_factory
from condivisa.store.ledger import verify_database
from condivisa.store.models import LedgerEntry, SettlementLineRow, SettlementRow
from condivisa.web.services import run_settlement
from tests.store.conftest import Demo
from tests.store.test_crash import _assert_write_transaction_open

CHILD = """
import gc, pathlib, re, sys, time
from sqlalchemy import event
from condivisa.store import make_engine, session_factory
from condivisa.web.services import run_settlement
import datetime as dt

url, community_id, table, marker, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], *map(pathlib.Path, sys.argv[4:6])
start, end = dt.date.fromisoformat(sys.argv[6]), dt.date.fromisoformat(sys.argv[7])
engine = make_engine(url)
armed = True

@event.listens_for(engine, "after_cursor_execute")
def pause_after_write(conn, cursor, statement, parameters, context, executemany):
    global armed
    found = re.match(r"\\s*INSERT INTO (\\w+)", statement)
    if armed and found and found.group(1) == table:
        armed = False
        marker.write_text("written, not committed")
        time.sleep(600)

interrupted = False
try:
    with session_factory(engine)() as session:
        run_settlement(engine, session, community_id, start, end)
    print("committed: the interruption came too late", flush=True)
except KeyboardInterrupt:
    interrupted = True
if interrupted:
    # SQLAlchemy invalidates a connection interrupted by a KeyboardInterrupt without closing it; on SQLite, after
    # an interrupted multi-row INSERT, the sqlite3 connection (kept alive by the traceback's reference cycle)
    # holds the write lock until the garbage collector closes it. A process that carries on must collect it.
    gc.collect()
    print("interrupted", flush=True)
    marker.write_text("interrupted")
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:  # the test looks at the database meanwhile
        time.sleep(0.02)
    with session_factory(engine)() as session:
        print("settled again", run_settlement(engine, session, community_id, start, end), flush=True)
"""

STAGES = ["settlements", "settlement_lines", "ledger_entries"]


def _state(engine: Engine) -> dict[str, object]:
    """Counts, and the consistency of settlements, their lines and their ledger entries."""
    with session_factory(engine)() as s:
        settlements = s.scalars(select(SettlementRow).order_by(SettlementRow.id)).all()
        incomplete = []
        for row in settlements:
            lines = s.scalars(select(SettlementLineRow).where(SettlementLineRow.settlement_id == row.id)).all()
            expected = len(row.document.get("allocation_detail", []))
            if not lines or len(lines) != expected or sum(x.amount_cents for x in lines) != row.total_cents:
                incomplete.append(row.id)
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "settlement")).all()
        recorded = [json.loads(e.payload)["settlement_id"] for e in entries]
        ids = [row.id for row in settlements]
        return {
            "settlements": len(settlements),
            "lines": s.scalar(text("SELECT count(*) FROM settlement_lines")),
            "ledger": s.scalar(text("SELECT count(*) FROM ledger_entries")),
            "incomplete": incomplete,
            "entries without settlement": sorted(set(recorded) - set(ids)),
            "settlements without entry": sorted(set(ids) - set(recorded)),
            "entries per settlement": sorted({recorded.count(i) for i in ids}),
            "chain ok": verify_database(s).ok,
        }


def _consistent(state: dict[str, object]) -> None:
    assert state["incomplete"] == []
    assert state["entries without settlement"] == []
    assert state["settlements without entry"] == []
    assert state["entries per settlement"] == [1]
    assert state["chain ok"]


@pytest.fixture
def stored(engine: Engine, session: Session, demo: Demo) -> int:
    """The demo community with three days of readings and prices, and one settlement already stored."""
    community_id = save_community(session, demo.community)
    import_readings(engine, community_id, demo.readings, source="demo")
    import_prices(engine, demo.prices)
    run_settlement(engine, session, community_id, demo.period.start, demo.period.end)
    session.close()
    return community_id


def _start_child(db_url: str, community_id: int, table: str, demo: Demo, tmp_path: Path) -> subprocess.Popen[str]:
    args = [str(community_id), table, str(tmp_path / "marker"), str(tmp_path / "go")]
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, *args, demo.period.start.isoformat(), demo.period.end.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _wait_for(child: subprocess.Popen[str], marker: Path, content: str) -> None:
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text() == content):
        assert child.poll() is None, f"the child ended early: {child.communicate()}"
        assert time.monotonic() < deadline, f"the child never reached: {content}"
        time.sleep(0.02)


@pytest.mark.parametrize("table", STAGES)
def test_killed_settlement_leaves_no_half_written_settlement(
    db_url: str, engine: Engine, stored: int, demo: Demo, tmp_path: Path, table: str
) -> None:
    before = _state(engine)
    _consistent(before)
    assert before["settlements"] == 1
    child = _start_child(db_url, stored, table, demo, tmp_path)
    try:
        _wait_for(child, tmp_path / "marker", "written, not committed")
        _assert_write_transaction_open(engine)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    assert _state(engine) == before  # nothing of the killed run is left, and what was there is intact

    with session_factory(engine)() as session:  # no lock left behind: a new run settles normally
        new_id = run_settlement(engine, session, stored, demo.period.start, demo.period.end)
    after = _state(engine)
    _consistent(after)
    assert after["settlements"] == 2
    assert after["lines"] == 2 * int(before["lines"])  # type: ignore[call-overload]
    assert new_id not in (0, None)


@pytest.mark.parametrize("table", STAGES)
def test_interrupted_settlement_is_rolled_back_and_runs_again(
    db_url: str, engine: Engine, stored: int, demo: Demo, tmp_path: Path, table: str
) -> None:
    before = _state(engine)
    child = _start_child(db_url, stored, table, demo, tmp_path)
    try:
        _wait_for(child, tmp_path / "marker", "written, not committed")
        _assert_write_transaction_open(engine)
        child.send_signal(signal.SIGINT)  # KeyboardInterrupt inside the write, as Ctrl-C
        _wait_for(child, tmp_path / "marker", "interrupted")
        # The child is alive, its engine and pool too: its transaction must be gone all the same.
        assert _state(engine) == before
        (tmp_path / "go").write_text("go")
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert out.splitlines()[0] == "interrupted"
    assert out.splitlines()[1].startswith("settled again ")

    after = _state(engine)
    _consistent(after)
    assert after["settlements"] == 2
    assert after["lines"] == 2 * int(before["lines"])  # type: ignore[call-overload]
