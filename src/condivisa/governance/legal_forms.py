"""Legal forms a renewable energy community can take, with their consequences and assembly rules, as data.

The forms, their requirements, liability, governance, tax notes, fit and sources live in
``governance/data/legal_forms.toml``; so do the quorum and majority of each assembly (ordinary or extraordinary)
and call (first or second), and the default maximum number of proxies per delegate. Nothing here is legal advice:
the texts summarise the sources they name.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Any, Literal, get_args

AssemblyKind = Literal["ordinary", "extraordinary"]
Call = Literal["first", "second"]
MajorityBase = Literal["present", "cast", "members"]
ASSEMBLY_KINDS: tuple[str, ...] = get_args(AssemblyKind)
CALLS: tuple[str, ...] = get_args(Call)
MAJORITY_BASES: tuple[str, ...] = get_args(MajorityBase)

KIND_LABELS = {"ordinary": "ordinaria", "extraordinary": "straordinaria"}
CALL_LABELS = {"first": "prima convocazione", "second": "seconda convocazione"}


@dataclass(frozen=True)
class QuorumRule:
    """Quorum and majority of one assembly kind at one call.

    Attributes
    ----------
    present : Fraction
        Minimum share of the members with voting rights present in person or by proxy [unitless, 0-1].
    present_strict : bool
        True: the share must exceed ``present``; False: reach it.
    majority : Fraction
        Share of the ``base`` that "yes" votes must exceed (``majority_strict``) or reach [unitless, 0-1].
    majority_strict : bool
    base : str
        ``present`` (present or represented members: abstentions count against), ``cast`` (yes + no) or
        ``members`` (all members with voting rights).
    """

    present: Fraction
    majority: Fraction
    base: MajorityBase = "present"
    present_strict: bool = False
    majority_strict: bool = True

    def describe(self) -> str:
        """The rule in Italian words (for the statute and the minutes)."""
        if self.present == 0:
            quorum = "valida qualunque sia il numero dei soci presenti o rappresentati"
        else:
            share = threshold_words(self.present, self.present_strict)
            quorum = f"valida con la presenza, in proprio o per delega, di {share} dei soci"
        base = {
            "present": "dei soci presenti o rappresentati (gli astenuti contano come non favorevoli)",
            "cast": "dei voti espressi (gli astenuti non si contano)",
            "members": "di tutti i soci con diritto di voto",
        }[self.base]
        share = threshold_words(self.majority, self.majority_strict)
        return f"{quorum}; delibera con il voto favorevole di {share} {base}"


@dataclass(frozen=True)
class LegalForm:
    """A legal form with its consequences (Italian sentences) and its assembly rules."""

    key: str
    name: str
    summary: str
    requirements: tuple[str, ...]
    liability: tuple[str, ...]
    governance: tuple[str, ...]
    tax: tuple[str, ...]
    fits: str
    sources: tuple[str, ...]
    max_proxies: int
    quorum: dict[tuple[str, str], QuorumRule]
    max_proxies_large: int | None = None
    large_from: int | None = None

    def rule(self, kind: str, call: str) -> QuorumRule:
        """The quorum rule of ``kind`` (ordinary, extraordinary) at ``call`` (first, second)."""
        if kind not in ASSEMBLY_KINDS:
            raise ValueError(f"tipo di assemblea {kind!r} sconosciuto; ammessi: {', '.join(ASSEMBLY_KINDS)}")
        if call not in CALLS:
            raise ValueError(f"convocazione {call!r} sconosciuta; ammesse: {', '.join(CALLS)}")
        return self.quorum[(kind, call)]

    def default_max_proxies(self, members: int) -> int:
        """Default maximum proxies per delegate for a community of ``members`` members (statute may lower it)."""
        if self.max_proxies_large is not None and self.large_from is not None and members >= self.large_from:
            return self.max_proxies_large
        return self.max_proxies


def fraction_words(value: Fraction) -> str:
    """A fraction in Italian words: 1/2 -> "la metà", 3/4 -> "tre quarti", otherwise a percentage."""
    names = {
        Fraction(1, 2): "la metà",
        Fraction(1, 3): "un terzo",
        Fraction(2, 3): "due terzi",
        Fraction(3, 4): "tre quarti",
        Fraction(1, 4): "un quarto",
        Fraction(1): "la totalità",
    }
    if value in names:
        return names[value]
    return f"il {float(value) * 100:.4g}%".replace(".", ",")


def threshold_words(value: Fraction, strict: bool) -> str:
    """ "più della metà", "almeno due terzi"...: a share to exceed (``strict``) or to reach, in Italian."""
    words = fraction_words(value)
    if not strict:
        return f"almeno {words}"
    if words.startswith("la "):
        return "più della " + words[3:]
    if words.startswith("il "):
        return "più del " + words[3:]
    return f"più di {words}"


def _fraction(value: Any, where: str) -> Fraction:
    try:
        out = Fraction(str(value))
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"{where}: frazione non valida {value!r}") from exc
    if not 0 <= out <= 1:
        raise ValueError(f"{where}: frazione fuori da 0-1 ({value!r})")
    return out


def _rule(data: dict[str, Any], where: str) -> QuorumRule:
    base = str(data.get("base", "present"))
    if base not in MAJORITY_BASES:
        raise ValueError(f"{where}: base {base!r} sconosciuta; ammesse: {', '.join(MAJORITY_BASES)}")
    return QuorumRule(
        present=_fraction(data["present"], f"{where}.present"),
        majority=_fraction(data["majority"], f"{where}.majority"),
        base=base,  # type: ignore[arg-type]
        present_strict=bool(data.get("present_strict", False)),
        majority_strict=bool(data.get("majority_strict", True)),
    )


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("condivisa.governance").joinpath("data/legal_forms.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@functools.cache
def legal_forms() -> dict[str, LegalForm]:
    """All legal forms by key, in the order of the data file."""
    out: dict[str, LegalForm] = {}
    for key, f in _data()["forms"].items():
        quorum = {}
        for kind in ASSEMBLY_KINDS:
            for call in CALLS:
                quorum[(kind, call)] = _rule(f["quorum"][f"{kind}_{call}"], f"forms.{key}.quorum.{kind}_{call}")
        out[key] = LegalForm(
            key=key,
            name=f["name"],
            summary=f["summary"],
            requirements=tuple(f["requirements"]),
            liability=tuple(f["liability"]),
            governance=tuple(f["governance"]),
            tax=tuple(f["tax"]),
            fits=f["fits"],
            sources=tuple(f["sources"]),
            max_proxies=int(f["max_proxies"]),
            quorum=quorum,
            max_proxies_large=f.get("max_proxies_large"),
            large_from=f.get("large_from"),
        )
    return out


def common_sources() -> tuple[str, ...]:
    """Sources valid for every form (D.Lgs. 199/2021 art. 31-32, DM 414/2023, GSE Regole operative, TIAD)."""
    return tuple(_data()["common"]["sources"])


def legal_form(key: str) -> LegalForm:
    """The legal form ``key``.

    Raises
    ------
    ValueError
        Unknown key (the message lists the known ones).
    """
    forms = legal_forms()
    if key not in forms:
        raise ValueError(f"forma giuridica {key!r} sconosciuta; ammesse: {', '.join(forms)}")
    return forms[key]
