"""The regulation in words matches the engine: the numbers and bases read back from the sentences, applied by an
independent largest-remainder split, give the engine's allocation of a settled demo community to the cent."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from fractions import Fraction

import pytest

from condivisa.demo import demo_community, demo_prices, demo_readings
from condivisa.engine import settle
from condivisa.engine.settle import Settlement
from condivisa.engine.timegrid import Period
from condivisa.governance.rules_text import percent_text, rule_sentences, sharing_rule_sentence
from condivisa.ingest import Prices, Readings, parse_prices_csv
from condivisa.model import Community

PERIOD = Period(dt.date(2025, 6, 1), dt.date(2025, 6, 3))

# Words -> basis, written here independently of the module under test.
BASES = [
    ("energia immessa incentivata", "incentivised_injection"),
    ("energia immessa in rete dai loro impianti", "injected"),
    ("energia condivisa prelevata", "shared_withdrawal"),
    ("energia prelevata dalla rete", "withdrawn"),
    ("parti uguali", "equal"),
]


def _settle(community: Community) -> Settlement:
    year = demo_readings(community, 2025)
    frame = year.frame
    mask = (frame["timestamp"] >= PERIOD.start_utc) & (frame["timestamp"] < PERIOD.end_utc)
    readings = Readings(frame=frame[mask].reset_index(drop=True), interval_minutes=dict(year.interval_minutes))
    prices = parse_prices_csv(io.StringIO(demo_prices(2025).to_csv(index=False)), name="prices.csv")
    pmask = (prices.frame["timestamp"] >= PERIOD.start_utc) & (prices.frame["timestamp"] < PERIOD.end_utc)
    prices = Prices(frame=prices.frame[pmask].reset_index(drop=True), source=prices.source)
    return settle(community, readings, prices, period=PERIOD)


def hamilton(total: int, weights: Mapping[str, float], rank: Mapping[str, int] | None = None) -> dict[str, int]:
    """Largest remainders, ties by rank then key: the arithmetic the regulation's text describes."""
    w = {k: Fraction(v) for k, v in weights.items()}
    den = sum(w.values())
    if den == 0:
        w = dict.fromkeys(weights, Fraction(1))
        den = Fraction(len(w))
    exact = {k: total * v / den for k, v in w.items()}
    out = {k: int(q) for k, q in exact.items()}
    rest = total - sum(out.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - out[k]), (rank or {}).get(k, 0), k))
    for k in order[:rest]:
        out[k] += 1
    return out


def from_words(s: Settlement) -> dict[str, int]:
    """Recompute the allocation using only the sentences' numbers and words, and the settlement's energies."""
    community = s.community
    producers: dict[str, dict[str, float]] = {}
    for p in s.plant_results:
        b = producers.setdefault(p.owner, {"incentivised_injection": 0.0, "injected": 0.0})
        b["incentivised_injection"] += p.incentivised_kwh
        b["injected"] += p.injected_kwh
    consumers = {m.id: {"shared_withdrawal": 0.0, "withdrawn": 0.0} for m in community.members}
    for k, member in enumerate(s.point_members):
        consumers[member]["shared_withdrawal"] += float(s.energy.point_shared_withdrawal[k])
        consumers[member]["withdrawn"] += float(s.energy.point_withdrawn[k])
    total = s.allocation.total_cents
    out: dict[str, int] = {}

    def give(parts: Mapping[str, int]) -> None:
        for k, v in parts.items():
            if v:
                out[k] = out.get(k, 0) + v

    sentences = rule_sentences(community)
    remaining = total
    excess = [x for x in sentences if x.rule == -1]
    if excess:
        carve = min(round(sum(e.excess_eur for e in s.excess_sets) * 100), total)
        text = excess[0].text
        fund = re.search(r"al fondo «([^»]+)»", text)
        if fund:
            give({f"fund:{fund.group(1)}": carve})
        else:
            assert "non sono imprese" in text and "energia condivisa prelevata" in text
            homes = {
                k: v["shared_withdrawal"]
                for k, v in consumers.items()
                if k in {m.id for m in community.members if m.kind != "business"}
            }
            give(hamilton(carve, homes))
        remaining -= carve
    rules = [x for x in sentences if x.rule >= 0]
    shares = {}
    for x in rules:
        m = re.search(r"il ([\d,]+)% dell'importo da ripartire", x.text)
        assert m, x.text
        shares[str(x.rule)] = float(m.group(1).replace(",", ".")) / 100
    per_rule = hamilton(remaining, shares, {k: int(k) for k in shares})
    for x in rules:
        amount = per_rule[str(x.rule)]
        if (fund := re.search(r"al fondo «([^»]+)»", x.text)) is not None:
            give({f"fund:{fund.group(1)}": amount})
            continue
        if (member := re.search(r"al socio (\S+)", x.text)) is not None:
            give({member.group(1): amount})
            continue
        group = producers if "tra i produttori" in x.text else consumers
        assert "tra i produttori" in x.text or "tra i consumatori" in x.text
        basis = next(b for words, b in BASES if words in x.text)
        if not amount:
            continue
        if not group:
            give({"unallocated": amount})
            continue
        weights = {k: 1.0 for k in group} if basis == "equal" else {k: v[basis] for k, v in group.items()}
        give(hamilton(amount, weights))
    return out


VARIANTS = {
    "demo": {},
    "equal_and_withdrawn": {
        "regulation": [
            {"to": "fund:povertà energetica", "share": 0.125},
            {"to": "producers", "share": 0.2, "by": "injected"},
            {"to": "consumers", "share": 0.375, "by": "withdrawn"},
            {"to": "consumers", "share": 0.3, "by": "equal"},
        ],
        "excess_to": "fund:povertà energetica",
    },
    "fixed_member_and_equal_producers": {
        "regulation": [
            {"to": "m01", "share": 0.07},
            {"to": "producers", "share": 0.33, "by": "equal"},
            {"to": "consumers", "share": 0.6, "by": "shared_withdrawal"},
        ],
        "excess_to": None,
    },
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_words_reproduce_the_engine(variant: str) -> None:
    data = demo_community().model_dump()
    data.update(VARIANTS[variant])
    s = _settle(Community.model_validate(data))
    assert s.allocation.total_cents > 0
    engine = {k: v for k, v in s.allocation.by_recipient().items() if v}
    if variant == "demo":
        assert any(x.rule == -1 for x in s.allocation.lines), "the demo period should exercise the excess carve-out"
    assert from_words(s) == engine


def test_sentences_name_every_rule_and_basis() -> None:
    c = demo_community()
    texts = [x.text for x in rule_sentences(c)]
    assert texts[0].startswith("Prima di ogni altra ripartizione")  # the excess goes first
    assert "Regola 1: il 10% dell'importo da ripartire è destinato al fondo «sociale»" in texts[1]
    assert "il 25%" in texts[3] and "energia immessa incentivata" in texts[3]
    assert "il 60%" in texts[4] and "energia condivisa prelevata" in texts[4]
    summary = sharing_rule_sentence(c)
    assert "il 10% al fondo «sociale»" in summary and "il 60% ai consumatori" in summary


@pytest.mark.parametrize(("share", "text"), [(0.25, "25"), (0.125, "12,5"), (1 / 3, "33,333333"), (1.0, "100")])
def test_percent_text(share: float, text: str) -> None:
    assert percent_text(share) == text
