"""Benchmark of the live channel: readings per second from an MQTT publisher, through Mosquitto, into the database.

What it does:

1. starts a Mosquitto of its own on a free port (configuration and persistence in a temporary folder:
   ``persistence true``, ``max_queued_messages 0``), unless ``--broker HOST:PORT`` names one;
2. creates a fresh PostgreSQL database (``condivisa_bench_<random>`` on the server of ``--server``, dropped at the
   end unless ``--keep``), or uses ``--db URL``; migrates it and stores the demo community;
3. starts the subscriber as its own process (``python -m condivisa.cli.live subscribe``, QoS 1, persistent
   session, acknowledgement after commit) and waits for its subscription;
4. starts the publisher as another process (``python -m condivisa.cli.live simulate --speed 0``): ``--readings``
   quarter-hour readings of the demo community published as fast as the broker takes them, one reading per
   message (``--per-message K`` puts K readings of a POD in one batch message);
5. polls ``count(*)`` of the readings every ``--poll`` seconds and reports the time from the first stored reading
   to the last, and from the publisher's start (imports and data generation included) to the last.

Figures: readings per second and messages per second, sustained (first to last stored) and overall. Target:
>= 5,000 readings/s with one reading per message on the 2-core CI machine, where publisher, broker, subscriber and
PostgreSQL share the two cores.

Run from the project root::

    .venv/bin/python benchmarks/ingest_mqtt.py                     # 200,000 readings into PostgreSQL
    .venv/bin/python benchmarks/ingest_mqtt.py --readings 50000 --db sqlite:///bench.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from condivisa.demo import demo_community
from condivisa.store import make_engine, save_community, upgrade

try:  # the scratch database helper of the database benchmark
    from ingest_db import scratch_database
except ImportError:  # run as a module from elsewhere
    from benchmarks.ingest_db import scratch_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BROKER_CONF = """\
user {user}
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {directory}/
max_queued_messages 0
max_inflight_messages 0
set_tcp_nodelay true
log_dest file {directory}/mosquitto.log
"""
READINGS_PER_DAY = 40 * 96  # the demo community's PODs x quarter-hours


@contextmanager
def own_broker() -> Iterator[tuple[str, int, int]]:
    """A Mosquitto process of the benchmark's own on a free port."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory(prefix="condivisa-mqtt-") as directory:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        conf = Path(directory) / "mosquitto.conf"
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        conf.write_text(BROKER_CONF.format(user=user, port=port, directory=directory))
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("mosquitto did not start") from None
                    time.sleep(0.05)
            yield "127.0.0.1", port, proc.pid
        finally:
            proc.terminate()
            proc.wait(20)


_FLUSH = re.compile(r"^(\S+ \S+) DEBUG MQTT: scrittura \d+: .*; letture salvate in tutto (\d+)$", re.M)


def flushes(log: str) -> list[tuple[float, int]]:
    """(wall time [s since 1970], readings stored so far) at each commit logged by the subscriber (``--verbose``)."""
    out = []
    for stamp, total in _FLUSH.findall(log):
        when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        out.append((when, int(total)))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far [s] (Linux ``/proc``); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(engine: Engine) -> list[int]:
    """PostgreSQL server processes of the other connections to this database."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        return [int(p) for p in conn.execute(text(query)).scalars()]


def run(url: str, host: str, port: int, broker_pid: int | None, args: argparse.Namespace) -> None:
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        community_id = save_community(session, demo_community(), source="bench")
    n = args.readings
    live = [sys.executable, "-m", "condivisa.cli.live"]
    client_id = f"bench-{secrets.token_hex(3)}"
    sub_cmd = [*live, "subscribe", "--db", url, "--broker", host, "--port", str(port), "--client-id", client_id]
    sub_cmd += ["--batch", str(args.batch), "--flush-seconds", str(args.flush_seconds), "--verbose"]
    pub_cmd = [*live, "simulate", "--broker", host, "--port", str(port), "--community", str(community_id)]
    pub_cmd += ["--date", "2025-01-01", "--days", str(n // READINGS_PER_DAY + 1), "--limit", str(n), "--no-weather"]
    pub_cmd += ["--speed", "0", "--client-id", f"{client_id}-pub", "--per-message", str(args.per_message)]
    with tempfile.TemporaryDirectory(prefix="condivisa-bench-") as tmp:
        sub_log, pub_log = Path(tmp) / "subscriber.log", Path(tmp) / "publisher.log"
        with sub_log.open("wb") as out:
            sub = subprocess.Popen(sub_cmd, cwd=ROOT, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 60
            while "sottoscrizione attiva" not in sub_log.read_text(errors="replace"):
                if time.monotonic() > deadline or sub.poll() is not None:
                    raise RuntimeError(f"subscriber did not start:\n{sub_log.read_text()}")
                time.sleep(0.1)
            load_before = os.getloadavg()[0]
            cpu0 = {"subscriber": cpu_seconds(sub.pid), "broker": cpu_seconds(broker_pid) if broker_pid else 0.0}
            started, started_wall = time.monotonic(), time.time()
            commits: list[tuple[float, int]] = []
            with pub_log.open("wb") as err:
                pub = subprocess.Popen(pub_cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
            stored, pub_cpu = 0, 0.0
            while stored < n:  # the subscriber logs each commit with the running total of stored readings
                if time.monotonic() > started + args.timeout:
                    raise RuntimeError(f"only {stored:,} of {n:,} readings stored in {args.timeout} s")
                time.sleep(args.poll)
                pub_cpu = max(pub_cpu, cpu_seconds(pub.pid))
                commits = flushes(sub_log.read_text(errors="replace"))
                stored = commits[-1][1] if commits else 0
            cpu = {
                "subscriber": cpu_seconds(sub.pid) - cpu0["subscriber"],
                "broker": (cpu_seconds(broker_pid) - cpu0["broker"]) if broker_pid else float("nan"),
                "postgres": sum(cpu_seconds(p) for p in backend_pids(engine)),
            }
            if pub.wait(60) != 0:
                raise RuntimeError(f"publisher failed:\n{pub_log.read_text()}")
            cpu["publisher"] = pub_cpu
        finally:
            sub.send_signal(signal.SIGTERM)
            sub.wait(60)
        with engine.connect() as conn:
            in_db = int(conn.execute(text("SELECT count(*) FROM readings")).scalar_one())
        if in_db != n:
            raise RuntimeError(f"{in_db:,} readings in the database, {n:,} published")
        first, last = commits[0], commits[-1]
        sustained, total = last[0] - first[0], last[0] - started_wall
        messages = -(-n // args.per_message)
        print(
            f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores, load "
            f"average {load_before:.2f} before / {os.getloadavg()[0]:.2f} after; database "
            f"{engine.dialect.name}, broker {host}:{port}"
        )
        print(
            f"readings {n:,} in {messages:,} messages ({args.per_message} per message); subscriber batch "
            f"{args.batch}, flush {args.flush_seconds} s"
        )
        print(f"publisher: {pub_log.read_text(errors='replace').strip().splitlines()[-1]}")
        print(
            f"sustained (first to last stored, {n - first[1]:,} readings in {sustained:.1f} s): "
            f"{(n - first[1]) / sustained:,.0f} readings/s, {(n - first[1]) / args.per_message / sustained:,.0f} "
            f"messages/s"
        )
        print(
            f"overall (publisher start to last stored, {total:.1f} s, process start-up included): "
            f"{n / total:,.0f} readings/s, {messages / total:,.0f} messages/s"
        )
        print(
            "CPU per reading [µs]: "
            + ", ".join(f"{k} {v / n * 1e6:.0f}" for k, v in cpu.items())
            + " (publisher: start-up and data generation included; postgres: the subscriber's connections)"
        )
        final = [line for line in sub_log.read_text(errors="replace").splitlines() if line.startswith("Fermato")]
        print(f"subscriber: {final[-1] if final else '?'}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=200_000, help="readings to publish (default 200,000)")
    parser.add_argument("--per-message", type=int, default=1, help="readings per message (batch form), default 1")
    parser.add_argument("--batch", type=int, default=5000, help="subscriber: messages per write (default 5,000)")
    parser.add_argument("--flush-seconds", type=float, default=0.5, help="subscriber: longest wait [s] (0.5)")
    parser.add_argument("--db", help="database URL to use as it is (default: a fresh PostgreSQL database)")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help=f"PostgreSQL server for the fresh database ({DEFAULT_SERVER})"
    )
    parser.add_argument("--broker", help="HOST:PORT of a running broker (default: a Mosquitto of its own)")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between looks at the subscriber's log")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    @contextmanager
    def broker() -> Iterator[tuple[str, int, int | None]]:
        if args.broker:
            host, _, port = args.broker.rpartition(":")
            yield host or "127.0.0.1", int(port), None
        else:
            with own_broker() as found:
                yield found

    with broker() as (host, port, pid):
        if args.db:
            run(args.db, host, port, pid, args)
        else:
            with scratch_database(args.server, args.keep) as url:
                run(url, host, port, pid, args)


if __name__ == "__main__":
    main()
