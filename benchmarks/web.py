"""Latency of the dashboard and of the member page at 50 concurrent users, on the demo data, over loopback.

Starts the app with uvicorn (one process) on 127.0.0.1 and a free port against a fresh SQLite database filled with
the demo community (a year of readings, as `condivisa serve --demo`), logs in as the manager and as the member,
then runs ``--users`` concurrent clients for ``--seconds`` (bounded: it stops by itself), each pausing ``--think``
seconds between requests (0: back to back), and prints p50/p95/p99 and the error count of each page.
Target: p95 < 150 ms.

Run from the project root::

    .venv/bin/python benchmarks/web.py [--users 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from condivisa.store import make_engine, upgrade
from condivisa.web.seed import DEMO_PASSWORD, seed_demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    """The app in its own process (as in production), so the load generator does not share its interpreter."""
    code = (
        "import uvicorn\n"
        "from condivisa.web.app import create_app\n"
        f"uvicorn.run(create_app({url!r}, secret_key='benchmark-secret-key-0123456789'), host='127.0.0.1', "
        f"port={port}, log_level='warning')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def login(base: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30.0, follow_redirects=False)
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    res = await client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    if res.status_code not in (302, 303):
        raise RuntimeError(f"login of {email} failed: {res.status_code}")
    return client


async def hammer(
    client: httpx.AsyncClient, path: str, until: float, out: list[float], errors: list[int], think: float
) -> None:
    if think:
        await asyncio.sleep(random.uniform(0.0, think))  # users arrive spread over one think time
    while time.perf_counter() < until:
        t = time.perf_counter()
        try:
            res = await client.get(path)
            ok = res.status_code == 200
        except httpx.HTTPError:
            ok = False
        out.append(time.perf_counter() - t)
        if not ok:
            errors.append(1)
        if think:
            await asyncio.sleep(think)


async def run(base: str, paths: dict[str, tuple[str, str]], users: int, seconds: float, think: float) -> None:
    for name, (email, path) in paths.items():
        clients = [await login(base, email) for _ in range(users)]
        await clients[0].get(path)  # warm-up: the first view computes the cached aggregates
        times: list[float] = []
        errors: list[int] = []
        until = time.perf_counter() + seconds
        await asyncio.gather(*(hammer(c, path, until, times, errors, think) for c in clients))
        for c in clients:
            await c.aclose()
        q = statistics.quantiles(times, n=100) if len(times) > 1 else [times[0]] * 99
        p95 = q[94] * 1000
        print(
            f"  {name:<10} {len(times):6d} requests, {len(errors)} errors: p50 {q[49] * 1000:7.1f} ms, "
            f"p95 {p95:7.1f} ms, p99 {q[98] * 1000:7.1f} ms  [{'PASS' if p95 < 150 and not errors else 'FAIL'}]"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--think", type=float, default=0.0, help="pause of each user between requests [s]")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        done = seed_demo(engine)
        engine.dispose()
        port = free_port()
        server = start_server(url, port)
        base = f"http://127.0.0.1:{port}"
        cid = done.community_id
        print(
            f"web latency, {args.users} concurrent users, think time {args.think:g} s, {args.seconds:.0f} s per page, "
            "demo data (a year):"
        )
        paths = {
            "dashboard": (done.users["manager"], f"/communities/{cid}"),
            "member": (done.users["member"], f"/communities/{cid}/members/m10"),
        }
        asyncio.run(run(base, paths, args.users, args.seconds, args.think))
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
