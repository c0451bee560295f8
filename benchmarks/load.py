"""Load test of the pages and the API on loopback, on a national-size dataset in PostgreSQL (locust, headless).

What it does:

1. creates a scratch database ``condivisa_bench_<random>`` on the PostgreSQL server of ``--url`` (dropped at the
   end unless ``--keep``) and migrates it;
2. loads the dataset (timed, not part of the test): the demo community with a year of readings, three monthly
   settlements and the municipality's public services (:func:`condivisa.web.seed.seed_demo`,
   :func:`condivisa.web.seed_civic.seed_civic_demo`), then ``--communities`` synthetic CER (default 200) of
   ``--members`` members each (default 40; 38 households and businesses plus two producers with a PV plant each),
   spread over ``--communities / 4`` municipalities, with ``--days`` days of hourly readings each (default 31,
   May 2025; :func:`condivisa.store.import_readings`) and one stored settlement of that period each
   (:func:`condivisa.web.services.run_settlement`, so the ledger gets its entries too); users: 5 platform
   admins, one manager per community and 3 member logins per community (all with one password);
3. starts the app with ``uvicorn --workers W`` (default 2; an app factory in this file) on 127.0.0.1 in its own
   processes, waits until it answers;
4. for each ``--users`` level (default 50 and 200) runs ``locust -f benchmarks/locustfile.py --headless`` in a
   subprocess: the simulated people arrive at ``--rate`` per second (default 2; each logs in on arrival, an argon2
   check of ~0.2 s of CPU), then ``--seconds`` (default 60) are measured with all of them at work. The locustfile
   records every request; this script prints, for the arrivals and for the measured time apart: requests, errors,
   p50/p95/p99 [ms] (exact, from every request's time) and requests/s, then each route's p50/p95, and the CPU used
   by the server, by locust and by the rest of the machine over the run.

The mix of simulated people and their requests is in ``benchmarks/locustfile.py``; every simulated person waits
``--think-min`` to ``--think-max`` seconds (uniform, default 1 to 5 s) between requests. Target with 200 users at
work: 0 errors, p95 < 300 ms.

The load generator, the server's workers and PostgreSQL share the same machine (and its cores): the figures are
those of that whole, not of the server alone; the load average and the CPU used by everything else are printed to
tell a run disturbed by other work apart.

Run from the project root::

    .venv/bin/python benchmarks/load.py                                    # 200 communities, 50 and 200 users
    .venv/bin/python benchmarks/load.py --communities 20 --seconds 20      # quick look
    .venv/bin/python benchmarks/load.py --users 50 200 400 --workers 3
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "carico-condivisa"
ENV_DB = "CONDIVISA_LOAD_DATABASE_URL"
ENV_SECRET = "CONDIVISA_LOAD_SECRET_KEY"
ENV_MANIFEST = "CONDIVISA_LOAD_MANIFEST"
ENV_THINK = "CONDIVISA_LOAD_THINK"
ENV_TIMINGS = "CONDIVISA_LOAD_TIMINGS"


def server_app() -> Any:
    """App factory for ``uvicorn --factory`` in the worker processes (database and key from the environment)."""
    from condivisa.web.app import create_app

    return create_app(os.environ[ENV_DB], secret_key=os.environ[ENV_SECRET])


# Dataset ---------------------------------------------------------------------------------------------------------


def synthetic_community(k: int, members: int) -> dict[str, Any]:
    """Description of the k-th synthetic CER: ``members`` members with one POD each, the first two producers."""
    cabina = f"AC00{k:03d}E{k:05d}"
    people = []
    for j in range(members):
        kind = "business" if j < 4 else "household"
        people.append(
            {
                "id": f"s{j + 1:02d}",
                "name": f"Socio {j + 1} della comunita' {k}",
                "kind": kind,
                "pods": [{"pod": f"IT002E{k:04d}{j:04d}", "cabina": cabina}],
            }
        )
    plants = [
        {
            "id": f"p{j + 1}",
            "owner": f"s{j + 1:02d}",
            "pod": f"IT002E{k:04d}{j:04d}",
            "cabina": cabina,
            "technology": "pv",
            "power_kw": 80.0 + 20 * j,
            "commissioning_date": "2024-06-01",
        }
        for j in range(2)
    ]
    return {
        "name": f"CER Carico {k:03d}",
        "configuration": "CER",
        "region": "Piemonte",
        "constitution_date": "2024-03-01",
        "members": people,
        "plants": plants,
        "regulation": [
            {"to": "fund:sociale", "share": 0.10},
            {"to": "producers", "share": 0.30, "by": "incentivised_injection"},
            {"to": "consumers", "share": 0.60, "by": "shared_withdrawal"},
        ],
        "excess_to": "consumers",
    }


def synthetic_readings(k: int, pods: list[str], start: dt.date, days: int) -> Any:
    """Hourly readings [kWh] of the PODs from local midnight of ``start``: evening-peaked loads, the first two
    PODs net of a PV plant (they inject at midday)."""
    import numpy as np
    import pandas as pd

    from condivisa.engine.timegrid import LOCAL_TZ
    from condivisa.ingest.readings import readings_from_arrays

    rng = np.random.default_rng(1000 + k)
    first = pd.Timestamp(start).tz_localize(LOCAL_TZ).tz_convert("UTC")
    hours = pd.date_range(first, periods=days * 24, freq="h")  # May: no change of legal time
    local_hour = hours.tz_convert(LOCAL_TZ).hour.to_numpy()
    shape = 0.25 + 0.35 * np.exp(-(((local_hour - 20.0) / 3.0) ** 2)) + 0.15 * np.exp(-(((local_hour - 8) / 2) ** 2))
    load = shape[:, None] * rng.uniform(0.5, 2.5, len(pods)) * rng.lognormal(0.0, 0.25, (len(hours), len(pods)))
    sun = np.clip(np.sin((local_hour - 6.0) / 14.0 * np.pi), 0.0, None) * rng.uniform(0.6, 1.0, len(hours))
    load[:, :2] -= sun[:, None] * np.array([60.0, 80.0])
    withdrawn = np.round(np.maximum(load, 0.0), 3)
    injected = np.round(np.maximum(-load, 0.0), 3)
    return readings_from_arrays(pods, hours[0], withdrawn, injected, interval_minutes=60, source="carico")


def build_dataset(url: str, *, communities: int, members: int, days: int, manifest: Path) -> dict[str, Any]:
    """Fill the migrated database at ``url``; write and return the manifest the locustfile reads."""
    from condivisa.model import Community
    from condivisa.store import (
        assign_role,
        create_user,
        import_readings,
        list_settlements,
        make_engine,
        member_row_id,
        save_community,
        session_factory,
    )
    from condivisa.store.municipalities import ensure_municipality
    from condivisa.web.security import hash_password
    from condivisa.web.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
    from condivisa.web.seed_civic import seed_civic_demo
    from condivisa.web.services import run_settlement

    engine = make_engine(url)
    sessions = session_factory(engine)
    t0 = time.perf_counter()
    demo = seed_demo(engine)
    seed_civic_demo(engine)
    print(f"  demo community (a year of readings, {demo.settlements} settlements): {time.perf_counter() - t0:.1f} s")

    password_hash = hash_password(PASSWORD)  # one argon2 hash for every benchmark login
    start = dt.date(2025, 5, 1)
    end = start + dt.timedelta(days=days - 1)
    slugs = ["borgo-demo"]
    out: dict[str, Any] = {
        "password": PASSWORD,
        "slugs": slugs,
        "admins": [],
        "managers": [],
        "members": [],
        "communities": [demo.community_id],
    }
    out["managers"].append({"email": DEMO_USERS["manager"], "password": DEMO_PASSWORD, "community": demo.community_id})
    t_import = t_settle = 0.0
    readings_total = 0
    t1 = time.perf_counter()
    with sessions() as session:
        for a in range(5):
            uid = create_user(
                session, email=f"admin{a}@carico.condivisa.it", password_hash=password_hash, display_name=f"Admin {a}"
            ).id
            assign_role(session, user_id=uid, role="platform_admin")
            out["admins"].append({"email": f"admin{a}@carico.condivisa.it"})
        for k in range(communities):
            town = f"Comune Carico {k // 4:03d}"
            if k % 4 == 0:
                info = ensure_municipality(
                    session, town, region="Piemonte", province="TO", latitude=45.0 + k / 1000, longitude=7.6
                )
                slugs.append(info.slug)
            community = Community.model_validate(synthetic_community(k, members))
            cid = save_community(session, community, municipality=town, source="carico")
            out["communities"].append(cid)
            pods = [m.pods[0].pod for m in community.members]
            ta = time.perf_counter()
            import_readings(engine, cid, synthetic_readings(k, pods, start, days), source="carico")
            readings_total += len(pods) * days * 24
            tb = time.perf_counter()
            sid = run_settlement(engine, session, cid, start, end)
            t_import += tb - ta
            t_settle += time.perf_counter() - tb
            manager = f"gestore{k:03d}@carico.condivisa.it"
            uid = create_user(session, email=manager, password_hash=password_hash, display_name=f"Gestore {k}").id
            assign_role(session, user_id=uid, role="manager", community_id=cid)
            out["managers"].append({"email": manager, "community": cid, "settlement": sid})
            for j in (2, 10, members - 1):
                member = community.members[j].id
                email = f"socio{k:03d}{member}@carico.condivisa.it"
                uid = create_user(session, email=email, password_hash=password_hash, display_name=f"Socio {member}").id
                mid = member_row_id(session, cid, member)
                assign_role(session, user_id=uid, role="member", community_id=cid, member_id=mid)
                out["members"].append({"email": email, "community": cid, "member": member})
            if (k + 1) % 50 == 0:
                print(f"  {k + 1} communities stored ({time.perf_counter() - t1:.0f} s)", flush=True)
        out["managers"][0]["settlement"] = list_settlements(session, demo.community_id, limit=1)[0].id
    engine.dispose()
    print(
        f"  {communities} communities x {members} members, {days} days hourly: {readings_total:,} readings imported "
        f"in {t_import:.1f} s, {communities} settlements in {t_settle:.1f} s; {len(out['admins'])} admins, "
        f"{len(out['managers'])} managers, {len(out['members'])} member logins; total {time.perf_counter() - t0:.0f} s"
    )
    manifest.write_text(json.dumps(out))
    return out


# Server and load generator -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``uvicorn --factory --workers`` on 127.0.0.1; returns once it answers HTTP."""
    env = {**os.environ, ENV_DB: url, ENV_SECRET: secrets.token_urlsafe(32)}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "load:server_app",
        "--factory",
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(command, env=env)
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("the server stopped while starting")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _figures(label: str, rows: list[tuple[float, str, str, float, bool]], seconds: float) -> tuple[float, int]:
    """Print requests, errors, p50/p95/p99 [ms] and requests/s of ``rows``; return (p95, errors)."""
    import numpy as np

    ms = np.array([r[3] for r in rows]) if rows else np.zeros(1)
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    errors = sum(r[4] for r in rows)
    print(
        f"  {label:<26} {len(rows):7,d} requests, {errors} errors, p50 {p50:6.0f} ms, p95 {p95:6.0f} ms, "
        f"p99 {p99:6.0f} ms, {len(rows) / seconds:6.1f} requests/s"
    )
    return float(p95), errors


def _cpu_seconds(server: int) -> dict[str, float]:
    """CPU time used so far [s]: the server's processes, locust (finished children of this process) and the whole
    machine (PostgreSQL and anything else are the difference)."""
    import resource

    import psutil  # type: ignore[import-untyped]

    def used(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    root = psutil.Process(server)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = psutil.cpu_times()
    return {
        "server": used(root) + sum(used(c) for c in root.children(recursive=True)),
        "locust": children.ru_utime + children.ru_stime,
        "machine": float(
            total.user + total.system + total.nice + getattr(total, "irq", 0) + getattr(total, "softirq", 0)
        ),
    }


def run_level(
    base: str, users: int, seconds: float, rate: float, manifest: Path, think: str, tmp: Path, server: int
) -> None:
    """One locust run at ``users`` concurrent users; prints the figures (exact percentiles of every request)."""
    prefix = tmp / f"u{users}"
    timings = tmp / f"u{users}-timings.json"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(rate),
        "--run-time",
        f"{users / rate + seconds:.0f}s",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    env = {**os.environ, ENV_MANIFEST: str(manifest), ENV_THINK: think, ENV_TIMINGS: str(timings)}
    before = os.getloadavg()[0]
    cpu0 = _cpu_seconds(server)
    wall0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - wall0
    cpu = {k: v - cpu0[k] for k, v in _cpu_seconds(server).items()}
    after = os.getloadavg()[0]
    if not timings.exists():
        print(done.stdout[-2000:], done.stderr[-3000:], sep="\n")
        raise RuntimeError(f"locust wrote no timings (exit status {done.returncode})")
    rows = [tuple(r) for r in json.loads(timings.read_text())]
    rows.sort()
    start = rows[0][0]
    ramp = users / rate
    steady = [r for r in rows if r[0] >= start + ramp]
    arriving = [r for r in rows if r[0] < start + ramp]
    print(f"{users} users (load average {before:.1f} before, {after:.1f} after):")
    _figures(f"arrivals ({ramp:.0f} s, logins)", arriving, ramp)
    p95, errors = _figures(f"{users} concurrent ({seconds:.0f} s)", steady, seconds)
    verdict = "PASS" if errors == 0 and p95 < 300 else "FAIL"
    print(f"  target with {users} users: 0 errors and p95 < 300 ms: {verdict}")
    others = cpu["machine"] - cpu["server"] - cpu["locust"]
    print(
        f"  CPU over the {wall:.0f} s (cores busy on average): server {cpu['server'] / wall:.2f} "
        f"({cpu['server'] / len(rows) * 1000:.1f} ms per request), locust {cpu['locust'] / wall:.2f}, "
        f"PostgreSQL and anything else {max(others, 0.0) / wall:.2f}, of {os.cpu_count()} cores"
    )
    import numpy as np

    names = sorted({(r[1], r[2]) for r in rows})
    table = []
    for kind, name in names:
        ms = np.array([r[3] for r in rows if r[1] == kind and r[2] == name])
        err = sum(r[4] for r in rows if r[1] == kind and r[2] == name)
        table.append((float(np.percentile(ms, 95)), kind, name, len(ms), err, float(np.percentile(ms, 50))))
    for p95_route, kind, name, n, err, p50 in sorted(table, reverse=True):
        print(f"    {kind:<4} {name:<48} {n:6,d} requests, {err} errors, p50 {p50:5.0f} ms, p95 {p95_route:5.0f} ms")
    failures = prefix.parent / f"{prefix.name}_failures.csv"
    if errors and failures.exists():
        for r in list(csv.DictReader(failures.open()))[:5]:
            print(f"    failure: {r['Method']} {r['Name']}: {r['Error'][:150]} (x{r['Occurrences']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"a database URL on the server to use ({DEFAULT_URL})")
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--days", type=int, default=31, help="days of hourly readings per community (from May 2025)")
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200], help="concurrent users, one run each")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time at full load, per level [s]")
    parser.add_argument("--rate", type=float, default=2.0, help="users arriving per second before it")
    parser.add_argument("--think-min", type=float, default=1.0, help="shortest pause between requests [s]")
    parser.add_argument("--think-max", type=float, default=5.0, help="longest pause between requests [s]")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database (and print its manifest)")
    parser.add_argument("--reuse", nargs=2, metavar=("URL", "MANIFEST"), help="a kept database and its manifest")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    from condivisa.store import upgrade
    from ingest_db import scratch_database, server_settings

    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU cores shared by")
    print(f"the load generator (locust, one process), {args.workers} uvicorn workers and PostgreSQL")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.reuse:
            url, manifest = args.reuse[0], Path(args.reuse[1])
        else:
            url = stack.enter_context(scratch_database(args.url, args.keep))
            upgrade(url)
            print("dataset:")
            manifest = (Path(tempfile.mkdtemp()) if args.keep else tmp) / "manifest.json"
            build_dataset(url, communities=args.communities, members=args.members, days=args.days, manifest=manifest)
            if args.keep:
                print(f"kept: --reuse {url} {manifest}")
        print(server_settings(url))
        port = free_port()
        server = start_server(url, port, args.workers)
        try:
            print(
                f"load: per level, users arrive at {args.rate:g} per second (each logs in, then works), then "
                f"{args.seconds:.0f} s are measured with all of them at work; think time "
                f"{args.think_min:g}-{args.think_max:g} s"
            )
            for users in args.users:
                think = f"{args.think_min},{args.think_max}"
                run_level(f"http://127.0.0.1:{port}", users, args.seconds, args.rate, manifest, think, tmp, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
