"""SEPA credit-transfer files: amounts to the cent, totals, IBANs checked per member, deterministic ids."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from condivisa.errors import InputError
from condivisa.payments import SCHEMA, Payout, build_pain001, build_transfer_file, end_to_end_id, sepa_text

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
DEBTOR_IBAN = "IT60X0542811101000000123456"
WHEN = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")


def iban(n: int) -> str:
    return str(IBAN.generate("IT", bank_code="0306909606", account_code=f"{n:012d}").compact)


def payouts(amounts: list[int]) -> list[Payout]:
    return [
        Payout(f"m{k:02d}", f"Socio Numero {k}", iban(k), a, f"Ripartizione giugno 2025 socio m{k:02d}")
        for k, a in enumerate(amounts)
    ]


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def text(node: ET.Element, path: str) -> str:
    found = node.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


def euro(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def test_file_holds_every_transfer_with_totals() -> None:
    amounts = [12_345, 1, 99, 100_000_00]
    pays = payouts(amounts)
    xml = build_pain001(
        "CER Borgo Demo", DEBTOR_IBAN, "BCITITMM", pays, dt.date(2025, 7, 1), "CDV-1-7-1", created_at=WHEN
    )
    root = parse(xml)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert text(header, "p:MsgId") == "CDV-1-7-1"
    assert text(header, "p:NbOfTxs") == str(len(amounts))
    assert text(header, "p:CtrlSum") == euro(sum(amounts))
    assert text(header, "p:CreDtTm").startswith("2025-06-30T12:00:00")
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info is not None
    assert text(info, "p:CtrlSum") == euro(sum(amounts)) and text(info, "p:NbOfTxs") == str(len(amounts))
    assert text(info, "p:ReqdExctnDt/p:Dt") == "2025-07-01"
    assert text(info, "p:DbtrAcct/p:Id/p:IBAN") == DEBTOR_IBAN
    assert text(info, "p:DbtrAgt/p:FinInstnId/p:BICFI") == "BCITITMM"
    txs = info.findall("p:CdtTrfTxInf", NS)
    assert len(txs) == len(pays)
    for tx, p in zip(txs, pays, strict=True):
        amount = tx.find("p:Amt/p:InstdAmt", NS)
        assert amount is not None and amount.get("Ccy") == "EUR" and amount.text == euro(p.amount_cents)
        assert text(tx, "p:CdtrAcct/p:Id/p:IBAN") == p.iban
        assert text(tx, "p:Cdtr/p:Nm") == p.name
        assert text(tx, "p:RmtInf/p:Ustrd") == p.remittance
        assert text(tx, "p:PmtId/p:EndToEndId") == end_to_end_id("CDV-1-7-1", p.member)
    schema = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"))
    schema.validate(xml.decode("utf-8"))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=12).filter(lambda a: any(a)))
def test_amounts_and_control_sum_are_exact(amounts: list[int]) -> None:
    f = build_transfer_file("CER", DEBTOR_IBAN, None, payouts(amounts), dt.date(2025, 7, 1), "M1", created_at=WHEN)
    root = parse(f.xml)
    paid = [a for a in amounts if a]
    assert text(root, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum") == euro(sum(paid))
    written = [x.text for x in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    assert written == [euro(a) for a in paid]
    assert f.total_cents == sum(paid) and len(f.skipped) == amounts.count(0)


def test_zero_amounts_are_skipped_and_reported() -> None:
    f = build_transfer_file(
        "CER", DEBTOR_IBAN, None, payouts([500, 0, 700]), dt.date(2025, 7, 1), "M2", created_at=WHEN
    )
    assert f.skipped == ("m01",)
    assert [t.member for t in f.transfers] == ["m00", "m02"]
    assert text(parse(f.xml), "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs") == "2"
    with pytest.raises(InputError, match="zero"):
        build_pain001("CER", DEBTOR_IBAN, None, payouts([0, 0]), dt.date(2025, 7, 1), "M3")


def test_bad_payouts_name_the_member() -> None:
    pays = payouts([100, -5, 300])
    pays[2] = Payout("m02", "Rossi", "IT60X0542811101000000123457", 300, "r")
    with pytest.raises(InputError) as info:
        build_pain001("CER", DEBTOR_IBAN, None, pays, dt.date(2025, 7, 1), "M4")
    messages = [str(p) for p in info.value.problems]
    assert any("socio m01" in m and "negativo" in m for m in messages)
    assert any("socio m02" in m and "IBAN non valido" in m and "controllo" in m for m in messages)
    assert not any("m00" in m for m in messages)


def test_non_sepa_accounts_duplicates_and_debtor_data_are_refused() -> None:
    turkish = "TR330006100519786457841326"  # valid IBAN outside the SEPA zone
    pays = [Payout("m1", "A", turkish, 100, "r"), Payout("m1", "A", iban(1), 100, "r")]
    with pytest.raises(InputError) as info:
        build_pain001("", "IT00X", "NOTABIC!", pays, dt.date(2025, 7, 1), "bad id with spaces")
    text_ = str(info.value)
    for expected in (
        "fuori dall'area SEPA",
        "piu' di una volta",
        "debtor_name",
        "debtor_iban",
        "debtor_bic",
        "message_id",
    ):
        assert expected in text_


def test_ids_are_deterministic_short_and_in_the_sepa_set() -> None:
    long_member = "socio-con-un-identificativo-lunghissimo/àè"
    ids = {end_to_end_id("CDV-12-345-20250701120000", m) for m in ("m1", "m2", long_member, long_member + "x")}
    assert len(ids) == 4
    assert all(SEPA_ID.fullmatch(i) and "//" not in i for i in ids)
    assert end_to_end_id("M", long_member) == end_to_end_id("M", long_member)
    a = build_pain001("CER", DEBTOR_IBAN, None, payouts([1, 2]), dt.date(2025, 7, 1), "M5", created_at=WHEN)
    b = build_pain001("CER", DEBTOR_IBAN, None, payouts([1, 2]), dt.date(2025, 7, 1), "M5", created_at=WHEN)
    assert a == b


def test_texts_are_reduced_to_the_sepa_character_set() -> None:
    assert sepa_text("Società Cooperativa «Il Sole» & Figli", 70) == "Societa Cooperativa Il Sole + Figli"
    assert len(sepa_text("x" * 200, 70)) == 70
    pays = [Payout("m1", "Àngela Ñúñez", iban(1), 100, "Quota CER – giugno")]
    root = parse(build_pain001("CER Città", DEBTOR_IBAN, None, pays, dt.date(2025, 7, 1), "M6"))
    assert text(root, ".//p:Cdtr/p:Nm") == "Angela Nunez"
    assert text(root, ".//p:Dbtr/p:Nm") == "CER Citta"
    assert text(root, ".//p:RmtInf/p:Ustrd") == "Quota CER giugno"
