"""Who may do what: the one place where access is decided (:func:`authorize`).

Roles come from :class:`condivisa.store.models.RoleAssignment` rows: ``platform_admin`` (everything),
``manager`` (one community, read and write), ``member`` (own member data of one community: the member portal),
``municipality_officer`` (read-only access to the communities whose ``municipality`` is theirs). A visitor
without login (public) may see only the login page and the static assets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from condivisa.store.models import CommunityRow, RoleAssignment, User

Action = Literal["community:read", "community:write", "member:read", "platform:write", "civic:write"]
"""``community:read`` the whole community (members, readings, settlements); ``community:write`` change it
(members, plants, readings, settlements); ``member:read`` one member's own data (portal, statement);
``platform:write`` create communities; ``civic:write`` run a municipality's public services (desk tickets,
register, label reviews, matchmaking, public buildings, training): its officers and the platform admins."""


@dataclass(frozen=True)
class Grant:
    """One role of a user with its scope (database ids; ``municipality`` as stored on communities)."""

    role: str
    community_id: int | None = None
    member_id: int | None = None
    municipality: str | None = None


@dataclass(frozen=True)
class Principal:
    """A logged-in user with the roles held, as seen by :func:`authorize`."""

    user_id: int
    email: str
    display_name: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def is_admin(self) -> bool:
        """Whether the user is a platform administrator."""
        return any(g.role == "platform_admin" for g in self.grants)


def load_principal(session: Session, user_id: int) -> Principal | None:
    """The active user ``user_id`` with the roles held, or None (unknown or deactivated)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    rows = session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == user_id)).all()
    grants = tuple(Grant(r.role, r.community_id, r.member_id, r.municipality) for r in rows)
    return Principal(user.id, user.email, user.display_name, grants)


def community_municipality(session: Session, community_id: int) -> str | None:
    """The municipality of a stored community (None when it has none or does not exist)."""
    return session.scalar(select(CommunityRow.municipality).where(CommunityRow.id == community_id))


def authorize(
    user: Principal | None,
    action: Action,
    community_id: int | None,
    member_id: int | None = None,
    *,
    municipality: str | None = None,
) -> bool:
    """Whether ``user`` may perform ``action`` on a community (and one of its members).

    Parameters
    ----------
    user : Principal or None
        None for a visitor without login: never allowed anything here.
    action : Action
        What is asked (see :data:`Action`).
    community_id : int or None
        The community concerned (None for ``platform:write`` and ``civic:write``).
    member_id : int, optional
        Database id of the member concerned (``member:read``).
    municipality : str, optional
        The community's municipality, for officers (:func:`community_municipality`); for ``civic:write`` the
        municipality whose services are changed.

    Returns
    -------
    bool
        The caller answers 401 (no user), 404 (unknown object, checked before) or 403 (False).
    """
    if user is None:
        return False
    for g in user.grants:
        if g.role == "platform_admin":
            return True
        if action == "civic:write":
            if g.role == "municipality_officer" and municipality is not None and g.municipality == municipality:
                return True
            continue
        if action == "platform:write" or community_id is None:
            continue
        if g.role == "manager" and g.community_id == community_id:
            return True
        officer = g.role == "municipality_officer" and action != "community:write"
        if officer and municipality is not None and g.municipality == municipality:
            return True
        own = g.role == "member" and action == "member:read" and g.community_id == community_id
        if own and member_id is not None and g.member_id == member_id:
            return True
    return False
