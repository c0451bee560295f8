"""Strategy artefacts of a municipality's energy plan, as structured documents: PESTLE analysis, barriers and
opportunities map, Theory of Change, policy sandbox experiment, best practice.

Pure: no I/O. Each artefact is a pydantic model; :func:`parse_artefact` reads one from a JSON or YAML text (the
officers' editor) or a mapping and returns it, or raises :class:`condivisa.errors.InputError` whose problems are in
Italian and name the path inside the document (``toc.nodes[3].indicators``). Structural checks (types, ranges,
required fields) come from the models; the checks that look at the whole document (Theory of Change graph:
unknown nodes, backward edges, cycles, outcomes not reachable from an activity, missing indicators; sandbox
period and decision) are in :func:`artefact_problems`.

Artefacts are linked to the actions of the plan by a free reference text (``action:PAESC-12``, see
:data:`ACTION_REF_PATTERN`), stored as written; a best practice links artefacts of the same plan by reference
``<kind>:<id>`` (``toc:12``).

Exports: :func:`to_json`, :func:`to_markdown`, and for the Theory of Change :func:`toc_svg` (levels as columns, a
small layered layout of our own) and :func:`toc_mermaid` (Mermaid ``flowchart LR`` text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from condivisa.errors import InputError, Problem

Kind = Literal["pestle", "map", "toc", "sandbox", "practice"]
KINDS: tuple[Kind, ...] = ("pestle", "map", "toc", "sandbox", "practice")
KIND_LABELS: dict[str, str] = {
    "pestle": "Analisi PESTLE",
    "map": "Mappa di barriere e opportunità",
    "toc": "Teoria del cambiamento",
    "sandbox": "Sperimentazione (policy sandbox)",
    "practice": "Buona pratica",
}

ACTION_REF_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,19}:\S{1,79}$"
"""A link to an action of the plan: ``prefix:code`` without spaces, e.g. ``action:PAESC-12``."""
ARTEFACT_REF_PATTERN = r"^(pestle|map|toc|sandbox):[1-9][0-9]*$"
"""A link from a best practice to an artefact of the same plan: ``<kind>:<id>``, e.g. ``toc:12``."""

DIMENSIONS: dict[str, str] = {
    "political": "Politico",
    "economic": "Economico",
    "social": "Sociale",
    "technological": "Tecnologico",
    "legal": "Legale",
    "environmental": "Ambientale",
}
LIKELIHOODS: dict[str, str] = {"low": "bassa", "medium": "media", "high": "alta"}
TRENDS: dict[str, str] = {"rising": "in crescita", "stable": "stabile", "falling": "in calo"}
MAP_KINDS: dict[str, str] = {"barrier": "Barriera", "opportunity": "Opportunità"}
MAP_CATEGORIES: dict[str, str] = {
    "regulatory": "normativa",
    "economic": "economica",
    "technical": "tecnica",
    "social": "sociale",
    "organisational": "organizzativa",
    "environmental": "ambientale",
}
LEVELS: tuple[str, ...] = ("inputs", "activities", "outputs", "outcomes", "impact")
LEVEL_LABELS: dict[str, str] = {
    "inputs": "Risorse (input)",
    "activities": "Attività",
    "outputs": "Realizzazioni (output)",
    "outcomes": "Risultati (outcome)",
    "impact": "Impatto",
}
LEVELS_WITH_INDICATORS = ("outputs", "outcomes", "impact")
SANDBOX_STATUSES: dict[str, str] = {"planned": "pianificata", "running": "in corso", "concluded": "conclusa"}
DECISIONS: dict[str, str] = {"scale_up": "estendere", "adapt": "adattare", "stop": "interrompere"}

Text = Annotated[str, Field(min_length=1, max_length=2000)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
ActionRef = Annotated[str, Field(pattern=ACTION_REF_PATTERN)]
ArtefactRef = Annotated[str, Field(pattern=ARTEFACT_REF_PATTERN)]
NodeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# PESTLE --------------------------------------------------------------------------------------------------------------


class PestleFactor(_Model):
    """One external factor of a PESTLE analysis.

    ``impact`` on the plan from -2 (strongly negative) to +2 (strongly positive) [unitless]; ``likelihood`` low,
    medium or high; ``trend`` rising, stable or falling; ``source`` where the evidence comes from.
    """

    dimension: Literal["political", "economic", "social", "technological", "legal", "environmental"]
    title: Title
    description: str = ""
    impact: int
    likelihood: Literal["low", "medium", "high"] = "medium"
    trend: Literal["rising", "stable", "falling"] = "stable"
    source: str = ""
    actions: list[ActionRef] = []

    @field_validator("impact")
    @classmethod
    def _impact_range(cls, value: int) -> int:
        if not -2 <= value <= 2:
            raise ValueError(f"impatto {value} fuori intervallo: da -2 (molto negativo) a +2 (molto positivo)")
        return value


class PestleAnalysis(_Model):
    """A PESTLE analysis: the factors of the six dimensions (Political, Economic, Social, Technological, Legal,
    Environmental) around the plan."""

    title: Title
    scope: str = ""
    date: dt.date | None = None
    factors: list[PestleFactor] = []
    actions: list[ActionRef] = []

    def by_dimension(self) -> dict[str, list[PestleFactor]]:
        """The factors grouped by dimension, in the P-E-S-T-L-E order (every dimension present, maybe empty)."""
        return {d: [f for f in self.factors if f.dimension == d] for d in DIMENSIONS}


# Barriers and opportunities ------------------------------------------------------------------------------------------


class MapItem(_Model):
    """A barrier (with its ``severity`` 1-5) or an opportunity (with its ``potential`` 1-5), the stakeholders
    concerned, the linked actions and the mitigations (for a barrier) or levers (for an opportunity)."""

    kind: Literal["barrier", "opportunity"]
    title: Title
    description: str = ""
    category: Literal["regulatory", "economic", "technical", "social", "organisational", "environmental"]
    severity: int | None = Field(default=None, ge=1, le=5)
    potential: int | None = Field(default=None, ge=1, le=5)
    stakeholders: list[Title] = []
    actions: list[ActionRef] = []
    mitigations: list[Text] = []


class BarrierOpportunityMap(_Model):
    """A map of the barriers and opportunities met by the plan."""

    title: Title
    scope: str = ""
    items: list[MapItem] = []
    actions: list[ActionRef] = []


# Theory of Change ----------------------------------------------------------------------------------------------------


class Indicator(_Model):
    """How a result is measured: ``unit`` of the values, ``baseline`` and ``target`` in that unit, the year by which
    the target is due (``target_year``), and where the value comes from."""

    name: Title
    unit: Annotated[str, Field(min_length=1, max_length=40)]
    baseline: float
    target: float
    target_year: int = Field(ge=2000, le=2100)
    source: str = ""


class TocNode(_Model):
    """A box of the Theory of Change at one ``level`` (inputs, activities, outputs, outcomes, impact)."""

    id: NodeId
    level: Literal["inputs", "activities", "outputs", "outcomes", "impact"]
    title: Title
    description: str = ""
    indicators: list[Indicator] = []
    actions: list[ActionRef] = []


class TocEdge(_Model):
    """A causal link from node ``source`` to node ``target`` (a later level), with the ``assumption`` it rests on."""

    source: NodeId
    target: NodeId
    assumption: str = ""


class TheoryOfChange(_Model):
    """A Theory of Change: inputs → activities → outputs → outcomes → impact, as a graph of nodes and edges."""

    title: Title
    goal: str = ""
    nodes: list[TocNode] = []
    edges: list[TocEdge] = []
    actions: list[ActionRef] = []


# Policy sandbox ------------------------------------------------------------------------------------------------------


class SandboxMetric(_Model):
    """A measured quantity of an experiment, in ``unit``: value before (``baseline``), hoped for (``target``) and
    found (``observed``)."""

    name: Title
    unit: Annotated[str, Field(min_length=1, max_length=40)]
    baseline: float | None = None
    target: float | None = None
    observed: float | None = None


class SandboxExperiment(_Model):
    """A policy sandbox experiment: a hypothesis tried on a ``scope`` during ``start``..``end`` (dates included),
    measured by ``metrics``; once ``concluded`` it has a ``result`` and a ``decision`` (scale up, adapt, stop)."""

    title: Title
    hypothesis: Text
    scope: Text
    start: dt.date
    end: dt.date
    metrics: list[SandboxMetric] = Field(min_length=1)
    status: Literal["planned", "running", "concluded"] = "planned"
    result: str = ""
    decision: Literal["scale_up", "adapt", "stop"] | None = None
    actions: list[ActionRef] = []


# Best practice -------------------------------------------------------------------------------------------------------


class BestPractice(_Model):
    """A best practice another municipality can copy into its own plan: the problem, the solution, the results, the
    costs, the conditions for transferring it, the source, tags and the artefacts of the plan that go with it."""

    title: Title
    problem: Text
    solution: Text
    results: str = ""
    costs: str = ""
    cost_eur: float | None = Field(default=None, ge=0)
    conditions: list[Text] = []
    source: str = ""
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = []
    artefacts: list[ArtefactRef] = []
    actions: list[ActionRef] = []


Artefact = PestleAnalysis | BarrierOpportunityMap | TheoryOfChange | SandboxExperiment | BestPractice
MODELS: dict[str, type[BaseModel]] = {
    "pestle": PestleAnalysis,
    "map": BarrierOpportunityMap,
    "toc": TheoryOfChange,
    "sandbox": SandboxExperiment,
    "practice": BestPractice,
}


def kind_of(artefact: Artefact) -> Kind:
    """The kind code of an artefact model."""
    for kind in KINDS:
        if isinstance(artefact, MODELS[kind]):
            return kind
    raise TypeError(f"not an artefact: {type(artefact).__name__}")


# Validation ----------------------------------------------------------------------------------------------------------


def _path(prefix: str, loc: Iterable[int | str]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _italian(error: Mapping[str, Any]) -> str:
    """An Italian message for one pydantic error."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    given = error.get("input")
    messages = {
        "missing": "campo obbligatorio mancante",
        "extra_forbidden": "campo non previsto (controllare il nome)",
        "string_type": "deve essere un testo",
        "string_too_short": "non può essere vuoto",
        "string_too_long": f"troppo lungo: al massimo {ctx.get('max_length')} caratteri",
        "int_parsing": f"{given!r} non è un numero intero",
        "int_type": "deve essere un numero intero",
        "int_from_float": f"{given!r} non è un numero intero",
        "float_parsing": f"{given!r} non è un numero",
        "float_type": "deve essere un numero",
        "bool_parsing": "deve essere vero o falso",
        "bool_type": "deve essere vero o falso",
        "greater_than_equal": f"{given!r} è troppo piccolo: almeno {ctx.get('ge')}",
        "less_than_equal": f"{given!r} è troppo grande: al massimo {ctx.get('le')}",
        "too_short": f"servono almeno {ctx.get('min_length')} elementi",
        "list_type": "deve essere un elenco",
        "model_type": "deve essere un oggetto (chiave: valore)",
        "dict_type": "deve essere un oggetto (chiave: valore)",
        "date_type": "data non valida: scrivere AAAA-MM-GG",
        "date_parsing": f"data non valida {given!r}: scrivere AAAA-MM-GG",
        "date_from_datetime_parsing": f"data non valida {given!r}: scrivere AAAA-MM-GG",
        "date_from_datetime_inexact": f"data non valida {given!r}: scrivere AAAA-MM-GG",
    }
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "literal_error":
        return f"valore {given!r} non ammesso: uno di {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        if pattern == ACTION_REF_PATTERN:
            return f"riferimento ad azione non valido {given!r}: scrivere prefisso:codice, ad esempio action:PAESC-12"
        if pattern == ARTEFACT_REF_PATTERN:
            return f"riferimento a scheda non valido {given!r}: scrivere tipo:numero, ad esempio toc:12"
        return f"identificativo non valido {given!r}: lettere, cifre, '.', '_' o '-' (al massimo 40)"
    return messages.get(kind, f"valore non valido ({kind})")


def artefact_problems(kind: str, artefact: BaseModel) -> list[Problem]:
    """The problems that concern the whole document (structure already valid), with their paths.

    Theory of Change: node ids unique; edges between known nodes, only towards a later level (no backward or
    same-level edge), without cycles, without duplicates; every outcome reachable from an activity; every node of
    the levels outputs, outcomes and impact with at least one indicator. Sandbox: ``end`` not before ``start``; a
    concluded experiment has a result and a decision, a planned or running one no decision yet. PESTLE and
    barriers map: no duplicate titles; a barrier has a severity (no potential), an opportunity a potential.
    """
    if isinstance(artefact, TheoryOfChange):
        return toc_problems(artefact)
    problems: list[Problem] = []
    if isinstance(artefact, SandboxExperiment):
        if artefact.end < artefact.start:
            problems.append(Problem("la fine precede l'inizio della sperimentazione", field=f"{kind}.end"))
        if artefact.status == "concluded":
            if not artefact.result:
                problems.append(Problem("una sperimentazione conclusa deve avere un risultato", field=f"{kind}.result"))
            if artefact.decision is None:
                problems.append(
                    Problem(
                        "una sperimentazione conclusa deve avere una decisione: scale_up, adapt o stop",
                        field=f"{kind}.decision",
                    )
                )
        elif artefact.decision is not None:
            problems.append(Problem("la decisione si prende solo a sperimentazione conclusa", field=f"{kind}.decision"))
    if isinstance(artefact, BarrierOpportunityMap):
        for i, item in enumerate(artefact.items):
            where = f"{kind}.items[{i}]"
            if item.kind == "barrier":
                if item.severity is None:
                    problems.append(Problem("una barriera ha una gravità da 1 a 5", field=f"{where}.severity"))
                if item.potential is not None:
                    problems.append(Problem("il potenziale si indica per le opportunità", field=f"{where}.potential"))
            else:
                if item.potential is None:
                    problems.append(Problem("un'opportunità ha un potenziale da 1 a 5", field=f"{where}.potential"))
                if item.severity is not None:
                    problems.append(Problem("la gravità si indica per le barriere", field=f"{where}.severity"))
    if isinstance(artefact, PestleAnalysis):
        seen: dict[tuple[str, str], int] = {}
        for i, factor in enumerate(artefact.factors):
            key = (factor.dimension, factor.title.casefold())
            if key in seen:
                problems.append(
                    Problem(f"fattore ripetuto: uguale a factors[{seen[key]}]", field=f"{kind}.factors[{i}].title")
                )
            seen.setdefault(key, i)
    if isinstance(artefact, BestPractice):
        for i, ref in enumerate(artefact.artefacts):
            if ref in artefact.artefacts[:i]:
                problems.append(Problem(f"scheda {ref} collegata due volte", field=f"{kind}.artefacts[{i}]"))
    return problems


def _find_cycle(ids: list[str], successors: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle of the directed graph as the list of its nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in ids:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, index = stack[-1]
            nexts = successors.get(node, [])
            if index < len(nexts):
                stack[-1] = (node, index + 1)
                child = nexts[index]
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if child not in state:
                    state[child] = 1
                    stack.append((child, 0))
                    path.append(child)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def toc_problems(toc: TheoryOfChange, prefix: str = "toc") -> list[Problem]:
    """The graph problems of a Theory of Change (see :func:`artefact_problems`)."""
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for i, node in enumerate(toc.nodes):
        if node.id in index:
            problems.append(
                Problem(
                    f"identificativo {node.id!r} ripetuto (già in nodes[{index[node.id]}])",
                    field=f"{prefix}.nodes[{i}].id",
                )
            )
        else:
            index[node.id] = i
    rank = {node.id: LEVELS.index(node.level) for node in toc.nodes}
    successors: dict[str, list[str]] = {}
    forward: dict[str, list[str]] = {}
    seen_edges: set[tuple[str, str]] = set()
    for j, edge in enumerate(toc.edges):
        where = f"{prefix}.edges[{j}]"
        known = True
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in index:
                problems.append(Problem(f"nodo {node_id!r} inesistente", field=f"{where}.{end}"))
                known = False
        if not known:
            continue
        if (edge.source, edge.target) in seen_edges:
            problems.append(Problem(f"arco {edge.source} → {edge.target} ripetuto", field=where))
            continue
        seen_edges.add((edge.source, edge.target))
        successors.setdefault(edge.source, []).append(edge.target)
        low, high = rank[edge.source], rank[edge.target]
        if high > low:
            forward.setdefault(edge.source, []).append(edge.target)
        else:
            what = "all'indietro" if high < low else "nello stesso livello"
            problems.append(
                Problem(
                    f"arco {what} da {edge.source!r} ({LEVEL_LABELS[LEVELS[low]]}) a {edge.target!r} "
                    f"({LEVEL_LABELS[LEVELS[high]]}): gli archi vanno solo verso un livello successivo "
                    "(risorse → attività → realizzazioni → risultati → impatto)",
                    field=where,
                )
            )
    cycle = _find_cycle(list(index), successors)
    if cycle is not None:
        problems.append(Problem("ciclo tra i nodi: " + " → ".join(cycle), field=f"{prefix}.edges"))
    reached: set[str] = set()
    frontier = [n.id for n in toc.nodes if n.level == "activities"]
    while frontier:
        node_id = frontier.pop()
        if node_id in reached:
            continue
        reached.add(node_id)
        frontier.extend(forward.get(node_id, []))
    for i, node in enumerate(toc.nodes):
        if node.level == "outcomes" and node.id not in reached:
            problems.append(
                Problem(
                    f"il risultato {node.id!r} non è raggiungibile da nessuna attività", field=f"{prefix}.nodes[{i}]"
                )
            )
        if node.level in LEVELS_WITH_INDICATORS and not node.indicators:
            problems.append(
                Problem(
                    f"il nodo {node.id!r} ({LEVEL_LABELS[node.level]}) deve avere almeno un indicatore "
                    "con unità, valore di partenza (baseline), obiettivo (target) e anno dell'obiettivo",
                    field=f"{prefix}.nodes[{i}].indicators",
                )
            )
    return problems


def read_document(kind: str, text: str) -> Any:
    """The JSON or YAML document of an editor's text (JSON first; YAML is a superset for most inputs).

    Raises
    ------
    InputError
        The text is neither valid JSON nor valid YAML, or its top level is not an object.
    """
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (riga {mark.line + 1}, colonna {mark.column + 1})" if mark is not None else ""
            raise InputError.one(f"testo non leggibile come JSON né come YAML{where}", field=kind) from exc
    if not isinstance(data, dict):
        raise InputError.one("il documento deve essere un oggetto (chiave: valore)", field=kind)
    return data


def parse_artefact(kind: str, data: str | Mapping[str, Any]) -> Artefact:
    """Validate an artefact of ``kind`` from an editor's text (JSON or YAML) or a mapping.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    data : str or Mapping
        The document.

    Returns
    -------
    Artefact
        The validated model.

    Raises
    ------
    InputError
        Every problem found, in Italian, each naming its path (``toc.nodes[3].indicators``).
    """
    if kind not in MODELS:
        raise InputError.one(f"tipo di scheda sconosciuto {kind!r}: uno di {', '.join(KINDS)}", field="kind")
    document = read_document(kind, data) if isinstance(data, str) else dict(data)
    try:
        model = MODELS[kind].model_validate(document)
    except ValidationError as exc:
        raise InputError([Problem(_italian(e), field=_path(kind, e["loc"])) for e in exc.errors()]) from exc
    problems = artefact_problems(kind, model)
    if problems:
        raise InputError(problems)
    assert isinstance(model, PestleAnalysis | BarrierOpportunityMap | TheoryOfChange | SandboxExperiment | BestPractice)
    return model


def action_refs(artefact: Artefact) -> list[str]:
    """Every action reference of an artefact (its own and its items' or nodes'), in order, without repeats."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "actions" and isinstance(item, list):
                    out.extend(str(x) for x in item if str(x) not in out)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(artefact.model_dump())
    return out


EXAMPLES: dict[str, dict[str, Any]] = {
    "pestle": {
        "title": "Analisi PESTLE del piano energetico",
        "scope": "Territorio comunale, 2025-2030",
        "factors": [
            {
                "dimension": "legal",
                "title": "Decreto CACER (DM 414/2023)",
                "description": "Tariffa premio ventennale sull'energia condivisa",
                "impact": 2,
                "likelihood": "high",
                "trend": "stable",
                "source": "DM 7 dicembre 2023 n. 414",
                "actions": ["action:PAESC-12"],
            },
            {
                "dimension": "economic",
                "title": "Costo dei moduli fotovoltaici",
                "impact": 1,
                "likelihood": "medium",
                "trend": "falling",
            },
        ],
    },
    "map": {
        "title": "Barriere e opportunità delle comunità energetiche",
        "items": [
            {
                "kind": "barrier",
                "title": "Tetti pubblici con vincoli paesaggistici",
                "category": "regulatory",
                "severity": 4,
                "stakeholders": ["Soprintendenza", "Ufficio tecnico"],
                "mitigations": ["Parere preventivo per lotti di edifici"],
                "actions": ["action:PAESC-12"],
            },
            {
                "kind": "opportunity",
                "title": "Contributo PNRR per comuni sotto 50.000 abitanti",
                "category": "economic",
                "potential": 5,
                "stakeholders": ["Comune"],
            },
        ],
    },
    "toc": {
        "title": "Teoria del cambiamento: energia condivisa nei quartieri",
        "goal": "Ridurre la povertà energetica",
        "nodes": [
            {"id": "r1", "level": "inputs", "title": "Tetti degli edifici pubblici"},
            {"id": "a1", "level": "activities", "title": "Impianti FV sulle scuole", "actions": ["action:PAESC-12"]},
            {
                "id": "o1",
                "level": "outputs",
                "title": "Potenza installata",
                "indicators": [
                    {"name": "Potenza FV", "unit": "kWp", "baseline": 0, "target": 400, "target_year": 2027}
                ],
            },
            {
                "id": "e1",
                "level": "outcomes",
                "title": "Energia condivisa nella CER",
                "indicators": [
                    {"name": "Energia condivisa", "unit": "MWh/anno", "baseline": 0, "target": 300, "target_year": 2028}
                ],
            },
            {
                "id": "i1",
                "level": "impact",
                "title": "Famiglie in povertà energetica aiutate",
                "indicators": [
                    {"name": "Famiglie aiutate", "unit": "famiglie", "baseline": 0, "target": 150, "target_year": 2030}
                ],
            },
        ],
        "edges": [
            {"source": "r1", "target": "a1"},
            {"source": "a1", "target": "o1"},
            {"source": "o1", "target": "e1", "assumption": "I consumi diurni restano alti"},
            {"source": "e1", "target": "i1"},
        ],
    },
    "sandbox": {
        "title": "Orari verdi nelle scuole",
        "hypothesis": "Spostare i carichi nelle ore di sole aumenta l'energia condivisa del 10%",
        "scope": "Tre scuole della CER",
        "start": "2026-03-01",
        "end": "2026-06-30",
        "metrics": [{"name": "Energia condivisa", "unit": "kWh", "baseline": 12000, "target": 13200}],
        "status": "planned",
    },
    "practice": {
        "title": "Impianti FV sulle scuole per la CER di quartiere",
        "problem": "Tetti pubblici inutilizzati e famiglie in povertà energetica",
        "solution": "Il comune installa FV sulle scuole e aderisce alla CER come produttore",
        "results": "300 MWh/anno condivisi",
        "costs": "Circa 1.100 €/kWp",
        "cost_eur": 440000,
        "conditions": ["Tetti con portata verificata", "Cabina primaria con consumi diurni"],
        "source": "Comune di Borgo Demo",
        "tags": ["fotovoltaico", "scuole"],
        "artefacts": [],
    },
}
"""A valid starting document for each kind (the editor's template)."""


# Exports -------------------------------------------------------------------------------------------------------------


def to_document(artefact: Artefact) -> dict[str, Any]:
    """The artefact as plain JSON-ready data (dates as ISO text), keys in the model's order."""
    data: dict[str, Any] = artefact.model_dump(mode="json")
    return data


def to_json(artefact: Artefact, **meta: Any) -> str:
    """The artefact as indented JSON: ``{"kind", **meta, "content"}`` (``meta``: id, municipality, public...)."""
    payload = {"kind": kind_of(artefact), **meta, "content": to_document(artefact)}
    return json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n"


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell or line."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}".replace(".", ",")


def _refs(label: str, refs: list[str]) -> list[str]:
    return [f"**{label}:** " + ", ".join(f"`{_md(r)}`" for r in refs), ""] if refs else []


def to_markdown(artefact: Artefact, *, municipality: str | None = None) -> str:
    """The artefact as a Markdown document in Italian (headings, tables), for sharing or printing."""
    kind = kind_of(artefact)
    lines = [
        f"# {_md(artefact.title)}",
        "",
        f"*{KIND_LABELS[kind]}*" + (f" – {_md(municipality)}" if municipality else ""),
        "",
    ]
    if isinstance(artefact, PestleAnalysis):
        if artefact.scope:
            lines += [f"**Ambito:** {_md(artefact.scope)}", ""]
        for dimension, factors in artefact.by_dimension().items():
            lines += [f"## {DIMENSIONS[dimension]}", ""]
            if not factors:
                lines += ["Nessun fattore.", ""]
                continue
            lines += ["| Fattore | Impatto | Probabilità | Tendenza | Fonte | Azioni |", "|---|---|---|---|---|---|"]
            for f in factors:
                title = _md(f.title) + (f" – {_md(f.description)}" if f.description else "")
                lines.append(
                    f"| {title} | {f.impact:+d} | {LIKELIHOODS[f.likelihood]} | {TRENDS[f.trend]} | {_md(f.source)} "
                    f"| {', '.join(_md(a) for a in f.actions)} |"
                )
            lines.append("")
    elif isinstance(artefact, BarrierOpportunityMap):
        if artefact.scope:
            lines += [f"**Ambito:** {_md(artefact.scope)}", ""]
        for item_kind, heading in (("barrier", "Barriere"), ("opportunity", "Opportunità")):
            items = [i for i in artefact.items if i.kind == item_kind]
            lines += [f"## {heading}", ""]
            if not items:
                lines += ["Nessuna voce.", ""]
                continue
            rating = "Gravità" if item_kind == "barrier" else "Potenziale"
            lines += [
                f"| Voce | Categoria | {rating} | Portatori di interesse | Risposte | Azioni |",
                "|---|---|---|---|---|---|",
            ]
            for i in items:
                value = i.severity if item_kind == "barrier" else i.potential
                title = _md(i.title) + (f" – {_md(i.description)}" if i.description else "")
                lines.append(
                    f"| {title} | {MAP_CATEGORIES[i.category]} | {value}/5 "
                    f"| {', '.join(_md(s) for s in i.stakeholders)} "
                    f"| {'; '.join(_md(m) for m in i.mitigations)} | {', '.join(_md(a) for a in i.actions)} |"
                )
            lines.append("")
    elif isinstance(artefact, TheoryOfChange):
        if artefact.goal:
            lines += [f"**Obiettivo:** {_md(artefact.goal)}", ""]
        titles = {n.id: n.title for n in artefact.nodes}
        for level in LEVELS:
            nodes = [n for n in artefact.nodes if n.level == level]
            lines += [f"## {LEVEL_LABELS[level]}", ""]
            if not nodes:
                lines += ["Nessun elemento.", ""]
            for n in nodes:
                lines.append(f"- **{_md(n.title)}** (`{n.id}`)" + (f": {_md(n.description)}" if n.description else ""))
                for ind in n.indicators:
                    lines.append(
                        f"  - indicatore {_md(ind.name)}: da {_num(ind.baseline)} a {_num(ind.target)} {_md(ind.unit)} "
                        f"entro il {ind.target_year}" + (f" (fonte: {_md(ind.source)})" if ind.source else "")
                    )
                if n.actions:
                    lines.append("  - azioni: " + ", ".join(f"`{_md(a)}`" for a in n.actions))
            lines.append("")
        if artefact.edges:
            lines += ["## Collegamenti", ""]
            for e in artefact.edges:
                note = f" – ipotesi: {_md(e.assumption)}" if e.assumption else ""
                lines.append(f"- {_md(titles.get(e.source, e.source))} → {_md(titles.get(e.target, e.target))}{note}")
            lines.append("")
    elif isinstance(artefact, SandboxExperiment):
        lines += [
            f"**Ipotesi:** {_md(artefact.hypothesis)}",
            "",
            f"**Ambito:** {_md(artefact.scope)}",
            "",
            f"**Periodo:** dal {artefact.start.strftime('%d/%m/%Y')} al {artefact.end.strftime('%d/%m/%Y')}",
            "",
            f"**Stato:** {SANDBOX_STATUSES[artefact.status]}",
            "",
            "## Metriche",
            "",
            "| Metrica | Unità | Partenza | Obiettivo | Osservato |",
            "|---|---|---|---|---|",
        ]
        for m in artefact.metrics:
            lines.append(
                f"| {_md(m.name)} | {_md(m.unit)} | {_num(m.baseline)} | {_num(m.target)} | {_num(m.observed)} |"
            )
        lines.append("")
        if artefact.result:
            lines += ["## Risultato", "", _md(artefact.result), ""]
        if artefact.decision:
            lines += [f"**Decisione:** {DECISIONS[artefact.decision]}", ""]
    elif isinstance(artefact, BestPractice):
        lines += ["## Problema", "", _md(artefact.problem), "", "## Soluzione", "", _md(artefact.solution), ""]
        if artefact.results:
            lines += ["## Risultati", "", _md(artefact.results), ""]
        if artefact.costs or artefact.cost_eur is not None:
            cost = f"{artefact.cost_eur:,.0f} €".replace(",", ".") if artefact.cost_eur is not None else ""
            lines += ["## Costi", "", " – ".join(x for x in (_md(artefact.costs), cost) if x), ""]
        if artefact.conditions:
            lines += ["## Condizioni per replicarla", "", *[f"- {_md(c)}" for c in artefact.conditions], ""]
        if artefact.source:
            lines += [f"**Fonte:** {_md(artefact.source)}", ""]
        if artefact.tags:
            lines += ["**Etichette:** " + ", ".join(_md(t) for t in artefact.tags), ""]
        lines += _refs("Schede collegate", artefact.artefacts)
    lines += _refs("Azioni collegate", artefact.actions)
    return "\n".join(lines).rstrip() + "\n"


# Theory of Change drawings -------------------------------------------------------------------------------------------

COLUMN_WIDTH = 210
COLUMN_GAP = 70
NODE_GAP = 18
LINE_HEIGHT = 15
MARGIN = 20
HEADER = 56
LEVEL_COLOURS = {
    "inputs": "#eef2f7",
    "activities": "#e3f0ff",
    "outputs": "#e6f6ea",
    "outcomes": "#fff4dc",
    "impact": "#fde8e8",
}


def _wrap(text: str, width: int = 28, max_lines: int = 4) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def toc_layout(toc: TheoryOfChange) -> dict[str, tuple[int, int, int]]:
    """Where each node is drawn: ``{node id: (column, row, height)}``.

    Levels are columns (inputs left, impact right). Within a column the nodes are ordered by the mean row of
    their predecessors (barycentre heuristic, one left-to-right pass), which keeps most edges short and uncrossed;
    ties keep the document's order. Heights [px] follow the wrapped title and the number of indicators.
    """
    predecessors: dict[str, list[str]] = {}
    for e in toc.edges:
        predecessors.setdefault(e.target, []).append(e.source)
    order: dict[str, float] = {}
    out: dict[str, tuple[int, int, int]] = {}
    for column, level in enumerate(LEVELS):
        nodes = [(i, n) for i, n in enumerate(toc.nodes) if n.level == level and n.id not in out]

        def key(item: tuple[int, TocNode]) -> tuple[float, int]:
            i, node = item
            rows = [order[p] for p in predecessors.get(node.id, []) if p in order]
            return (sum(rows) / len(rows) if rows else float(i), i)

        for row, (_i, node) in enumerate(sorted(nodes, key=key)):
            order[node.id] = float(row)
            height = 16 + LINE_HEIGHT * (len(_wrap(node.title)) + min(len(node.indicators), 3))
            out[node.id] = (column, row, height)
    return out


def toc_svg(toc: TheoryOfChange) -> str:
    """The Theory of Change drawn as a standalone SVG (levels as columns, arrows for edges, indicators in boxes).

    Self-contained: no fonts, scripts or links to other sites; texts are XML-escaped.
    """
    layout = toc_layout(toc)
    nodes = {n.id: n for n in toc.nodes}
    tops: dict[str, int] = {}
    column_bottom = [HEADER + MARGIN] * len(LEVELS)
    for node in sorted(toc.nodes, key=lambda n: (layout[n.id][0], layout[n.id][1])):
        column, _row, height = layout[node.id]
        tops[node.id] = column_bottom[column]
        column_bottom[column] += height + NODE_GAP
    width = MARGIN * 2 + len(LEVELS) * COLUMN_WIDTH + (len(LEVELS) - 1) * COLUMN_GAP
    height = max(column_bottom) + MARGIN
    box = COLUMN_WIDTH

    def x_of(column: int) -> int:
        return MARGIN + column * (COLUMN_WIDTH + COLUMN_GAP)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-label="{escape(toc.title)}">',
        f"<title>{escape(toc.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="22" font-size="15" font-weight="bold">{escape(toc.title)}</text>',
    ]
    for column, level in enumerate(LEVELS):
        parts.append(
            f'<text x="{x_of(column) + box // 2}" y="{HEADER - 8}" text-anchor="middle" font-weight="bold" '
            f'class="level">{escape(LEVEL_LABELS[level])}</text>'
        )
    for e in toc.edges:
        if e.source not in layout or e.target not in layout:
            continue
        sc, _, sh = layout[e.source]
        tc, _, th = layout[e.target]
        x1, y1 = x_of(sc) + box, tops[e.source] + sh // 2
        x2, y2 = x_of(tc), tops[e.target] + th // 2
        bend = max(30, (x2 - x1) // 2)
        title = f"<title>{escape(e.assumption)}</title>" if e.assumption else ""
        parts.append(
            f'<path class="edge" d="M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}" fill="none" '
            f'stroke="#555" stroke-width="1.3" marker-end="url(#arrow)">{title}</path>'
        )
    for node_id, (column, _row, h) in layout.items():
        node = nodes[node_id]
        x, y = x_of(column), tops[node_id]
        parts.append(f'<g class="node" id="node-{escape(node_id)}">')
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box}" height="{h}" rx="6" fill="{LEVEL_COLOURS[node.level]}" '
            'stroke="#7a869a"/>'
        )
        line_y = y + 18
        for line in _wrap(node.title):
            parts.append(f'<text x="{x + 8}" y="{line_y}" font-weight="bold">{escape(line)}</text>')
            line_y += LINE_HEIGHT
        for ind in node.indicators[:3]:
            text = f"{ind.name}: {_num(ind.baseline)} → {_num(ind.target)} {ind.unit} ({ind.target_year})"
            parts.append(f'<text x="{x + 8}" y="{line_y}" font-size="10.5">{escape(_wrap(text, 34, 1)[0])}</text>')
            line_y += LINE_HEIGHT
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def toc_mermaid(toc: TheoryOfChange) -> str:
    """The Theory of Change as Mermaid ``flowchart LR`` text: one subgraph per level (columns), edges with their
    assumptions as labels. Node ids are rewritten as ``n0``, ``n1``... (safe for Mermaid)."""
    ids = {n.id: f"n{i}" for i, n in enumerate(toc.nodes)}
    lines = ["flowchart LR"]
    for level in LEVELS:
        lines.append(f'  subgraph {level}["{_mermaid_text(LEVEL_LABELS[level])}"]')
        for n in toc.nodes:
            if n.level == level:
                lines.append(f'    {ids[n.id]}["{_mermaid_text(n.title)}"]')
        lines.append("  end")
    for e in toc.edges:
        if e.source in ids and e.target in ids:
            label = f'|"{_mermaid_text(e.assumption)}"|' if e.assumption else ""
            lines.append(f"  {ids[e.source]} -->{label} {ids[e.target]}")
    return "\n".join(lines) + "\n"
