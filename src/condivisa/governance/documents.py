"""Founding documents and minutes in Italian: statute, internal regulation, minutes of an assembly.

Each document is first built as a list of blocks (title, heading, paragraph, bullet list), filled with the
community's data; the blocks are then written as DOCX (python-docx) or as HTML. The PDF comes from LibreOffice
headless converting the DOCX when ``soffice`` is on the PATH (each conversion with its own private profile, so
parallel runs do not clash), otherwise from the HTML through WeasyPrint.

The benefit-sharing article uses :mod:`condivisa.governance.rules_text`, so the regulation says in words what the
engine applies.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from condivisa.governance.assembly import VOTE_LABELS, AssemblyOutcome
from condivisa.governance.legal_forms import CALL_LABELS, KIND_LABELS, LegalForm, common_sources
from condivisa.governance.rules_text import fund_name, regulation_paragraphs, sharing_rule_sentence
from condivisa.model.community import Community

BlockKind = Literal["title", "subtitle", "heading", "para", "bullet"]

KIND_WORDS = {
    "household": "persone fisiche (clienti domestici)",
    "business": "piccole e medie imprese",
    "municipality": "Comuni",
    "local_authority": "enti territoriali e autorità locali",
    "public_body": "altri enti pubblici",
    "third_sector": "enti del Terzo settore",
    "religious": "enti religiosi",
    "environmental": "enti di protezione ambientale",
    "university": "enti di ricerca e formazione",
    "other": "altri soggetti ammessi",
}
"""Italian names of the member categories (:data:`condivisa.model.community.MEMBER_KINDS`)."""

CONFIGURATION_WORDS = {
    "CER": "comunità energetica rinnovabile (CER)",
    "AUC": "gruppo di autoconsumatori di energia rinnovabile che agiscono collettivamente (AUC)",
    "AID": "autoconsumatore individuale di energia rinnovabile a distanza (AID)",
}


@dataclass(frozen=True)
class Block:
    """A piece of a document."""

    kind: BlockKind
    text: str


@dataclass(frozen=True)
class Charter:
    """What the founding documents need to know of a community.

    Attributes
    ----------
    community : Community
        The stored description (members, plants, regulation).
    municipality : str
        Municipality of the seat.
    seat_address : str
        Address of the seat (street, number); may be empty until decided.
    legal_form : LegalForm
    max_proxies : int
        Most proxies one delegate may hold (statute parameter).
    date : datetime.date
        Date printed on the documents.
    """

    community: Community
    municipality: str
    seat_address: str
    legal_form: LegalForm
    max_proxies: int
    date: dt.date = field(default_factory=dt.date.today)

    @property
    def cabine(self) -> list[str]:
        """Codes of the cabine primarie of the members' points and of the plants, sorted."""
        codes = {pt.cabina for _, pt in self.community.points()} | {p.cabina for p in self.community.plants}
        return sorted(codes)

    @property
    def funds(self) -> list[str]:
        """Names of the community's funds (``fund:NAME`` targets of the regulation and of the excess)."""
        names = [r.to for r in self.community.regulation if r.to.startswith("fund:")]
        if self.community.excess_to and self.community.excess_to.startswith("fund:"):
            names.append(self.community.excess_to)
        return list(dict.fromkeys(fund_name(n) for n in names))

    @property
    def seat(self) -> str:
        """The seat in words."""
        place = f"Comune di {self.municipality} ({self.community.region})"
        return f"{self.seat_address}, {place}" if self.seat_address else place


@dataclass(frozen=True)
class MinutesData:
    """An assembly as recorded, for its minutes (names of members by id, to print next to the ids)."""

    held_on: dt.date
    kind: str
    call: str
    place: str
    chair: str
    secretary: str
    agenda: Sequence[str]
    attendees: Sequence[tuple[str, tuple[str, ...]]]
    votes: Sequence[dict[str, str]]
    names: dict[str, str] = field(default_factory=dict)


class _Doc:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.article = 0

    def add(self, kind: BlockKind, text: str) -> None:
        self.blocks.append(Block(kind, text))

    def art(self, title: str, *paras: str) -> None:
        self.article += 1
        self.add("heading", f"Art. {self.article} – {title}")
        for p in paras:
            self.add("para", p)

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.add("bullet", item)


def _categories(community: Community) -> str:
    counts = Counter(m.kind for m in community.members)
    return "; ".join(f"{KIND_WORDS.get(k, k)}: {n}" for k, n in counts.items())


def _plants(community: Community) -> list[str]:
    return [
        f"impianto {p.id} ({p.technology}, {f'{p.power_kw:.1f}'.replace('.', ',')} kW, cabina primaria {p.cabina}, "
        f"in esercizio dal {p.commissioning_date:%d/%m/%Y}), nella disponibilità di {p.owner}"
        for p in community.plants
    ]


def statute_blocks(charter: Charter) -> list[Block]:
    """The statute (statuto) of the community, as blocks."""
    c, form = charter.community, charter.legal_form
    d = _Doc()
    d.add("title", f"Statuto della comunità «{c.name}»")
    d.add("subtitle", f"{form.name} – {CONFIGURATION_WORDS.get(c.configuration, c.configuration)}")
    d.art(
        "Costituzione e denominazione",
        f"È costituita, nella forma di {form.name}, la {CONFIGURATION_WORDS.get(c.configuration, '')} "
        f"denominata «{c.name}» (di seguito «la Comunità»). La Comunità è un soggetto di diritto autonomo ai sensi "
        "dell'articolo 31, comma 1, lettera b), del decreto legislativo 8 novembre 2021, n. 199.",
    )
    d.art(
        "Sede",
        f"La Comunità ha sede in {charter.seat}. Il trasferimento della sede nello stesso Comune è deciso "
        "dall'organo amministrativo.",
    )
    d.art(
        "Scopo e oggetto",
        "L'obiettivo principale della Comunità è fornire benefici ambientali, economici e sociali a livello di "
        "comunità ai propri soci e alle aree locali in cui opera, e non realizzare profitti finanziari (art. 31, "
        "comma 1, lettera a), D.Lgs. 199/2021).",
        "Per questo la Comunità produce energia da fonti rinnovabili con impianti nella propria disponibilità, la "
        "condivide tra i soci attraverso la rete di distribuzione, ne chiede al GSE la valorizzazione e gli "
        "incentivi, promuove l'efficienza energetica e il contrasto alla povertà energetica, anche con il fondo "
        "previsto da questo statuto.",
        f"La Comunità opera nell'area delle cabine primarie {', '.join(charter.cabine) or '(da indicare)'}.",
    )
    if c.plants:
        d.add("para", "Alla data di questo statuto gli impianti della Comunità sono:")
        d.bullets(_plants(c))
    d.art(
        "Soci",
        "Possono essere soci le persone fisiche, le piccole e medie imprese, gli enti territoriali e le autorità "
        "locali, ivi comprese le amministrazioni comunali, gli enti di ricerca e formazione, gli enti religiosi, "
        "del Terzo settore e di protezione ambientale, nonché le amministrazioni locali, che siano clienti finali "
        "con punti di prelievo nell'area della Comunità o che vi mettano a disposizione impianti.",
        "I poteri di controllo spettano esclusivamente a tali soggetti (art. 31, comma 1, lettera b), D.Lgs. "
        "199/2021). Per le imprese, la partecipazione alla Comunità non può costituire l'attività commerciale o "
        "industriale principale (lettera c). La partecipazione è aperta a tutti i consumatori, compresi quelli "
        "appartenenti a famiglie a basso reddito o vulnerabili (lettera d).",
        f"Alla data di questo statuto i soci sono {len(c.members)}, così suddivisi per categoria: {_categories(c)}.",
    )
    d.art(
        "Ammissione",
        "Chi intende diventare socio presenta domanda scritta all'organo amministrativo indicando i propri dati, "
        "la categoria e i punti di prelievo (POD). L'organo amministrativo decide entro sessanta giorni con "
        "delibera motivata, che è annotata nel libro dei soci con la data di ammissione; il rigetto è comunicato "
        "all'interessato, che può chiedere che sull'istanza si pronunci l'assemblea.",
    )
    d.art(
        "Recesso ed esclusione",
        "Ogni socio può recedere in qualsiasi momento dalla Comunità, con comunicazione scritta all'organo "
        "amministrativo, mantenendo i propri diritti di cliente finale, compreso quello di scegliere il proprio "
        "venditore (art. 31, comma 1, lettera d), e art. 32, comma 1, lettere a) e b), D.Lgs. 199/2021). Sono "
        "fatti salvi soltanto eventuali corrispettivi concordati per il recesso anticipato a fronte della "
        "compartecipazione agli investimenti, che devono essere equi e proporzionati.",
        "Il recesso ha effetto dalla data della comunicazione ed è annotato nel libro dei soci con la data e il "
        "motivo; il socio receduto partecipa alla ripartizione dei benefici fino a quella data.",
        "L'assemblea può escludere il socio che abbia gravemente violato lo statuto o il regolamento, dopo averlo "
        "sentito.",
    )
    d.art(
        "Organi",
        "Sono organi della Comunità l'assemblea dei soci, l'organo amministrativo, il presidente e, quando "
        "richiesto dalla legge o deciso dall'assemblea, l'organo di controllo.",
    )
    rules = [
        f"assemblea {KIND_LABELS[k]} in {CALL_LABELS[call]}: {charter.legal_form.rule(k, call).describe()}"
        for k in ("ordinary", "extraordinary")
        for call in ("first", "second")
    ]
    d.art(
        "Assemblea dei soci",
        "L'assemblea è convocata dal presidente con avviso inviato ai soci almeno otto giorni prima, con l'ordine "
        "del giorno, il luogo e la data della prima e della seconda convocazione, che non può tenersi nello stesso "
        "giorno della prima.",
        "Ogni socio ha un voto, qualunque sia la sua categoria, la sua quota o l'energia che condivide. Il socio "
        "può farsi rappresentare da un altro socio con delega scritta; ciascun socio non può essere delegato da "
        f"più di {charter.max_proxies} soci.",
        "L'assemblea ordinaria approva il bilancio o il rendiconto, elegge l'organo amministrativo, approva il "
        "regolamento interno e le sue modifiche; l'assemblea straordinaria delibera sulle modifiche dello statuto "
        "e sullo scioglimento. Si applicano le seguenti regole di costituzione e di voto:",
    )
    d.bullets(rules)
    d.add(
        "para",
        "In caso di parità dei voti la proposta si intende respinta. Delle riunioni è redatto verbale, firmato dal "
        "presidente e dal segretario, conservato nel libro delle assemblee e consultabile dai soci.",
    )
    d.art(
        "Organo amministrativo e presidente",
        "La Comunità è amministrata da un consiglio eletto dall'assemblea tra i soci, che dura in carica tre "
        "esercizi. Il presidente ha la rappresentanza legale della Comunità ed è il referente nei confronti del "
        "GSE, salvo che l'assemblea designi un diverso soggetto referente.",
    )
    d.art(
        "Ripartizione dei benefici",
        "I benefici economici derivanti dalla condivisione dell'energia sono ripartiti secondo il regolamento "
        "interno approvato dall'assemblea, che ne stabilisce i criteri in modo trasparente e verificabile.",
        sharing_rule_sentence(c),
    )
    funds = charter.funds
    if funds:
        names = ", ".join(f"«{f}»" for f in funds)
        d.art(
            "Fondo per la povertà energetica",
            f"È istituito presso la Comunità il fondo {names}, alimentato dalla quota dei benefici che il "
            "regolamento vi destina, per sostenere famiglie in condizione di povertà energetica o vulnerabili e "
            "progetti sociali nel territorio della Comunità.",
            "I beneficiari, soci o famiglie del territorio, sono individuati dall'organo amministrativo secondo "
            "criteri pubblici stabiliti dal regolamento (in particolare la fascia ISEE); le erogazioni non possono "
            "superare le disponibilità del fondo e sono rendicontate ogni anno all'assemblea.",
        )
    d.art(
        "Patrimonio ed esercizio",
        "Il patrimonio è costituito dai contributi dei soci, dai beni acquistati e dalle riserve. L'esercizio va dal "
        "1° gennaio al 31 dicembre. È vietata la distribuzione, anche indiretta, di utili e avanzi di gestione, "
        "salvo i benefici ripartiti secondo il regolamento e quanto consentito dalla forma giuridica.",
    )
    d.art(
        "Scioglimento",
        "In caso di scioglimento il patrimonio residuo è devoluto a enti con finalità analoghe o di pubblica "
        "utilità, secondo la deliberazione dell'assemblea straordinaria e la legge.",
    )
    d.art(
        "Controversie",
        "Le controversie tra i soci e tra i soci e la Comunità relative a questo statuto e al regolamento sono "
        "sottoposte prima a un tentativo di mediazione ai sensi del D.Lgs. 4 marzo 2010, n. 28, presso un "
        f"organismo con sede nella provincia della Comunità; in mancanza di accordo è competente il foro del luogo "
        f"in cui ha sede la Comunità ({charter.municipality}).",
    )
    d.art(
        "Rinvio",
        "Per quanto non previsto si applicano le norme del Codice civile, del D.Lgs. 199/2021, dei decreti attuativi "
        "e delle Regole operative del GSE, e le altre norme applicabili alla forma giuridica scelta.",
    )
    d.add("heading", "Riferimenti")
    d.bullets([*common_sources(), *form.sources])
    d.add("para", f"{charter.municipality}, {charter.date:%d/%m/%Y}")
    return d.blocks


def regulation_blocks(charter: Charter) -> list[Block]:
    """The internal regulation (regolamento interno), with the benefit-sharing rule the engine applies."""
    c = charter.community
    d = _Doc()
    d.add("title", f"Regolamento interno della comunità «{c.name}»")
    d.add("subtitle", f"Sede: {charter.seat}")
    d.art(
        "Oggetto",
        "Questo regolamento attua lo statuto: disciplina l'ammissione e il recesso dei soci, l'uso dei dati di "
        "misura, la ripartizione dei benefici economici, il fondo per la povertà energetica e lo svolgimento delle "
        "assemblee.",
    )
    d.art(
        "Ammissione dei soci",
        "La domanda di ammissione indica il codice POD di ciascun punto di prelievo e la cabina primaria; con "
        "l'ammissione il socio autorizza la Comunità e il GSE a ricevere le misure dei suoi punti. L'ammissione ha "
        "effetto, ai fini della ripartizione, dalla data in cui il GSE include il punto nella configurazione.",
    )
    d.art(
        "Dati di misura e riservatezza",
        "I dati di misura e i dati personali dei soci sono trattati solo per gestire la configurazione e ripartire "
        "i benefici, nel rispetto del Regolamento (UE) 2016/679; ogni socio vede i propri dati e i totali della "
        "Comunità, non i dati degli altri soci.",
    )
    d.art("Ripartizione dei benefici economici", *regulation_paragraphs(c))
    if charter.funds:
        d.art(
            "Fondo per la povertà energetica",
            "Il fondo riceve gli importi che le regole precedenti gli destinano. Possono esserne beneficiari i soci "
            "e le famiglie residenti nell'area della Comunità con ISEE entro le fasce stabilite dall'organo "
            "amministrativo; i beneficiari sono registrati con uno pseudonimo e la fascia ISEE, senza altri dati "
            "personali nei documenti della Comunità.",
            "Il saldo del fondo è dato dagli importi ricevuti meno le erogazioni e non può mai essere negativo: "
            "nessuna erogazione può superarlo. Il rendiconto del fondo è presentato ogni anno all'assemblea.",
        )
    d.art(
        "Recesso",
        "Il socio che recede lo comunica per iscritto; la Comunità chiede al GSE di togliere i suoi punti dalla "
        "configurazione. Le sue quote dei periodi precedenti al recesso sono pagate alla scadenza ordinaria.",
    )
    d.art(
        "Assemblee e voto",
        "Ogni socio ha un voto; le deleghe sono scritte e ogni socio ne può ricevere al massimo "
        f"{charter.max_proxies}. Per ogni punto all'ordine del giorno il verbale riporta i presenti, i "
        "rappresentati, i voti favorevoli, contrari e le astensioni e l'esito con la sua motivazione.",
    )
    d.art(
        "Modifiche",
        "Il regolamento è modificato dall'assemblea ordinaria. Una modifica delle regole di ripartizione si "
        "applica dai periodi di riparto successivi alla delibera.",
    )
    d.add("para", f"{charter.municipality}, {charter.date:%d/%m/%Y}")
    return d.blocks


def minutes_blocks(charter: Charter, minutes: MinutesData, outcome: AssemblyOutcome) -> list[Block]:
    """The minutes (verbale) of an assembly, with attendance, proxies, votes and the outcome with its reasons."""
    c = charter.community
    d = _Doc()
    kind = KIND_LABELS.get(minutes.kind, minutes.kind)
    d.add("title", f"Verbale dell'assemblea {kind} dei soci")
    d.add("subtitle", f"{c.name} – {minutes.held_on:%d/%m/%Y}, {CALL_LABELS.get(minutes.call, minutes.call)}")
    d.add(
        "para",
        f"Il giorno {minutes.held_on:%d/%m/%Y}"
        + (f", presso {minutes.place}" if minutes.place else "")
        + f", si è riunita l'assemblea {kind} dei soci della comunità «{c.name}»"
        + (f", presieduta da {minutes.chair}" if minutes.chair else "")
        + (f", segretario {minutes.secretary}" if minutes.secretary else "")
        + ".",
    )
    d.add("heading", "Ordine del giorno")
    d.bullets([f"{i + 1}. {a}" for i, a in enumerate(minutes.agenda)])
    d.add("heading", "Presenti e deleghe")

    def who(member: str) -> str:
        name = minutes.names.get(member, "")
        return f"{member} ({name})" if name else member

    rows = []
    for member, proxies in minutes.attendees:
        line = who(member)
        if proxies:
            line += ", con delega di " + ", ".join(who(p) for p in proxies)
        rows.append(line)
    d.bullets(rows or ["nessuno"])
    d.add("heading", "Costituzione dell'assemblea")
    for reason in outcome.reasons:
        d.add("para", reason)
    d.add("heading", "Deliberazioni")
    for i, (item, result) in enumerate(zip(minutes.agenda, outcome.items, strict=False)):
        d.add("para", f"Punto {i + 1} – {item}: {result.reason}.")
        ballot = minutes.votes[i] if i < len(minutes.votes) else {}
        for value in ("yes", "no", "abstain"):
            ids = [who(m) for m, v in ballot.items() if v == value]
            if ids:
                d.add("bullet", f"{VOTE_LABELS[value]}: " + ", ".join(ids))
    d.add("para", "Non essendovi altro da deliberare, la riunione è chiusa. Letto, approvato e sottoscritto.")
    blank = "________________"
    d.add("para", f"Il presidente: {minutes.chair or blank}    Il segretario: {minutes.secretary or blank}")
    return d.blocks


# Writers ----------------------------------------------------------------------------------------------------------


def to_docx(blocks: Sequence[Block]) -> bytes:
    """The blocks as a DOCX file (python-docx, A4-agnostic default template)."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Liberation Serif"  # type: ignore[attr-defined]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    doc.core_properties.language = "it-IT"
    for b in blocks:
        if b.kind == "title":
            doc.add_heading(b.text, level=0)
            doc.core_properties.title = b.text
        elif b.kind == "subtitle":
            doc.add_paragraph(b.text, style="Subtitle")
        elif b.kind == "heading":
            doc.add_heading(b.text, level=2)
        elif b.kind == "bullet":
            doc.add_paragraph(b.text, style="List Bullet")
        else:
            doc.add_paragraph(b.text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_html(blocks: Sequence[Block]) -> str:
    """The blocks as a self-contained HTML page (for the WeasyPrint fallback)."""
    tags = {"title": "h1", "subtitle": "h2", "heading": "h3", "para": "p"}
    title = next((b.text for b in blocks if b.kind == "title"), "Documento")
    parts = [
        '<!doctype html><html lang="it"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>@page{size:A4;margin:2cm}body{font-family:serif;font-size:11pt;line-height:1.4}"
        "h1{font-size:18pt}h2{font-size:12pt;font-weight:normal}h3{font-size:12pt;margin-top:1em}</style>",
        "</head><body>",
    ]
    in_list = False
    for b in blocks:
        if b.kind == "bullet" and not in_list:
            parts.append("<ul>")
            in_list = True
        elif b.kind != "bullet" and in_list:
            parts.append("</ul>")
            in_list = False
        if b.kind == "bullet":
            parts.append(f"<li>{html.escape(b.text)}</li>")
        else:
            tag = tags[b.kind]
            parts.append(f"<{tag}>{html.escape(b.text)}</{tag}>")
    if in_list:
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def docx_text(data: bytes) -> str:
    """The text of a DOCX file, one paragraph per line (python-docx)."""
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def soffice_path() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_convert(data: bytes, target: str, *, suffix: str = ".docx", timeout_s: float = 180.0) -> bytes:
    """Convert a document with LibreOffice headless (``soffice --headless --convert-to TARGET``).

    Each call uses its own temporary profile (``-env:UserInstallation``), so conversions may run in parallel.

    Raises
    ------
    RuntimeError
        LibreOffice is missing, fails or produces no file.
    """
    binary = soffice_path()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) non è installato")
    with tempfile.TemporaryDirectory(prefix="condivisa-lo-") as tmp:
        work = Path(tmp)
        source = work / f"documento{suffix}"
        source.write_bytes(data)
        profile = work / f"profilo-{uuid.uuid4().hex}"
        cmd = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        ext = target.split(":", 1)[0]
        result = work / "out" / f"documento.{ext}"
        if done.returncode != 0 or not result.exists():
            raise RuntimeError(f"conversione LibreOffice non riuscita ({done.returncode}): {done.stderr[-500:]}")
        return result.read_bytes()


def to_pdf(blocks: Sequence[Block], *, prefer: Literal["auto", "soffice", "weasyprint"] = "auto") -> bytes:
    """The blocks as PDF: LibreOffice converts the DOCX when available (``auto``), else WeasyPrint the HTML."""
    if prefer == "soffice" or (prefer == "auto" and soffice_path() is not None):
        return soffice_convert(to_docx(blocks), "pdf")
    from weasyprint import HTML  # imported here: loading it costs time

    pdf = HTML(string=to_html(blocks)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def statute_docx(charter: Charter) -> bytes:
    """The statute as DOCX."""
    return to_docx(statute_blocks(charter))


def regulation_docx(charter: Charter) -> bytes:
    """The internal regulation as DOCX."""
    return to_docx(regulation_blocks(charter))
