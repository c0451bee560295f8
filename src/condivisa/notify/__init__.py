"""Notifications to people: alarm emails over SMTP (standard library only)."""

from condivisa.notify.email import (
    EmailError,
    SmtpSettings,
    alarm_email,
    check_recipients,
    send_alarm_email,
)

__all__ = ["EmailError", "SmtpSettings", "alarm_email", "check_recipients", "send_alarm_email"]
