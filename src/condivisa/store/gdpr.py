"""A member's rights under the GDPR (Reg. UE 2016/679): export of their data (art. 15, 20) and erasure (art. 17)
within the limits of the accounting obligations.

What erasure does, and why
--------------------------
Settlements, their lines and the payments are accounting records that must be kept for ten years (art. 2220
c.c.; art. 17(3)(b) GDPR lets a legal obligation prevail over erasure). They are kept **in pseudonymised form**:
amounts, dates, periods and the member's id in the community file (``members.external_id``, e.g. ``m10``) stay;
everything that says who the person is goes:

- ``members``: name replaced by the stable pseudonym ``Socio cancellato <hash>`` (:func:`pseudonym`), email and
  IBAN set to NULL; the row stays (regulation rules and stored settlements name the member id);
- ``payments``: payee name replaced by the pseudonym, IBAN emptied (the column cannot be NULL); amounts, dates
  and end-to-end ids stay;
- ``governance_register`` (members' register): name replaced by the pseudonym, dates and decisions stay;
- ``role_assignments`` of the member: deleted; a user account left with no role is pseudonymised (email
  ``cancellato-<hash>@invalid``, display name the pseudonym, password unusable, inactive); an account that keeps
  other roles (a manager who was also a member) is left as it is and listed in the report;
- data held **outside the member's records** (:mod:`condivisa.store.gdpr_texts`; ``scrub_texts=False`` only
  reports it): desk tickets, event registrations and matchmaking profiles under one of the member's emails
  (current, former ones from the audit log, their account's; without case) are the same person: name → the
  pseudonym, email → ``cancellato-<hash>@invalid`` (NULL where the column allows it), phone → NULL, profile
  deactivated; the public register's contact email and a municipality's email → NULL; a mailing-list subscription
  is deleted; statuses, attendance, dates and answers stay. In every other text and JSON column (assembly chair,
  secretary and agenda, district team, ticket answers, notes...) each whole-word occurrence of the member's names
  (a two-word name also reversed), emails, IBANs and those phones is replaced in place: names by the pseudonym,
  the rest by ``[cancellato]``; the surrounding text stays. Left as they are and explained in the report's
  ``warnings``: a contact row with the member's name under another email (a possible namesake), member ids and
  other links between rows, what the ledger's hashes cover, other members' and accounts' rows, a value found only
  inside another word, a change a unique constraint refuses, and the name of a member that is a legal person
  (:data:`ORGANISATION_KINDS`: not personal data; its emails, IBAN and account holders' names still go);
- ``audit_log``: the before/after values of personal fields and any text holding the old name, email or IBAN
  become ``[cancellato]``;
- readings, corrections and quarantined readings of the member's PODs are deleted only when the community agrees
  (``delete_readings=True``): without them the past settlements can no longer be recomputed, though the stored
  ones stay. The POD codes themselves are kept in ``points``: they identify supply points, are needed to
  reproduce settlements checked by the GSE, and no longer lead to the person once the name, contacts, IBAN and
  account are gone.

The hash-chained ledger is untouched and still verifies: its payloads hold member ids, amounts, periods and
hashes only (see :mod:`condivisa.store.ledger`), never names, emails or IBANs. A member id must therefore not be
personal data itself (do not use tax codes or names as ``id`` in community files).

The erasure is recorded in the audit log (action ``gdpr_erase``, with counts and the pseudonym only). Afterwards
every text and JSON column of every table is searched again for the old values (:func:`find_text`): what is
left is the report's ``remaining``, each with its reason in ``warnings``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, String, delete, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from condivisa.store import audit, gdpr_texts
from condivisa.store.gdpr_texts import (
    Identity,
    Outcome,
    contact_rows,
    contains_any,
    erase_contacts,
    explain,
    scrub_tables,
)
from condivisa.store.models import (
    Base,
    CampaignRewardRow,
    CampaignRow,
    CommunityRow,
    MemberRow,
    PaymentBatchRow,
    PaymentRow,
    PlantRow,
    PointRow,
    QuarantinedReading,
    ReadingCorrection,
    ReadingRow,
    RoleAssignment,
    SettlementLineRow,
    SettlementRow,
    User,
)
from condivisa.store.models_audit import AuditLogRow
from condivisa.store.models_governance import (
    AttendanceRow,
    FundBeneficiaryRow,
    RegisterEntryRow,
    VoteRow,
)
from condivisa.store.repository import NotFoundError

EXPORT_FORMAT = "condivisa-gdpr-export"
EXPORT_VERSION = 1
ERASED = gdpr_texts.ERASED
PSEUDONYM_PREFIX = "Socio cancellato"


ORGANISATION_KINDS = frozenset(
    {"municipality", "local_authority", "public_body", "third_sector", "religious", "environmental", "university"}
)
"""Member kinds that are legal persons: their name is not searched in other texts on erasure. ``business`` and
``other`` are not among them (a sole trader's business name is often the person's own name)."""


def pseudonym(community_id: int, external_id: str) -> str:
    """The stable pseudonym of an erased member: ``Socio cancellato <10 hex digits>``.

    Derived from the community and the member id only (which stay in the records anyway), so the same member
    always gets the same pseudonym and no erased data can be recovered from it.
    """
    digest = hashlib.sha256(f"condivisa-gdpr:{community_id}:{external_id}".encode()).hexdigest()[:10]
    return f"{PSEUDONYM_PREFIX} {digest}"


def _member(session: Session, community_id: int, external_id: str) -> MemberRow:
    row = session.scalar(
        select(MemberRow).where(MemberRow.community_id == community_id, MemberRow.external_id == external_id)
    )
    if row is None:
        if session.get(CommunityRow, community_id) is None:
            raise NotFoundError(f"comunita' {community_id} non trovata")
        raise NotFoundError(f"socio {external_id!r} non trovato nella comunita' {community_id}")
    return row


def _plain(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    state = inspect(obj)
    return {
        attr.key: audit.jsonable(getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in skip and not audit.is_secret(attr.key)
    }


def _member_objects(session: Session, member: MemberRow) -> dict[str, list[str]]:
    """(table → ids) of the rows about the member, to find their audit entries."""
    cid, ext = member.community_id, member.external_id
    keys: dict[str, list[str]] = {"members": [str(member.id)]}
    keys["points"] = [str(i) for i in session.scalars(select(PointRow.id).where(PointRow.member_id == member.id))]
    role_rows = session.execute(
        select(RoleAssignment.id, RoleAssignment.user_id).where(RoleAssignment.member_id == member.id)
    ).all()
    keys["role_assignments"] = [str(r.id) for r in role_rows]
    keys["users"] = [str(r.user_id) for r in role_rows]
    keys["payments"] = [
        str(i)
        for i in session.scalars(
            select(PaymentRow.id)
            .join(PaymentBatchRow, PaymentRow.batch_id == PaymentBatchRow.id)
            .where(PaymentBatchRow.community_id == cid, PaymentRow.member == ext)
        )
    ]
    keys["governance_register"] = [
        str(i)
        for i in session.scalars(
            select(RegisterEntryRow.id).where(RegisterEntryRow.community_id == cid, RegisterEntryRow.member == ext)
        )
    ]
    keys["campaign_rewards"] = [
        str(i)
        for i in session.scalars(
            select(CampaignRewardRow.id)
            .join(CampaignRow, CampaignRewardRow.campaign_id == CampaignRow.id)
            .where(CampaignRow.community_id == cid, CampaignRewardRow.member == ext)
        )
    ]
    return keys


def _audit_about(session: Session, keys: dict[str, list[str]]) -> list[dict[str, Any]]:
    conditions = [
        (AuditLogRow.object_type == table) & AuditLogRow.object_id.in_(ids) for table, ids in keys.items() if ids
    ]
    if not conditions:
        return []
    rows = session.scalars(select(AuditLogRow).where(or_(*conditions)).order_by(AuditLogRow.id))
    return [_plain(r) for r in rows]


def export_member(
    session: Session, community_id: int, member_external_id: str, *, full_readings: bool = False
) -> dict[str, Any]:
    """Everything stored about one member of a community, as a JSON-ready document.

    Parameters
    ----------
    session : Session
    community_id : int
    member_external_id : str
        The member's id in the community file (``m10``).
    full_readings : bool
        Include every reading of the member's PODs (energies [kWh] per interval); default a summary per POD
        (intervals, first and last instant, totals [kWh]).

    Returns
    -------
    dict
        ``member``, ``points``, ``plants`` (owned), ``readings``, ``reading_corrections``,
        ``quarantined_readings``, ``settlements`` (the member's lines [cents] and energies), ``payments``,
        ``campaign_rewards``, ``governance`` (register, attendance, votes, fund), ``accounts`` (users and roles,
        no password hash), ``contacts`` (desk tickets, event registrations, matchmaking profiles, mailing-list
        subscriptions... under the member's current, former or account emails, by table) and ``audit`` (entries
        about these rows). Nothing about other members.

    Raises
    ------
    NotFoundError
        Unknown community or member.
    """
    member = _member(session, community_id, member_external_id)
    community = session.get(CommunityRow, community_id)
    assert community is not None  # foreign key
    ext = member.external_id
    points = list(session.scalars(select(PointRow).where(PointRow.member_id == member.id).order_by(PointRow.position)))
    pods = [p.pod for p in points]

    summary = []
    for pod in pods:
        r = session.execute(
            select(
                func.count(),
                func.min(ReadingRow.ts),
                func.max(ReadingRow.ts),
                func.coalesce(func.sum(ReadingRow.withdrawn_kwh), 0.0),
                func.coalesce(func.sum(ReadingRow.injected_kwh), 0.0),
            ).where(ReadingRow.community_id == community_id, ReadingRow.pod == pod)
        ).one()
        summary.append(
            {
                "pod": pod,
                "intervals": int(r[0]),
                "first": audit.jsonable(r[1]),
                "last": audit.jsonable(r[2]),
                "withdrawn_kwh": round(float(r[3]), 6),
                "injected_kwh": round(float(r[4]), 6),
            }
        )
    readings: dict[str, Any] = {"summary": summary}
    if full_readings:
        readings["rows"] = [
            _plain(r, skip=("community_id",))
            for r in session.scalars(
                select(ReadingRow)
                .where(ReadingRow.community_id == community_id, ReadingRow.pod.in_(pods))
                .order_by(ReadingRow.pod, ReadingRow.ts)
            )
        ]

    settlements = []
    for s in session.scalars(
        select(SettlementRow).where(SettlementRow.community_id == community_id).order_by(SettlementRow.id)
    ):
        lines = list(
            session.scalars(
                select(SettlementLineRow)
                .where(SettlementLineRow.settlement_id == s.id, SettlementLineRow.recipient == ext)
                .order_by(SettlementLineRow.position)
            )
        )
        energy = next((m for m in (s.document or {}).get("per_member", []) if m.get("id") == ext), None)
        if not lines and energy is None:
            continue
        settlements.append(
            {
                "settlement_id": s.id,
                "period_start": s.period_start.isoformat(),
                "period_end": s.period_end.isoformat(),
                "status": s.status,
                "lines": [{"rule": ln.rule, "basis": ln.basis, "amount_cents": ln.amount_cents} for ln in lines],
                "total_cents": sum(int(ln.amount_cents) for ln in lines),
                "energy": energy,
            }
        )

    payments = [
        {
            "batch_id": batch.id,
            "message_id": batch.message_id,
            "execution_date": batch.execution_date.isoformat(),
            "status": batch.status,
            "settlement_id": batch.settlement_id,
            **_plain(p, skip=("batch_id",)),
        }
        for p, batch in session.execute(
            select(PaymentRow, PaymentBatchRow)
            .join(PaymentBatchRow, PaymentRow.batch_id == PaymentBatchRow.id)
            .where(PaymentBatchRow.community_id == community_id, PaymentRow.member == ext)
            .order_by(PaymentRow.id)
        )
    ]
    rewards = [
        {
            "campaign_id": c.id,
            "title": c.title,
            "start_date": c.start_date.isoformat(),
            "end_date": c.end_date.isoformat(),
            **_plain(r, skip=("campaign_id",)),
        }
        for r, c in session.execute(
            select(CampaignRewardRow, CampaignRow)
            .join(CampaignRow, CampaignRewardRow.campaign_id == CampaignRow.id)
            .where(CampaignRow.community_id == community_id, CampaignRewardRow.member == ext)
            .order_by(CampaignRow.id)
        )
    ]
    governance = {
        "register": [
            _plain(r)
            for r in session.scalars(
                select(RegisterEntryRow)
                .where(RegisterEntryRow.community_id == community_id, RegisterEntryRow.member == ext)
                .order_by(RegisterEntryRow.id)
            )
        ],
        "attendance": [
            _plain(r)
            for r in session.scalars(
                select(AttendanceRow).where(AttendanceRow.member == ext).order_by(AttendanceRow.id)
            )
            if _assembly_community(session, r.assembly_id) == community_id
        ],
        "votes": [
            _plain(r)
            for r in session.scalars(select(VoteRow).where(VoteRow.member == ext).order_by(VoteRow.id))
            if _item_community(session, r.item_id) == community_id
        ],
        "fund_beneficiary": [
            _plain(r)
            for r in session.scalars(
                select(FundBeneficiaryRow)
                .where(FundBeneficiaryRow.community_id == community_id, FundBeneficiaryRow.member == ext)
                .order_by(FundBeneficiaryRow.id)
            )
        ],
    }
    accounts = []
    for user in session.scalars(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.member_id == member.id)
        .distinct()
    ):
        accounts.append(
            {
                **_plain(user),
                "roles": [
                    _plain(r, skip=("user_id",))
                    for r in session.scalars(
                        select(RoleAssignment).where(
                            RoleAssignment.user_id == user.id, RoleAssignment.member_id == member.id
                        )
                    )
                ],
            }
        )
    keys = _member_objects(session, member)
    about = _audit_about(session, keys)
    identity = Identity()
    identity.add("email", member.email)
    for account in accounts:
        identity.add("email", account.get("email"))
    _history(about, identity, pseudonym(community_id, ext))
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "legal_basis": "Reg. UE 2016/679, art. 15 (accesso) e art. 20 (portabilita')",
        "community": {"id": community.id, "name": community.name, "configuration": community.configuration},
        "member": _plain(member, skip=("community_id",)),
        "points": [_plain(p, skip=("community_id", "member_id")) for p in points],
        "plants": [
            _plain(p, skip=("community_id",))
            for p in session.scalars(
                select(PlantRow).where(PlantRow.community_id == community_id, PlantRow.owner == ext)
            )
        ],
        "readings": readings,
        "reading_corrections": [
            _plain(r, skip=("community_id",))
            for r in session.scalars(
                select(ReadingCorrection)
                .where(ReadingCorrection.community_id == community_id, ReadingCorrection.pod.in_(pods))
                .order_by(ReadingCorrection.id)
            )
        ],
        "quarantined_readings": [
            _plain(r, skip=("community_id",))
            for r in session.scalars(
                select(QuarantinedReading)
                .where(QuarantinedReading.community_id == community_id, QuarantinedReading.pod.in_(pods))
                .order_by(QuarantinedReading.id)
            )
        ],
        "settlements": settlements,
        "payments": payments,
        "campaign_rewards": rewards,
        "governance": governance,
        "accounts": accounts,
        "contacts": contact_rows(session, identity),
        "audit": about,
    }


def _assembly_community(session: Session, assembly_id: int) -> int | None:
    from condivisa.store.models_governance import AssemblyRow

    row = session.get(AssemblyRow, assembly_id)
    return None if row is None else row.community_id


def _item_community(session: Session, item_id: int) -> int | None:
    from condivisa.store.models_governance import AgendaItemRow

    item = session.get(AgendaItemRow, item_id)
    return None if item is None else _assembly_community(session, item.assembly_id)


def record_export(session: Session, community_id: int, member_external_id: str) -> None:
    """Record in the audit log that a member's data was exported (the caller commits)."""
    member = _member(session, community_id, member_external_id)
    audit.record(
        session,
        "gdpr_export",
        "members",
        member.id,
        community_id=community_id,
        changes={"member": member.external_id},
    )


# Finding personal data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextHit:
    """A stored text holding a searched value: table, column and the row's primary key."""

    table: str
    column: str
    key: str


def find_text(session: Session, needles: list[str], *, limit_per_column: int = 20) -> list[TextHit]:
    """Every text and JSON column of every table that contains one of ``needles`` (case-insensitive).

    Values shorter than 3 characters are ignored (they would match everywhere). JSON values are compared in
    their text form with non-ASCII characters as they are.
    """
    wanted = sorted({n.strip() for n in needles if n and len(n.strip()) >= 3})
    if not wanted:
        return []
    lowered = [n.lower() for n in wanted]
    conn = session.connection()
    existing = set(inspect(conn).get_table_names())
    hits: list[TextHit] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in existing:
            continue
        keys = list(table.primary_key.columns)
        for column in table.columns:
            if isinstance(column.type, String):
                cond = contains_any(column, wanted)
                for row in conn.execute(select(*keys).where(cond).limit(limit_per_column)):
                    hits.append(TextHit(table.name, column.name, "/".join(str(v) for v in row)))
            elif isinstance(column.type, JSON):
                found = 0
                for row in conn.execution_options(yield_per=500).execute(select(*keys, column)):
                    body = json.dumps(row[-1], ensure_ascii=False).lower()
                    if any(n in body for n in lowered):
                        hits.append(TextHit(table.name, column.name, "/".join(str(v) for v in row[:-1])))
                        found += 1
                        if found >= limit_per_column:
                            break
    return hits


# Erasure --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_member` changed (rows per table), and the stored texts that still hold the old data
    (``remaining``: what could not be changed, each reason in ``warnings``, e.g. a possible namesake's desk ticket
    under another email; to be checked by hand)."""

    community_id: int
    member: str
    pseudonym: str
    changed: dict[str, int]
    users_pseudonymised: list[int]
    users_kept: list[int]
    readings_deleted: int
    remaining: list[TextHit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _scrub(value: Any, needles: list[str], fields: bool) -> tuple[Any, bool]:
    """``value`` with texts holding a needle replaced by :data:`ERASED`, and with ``fields`` also the before/after
    values of personal fields (entries about the erased member's own rows: older names, emails...)."""
    if isinstance(value, str):
        low = value.lower()
        return (ERASED, True) if any(n in low for n in needles) else (value, False)
    if isinstance(value, list):
        changed = False
        out_list = []
        for item in value:
            new, c = _scrub(item, needles, fields)
            out_list.append(new)
            changed = changed or c
        return out_list, changed
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if fields and key in audit.PERSONAL_FIELDS and isinstance(item, dict) and ({"before", "after"} & set(item)):
                blanked = {k: (None if v is None else ERASED) for k, v in item.items()}
                changed = changed or blanked != item
                out[key] = blanked
                continue
            new, c = _scrub(item, needles, fields)
            out[key] = new
            changed = changed or c
        return out, changed
    return value, False


def _history(entries: list[dict[str, Any]], identity: Identity, alias: str) -> None:
    """Add to ``identity`` the names, emails and IBANs that audit entries about the member's rows once held."""
    kinds = {"name": "name", "display_name": "name", "email": "email", "iban": "iban"}
    for entry in entries:
        changes = entry.get("changes")
        if not isinstance(changes, dict):
            continue
        for column, value in changes.items():
            kind = kinds.get(column)
            if kind is None or not isinstance(value, dict):
                continue
            for side in ("before", "after"):
                identity.add(kind, value.get(side), skip=(alias,))


def erase_member(
    session: Session,
    community_id: int,
    member_external_id: str,
    *,
    delete_readings: bool = False,
    scrub_texts: bool = True,
) -> ErasureReport:
    """Erase a member's personal data, keeping the accounting records in pseudonymised form; commits.

    See the module's description for what changes. The ledger is not touched.

    Parameters
    ----------
    session : Session
        Start it with no transaction open: the whole erasure is one transaction.
    community_id : int
    member_external_id : str
    delete_readings : bool
        Also delete the readings, corrections and quarantined readings of the member's PODs (only if the
        community agrees: past settlements can then no longer be recomputed).
    scrub_texts : bool
        Also erase the member's data held outside their own records (contact rows under their email, names,
        emails and IBANs in any text: see :mod:`condivisa.store.gdpr_texts`); False only reports them
        (``remaining``).

    Raises
    ------
    NotFoundError
        Unknown community or member.
    """
    try:
        member = _member(session, community_id, member_external_id)
        ext = member.external_id
        alias = pseudonym(community_id, ext)
        warnings: list[str] = []
        keys = _member_objects(session, member)
        user_ids = sorted({int(u) for u in keys["users"]})
        users = [u for u in (session.get(User, uid) for uid in user_ids) if u is not None]
        identity = Identity()
        identity.add("name", member.name, skip=(alias,))
        identity.add("email", member.email)
        identity.add("iban", member.iban)
        batch_ids = select(PaymentBatchRow.id).where(PaymentBatchRow.community_id == community_id)
        for name, iban in session.execute(
            select(PaymentRow.name, PaymentRow.iban).where(PaymentRow.batch_id.in_(batch_ids), PaymentRow.member == ext)
        ):
            identity.add("name", name, skip=(alias,))
            identity.add("iban", iban)
        history = _audit_about(session, {t: ids for t, ids in keys.items() if t != "users"})
        _history(history, identity, alias)
        organisation_names: set[str] = set()
        if member.kind in ORGANISATION_KINDS:
            # An organisation's name is not personal data (art. 4 GDPR protects natural persons): minutes and
            # answers naming the municipality or the association stay as they are. Its emails, IBAN and the
            # names of the people behind its accounts are still erased.
            organisation_names = set(identity.names)
            identity.names.clear()
            warnings.append(
                f"il socio {ext} e' un ente ({member.kind}): il suo nome non e' un dato personale e resta nei testi "
                "degli altri registri (verbali, risposte); cancellati email, IBAN e dati delle persone collegate"
            )
        open_register = session.scalar(
            select(func.count()).where(
                RegisterEntryRow.community_id == community_id,
                RegisterEntryRow.member == ext,
                RegisterEntryRow.withdrawn_on.is_(None),
            )
        )
        if open_register:
            warnings.append(f"il socio {ext} risulta ancora iscritto nel libro soci (nessuna data di recesso)")
        changed: dict[str, int] = {}
        outcome = Outcome()
        with audit.suspended(session):
            member.name, member.email, member.iban = alias, None, None
            changed["members"] = 1
            changed["payments"] = _rowcount(
                session.execute(
                    update(PaymentRow)
                    .where(PaymentRow.batch_id.in_(batch_ids), PaymentRow.member == ext)
                    .values(name=alias[:140], iban="")
                )
            )
            changed["governance_register"] = _rowcount(
                session.execute(
                    update(RegisterEntryRow)
                    .where(RegisterEntryRow.community_id == community_id, RegisterEntryRow.member == ext)
                    .values(name=alias)
                )
            )
            changed["role_assignments"] = _rowcount(
                session.execute(delete(RoleAssignment).where(RoleAssignment.member_id == member.id))
            )
            session.flush()
            pseudonymised: list[int] = []
            kept: list[int] = []
            for user in users:
                session.expire(user, ["roles"])
                others = session.scalar(select(func.count()).where(RoleAssignment.user_id == user.id))
                if others:
                    kept.append(user.id)
                    warnings.append(
                        f"l'utente {user.id} ha altri ruoli: account mantenuto, tolto solo il legame con il socio"
                    )
                    continue
                identity.add("email", user.email)
                identity.add("name", user.display_name, skip=(alias,))
                _history(_audit_about(session, {"users": [str(user.id)]}), identity, alias)
                digest = hashlib.sha256(f"condivisa-gdpr-user:{user.id}".encode()).hexdigest()[:12]
                user.email = f"cancellato-{digest}@invalid"
                user.display_name = alias
                user.password_hash = "!cancellato"
                user.active = False
                pseudonymised.append(user.id)
            changed["users"] = len(pseudonymised)
            identity.names -= organisation_names  # an account named after the organisation
            readings_deleted = 0
            if delete_readings:
                pods = list(session.scalars(select(PointRow.pod).where(PointRow.member_id == member.id)))
                readings_deleted = _rowcount(
                    session.execute(
                        delete(ReadingRow).where(ReadingRow.community_id == community_id, ReadingRow.pod.in_(pods))
                    )
                )
                changed["reading_corrections"] = _rowcount(
                    session.execute(
                        delete(ReadingCorrection).where(
                            ReadingCorrection.community_id == community_id, ReadingCorrection.pod.in_(pods)
                        )
                    )
                )
                changed["quarantined_readings"] = _rowcount(
                    session.execute(
                        delete(QuarantinedReading).where(
                            QuarantinedReading.community_id == community_id, QuarantinedReading.pod.in_(pods)
                        )
                    )
                )
            session.flush()
            if scrub_texts:
                erase_contacts(session, identity, alias, outcome)
                scrub_tables(session, identity, alias, outcome)
                for table, count in outcome.counts().items():
                    changed[table] = changed.get(table, 0) + count
            lowered = sorted({n.lower() for n in identity.needles()})
            scrubbed = 0
            conn = session.connection()
            t = audit.AUDIT_TABLE
            for row in conn.execute(select(t.c.id, t.c.object_type, t.c.object_id, t.c.changes)).all():
                about = row.object_id is not None and row.object_id in keys.get(row.object_type, [])
                new, hit = _scrub(row.changes or {}, lowered, about)
                if hit:
                    conn.execute(update(t).where(t.c.id == row.id).values(changes=new))
                    scrubbed += 1
            changed["audit_log"] = scrubbed
        audit.record(
            session,
            "gdpr_erase",
            "members",
            member.id,
            community_id=community_id,
            changes={
                "member": ext,
                "pseudonym": alias,
                "changed": changed,
                "readings_deleted": readings_deleted,
                "users_pseudonymised": pseudonymised,
            },
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    remaining = find_text(session, identity.needles())
    session.rollback()  # end the read transaction of the check
    warnings += explain(remaining, outcome, kept_users=kept, texts_scrubbed=scrub_texts)
    return ErasureReport(
        community_id=community_id,
        member=ext,
        pseudonym=alias,
        changed=changed,
        users_pseudonymised=pseudonymised,
        users_kept=kept,
        readings_deleted=readings_deleted,
        remaining=remaining,
        warnings=warnings,
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
