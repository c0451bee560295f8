"""The action plan of an inter-municipal energy team (PAES/PAESC): aggregation, progress, Covenant-style export.

Everything here is pure: actions come in as :class:`PlanAction`, results go out as dataclasses and plain rows.

Units: energy [MWh/year], emissions [t CO2/year], emission factors [t CO2/MWh], costs [€].

Emissions avoided
-----------------
An action avoids ``(savings + renewable production) × factor`` [t CO2/year]: the energy saved and the renewable
energy produced locally both replace energy that would otherwise be bought. The factor is the action's own when
given; otherwise :data:`DEFAULT_EMISSION_FACTOR` (0.25 t CO2/MWh, grid electricity). **That default is a
placeholder** to be replaced by the factors of the energy and emissions balance (:mod:`condivisa.balance.factors`,
the local electricity factor of the Covenant): an action whose factor is the default says so
(:attr:`ActionFigures.default_factor`) and pages mark it.

Progress against the target
---------------------------
The team's target is a reduction of ``target_pct`` % of the baseline emissions [t CO2/year] by the target year
(PAESC: −55 % by 2030). *Planned* counts every action that is not cancelled; *achieved* counts completed actions
only (an ongoing action has not delivered its savings yet).

Covenant export
---------------
:func:`covenant_rows` gives one row per action with the columns of the mitigation actions sheet of the MyCovenant
SECAP template (:data:`COVENANT_COLUMNS`). The mapping from our fields:

==============================================  =====================================================
MyCovenant column                               Condivisa field
==============================================  =====================================================
Action code / Action title                      ``code`` / ``title``
Sector                                          ``sector`` via :data:`COVENANT_SECTORS`
Action area                                     ``action_area`` (free text, MyCovenant's list suggested)
Implementing instrument                         ``instrument`` via :data:`INSTRUMENTS`
Origin of the action                            ``origin`` via :data:`ORIGINS`
Responsible body                                ``responsible_body``, else the action's ``owner``
Implementation timeframe: start / end           years of ``start`` / ``end``
Implementation status                           ``status`` via :data:`COVENANT_STATUS`
Implementation cost (EUR)                       ``cost_eur``
Estimated energy savings (MWh/a)                ``savings_mwh``
Estimated renewable energy production (MWh/a)   ``renewable_mwh``
Estimated CO2 reduction (t CO2/a)               :func:`emissions_avoided`
Local authority                                 the municipality, or "Joint action" for inter-municipal
==============================================  =====================================================

Numbers are written with a decimal point and no thousands separator, so the file reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_EMISSION_FACTOR = 0.25
"""Placeholder emission factor [t CO2/MWh] for grid electricity, used when an action gives none; to be replaced by
the balance module's factors (:mod:`condivisa.balance.factors`)."""

INTER_MUNICIPAL = "Intercomunale"
"""Label of an action of the whole union (no single municipality)."""

SECTORS: dict[str, str] = {
    "municipal_buildings": "Edifici, attrezzature/impianti comunali",
    "tertiary": "Edifici, attrezzature/impianti terziari",
    "residential": "Edifici residenziali",
    "public_lighting": "Illuminazione pubblica",
    "transport": "Trasporti",
    "local_electricity": "Produzione locale di elettricità",
    "local_heat": "Produzione locale di calore/freddo",
    "other": "Altro",
}
"""Sectors of the Covenant of Mayors' action plan, with their Italian labels, in the template's order."""

COVENANT_SECTORS: dict[str, str] = {
    "municipal_buildings": "Municipal buildings, equipment/facilities",
    "tertiary": "Tertiary (non municipal) buildings, equipment/facilities",
    "residential": "Residential buildings",
    "public_lighting": "Public lighting",
    "transport": "Transport",
    "local_electricity": "Local electricity production",
    "local_heat": "Local heat/cold production",
    "other": "Other",
}
"""Our sector codes as the MyCovenant template names them."""

STATUSES: dict[str, str] = {
    "planned": "Pianificata",
    "ongoing": "In corso",
    "completed": "Completata",
    "postponed": "Rinviata",
    "cancelled": "Annullata",
}
"""Statuses of an action, with their Italian labels."""

COVENANT_STATUS: dict[str, str] = {
    "planned": "Not started",
    "ongoing": "Ongoing",
    "completed": "Completed",
    "postponed": "Postponed",
    "cancelled": "Cancelled",
}

INSTRUMENTS: dict[str, str] = {
    "awareness": "Sensibilizzazione / formazione",
    "energy_management": "Gestione dell'energia",
    "certification": "Certificazione / etichettatura energetica",
    "supplier_obligations": "Obblighi dei fornitori di energia",
    "taxes": "Tasse sull'energia e le emissioni",
    "grants": "Contributi e incentivi",
    "third_party_financing": "Finanziamento tramite terzi, partenariato pubblico-privato",
    "procurement": "Appalti pubblici",
    "building_standards": "Norme per l'edilizia",
    "land_use": "Pianificazione territoriale",
    "not_applicable": "Non applicabile",
    "other": "Altro",
}
"""Implementing (policy) instruments of the MyCovenant template, Italian labels."""

COVENANT_INSTRUMENTS: dict[str, str] = {
    "awareness": "Awareness raising / training",
    "energy_management": "Energy management",
    "certification": "Energy certification / labelling",
    "supplier_obligations": "Energy suppliers obligations",
    "taxes": "Energy / carbon taxes",
    "grants": "Grants and subsidies",
    "third_party_financing": "Third-party financing. PPPs",
    "procurement": "Public procurement",
    "building_standards": "Building standards",
    "land_use": "Land use planning regulation",
    "not_applicable": "Not applicable",
    "other": "Other",
}

ORIGINS: dict[str, str] = {
    "local_authority": "Ente locale",
    "coordinator": "Coordinatore del Patto",
    "supporter": "Sostenitore del Patto",
    "other": "Altro (nazionale, regionale...)",
}
"""Origin of the action in the MyCovenant template, Italian labels."""

COVENANT_ORIGINS: dict[str, str] = {
    "local_authority": "Local authority",
    "coordinator": "Covenant Coordinator",
    "supporter": "Covenant Supporter",
    "other": "Other (national, regional...)",
}

ACTION_AREAS: tuple[str, ...] = (
    "Involucro edilizio",
    "Rinnovabili per riscaldamento e acqua calda",
    "Efficienza nel riscaldamento e acqua calda",
    "Illuminazione efficiente",
    "Apparecchi elettrici efficienti",
    "Azione integrata",
    "Tecnologie dell'informazione e della comunicazione",
    "Cambiamenti di comportamento",
    "Veicoli più puliti ed efficienti",
    "Veicoli elettrici e infrastruttura",
    "Trasporto pubblico",
    "Mobilità dolce",
    "Fotovoltaico",
    "Idroelettrico",
    "Eolico",
    "Biomassa",
    "Cogenerazione",
    "Teleriscaldamento",
    "Comunità energetica rinnovabile",
    "Altro",
)
"""Suggested action areas (MyCovenant's lists across sectors), shown as a datalist: the field stays free text."""

COVENANT_COLUMNS: tuple[str, ...] = (
    "Action code",
    "Action title",
    "Local authority",
    "Sector",
    "Action area",
    "Implementing instrument",
    "Origin of the action",
    "Responsible body",
    "Implementation timeframe: start",
    "Implementation timeframe: end",
    "Implementation status",
    "Implementation cost (EUR)",
    "Estimated energy savings (MWh/a)",
    "Estimated renewable energy production (MWh/a)",
    "Estimated CO2 reduction (t CO2/a)",
)
"""Columns of :func:`covenant_rows` (MyCovenant SECAP template, mitigation actions)."""


def _non_negative(value: float, name: str, code: str) -> float:
    if value != value or value < 0:  # NaN or negative
        raise ValueError(f"azione {code}: {name} deve essere un numero non negativo, non {value!r}")
    return float(value)


@dataclass(frozen=True)
class PlanAction:
    """One action of the plan, as aggregation reads it.

    Parameters
    ----------
    code, title : str
    sector : str
        A key of :data:`SECTORS`.
    status : str
        A key of :data:`STATUSES`.
    municipality : str or None
        Name of the municipality; None for an inter-municipal action.
    owner : str
        Who in the team follows the action.
    cost_eur : float
        Cost [€].
    savings_mwh : float
        Expected energy savings [MWh/year].
    renewable_mwh : float
        Expected renewable production [MWh/year].
    emission_factor : float or None
        Emission factor [t CO2/MWh]; None for :data:`DEFAULT_EMISSION_FACTOR`.
    start, end : date, optional
        Implementation period.
    action_area, instrument, origin, responsible_body : str
        Fields of the Covenant's template (see the module documentation).
    id : int, optional
        Database id, carried through to the results.
    """

    code: str
    title: str
    sector: str
    status: str = "planned"
    municipality: str | None = None
    owner: str = ""
    cost_eur: float = 0.0
    savings_mwh: float = 0.0
    renewable_mwh: float = 0.0
    emission_factor: float | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    action_area: str = ""
    instrument: str = "not_applicable"
    origin: str = "local_authority"
    responsible_body: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise ValueError(f"azione {self.code}: settore sconosciuto {self.sector!r}")
        if self.status not in STATUSES:
            raise ValueError(f"azione {self.code}: stato sconosciuto {self.status!r}")
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"azione {self.code}: strumento sconosciuto {self.instrument!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"azione {self.code}: origine sconosciuta {self.origin!r}")
        for name in ("cost_eur", "savings_mwh", "renewable_mwh"):
            _non_negative(getattr(self, name), name, self.code)
        if self.emission_factor is not None:
            _non_negative(self.emission_factor, "emission_factor", self.code)
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"azione {self.code}: la fine ({self.end}) precede l'inizio ({self.start})")


def emissions_avoided(savings_mwh: float, renewable_mwh: float, factor: float | None = None) -> float:
    """Emissions avoided [t CO2/year] by saving ``savings_mwh`` and producing ``renewable_mwh`` [MWh/year].

    ``factor`` [t CO2/MWh] defaults to :data:`DEFAULT_EMISSION_FACTOR` (a placeholder, see the module notes).
    """
    ef = DEFAULT_EMISSION_FACTOR if factor is None else factor
    return (savings_mwh + renewable_mwh) * ef


@dataclass(frozen=True)
class ActionFigures:
    """An action with its emissions avoided [t CO2/year] and the factor used [t CO2/MWh]."""

    action: PlanAction
    co2_t: float
    factor: float
    default_factor: bool


def figures(action: PlanAction) -> ActionFigures:
    """The emissions avoided by ``action`` and the factor they were computed with."""
    default = action.emission_factor is None
    factor = DEFAULT_EMISSION_FACTOR if action.emission_factor is None else action.emission_factor
    return ActionFigures(action, emissions_avoided(action.savings_mwh, action.renewable_mwh, factor), factor, default)


@dataclass(frozen=True)
class Totals:
    """Sums over a group of actions: count, cost [€], savings and renewable production [MWh/year], emissions
    avoided [t CO2/year]."""

    count: int = 0
    cost_eur: float = 0.0
    savings_mwh: float = 0.0
    renewable_mwh: float = 0.0
    co2_t: float = 0.0

    def add(self, f: ActionFigures) -> Totals:
        """These totals with one more action."""
        a = f.action
        return Totals(
            self.count + 1,
            self.cost_eur + a.cost_eur,
            self.savings_mwh + a.savings_mwh,
            self.renewable_mwh + a.renewable_mwh,
            self.co2_t + f.co2_t,
        )


def _group(items: Iterable[ActionFigures], key: str, order: Sequence[str]) -> dict[str, Totals]:
    out: dict[str, Totals] = {}
    for f in items:
        k = getattr(f.action, key)
        label = INTER_MUNICIPAL if k is None else str(k)
        out[label] = out.get(label, Totals()).add(f)
    ranked = {k: out[k] for k in order if k in out}
    ranked.update({k: v for k, v in sorted(out.items()) if k not in ranked})
    return ranked


@dataclass(frozen=True)
class TargetProgress:
    """Progress against the team's reduction target.

    Attributes
    ----------
    baseline_t : float or None
        Baseline emissions [t CO2/year] (None when the team has not given them).
    target_pct : float
        Reduction target [% of the baseline].
    target_t : float or None
        Reduction to reach [t CO2/year].
    planned_t, achieved_t : float
        Emissions avoided by the non-cancelled actions and by the completed ones [t CO2/year].
    planned_share, achieved_share : float or None
        ``planned_t / target_t`` and ``achieved_t / target_t`` [0..] (None without a target).
    """

    baseline_t: float | None
    target_pct: float
    target_t: float | None
    planned_t: float
    achieved_t: float
    planned_share: float | None
    achieved_share: float | None


@dataclass(frozen=True)
class PlanSummary:
    """The plan in figures.

    Attributes
    ----------
    actions : list of ActionFigures
        Every action with its emissions avoided, in the order given.
    total : Totals
        Every action, cancelled ones included.
    planned, achieved : Totals
        Non-cancelled actions; completed actions.
    by_sector, by_municipality, by_status : dict of str to Totals
        Groups over every action (sectors in :data:`SECTORS` order; municipalities by name with
        :data:`INTER_MUNICIPAL` for the union's own actions; statuses in :data:`STATUSES` order).
    planned_by_sector : dict of str to Totals
        Non-cancelled actions by sector.
    target : TargetProgress
    placeholder_factor : int
        How many actions use the placeholder :data:`DEFAULT_EMISSION_FACTOR`.
    """

    actions: list[ActionFigures]
    total: Totals
    planned: Totals
    achieved: Totals
    by_sector: dict[str, Totals]
    by_municipality: dict[str, Totals]
    by_status: dict[str, Totals]
    planned_by_sector: dict[str, Totals]
    target: TargetProgress
    placeholder_factor: int


def summarize(
    actions: Sequence[PlanAction], *, baseline_t: float | None = None, target_pct: float = 55.0
) -> PlanSummary:
    """Totals of the plan by sector, municipality and status, and progress against the target.

    Parameters
    ----------
    actions : sequence of PlanAction
    baseline_t : float, optional
        Baseline emissions of the union [t CO2/year].
    target_pct : float
        Reduction target [% of the baseline], 55 for the PAESC.
    """
    if not 0 <= target_pct <= 100:
        raise ValueError(f"obiettivo di riduzione {target_pct} % fuori da 0..100")
    if baseline_t is not None and (baseline_t != baseline_t or baseline_t < 0):
        raise ValueError(f"emissioni dell'anno base non valide: {baseline_t!r}")
    items = [figures(a) for a in actions]
    total = Totals()
    planned = Totals()
    achieved = Totals()
    for f in items:
        total = total.add(f)
        if f.action.status != "cancelled":
            planned = planned.add(f)
        if f.action.status == "completed":
            achieved = achieved.add(f)
    target_t = None if baseline_t is None else baseline_t * target_pct / 100
    share = target_t is not None and target_t > 0
    target = TargetProgress(
        baseline_t,
        target_pct,
        target_t,
        planned.co2_t,
        achieved.co2_t,
        planned.co2_t / target_t if share and target_t else None,
        achieved.co2_t / target_t if share and target_t else None,
    )
    return PlanSummary(
        actions=items,
        total=total,
        planned=planned,
        achieved=achieved,
        by_sector=_group(items, "sector", list(SECTORS)),
        by_municipality=_group(items, "municipality", []),
        by_status=_group(items, "status", list(STATUSES)),
        planned_by_sector=_group([f for f in items if f.action.status != "cancelled"], "sector", list(SECTORS)),
        target=target,
        placeholder_factor=sum(1 for f in items if f.default_factor),
    )


# Indicators -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorValue:
    """A value of an indicator on a date."""

    on: dt.date
    value: float


@dataclass(frozen=True)
class Indicator:
    """An indicator of an action (``kWh risparmiati``, ``punti luce sostituiti``...) and its values over time.

    ``target`` is the value the action aims at (same unit), when there is one.
    """

    name: str
    unit: str
    values: tuple[IndicatorValue, ...] = ()
    target: float | None = None
    id: int | None = None


@dataclass(frozen=True)
class IndicatorStatus:
    """The latest value of an indicator, the one before it and the share of the target reached."""

    indicator: Indicator
    latest: IndicatorValue | None
    previous: IndicatorValue | None
    share_of_target: float | None


def indicator_status(indicator: Indicator) -> IndicatorStatus:
    """Latest and previous values (by date; on equal dates the one given last wins) and the share of target."""
    ordered = sorted(enumerate(indicator.values), key=lambda iv: (iv[1].on, iv[0]))
    latest = ordered[-1][1] if ordered else None
    previous = ordered[-2][1] if len(ordered) > 1 else None
    share = None
    if latest is not None and indicator.target:
        share = latest.value / indicator.target
    return IndicatorStatus(indicator, latest, previous, share)


# Progress report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionChange:
    """A recorded change of an action: its status (``status_from`` -> ``status_to``, equal when only a note or a
    figure changed) at instant ``at`` (UTC), with a note."""

    action_code: str
    action_title: str
    at: dt.datetime
    status_from: str
    status_to: str
    note: str = ""
    action_id: int | None = None


@dataclass(frozen=True)
class ReportDecision:
    """A decision (or a technical table's report) as the progress report lists it."""

    text: str
    kind: str
    table: str
    meeting_at: dt.datetime
    owner: str
    due: dt.date | None
    status: str


@dataclass(frozen=True)
class IndicatorReading:
    """An indicator value recorded since the last meeting."""

    action_code: str
    indicator: str
    unit: str
    on: dt.date
    value: float
    recorded_at: dt.datetime


@dataclass(frozen=True)
class ProgressReport:
    """What the political table reads: changes since ``since``, actions by status, savings achieved against
    planned [MWh/year], emissions [t CO2/year], the latest decisions.

    Attributes
    ----------
    since : datetime or None
        Start of the last meeting that has taken place (None: everything is new).
    changes : list of ActionChange
        Changes after ``since``, most recent first.
    readings : list of IndicatorReading
        Indicator values recorded after ``since``, most recent first.
    summary : PlanSummary
    by_status : dict of str to list of ActionFigures
        Every status of :data:`STATUSES` (empty lists included), actions by code.
    savings_share : float or None
        Achieved / planned savings + production [MWh/year] (None when nothing is planned).
    decisions : list of ReportDecision
        The latest decisions, most recent meeting first.
    """

    since: dt.datetime | None
    changes: list[ActionChange]
    readings: list[IndicatorReading]
    summary: PlanSummary
    by_status: dict[str, list[ActionFigures]]
    savings_share: float | None
    decisions: list[ReportDecision] = field(default_factory=list)


def last_meeting_before(starts: Iterable[dt.datetime], now: dt.datetime) -> dt.datetime | None:
    """The latest meeting start not after ``now`` (None if no meeting has taken place)."""
    past = [s for s in starts if s <= now]
    return max(past) if past else None


def progress_report(
    summary: PlanSummary,
    changes: Sequence[ActionChange],
    decisions: Sequence[ReportDecision],
    *,
    since: dt.datetime | None,
    readings: Sequence[IndicatorReading] = (),
    max_decisions: int = 20,
) -> ProgressReport:
    """The progress report for the political table.

    Parameters
    ----------
    summary : PlanSummary
        The plan now (:func:`summarize`).
    changes : sequence of ActionChange
        Every recorded change; only those after ``since`` are kept.
    decisions : sequence of ReportDecision
        Decisions and reports of the meetings; the ``max_decisions`` of the latest meetings are kept.
    since : datetime or None
        Start of the last meeting held (:func:`last_meeting_before`); None keeps every change.
    readings : sequence of IndicatorReading
        Indicator values; only those recorded after ``since`` are kept.
    """
    kept = [c for c in changes if since is None or c.at > since]
    kept.sort(key=lambda c: c.at, reverse=True)
    new_readings = sorted(
        (r for r in readings if since is None or r.recorded_at > since), key=lambda r: r.recorded_at, reverse=True
    )
    by_status: dict[str, list[ActionFigures]] = {s: [] for s in STATUSES}
    for f in sorted(summary.actions, key=lambda f: f.action.code):
        by_status[f.action.status].append(f)
    planned = summary.planned.savings_mwh + summary.planned.renewable_mwh
    achieved = summary.achieved.savings_mwh + summary.achieved.renewable_mwh
    latest = sorted(decisions, key=lambda d: d.meeting_at, reverse=True)[:max_decisions]
    return ProgressReport(
        since=since,
        changes=kept,
        readings=new_readings,
        summary=summary,
        by_status=by_status,
        savings_share=achieved / planned if planned > 0 else None,
        decisions=latest,
    )


# Covenant-style export --------------------------------------------------------------------------------------------


def _number(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def covenant_rows(actions: Sequence[PlanAction]) -> list[dict[str, str]]:
    """One row per action with the columns :data:`COVENANT_COLUMNS` (see the mapping in the module notes).

    Rows follow the template's sector order, then the action code.
    """
    order = {s: i for i, s in enumerate(SECTORS)}
    rows: list[dict[str, str]] = []
    for a in sorted(actions, key=lambda a: (order[a.sector], a.code)):
        f = figures(a)
        values = (
            a.code,
            a.title,
            a.municipality or "Joint action",
            COVENANT_SECTORS[a.sector],
            a.action_area,
            COVENANT_INSTRUMENTS[a.instrument],
            COVENANT_ORIGINS[a.origin],
            a.responsible_body or a.owner,
            "" if a.start is None else str(a.start.year),
            "" if a.end is None else str(a.end.year),
            COVENANT_STATUS[a.status],
            _number(a.cost_eur),
            _number(a.savings_mwh, 3),
            _number(a.renewable_mwh, 3),
            _number(f.co2_t, 3),
        )
        rows.append(dict(zip(COVENANT_COLUMNS, values, strict=True)))
    return rows


def labels(mapping: Mapping[str, str], key: str) -> str:
    """The label of ``key`` in ``mapping``, or the key itself."""
    return mapping.get(key, key)
