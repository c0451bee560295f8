"""The desk's decision table and first estimate (pure functions, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.civic import desk
from condivisa.civic.desk import Answers, NearbyCommunity, decide, estimate, parse_answers
from condivisa.errors import InputError
from condivisa.production.weather import WeatherYear, typical_year

CABINA = "AC001E00123"
BORGO = NearbyCommunity(1, "CER Borgo Demo", "CER", "active", "NORD", frozenset({CABINA, "AC001E00124"}), 120.0)


def _all_text(o: desk.Orientation) -> str:
    parts = [r.text for r in o.reasons + o.caveats]
    parts += [r.text for x in o.alternatives + o.excluded for r in x.reasons]
    return " ".join(parts)


CASES = [
    pytest.param(
        Answers("household", "Piemonte", tenure="tenant", building="flat", assembly="yes", yearly_kwh=2200),
        [BORGO],
        "auc",
        "assemblea condominiale è d'accordo",
        id="inquilino-condominio-assemblea-si",
    ),
    pytest.param(
        Answers("household", "Piemonte", CABINA, tenure="tenant", building="flat", assembly="no", yearly_kwh=2200),
        [BORGO],
        "cer_join",
        "come consumatore",
        id="inquilino-condominio-assemblea-no",
    ),
    pytest.param(
        Answers(
            "energy_company",
            "Piemonte",
            CABINA,
            building="business",
            roof=True,
            roof_area_m2=2000,
            budget_eur=300_000,
            yearly_kwh=50_000,
        ),
        [BORGO],
        "cer_join",
        "attività commerciale o industriale principale",
        id="impresa-energia-produttore-terzo",
    ),
    pytest.param(
        Answers("household", "Toscana", tenure="owner", building="flat", assembly="no", yearly_kwh=2500),
        [BORGO],
        "cer_new",
        "stessa zona di mercato",
        id="altra-zona-di-mercato",
    ),
    pytest.param(
        Answers(
            "public_body",
            "Piemonte",
            building="public",
            roof=True,
            roof_area_m2=600,
            budget_eur=150_000,
            yearly_kwh=80_000,
        ),
        [],
        "cer_new",
        "ente pubblico può essere socio",
        id="ente-pubblico",
    ),
    pytest.param(
        Answers("household", "Piemonte", CABINA, roof=True, roof_area_m2=40, budget_eur=9000, yearly_kwh=3500),
        [BORGO],
        "individual",
        "dietro il tuo contatore",
        id="casa-singola-con-tetto-e-budget",
    ),
    pytest.param(
        Answers(
            "business",
            "Piemonte",
            CABINA,
            building="business",
            roof=True,
            roof_area_m2=300,
            budget_eur=60_000,
            yearly_kwh=40_000,
        ),
        [BORGO],
        "individual",
        "PMI può essere socia",
        id="piccola-impresa",
    ),
    pytest.param(
        Answers("third_sector", "Piemonte", building="business", yearly_kwh=8000, goal="consume"),
        [],
        "cer_new",
        "terzo settore",
        id="terzo-settore",
    ),
    pytest.param(
        Answers(
            "household",
            "Piemonte",
            CABINA,
            building="flat",
            tenure="tenant",
            assembly="no",
            goal="consume",
            yearly_kwh=1800,
        ),
        [BORGO],
        "cer_join",
        "non investi nulla",
        id="senza-tetto-senza-budget",
    ),
    pytest.param(
        Answers(
            "condo_admin",
            "Lombardia",
            building="flat",
            assembly="yes",
            roof=True,
            roof_area_m2=200,
            budget_eur=40_000,
            yearly_kwh=30_000,
        ),
        [],
        "auc",
        "tetto comune",
        id="amministratore-condominio",
    ),
    pytest.param(
        Answers("household", "Piemonte", CABINA, roof=True, roof_area_m2=30, budget_eur=0, yearly_kwh=2700),
        [BORGO],
        "cer_join",
        "Senza budget",
        id="tetto-senza-budget",
    ),
    pytest.param(
        Answers("household", "Piemonte", "AC999E00001", building="flat", assembly="no", yearly_kwh=2700),
        [BORGO],
        "cer_new",
        "solo l'energia condivisa nella stessa cabina primaria",
        id="altra-cabina-stessa-zona",
    ),
    pytest.param(
        Answers("energy_company", "Piemonte", CABINA, building="business", yearly_kwh=20_000),
        [BORGO],
        "cer_new",
        "non può aderire a una comunità come socio consumatore",
        id="impresa-energia-senza-impianto",
    ),
    pytest.param(
        Answers(
            "religious", "Piemonte", building="public", roof=True, roof_area_m2=150, budget_eur=30_000, yearly_kwh=6000
        ),
        [],
        "individual",
        "fattore F",
        id="ente-religioso",
    ),
]


@pytest.mark.parametrize(("answers", "nearby", "form", "phrase"), CASES)
def test_decision_table(answers: Answers, nearby: list[NearbyCommunity], form: str, phrase: str) -> None:
    o = decide(answers, nearby)
    assert o.recommended.form == form, [(x.form, x.score) for x in (o.recommended, *o.alternatives)]
    assert phrase in _all_text(o)
    assert all(r.source for r in o.reasons), "every reason cites its rule"
    assert o.recommended not in o.excluded and all(x.excluded for x in o.excluded)
    scores = [x.score for x in (o.recommended, *o.alternatives)]
    assert scores == sorted(scores, reverse=True)


def test_reasons_cite_the_rules() -> None:
    sources = " ".join(r.source for r in desk.RULES)
    for law in ("D.Lgs. 199/2021, art. 30", "D.Lgs. 199/2021, art. 31", "TIAD", "DM 414/2023", "DM 127/2025", "GSE"):
        assert law in sources


def test_energy_company_is_third_party_and_public_body_is_exempt() -> None:
    energy = decide(CASES[2].values[0], [BORGO])
    assert energy.recommended.role == "third_party" and energy.recommended.community == BORGO
    public = decide(CASES[4].values[0], [])
    assert any("esente" in r.text for r in public.notes)
    assert any(r.code == "PNRR" for r in public.caveats)


def test_other_zone_community_cannot_be_joined() -> None:
    o = decide(Answers("household", "Sicilia", CABINA, yearly_kwh=2000, goal="consume"), [BORGO])
    join = next(x for x in o.excluded if x.form == "cer_join")
    assert "zona di mercato" in join.reasons[0].text


def test_parse_answers_italian_numbers_and_errors() -> None:
    a = parse_answers(
        {
            "subject": "household",
            "region": "emilia romagna",
            "yearly_kwh": "2.700",
            "budget_eur": "1.500,50",
            "roof": "yes",
            "roof_area_m2": "25,5",
        }
    )
    assert a.region == "Emilia-Romagna" and a.yearly_kwh == 2700 and a.budget_eur == 1500.5 and a.roof_area_m2 == 25.5
    assert parse_answers(a.to_form()) == a
    with pytest.raises(InputError) as err:
        parse_answers({"subject": "alieno", "region": "Narnia", "roof": "yes", "yearly_kwh": "-3"})
    fields = {p.field for p in err.value.problems}
    assert {"subject", "region", "roof_area_m2", "yearly_kwh"} <= fields
    with pytest.raises(InputError) as err:
        parse_answers({"subject": "household", "region": "Lazio"})
    assert err.value.problems[0].field == "yearly_kwh"


@pytest.fixture(scope="module")
def turin() -> WeatherYear:
    return typical_year()


def test_no_roof_no_production(turin: WeatherYear) -> None:
    a = Answers("household", "Piemonte", CABINA, building="flat", assembly="no", yearly_kwh=2700)
    e = estimate(a, "cer_join", turin, community_pv_kw=120.0)
    assert e.kwp == 0 and e.production_kwh == 0 and e.self_consumed_kwh == 0 and e.savings_eur == 0
    assert e.consumption_kwh == pytest.approx(2700)
    assert 0 < e.shared_kwh < e.consumption_kwh
    assert e.shared_low_kwh <= e.shared_kwh <= e.shared_high_kwh
    assert e.tip_eur > 0 and e.valorisation_eur > 0


def test_roof_in_turin_produces_a_plausible_yield(turin: WeatherYear) -> None:
    a = Answers("household", "Piemonte", CABINA, roof=True, roof_area_m2=36, budget_eur=20_000, yearly_kwh=3000)
    e = estimate(a, "individual", turin)
    assert e.kwp == pytest.approx(36 / desk.M2_PER_KWP)
    assert 1100 <= e.specific_yield_kwh_kwp <= 1400
    assert 0 < e.self_consumed_kwh < min(e.production_kwh, e.consumption_kwh)
    assert e.self_consumed_kwh + e.surplus_kwh == pytest.approx(e.production_kwh)
    assert e.shared_kwh == 0 and e.tip_eur == 0
    assert e.savings_eur == pytest.approx(e.self_consumed_kwh * 0.25)
    assert e.savings_low_eur < e.savings_eur < e.savings_high_eur


def test_budget_limits_power(turin: WeatherYear) -> None:
    a = Answers("household", "Piemonte", roof=True, roof_area_m2=100, budget_eur=4500, yearly_kwh=3000)
    assert estimate(a, "individual", turin).kwp == pytest.approx(3.0)
    flat_roof = Answers("household", "Piemonte", roof=True, roof_area_m2=90, orientation="piano", budget_eur=1e6)
    assert estimate(flat_roof, "individual", turin).kwp == pytest.approx(10.0)


def test_bill_is_converted_at_the_assumed_price(turin: WeatherYear) -> None:
    a = Answers("household", "Piemonte", yearly_kwh=None, yearly_bill_eur=750.0, goal="consume")
    e = estimate(a, "cer_new", turin, params=desk.EstimateParameters(energy_price_eur_kwh=0.30))
    assert e.consumption_kwh == pytest.approx(2500)
    assert any("bolletta" in s for s in e.assumptions)


def test_shared_never_exceeds_surplus_or_community_demand(turin: WeatherYear) -> None:
    """The CER estimate: shared energy is at most the surplus and at most the other members' demand."""
    small = desk.EstimateParameters(community_demand_kwh=4000.0)
    a = Answers("household", "Piemonte", CABINA, roof=True, roof_area_m2=60, budget_eur=15_000, yearly_kwh=3000)
    e = estimate(a, "cer_join", turin, params=small)
    assert e.shared_kwh <= e.surplus_kwh + 1e-6
    assert e.shared_kwh <= 4000.0 + 1e-6
    assert e.shared_high_kwh <= min(e.surplus_kwh, 8000.0) + 1e-6
    assert e.shared_low_kwh <= e.shared_kwh <= e.shared_high_kwh
    # the TIP of a small NORD PV plant is between 80+10 and 120+10 €/MWh of shared energy
    assert 0.090 * e.shared_kwh <= e.tip_eur <= 0.130 * e.shared_kwh


@settings(max_examples=15, deadline=None)
@given(
    area=st.floats(0, 400),
    budget=st.floats(0, 80_000),
    kwh=st.floats(500, 60_000),
    demand=st.floats(1000, 300_000),
    form=st.sampled_from(desk.FORMS),
)
def test_estimate_invariants(area: float, budget: float, kwh: float, demand: float, form: str) -> None:
    weather = _turin_cached()
    a = Answers("household", "Piemonte", CABINA, roof=area > 0, roof_area_m2=area, budget_eur=budget, yearly_kwh=kwh)
    e = estimate(a, form, weather, params=desk.EstimateParameters(community_demand_kwh=demand))
    assert e.self_consumed_kwh <= min(e.production_kwh, e.consumption_kwh) + 1e-6
    if e.kwp > 0 and form != "individual":
        assert e.shared_kwh <= min(e.surplus_kwh, demand) + 1e-6
    if e.kwp == 0:
        assert e.production_kwh == 0 and e.self_consumed_kwh == 0
    assert e.total_low_eur <= e.total_eur + 1e-6 <= e.total_high_eur + 2e-6
    assert np.isfinite(e.total_eur)


_WEATHER: list[WeatherYear] = []


def _turin_cached() -> WeatherYear:
    if not _WEATHER:
        _WEATHER.append(typical_year())
    return _WEATHER[0]
