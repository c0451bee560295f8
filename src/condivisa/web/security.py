"""Passwords (argon2) and CSRF tokens for form posts."""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of a password (salted, with the library's recommended cost)."""
    if len(password) < 8:
        raise ValueError("la password deve avere almeno 8 caratteri")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_csrf_token() -> str:
    """A random token stored in the session and echoed by every form."""
    return secrets.token_urlsafe(32)


def csrf_matches(session_token: str | None, form_token: str | None) -> bool:
    """Constant-time comparison of the session's and the form's CSRF tokens."""
    if not session_token or not form_token:
        return False
    return hmac.compare_digest(session_token, form_token)
