"""Alarm emails in Italian over SMTP, with the standard library (:mod:`smtplib`, :class:`email.message.EmailMessage`).

:func:`alarm_email` builds the message (pure); :func:`send_alarm_email` builds and sends it. The server comes from
:class:`SmtpSettings`, which :meth:`SmtpSettings.from_env` reads from the environment:

``CONDIVISA_SMTP_HOST`` (required), ``CONDIVISA_SMTP_PORT`` (default 465 with SSL, 587 with STARTTLS, else 25),
``CONDIVISA_SMTP_FROM`` (sender, default ``condivisa@localhost``), ``CONDIVISA_SMTP_USER`` and
``CONDIVISA_SMTP_PASSWORD`` (login, only when a user is set), ``CONDIVISA_SMTP_STARTTLS`` and
``CONDIVISA_SMTP_SSL`` (``1``/``true``/``si``/``yes``/``on`` or ``0``/``false``/``no``/``off``),
``CONDIVISA_SMTP_TIMEOUT`` [s].
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import socket
import ssl as ssl_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime as rfc_datetime
from email.utils import make_msgid
from typing import Protocol

from babel.dates import format_datetime, get_timezone

from condivisa.errors import InputError
from condivisa.operations.monitoring import ALARM_KIND_LABELS, SEVERITY_LABELS

ENV_PREFIX = "CONDIVISA_SMTP_"
LOCAL_TZ = "Europe/Rome"
LOCALE = "it_IT"

_TRUE = {"1", "true", "si", "sì", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EmailError(RuntimeError):
    """Sending failed; the message names the SMTP server and the reason."""


class AlarmLike(Protocol):
    """What an alarm email reads of an alarm (a stored :class:`~condivisa.store.alarms.AlarmInfo`)."""

    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def first_seen(self) -> dt.datetime: ...


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP server to send through.

    Parameters
    ----------
    host : str
    port : int
    sender : str
        ``From`` address.
    username, password : str, optional
        Login (``AUTH``) when ``username`` is set.
    starttls : bool
        Upgrade the connection with ``STARTTLS`` (usually port 587).
    ssl : bool
        Connect over TLS from the start (usually port 465).
    timeout : float
        Connection and command timeout [s].
    """

    host: str
    port: int = 25
    sender: str = "condivisa@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise InputError.one("server SMTP non indicato", field=f"{ENV_PREFIX}HOST")
        if not 0 < self.port < 65536:
            raise InputError.one(f"porta SMTP {self.port} fuori da 1..65535", field=f"{ENV_PREFIX}PORT")
        if self.starttls and self.ssl:
            raise InputError.one("scegliere STARTTLS oppure SSL, non entrambi", field=f"{ENV_PREFIX}STARTTLS")
        if self.sender.count("@") != 1:
            raise InputError.one(f"mittente non valido: {self.sender!r}", field=f"{ENV_PREFIX}FROM")
        if self.timeout <= 0:
            raise InputError.one(f"timeout non positivo: {self.timeout}", field=f"{ENV_PREFIX}TIMEOUT")

    @property
    def server(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, host: str | None = None, port: int | None = None
    ) -> SmtpSettings:
        """Settings from ``CONDIVISA_SMTP_*`` variables (see the module documentation).

        Parameters
        ----------
        environ : mapping, optional
            Variables to read (default: :data:`os.environ`).
        host, port : optional
            Override the variables (the command line's ``--smtp-host`` and ``--smtp-port``).

        Raises
        ------
        InputError
            No host, or a value that cannot be read; the field names the variable.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        def flag(name: str) -> bool:
            value = (get(name) or "").lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise InputError.one(f"valore {value!r} non valido: atteso si/no (1/0)", field=ENV_PREFIX + name)

        def number(name: str) -> float | None:
            text = get(name)
            if text is None:
                return None
            try:
                return float(text)
            except ValueError:
                raise InputError.one(f"numero non valido: {text!r}", field=ENV_PREFIX + name) from None

        server = host or get("HOST")
        if not server:
            raise InputError.one(
                "server SMTP non configurato: impostare CONDIVISA_SMTP_HOST o --smtp-host", field=ENV_PREFIX + "HOST"
            )
        use_ssl, use_starttls = flag("SSL"), flag("STARTTLS")
        env_port = number("PORT")
        if env_port is not None and not env_port.is_integer():
            raise InputError.one(f"porta non intera: {env_port}", field=ENV_PREFIX + "PORT")
        default_port = 465 if use_ssl else 587 if use_starttls else 25
        chosen_port = port if port is not None else int(env_port) if env_port is not None else default_port
        timeout = number("TIMEOUT")
        return cls(
            host=server,
            port=chosen_port,
            sender=get("FROM") or "condivisa@localhost",
            username=get("USER"),
            password=env.get(ENV_PREFIX + "PASSWORD"),
            starttls=use_starttls,
            ssl=use_ssl,
            timeout=timeout if timeout is not None else 10.0,
        )


def check_recipients(recipients: Sequence[str]) -> list[str]:
    """The addresses, stripped; :class:`InputError` (field ``recipients``) when none is given or one is invalid."""
    out = [r.strip() for r in recipients if r.strip()]
    if not out:
        raise InputError.one("nessun destinatario indicato", field="recipients")
    wrong = [r for r in out if r.count("@") != 1 or r.startswith("@") or r.endswith("@") or " " in r]
    if wrong:
        raise InputError.one(f"indirizzi email non validi: {', '.join(wrong)}", field="recipients")
    return out


def italian_datetime(instant: dt.datetime) -> str:
    """An instant in Italian local time, in words: ``1 giugno 2025 alle 10:00``."""
    if instant.tzinfo is None:
        raise ValueError(f"istante senza fuso orario: {instant!r}")
    return str(format_datetime(instant, "d MMMM y 'alle' HH:mm", tzinfo=get_timezone(LOCAL_TZ), locale=LOCALE))


def alarm_email(
    sender: str,
    recipients: Sequence[str],
    alarms: Sequence[AlarmLike],
    community_name: str,
    *,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """The Italian email listing open alarms of a community.

    Subject ``[Condivisa] N allarmi aperti — <community>``; the plain-text body lists each alarm with its kind
    and severity in Italian, its subject, its message and when it was first seen (Italian local time).

    Parameters
    ----------
    sender : str
        ``From`` address.
    recipients : sequence of str
    alarms : sequence of AlarmInfo
    community_name : str
    now : datetime, optional
        ``Date`` header (default: the current instant).
    """
    to = check_recipients(recipients)
    if not alarms:
        raise ValueError("nessun allarme da inviare")
    n = len(alarms)
    counted = "1 allarme aperto" if n == 1 else f"{n} allarmi aperti"
    lines = [f"Comunità: {community_name}", f"{counted[0].upper()}{counted[1:]}:", ""]
    for i, a in enumerate(alarms, start=1):
        kind = ALARM_KIND_LABELS.get(a.kind, a.kind)
        severity = SEVERITY_LABELS.get(a.severity, a.severity)
        lines += [
            f"{i}. {kind} ({severity}) — {a.subject}",
            f"   {a.message}",
            f"   Rilevato per la prima volta il {italian_datetime(a.first_seen)} (ora italiana)",
            "",
        ]
    lines += ["-- ", "Messaggio automatico di Condivisa."]
    msg = EmailMessage()
    msg["Subject"] = f"[Condivisa] {counted} — {community_name}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = rfc_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    return msg


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "destinatari rifiutati: " + ", ".join(sorted(exc.recipients))
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"risposta {exc.smtp_code} {text}"
    if isinstance(exc, ConnectionRefusedError):
        return "connessione rifiutata"
    if isinstance(exc, socket.gaierror):
        return f"nome del server sconosciuto ({exc})"
    if isinstance(exc, TimeoutError):
        return "tempo scaduto"
    if isinstance(exc, ssl_module.SSLError):
        return f"errore TLS ({exc})"
    return f"{type(exc).__name__}: {exc}"


def send_alarm_email(
    settings: SmtpSettings,
    recipients: Sequence[str],
    alarms: Sequence[AlarmLike],
    community_name: str,
) -> EmailMessage:
    """Send :func:`alarm_email` through the server of ``settings``; returns the message sent.

    Raises
    ------
    InputError
        No recipient, or an invalid address.
    EmailError
        The server cannot be reached, refuses the login, the sender or a recipient; the message names the
        server (``host:port``) and the reason.
    """
    msg = alarm_email(settings.sender, recipients, alarms, community_name)
    try:
        context = ssl_module.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
            if settings.ssl
            else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        )
        with smtp:
            if settings.starttls:
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailError(f"invio email non riuscito tramite il server SMTP {settings.server}: {_reason(exc)}") from exc
    if refused:
        raise EmailError(f"il server SMTP {settings.server} ha rifiutato i destinatari: {', '.join(sorted(refused))}")
    return msg
