"""SEPA credit-transfer files (ISO 20022 ``pain.001.001.09``) paying members their share, made with *sepaxml*.

Pure: no I/O, no clock unless ``created_at`` is left out. Amounts are integer cents throughout; the file writes
them in euro with two decimals (``12.34``), and sepaxml checks the result against the schema it ships.

Choices:

- Schema ``pain.001.001.09`` (ISO 20022 2019 version), the one the EPC SEPA Credit Transfer rulebook requires
  since November 2023. One payment information block (one execution date, batch booking), charges ``SLEV``.
- Texts are reduced to the SEPA Latin character set (``a-z A-Z 0-9 / - ? : ( ) . , ' +`` and space): accents
  dropped (``è`` -> ``e``), ``&`` -> ``+``, other characters -> space; names to 70 characters, remittance to 140.
- Message id: 1 to 35 characters of the set above without spaces, not starting with ``/``, no ``//``.
- End-to-end id of a transfer (:func:`end_to_end_id`): ``MESSAGEID-MEMBER`` when that fits the same rules,
  else the first 18 characters of the message id, ``-`` and 16 hex digits of SHA-256(message id, member):
  deterministic, at most 35 characters.
- A zero amount is not a transfer: the member is skipped and reported; a negative amount is refused.
- IBANs are checked with schwifty (country length, check digits, national rules) and must be in the SEPA zone;
  every problem names its member.
- Without the debtor's BIC the agent is left empty (allowed inside the SEPA zone, "IBAN only"); some banks want
  it all the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schwifty import BIC, IBAN
from sepaxml import SepaTransfer  # type: ignore[import-untyped]
from sepaxml.validation import ValidationError  # type: ignore[import-untyped]

from condivisa.errors import InputError, Problem

SCHEMA = "pain.001.001.09"
"""ISO 20022 message written (sepaxml ships and validates against its XSD)."""

NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
"""XML namespace of the document."""

NAME_MAX = 70
REMITTANCE_MAX = 140
ID_MAX = 35

_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")


@dataclass(frozen=True)
class Payout:
    """Money owed to one member.

    Attributes
    ----------
    member : str
        The member's id in the community.
    name : str
        Account holder's name (reduced to the SEPA character set, 70 characters).
    iban : str
        Account (spaces allowed; written in electronic form).
    amount_cents : int
        Amount [cents], >= 0 (0: skipped).
    remittance : str
        Unstructured remittance information (140 characters).
    """

    member: str
    name: str
    iban: str
    amount_cents: int
    remittance: str


@dataclass(frozen=True)
class Transfer:
    """A payout as written in the file: texts as sent, IBAN in electronic form, its end-to-end id."""

    member: str
    name: str
    iban: str
    amount_cents: int
    end_to_end_id: str
    remittance: str


@dataclass(frozen=True)
class TransferFile:
    """A pain.001 file and what it holds.

    Attributes
    ----------
    xml : bytes
        The UTF-8 document.
    message_id : str
    transfers : tuple of Transfer
        In the order of the payouts, zero amounts left out.
    skipped : tuple of str
        Members whose payout was zero.
    total_cents : int
        Sum of the transfers [cents] (the file's control sum).
    """

    xml: bytes
    message_id: str
    transfers: tuple[Transfer, ...]
    skipped: tuple[str, ...]
    total_cents: int

    @property
    def sha256(self) -> str:
        """SHA-256 of the file's bytes, hex."""
        return hashlib.sha256(self.xml).hexdigest()


def sepa_text(text: str, max_len: int) -> str:
    """``text`` in the SEPA Latin character set, spaces collapsed, at most ``max_len`` characters.

    Examples
    --------
    >>> sepa_text("Società Agricola Làmpo & C.", 70)
    'Societa Agricola Lampo + C.'
    """
    plain = unicodedata.normalize("NFKD", text.replace("&", "+"))
    ascii_text = plain.encode("ascii", "ignore").decode("ascii")
    return " ".join(_NOT_SEPA.sub(" ", ascii_text).split())[:max_len].rstrip()


def is_sepa_id(value: str) -> bool:
    """Whether ``value`` is a valid SEPA identifier (message id, end-to-end id): 1-35 characters of the set,
    no space, not starting or ending with ``/``, no ``//``."""
    return (
        bool(_SEPA_ID.fullmatch(value)) and not value.startswith("/") and not value.endswith("/") and "//" not in value
    )


def end_to_end_id(message_id: str, member: str) -> str:
    """The end-to-end id of the transfer to ``member`` in message ``message_id`` (see the module's description)."""
    plain = f"{message_id}-{member}"
    if is_sepa_id(plain):
        return plain
    digest = hashlib.sha256(f"{message_id}\n{member}".encode()).hexdigest()[:16]
    return f"{message_id[:18].rstrip('/')}-{digest}"


_IBAN_ERRORS = {
    "InvalidLength": "lunghezza errata per il paese",
    "InvalidStructure": "caratteri o struttura non ammessi",
    "InvalidCountryCode": "codice paese sconosciuto",
    "InvalidBankCode": "codice banca sconosciuto",
    "InvalidBranchCode": "codice filiale sconosciuto",
    "InvalidAccountCode": "numero di conto non valido",
    "InvalidChecksumDigits": "cifre di controllo errate",
    "InvalidBBANChecksum": "carattere di controllo nazionale (CIN) errato",
}


def _iban(value: str, field: str, who: str, problems: list[Problem]) -> str:
    try:
        iban = IBAN(value)
    except ValueError as exc:
        why = _IBAN_ERRORS.get(type(exc).__name__, str(exc))
        problems.append(Problem(f"{who}: IBAN non valido {value!r} ({why})", field=field))
        return value
    if not iban.in_sepa_zone:
        problems.append(Problem(f"{who}: IBAN {iban.compact} fuori dall'area SEPA", field=field))
    return str(iban.compact)


class _Transfer(SepaTransfer):  # type: ignore[misc]
    """sepaxml's transfer with our message id, creation time and payment information id (it draws random ones)."""

    def __init__(self, config: dict[str, Any], message_id: str, created_at: dt.datetime) -> None:
        self._fixed_id = message_id
        self._fixed_time = created_at.astimezone(dt.UTC).replace(microsecond=0).isoformat()
        super().__init__(config, schema=SCHEMA, clean=False)

    def _create_header(self) -> None:
        self.msg_id = self._fixed_id
        super()._create_header()
        created = self._xml.find("CstmrCdtTrfInitn/GrpHdr/CreDtTm")
        created.text = self._fixed_time

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for k, node in enumerate(self._xml.iter("PmtInfId"), start=1):
            node.text = f"{self._fixed_id[: ID_MAX - 1 - len(str(k))]}-{k}"


def build_transfer_file(
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str | None,
    payouts: Sequence[Payout],
    execution_date: dt.date,
    message_id: str,
    *,
    created_at: dt.datetime | None = None,
) -> TransferFile:
    """Build the SEPA credit-transfer file paying ``payouts`` from the community's account.

    Parameters
    ----------
    debtor_name : str
        The account holder paying (the community's legal entity).
    debtor_iban : str
        Its IBAN.
    debtor_bic : str or None
        Its bank's BIC (8 or 11 characters), or None.
    payouts : sequence of Payout
        One per member (a member at most once).
    execution_date : date
        Requested execution date.
    message_id : str
        Unique id of the message (see the module's description).
    created_at : datetime, optional
        Creation instant written in the header (timezone-aware; default now): fix it for a reproducible file.

    Returns
    -------
    TransferFile

    Raises
    ------
    InputError
        Bad debtor data or message id, an invalid IBAN, a missing name, a negative or non-integer amount, a
        member paid twice (each problem names its member), nothing to pay.
    """
    problems: list[Problem] = []
    name = sepa_text(debtor_name, NAME_MAX)
    if not name:
        problems.append(Problem("nome dell'ordinante mancante", field="debtor_name"))
    iban = _iban(debtor_iban, "debtor_iban", "ordinante", problems)
    bic = None
    if debtor_bic:
        try:
            bic = str(BIC(debtor_bic))
        except ValueError as exc:
            problems.append(Problem(f"BIC non valido {debtor_bic!r}: {exc}", field="debtor_bic"))
    if not is_sepa_id(message_id):
        problems.append(
            Problem(
                f"identificativo {message_id!r} non valido: da 1 a 35 caratteri A-Z a-z 0-9 / - ? : ( ) . , ' +",
                field="message_id",
            )
        )
    if not isinstance(execution_date, dt.date) or isinstance(execution_date, dt.datetime):
        problems.append(
            Problem(f"data di esecuzione {execution_date!r} non valida (serve una data)", field="execution_date")
        )
    transfers: list[Transfer] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for k, p in enumerate(payouts):
        who, where = f"socio {p.member}", f"payouts[{k}]"
        if p.member in seen:
            problems.append(Problem(f"{who} compare piu' di una volta", field=where))
        seen.add(p.member)
        if not isinstance(p.amount_cents, int) or isinstance(p.amount_cents, bool):
            problems.append(
                Problem(f"{who}: importo {p.amount_cents!r} non intero (centesimi)", field=f"{where}.amount_cents")
            )
            continue
        if p.amount_cents < 0:
            problems.append(
                Problem(f"{who}: importo negativo {p.amount_cents} centesimi", field=f"{where}.amount_cents")
            )
            continue
        if p.amount_cents == 0:
            skipped.append(p.member)
            continue
        creditor = sepa_text(p.name, NAME_MAX)
        if not creditor:
            problems.append(Problem(f"{who}: nome dell'intestatario del conto mancante", field=f"{where}.name"))
        account = _iban(p.iban, f"{where}.iban", who, problems)
        transfers.append(
            Transfer(
                member=p.member,
                name=creditor,
                iban=account,
                amount_cents=p.amount_cents,
                end_to_end_id=end_to_end_id(message_id, p.member),
                remittance=sepa_text(p.remittance, REMITTANCE_MAX) or sepa_text(f"Socio {p.member}", REMITTANCE_MAX),
            )
        )
    if len({t.end_to_end_id for t in transfers}) != len(transfers) and not problems:
        problems.append(
            Problem("identificativi end-to-end ripetuti: usare un altro identificativo", field="message_id")
        )
    if not transfers and not problems:
        problems.append(Problem("nessun pagamento da disporre: tutti gli importi sono zero", field="payouts"))
    if problems:
        raise InputError(problems)

    config: dict[str, Any] = {"name": name, "IBAN": iban, "batch": True, "currency": "EUR"}
    if bic:
        config["BIC"] = bic
    sepa = _Transfer(config, message_id, created_at or dt.datetime.now(dt.UTC))
    for t in transfers:
        sepa.add_payment(
            {
                "name": t.name,
                "IBAN": t.iban,
                "amount": t.amount_cents,
                "execution_date": execution_date,
                "description": t.remittance,
                "endtoend_id": t.end_to_end_id,
            }
        )
    try:
        xml = bytes(sepa.export(validate=True))
    except ValidationError as exc:
        raise InputError.one(f"il file SEPA non rispetta lo schema {SCHEMA}: {exc.__cause__ or exc}") from exc
    return TransferFile(
        xml=xml,
        message_id=message_id,
        transfers=tuple(transfers),
        skipped=tuple(skipped),
        total_cents=sum(t.amount_cents for t in transfers),
    )


def build_pain001(
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str | None,
    payouts: Sequence[Payout],
    execution_date: dt.date,
    message_id: str,
    *,
    created_at: dt.datetime | None = None,
) -> bytes:
    """The bytes of :func:`build_transfer_file` (same parameters and errors)."""
    return build_transfer_file(
        debtor_name, debtor_iban, debtor_bic, payouts, execution_date, message_id, created_at=created_at
    ).xml
