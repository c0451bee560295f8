"""Pages of community governance: legal form and seat, founding documents, members' register, assemblies with
votes and minutes, the energy-poverty fund.

Access: managers of the community (and platform admins) read and write; officers of its municipality read; a
member sees their own rows of the register, the founding documents and the assemblies with their minutes. The
fund's page (beneficiaries under pseudonyms) is for managers, officers and admins only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from condivisa.errors import InputError, Problem
from condivisa.governance.assembly import VOTE_LABELS, Attendee
from condivisa.governance.documents import minutes_blocks, regulation_blocks, statute_blocks, to_docx, to_pdf
from condivisa.governance.legal_forms import CALL_LABELS, KIND_LABELS, legal_forms
from condivisa.governance.rules_text import regulation_paragraphs, sharing_rule_sentence
from condivisa.model.community import MEMBER_KINDS
from condivisa.store.governance import (
    add_beneficiary,
    admit_member,
    assembly_result,
    charter_of,
    create_assembly,
    disburse,
    fund_summaries,
    get_assembly,
    get_profile,
    list_assemblies,
    list_beneficiaries,
    list_disbursements,
    list_register,
    minutes_data,
    record_attendance,
    record_votes,
    register_founders,
    register_mismatches,
    save_profile,
    withdraw_member,
)
from condivisa.store.models import CommunityRow, MemberRow
from condivisa.store.models_governance import ISEE_BANDS
from condivisa.store.repository import NotFoundError
from condivisa.web.access import Principal, authorize
from condivisa.web.deps import FormCsrf, PageUserDep, SessionDep, community_or_404, render

router = APIRouter(include_in_schema=False)

Access = Literal["write", "read", "member"]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENTS = {"statuto": statute_blocks, "regolamento": regulation_blocks}


def _own_member(db: Session, user: Principal, row: CommunityRow) -> str | None:
    """The file id of the member the user is, in this community (None when not a member of it)."""
    for g in user.grants:
        if g.role == "member" and g.community_id == row.id and g.member_id is not None:
            member = db.get(MemberRow, g.member_id)
            if member is not None and member.community_id == row.id:
                return member.external_id
    return None


def _access(db: Session, user: Principal, row: CommunityRow, *, members: bool = True) -> tuple[Access, str | None]:
    """What the user may do here: write (managers, admins), read (officers), member (own data); 403 otherwise."""
    if authorize(user, "community:write", row.id, municipality=row.municipality):
        return "write", None
    if authorize(user, "community:read", row.id, municipality=row.municipality):
        return "read", None
    own = _own_member(db, user, row) if members else None
    if own is not None:
        return "member", own
    raise HTTPException(status_code=403, detail="accesso negato")


def _write(db: Session, user: Principal, community_id: int) -> CommunityRow:
    row = community_or_404(db, community_id)
    if not authorize(user, "community:write", row.id, municipality=row.municipality):
        raise HTTPException(status_code=403, detail="accesso negato")
    return row


def _day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError.one(f"data non valida {value!r} (AAAA-MM-GG)", field=name) from exc


def _ids(text: str) -> list[str]:
    return [x for x in re.split(r"[\s,;]+", text.strip()) if x]


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# Overview -------------------------------------------------------------------------------------------------------


def _overview(
    request: Request,
    db: Session,
    user: Principal,
    row: CommunityRow,
    *,
    problems: dict[str, list[Problem]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    access, own = _access(db, user, row)
    charter = charter_of(db, row.id)
    profile = get_profile(db, row.id)
    context: dict[str, Any] = {
        "row": row,
        "access": access,
        "profile": profile,
        "form": profile.form,
        "forms": legal_forms(),
        "kinds": MEMBER_KINDS,
        "sharing": sharing_rule_sentence(charter.community),
        "paragraphs": regulation_paragraphs(charter.community),
        "problems": problems or {},
        "today": dt.date.today().isoformat(),
    }
    if access == "member":
        context["register"] = list_register(db, row.id, member=own)
        context["mismatches"] = []
    else:
        context["register"] = list_register(db, row.id)
        context["mismatches"] = register_mismatches(db, row.id)
    return render(request, "governance_overview.html", context, user=user, status_code=status_code)


@router.get("/communities/{community_id}/governance", response_class=HTMLResponse)
def overview(request: Request, community_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """Legal form and its consequences, the sharing rule in words, documents, members' register."""
    return _overview(request, db, user, community_or_404(db, community_id))


@router.post("/communities/{community_id}/governance/profile", dependencies=[FormCsrf])
def update_profile(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    legal_form: Annotated[str, Form()] = "",
    seat_address: Annotated[str, Form()] = "",
    seat_municipality: Annotated[str, Form()] = "",
    max_proxies: Annotated[str, Form()] = "",
) -> Response:
    """Choose the legal form, the seat and the proxies limit."""
    row = _write(db, user, community_id)
    try:
        try:
            limit = int(max_proxies) if max_proxies.strip() else None
        except ValueError as exc:
            raise InputError.one("deve essere un numero intero", field="max_proxies") from exc
        save_profile(
            db,
            row.id,
            legal_form_key=legal_form,
            seat_address=seat_address,
            seat_municipality=seat_municipality,
            max_proxies=limit,
        )
    except InputError as exc:
        return _overview(request, db, user, row, problems={"profile": exc.problems}, status_code=422)
    return _back(f"/communities/{row.id}/governance")


@router.post("/communities/{community_id}/governance/register", dependencies=[FormCsrf])
def admit(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    member: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "household",
    admitted_on: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> Response:
    """Record the admission of a member (date and decision)."""
    row = _write(db, user, community_id)
    try:
        admit_member(
            db,
            row.id,
            member=member,
            name=name,
            category=category,
            admitted_on=_day(admitted_on, "admitted_on"),
            decision=decision,
        )
    except InputError as exc:
        return _overview(request, db, user, row, problems={"register": exc.problems}, status_code=422)
    return _back(f"/communities/{row.id}/governance#register")


@router.post("/communities/{community_id}/governance/register/founders", dependencies=[FormCsrf])
def founders(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    admitted_on: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "atto costitutivo",
) -> Response:
    """Register every member of the stored community who has no open membership."""
    row = _write(db, user, community_id)
    try:
        register_founders(db, row.id, admitted_on=_day(admitted_on, "admitted_on"), decision=decision)
    except InputError as exc:
        return _overview(request, db, user, row, problems={"register": exc.problems}, status_code=422)
    return _back(f"/communities/{row.id}/governance#register")


@router.post("/communities/{community_id}/governance/register/{entry_id}/withdraw", dependencies=[FormCsrf])
def withdraw(
    request: Request,
    community_id: int,
    entry_id: int,
    db: SessionDep,
    user: PageUserDep,
    withdrawn_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Record a member's withdrawal (free, at any time: date and reason)."""
    row = _write(db, user, community_id)
    try:
        withdraw_member(db, row.id, entry_id, withdrawn_on=_day(withdrawn_on, "withdrawn_on"), reason=reason)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="iscrizione non trovata") from exc
    except InputError as exc:
        return _overview(request, db, user, row, problems={"register": exc.problems}, status_code=422)
    return _back(f"/communities/{row.id}/governance#register")


# Documents ------------------------------------------------------------------------------------------------------


def _file(data: bytes, name: str, ext: str) -> Response:
    media = DOCX if ext == "docx" else "application/pdf"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'})


@router.get("/communities/{community_id}/governance/documents/{name}.{ext}")
def document(community_id: int, name: str, ext: str, db: SessionDep, user: PageUserDep) -> Response:
    """The statute or the internal regulation, as DOCX or PDF, filled with the community's data."""
    row = community_or_404(db, community_id)
    _access(db, user, row)
    if name not in DOCUMENTS or ext not in ("docx", "pdf"):
        raise HTTPException(status_code=404, detail="documento non trovato")
    blocks = DOCUMENTS[name](charter_of(db, row.id))
    return _file(to_docx(blocks) if ext == "docx" else to_pdf(blocks), name, ext)


# Assemblies -----------------------------------------------------------------------------------------------------


def _assemblies_page(
    request: Request,
    db: Session,
    user: Principal,
    row: CommunityRow,
    *,
    problems: list[Problem] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    access, _ = _access(db, user, row)
    context = {
        "row": row,
        "access": access,
        "assemblies": list_assemblies(db, row.id),
        "kind_labels": KIND_LABELS,
        "call_labels": CALL_LABELS,
        "problems": problems or [],
        "form": form or {},
        "today": dt.date.today().isoformat(),
    }
    return render(request, "governance_assemblies.html", context, user=user, status_code=status_code)


@router.get("/communities/{community_id}/governance/assemblies", response_class=HTMLResponse)
def assemblies(request: Request, community_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The community's assemblies, newest first; managers call a new one."""
    return _assemblies_page(request, db, user, community_or_404(db, community_id))


@router.post("/communities/{community_id}/governance/assemblies", dependencies=[FormCsrf])
def new_assembly(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    held_on: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "ordinary",
    call: Annotated[str, Form()] = "first",
    place: Annotated[str, Form()] = "",
    chair: Annotated[str, Form()] = "",
    secretary: Annotated[str, Form()] = "",
    agenda: Annotated[str, Form()] = "",
) -> Response:
    """Record an assembly with its agenda (one item per line)."""
    row = _write(db, user, community_id)
    try:
        aid = create_assembly(
            db,
            row.id,
            held_on=_day(held_on, "held_on"),
            kind=kind,
            call=call,
            place=place,
            chair=chair,
            secretary=secretary,
            agenda=agenda.splitlines(),
        )
    except InputError as exc:
        form = {"held_on": held_on, "place": place, "chair": chair, "secretary": secretary, "agenda": agenda}
        return _assemblies_page(request, db, user, row, problems=exc.problems, form=form, status_code=422)
    return _back(f"/communities/{row.id}/governance/assemblies/{aid}")


def _assembly_page(
    request: Request,
    db: Session,
    user: Principal,
    row: CommunityRow,
    assembly_id: int,
    *,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    access, _ = _access(db, user, row)
    try:
        assembly, outcome = assembly_result(db, row.id, assembly_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="assemblea non trovata") from exc
    except InputError as exc:  # stored data that no longer fits (e.g. a lower proxies limit): shown, not a 500
        assembly, outcome = None, None
        problems = (problems or []) + exc.problems
    if assembly is None:
        assembly = get_assembly(db, row.id, assembly_id)
    lines = "\n".join(a.member + (": " + ", ".join(a.proxies) if a.proxies else "") for a in assembly.attendees())
    context = {
        "row": row,
        "access": access,
        "assembly": assembly,
        "outcome": outcome,
        "attendance_text": lines,
        "kind_labels": KIND_LABELS,
        "call_labels": CALL_LABELS,
        "vote_labels": VOTE_LABELS,
        "problems": problems or [],
    }
    return render(request, "governance_assembly.html", context, user=user, status_code=status_code)


@router.get("/communities/{community_id}/governance/assemblies/{assembly_id}", response_class=HTMLResponse)
def assembly_page(
    request: Request, community_id: int, assembly_id: int, db: SessionDep, user: PageUserDep
) -> HTMLResponse:
    """An assembly: agenda, attendance with proxies, votes, outcome with reasons, minutes."""
    return _assembly_page(request, db, user, community_or_404(db, community_id), assembly_id)


def _attendees(text: str) -> list[Attendee]:
    """Lines ``m10`` (present) or ``m10: m11, m12`` (present, holding the proxies of m11 and m12)."""
    out = []
    for k, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, _, tail = line.partition(":")
        ids = _ids(head)
        if len(ids) != 1:
            raise InputError.one(f"riga {k}: attesa la forma 'socio' o 'socio: delegante, delegante'", field="presenze")
        out.append(Attendee(ids[0], tuple(_ids(tail))))
    return out


@router.post("/communities/{community_id}/governance/assemblies/{assembly_id}/attendance", dependencies=[FormCsrf])
def attendance(
    request: Request,
    community_id: int,
    assembly_id: int,
    db: SessionDep,
    user: PageUserDep,
    attendees: Annotated[str, Form()] = "",
) -> Response:
    """Record who was present and the proxies they held (checked against the statute's limit)."""
    row = _write(db, user, community_id)
    try:
        record_attendance(db, row.id, assembly_id, _attendees(attendees))
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="assemblea non trovata") from exc
    except InputError as exc:
        return _assembly_page(request, db, user, row, assembly_id, problems=exc.problems, status_code=422)
    return _back(f"/communities/{row.id}/governance/assemblies/{assembly_id}")


@router.post(
    "/communities/{community_id}/governance/assemblies/{assembly_id}/votes/{position}", dependencies=[FormCsrf]
)
def votes(
    request: Request,
    community_id: int,
    assembly_id: int,
    position: int,
    db: SessionDep,
    user: PageUserDep,
    yes: Annotated[str, Form()] = "",
    no: Annotated[str, Form()] = "",
    abstain: Annotated[str, Form()] = "",
) -> Response:
    """Record the votes on one agenda item: ids of the members (present or represented) per choice."""
    row = _write(db, user, community_id)
    ballot: dict[str, str] = {}
    problems = []
    for choice, text in (("yes", yes), ("no", no), ("abstain", abstain)):
        for member in _ids(text):
            if member in ballot:
                problems.append(Problem(f"il socio {member!r} ha più di un voto", field=f"voti punto {position + 1}"))
            ballot[member] = choice
    try:
        if problems:
            raise InputError(problems)
        record_votes(db, row.id, assembly_id, position, ballot)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="assemblea o punto non trovato") from exc
    except InputError as exc:
        return _assembly_page(request, db, user, row, assembly_id, problems=exc.problems, status_code=422)
    return _back(f"/communities/{row.id}/governance/assemblies/{assembly_id}")


@router.get("/communities/{community_id}/governance/assemblies/{assembly_id}/verbale.{ext}")
def minutes(community_id: int, assembly_id: int, ext: str, db: SessionDep, user: PageUserDep) -> Response:
    """The minutes of an assembly as DOCX or PDF."""
    row = community_or_404(db, community_id)
    _access(db, user, row)
    if ext not in ("docx", "pdf"):
        raise HTTPException(status_code=404, detail="formato non disponibile")
    try:
        assembly, outcome = assembly_result(db, row.id, assembly_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail="assemblea non trovata") from exc
    except InputError as exc:
        raise HTTPException(status_code=409, detail=f"verbale non generabile: {exc}") from exc
    blocks = minutes_blocks(charter_of(db, row.id), minutes_data(db, row.id, assembly), outcome)
    name = f"verbale-{assembly.held_on.isoformat()}"
    return _file(to_docx(blocks) if ext == "docx" else to_pdf(blocks), name, ext)


# Fund -----------------------------------------------------------------------------------------------------------


def _fund_page(
    request: Request,
    db: Session,
    user: Principal,
    row: CommunityRow,
    *,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    access, _ = _access(db, user, row, members=False)
    context = {
        "row": row,
        "access": access,
        "funds": fund_summaries(db, row.id),
        "beneficiaries": list_beneficiaries(db, row.id),
        "disbursements": list_disbursements(db, row.id),
        "bands": ISEE_BANDS,
        "problems": problems or [],
        "today": dt.date.today().isoformat(),
    }
    return render(request, "governance_fund.html", context, user=user, status_code=status_code)


@router.get("/communities/{community_id}/governance/fund", response_class=HTMLResponse)
def fund(request: Request, community_id: int, db: SessionDep, user: PageUserDep) -> HTMLResponse:
    """The community's funds: inflows from settlements, beneficiaries, disbursements, balance."""
    return _fund_page(request, db, user, community_or_404(db, community_id))


@router.post("/communities/{community_id}/governance/fund/beneficiaries", dependencies=[FormCsrf])
def new_beneficiary(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    fund: Annotated[str, Form()] = "",
    pseudonym: Annotated[str, Form()] = "",
    member: Annotated[str, Form()] = "",
    isee_band: Annotated[str, Form()] = "",
    admitted_on: Annotated[str, Form()] = "",
) -> Response:
    """Add a beneficiary (pseudonym, ISEE band; a member id when a member)."""
    row = _write(db, user, community_id)
    try:
        add_beneficiary(
            db,
            row.id,
            fund=fund,
            pseudonym=pseudonym,
            member=member,
            isee_band=isee_band,
            admitted_on=_day(admitted_on, "admitted_on"),
        )
    except InputError as exc:
        return _fund_page(request, db, user, row, problems=exc.problems, status_code=422)
    return _back(f"/communities/{row.id}/governance/fund")


@router.post("/communities/{community_id}/governance/fund/disbursements", dependencies=[FormCsrf])
def new_disbursement(
    request: Request,
    community_id: int,
    db: SessionDep,
    user: PageUserDep,
    beneficiary_id: Annotated[str, Form()] = "",
    amount_eur: Annotated[str, Form()] = "",
    paid_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Pay a beneficiary; refused above the fund's balance."""
    row = _write(db, user, community_id)
    try:
        try:
            bid = int(beneficiary_id)
            cents = round(float(amount_eur.replace(",", ".")) * 100)
        except (ValueError, OverflowError) as exc:
            raise InputError.one("beneficiario e importo devono essere numeri", field="amount") from exc
        disburse(db, row.id, beneficiary_id=bid, paid_on=_day(paid_on, "paid_on"), amount_cents=cents, note=note)
    except NotFoundError as exc:
        return _fund_page(request, db, user, row, problems=[Problem(str(exc), field="beneficiary_id")], status_code=422)
    except InputError as exc:
        return _fund_page(request, db, user, row, problems=exc.problems, status_code=422)
    return _back(f"/communities/{row.id}/governance/fund")
