"""Benchmark of the sizing LP: one year hourly, 30 members, 3 PV sites and one battery (linopy + HiGHS).

Prints the model size, the build time and the HiGHS solve time for both objectives (net present value and
shared energy). Target from the issue: solve < 5 s on the 2-core machine.

Run from the project root::

    .venv/bin/python benchmarks/planning.py [--members 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import numpy as np

from condivisa.demo.loads import load_profile
from condivisa.engine.timegrid import Period
from condivisa.planning.sizing import BatteryOption, PVSite, SizingProblem, build_model, solve
from condivisa.production import PVArray, pv_hourly_kwh, typical_year
from condivisa.production.weather import lay_on_hours
from condivisa.rules import load_rulebook, tip_eur_mwh


def make_problem(members: int, seed: int = 1) -> SizingProblem:
    rng = np.random.default_rng(seed)
    hours = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)).hours()
    kinds = ["household"] * (members - members // 5) + ["business"] * (members // 5)
    yearly = {"household": (1800.0, 3800.0), "business": (15000.0, 60000.0)}
    load = sum(load_profile(k, float(rng.uniform(*yearly[k])), hours, rng) for k in kinds)
    weather = lay_on_hours(typical_year(), hours)
    one_kwp = {
        "school roof (south 30°)": pv_hourly_kwh(PVArray(1.0, 30, 180), weather).to_numpy(),
        "sports hall (east-west 10°)": 0.5 * pv_hourly_kwh(PVArray(1.0, 10, 90), weather).to_numpy()
        + 0.5 * pv_hourly_kwh(PVArray(1.0, 10, 270), weather).to_numpy(),
        "car park canopy (south 5°)": pv_hourly_kwh(PVArray(1.0, 5, 180), weather).to_numpy(),
    }
    sites = [
        PVSite(name, "AC001E00123", y, max_kwp=cap, capex_eur_per_kwp=c)
        for (name, y), cap, c in zip(one_kwp.items(), (120.0, 200.0, 400.0), (1100.0, 1000.0, 1400.0), strict=True)
    ]
    rb = load_rulebook()
    month = hours.tz_convert("Europe/Rome").month.to_numpy()
    price = np.asarray(rb.year(2025)[0].monthly_price_eur_mwh)[month - 1] * (1 + 0.2 * np.sin(np.arange(len(hours))))
    incentive = tip_eur_mwh(150.0, price, fc_eur_mwh=10.0) + rb.year(2025)[0].cu_af_eur_mwh
    return SizingProblem(
        load_kwh={"AC001E00123": np.asarray(load)},
        sites=sites,
        incentive_eur_mwh=incentive,
        sale_price_eur_mwh=price,
        battery=BatteryOption("AC001E00123"),
        hours=hours,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    problem = make_problem(args.members)
    model = build_model(problem)
    print(f"sizing LP: {problem.n_hours} hours, {args.members} members, {len(problem.sites)} PV sites, 1 battery")
    print(f"  variables {model.nvars:,}, constraints {model.ncons:,}")
    for objective in ("npv", "shared"):
        builds, solves = [], []
        for _ in range(args.repeats):
            res = solve(problem, objective)  # type: ignore[arg-type]
            builds.append(res.build_seconds)
            solves.append(res.solve_seconds)
        sizes = ", ".join(f"{k} {v:,.1f} kWp" for k, v in res.site_kwp.items())
        build_s, solve_s = statistics.median(builds), statistics.median(solves)
        print(
            f"  objective {objective:>6}: build {build_s:.2f} s, solve {solve_s:.2f} s"
            f" (median of {args.repeats}) -> {res.status}; {sizes}; battery {res.battery_kwh:,.1f} kWh /"
            f" {res.battery_kw:,.1f} kW; shared {res.shared_kwh / 1000:,.1f} MWh; NPV {res.npv_eur:,.0f} €"
        )
        verdict = "PASS" if solve_s < 5.0 else "FAIL"
        print(f"  [{verdict}] solve < 5 s ({objective})")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t:.1f} s")
