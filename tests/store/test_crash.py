"""A process killed in the middle of an import leaves the database exactly as it was, on both backends.

The child process imports a large synthetic batch that corrects stored readings and adds new ones. A listener on
its engine's ``commit`` event (SQLAlchemy calls it just before the driver commits) writes a marker file and
sleeps: at that point every row has been sent and the transaction is still open. The test then kills the child
with SIGKILL - no cleanup, no rollback from Python - and checks the readings and the audit table.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from condivisa.store import import_readings, load_readings, save_community
from tests.store.conftest import Demo
from tests.store.test_repository import synthetic

CHILD = """
import pathlib, sys, time
import numpy as np, pandas as pd
from sqlalchemy import event
import condivisa.engine
from condivisa.ingest.readings import readings_from_arrays
from condivisa.store import import_readings, make_engine

url, community_id, marker = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
engine = make_engine(url)

@event.listens_for(engine, "commit")
def hold_before_commit(conn):
    marker.write_text("inside the transaction, before commit")
    time.sleep(600)

pods, hours = 40, 24 * 60
rng = np.random.default_rng(99)
w = np.round(rng.uniform(0, 2, (hours, pods)), 3)  # differs from the stored values: corrections
i = np.round(rng.uniform(0, 1, (hours, pods)), 3)
names = [f"IT001E{30_000_000 + k:08d}" for k in range(pods)]
readings = readings_from_arrays(names, pd.Timestamp("2025-03-01", tz="UTC"), w, i, interval_minutes=60)
import_readings(engine, community_id, readings, source="killed")
print("committed: the kill came too late", flush=True)
"""


def _snapshot(engine: Engine, community_id: int) -> tuple[pd.DataFrame, int, int]:
    with engine.connect() as conn:
        readings = conn.execute(text("SELECT count(*) FROM readings")).scalar_one()
        batches = conn.execute(text("SELECT count(*) FROM import_batches")).scalar_one()
    return load_readings(engine, community_id).frame, int(readings), int(batches)


def _assert_write_transaction_open(engine: Engine) -> None:
    """The child holds an open write transaction (so the kill really lands mid-import)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            states = conn.execute(
                text(
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                )
            ).scalars()
            assert "idle in transaction" in set(states)
        return
    probe = sqlite3.connect(str(engine.url.database), timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")
    finally:
        probe.close()


def test_killed_import_leaves_the_database_as_before(
    db_url: str, engine: Engine, session: Session, demo: Demo, tmp_path: Path
) -> None:
    community_id = save_community(session, demo.community)
    session.close()
    baseline = synthetic(10, 48)  # 480 readings that the child will overwrite, among 57,600 new ones
    import_readings(engine, community_id, baseline, source="baseline")
    before = _snapshot(engine, community_id)

    marker = tmp_path / "inside.txt"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(community_id), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, f"the child ended early: {child.communicate()}"
            assert time.monotonic() < deadline, "the child never reached the commit"
            time.sleep(0.02)
        _assert_write_transaction_open(engine)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    after = _snapshot(engine, community_id)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1:] == before[1:] == (480, 2)  # readings; batches: the community and the baseline

    again = import_readings(engine, community_id, baseline, source="after the crash")  # no lock left behind
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 480)
