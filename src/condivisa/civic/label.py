"""The municipality's quality label for local energy communities: criteria as data, evidence, evaluation.

A municipality states its guidelines as :class:`Criterion` rows (kinds ``boolean``, ``min_share``, ``min_count``);
a community applies with one :class:`Evidence` per criterion; :func:`evaluate` tells for each criterion whether it
is met and why, the weighted score and whether the community is eligible (every required criterion met and score
at least the minimum). The officer decides in the end: the evaluation is advice, never the award itself.

Units: ``min_share`` thresholds and values are percentages [%] in 0..100; ``min_count`` ones are counts [-];
scores are fractions [0..1]. Nothing here reads the database or the network; :func:`default_criteria` reads the
bundled ``data/label_criteria.toml``.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal

CRITERION_KINDS = ("boolean", "min_share", "min_count")
"""``boolean``: yes or no; ``min_share``: a percentage at least the threshold; ``min_count``: a count at least the
threshold."""

CriterionKind = Literal["boolean", "min_share", "min_count"]

DEFAULT_MIN_SCORE = 0.6
"""Weighted share of criteria met needed for the label when a municipality states none [0..1]."""

DEFAULT_VALIDITY_YEARS = 2
"""Years a label stays valid after its award, when a municipality states none."""

_TRUE = {"si", "sì", "yes", "true", "1", "vero", "on", "x"}
_FALSE = {"no", "false", "0", "falso", "off", ""}


@dataclass(frozen=True)
class Criterion:
    """One criterion of a municipality's guidelines.

    Parameters
    ----------
    code : str
        Short identifier, unique within the municipality (``famiglie_vulnerabili``).
    title : str
        Title shown to people.
    kind : {"boolean", "min_share", "min_count"}
        How evidence is judged.
    threshold : float or None
        ``min_share``: the least share [%]; ``min_count``: the least count [-]; None for ``boolean``.
    required : bool
        A community missing it is never eligible, whatever its score.
    weight : float
        Weight in the score [-], at least 0.
    description, source : str
        What it asks; the text it comes from.
    proposal : bool
        True when the threshold is a proposal, not a figure of a primary text.
    """

    code: str
    title: str
    kind: CriterionKind
    threshold: float | None = None
    required: bool = False
    weight: float = 1.0
    description: str = ""
    source: str = ""
    proposal: bool = False

    def __post_init__(self) -> None:
        check_criterion(self.code, self.kind, self.threshold, self.weight)


@dataclass(frozen=True)
class Evidence:
    """A community's evidence for one criterion: the value and a note (text or URL of a document).

    ``value`` is a bool for ``boolean`` criteria, a percentage [%] for ``min_share``, a count for ``min_count``;
    None when the community gave no value.
    """

    code: str
    value: float | bool | None
    note: str = ""


@dataclass(frozen=True)
class CriterionResult:
    """The automatic judgement of one criterion."""

    code: str
    title: str
    met: bool
    reason: str
    required: bool
    weight: float


@dataclass(frozen=True)
class Evaluation:
    """The automatic evaluation of an application.

    Attributes
    ----------
    results : tuple of CriterionResult
        One per criterion, in the order of the criteria.
    score : float
        Weight of the criteria met over the weight of all criteria [0..1] (1 when all weights are 0 and all met).
    min_score : float
        The minimum asked [0..1].
    missing_required : tuple of str
        Codes of the required criteria not met.
    eligible : bool
        Every required criterion met and ``score >= min_score``.
    """

    results: tuple[CriterionResult, ...]
    score: float
    min_score: float
    missing_required: tuple[str, ...]
    eligible: bool


def check_criterion(code: str, kind: str, threshold: float | None, weight: float) -> None:
    """Raise ``ValueError`` (Italian, naming the field) if a criterion's definition is not usable."""
    if not code.strip():
        raise ValueError("codice: obbligatorio")
    if kind not in CRITERION_KINDS:
        raise ValueError(f"tipo: {kind!r} non valido (ammessi: {', '.join(CRITERION_KINDS)})")
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"peso: {weight!r} non valido (numero maggiore o uguale a 0)")
    if kind == "boolean":
        return
    if threshold is None or not math.isfinite(threshold) or threshold < 0:
        raise ValueError(f"soglia: obbligatoria per il tipo {kind} (numero maggiore o uguale a 0)")
    if kind == "min_share" and threshold > 100:
        raise ValueError(f"soglia: {threshold} oltre il 100 % (le quote sono in percentuale)")


def parse_value(kind: str, raw: str) -> float | bool | None:
    """The value typed in a form for a criterion of ``kind``; None when left empty.

    Raises
    ------
    ValueError
        Italian message: not a yes/no, not a number, a share outside 0..100 or a negative count.
    """
    text = raw.strip().lower()
    if kind == "boolean":
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False if text else None
        raise ValueError(f"valore {raw!r} non valido: rispondere sì o no")
    if not text:
        return None
    try:
        value = float(text.replace("%", "").replace(",", ".").strip())
    except ValueError as exc:
        raise ValueError(f"valore {raw!r} non valido: serve un numero") from exc
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"valore {raw!r} non valido: serve un numero maggiore o uguale a 0")
    if kind == "min_share" and value > 100:
        raise ValueError(f"valore {raw!r} non valido: una quota è una percentuale tra 0 e 100")
    return value


def _fmt(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def judge(criterion: Criterion, evidence: Evidence | None) -> CriterionResult:
    """Whether ``evidence`` meets ``criterion``, with the reason in Italian (edges count as met: ``>=``)."""
    c = criterion
    value = None if evidence is None else evidence.value
    if value is None:
        met, reason = False, "nessuna evidenza fornita"
    elif c.kind == "boolean":
        met = value is True or (not isinstance(value, bool) and value >= 1)
        reason = "dichiarato e documentato" if met else "non soddisfatto secondo la comunità"
    else:
        number = float(value)
        threshold = float(c.threshold or 0.0)
        unit = " %" if c.kind == "min_share" else ""
        met = number >= threshold
        sign = "≥" if met else "<"
        reason = f"{_fmt(number)}{unit} {sign} soglia {_fmt(threshold)}{unit}"
    return CriterionResult(c.code, c.title, met, reason, c.required, c.weight)


def evaluate(
    criteria: Iterable[Criterion], evidence: Iterable[Evidence] | Mapping[str, Evidence], *, min_score: float
) -> Evaluation:
    """Judge the evidence against every criterion.

    Parameters
    ----------
    criteria : iterable of Criterion
        The active criteria of the municipality.
    evidence : iterable of Evidence, or mapping code -> Evidence
        The community's evidence; a criterion without evidence is not met; evidence for unknown codes is ignored.
    min_score : float
        Least weighted share of criteria met [0..1].

    Returns
    -------
    Evaluation
        Per criterion met or not with the reason, score, missing required criteria, eligibility.
    """
    by_code = dict(evidence) if isinstance(evidence, Mapping) else {e.code: e for e in evidence}
    results = tuple(judge(c, by_code.get(c.code)) for c in criteria)
    total = sum(r.weight for r in results)
    got = sum(r.weight for r in results if r.met)
    all_met = all(r.met for r in results)
    score = got / total if total > 0 else (1.0 if all_met else 0.0)
    missing = tuple(r.code for r in results if r.required and not r.met)
    eligible = not missing and score >= min_score - 1e-12
    return Evaluation(results, score, min_score, missing, eligible)


def label_expiry(awarded_on: dt.date, validity_years: int) -> dt.date:
    """The day a label awarded on ``awarded_on`` expires: the same day ``validity_years`` later (28 February for a
    29 February award that lands on a common year)."""
    if validity_years < 1:
        raise ValueError(f"anni di validità: {validity_years} non valido (almeno 1)")
    year = awarded_on.year + validity_years
    try:
        return awarded_on.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def label_state(expires_on: dt.date | None, today: dt.date) -> Literal["valid", "expired", "none"]:
    """``valid`` until the expiry day included, ``expired`` after it, ``none`` without a label."""
    if expires_on is None:
        return "none"
    return "valid" if today <= expires_on else "expired"


@dataclass(frozen=True)
class LabelDefaults:
    """The bundled default guidelines: criteria, minimum score [0..1], validity [years]."""

    criteria: tuple[Criterion, ...]
    min_score: float
    validity_years: int


def default_criteria() -> LabelDefaults:
    """The default criteria and settings from ``condivisa/civic/data/label_criteria.toml``."""
    ref = resources.files("condivisa.civic") / "data" / "label_criteria.toml"
    with ref.open("rb") as fh:
        data = tomllib.load(fh)
    settings = data.get("settings", {})
    criteria = tuple(
        Criterion(
            code=str(c["code"]),
            title=str(c["title"]),
            kind=c["kind"],
            threshold=None if c.get("threshold") is None else float(c["threshold"]),
            required=bool(c.get("required", False)),
            weight=float(c.get("weight", 1.0)),
            description=str(c.get("description", "")),
            source=str(c.get("source", "")),
            proposal=bool(c.get("proposal", False)),
        )
        for c in data.get("criteria", [])
    )
    return LabelDefaults(
        criteria,
        float(settings.get("min_score", DEFAULT_MIN_SCORE)),
        int(settings.get("validity_years", DEFAULT_VALIDITY_YEARS)),
    )
