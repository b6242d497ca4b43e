"""E-mail over SMTP (aiosmtplib): the text (Chinese, then English), an HTML part with the join
link's QR code, and the iCalendar part (``text/calendar; method=…``) calendars act on."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib
import segno

from remote_check.settings import Settings
from scheduler.notify.messages import Composed


@dataclass(frozen=True)
class Smtp:
    """Where and how mail is handed over."""

    host: str
    port: int
    security: str  # none, starttls, tls
    username: str
    password: str
    timeout: float
    sender: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Smtp:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_timeout_seconds,
            settings.mail_from,
        )

    @property
    def configured(self) -> bool:
        return bool(self.host)


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=5)
    return buffer.getvalue()


def notice_message_id(outbox_id: int, sender: str) -> str:
    """The Message-ID of the outbox row ``outbox_id``'s mail: the same however often it is sent."""
    return f"<notice-{outbox_id}@{sender.rpartition('@')[2] or 'remote-check'}>"


def build(
    composed: Composed,
    *,
    sender: str,
    to: str,
    name: str,
    link: str,
    calendar: bytes | None,
    method: str,
    message_id: str,
) -> EmailMessage:
    """The message; ``link`` (if any) is shown with its QR code, ``calendar`` attached as
    ``invite.ics`` with ``method``. ``message_id`` is the notice's own: a notice sent twice (its
    sender died after the SMTP server took it, before that was recorded) is one message to the
    recipient's mail client, which shows it once."""
    message = EmailMessage()
    message["Subject"] = composed.subject
    message["From"] = sender
    message["To"] = formataddr((name, to)) if name else to
    message["Message-ID"] = message_id
    message.set_content(composed.text)
    if link:
        cid = make_msgid(domain="remote-check")
        paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in composed.text.splitlines() if line)
        body = (
            f'<html><body>{paragraphs}<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
            f'<p><img src="cid:{cid[1:-1]}" alt="QR"></p></body></html>'
        )
        message.add_alternative(body, subtype="html")
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(qr_png(link), "image", "png", cid=cid, filename="join-qr.png")
    if calendar is not None:
        message.add_attachment(
            calendar,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return message


async def send(smtp: Smtp, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server; raises on any refusal or network error."""
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=smtp.password or None,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        timeout=smtp.timeout,
    )
