"""The simulated people of ``benchmarks/load.py`` (locust; run it through that script, which builds the dataset).

Four kinds of people, in the proportions of the weights:

- a citizen (weight 4, no login): the municipality's public home ``/comune/{slug}``, its register of energy
  communities, the list of municipalities, the style sheet, the login page;
- a member (weight 3): logs in, then the member portal, ``/api/me``, the member's statement from the API;
- a manager (weight 2): logs in, then the community's dashboard, ``/api/communities/{id}``, its settlements
  list from the API, a settlement's page, ``/api/me``;
- a platform admin (weight 1): logs in, then the list of communities and any community's dashboard and API.

Each person waits a uniform random time between requests (``CONDIVISA_LOAD_THINK="min,max"`` seconds, default
1 to 5 s). Logins are real ``POST /login`` with the CSRF token of the login page (an argon2 check each). Every
response must have the expected status (200; 303 after the login), else it counts as an error. Names of the
requests group the URLs by route (``/comune/[slug]``...).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

MANIFEST: dict[str, Any] = json.loads(Path(os.environ["CONDIVISA_LOAD_MANIFEST"]).read_text())
THINK = tuple(float(x) for x in os.environ.get("CONDIVISA_LOAD_THINK", "1,5").split(","))
TIMINGS = os.environ.get("CONDIVISA_LOAD_TIMINGS")
_timings: list[tuple[float, str, str, float, bool]] = []
_next = {kind: itertools.count() for kind in ("admins", "managers", "members")}


def _account(kind: str) -> dict[str, Any]:
    """The next login of that kind (round robin: different people log in as different users)."""
    accounts: list[dict[str, Any]] = MANIFEST[kind]
    return accounts[next(_next[kind]) % len(accounts)]


@events.request.add_listener  # type: ignore[untyped-decorator]
def _record(request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
    """Every request's start [s since the epoch], route, time [ms] and failure, for exact percentiles."""
    if TIMINGS:
        _timings.append((time.time() - response_time / 1000, request_type, name, response_time, exception is not None))


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _dump(**_: Any) -> None:
    if TIMINGS:
        with open(TIMINGS, "w") as f:
            json.dump(_timings, f)


class Person(FastHttpUser):
    abstract = True
    wait_time = between(THINK[0], THINK[1])

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"status {res.status_code}")

    def login(self, account: dict[str, Any]) -> None:
        with self.client.get("/login", name="/login", catch_response=True) as page:
            text = page.text or ""
            if page.status_code != 200 or 'name="csrf_token" value="' not in text:
                page.failure(f"login page: status {page.status_code}")
                return
            token = text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {
            "email": account["email"],
            "password": account.get("password", MANIFEST["password"]),
            "csrf_token": token,
        }
        with self.client.post(
            "/login", data=form, name="POST /login", allow_redirects=False, catch_response=True
        ) as res:
            if res.status_code != 303:
                res.failure(f"login of {account['email']}: status {res.status_code}")


class Citizen(Person):
    weight = 4

    def on_start(self) -> None:
        self.slug = random.choice(MANIFEST["slugs"])

    @task(4)
    def home(self) -> None:
        self.get(f"/comune/{self.slug}", "/comune/[slug]")

    @task(2)
    def register(self) -> None:
        self.get(f"/comune/{self.slug}/registro", "/comune/[slug]/registro")

    @task(1)
    def municipalities(self) -> None:
        self.get("/comuni", "/comuni")

    @task(2)
    def static(self) -> None:
        self.get("/static/style.css", "/static/style.css")

    @task(1)
    def login_page(self) -> None:
        self.get("/login", "/login")
        self.slug = random.choice(MANIFEST["slugs"])  # and on to another municipality


class Member(Person):
    weight = 3

    def on_start(self) -> None:
        self.account = _account("members")
        self.login(self.account)

    @task(3)
    def portal(self) -> None:
        a = self.account
        self.get(f"/communities/{a['community']}/members/{a['member']}", "/communities/[id]/members/[member]")

    @task(2)
    def me(self) -> None:
        self.get("/api/me", "/api/me")

    @task(1)
    def statement(self) -> None:
        a = self.account
        self.get(
            f"/api/communities/{a['community']}/members/{a['member']}/statement",
            "/api/communities/[id]/members/[member]/statement",
        )


class Manager(Person):
    weight = 2

    def on_start(self) -> None:
        self.account = _account("managers")
        self.login(self.account)

    @task(3)
    def dashboard(self) -> None:
        self.get(f"/communities/{self.account['community']}", "/communities/[id]")

    @task(2)
    def community(self) -> None:
        self.get(f"/api/communities/{self.account['community']}", "/api/communities/[id]")

    @task(2)
    def settlements(self) -> None:
        self.get(f"/api/communities/{self.account['community']}/settlements", "/api/communities/[id]/settlements")

    @task(1)
    def settlement(self) -> None:
        a = self.account
        self.get(f"/communities/{a['community']}/settlements/{a['settlement']}", "/communities/[id]/settlements/[sid]")

    @task(1)
    def me(self) -> None:
        self.get("/api/me", "/api/me")


class Admin(Person):
    weight = 1

    def on_start(self) -> None:
        self.login(_account("admins"))

    @task(1)
    def communities(self) -> None:
        self.get("/communities", "/communities")

    @task(2)
    def dashboard(self) -> None:
        self.get(f"/communities/{random.choice(MANIFEST['communities'])}", "/communities/[id]")

    @task(2)
    def community(self) -> None:
        self.get(f"/api/communities/{random.choice(MANIFEST['communities'])}", "/api/communities/[id]")
