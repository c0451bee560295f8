"""Repository of community governance: profile (legal form, seat), members' register, assemblies, fund.

Every write checks its input and raises :class:`~condivisa.errors.InputError` naming the field, and commits; reads
return plain dataclasses. Quorum and votes are decided by :mod:`condivisa.governance.assembly`, the documents are
written by :mod:`condivisa.governance.documents`; this module only stores and gathers their inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.governance.assembly import AssemblyOutcome, Attendee, assembly_outcome, check_attendance
from condivisa.governance.documents import Charter, MinutesData
from condivisa.governance.legal_forms import ASSEMBLY_KINDS, CALLS, LegalForm, legal_form, legal_forms
from condivisa.model.community import MEMBER_KINDS
from condivisa.store.models import CommunityRow, SettlementLineRow, SettlementRow
from condivisa.store.models_governance import (
    ISEE_BANDS,
    VOTE_CHOICES,
    AgendaItemRow,
    AssemblyRow,
    AttendanceRow,
    FundBeneficiaryRow,
    FundDisbursementRow,
    GovernanceProfileRow,
    RegisterEntryRow,
    VoteRow,
)
from condivisa.store.repository import NotFoundError, load_community

DEFAULT_LEGAL_FORM = "associazione_riconosciuta"
"""Form assumed until the community chooses one (the most common for CER with citizens and a municipality)."""

MAX_PROXIES_LIMIT = 20


@dataclass(frozen=True)
class Profile:
    """Legal form, seat and statute parameters of a community (``stored`` False: defaults, not chosen yet)."""

    community_id: int
    legal_form: str
    seat_address: str
    seat_municipality: str
    max_proxies: int
    stored: bool

    @property
    def form(self) -> LegalForm:
        return legal_form(self.legal_form)


@dataclass(frozen=True)
class RegisterEntry:
    """A row of the members' register."""

    id: int
    member: str
    name: str
    category: str
    admitted_on: dt.date
    admission_decision: str
    withdrawn_on: dt.date | None
    withdrawal_reason: str | None

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None


@dataclass(frozen=True)
class Assembly:
    """A stored assembly with agenda, attendance (member -> delegate or None) and votes per item position."""

    id: int
    community_id: int
    held_on: dt.date
    kind: str
    call: str
    place: str
    chair: str
    secretary: str
    agenda: tuple[str, ...]
    attendance: dict[str, str | None]
    votes: tuple[dict[str, str], ...]

    def attendees(self) -> list[Attendee]:
        """Members present in person with the proxies they hold."""
        proxies: dict[str, list[str]] = {}
        for member, delegate in self.attendance.items():
            if delegate is not None:
                proxies.setdefault(delegate, []).append(member)
        return [Attendee(m, tuple(proxies.get(m, []))) for m, d in self.attendance.items() if d is None]


@dataclass(frozen=True)
class FundSummary:
    """A fund's money [cents]: received from settlements, paid out, balance (never negative)."""

    fund: str
    inflow_cents: int
    disbursed_cents: int

    @property
    def balance_cents(self) -> int:
        return self.inflow_cents - self.disbursed_cents


@dataclass(frozen=True)
class Beneficiary:
    """A fund beneficiary: pseudonym, member id when a member, ISEE band; ``paid_cents`` received so far."""

    id: int
    fund: str
    pseudonym: str
    member: str | None
    isee_band: str
    admitted_on: dt.date
    paid_cents: int


@dataclass(frozen=True)
class Disbursement:
    id: int
    fund: str
    beneficiary_id: int
    pseudonym: str
    paid_on: dt.date
    amount_cents: int
    note: str


def _eur(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", ",") + " €"


def _community(session: Session, community_id: int) -> CommunityRow:
    row = session.get(CommunityRow, community_id)
    if row is None:
        raise NotFoundError(f"comunita' {community_id} non trovata")
    return row


def _text(value: str, name: str, limit: int, problems: list[Problem], *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        problems.append(Problem("campo obbligatorio", field=name))
    if len(value) > limit:
        problems.append(Problem(f"testo troppo lungo ({len(value)} caratteri, massimo {limit})", field=name))
    return value


# Profile ----------------------------------------------------------------------------------------------------------


def get_profile(session: Session, community_id: int) -> Profile:
    """The community's profile, or the defaults (``stored`` False) when none was saved."""
    row = _community(session, community_id)
    p = session.scalar(select(GovernanceProfileRow).where(GovernanceProfileRow.community_id == community_id))
    if p is None:
        members = len(row.members)
        return Profile(
            community_id,
            DEFAULT_LEGAL_FORM,
            "",
            row.municipality or "",
            legal_form(DEFAULT_LEGAL_FORM).default_max_proxies(members),
            False,
        )
    return Profile(community_id, p.legal_form, p.seat_address, p.seat_municipality, p.max_proxies, True)


def save_profile(
    session: Session,
    community_id: int,
    *,
    legal_form_key: str,
    seat_address: str,
    seat_municipality: str,
    max_proxies: int | None = None,
) -> Profile:
    """Store the legal form, seat and proxies limit (None: the form's default for the community's size).

    Raises
    ------
    InputError
        Unknown form, proxies out of 0-20, texts too long.
    """
    row = _community(session, community_id)
    problems: list[Problem] = []
    if legal_form_key not in legal_forms():
        problems.append(
            Problem(f"forma {legal_form_key!r} sconosciuta; ammesse: {', '.join(legal_forms())}", field="legal_form")
        )
    address = _text(seat_address, "seat_address", 300, problems)
    town = _text(seat_municipality, "seat_municipality", 200, problems)
    if max_proxies is not None and not 0 <= max_proxies <= MAX_PROXIES_LIMIT:
        problems.append(Problem(f"deve essere tra 0 e {MAX_PROXIES_LIMIT}", field="max_proxies"))
    if problems:
        raise InputError(problems)
    if max_proxies is None:
        max_proxies = legal_form(legal_form_key).default_max_proxies(len(row.members))
    p = session.scalar(select(GovernanceProfileRow).where(GovernanceProfileRow.community_id == community_id))
    if p is None:
        p = GovernanceProfileRow(community_id=community_id)
        session.add(p)
    p.legal_form, p.seat_address, p.seat_municipality, p.max_proxies = legal_form_key, address, town, max_proxies
    session.commit()
    return get_profile(session, community_id)


def charter_of(session: Session, community_id: int, *, date: dt.date | None = None) -> Charter:
    """What the documents need: the stored community with its profile."""
    profile = get_profile(session, community_id)
    row = _community(session, community_id)
    return Charter(
        community=load_community(session, community_id),
        municipality=profile.seat_municipality or row.municipality or "",
        seat_address=profile.seat_address,
        legal_form=profile.form,
        max_proxies=profile.max_proxies,
        date=date or dt.date.today(),
    )


# Members' register ------------------------------------------------------------------------------------------------


def _entry(r: RegisterEntryRow) -> RegisterEntry:
    return RegisterEntry(
        r.id, r.member, r.name, r.category, r.admitted_on, r.admission_decision, r.withdrawn_on, r.withdrawal_reason
    )


def list_register(session: Session, community_id: int, *, member: str | None = None) -> list[RegisterEntry]:
    """Register rows by admission date (then id); only those of ``member`` when given."""
    q = select(RegisterEntryRow).where(RegisterEntryRow.community_id == community_id)
    if member is not None:
        q = q.where(RegisterEntryRow.member == member)
    rows = session.scalars(q.order_by(RegisterEntryRow.admitted_on, RegisterEntryRow.id)).all()
    return [_entry(r) for r in rows]


def admit_member(
    session: Session,
    community_id: int,
    *,
    member: str,
    admitted_on: dt.date,
    decision: str,
    name: str = "",
    category: str = "household",
) -> RegisterEntry:
    """Record an admission. The member must not have an open membership.

    Raises
    ------
    InputError
        Empty id or decision, unknown category, an open membership, texts too long.
    """
    _community(session, community_id)
    problems: list[Problem] = []
    member = _text(member, "member", 100, problems, required=True)
    decision = _text(decision, "admission_decision", 300, problems, required=True)
    name = _text(name, "name", 200, problems)
    if category not in MEMBER_KINDS:
        problems.append(
            Problem(f"categoria {category!r} sconosciuta; ammesse: {', '.join(MEMBER_KINDS)}", field="category")
        )
    if member and any(e.active for e in list_register(session, community_id, member=member)):
        problems.append(Problem(f"il socio {member!r} è già iscritto e non è receduto", field="member"))
    if problems:
        raise InputError(problems)
    row = RegisterEntryRow(
        community_id=community_id,
        member=member,
        name=name,
        category=category,
        admitted_on=admitted_on,
        admission_decision=decision,
    )
    session.add(row)
    session.commit()
    return _entry(row)


def withdraw_member(
    session: Session, community_id: int, entry_id: int, *, withdrawn_on: dt.date, reason: str
) -> RegisterEntry:
    """Record the withdrawal of an open membership (free withdrawal: only a date and a reason are asked).

    Raises
    ------
    NotFoundError
        No such row in this community.
    InputError
        Already withdrawn, a date before the admission, empty reason.
    """
    row = session.get(RegisterEntryRow, entry_id)
    if row is None or row.community_id != community_id:
        raise NotFoundError(f"iscrizione {entry_id} non trovata")
    problems: list[Problem] = []
    reason = _text(reason, "withdrawal_reason", 300, problems, required=True)
    if row.withdrawn_on is not None:
        problems.append(
            Problem(f"il socio {row.member!r} è già receduto il {row.withdrawn_on:%d/%m/%Y}", field="member")
        )
    if withdrawn_on < row.admitted_on:
        problems.append(
            Problem(f"la data di recesso precede l'ammissione ({row.admitted_on:%d/%m/%Y})", field="withdrawn_on")
        )
    if problems:
        raise InputError(problems)
    row.withdrawn_on, row.withdrawal_reason = withdrawn_on, reason
    session.commit()
    return _entry(row)


def register_founders(session: Session, community_id: int, *, admitted_on: dt.date, decision: str) -> int:
    """Admit every member of the stored community that has no open membership; returns how many were added."""
    community = load_community(session, community_id)
    open_ids = {e.member for e in list_register(session, community_id) if e.active}
    added = 0
    for m in community.members:
        if m.id not in open_ids:
            session.add(
                RegisterEntryRow(
                    community_id=community_id,
                    member=m.id,
                    name=m.name,
                    category=m.kind,
                    admitted_on=admitted_on,
                    admission_decision=decision.strip() or "atto costitutivo",
                )
            )
            added += 1
    session.commit()
    return added


def members_on(session: Session, community_id: int, day: dt.date) -> set[str]:
    """Members with voting rights on ``day``: admitted on or before it and not withdrawn on or before it."""
    return {
        e.member
        for e in list_register(session, community_id)
        if e.admitted_on <= day and (e.withdrawn_on is None or e.withdrawn_on > day)
    }


def register_mismatches(session: Session, community_id: int) -> list[str]:
    """Differences between the register and the stored community's members, in Italian (empty when in sync)."""
    community = load_community(session, community_id)
    stored = {m.id for m in community.members}
    entries = list_register(session, community_id)
    active = {e.member for e in entries if e.active}
    withdrawn = {e.member for e in entries if not e.active} - active
    out = []
    for m in sorted(stored - active - withdrawn):
        out.append(f"{m}: nella comunità ma non iscritto nel libro dei soci")
    for m in sorted(stored & withdrawn):
        out.append(f"{m}: receduto nel libro dei soci ma ancora tra i soci della comunità (togliere i suoi POD)")
    for m in sorted(active - stored):
        out.append(f"{m}: iscritto nel libro dei soci ma non tra i soci della comunità (aggiungere i suoi POD)")
    return out


# Assemblies -------------------------------------------------------------------------------------------------------


def create_assembly(
    session: Session,
    community_id: int,
    *,
    held_on: dt.date,
    kind: str,
    call: str,
    agenda: Sequence[str],
    place: str = "",
    chair: str = "",
    secretary: str = "",
) -> int:
    """Store an assembly with its agenda (at least one item); returns its id."""
    _community(session, community_id)
    problems: list[Problem] = []
    if kind not in ASSEMBLY_KINDS:
        problems.append(Problem(f"tipo {kind!r} sconosciuto; ammessi: {', '.join(ASSEMBLY_KINDS)}", field="kind"))
    if call not in CALLS:
        problems.append(Problem(f"convocazione {call!r} sconosciuta; ammesse: {', '.join(CALLS)}", field="call"))
    items = [a.strip() for a in agenda if a.strip()]
    if not items:
        problems.append(Problem("l'ordine del giorno deve avere almeno un punto", field="agenda"))
    if len(items) > 50:
        problems.append(Problem("al massimo 50 punti all'ordine del giorno", field="agenda"))
    place = _text(place, "place", 300, problems)
    chair = _text(chair, "chair", 200, problems)
    secretary = _text(secretary, "secretary", 200, problems)
    if problems:
        raise InputError(problems)
    row = AssemblyRow(
        community_id=community_id, held_on=held_on, kind=kind, call=call, place=place, chair=chair, secretary=secretary
    )
    session.add(row)
    session.flush()
    for i, title in enumerate(items):
        session.add(AgendaItemRow(assembly_id=row.id, position=i, title=title))
    session.commit()
    return row.id


def list_assemblies(session: Session, community_id: int) -> list[AssemblyRow]:
    """Assemblies of a community, newest first."""
    return list(
        session.scalars(
            select(AssemblyRow)
            .where(AssemblyRow.community_id == community_id)
            .order_by(AssemblyRow.held_on.desc(), AssemblyRow.id.desc())
        ).all()
    )


def _items(session: Session, assembly_id: int) -> list[AgendaItemRow]:
    return list(
        session.scalars(
            select(AgendaItemRow).where(AgendaItemRow.assembly_id == assembly_id).order_by(AgendaItemRow.position)
        ).all()
    )


def get_assembly(session: Session, community_id: int, assembly_id: int) -> Assembly:
    """A stored assembly of the community.

    Raises
    ------
    NotFoundError
        No such assembly in this community.
    """
    row = session.get(AssemblyRow, assembly_id)
    if row is None or row.community_id != community_id:
        raise NotFoundError(f"assemblea {assembly_id} non trovata")
    items = _items(session, assembly_id)
    attendance = {
        a.member: a.delegate
        for a in session.scalars(
            select(AttendanceRow).where(AttendanceRow.assembly_id == assembly_id).order_by(AttendanceRow.id)
        ).all()
    }
    votes = []
    for item in items:
        ballot = {
            v.member: v.choice
            for v in session.scalars(select(VoteRow).where(VoteRow.item_id == item.id).order_by(VoteRow.id)).all()
        }
        votes.append(ballot)
    return Assembly(
        row.id,
        row.community_id,
        row.held_on,
        row.kind,
        row.call,
        row.place,
        row.chair,
        row.secretary,
        tuple(i.title for i in items),
        attendance,
        tuple(votes),
    )


def record_attendance(session: Session, community_id: int, assembly_id: int, attendees: Sequence[Attendee]) -> None:
    """Replace the attendance of an assembly (and drop votes of members no longer represented).

    Checked against the members with voting rights on the day (register) and the statute's proxies limit.

    Raises
    ------
    InputError
        See :func:`condivisa.governance.assembly.check_attendance`.
    """
    assembly = get_assembly(session, community_id, assembly_id)
    profile = get_profile(session, community_id)
    voter_of = check_attendance(members_on(session, community_id, assembly.held_on), attendees, profile.max_proxies)
    for old in session.scalars(select(AttendanceRow).where(AttendanceRow.assembly_id == assembly_id)).all():
        session.delete(old)
    session.flush()
    for member, voter in voter_of.items():
        session.add(AttendanceRow(assembly_id=assembly_id, member=member, delegate=None if voter == member else voter))
    for item in _items(session, assembly_id):
        for v in session.scalars(select(VoteRow).where(VoteRow.item_id == item.id)).all():
            if v.member not in voter_of:
                session.delete(v)
    session.commit()


def record_votes(
    session: Session, community_id: int, assembly_id: int, position: int, ballot: Mapping[str, str]
) -> None:
    """Replace the votes on agenda item ``position`` (0-based): member -> yes, no, abstain.

    Raises
    ------
    InputError
        A vote of a member not present or represented, an unknown choice.
    NotFoundError
        No such item.
    """
    assembly = get_assembly(session, community_id, assembly_id)
    items = _items(session, assembly_id)
    if not 0 <= position < len(items):
        raise NotFoundError(f"punto {position + 1} non trovato")
    problems = []
    for member, choice in ballot.items():
        if member not in assembly.attendance:
            problems.append(Problem(f"{member!r} non è presente né rappresentato", field=f"voti punto {position + 1}"))
        if choice not in VOTE_CHOICES:
            problems.append(
                Problem(
                    f"voto {choice!r} non valido; ammessi: {', '.join(VOTE_CHOICES)}",
                    field=f"voti punto {position + 1}",
                )
            )
    if problems:
        raise InputError(problems)
    item = items[position]
    for v in session.scalars(select(VoteRow).where(VoteRow.item_id == item.id)).all():
        session.delete(v)
    session.flush()
    for member, choice in ballot.items():
        session.add(VoteRow(item_id=item.id, member=member, choice=choice))
    session.commit()


def assembly_result(session: Session, community_id: int, assembly_id: int) -> tuple[Assembly, AssemblyOutcome]:
    """The stored assembly and its outcome under the community's legal form and proxies limit."""
    assembly = get_assembly(session, community_id, assembly_id)
    profile = get_profile(session, community_id)
    outcome = assembly_outcome(
        profile.form,
        members_on(session, community_id, assembly.held_on),
        assembly.attendees(),
        {f"{i + 1}. {title}": assembly.votes[i] for i, title in enumerate(assembly.agenda)},
        kind=assembly.kind,
        call=assembly.call,
        max_proxies=profile.max_proxies,
    )
    return assembly, outcome


def minutes_data(session: Session, community_id: int, assembly: Assembly) -> MinutesData:
    """The minutes' input: the assembly with the names of the members from the register."""
    names = {e.member: e.name for e in list_register(session, community_id) if e.name}
    proxies: dict[str, list[str]] = {}
    for member, delegate in assembly.attendance.items():
        if delegate is not None:
            proxies.setdefault(delegate, []).append(member)
    return MinutesData(
        held_on=assembly.held_on,
        kind=assembly.kind,
        call=assembly.call,
        place=assembly.place,
        chair=assembly.chair,
        secretary=assembly.secretary,
        agenda=assembly.agenda,
        attendees=[(a.member, a.proxies) for a in assembly.attendees()],
        votes=list(assembly.votes),
        names=names,
    )


# Energy-poverty fund ----------------------------------------------------------------------------------------------


def fund_names(session: Session, community_id: int) -> list[str]:
    """The community's funds: ``fund:NAME`` targets of its regulation and excess, and any with stored money."""
    community = load_community(session, community_id)
    names = [r.to for r in community.regulation if r.to.startswith("fund:")]
    if community.excess_to and community.excess_to.startswith("fund:"):
        names.append(community.excess_to)
    names += list(_inflows(session, community_id))
    return list(dict.fromkeys(names))


def _inflows(session: Session, community_id: int) -> dict[str, int]:
    rows = session.execute(
        select(SettlementLineRow.recipient, func.sum(SettlementLineRow.amount_cents))
        .join(SettlementRow, SettlementRow.id == SettlementLineRow.settlement_id)
        .where(
            SettlementRow.community_id == community_id,
            SettlementRow.status != "superseded",
            SettlementLineRow.recipient.like("fund:%"),
        )
        .group_by(SettlementLineRow.recipient)
    ).all()
    return {str(r): int(total or 0) for r, total in rows}


def _disbursed(session: Session, community_id: int) -> dict[str, int]:
    rows = session.execute(
        select(FundDisbursementRow.fund, func.sum(FundDisbursementRow.amount_cents))
        .where(FundDisbursementRow.community_id == community_id)
        .group_by(FundDisbursementRow.fund)
    ).all()
    return {str(f): int(total or 0) for f, total in rows}


def fund_summaries(session: Session, community_id: int) -> list[FundSummary]:
    """Each fund's inflows (``fund:NAME`` lines of the stored settlements not superseded), disbursements, balance."""
    inflows, paid = _inflows(session, community_id), _disbursed(session, community_id)
    return [FundSummary(f, inflows.get(f, 0), paid.get(f, 0)) for f in fund_names(session, community_id)]


def add_beneficiary(
    session: Session,
    community_id: int,
    *,
    fund: str,
    pseudonym: str,
    isee_band: str,
    admitted_on: dt.date,
    member: str | None = None,
) -> int:
    """Add a beneficiary to a fund (a member by id, or an external household by pseudonym only)."""
    problems: list[Problem] = []
    funds = fund_names(session, community_id)
    if fund not in funds:
        problems.append(
            Problem(f"fondo {fund!r} sconosciuto; fondi della comunità: {', '.join(funds) or 'nessuno'}", field="fund")
        )
    pseudonym = _text(pseudonym, "pseudonym", 100, problems, required=True)
    if isee_band not in ISEE_BANDS:
        problems.append(
            Problem(f"fascia ISEE {isee_band!r} sconosciuta; ammesse: {', '.join(ISEE_BANDS)}", field="isee_band")
        )
    member = (member or "").strip() or None
    if member is not None and member not in members_on(session, community_id, admitted_on):
        problems.append(Problem(f"{member!r} non è socio alla data indicata", field="member"))
    exists = session.scalar(
        select(FundBeneficiaryRow.id).where(
            FundBeneficiaryRow.community_id == community_id,
            FundBeneficiaryRow.fund == fund,
            FundBeneficiaryRow.pseudonym == pseudonym,
        )
    )
    if exists is not None:
        problems.append(Problem(f"lo pseudonimo {pseudonym!r} è già usato in questo fondo", field="pseudonym"))
    if problems:
        raise InputError(problems)
    row = FundBeneficiaryRow(
        community_id=community_id,
        fund=fund,
        pseudonym=pseudonym,
        member=member,
        isee_band=isee_band,
        admitted_on=admitted_on,
    )
    session.add(row)
    session.commit()
    return row.id


def list_beneficiaries(session: Session, community_id: int) -> list[Beneficiary]:
    """Beneficiaries of the community's funds with what each received [cents]."""
    paid = dict(
        session.execute(
            select(FundDisbursementRow.beneficiary_id, func.sum(FundDisbursementRow.amount_cents))
            .where(FundDisbursementRow.community_id == community_id)
            .group_by(FundDisbursementRow.beneficiary_id)
        ).all()
    )
    rows = session.scalars(
        select(FundBeneficiaryRow)
        .where(FundBeneficiaryRow.community_id == community_id)
        .order_by(FundBeneficiaryRow.fund, FundBeneficiaryRow.id)
    ).all()
    return [
        Beneficiary(r.id, r.fund, r.pseudonym, r.member, r.isee_band, r.admitted_on, int(paid.get(r.id) or 0))
        for r in rows
    ]


def disburse(
    session: Session,
    community_id: int,
    *,
    beneficiary_id: int,
    paid_on: dt.date,
    amount_cents: int,
    note: str = "",
) -> int:
    """Pay a beneficiary out of their fund; refused when it would make the fund's balance negative.

    The community row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL), so two concurrent payments
    cannot both pass the balance check.

    Raises
    ------
    InputError
        Amount not positive or above the balance, note too long.
    NotFoundError
        No such beneficiary in this community.
    """
    session.execute(select(CommunityRow.id).where(CommunityRow.id == community_id).with_for_update()).one()
    b = session.get(FundBeneficiaryRow, beneficiary_id)
    if b is None or b.community_id != community_id:
        session.rollback()
        raise NotFoundError(f"beneficiario {beneficiary_id} non trovato")
    problems: list[Problem] = []
    note = _text(note, "note", 300, problems)
    balance = _inflows(session, community_id).get(b.fund, 0) - _disbursed(session, community_id).get(b.fund, 0)
    if amount_cents <= 0:
        problems.append(Problem("l'importo deve essere positivo", field="amount"))
    elif amount_cents > balance:
        problems.append(
            Problem(
                f"importo {_eur(amount_cents)} superiore al saldo del fondo «{b.fund.split(':', 1)[-1]}» "
                f"({_eur(balance)})",
                field="amount",
            )
        )
    if problems:
        session.rollback()
        raise InputError(problems)
    row = FundDisbursementRow(
        community_id=community_id,
        fund=b.fund,
        beneficiary_id=beneficiary_id,
        paid_on=paid_on,
        amount_cents=amount_cents,
        note=note,
    )
    session.add(row)
    session.commit()
    return row.id


def list_disbursements(session: Session, community_id: int) -> list[Disbursement]:
    """Payments out of the community's funds, newest first."""
    rows = session.execute(
        select(FundDisbursementRow, FundBeneficiaryRow.pseudonym)
        .join(FundBeneficiaryRow, FundBeneficiaryRow.id == FundDisbursementRow.beneficiary_id)
        .where(FundDisbursementRow.community_id == community_id)
        .order_by(FundDisbursementRow.paid_on.desc(), FundDisbursementRow.id.desc())
    ).all()
    return [
        Disbursement(d.id, d.fund, d.beneficiary_id, pseudonym, d.paid_on, int(d.amount_cents), d.note)
        for d, pseudonym in rows
    ]
