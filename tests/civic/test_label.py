"""The quality label: criteria as data, evaluation of evidence, expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from condivisa.civic.label import (
    Criterion,
    Evidence,
    default_criteria,
    evaluate,
    judge,
    label_expiry,
    label_state,
    parse_value,
)

SHARE = Criterion("vulnerabili", "Famiglie vulnerabili", "min_share", 10.0, required=True, weight=3)
COUNT = Criterion("assemblee", "Assemblee aperte", "min_count", 2.0, weight=1)
BOOL_REQ = Criterion("regolamento", "Regolamento pubblicato", "boolean", required=True, weight=2)
BOOL = Criterion("filiera", "Filiera locale", "boolean", weight=1)
FUND = Criterion("fondo", "Fondo povertà", "min_share", 5.0, weight=2)
CRITERIA = (SHARE, COUNT, BOOL_REQ, BOOL, FUND)

ALL_MET = [
    Evidence("vulnerabili", 12.0, "elenco ISEE"),
    Evidence("assemblee", 3, "verbali"),
    Evidence("regolamento", True, "https://esempio.it/regolamento.pdf"),
    Evidence("filiera", True),
    Evidence("fondo", 5.0),
]


def test_all_met_is_eligible_with_full_score() -> None:
    ev = evaluate(CRITERIA, ALL_MET, min_score=0.6)
    assert ev.score == pytest.approx(1.0)
    assert ev.eligible
    assert ev.missing_required == ()
    assert [r.met for r in ev.results] == [True] * 5
    assert [r.code for r in ev.results] == [c.code for c in CRITERIA]


def test_one_required_missing_is_not_eligible_even_with_high_score() -> None:
    evidence = [e for e in ALL_MET if e.code != "regolamento"]
    ev = evaluate(CRITERIA, evidence, min_score=0.1)
    assert ev.missing_required == ("regolamento",)
    assert not ev.eligible
    assert ev.score == pytest.approx((3 + 1 + 1 + 2) / 9)  # all but the required weight 2
    reg = next(r for r in ev.results if r.code == "regolamento")
    assert not reg.met and reg.reason == "nessuna evidenza fornita"


def test_required_false_value_is_reported() -> None:
    evidence = [e if e.code != "regolamento" else Evidence("regolamento", False) for e in ALL_MET]
    ev = evaluate(CRITERIA, evidence, min_score=0.0)
    assert not ev.eligible and ev.missing_required == ("regolamento",)


@pytest.mark.parametrize(
    ("value", "met"),
    [(10.0, True), (9.999, False), (10.0001, True), (0.0, False), (100.0, True)],
)
def test_share_threshold_edges(value: float, met: bool) -> None:
    result = judge(SHARE, Evidence("vulnerabili", value))
    assert result.met is met
    assert ("≥" if met else "<") in result.reason
    assert "soglia 10 %" in result.reason


@pytest.mark.parametrize(("value", "met"), [(2, True), (1, False), (1.99, False), (7, True)])
def test_count_threshold_edges(value: float, met: bool) -> None:
    assert judge(COUNT, Evidence("assemblee", value)).met is met


def test_weights_decide_the_score_and_the_minimum_is_inclusive() -> None:
    # required ones met (3 + 2), optional ones missing (1 + 1 + 2): score 5/9
    evidence = [Evidence("vulnerabili", 15.0), Evidence("regolamento", True)]
    ev = evaluate(CRITERIA, evidence, min_score=5 / 9)
    assert ev.score == pytest.approx(5 / 9)
    assert ev.eligible
    assert not evaluate(CRITERIA, evidence, min_score=0.56).eligible
    # a heavier weight on a missing criterion lowers the score
    heavier = tuple(
        Criterion(c.code, c.title, c.kind, c.threshold, c.required, 10.0) if c.code == "fondo" else c for c in CRITERIA
    )
    assert evaluate(heavier, evidence, min_score=0).score == pytest.approx(5 / 17)


def test_zero_weights_and_unknown_evidence() -> None:
    zero = (Criterion("a", "A", "boolean", weight=0), Criterion("b", "B", "boolean", weight=0))
    assert evaluate(zero, [Evidence("a", True), Evidence("b", True)], min_score=1).score == 1.0
    assert evaluate(zero, [Evidence("a", True)], min_score=0).score == 0.0
    ev = evaluate(CRITERIA, [*ALL_MET, Evidence("ignoto", 99)], min_score=0.6)
    assert ev.score == pytest.approx(1.0)


def test_parse_value_messages() -> None:
    assert parse_value("boolean", "Sì") is True
    assert parse_value("boolean", "no") is False
    assert parse_value("boolean", "") is None
    assert parse_value("min_share", "12,5 %") == 12.5
    assert parse_value("min_count", " ") is None
    with pytest.raises(ValueError, match="sì o no"):
        parse_value("boolean", "forse")
    with pytest.raises(ValueError, match="tra 0 e 100"):
        parse_value("min_share", "120")
    with pytest.raises(ValueError, match="serve un numero"):
        parse_value("min_count", "tre")
    with pytest.raises(ValueError, match="maggiore o uguale a 0"):
        parse_value("min_count", "-1")


def test_bad_criteria_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="soglia"):
        Criterion("x", "X", "min_share", None)
    with pytest.raises(ValueError, match="soglia"):
        Criterion("x", "X", "min_share", 120.0)
    with pytest.raises(ValueError, match="tipo"):
        Criterion("x", "X", "maximum", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="peso"):
        Criterion("x", "X", "boolean", weight=-1)


def test_expiry_and_state() -> None:
    assert label_expiry(dt.date(2026, 3, 15), 2) == dt.date(2028, 3, 15)
    assert label_expiry(dt.date(2024, 2, 29), 2) == dt.date(2026, 2, 28)
    assert label_expiry(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    with pytest.raises(ValueError):
        label_expiry(dt.date(2026, 1, 1), 0)
    expires = dt.date(2028, 3, 15)
    assert label_state(expires, dt.date(2028, 3, 15)) == "valid"
    assert label_state(expires, dt.date(2028, 3, 16)) == "expired"
    assert label_state(None, dt.date(2028, 3, 16)) == "none"


def test_default_criteria_have_sources_and_cover_the_brief() -> None:
    defaults = default_criteria()
    codes = {c.code for c in defaults.criteria}
    assert {
        "famiglie_vulnerabili",
        "filiera_locale",
        "assemblee_aperte",
        "regolamento_pubblicato",
        "fondo_poverta_energetica",
    } <= codes
    assert all(c.source for c in defaults.criteria)
    share = next(c for c in defaults.criteria if c.code == "famiglie_vulnerabili")
    assert share.kind == "min_share" and share.threshold == 10.0 and share.required
    fund = next(c for c in defaults.criteria if c.code == "fondo_poverta_energetica")
    assert fund.threshold == 5.0
    assert defaults.validity_years == 2 and 0 < defaults.min_score <= 1


kinds = st.sampled_from(["boolean", "min_share", "min_count"])


@st.composite
def criteria_and_evidence(draw: st.DrawFn) -> tuple[list[Criterion], dict[str, Evidence]]:
    n = draw(st.integers(1, 6))
    criteria = []
    evidence: dict[str, Evidence] = {}
    for k in range(n):
        kind = draw(kinds)
        threshold = None if kind == "boolean" else draw(st.floats(0, 100))
        criteria.append(Criterion(f"c{k}", f"C{k}", kind, threshold, draw(st.booleans()), draw(st.floats(0, 10))))
        if draw(st.booleans()):
            if kind == "boolean":
                value: float | bool | None = draw(st.sampled_from([True, False, None]))
            else:
                value = draw(st.one_of(st.none(), st.floats(0, 100)))
            evidence[f"c{k}"] = Evidence(f"c{k}", value)
    return criteria, evidence


@given(criteria_and_evidence(), st.data())
def test_adding_evidence_that_meets_a_criterion_never_lowers_the_score(
    case: tuple[list[Criterion], dict[str, Evidence]], data: st.DataObject
) -> None:
    criteria, evidence = case
    before = evaluate(criteria, evidence, min_score=0.5)
    target = data.draw(st.sampled_from(criteria))
    meeting: float | bool = (
        True if target.kind == "boolean" else (target.threshold or 0.0) + data.draw(st.floats(0, 50))
    )
    after = evaluate(criteria, {**evidence, target.code: Evidence(target.code, meeting)}, min_score=0.5)
    assert judge(target, Evidence(target.code, meeting)).met
    assert after.score >= before.score - 1e-12
    assert set(after.missing_required) <= set(before.missing_required)
    if before.eligible:
        assert after.eligible
