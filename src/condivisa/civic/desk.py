"""The digital help desk ("sportello digitale"): which form of self-consumption suits a citizen, business or body,
and a first estimate of its benefits.

Pure computation, no I/O: :func:`parse_answers` checks the questionnaire, :func:`decide` applies the decision
table :data:`RULES` to the answers and to the energy communities known in the municipality, and :func:`estimate`
turns the answers and the recommended form into yearly energy and money with the design engine (BDEW profiles from
:mod:`condivisa.planning.profiles`, pvlib through :mod:`condivisa.production.pv`, the sharing and valuation core of
:mod:`condivisa.engine.sharing`, the rulebook of :mod:`condivisa.rules`). The caller passes the weather year.

Forms
-----
``individual``
    Individual self-consumption: a plant on one's own roof behind one's own meter (D.Lgs. 199/2021, art. 30, c. 1).
``auc``
    Collective self-consumption in one building or condominium (D.Lgs. 199/2021, art. 30, c. 2; TIAD).
``cer_join``
    Join an existing renewable energy community whose cabina primaria covers the point (D.Lgs. 199/2021, art. 31).
``cer_new``
    Promote a new renewable energy community.

The decision is a score per form: every rule of :data:`RULES` whose condition holds adds its points to its form
(or excludes the form) and gives its reason, an Italian sentence citing the rule it rests on. The form with the
highest score that is not excluded is recommended; the others follow, ranked. Reasons are constant sentences, so
the web layer can translate them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from condivisa.engine.sharing import Layout, share_energy, value_energy
from condivisa.engine.timegrid import LOCAL_TZ, Period
from condivisa.errors import InputError, Problem
from condivisa.planning.profiles import Bill, profile_from_bill
from condivisa.production.pv import PVArray, pv_hourly_kwh
from condivisa.production.weather import WeatherYear, lay_on_hours
from condivisa.rules.grants import load_grant_rules
from condivisa.rules.rulebook import canonical_region, load_rulebook, zone_of_region
from condivisa.rules.tip import geographic_correction, power_class, tip_eur_mwh

FloatArray = npt.NDArray[np.float64]

FORMS: tuple[str, ...] = ("individual", "auc", "cer_join", "cer_new")
"""Forms the desk can recommend, in the order that breaks ties (the simplest first)."""

FORM_LABELS: Mapping[str, str] = {
    "individual": "Autoconsumo individuale",
    "auc": "Autoconsumo collettivo nel condominio (AUC)",
    "cer_join": "Aderire a una comunità energetica esistente",
    "cer_new": "Promuovere una nuova comunità energetica",
}

SUBJECTS: Mapping[str, str] = {
    "household": "Famiglia o persona fisica",
    "business": "Impresa (PMI), commercio, professionista",
    "energy_company": "Impresa la cui attività principale è produrre o vendere energia",
    "third_sector": "Ente del terzo settore, associazione",
    "public_body": "Comune o altro ente pubblico",
    "religious": "Ente religioso",
    "condo_admin": "Amministratore di condominio",
}
"""Who answers (the first question)."""

TENURES: Mapping[str, str] = {"owner": "Proprietario", "tenant": "Inquilino o in comodato"}
BUILDINGS: Mapping[str, str] = {
    "house": "Casa singola o villetta",
    "flat": "Appartamento in condominio",
    "business": "Locali d'impresa (capannone, negozio, ufficio)",
    "public": "Edificio pubblico",
}
ORIENTATIONS: Mapping[str, tuple[float, float]] = {
    "sud": (30.0, 180.0),
    "sud-est": (30.0, 135.0),
    "sud-ovest": (30.0, 225.0),
    "est": (30.0, 90.0),
    "ovest": (30.0, 270.0),
    "est-ovest": (15.0, 90.0),
    "piano": (10.0, 180.0),
    "nord": (30.0, 0.0),
}
"""Roof orientation -> (tilt [°], azimuth [°], 180 = south). ``est-ovest`` is modelled as half the power facing
east and half west; ``piano`` (flat roof) as modules tilted 10° south."""
ORIENTATION_LABELS: Mapping[str, str] = {
    "sud": "Sud",
    "sud-est": "Sud-est",
    "sud-ovest": "Sud-ovest",
    "est": "Est",
    "ovest": "Ovest",
    "est-ovest": "Est-ovest (due falde)",
    "piano": "Tetto piano o terreno",
    "nord": "Nord",
}
ASSEMBLY: Mapping[str, str] = {"yes": "Sì", "no": "No", "unknown": "Non ancora chiesto"}
GOALS: Mapping[str, str] = {
    "both": "Produrre e consumare",
    "consume": "Solo consumare energia condivisa",
    "produce": "Solo produrre (mettere a disposizione un impianto)",
}
SMALL_MUNICIPALITY: Mapping[str, str] = {"unknown": "Non so", "yes": "Sì", "no": "No"}

M2_PER_KWP = 6.0
"""Roof area per kWp of PV on a pitched roof [m²/kWp]: modules of about 2 m² and 400-450 Wp (≈ 4.5-5 m²/kWp)
plus edges, chimneys and walkways (GSE and installers' rule of thumb: 6-8 m²/kWp)."""
M2_PER_KWP_FLAT = 9.0
"""Roof or land area per kWp when modules stand in tilted rows on a flat surface, with spacing against shading
between rows [m²/kWp]."""
MIN_KWP = 1.0
"""Smallest plant the desk considers [kWp]."""


# --------------------------------------------------------------------------------------------------------------------
# Answers


@dataclass(frozen=True)
class Answers:
    """The questionnaire, checked.

    Parameters
    ----------
    subject : str
        Key of :data:`SUBJECTS`.
    region : str
        Italian region (rulebook spelling).
    cabina : str or None
        Code of the cabina primaria of the point, when known (e.g. ``AC001E00123``).
    tenure : str
        Key of :data:`TENURES`.
    building : str
        Key of :data:`BUILDINGS`.
    roof : bool
        Whether a usable roof or piece of land is available.
    roof_area_m2 : float
        Usable area [m²]; 0 without roof.
    orientation : str
        Key of :data:`ORIENTATIONS`.
    assembly : str
        Key of :data:`ASSEMBLY`: whether the condominium assembly agrees to a shared plant.
    yearly_kwh : float or None
        Yearly consumption [kWh], when known.
    yearly_bill_eur : float or None
        Yearly electricity bill [€], used when the consumption is not known.
    budget_eur : float
        What one can invest [€].
    goal : str
        Key of :data:`GOALS`.
    small_municipality : str
        Key of :data:`SMALL_MUNICIPALITY`: whether the plant's municipality has fewer than 50,000 inhabitants.
    """

    subject: str
    region: str
    cabina: str | None = None
    tenure: str = "owner"
    building: str = "house"
    roof: bool = False
    roof_area_m2: float = 0.0
    orientation: str = "sud"
    assembly: str = "unknown"
    yearly_kwh: float | None = 2700.0
    yearly_bill_eur: float | None = None
    budget_eur: float = 0.0
    goal: str = "both"
    small_municipality: str = "unknown"

    def to_form(self) -> dict[str, str]:
        """The answers as the form fields that :func:`parse_answers` reads back."""
        out = {k: ("" if v is None else str(v)) for k, v in asdict(self).items()}
        out["roof"] = "yes" if self.roof else "no"
        return out


ANSWER_FIELDS: tuple[str, ...] = tuple(Answers.__dataclass_fields__)


def _number(form: Mapping[str, str], name: str, label: str, problems: list[Problem], *, maximum: float) -> float | None:
    raw = (form.get(name) or "").strip().replace("€", "").replace(" ", "")
    if not raw:
        return None
    if "," in raw or re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):  # Italian: 1.234,5 and 5.000
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        problems.append(Problem(f"{label}: «{form.get(name)}» non è un numero", field=name))
        return None
    if not math.isfinite(value) or value < 0:
        problems.append(Problem(f"{label}: serve un numero positivo o zero", field=name))
        return None
    if value > maximum:
        problems.append(Problem(f"{label}: {value:g} è fuori scala (al massimo {maximum:g})", field=name))
        return None
    return value


def _choice(
    form: Mapping[str, str], name: str, label: str, options: Mapping[str, Any], problems: list[Problem], default: str
) -> str:
    value = (form.get(name) or "").strip() or default
    if value not in options:
        problems.append(Problem(f"{label}: scelta non valida «{value}»", field=name))
        return default
    return value


def parse_answers(form: Mapping[str, str]) -> Answers:
    """Check the questionnaire's fields (strings, as a form posts them) and build :class:`Answers`.

    Numbers may use the Italian format (``1.234,5``).

    Raises
    ------
    InputError
        Every problem found, each naming its field, in Italian.
    """
    problems: list[Problem] = []
    subject = (form.get("subject") or "").strip()
    if subject not in SUBJECTS:
        problems.append(Problem("chi sei: scegli una delle voci", field="subject"))
    region_raw = (form.get("region") or "").strip()
    region = canonical_region(region_raw) if region_raw else None
    if region is None:
        problems.append(Problem(f"regione: «{region_raw}» non è una regione italiana", field="region"))
    cabina = (form.get("cabina") or "").strip().upper() or None
    if cabina is not None and not (4 <= len(cabina) <= 32 and cabina.isalnum()):
        problems.append(Problem("cabina primaria: codice non valido (ad esempio AC001E00123)", field="cabina"))
    tenure = _choice(form, "tenure", "proprietario o inquilino", TENURES, problems, "owner")
    building = _choice(form, "building", "tipo di edificio", BUILDINGS, problems, "house")
    roof_raw = (form.get("roof") or "no").strip()
    if roof_raw not in ("yes", "no", "True", "False"):
        problems.append(Problem("tetto o terreno disponibile: rispondi sì o no", field="roof"))
    roof = roof_raw in ("yes", "True")
    area = _number(form, "roof_area_m2", "superficie disponibile (m²)", problems, maximum=100_000) or 0.0
    if roof and area <= 0:
        problems.append(
            Problem("superficie disponibile (m²): indica i metri quadri del tetto o del terreno", field="roof_area_m2")
        )
    orientation = _choice(form, "orientation", "orientamento", ORIENTATIONS, problems, "sud")
    assembly = _choice(form, "assembly", "accordo dell'assemblea condominiale", ASSEMBLY, problems, "unknown")
    kwh = _number(form, "yearly_kwh", "consumo annuo (kWh)", problems, maximum=10_000_000)
    bill = _number(form, "yearly_bill_eur", "spesa annua in bolletta (€)", problems, maximum=5_000_000)
    if not kwh and not bill and not any(p.field in ("yearly_kwh", "yearly_bill_eur") for p in problems):
        problems.append(
            Problem(
                "consumi: indica il consumo annuo in kWh oppure la spesa annua in bolletta in €", field="yearly_kwh"
            )
        )
    budget = _number(form, "budget_eur", "budget da investire (€)", problems, maximum=10_000_000) or 0.0
    goal = _choice(form, "goal", "cosa vuoi fare", GOALS, problems, "both")
    small = _choice(
        form, "small_municipality", "comune sotto i 50.000 abitanti", SMALL_MUNICIPALITY, problems, "unknown"
    )
    if problems:
        raise InputError(problems)
    assert region is not None
    return Answers(
        subject=subject,
        region=region,
        cabina=cabina,
        tenure=tenure,
        building=building,
        roof=roof,
        roof_area_m2=area if roof else 0.0,
        orientation=orientation,
        assembly=assembly,
        yearly_kwh=kwh or None,
        yearly_bill_eur=None if kwh else bill,
        budget_eur=budget,
        goal=goal,
        small_municipality=small,
    )


# --------------------------------------------------------------------------------------------------------------------
# Decision


@dataclass(frozen=True)
class NearbyCommunity:
    """A configuration known in the municipality, as the desk needs it.

    Parameters
    ----------
    id : int
    name : str
    configuration : str
        ``CER``, ``AUC`` or ``AID``.
    status : str
        ``active`` (plants in operation) or ``forming``.
    zone : str
        Market zone of the community (NORD, CNOR...).
    cabine : frozenset of str
        Codes of the cabine primarie of its members' points.
    pv_kw : float
        Power of its PV plants [kW].
    """

    id: int
    name: str
    configuration: str
    status: str
    zone: str
    cabine: frozenset[str] = frozenset()
    pv_kw: float = 0.0


@dataclass(frozen=True)
class Facts:
    """What the rules look at, derived from the answers and the nearby communities."""

    answers: Answers
    zone: str
    in_condo: bool
    own_roof: bool
    budget_ok: bool
    produce: bool
    consume: bool
    exempt: bool
    covering: tuple[NearbyCommunity, ...]
    same_zone: tuple[NearbyCommunity, ...]
    other_zone: tuple[NearbyCommunity, ...]

    @property
    def subject(self) -> str:
        return self.answers.subject

    @property
    def cabina_known(self) -> bool:
        return self.answers.cabina is not None

    @property
    def maybe_covering(self) -> bool:
        """A CER of the same zone is known and the point's cabina is not: it may cover it."""
        return not self.cabina_known and bool(self.same_zone)

    @property
    def plant_possible(self) -> bool:
        return self.own_roof and self.budget_ok


def facts_of(answers: Answers, nearby: Sequence[NearbyCommunity], capex_eur_per_kwp: float = 1500.0) -> Facts:
    """The facts of :class:`Facts` (zone, roof, budget, communities covering the point...)."""
    zone = zone_of_region(answers.region)
    cers = [c for c in nearby if c.configuration == "CER"]
    same = tuple(c for c in cers if c.zone == zone)
    covering = tuple(c for c in same if answers.cabina is not None and answers.cabina in c.cabine)
    exempt_kinds = load_rulebook().exempt_member_kinds
    kind = {"public_body": "municipality", "condo_admin": "household"}.get(answers.subject, answers.subject)
    in_condo = answers.building == "flat" or answers.subject == "condo_admin"
    return Facts(
        answers=answers,
        zone=zone,
        in_condo=in_condo,
        own_roof=answers.roof and answers.roof_area_m2 > 0 and not in_condo,
        budget_ok=answers.budget_eur >= MIN_KWP * capex_eur_per_kwp,
        produce=answers.goal in ("produce", "both"),
        consume=answers.goal in ("consume", "both"),
        exempt=kind in exempt_kinds,
        covering=covering,
        same_zone=same,
        other_zone=tuple(c for c in cers if c.zone != zone),
    )


EXCLUDE = None
"""Score of a rule that rules its form out."""

D199_30 = "D.Lgs. 199/2021, art. 30"
D199_31 = "D.Lgs. 199/2021, art. 31"
TIAD = "TIAD, delibera ARERA 727/2022"
DM414 = "DM 414/2023 come modificato dal DM 127/2025"
GSE = "GSE, Regole operative CACER"


@dataclass(frozen=True)
class Rule:
    """One line of the decision table.

    Parameters
    ----------
    code : str
        Short name, shown to advisers.
    form : str or None
        Form the rule scores (a key of :data:`FORM_LABELS`); None for a general note about the subject.
    when : callable
        Condition on :class:`Facts`.
    score : int or None
        Points added to the form; :data:`EXCLUDE` (None) rules the form out.
    reason : str
        Italian sentence for the citizen (constant, so that it can be translated).
    source : str
        The rule it rests on.
    caveat : bool
        A warning rather than a reason.
    """

    code: str
    form: str | None
    when: Callable[[Facts], bool]
    score: int | None
    reason: str
    source: str
    caveat: bool = False


# fmt: off
RULES: tuple[Rule, ...] = (
    # --- individual self-consumption -------------------------------------------------------------------------------
    Rule("IND_TETTO", "individual", lambda f: f.plant_possible and f.produce, 5,
         "Hai un tetto o un terreno tuo e un budget: un impianto sul tuo tetto, dietro il tuo contatore, riduce "
         "subito la bolletta (autoconsumo individuale).", f"{D199_30}, c. 1, lett. a"),
    Rule("IND_DIURNO", "individual",
         lambda f: f.plant_possible and f.produce and f.subject not in ("household", "energy_company"), 1,
         "Imprese ed enti consumano soprattutto di giorno: l'autoconsumo diretto copre una parte alta dei consumi.",
         f"{D199_30}, c. 1, lett. a"),
    Rule("IND_NO_TETTO", "individual", lambda f: not f.own_roof, EXCLUDE,
         "Senza un tetto o un terreno tuo non puoi installare un impianto individuale.", f"{D199_30}, c. 1, lett. a"),
    Rule("IND_NO_BUDGET", "individual", lambda f: f.own_roof and not f.budget_ok, EXCLUDE,
         "Senza budget da investire l'impianto individuale non è alla tua portata: il tuo tetto può però ospitare "
         "l'impianto di una comunità energetica o di un produttore terzo.", f"{D199_31}; {GSE}"),
    Rule("IND_SOLO_CONSUMO", "individual", lambda f: not f.produce, EXCLUDE,
         "Vuoi solo consumare energia condivisa: l'autoconsumo individuale richiede un impianto tuo.", D199_30),
    # --- collective self-consumption in the building ---------------------------------------------------------------
    Rule("AUC_NON_CONDOMINIO", "auc", lambda f: not f.in_condo, EXCLUDE,
         "L'autoconsumo collettivo riguarda più clienti nello stesso edificio o condominio.",
         f"{D199_30}, c. 2; {TIAD}"),
    Rule("AUC_ASSEMBLEA_SI", "auc", lambda f: f.in_condo and f.answers.assembly == "yes", 6,
         "L'assemblea condominiale è d'accordo: un impianto sul tetto comune può servire le utenze del condominio "
         "in autoconsumo collettivo, anche quelle degli inquilini.", f"{D199_30}, c. 2; {TIAD}"),
    Rule("AUC_ASSEMBLEA_NON_CHIESTA", "auc", lambda f: f.in_condo and f.answers.assembly == "unknown", 2,
         "Nel condominio la via più semplice è l'autoconsumo collettivo, se l'assemblea approva l'impianto sul tetto "
         "comune.", f"{D199_30}, c. 2; {TIAD}"),
    Rule("AUC_ASSEMBLEA_NO", "auc", lambda f: f.in_condo and f.answers.assembly == "no", EXCLUDE,
         "Senza l'accordo dell'assemblea condominiale non si può realizzare un impianto condiviso sul tetto comune.",
         f"{D199_30}, c. 2; {TIAD}"),
    # --- join an existing CER --------------------------------------------------------------------------------------
    Rule("CER_COPRE", "cer_join", lambda f: bool(f.covering), 3,
         "Una comunità energetica esistente copre la tua cabina primaria: l'energia condivisa con i tuoi consumi "
         "sarebbe incentivata.", f"{D199_31}; {DM414}, art. 3; {GSE}"),
    Rule("CER_FORSE", "cer_join", lambda f: f.maybe_covering, 2,
         "Nel comune c'è una comunità energetica della tua zona di mercato: verifica sulla mappa delle cabine "
         "primarie del GSE che copra anche il tuo punto di prelievo.", f"{D199_31}; {GSE}"),
    Rule("CER_ALTRA_CABINA", "cer_join", lambda f: f.cabina_known and not f.covering and bool(f.same_zone), 0,
         "Puoi aderire a una comunità della tua zona di mercato anche da un'altra cabina primaria, ma solo l'energia "
         "condivisa nella stessa cabina primaria riceve la tariffa premio.", f"{DM414}, art. 3; {TIAD}"),
    Rule("CER_ALTRA_ZONA", "cer_join", lambda f: bool(f.other_zone) and not f.same_zone, EXCLUDE,
         "Le comunità energetiche note nel comune sono in un'altra zona di mercato dell'energia: i membri di una CER "
         "devono trovarsi nella stessa zona di mercato, quindi non puoi aderirvi.", f"{TIAD}; {GSE}"),
    Rule("CER_NESSUNA", "cer_join", lambda f: not f.same_zone and not f.other_zone, EXCLUDE,
         "Nel registro del comune non risulta ancora una comunità energetica a cui aderire.", D199_31),
    Rule("CER_CONSUMATORE", "cer_join",
         lambda f: f.consume and not f.plant_possible and (bool(f.covering) or f.maybe_covering), 2,
         "Senza un impianto tuo puoi aderire come consumatore: non investi nulla e la comunità riceve la tariffa "
         "premio sull'energia condivisa con i tuoi consumi, da ripartire secondo il suo regolamento.",
         f"{D199_31}; {DM414}, Allegato 1"),
    Rule("CER_NO_ASSEMBLEA", "cer_join",
         lambda f: f.in_condo and f.answers.assembly == "no" and (bool(f.covering) or f.maybe_covering), 1,
         "Anche senza l'accordo del condominio puoi aderire a una comunità energetica con il tuo contatore, come "
         "consumatore.", D199_31),
    Rule("CER_ECCEDENZA", "cer_join", lambda f: f.plant_possible and (bool(f.covering) or f.maybe_covering), 1,
         "L'energia del tuo impianto che non consumi subito può essere condivisa nella comunità: sull'eccedenza "
         "condivisa la comunità riceve la tariffa premio e la valorizzazione ARERA.", f"{DM414}, Allegato 1; {TIAD}"),
    # --- promote a new CER -----------------------------------------------------------------------------------------
    Rule("NUOVA_NESSUNA_CER", "cer_new", lambda f: not f.covering and not f.maybe_covering, 2,
         "Nessuna comunità nota copre la tua cabina primaria: puoi promuoverne una nuova con vicini, imprese ed enti "
         "della stessa cabina.", f"{D199_31}; {DM414}"),
    Rule("NUOVA_ENTE_PUBBLICO", "cer_new", lambda f: f.subject == "public_body", 4,
         "Un comune o un ente pubblico può essere socio di una comunità energetica, promuoverla e ospitare gli "
         "impianti sui propri edifici.", f"{D199_31}, c. 1, lett. b; {GSE}"),
    Rule("NUOVA_TERZO_SETTORE", "cer_new", lambda f: f.subject in ("third_sector", "religious"), 1,
         "Enti del terzo settore ed enti religiosi possono essere soci e promotori di una comunità energetica e "
         "metterne a disposizione i tetti.", f"{D199_31}, c. 1, lett. b; {GSE}"),
    Rule("NUOVA_TETTO_OSPITE", "cer_new", lambda f: f.own_roof and not f.budget_ok, 1,
         "Il tuo tetto può ospitare un impianto finanziato da altri soci o da un produttore terzo e messo a "
         "disposizione della comunità.", GSE),
    Rule("NUOVA_PRODUTTORE", "cer_new", lambda f: f.plant_possible and not f.covering and not f.maybe_covering, 1,
         "L'eccedenza del tuo impianto può essere condivisa in una nuova comunità della tua cabina primaria.",
         f"{DM414}, Allegato 1"),
    # --- energy companies: producers or ESCo, never members in control ----------------------------------------------
    Rule("ENERGIA_PRODUTTORE_TERZO", "cer_join",
         lambda f: f.subject == "energy_company" and f.plant_possible and (bool(f.covering) or f.maybe_covering), 3,
         "Come impresa dell'energia puoi realizzare e gestire un impianto messo a disposizione della comunità "
         "(produttore terzo), senza esserne socio.", f"{D199_31}, c. 2, lett. b; {GSE}"),
    Rule("ENERGIA_NON_SOCIO", "cer_join", lambda f: f.subject == "energy_company" and not f.plant_possible, EXCLUDE,
         "Un'impresa dell'energia non può aderire a una comunità come socio consumatore: può partecipare solo "
         "mettendo a disposizione un impianto o servizi.", f"{D199_31}, c. 1, lett. b; {GSE}"),
    Rule("ENERGIA_ESCO", "cer_new", lambda f: f.subject == "energy_company", 1,
         "Come impresa dell'energia puoi proporti a una nuova comunità come produttore terzo o come ESCo che "
         "progetta, finanzia e gestisce gli impianti.", f"{D199_31}; {GSE}"),
    # --- general notes on the subject ------------------------------------------------------------------------------
    Rule("NOTA_IMPRESA_ENERGIA", None, lambda f: f.subject == "energy_company", 0,
         "Un'impresa la cui attività commerciale o industriale principale è la produzione o la vendita di energia "
         "non può essere socio di una CER né controllarla; può essere produttore terzo (titolare di un impianto "
         "nella disponibilità della comunità) o ESCo.", f"{D199_31}, c. 1, lett. b; {GSE}"),
    Rule("NOTA_ENTE_ESENTE", None, lambda f: f.subject in ("public_body", "third_sector", "religious"), 0,
         "Per un ente territoriale, religioso o del terzo settore la riduzione della tariffa premio dovuta ai "
         "contributi in conto capitale (fattore F) non si applica all'energia condivisa dai suoi punti di prelievo: "
         "l'ente ne è esente.", f"{DM414}, Allegato 1, punto 3; {GSE}, par. 2.2.2.1.2"),
    Rule("NOTA_PERSONA_ESENTE", None, lambda f: f.subject in ("household", "condo_admin") and f.produce, 0,
         "Per le persone fisiche la riduzione della tariffa premio dovuta a un contributo in conto capitale "
         "(fattore F) non si applica all'energia condivisa dai loro punti di prelievo.",
         f"{DM414}, Allegato 1, punto 3; {GSE}, par. 2.2.2.1.2"),
    Rule("NOTA_PMI", None, lambda f: f.subject == "business", 0,
         "Una PMI può essere socia di una CER purché la partecipazione non sia la sua attività commerciale o "
         "industriale principale; la quota della tariffa premio oltre la soglia (quota eccedentaria) va ai soli "
         "consumatori diversi dalle imprese o a fini sociali.", f"{D199_31}, c. 1, lett. b; {DM414}, art. 3"),
    Rule("NOTA_INQUILINO", None, lambda f: f.answers.tenure == "tenant" and f.produce and f.own_roof, 0,
         "Da inquilino, per installare un impianto sul tetto serve il consenso scritto del proprietario.",
         D199_30, caveat=True),
    Rule("NOTA_NORD", None, lambda f: f.answers.orientation == "nord" and f.answers.roof, 0,
         "Un tetto esposto a nord produce molto meno: valuta con un tecnico se conviene.", GSE, caveat=True),
    Rule("NOTA_1MW", None, lambda f: f.answers.roof_area_m2 / M2_PER_KWP > 1000, 0,
         "Ogni impianto incentivato può avere al massimo 1 MW: una superficie così grande va divisa in più "
         "impianti.", f"{DM414}, art. 3", caveat=True),
    Rule("NOTA_AUC_ASSEMBLEA", None, lambda f: f.in_condo and f.answers.assembly == "unknown", 0,
         "Prima di tutto serve una delibera dell'assemblea condominiale sull'impianto comune.", D199_30,
         caveat=True),
)
# fmt: on
"""The decision table, read top to bottom; every matching rule contributes."""

ROLES: Mapping[str, str] = {
    "self_consumer": "autoconsumatore con impianto proprio",
    "auc_member": "cliente del gruppo di autoconsumo collettivo",
    "prosumer": "socio produttore e consumatore",
    "consumer": "socio consumatore",
    "producer": "socio produttore",
    "promoter": "promotore e socio fondatore",
    "third_party": "produttore terzo o ESCo (non socio)",
}


@dataclass(frozen=True)
class Reason:
    """A sentence for the citizen and the rule it rests on."""

    code: str
    text: str
    source: str


@dataclass(frozen=True)
class Option:
    """One form, with its score, the role the answerer would take and the reasons.

    ``community`` is the community to join (``cer_join``) when one is known.
    """

    form: str
    score: int
    excluded: bool
    role: str
    reasons: tuple[Reason, ...]
    community: NearbyCommunity | None = None

    @property
    def label(self) -> str:
        return FORM_LABELS[self.form]


@dataclass(frozen=True)
class Orientation:
    """The desk's answer: the recommended form, the alternatives ranked, excluded forms with their reason, general
    notes and caveats."""

    recommended: Option
    alternatives: tuple[Option, ...]
    excluded: tuple[Option, ...]
    notes: tuple[Reason, ...]
    caveats: tuple[Reason, ...]
    zone: str

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Reasons of the recommended form, then the general notes."""
        return self.recommended.reasons + self.notes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (stored with a ticket)."""

        def option(o: Option) -> dict[str, Any]:
            return {
                "form": o.form,
                "label": o.label,
                "score": o.score,
                "role": o.role,
                "community": o.community.name if o.community else None,
                "reasons": [asdict(r) for r in o.reasons],
            }

        return {
            "recommended": option(self.recommended),
            "alternatives": [option(o) for o in self.alternatives],
            "excluded": [option(o) for o in self.excluded],
            "notes": [asdict(r) for r in self.notes],
            "caveats": [asdict(r) for r in self.caveats],
            "zone": self.zone,
        }


def _role(form: str, f: Facts) -> str:
    if f.subject == "energy_company" and form in ("cer_join", "cer_new"):
        return "third_party"
    if form == "individual":
        return "self_consumer"
    if form == "auc":
        return "auc_member"
    if form == "cer_new":
        return "promoter"
    if f.plant_possible and f.produce:
        return "prosumer" if f.consume else "producer"
    return "consumer"


def _pnrr_caveat(f: Facts, form: str) -> Reason | None:
    grants = load_grant_rules()
    if form not in ("auc", "cer_join", "cer_new") or f.answers.small_municipality == "no":
        return None
    if not (f.produce or f.subject == "public_body"):
        return None
    when = "" if f.answers.small_municipality == "yes" else "Se il comune ha meno di 50.000 abitanti, "
    text = (
        f"{when}gli impianti di CER e AUC potevano ottenere il contributo PNRR fino al "
        f"{grants.max_share * 100:.0f}% dei costi ammissibili; le domande si sono chiuse il "
        f"{grants.applications_close:%d/%m/%Y} e i progetti ammissibili non finanziati restano in lista d'attesa; "
        "il contributo riduce la tariffa premio (fattore F), salvo per l'energia dei soggetti esenti."
    )
    return Reason("PNRR", text[0].upper() + text[1:], f"{DM414}, contributo PNRR M2C2 Inv. 1.2")


def decide(answers: Answers, nearby: Sequence[NearbyCommunity], *, capex_eur_per_kwp: float = 1500.0) -> Orientation:
    """Recommend a form of self-consumption for the answers.

    Parameters
    ----------
    answers : Answers
        The questionnaire.
    nearby : sequence of NearbyCommunity
        Configurations known in the municipality (stored communities with their cabine and market zone).
    capex_eur_per_kwp : float
        Cost of 1 kWp [€/kWp]: a budget below it counts as no budget for a plant.

    Returns
    -------
    Orientation
        The recommended form (highest score among forms not excluded; ties go to the earlier form of
        :data:`FORMS`), alternatives ranked, excluded forms, notes and caveats.
    """
    f = facts_of(answers, nearby, capex_eur_per_kwp)
    scores = {form: 0 for form in FORMS}
    excluded: dict[str, list[Reason]] = {form: [] for form in FORMS}
    reasons: dict[str, list[Reason]] = {form: [] for form in FORMS}
    notes: list[Reason] = []
    caveats: list[Reason] = []
    for rule in RULES:
        if not rule.when(f):
            continue
        reason = Reason(rule.code, rule.reason, rule.source)
        if rule.form is None:
            (caveats if rule.caveat else notes).append(reason)
        elif rule.score is EXCLUDE:
            excluded[rule.form].append(reason)
        else:
            scores[rule.form] += rule.score
            reasons[rule.form].append(reason)
    known = f.covering or f.same_zone
    community = known[0] if known else None
    options = [
        Option(
            form=form,
            score=scores[form],
            excluded=bool(excluded[form]),
            role=_role(form, f),
            reasons=tuple(excluded[form] or reasons[form]),
            community=community if form == "cer_join" else None,
        )
        for form in FORMS
    ]
    open_ = sorted((o for o in options if not o.excluded), key=lambda o: (-o.score, FORMS.index(o.form)))
    if not open_:  # cannot happen (cer_new is never excluded), kept for safety
        raise ValueError("nessuna forma possibile per le risposte date")
    best = open_[0]
    pnrr = _pnrr_caveat(f, best.form)
    if pnrr is not None:
        caveats.append(pnrr)
    if best.form == "cer_join" and not f.covering:
        caveats.append(
            Reason(
                "CABINA",
                "Chiedi al tuo distributore o verifica sulla mappa del GSE la cabina primaria del tuo punto di "
                "prelievo (codice POD in bolletta): solo l'energia condivisa nella stessa cabina è incentivata.",
                GSE,
            )
        )
    return Orientation(
        recommended=best,
        alternatives=tuple(open_[1:]),
        excluded=tuple(o for o in options if o.excluded),
        notes=tuple(notes),
        caveats=tuple(caveats),
        zone=f.zone,
    )


# --------------------------------------------------------------------------------------------------------------------
# Estimate


@dataclass(frozen=True)
class EstimateParameters:
    """Assumptions of the first estimate (all shown to the citizen).

    Parameters
    ----------
    year : int
        Calendar year simulated (rulebook figures of that year).
    energy_price_eur_kwh : float
        All-in price of electricity bought [€/kWh]: converts a bill to kWh and values self-consumption.
    price_low_eur_kwh, price_high_eur_kwh : float
        Range of that price for the savings [€/kWh].
    capex_eur_per_kwp : float
        Turnkey cost of PV [€/kWp]: the budget limits the power.
    community_demand_kwh : float
        Yearly consumption of the other members of the CER that can absorb a surplus [kWh] (H25 shape).
    building_demand_kwh : float
        Yearly consumption of the other units of the building in an AUC [kWh].
    community_pv_kw : float
        PV power of the community a consumer joins, when the register does not know it [kW].
    losses_percent : float
        PV system losses [%].
    """

    year: int = 2025
    energy_price_eur_kwh: float = 0.25
    price_low_eur_kwh: float = 0.20
    price_high_eur_kwh: float = 0.32
    capex_eur_per_kwp: float = 1500.0
    community_demand_kwh: float = 100_000.0
    building_demand_kwh: float = 20_000.0
    community_pv_kw: float = 60.0
    losses_percent: float = 14.0


@dataclass(frozen=True)
class Estimate:
    """First estimate of a year [kWh, kWp, €]; ``*_low``/``*_high`` give the range.

    Attributes
    ----------
    form : str
        The form estimated.
    consumption_kwh : float
        Yearly consumption used [kWh] (given, or from the bill at the assumed price).
    kwp : float
        PV power of the citizen's own plant (individual, or the one offered to the CER) [kWp].
    community_kw : float
        PV power of the plant the citizen shares with when not its own: the building's (AUC) or the community's
        (consumer in a CER) [kW]; 0 otherwise.
    production_kwh, specific_yield_kwh_kwp : float
        Yearly PV production [kWh] and per kWp [kWh/kWp].
    self_consumed_kwh : float
        Production consumed on the spot behind the citizen's meter [kWh].
    surplus_kwh : float
        Production not consumed on the spot [kWh].
    shared_kwh, shared_low_kwh, shared_high_kwh : float
        Energy shared (hourly minimum of injection and withdrawal in the configuration) that involves the
        citizen: the surplus of the own plant taken by the community, or the own consumption covered by the
        community's or building's plants [kWh].
    savings_eur, savings_low_eur, savings_high_eur : float
        Bill savings on self-consumed energy [€/year].
    tip_eur, valorisation_eur : float
        Tariffa premio and ARERA valorisation (with avoided losses for an AUC) on the shared energy [€/year], paid
        to the configuration and shared by its regulation.
    sale_eur : float
        Energy injected and sold at the zonal price (ritiro dedicato) [€/year].
    total_eur, total_low_eur, total_high_eur : float
        Sum of the above [€/year].
    investment_eur : float
        Cost of the plant at the assumed €/kWp [€].
    assumptions : tuple of str
        Italian sentences listing every assumption.
    """

    form: str
    consumption_kwh: float
    kwp: float
    community_kw: float
    production_kwh: float
    specific_yield_kwh_kwp: float
    self_consumed_kwh: float
    surplus_kwh: float
    shared_kwh: float
    shared_low_kwh: float
    shared_high_kwh: float
    savings_eur: float
    savings_low_eur: float
    savings_high_eur: float
    tip_eur: float
    valorisation_eur: float
    sale_eur: float
    total_eur: float
    total_low_eur: float
    total_high_eur: float
    investment_eur: float
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored with a ticket)."""
        out = asdict(self)
        out["assumptions"] = list(self.assumptions)
        return out


def _it(x: float, digits: int = 0) -> str:
    """A number in Italian format for the assumption sentences (``1.234,5``)."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def consumption_kwh(answers: Answers, price_eur_kwh: float) -> float:
    """Yearly consumption [kWh]: as given, else the bill [€] divided by the all-in price [€/kWh]."""
    if answers.yearly_kwh:
        return float(answers.yearly_kwh)
    if answers.yearly_bill_eur:
        return float(answers.yearly_bill_eur) / price_eur_kwh
    return 0.0


def plant_kwp(answers: Answers, budget_eur: float, capex_eur_per_kwp: float) -> float:
    """PV power that fits the area and the budget, capped at 1 MW [kWp]; 0 below :data:`MIN_KWP`."""
    if not answers.roof or answers.roof_area_m2 <= 0:
        return 0.0
    per_kwp = M2_PER_KWP_FLAT if answers.orientation == "piano" else M2_PER_KWP
    kwp = min(answers.roof_area_m2 / per_kwp, budget_eur / capex_eur_per_kwp, 1000.0)
    return round(kwp, 1) if kwp >= MIN_KWP else 0.0


def pv_unit_kwh(orientation: str, weather: WeatherYear, hours: pd.DatetimeIndex, losses_percent: float) -> FloatArray:
    """Hourly production of 1 kWp with the roof's orientation on the weather year laid on ``hours`` [kWh/kWp]."""
    on_hours = lay_on_hours(weather, hours)
    if orientation == "est-ovest":
        tilt = ORIENTATIONS["est-ovest"][0]
        east = pv_hourly_kwh(PVArray(0.5, tilt, 90.0, losses_percent), on_hours).to_numpy(dtype=float)
        west = pv_hourly_kwh(PVArray(0.5, tilt, 270.0, losses_percent), on_hours).to_numpy(dtype=float)
        return np.asarray(east + west, dtype=np.float64)
    tilt, azimuth = ORIENTATIONS[orientation]
    return np.asarray(pv_hourly_kwh(PVArray(1.0, tilt, azimuth, losses_percent), on_hours).to_numpy(dtype=float))


def _load(kind: str, kwh: float, year: int, hours: pd.DatetimeIndex) -> FloatArray:
    if kwh <= 0:
        return np.zeros(len(hours))
    series = profile_from_bill(Bill(year, yearly={"total": kwh}), kind, hours)
    return np.asarray(series.to_numpy(dtype=float), dtype=np.float64)


@dataclass(frozen=True)
class _Shared:
    shared: float
    tip: float
    valorisation: float


def _share(
    citizen_w: FloatArray,
    others_w: FloatArray,
    plant_inj: FloatArray,
    plant_kw: float,
    *,
    region: str,
    price: FloatArray,
    cu_af: FloatArray,
    auc_loss: float | None,
    citizen_side: str,
) -> _Shared:
    """Run the settlement core on one cabina: points (citizen, others), one plant; the citizen's shared energy.

    ``citizen_side`` is ``"plant"`` (the citizen owns the plant: all incentivised energy is the plant's) or
    ``"point"`` (the citizen is one consumer: its pro-rata share of the incentivised energy).
    """
    rb = load_rulebook()
    withdrawn = np.vstack([citizen_w, others_w])
    injected = plant_inj[None, :]
    layout = Layout(
        point_group=np.array([0, 1], dtype=np.intp),
        group_cabina=np.array([0, 0], dtype=np.intp),
        plant_cabina=np.array([0], dtype=np.intp),
        n_cabine=1,
    )
    energy = share_energy(withdrawn, injected, layout)
    power = min(max(plant_kw, 1e-3), rb.max_plant_power_kw)
    fc = geographic_correction("pv", region, rb)
    tariff = tip_eur_mwh(power_class(power, rb).max_power_kw, price, fc_eur_mwh=fc, rulebook=rb)[None, :]
    money = value_energy(
        energy,
        layout,
        tariff,
        np.array([0], dtype=np.intp),
        np.zeros(1),
        np.ones(1),
        cu_af,
        group_loss_coefficient=None if auc_loss is None else np.array([auc_loss, auc_loss]),
        price_eur_mwh=None if auc_loss is None else price,
    )
    total = float(energy.incentivised.sum())
    part = total if citizen_side == "plant" else float(energy.point_shared_withdrawal[0])
    fraction = part / total if total > 0 else 0.0
    return _Shared(
        shared=part,
        tip=float(money.tip.sum()) * fraction,
        valorisation=float(money.valorisation.sum() + money.avoided_losses.sum()) * fraction,
    )


def estimate(
    answers: Answers,
    form: str,
    weather: WeatherYear,
    *,
    params: EstimateParameters | None = None,
    community_pv_kw: float | None = None,
) -> Estimate:
    """First estimate of energy and money over a year for ``form``.

    Parameters
    ----------
    answers : Answers
    form : str
        One of :data:`FORMS` (usually the recommended one).
    weather : WeatherYear
        Typical year of the site (the caller picks it: PVGIS, or the bundled year near Turin).
    params : EstimateParameters, optional
        Assumptions; defaults as documented there.
    community_pv_kw : float, optional
        PV power of the community to join [kW], when known.

    Returns
    -------
    Estimate

    Notes
    -----
    - Consumption: the BDEW 2025 profile of the subject (H25 households, G25 the others) scaled to the yearly kWh.
    - Own plant (``individual``, and ``cer_join``/``cer_new`` when the answerer can build one): kWp from the area
      (:data:`M2_PER_KWP`, :data:`M2_PER_KWP_FLAT` on flat roofs) and the budget; self-consumption is the hourly
      minimum of production and consumption; the surplus is shared with the other members' demand
      (``community_demand_kwh``) for the CER forms, and the plant is the only one of the cabina (optimistic).
    - Consumer (no own plant): shared energy is the citizen's pro-rata share of the hourly minimum between the
      community's (or building's) PV and all members' consumption.
    - TIP with the power class of the plant, the PV correction of the region and no capital grant, on the
      rulebook's monthly prices; valorisation CU_Af of the year (and avoided losses in low voltage for an AUC).
    - Ranges: savings with the low and high electricity price; shared energy with half and double the other
      members' demand.
    """
    p = params or EstimateParameters()
    if form not in FORMS:
        raise ValueError(f"forma sconosciuta {form!r}; attese {', '.join(FORMS)}")
    rb = load_rulebook()
    year_params, _exact = rb.year(p.year)
    hours = Period(pd.Timestamp(p.year, 1, 1).date(), pd.Timestamp(p.year, 12, 31).date()).hours()
    local = hours.tz_convert(LOCAL_TZ)
    price = np.asarray(year_params.monthly_price_eur_mwh, dtype=np.float64)[local.month.to_numpy() - 1]
    cu_af = np.full(len(hours), year_params.cu_af_eur_mwh)
    kind = "household" if answers.subject in ("household", "condo_admin") else "business"
    kwh = consumption_kwh(answers, p.energy_price_eur_kwh)
    load = _load(kind, kwh, p.year, hours)
    unit = pv_unit_kwh(answers.orientation, weather, hours, p.losses_percent)
    unit_default = unit if answers.roof else pv_unit_kwh("sud", weather, hours, p.losses_percent)

    assumptions = [
        f"Consumo annuo {_it(kwh)} kWh"
        + (" (dalla spesa in bolletta al prezzo ipotizzato)" if not answers.yearly_kwh else "")
        + f", distribuito sulle ore con il profilo standard BDEW {'H25' if kind == 'household' else 'G25'}.",
        f"Prezzo dell'energia acquistata {_it(p.energy_price_eur_kwh, 2)} €/kWh (intervallo "
        f"{_it(p.price_low_eur_kwh, 2)}–{_it(p.price_high_eur_kwh, 2)} €/kWh).",
        f"Produzione fotovoltaica con pvlib sull'anno tipico {weather.source}; perdite di sistema "
        f"{_it(p.losses_percent)}%.",
        f"Superficie per kWp: {_it(M2_PER_KWP)} m² su tetto a falda, {_it(M2_PER_KWP_FLAT)} m² su tetto piano o "
        f"terreno; costo chiavi in mano {_it(p.capex_eur_per_kwp)} €/kWp.",
        f"Tariffa premio e valorizzazione ARERA con il regolamento {year_params.year} (prezzi mensili "
        f"{year_params.monthly_price_series}, CU_Af {_it(year_params.cu_af_eur_mwh, 2)} €/MWh), senza contributo "
        "in conto capitale.",
    ]

    kwp = 0.0
    own_plant = form == "individual" or (
        form in ("cer_join", "cer_new") and answers.roof and answers.goal in ("produce", "both")
    )
    if own_plant and answers.building != "flat" and answers.subject != "condo_admin":
        kwp = plant_kwp(answers, answers.budget_eur, p.capex_eur_per_kwp)
    production = unit * kwp
    self_h = np.minimum(load, production) if answers.goal != "produce" else np.zeros(len(hours))
    surplus = production - self_h
    residual = load - self_h

    sharing = not (form == "individual" or (kwp == 0 and form != "auc" and answers.goal == "produce"))
    if form == "auc":
        shared_kw = plant_kwp(answers, math.inf, p.capex_eur_per_kwp) or 20.0
    elif form != "individual" and kwp == 0:
        shared_kw = community_pv_kw if community_pv_kw else p.community_pv_kw
    else:
        shared_kw = 0.0

    share = functools.partial(_share, region=answers.region, price=price, cu_af=cu_af)

    def shared_with(scale: float) -> _Shared:
        if not sharing:
            return _Shared(0.0, 0.0, 0.0)
        if form == "auc":
            others = _load("household", p.building_demand_kwh * scale, p.year, hours)
            return share(
                residual,
                others,
                unit_default * shared_kw,
                shared_kw,
                auc_loss=year_params.auc_loss_lv,
                citizen_side="point",
            )
        others = _load("household", p.community_demand_kwh * scale, p.year, hours)
        if kwp > 0:
            return share(residual, others, surplus, kwp, auc_loss=None, citizen_side="plant")
        return share(residual, others, unit_default * shared_kw, shared_kw, auc_loss=None, citizen_side="point")

    central, low, high = shared_with(1.0), shared_with(0.5), shared_with(2.0)
    if form == "auc":
        assumptions.append(
            f"Autoconsumo collettivo: impianto condominiale dal tetto comune (o 20 kWp se non indicato), altre "
            f"utenze del condominio {_it(p.building_demand_kwh)} kWh/anno (intervallo: metà e doppio); perdite "
            "evitate in bassa tensione."
        )
    elif form != "individual":
        if kwp > 0:
            assumptions.append(
                f"L'eccedenza del tuo impianto è condivisa con gli altri soci, che consumano "
                f"{_it(p.community_demand_kwh)} kWh/anno (intervallo: metà e doppio), senza altri impianti nella "
                "cabina."
            )
        else:
            assumptions.append(
                f"Impianti della comunità {_it(shared_kw)} kW"
                + ("" if community_pv_kw else " (ipotesi: potenza non nota)")
                + f", altri soci {_it(p.community_demand_kwh)} kWh/anno (intervallo: metà e doppio); la tua "
                "energia condivisa è la tua quota, in proporzione ai consumi, dell'energia condivisa della "
                "cabina."
            )
        assumptions.append(
            "Tariffa premio e valorizzazione sono pagate alla comunità, che le ripartisce tra produttori e "
            "consumatori secondo il suo regolamento."
        )

    self_kwh = float(self_h.sum())
    surplus_kwh = float(surplus.sum())
    savings = self_kwh * p.energy_price_eur_kwh
    sale = float((surplus * price).sum()) / 1000.0
    money = central.tip + central.valorisation + sale
    incentives = [x.tip + x.valorisation for x in (low, central, high)]
    total_low = self_kwh * p.price_low_eur_kwh + min(incentives) + sale
    total_high = self_kwh * p.price_high_eur_kwh + max(incentives) + sale
    shares = [x.shared for x in (low, central, high)]
    production_kwh = float(production.sum())
    return Estimate(
        form=form,
        consumption_kwh=kwh,
        kwp=kwp,
        community_kw=shared_kw if sharing else 0.0,
        production_kwh=production_kwh,
        specific_yield_kwh_kwp=production_kwh / kwp if kwp > 0 else float(unit.sum()),
        self_consumed_kwh=self_kwh,
        surplus_kwh=surplus_kwh,
        shared_kwh=central.shared,
        shared_low_kwh=min(shares),
        shared_high_kwh=max(shares),
        savings_eur=savings,
        savings_low_eur=self_kwh * p.price_low_eur_kwh,
        savings_high_eur=self_kwh * p.price_high_eur_kwh,
        tip_eur=central.tip,
        valorisation_eur=central.valorisation,
        sale_eur=sale,
        total_eur=savings + money,
        total_low_eur=total_low,
        total_high_eur=total_high,
        investment_eur=kwp * p.capex_eur_per_kwp,
        assumptions=tuple(assumptions),
    )


__all__ = [
    "FORMS",
    "RULES",
    "Answers",
    "Estimate",
    "EstimateParameters",
    "NearbyCommunity",
    "Option",
    "Orientation",
    "Reason",
    "Rule",
    "decide",
    "estimate",
    "parse_answers",
]
