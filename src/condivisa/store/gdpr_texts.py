"""Erasure of a member's personal data held outside the member's own records (used by
:func:`condivisa.store.gdpr.erase_member`).

Two steps, in the erasure's transaction:

1. **Contact rows under the member's email** (:data:`CONTACTS`): a desk ticket, an event registration, a
   matchmaking profile, a public-register entry or a municipality whose email equals one of the member's emails
   (without case) is the same person: its name becomes the member's pseudonym, its email
   ``cancellato-<hash>@invalid`` (NULL where the column allows it), its phone NULL; a matchmaking profile is also
   deactivated; a mailing-list subscription (``energy_subscribers``) is deleted. Dates, statuses, attendance and
   the other fields stay. A contact row holding the member's *name* under another email may be a namesake: it is
   left whole and reported.
2. **Free texts anywhere**: every text and JSON column (``find_text``'s scope) is searched for the member's names,
   emails, IBANs and the phones of the rows of step 1; each occurrence (a whole word, without case; a two-word name
   also in reversed order, an IBAN also in groups of four) is replaced in place: names by the pseudonym, the rest by
   ``[cancellato]``. The rest of the text stays (minutes and agendas stay readable).

Not changed, and reported: the ledger (``ledger_entries``) and what its hashes cover or its payloads copy
(settlement documents, settlement line recipients, campaign titles); ids that link rows (``members.external_id``,
``payments.member``, attendance and votes...: a member id must not be a name); primary keys; other members' and
accounts' rows (``members``, ``payments``, ``governance_register``, ``users``: another member with the same data is
erased on its own request); a value found only inside another word; a change refused by a unique constraint. The
audit log is handled by :func:`condivisa.store.gdpr.erase_member` (whole texts become ``[cancellato]``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, String, Table, and_, delete, func, inspect, or_, select, true, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, Executable

from condivisa.store import audit
from condivisa.store.models import Base

ERASED = "[cancellato]"


@dataclass(frozen=True)
class Contact:
    """A table of contact rows: who asked, registered or subscribed, with a name and an email column."""

    table: str
    email: str
    name: str | None = None
    clear: tuple[str, ...] = ()
    """Columns set to NULL (phones)."""
    values: tuple[tuple[str, Any], ...] = ()
    """Other columns set on erasure (a profile is deactivated)."""
    delete: bool = False
    """Delete the row instead (a mailing-list subscription has no reason to stay)."""


CONTACTS: tuple[Contact, ...] = (
    Contact("desk_tickets", "contact_email", "contact_name", clear=("contact_phone",)),
    Contact("civic_event_registrations", "email", "name"),
    Contact("match_profiles", "contact_email", "contact_name", clear=("contact_phone",), values=(("active", False),)),
    Contact("energy_subscribers", "email", "name", delete=True),
    Contact("register_entries", "contact_email"),
    Contact("municipalities", "email"),
)

SKIPPED_TABLES = frozenset({"ledger_entries", "audit_log", "users"})
"""Never scrubbed here: the ledger (hash chain), the audit log and the accounts (handled by the erasure itself)."""

LEDGER_COVERED = frozenset({("settlements", "document"), ("settlement_lines", "recipient"), ("campaigns", "title")})
"""Columns whose values the ledger's hashes cover or its payloads copy: changing them would break the check against
the ledger (and would not erase the copy in it)."""

REFERENCES = frozenset(
    {
        ("members", "external_id"),
        ("plants", "external_id"),
        ("plants", "owner"),
        ("communities", "excess_to"),
        ("communities", "municipality"),
        ("municipalities", "name"),
        ("municipalities", "slug"),
        ("role_assignments", "municipality"),
        ("regulation_rules", "recipient"),
        ("payments", "member"),
        ("campaign_rewards", "member"),
        ("governance_register", "member"),
        ("governance_attendance", "member"),
        ("governance_attendance", "delegate"),
        ("governance_votes", "member"),
        ("governance_fund_beneficiaries", "member"),
    }
)
"""Columns holding member ids, recipients or municipality names that link rows to one another."""

OWN_RECORDS = frozenset(
    {
        ("members", "name"),
        ("members", "email"),
        ("members", "iban"),
        ("payments", "name"),
        ("payments", "iban"),
        ("governance_register", "name"),
    }
)
"""Personal columns of the members' records: the erased member's rows are handled by the erasure; another row with
the same values is another member (erased on its own request)."""


@dataclass
class Identity:
    """What identifies the erased member: names, emails, IBANs and other values (phones)."""

    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    ibans: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)

    def add(self, kind: str, value: Any, *, skip: Iterable[str] = ()) -> None:
        if not isinstance(value, str):
            return
        text = value.strip()
        if len(text) < 3 or text in skip or text == ERASED or text.lower().endswith("@invalid"):
            return
        target = {"name": self.names, "email": self.emails, "iban": self.ibans}.get(kind, self.others)
        target.add(text)

    def name_forms(self) -> set[str]:
        """The names, and each two-word name also in reversed order (``Rossi Mario``, ``Mario Rossi``)."""
        forms = set(self.names)
        for name in self.names:
            words = name.split()
            if len(words) == 2:
                forms.add(f"{words[1]} {words[0]}")
        return forms

    def needles(self) -> list[str]:
        """Every value to search for (:func:`condivisa.store.gdpr.find_text`)."""
        return sorted(self.name_forms() | self.emails | self.ibans | self.others)

    def lowered_emails(self) -> list[str]:
        return sorted({e.lower() for e in self.emails})

    def lowered_names(self) -> list[str]:
        return sorted({" ".join(n.lower().split()) for n in self.name_forms()})


class Scrubber:
    """Replaces the member's values in texts: names by the pseudonym, emails, IBANs and phones by ``[cancellato]``."""

    def __init__(self, identity: Identity, alias: str) -> None:
        self.alias = alias
        patterns: list[tuple[int, str, bool]] = []  # (length, regex, is a name)
        for email in identity.emails:
            patterns.append((len(email), r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-]|\.\w)", False))
        for iban in identity.ibans:
            compact = re.sub(r"\s+", "", iban)
            body = r"\s?".join(re.escape(c) for c in compact)
            patterns.append((len(compact), r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])", False))
        for other in identity.others:
            patterns.append((len(other), r"(?<!\w)" + re.escape(other) + r"(?!\w)", False))
        for name in identity.name_forms():
            body = r"\s+".join(re.escape(w) for w in name.split())
            patterns.append((len(name), r"(?<!\w)" + body + r"(?!\w)", True))
        # longest first: an email before a name it contains, "Rossi Mario" before "Mario"
        patterns.sort(key=lambda p: (not p[2], p[0]), reverse=True)
        self._patterns = [(re.compile(p, re.IGNORECASE), is_name) for _, p, is_name in patterns]

    def text(self, value: str, *, names_to: str | None = None) -> str:
        out = value
        for pattern, is_name in self._patterns:
            out = pattern.sub((names_to or self.alias) if is_name else ERASED, out)
        return out

    def fit(self, value: str, length: int | None) -> str:
        """:meth:`text` within ``length`` characters: names become ``[cancellato]`` if the pseudonym is too long,
        and the text is cut as a last resort."""
        out = self.text(value)
        if length is None or len(out) <= length:
            return out
        out = self.text(value, names_to=ERASED)
        return out if len(out) <= length else out[:length]

    def json(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            new = self.text(value)
            return new, new != value
        if isinstance(value, list):
            items = [self.json(v) for v in value]
            return [v for v, _ in items], any(c for _, c in items)
        if isinstance(value, dict):
            changed = False
            out: dict[str, Any] = {}
            for key, item in value.items():
                new_key = self.text(key) if isinstance(key, str) else key
                new_item, c = self.json(item)
                out[new_key] = new_item
                changed = changed or c or new_key != key
            return out, changed
        return value, False


@dataclass
class Outcome:
    """Rows changed per table (keys as :class:`condivisa.store.gdpr.TextHit` spells them), namesakes left and
    changes refused (``(table, column, key) → reason``)."""

    changed: dict[str, set[str]] = field(default_factory=dict)
    namesakes: dict[str, set[str]] = field(default_factory=dict)
    refused: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {table: len(keys) for table, keys in sorted(self.changed.items()) if keys}


def erased_email(table: str, key: str) -> str:
    """``cancellato-<12 hex>@invalid``, derived from the row only (distinct per row: unique constraints hold)."""
    digest = hashlib.sha256(f"condivisa-gdpr:{table}:{key}".encode()).hexdigest()[:12]
    return f"cancellato-{digest}@invalid"


def _key(row: Iterable[Any]) -> str:
    return "/".join(str(v) for v in row)


def _where(table: Table, key_values: Iterable[Any]) -> Any:
    return and_(*[c == v for c, v in zip(table.primary_key.columns, key_values, strict=True)])


def _length(column: Column[Any]) -> int | None:
    length = getattr(column.type, "length", None)
    return int(length) if length else None


def _guarded(session: Session, outcome: Outcome, where: tuple[str, str, str], statement: Executable) -> bool:
    """Run one row's change in a savepoint; a refused change (unique constraint, value) is recorded, not raised."""
    try:
        with session.begin_nested():
            session.connection().execute(statement)
    except (IntegrityError, DataError) as exc:
        reason = "vincolo di unicita'" if isinstance(exc, IntegrityError) else "valore rifiutato dal database"
        outcome.refused[where] = f"modifica rifiutata ({reason}): lasciato, da verificare a mano"
        return False
    return True


def _tables(session: Session) -> dict[str, Table]:
    existing = set(inspect(session.connection()).get_table_names())
    return {t.name: t for t in Base.metadata.sorted_tables if t.name in existing}


def contact_rows(session: Session, identity: Identity) -> dict[str, list[dict[str, Any]]]:
    """The contact rows (:data:`CONTACTS`) under any of the member's emails (without case), by table.

    What an art. 15 export adds to the member's own records: the same rows that :func:`erase_contacts`
    pseudonymises. Namesakes under other emails are not included (they may be someone else).
    """
    emails = identity.lowered_emails()
    found: dict[str, list[dict[str, Any]]] = {}
    if not emails:
        return found
    tables = _tables(session)
    conn = session.connection()
    for spec in CONTACTS:
        table = tables.get(spec.table)
        if table is None:
            continue
        rows = conn.execute(
            select(table)
            .where(func.lower(func.trim(table.c[spec.email])).in_(emails))
            .order_by(*table.primary_key.columns)
        ).mappings()
        got = [{str(k): audit.jsonable(v) for k, v in row.items() if not audit.is_secret(str(k))} for row in rows]
        if got:
            found[spec.table] = got
    return found


def erase_contacts(session: Session, identity: Identity, alias: str, outcome: Outcome) -> None:
    """Step 1: pseudonymise (or delete) the contact rows under the member's emails; note the namesakes."""
    tables = _tables(session)
    conn = session.connection()
    emails = identity.lowered_emails()
    names = identity.lowered_names()
    for spec in CONTACTS:
        table = tables.get(spec.table)
        if table is None:
            continue
        email_col = table.c[spec.email]
        pk = list(table.primary_key.columns)
        normalised_email = func.lower(func.trim(email_col))
        if spec.name is not None and names:
            for row in conn.execute(
                select(*pk).where(
                    func.lower(func.trim(table.c[spec.name])).in_(names),
                    or_(email_col.is_(None), ~normalised_email.in_(emails)) if emails else true(),
                )
            ):
                outcome.namesakes.setdefault(spec.table, set()).add(_key(row))
        if not emails:
            continue
        extra = [table.c[c] for c in spec.clear]
        rows = conn.execute(select(*pk, *extra).where(normalised_email.in_(emails))).all()
        for row in rows:
            key_values = tuple(row[: len(pk)])
            key = _key(key_values)
            for phone in row[len(pk) :]:
                identity.add("other", phone)
            if spec.delete:
                conn.execute(delete(table).where(_where(table, key_values)))
                outcome.changed.setdefault(spec.table, set()).add(key)
                continue
            values: dict[str, Any] = {c: None for c in spec.clear}
            values[spec.email] = None if email_col.nullable else erased_email(spec.table, key)
            if spec.name is not None:
                values[spec.name] = alias[: _length(table.c[spec.name]) or len(alias)]
            values.update(dict(spec.values))
            statement = update(table).where(_where(table, key_values)).values(values)
            if _guarded(session, outcome, (spec.table, spec.email, key), statement):
                outcome.changed.setdefault(spec.table, set()).add(key)


def contains_any(column: Column[Any], needles: Iterable[str]) -> ColumnElement[bool]:
    """SQL condition: the text column contains one of ``needles``, without case.

    ``lower(column) LIKE %needle%`` with the needle lowered; a needle with non-ASCII characters is also compared as
    it is (SQLite's ``lower`` changes ASCII letters only).
    """
    wanted = set(needles)
    conds = [func.lower(column).contains(n, autoescape=True) for n in sorted({n.lower() for n in wanted})]
    conds += [column.contains(n, autoescape=True) for n in sorted(wanted) if not n.isascii() and n != n.lower()]
    return or_(*conds)


def _protected(table: Table, column: Column[Any]) -> bool:
    where = (table.name, column.name)
    if column.primary_key or audit.is_secret(column.name):
        return True
    if where in LEDGER_COVERED or where in REFERENCES or where in OWN_RECORDS:
        return True
    return any(spec.table == table.name and column.name in (spec.email, spec.name, *spec.clear) for spec in CONTACTS)


def scrub_tables(session: Session, identity: Identity, alias: str, outcome: Outcome) -> None:
    """Step 2: replace the member's values in every text and JSON column outside the protected ones."""
    needles = identity.needles()
    if not needles:
        return
    lowered = sorted({n.lower() for n in needles})
    scrubber = Scrubber(identity, alias)
    conn = session.connection()
    for name, table in _tables(session).items():
        if name in SKIPPED_TABLES:
            continue
        pk = list(table.primary_key.columns)
        if not pk:
            continue
        skip_rows = outcome.namesakes.get(name, set())
        for column in table.columns:
            if _protected(table, column) or not isinstance(column.type, String | JSON):
                continue
            if isinstance(column.type, JSON):
                rows: Iterable[Any] = conn.execute(select(*pk, column)).all()
            else:
                rows = conn.execute(select(*pk, column).where(contains_any(column, needles))).all()
            for row in rows:
                key_values, value = tuple(row[:-1]), row[-1]
                key = _key(key_values)
                if value is None or key in skip_rows:
                    continue
                if isinstance(column.type, JSON):
                    if not any(n in json.dumps(value, ensure_ascii=False).lower() for n in lowered):
                        continue
                    new, changed = scrubber.json(value)
                else:
                    new = scrubber.fit(str(value), _length(column))
                    changed = new != value
                if not changed:
                    continue
                statement = update(table).where(_where(table, key_values)).values({column.name: new})
                if _guarded(session, outcome, (name, column.name, key), statement):
                    outcome.changed.setdefault(name, set()).add(key)


def explain(
    hits: Iterable[Any], outcome: Outcome | None, *, kept_users: Iterable[int] = (), texts_scrubbed: bool = True
) -> list[str]:
    """One warning per (table, column, reason) for the texts that still hold the member's values."""
    kept = {str(u) for u in kept_users}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for hit in hits:
        table, column, key = hit.table, hit.column, hit.key
        if outcome is not None and (table, column, key) in outcome.refused:
            reason = outcome.refused[(table, column, key)]
        elif table == "ledger_entries" or (table, column) in LEDGER_COVERED:
            reason = "nel registro a catena (ledger) o coperto dai suoi hash: non modificabile"
        elif table == "users":
            reason = (
                "account mantenuto (ha altri ruoli)"
                if key in kept
                else "account non collegato al socio con gli stessi dati: verificare a mano"
            )
        elif (table, column) in REFERENCES:
            reason = "id di socio o riferimento tra righe (non usare nomi come id): non modificato"
        elif (table, column) in OWN_RECORDS:
            reason = "un altro socio con gli stessi dati: cancellarlo con una richiesta a parte"
        elif outcome is not None and key in outcome.namesakes.get(table, set()):
            reason = "stesso nome con un'altra email (possibile omonimo): non modificato, verificare a mano"
        elif not texts_scrubbed:
            reason = "testi fuori dai dati del socio non modificati su richiesta"
        else:
            reason = "il valore compare dentro un'altra parola: non modificato, verificare a mano"
        groups.setdefault((table, column, reason), []).append(key)
    out = []
    for (table, column, reason), keys in groups.items():
        shown = ", ".join(keys[:5]) + (f" e altre {len(keys) - 5}" if len(keys) > 5 else "")
        out.append(f"{table}.{column} (righe {shown}): {reason}")
    return out
