"""Assemblies: attendance with proxies, quorum and votes (one member, one vote), with the reasons of the outcome.

Pure functions, no I/O. The quorum and majority of each assembly kind (ordinary, extraordinary) and call (first,
second) are data of the legal form (:mod:`condivisa.governance.legal_forms`); the maximum number of proxies per
delegate is a statute parameter. Every member with voting rights has one vote, whatever their share or energy.

Rules applied:

- an attendee must be a member with voting rights, listed once; a proxy is given by a member who is not present in
  person, to one delegate only, never to themself; a delegate holding more proxies than the statute allows is
  refused (:class:`~condivisa.errors.InputError` naming the delegate), not trimmed;
- the assembly is validly constituted when the members present or represented reach the quorum of the call;
  otherwise no motion can pass;
- a motion passes when the "yes" votes exceed (or reach, for qualified majorities) the required share of its base:
  members present or represented (abstentions and members who do not vote count as not in favour), votes cast
  (yes + no) or all members; with a strict majority a tie is a rejection.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

from condivisa.errors import InputError, Problem
from condivisa.governance.legal_forms import CALL_LABELS, KIND_LABELS, LegalForm, QuorumRule, threshold_words

Vote = Literal["yes", "no", "abstain"]
VOTES: tuple[str, ...] = get_args(Vote)
VOTE_LABELS = {"yes": "favorevole", "no": "contrario", "abstain": "astenuto"}


@dataclass(frozen=True)
class Attendee:
    """A member present in person, with the members who gave them a proxy."""

    member: str
    proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """The vote on one agenda item.

    ``base`` is the number the majority is computed on (see :class:`QuorumRule`), ``needed`` the least number of
    "yes" votes that passes the motion (None when the assembly is not validly constituted).
    """

    item: str
    yes: int
    no: int
    abstain: int
    not_voting: int
    base: int
    needed: int | None
    approved: bool
    reason: str


@dataclass(frozen=True)
class AssemblyOutcome:
    """Constitution of the assembly and the outcome of each item, with reasons in Italian."""

    kind: str
    call: str
    members: int
    in_person: int
    by_proxy: int
    quorum_needed: int
    quorum_reached: bool
    rule: QuorumRule
    reasons: tuple[str, ...]
    items: tuple[ItemResult, ...]

    @property
    def represented(self) -> int:
        """Members present in person or by proxy."""
        return self.in_person + self.by_proxy


def check_attendance(members: Collection[str], attendees: Sequence[Attendee], max_proxies: int) -> dict[str, str]:
    """Check attendance and proxies; return who casts each represented member's vote.

    Parameters
    ----------
    members : collection of str
        Ids of the members with voting rights on the day.
    attendees : sequence of Attendee
    max_proxies : int
        Most proxies one delegate may hold (statute), >= 0.

    Returns
    -------
    dict
        Represented member id -> id of the member present who votes for them (themself when present in person).

    Raises
    ------
    InputError
        Every problem found, each naming the member: not a member, listed twice, proxy from a member present in
        person or given twice, proxy to oneself, more proxies than ``max_proxies``.
    """
    entitled = set(members)
    problems: list[Problem] = []
    voter_of: dict[str, str] = {}
    present = [a.member for a in attendees]
    for a in attendees:
        if a.member not in entitled:
            problems.append(Problem(f"{a.member!r} non è un socio con diritto di voto", field="presenze"))
        if a.member in voter_of:
            problems.append(Problem(f"il socio {a.member!r} è indicato due volte tra i presenti", field="presenze"))
        voter_of[a.member] = a.member
    for a in attendees:
        if len(a.proxies) > max_proxies:
            problems.append(
                Problem(
                    f"il socio {a.member!r} ha {len(a.proxies)} deleghe: lo statuto ne consente al massimo "
                    f"{max_proxies} per delegato",
                    field="deleghe",
                )
            )
        for p in a.proxies:
            if p == a.member:
                problems.append(Problem(f"il socio {p!r} non può delegare sé stesso", field="deleghe"))
            elif p not in entitled:
                problems.append(Problem(f"delega da {p!r}, che non è un socio con diritto di voto", field="deleghe"))
            elif p in present:
                problems.append(Problem(f"il socio {p!r} è presente di persona e non può delegare", field="deleghe"))
            elif p in voter_of:
                problems.append(
                    Problem(
                        f"il socio {p!r} ha dato più di una delega ({voter_of[p]!r}, {a.member!r})", field="deleghe"
                    )
                )
            else:
                voter_of[p] = a.member
    if max_proxies < 0:
        problems.append(Problem("il numero massimo di deleghe non può essere negativo", field="max_deleghe"))
    if problems:
        raise InputError(problems)
    return voter_of


def _at_least(threshold: Fraction, *, strict: bool) -> int:
    """Least integer count that exceeds (``strict``) or reaches ``threshold``."""
    if strict:
        return int(threshold) + 1  # floor + 1 is the least integer > threshold (threshold >= 0)
    return -(-threshold.numerator // threshold.denominator)  # ceiling


def decide(
    members: Collection[str],
    attendees: Sequence[Attendee],
    votes: Mapping[str, Mapping[str, str]],
    rule: QuorumRule,
    *,
    max_proxies: int,
    kind: str = "ordinary",
    call: str = "first",
) -> AssemblyOutcome:
    """The outcome of an assembly: constitution (quorum) and the result of each item.

    Parameters
    ----------
    members : collection of str
        Members with voting rights on the day (the register's members admitted and not withdrawn).
    attendees : sequence of Attendee
        Members present in person with the proxies they hold.
    votes : mapping item -> (mapping member -> "yes" | "no" | "abstain")
        Votes per agenda item, one per represented member (a delegate votes for each principal); members present
        or represented without a vote count as not voting.
    rule : QuorumRule
        The rule of this kind and call (:meth:`LegalForm.rule`).
    max_proxies : int
        Most proxies per delegate (statute).
    kind, call : str
        For the reasons only ("ordinary"/"extraordinary", "first"/"second").

    Raises
    ------
    InputError
        Bad attendance (see :func:`check_attendance`), a vote of a member not present or represented, an unknown
        vote value.
    """
    voter_of = check_attendance(members, attendees, max_proxies)
    problems: list[Problem] = []
    for item, ballot in votes.items():
        for member, value in ballot.items():
            if member not in voter_of:
                problems.append(Problem(f"voto di {member!r}, non presente né rappresentato", field=f"voti[{item}]"))
            if value not in VOTES:
                problems.append(
                    Problem(
                        f"voto {value!r} di {member!r} non valido; ammessi: {', '.join(VOTES)}", field=f"voti[{item}]"
                    )
                )
    if problems:
        raise InputError(problems)
    n_members = len(set(members))
    in_person = len(attendees)
    by_proxy = len(voter_of) - in_person
    represented = len(voter_of)
    quorum_needed = _at_least(rule.present * n_members, strict=rule.present_strict)
    label = f"assemblea {KIND_LABELS.get(kind, kind)} in {CALL_LABELS.get(call, call)}"
    reached = represented > 0 and represented >= quorum_needed
    reasons = [
        f"{label}: soci con diritto di voto {n_members}, presenti {in_person}, rappresentati per delega {by_proxy}, "
        f"totale {represented}.",
    ]
    if rule.present == 0:
        reasons.append("In questa convocazione l'assemblea è valida qualunque sia il numero dei presenti.")
    else:
        share = threshold_words(rule.present, rule.present_strict)
        reasons.append(
            f"Quorum costitutivo: {share} dei soci, cioè {quorum_needed} su {n_members}: "
            + ("raggiunto." if reached else f"non raggiunto ({represented} presenti o rappresentati).")
        )
    if represented == 0:
        reasons.append("Nessun socio presente o rappresentato: l'assemblea non è costituita.")
    results = []
    for item, ballot in votes.items():
        yes = sum(1 for v in ballot.values() if v == "yes")
        no = sum(1 for v in ballot.values() if v == "no")
        abstain = sum(1 for v in ballot.values() if v == "abstain")
        not_voting = represented - yes - no - abstain
        base = {"present": represented, "cast": yes + no, "members": n_members}[rule.base]
        if not reached:
            results.append(
                ItemResult(item, yes, no, abstain, not_voting, base, None, False, "respinta: assemblea non costituita")
            )
            continue
        needed = _at_least(rule.majority * base, strict=rule.majority_strict)
        base_words = {"present": "dei presenti o rappresentati", "cast": "dei voti espressi", "members": "dei soci"}
        share = threshold_words(rule.majority, rule.majority_strict)
        rule_words = f"servono {share} {base_words[rule.base]} ({base}), cioè {needed} sì"
        if base == 0:
            approved, reason = False, "respinta: nessun voto espresso"
        elif yes >= needed:
            approved, reason = True, f"approvata: {yes} sì, {no} no, {abstain} astenuti; {rule_words}"
        elif yes == no and rule.majority_strict:
            approved, reason = False, f"respinta per parità: {yes} sì e {no} no ({abstain} astenuti); {rule_words}"
        else:
            approved, reason = False, f"respinta: {yes} sì, {no} no, {abstain} astenuti; {rule_words}"
        results.append(ItemResult(item, yes, no, abstain, not_voting, base, needed, approved, reason))
    return AssemblyOutcome(
        kind=kind,
        call=call,
        members=n_members,
        in_person=in_person,
        by_proxy=by_proxy,
        quorum_needed=quorum_needed,
        quorum_reached=reached,
        rule=rule,
        reasons=tuple(reasons),
        items=tuple(results),
    )


def assembly_outcome(
    form: LegalForm,
    members: Collection[str],
    attendees: Sequence[Attendee],
    votes: Mapping[str, Mapping[str, str]],
    *,
    kind: str = "ordinary",
    call: str = "first",
    max_proxies: int | None = None,
) -> AssemblyOutcome:
    """:func:`decide` with the rule of ``form`` for ``kind`` and ``call`` and its default proxies unless given."""
    limit = form.default_max_proxies(len(set(members))) if max_proxies is None else max_proxies
    return decide(members, attendees, votes, form.rule(kind, call), max_proxies=limit, kind=kind, call=call)
