"""``condivisa ledger`` and ``condivisa pay`` on a temporary SQLite database: exit codes, files, messages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from condivisa.cli.ledger import ledger_app
from condivisa.cli.payments import pay_app
from condivisa.payments import SCHEMA
from condivisa.store import make_engine, session_factory, upgrade
from condivisa.store.models import PaymentBatchRow
from tests.store.settled import demo_settled, store_settled

runner = CliRunner()
NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
DEBTOR = ["--debtor-name", "CER Borgo Demo", "--debtor-iban", "IT60X0542811101000000123456"]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, int]:
    """A SQLite database with the settled demo community, its settlement recorded in the ledger."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        _, settlement_id = store_settled(session)  # save_settlement records it in the ledger
    engine.dispose()
    return url, settlement_id


def member_sums() -> dict[str, int]:
    ids = {m.id for m in demo_settled().community.members}
    out: dict[str, int] = {}
    for line in demo_settled().lines:
        if line.to in ids:
            out[line.to] = out.get(line.to, 0) + line.amount_cents
    return out


def test_sepa_writes_the_file_and_the_ledger_verifies(stored: tuple[str, int], tmp_path: Path) -> None:
    url, settlement_id = stored
    out = tmp_path / "out" / "bonifici.xml"
    args = ["sepa", "--db", url, "--settlement", str(settlement_id), *DEBTOR, "--execution-date", "2025-07-15"]
    res = runner.invoke(pay_app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    paid = {k: v for k, v in member_sums().items() if v > 0}
    root = ET.fromstring(out.read_bytes())
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == str(len(paid))
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == f"{Decimal(sum(paid.values())) / 100:.2f}"
    engine = make_engine(url)
    with session_factory(engine)() as session:
        batch = session.scalars(select(PaymentBatchRow)).one()
    assert batch.file_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert batch.file_sha256 in res.stdout and "fund:sociale" in res.output

    res = runner.invoke(pay_app, [*args, "--out", str(out)])
    assert res.exit_code == 2 and "--settlement" in res.output  # already being paid

    res = runner.invoke(ledger_app, ["verify", "--db", url])
    assert res.exit_code == 0, res.output
    assert "Registro integro: 2 voci" in res.stdout
    head = res.stdout.split("hash di testa: ")[1].strip()
    exported = tmp_path / "ledger.jsonl"
    res = runner.invoke(ledger_app, ["export", "--db", url, "--out", str(exported)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(ledger_app, ["verify", "--file", str(exported), "--head", head])
    assert res.exit_code == 0 and head in res.stdout

    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_entries SET payload = replace(payload, :old, :new) WHERE seq = 2"),
            {"old": '"count":', "new": '"count":1'},
        )
    engine.dispose()
    res = runner.invoke(ledger_app, ["verify", "--db", url])
    assert res.exit_code == 1
    assert "voce 2" in res.stdout and "hash" in res.stdout
    lines = exported.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    entry["community_id"] = 99
    exported.write_text(json.dumps(entry) + "\n" + lines[1] + "\n", encoding="utf-8")
    res = runner.invoke(ledger_app, ["verify", "--file", str(exported)])
    assert res.exit_code == 1 and "voce 1" in res.stdout


def test_sepa_bad_input_exits_2_naming_the_option(stored: tuple[str, int], tmp_path: Path) -> None:
    url, settlement_id = stored
    out = tmp_path / "b.xml"
    base = ["sepa", "--db", url, "--settlement", str(settlement_id), "--out", str(out)]
    res = runner.invoke(pay_app, [*base, *DEBTOR, "--execution-date", "15/07/2025"])
    assert res.exit_code == 2 and "--execution-date" in res.output
    bad_iban = ["--debtor-name", "CER", "--debtor-iban", "IT60X0542811101000000123457"]
    res = runner.invoke(pay_app, [*base, *bad_iban, "--execution-date", "2025-07-15"])
    assert res.exit_code == 2 and "--debtor-iban" in res.output
    res = runner.invoke(pay_app, [*base, *DEBTOR, "--execution-date", "2025-07-15", "--settlement", "999"])
    assert res.exit_code == 2 and "999" in res.output
    res = runner.invoke(
        pay_app, [*base, *DEBTOR, "--execution-date", "2025-07-15", "--db", f"sqlite:///{tmp_path}/x.db"]
    )
    assert res.exit_code == 2 and "--db" in res.output
    assert not out.exists()


def test_statement_pdf_and_html(stored: tuple[str, int], tmp_path: Path) -> None:
    url, settlement_id = stored
    member = next(m for m in demo_settled().community.members if member_sums().get(m.id, 0) > 0)
    base = ["statement", "--db", url, "--settlement", str(settlement_id), "--member", member.id]
    res = runner.invoke(pay_app, [*base, "--out", str(tmp_path / "e.pdf")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "e.pdf").read_bytes().startswith(b"%PDF")
    res = runner.invoke(pay_app, [*base, "--out", str(tmp_path / "e.html")])
    assert res.exit_code == 0, res.output
    assert member.name in (tmp_path / "e.html").read_text(encoding="utf-8")
    res = runner.invoke(pay_app, [*base, "--out", str(tmp_path / "e.docx")])
    assert res.exit_code == 2 and "--out" in res.output
    res = runner.invoke(
        pay_app,
        [
            "statement",
            "--db",
            url,
            "--settlement",
            str(settlement_id),
            "--member",
            "zz",
            "--out",
            str(tmp_path / "z.pdf"),
        ],
    )
    assert res.exit_code == 2 and "zz" in res.output


def test_billing_csv(stored: tuple[str, int], tmp_path: Path) -> None:
    url, settlement_id = stored
    out = tmp_path / "fatturazione.csv"
    res = runner.invoke(pay_app, ["billing", "--db", url, "--settlement", str(settlement_id), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")), delimiter=";"))
    assert f"{len(rows)} righe" in res.stdout
    assert sum(Decimal(r["amount_eur"].replace(",", ".")) for r in rows) * 100 == sum(member_sums().values())
    res = runner.invoke(
        pay_app, ["billing", "--db", url, "--settlement", str(settlement_id), "--out", str(out), "--decimal", ";"]
    )
    assert res.exit_code == 2 and "--decimal" in res.output
