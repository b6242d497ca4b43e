"""Sending the notices that belong to no check session (re-checks to the cities, results to the
parties: :class:`~remote_check.outcomes.sanction_models.Notice`): by e-mail or the city's WeCom
robot, each claimed first (``pending`` -> ``sending``, so two processes never send one twice), then
``sent``, or back to ``pending`` with the error until ``outbox_max_attempts``, then ``gave_up``.
A ``no_address`` row is never sent: it shows on the outbox what could not be told. The runner's
sweep calls :func:`send_party_notices`."""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from email.utils import make_msgid

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.database import transaction
from remote_check.outcomes.sanction_models import Notice
from remote_check.settings import Settings
from scheduler.notify import wecom
from scheduler.notify.mail import Smtp, send

log = logging.getLogger(__name__)


def email_of(notice: Notice, sender: str) -> EmailMessage:
    """The notice as a plain-text e-mail."""
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = sender
    message["To"] = notice.address
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "remote-check")
    message.set_content(notice.body)
    return message


async def _claim(factory: async_sessionmaker[AsyncSession], notice_id: int) -> Notice | None:
    async with transaction(factory) as session:
        claimed = await session.execute(
            update(Notice).where(Notice.id == notice_id, Notice.status == "pending").values(status="sending")
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        return await session.get(Notice, notice_id)


async def send_party_notices(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: aiohttp.ClientSession,
    *,
    now: dt.datetime,
) -> int:
    """Send every pending notice; how many went out."""
    async with factory() as session:
        ids = list((await session.scalars(select(Notice.id).where(Notice.status == "pending"))).all())
    sent = 0
    for notice_id in ids:
        notice = await _claim(factory, notice_id)
        if notice is None:
            continue
        error = ""
        try:
            if notice.channel == "wecom":
                url = settings.wecom_webhooks.get(notice.address)
                if not url:
                    raise wecom.WebhookFailed("no WeCom robot configured for the city")
                text = f"**{notice.subject}**\n{notice.body}"
                await wecom.post_markdown(client, url, text, settings.smtp_timeout_seconds)
            else:
                await send(Smtp.from_settings(settings), email_of(notice, settings.mail_from))
        except Exception as exc:  # any failure of the channel is recorded and retried
            log.warning("party notice %s failed: %s", notice_id, exc)
            error = f"{type(exc).__name__}: {exc}"[:500]
        async with transaction(factory) as session:
            row = await session.get(Notice, notice_id)
            assert row is not None
            row.attempts += 1
            if not error:
                row.status, row.sent_at, row.error = "sent", now, ""
                sent += 1
            else:
                row.error = error
                row.status = "gave_up" if row.attempts >= settings.outbox_max_attempts else "pending"
    return sent
