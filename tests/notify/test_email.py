"""Alarm emails through a real local SMTP server (aiosmtpd): recipients, subject, Italian body, errors."""

from __future__ import annotations

import datetime as dt

import pytest

from condivisa.errors import InputError
from condivisa.notify import EmailError, SmtpSettings, alarm_email, send_alarm_email
from condivisa.store.alarms import AlarmInfo
from tests.notify.sink import free_port, smtp_sink


def alarm(kind: str, subject: str, message: str, first_seen: dt.datetime, severity: str = "warning") -> AlarmInfo:
    return AlarmInfo(
        id=1,
        community_id=1,
        kind=kind,
        subject=subject,
        severity=severity,
        message=message,
        details={},
        status="open",
        first_seen=first_seen,
        last_seen=first_seen,
        acknowledged_at=None,
        acknowledged_by=None,
        closed_at=None,
        notified_at=None,
    )


SUMMER = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)  # 10:00 in Rome (CEST, UTC+2)
WINTER = dt.datetime(2025, 1, 15, 8, 5, tzinfo=dt.UTC)  # 09:05 in Rome (CET, UTC+1)
ALARMS = [
    alarm("missing_data", "IT001E00000002", "POD IT001E00000002 (socio m2): nessuna lettura da 8 ore", SUMMER),
    alarm("plant_underperformance", "p1", "Impianto p1: prodotti 40 kWh contro 100 kWh attesi", WINTER, "critical"),
]


def test_email_reaches_the_server_with_italian_subject_and_body() -> None:
    with smtp_sink() as sink:
        settings = SmtpSettings(host=sink.host, port=sink.port, sender="allarmi@cer-borgo.it")
        sent = send_alarm_email(settings, ["gestore@cer-borgo.it", " socio@example.it "], ALARMS, "CER Borgo")
    [received] = sink.messages
    assert received.mail_from == "allarmi@cer-borgo.it"
    assert received.rcpt_tos == ["gestore@cer-borgo.it", "socio@example.it"]
    msg = received.message
    assert msg["Subject"] == "[Condivisa] 2 allarmi aperti — CER Borgo" == sent["Subject"]
    assert msg["To"] == "gestore@cer-borgo.it, socio@example.it"
    body = msg.get_content()
    assert "Comunità: CER Borgo" in body
    assert "1. Dati mancanti (avviso) — IT001E00000002" in body
    assert "nessuna lettura da 8 ore" in body
    assert "2. Impianto sotto le attese (critico) — p1" in body
    assert "1 giugno 2025 alle 10:00" in body  # summer time
    assert "15 gennaio 2025 alle 09:05" in body  # winter time


def test_one_alarm_is_singular() -> None:
    msg = alarm_email("a@b.it", ["c@d.it"], ALARMS[:1], "CER X")
    assert msg["Subject"] == "[Condivisa] 1 allarme aperto — CER X"
    assert "1 allarme aperto:" in msg.get_content()
    with pytest.raises(ValueError, match="nessun allarme"):
        alarm_email("a@b.it", ["c@d.it"], [], "CER X")


def test_login_is_used_and_a_wrong_password_names_the_server() -> None:
    with smtp_sink(user="cer", password="segreta") as sink:
        good = SmtpSettings(host=sink.host, port=sink.port, sender="a@b.it", username="cer", password="segreta")
        send_alarm_email(good, ["c@d.it"], ALARMS, "CER")
        bad = SmtpSettings(host=sink.host, port=sink.port, sender="a@b.it", username="cer", password="sbagliata")
        with pytest.raises(EmailError, match=rf"127\.0\.0\.1:{sink.port}.*535"):
            send_alarm_email(bad, ["c@d.it"], ALARMS, "CER")
    assert len(sink.messages) == 1


def test_unreachable_server_gives_a_clear_error() -> None:
    port = free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=3)
    with pytest.raises(EmailError) as info:
        send_alarm_email(settings, ["c@d.it"], ALARMS, "CER")
    assert f"server SMTP 127.0.0.1:{port}" in str(info.value)
    assert "connessione rifiutata" in str(info.value)


def test_refused_recipients_are_an_error() -> None:
    with smtp_sink() as sink:
        sink.refuse = {"nessuno@d.it"}
        settings = SmtpSettings(host=sink.host, port=sink.port)
        with pytest.raises(EmailError, match=r"nessuno@d\.it"):
            send_alarm_email(settings, ["nessuno@d.it"], ALARMS, "CER")  # all refused
        with pytest.raises(EmailError, match=r"rifiutato i destinatari: nessuno@d\.it"):
            send_alarm_email(settings, ["c@d.it", "nessuno@d.it"], ALARMS, "CER")  # some refused
    assert [m.rcpt_tos for m in sink.messages] == [["c@d.it"]]


def test_bad_recipients_are_input_errors() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port())
    with pytest.raises(InputError, match="nessun destinatario"):
        send_alarm_email(settings, [" "], ALARMS, "CER")
    with pytest.raises(InputError, match="non validi: gestore"):
        send_alarm_email(settings, ["gestore"], ALARMS, "CER")


def test_settings_from_env() -> None:
    env = {
        "CONDIVISA_SMTP_HOST": "smtp.example.it",
        "CONDIVISA_SMTP_FROM": "cer@example.it",
        "CONDIVISA_SMTP_USER": "cer",
        "CONDIVISA_SMTP_PASSWORD": "segreta",
        "CONDIVISA_SMTP_STARTTLS": "si",
    }
    s = SmtpSettings.from_env(env)
    assert (s.host, s.port, s.sender, s.username, s.password, s.starttls, s.ssl) == (
        "smtp.example.it",
        587,
        "cer@example.it",
        "cer",
        "segreta",
        True,
        False,
    )
    assert "segreta" not in repr(s)
    assert SmtpSettings.from_env({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_SSL": "1"}).port == 465
    plain = SmtpSettings.from_env({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_PORT": "2525"})
    assert (plain.port, plain.starttls, plain.username) == (2525, False, None)
    overridden = SmtpSettings.from_env({"CONDIVISA_SMTP_HOST": "h"}, host="altro", port=26)
    assert (overridden.host, overridden.port) == ("altro", 26)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({}, "CONDIVISA_SMTP_HOST"),
        ({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_PORT": "venticinque"}, "CONDIVISA_SMTP_PORT"),
        ({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_PORT": "70000"}, "CONDIVISA_SMTP_PORT"),
        ({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_STARTTLS": "forse"}, "CONDIVISA_SMTP_STARTTLS"),
        ({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_STARTTLS": "1", "CONDIVISA_SMTP_SSL": "1"}, "STARTTLS"),
        ({"CONDIVISA_SMTP_HOST": "h", "CONDIVISA_SMTP_FROM": "nessuno"}, "CONDIVISA_SMTP_FROM"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as info:
        SmtpSettings.from_env(env)
    assert field in (info.value.problems[0].field or "")
