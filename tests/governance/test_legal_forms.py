"""The legal forms' data: complete, with sources, and the assembly rules the law sets."""

from __future__ import annotations

from fractions import Fraction

import pytest

from condivisa.governance.legal_forms import common_sources, legal_form, legal_forms


def test_every_form_is_complete() -> None:
    forms = legal_forms()
    assert {
        "associazione_riconosciuta",
        "associazione_non_riconosciuta",
        "associazione_ets",
        "cooperativa_di_comunita",
        "cooperativa_di_utenza",
        "fondazione_di_partecipazione",
        "consorzio",
        "impresa_sociale",
    } <= set(forms)
    for f in forms.values():
        assert f.requirements and f.liability and f.governance and f.tax and f.fits and f.sources
        for kind in ("ordinary", "extraordinary"):
            for call in ("first", "second"):
                rule = f.rule(kind, call)
                assert 0 <= rule.present <= 1 and 0 < rule.majority <= 1
                assert rule.describe().startswith("valida")
    assert any("art. 31" in s for s in common_sources())
    assert any("art. 32, comma 1, lett. b)" in s for s in common_sources())


def test_rules_of_the_law() -> None:
    assoc = legal_form("associazione_riconosciuta")  # art. 21 c.c.
    assert assoc.rule("ordinary", "first").present == Fraction(1, 2)
    assert assoc.rule("ordinary", "second").present == 0
    assert assoc.rule("extraordinary", "first").present == Fraction(3, 4)
    ets = legal_form("associazione_ets")  # art. 24 c. 3 CTS
    assert ets.default_max_proxies(499) == 3 and ets.default_max_proxies(500) == 5
    assert legal_form("cooperativa_di_utenza").default_max_proxies(40) == 10  # art. 2539 c.c.


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="associazione_riconosciuta"):
        legal_form("spa")
    with pytest.raises(ValueError, match="ordinary"):
        legal_form("consorzio").rule("annual", "first")
