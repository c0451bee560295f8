"""Statute, regulation and minutes: the community's data and sharing rule in the DOCX, and LibreOffice opens them."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from condivisa.demo import demo_community
from condivisa.governance.assembly import Attendee, assembly_outcome
from condivisa.governance.documents import (
    Charter,
    MinutesData,
    docx_text,
    minutes_blocks,
    regulation_blocks,
    regulation_docx,
    soffice_convert,
    statute_blocks,
    statute_docx,
    to_docx,
    to_html,
    to_pdf,
)
from condivisa.governance.legal_forms import legal_form, legal_forms
from condivisa.governance.rules_text import rule_sentences, sharing_rule_sentence

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) non installato")


@pytest.fixture(scope="module")
def charter() -> Charter:
    return Charter(
        community=demo_community(),
        municipality="Borgo Demo",
        seat_address="Piazza del Municipio 1",
        legal_form=legal_form("associazione_ets"),
        max_proxies=3,
        date=dt.date(2026, 3, 1),
    )


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_statute_docx_has_the_community_data(charter: Charter) -> None:
    text = docx_text(statute_docx(charter))
    for expected in (
        "CER Borgo Demo",
        "Borgo Demo",
        "Piazza del Municipio 1",
        "Associazione del Terzo settore",
        "AC001E00123",
        "art. 31, comma 1, lettera a)",
        "recedere in qualsiasi momento",
        "non può essere delegato da più di 3 soci",
        "fondo «sociale», «gestione»",
        "mediazione",
        sharing_rule_sentence(charter.community),
    ):
        assert expected in text, expected
    assert f"i soci sono {len(charter.community.members)}" in text


def test_regulation_docx_has_the_engine_rule_word_for_word(charter: Charter) -> None:
    text = docx_text(regulation_docx(charter))
    assert "CER Borgo Demo" in text and "Borgo Demo" in text
    for sentence in rule_sentences(charter.community):
        assert sentence.text in text
    assert "resti maggiori" in text


@pytest.mark.parametrize("key", list(legal_forms()))
def test_every_legal_form_makes_a_statute(key: str, charter: Charter) -> None:
    c = Charter(charter.community, "Borgo Demo", "", legal_form(key), 2, charter.date)
    text = "\n".join(b.text for b in statute_blocks(c))
    assert legal_form(key).name in text
    assert "assemblea straordinaria in seconda convocazione" in text


@needs_soffice
@pytest.mark.parametrize("which", ["statuto", "regolamento"])
def test_libreoffice_converts_to_pdf_and_reads_the_text(which: str, charter: Charter) -> None:
    blocks = statute_blocks(charter) if which == "statuto" else regulation_blocks(charter)
    pdf = to_pdf(blocks, prefer="soffice")
    assert pdf.startswith(b"%PDF-")
    assert pdf_pages(pdf) >= 2
    # LibreOffice reads the DOCX back as text: the community and its sharing rule are there
    text = soffice_convert(to_docx(blocks), "txt:Text (encoded):UTF8").decode("utf-8")
    assert "CER Borgo Demo" in text and "Borgo Demo" in text
    wanted = (
        sharing_rule_sentence(charter.community) if which == "statuto" else rule_sentences(charter.community)[1].text
    )
    assert wanted in text


def test_weasyprint_fallback_makes_a_pdf(charter: Charter) -> None:
    from weasyprint import HTML

    blocks = statute_blocks(charter)
    assert to_pdf(blocks, prefer="weasyprint").startswith(b"%PDF-")
    assert len(HTML(string=to_html(blocks)).render().pages) >= 2  # the same HTML laid out: several A4 pages


def test_minutes_record_attendance_votes_and_reasons(charter: Charter) -> None:
    members = [m.id for m in charter.community.members]
    attendees = [Attendee(m) for m in members[:15]] + [Attendee(members[15], (members[16], members[17]))]
    agenda = ["Approvazione del rendiconto", "Modifica del regolamento"]
    votes = [
        {m: "yes" for m in members[:18]},
        {**{m: "yes" for m in members[:9]}, **{m: "no" for m in members[9:18]}},
    ]
    outcome = assembly_outcome(
        charter.legal_form, members, attendees, {a: v for a, v in zip(agenda, votes, strict=True)}, call="second"
    )
    data = MinutesData(
        held_on=dt.date(2026, 4, 20),
        kind="ordinary",
        call="second",
        place="Sala consiliare",
        chair="Presidente Prova",
        secretary="Segretaria Prova",
        agenda=agenda,
        attendees=[(a.member, a.proxies) for a in attendees],
        votes=votes,
        names={m.id: m.name for m in charter.community.members},
    )
    text = docx_text(to_docx(minutes_blocks(charter, data, outcome)))
    assert "20/04/2026" in text and "seconda convocazione" in text
    assert f"con delega di {members[16]}" in text
    assert "Punto 1 – Approvazione del rendiconto: approvata" in text
    assert "Punto 2 – Modifica del regolamento: respinta per parità" in text
