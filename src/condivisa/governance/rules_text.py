"""The community's benefit-sharing regulation in Italian words that say exactly what the engine does.

:func:`condivisa.allocation.apply_regulation` splits the money of a period (TIP + ARERA valorisation, rounded to the
cent): first the yearly excess TIP (``excess_to``), then the rest among the rules by their shares, then each rule's
amount among its recipients by its basis, always in whole cents by largest remainders. The sentences below are
built from the same data (``Community.regulation`` and ``Community.excess_to``) and describe those steps one by
one, with the same percentages, bases and tie-breaks; the tests apply the numbers read back from the words and
get the engine's allocation.
"""

from __future__ import annotations

from dataclasses import dataclass

from condivisa.model.community import Community, RegulationRule

BASIS_WORDS = {
    ("producers", "incentivised_injection"): (
        "in proporzione all'energia immessa incentivata dei loro impianti, cioè all'energia immessa in rete da "
        "ciascun impianto che, ora per ora, è risultata condivisa nella sua cabina primaria e ha ricevuto la "
        "tariffa premio"
    ),
    ("producers", "injected"): "in proporzione all'energia immessa in rete dai loro impianti nel periodo",
    ("producers", "equal"): "in parti uguali",
    ("consumers", "shared_withdrawal"): (
        "in proporzione all'energia condivisa prelevata da ciascuno, cioè alla parte dell'energia condivisa "
        "incentivata della propria cabina primaria attribuita, ora per ora, ai suoi punti di prelievo in "
        "proporzione a quanto ciascun punto ha prelevato in quell'ora, sommata sulle ore del periodo"
    ),
    ("consumers", "withdrawn"): "in proporzione all'energia prelevata dalla rete dai suoi punti nel periodo",
    ("consumers", "equal"): "in parti uguali",
}
"""The words of each (recipients, basis) pair of :data:`condivisa.model.community.REGULATION_BASES`."""

BASIS_KEYWORDS = {
    "energia immessa incentivata": "incentivised_injection",
    "energia immessa in rete dai loro impianti": "injected",
    "energia condivisa prelevata": "shared_withdrawal",
    "energia prelevata dalla rete": "withdrawn",
    "parti uguali": "equal",
}
"""Key phrases that name each basis in the sentences (used to read a sentence back)."""

GROUP_WORDS = {
    "producers": "tra i produttori, cioè tra i titolari degli impianti della configurazione (soci o terzi)",
    "consumers": "tra i consumatori, cioè tra tutti i soci della comunità",
}


@dataclass(frozen=True)
class RuleSentence:
    """One step of the regulation in words.

    ``rule`` is the 0-based rule index (-1 for the yearly excess), ``percent`` the share as written in the text
    (Italian decimal comma, e.g. ``"12,5"``), ``text`` the full sentence.
    """

    rule: int
    percent: str | None
    text: str


def percent_text(share: float) -> str:
    """A share as an Italian percentage number without trailing zeros: 0.25 -> "25", 0.125 -> "12,5".

    Up to six decimals are kept, so the number written gives back the share to 1e-8.
    """
    text = f"{share * 100:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def fund_name(target: str) -> str:
    """``fund:NOME`` -> ``NOME``."""
    return target.split(":", 1)[1] if target.startswith("fund:") else target


def _recipient_words(rule: RegulationRule, community: Community) -> str:
    if rule.to.startswith("fund:"):
        return f"è destinato al fondo «{fund_name(rule.to)}» della comunità"
    if rule.to in GROUP_WORDS:
        basis = BASIS_WORDS[(rule.to, str(rule.by))]
        return f"è ripartito {GROUP_WORDS[rule.to]}, {basis}"
    names = {m.id: m.name for m in community.members}
    name = names.get(rule.to, "")
    return f"è attribuito al socio {rule.to}" + (f" ({name})" if name else "") + " come quota fissa"


def rule_sentences(community: Community) -> list[RuleSentence]:
    """One sentence per step: the yearly excess first (when ``excess_to`` is set), then each rule in order."""
    out: list[RuleSentence] = []
    if community.excess_to:
        if community.excess_to == "consumers":
            target = (
                "ai soli soci consumatori che non sono imprese, in proporzione all'energia condivisa prelevata da "
                "ciascuno"
            )
        else:
            target = f"al fondo «{fund_name(community.excess_to)}» della comunità"
        out.append(
            RuleSentence(
                -1,
                None,
                "Prima di ogni altra ripartizione, l'eventuale quota eccedente della tariffa premio accertata nel "
                "conguaglio annuale (la parte della tariffa premio corrispondente alla quota di energia condivisa "
                "oltre il 55% dell'energia immessa, oltre il 45% per gli impianti che hanno ricevuto un contributo "
                f"in conto capitale) è destinata {target}; se supera l'importo del periodo, vi è destinato l'intero "
                "importo.",
            )
        )
    for i, rule in enumerate(community.regulation):
        pct = percent_text(rule.share)
        out.append(
            RuleSentence(
                i, pct, f"Regola {i + 1}: il {pct}% dell'importo da ripartire {_recipient_words(rule, community)}."
            )
        )
    return out


def sharing_rule_sentence(community: Community) -> str:
    """The whole regulation in one sentence (for the statute, the overview page and the tests)."""
    if not community.regulation:
        return "La comunità non ha ancora approvato una regola di ripartizione: l'importo resta non ripartito."
    parts = []
    for rule in community.regulation:
        pct = percent_text(rule.share)
        if rule.to.startswith("fund:"):
            parts.append(f"il {pct}% al fondo «{fund_name(rule.to)}»")
        elif rule.to == "producers":
            parts.append(f"il {pct}% ai produttori {BASIS_WORDS[(rule.to, str(rule.by))].split(', cioè')[0]}")
        elif rule.to == "consumers":
            parts.append(f"il {pct}% ai consumatori {BASIS_WORDS[(rule.to, str(rule.by))].split(', cioè')[0]}")
        else:
            parts.append(f"il {pct}% al socio {rule.to}")
    text = "I benefici economici sono ripartiti così: " + ", ".join(parts) + "."
    if community.excess_to == "consumers":
        text += " La quota eccedente della tariffa premio va prima ai soci consumatori che non sono imprese."
    elif community.excess_to:
        text += f" La quota eccedente della tariffa premio va prima al fondo «{fund_name(community.excess_to)}»."
    return text


def regulation_paragraphs(community: Community) -> list[str]:
    """The article on benefit sharing of the internal regulation, as paragraphs: the amount, each step, the
    arithmetic (cents, largest remainders, tie-breaks) and what happens when a basis or a group is empty."""
    paras = [
        "Importo da ripartire. Per ogni periodo di riparto la comunità ripartisce la somma della tariffa premio "
        "(TIP) riconosciuta dal GSE sull'energia condivisa incentivata e della valorizzazione ARERA dell'energia "
        "condivisa (restituzione delle componenti tariffarie; per i gruppi di autoconsumo anche le perdite di rete "
        "evitate), arrotondata al centesimo di euro.",
    ]
    paras += [s.text for s in rule_sentences(community)]
    if community.regulation:
        paras.append(
            "Calcolo in centesimi. L'importo, al netto dell'eventuale quota eccedente, è diviso prima tra le regole "
            "in proporzione alle loro percentuali e poi, per ciascuna regola, tra i suoi destinatari secondo la sua "
            "base. Ogni divisione è fatta in centesimi con il metodo dei resti maggiori: ciascuno riceve la parte "
            "intera della propria quota esatta e i centesimi che restano vanno, uno ciascuno, alle quote con il "
            "resto più grande; a parità di resto prevale la regola che viene prima e, tra i destinatari, "
            "l'identificativo che viene prima in ordine alfabetico. Così la somma delle quote è esattamente "
            "l'importo e nessuna quota è negativa."
        )
        paras.append(
            "Casi particolari. Se la base di una regola è nulla per tutti i destinatari (per esempio nessuna "
            "energia condivisa nel periodo), la quota di quella regola è divisa in parti uguali tra loro; se una "
            "regola non ha destinatari (per esempio nessun impianto), la sua quota resta non ripartita e "
            "l'assemblea ne decide la destinazione."
        )
    return paras
