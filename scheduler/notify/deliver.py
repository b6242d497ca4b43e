"""Running one notice of one session: rows made and claimed in one transaction, then each sent
(e-mail, WeCom robot, the session page) outside it and marked in another.

What a row says is composed when it is sent, from the session as it then stands (a guest's link
is never stored in the outbox: it is a credential). A row that is no longer true when its turn
comes (the session moved, was cancelled, the guest's link was withdrawn) is marked obsolete.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.clock import Clock
from remote_check.database import transaction
from remote_check.errors import Message
from remote_check.programme.cities import BY_CODE
from remote_check.programme.models import Enterprise, Supplier, VoucherProject
from remote_check.settings import Settings
from scheduler.guests import link_for
from scheduler.meetings.models import Meeting
from scheduler.models import CheckSession, Guest, SessionStatus
from scheduler.notify import ics, mail, wecom
from scheduler.notify.meeting_notices import NoLongerTrue, meeting_items, meeting_recipients, prepare
from scheduler.notify.messages import Composed, Notice, compose
from scheduler.notify.models import Channel, Kind, OutboxMessage
from scheduler.notify.outbox import claim_all, claimable_ids, ensure, ensure_meeting, finish
from scheduler.notify.plan import Facts, Item, Timing, items
from scheduler.notify.recipients import recipients, someone_came

log = logging.getLogger(__name__)

DECIDED = (SessionStatus.DONE, SessionStatus.NO_SHOW, SessionStatus.CANCELLED)


def facts_of(check: CheckSession) -> Facts:
    return Facts(
        check.id, check.status, check.starts_at, check.created_at, check.ended_at, check.booking_version
    )


def timing_of(settings: Settings) -> Timing:
    return Timing(
        reminder=dt.timedelta(minutes=settings.reminder_minutes),
        no_show=dt.timedelta(minutes=settings.no_show_minutes),
        grace=dt.timedelta(minutes=settings.jobs_misfire_grace_minutes),
        connectivity_hour=settings.connectivity_invite_hour,
    )


def base_url(settings: Settings) -> str:
    """The address people reach the server by, for links in notices."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


class Obsolete(Exception):
    """The row is no longer true: it is not sent."""


@dataclass
class Deliverer:
    """Sends the outbox's rows; shared by the timer's jobs, the sweep and the resend button."""

    factory: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock
    secret: bytes
    client: aiohttp.ClientSession

    @property
    def timing(self) -> Timing:
        return timing_of(self.settings)

    async def run(self, kind: Kind, session_id: int) -> int:
        """Run notice ``kind`` of the session if it is due now; how many rows this call sent."""
        now, token = self.clock.now(), secrets.token_hex(8)
        async with transaction(self.factory) as session:
            check = await session.get(CheckSession, session_id)
            if check is None:
                return 0
            item = self.item(check, kind)
            if item is None or not item.due(now):
                return 0
            if kind == Kind.NO_SHOW and await someone_came(session, check):
                return 0
            await ensure(session, kind, check, await recipients(session, kind, check, self.settings), now=now)
            ids = await claimable_ids(
                session, now=now, kind=kind, session_id=check.id, version=check.booking_version
            )
            claimed = await claim_all(session, ids, token, now=now)
        return await self.send_claimed(claimed, token)

    def item(self, check: CheckSession, kind: Kind) -> Item | None:
        return next((i for i in items(facts_of(check), self.timing) if i.kind == kind), None)

    async def retry(self) -> int:
        """Send every row whose (next) attempt is due: failures after their backoff, resends."""
        now, token = self.clock.now(), secrets.token_hex(8)
        async with transaction(self.factory) as session:
            claimed = await claim_all(session, await claimable_ids(session, now=now), token, now=now)
        return await self.send_claimed(claimed, token)

    async def send_claimed(self, ids: list[int], token: str) -> int:
        sent = 0
        for message_id in ids:
            error: str | None = None
            obsolete = False
            try:
                await self._send(message_id)
            except Obsolete as exc:
                obsolete, error = True, str(exc)
            except Exception as exc:  # any failure of the channel is recorded and retried
                log.warning("notice %s failed: %s", message_id, exc)
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            async with transaction(self.factory) as session:
                await finish(
                    session,
                    message_id,
                    token,
                    now=self.clock.now(),
                    error=error,
                    obsolete=obsolete,
                    max_attempts=self.settings.outbox_max_attempts,
                )
            sent += error is None
        return sent

    async def run_meetings(self) -> int:
        """Make and send every meeting notice due now (rows once per recipient); how many went out."""
        now, token = self.clock.now(), secrets.token_hex(8)
        grace = self.timing.grace
        async with transaction(self.factory) as session:
            meetings = (
                await session.scalars(
                    select(Meeting).where(Meeting.cancelled.is_(False), Meeting.starts_at > now - grace)
                )
            ).all()
            claimed: list[int] = []
            for meeting in meetings:
                for item in meeting_items(meeting, grace):
                    if not item.due(now):
                        continue
                    await ensure_meeting(
                        session,
                        item.kind,
                        meeting.id,
                        await meeting_recipients(session, item.kind, meeting),
                        now=now,
                        version=meeting.version,
                    )
                    ids = await claimable_ids(session, now=now, kind=item.kind, meeting_id=meeting.id)
                    claimed += await claim_all(session, ids, token, now=now)
        return await self.send_claimed(claimed, token)

    async def _send_meeting(self, message_id: int) -> None:
        async with self.factory() as session:
            row = await session.get(OutboxMessage, message_id)
            assert row is not None
            try:
                prepared = await prepare(session, row, secret=self.secret, base=base_url(self.settings))
            except NoLongerTrue as exc:
                raise Obsolete(str(exc)) from exc
        calendar = None
        if prepared.calendar is not None:
            smtp = mail.Smtp.from_settings(self.settings)
            calendar = ics.invitation(
                prepared.calendar,
                organizer=smtp.sender,
                attendee=row.address,
                attendee_name=row.name,
                stamp=self.clock.now(),
            )
        await self._deliver(row, prepared.composed, prepared.link, calendar, "REQUEST" if calendar else "")

    async def _deliver(
        self, row: OutboxMessage, composed: Composed, link: str, calendar: bytes | None, method: str
    ) -> None:
        """Send composed words by the row's channel: the city's WeCom robot, or e-mail."""
        if row.channel == Channel.WECOM.value:
            url = self.settings.wecom_webhooks.get(row.address)
            if not url:
                raise Obsolete("该城市未配置企业微信机器人 / no WeCom robot configured for the city")
            await wecom.post_markdown(self.client, url, composed.markdown, self.settings.smtp_timeout_seconds)
            return
        smtp = mail.Smtp.from_settings(self.settings)
        if not smtp.configured:
            raise RuntimeError("未配置邮件服务器 / no SMTP server configured")
        message = mail.build(
            composed,
            sender=smtp.sender,
            to=row.address,
            name=row.name,
            link=link,
            calendar=calendar,
            method=method,
            message_id=mail.notice_message_id(row.id, smtp.sender),
        )
        await mail.send(smtp, message)

    async def _send(self, message_id: int) -> None:
        async with self.factory() as session:
            meeting_id = await session.scalar(
                select(OutboxMessage.meeting_id).where(OutboxMessage.id == message_id)
            )
        if meeting_id is not None:
            await self._send_meeting(message_id)
            return
        async with self.factory() as session:
            row = await session.get(OutboxMessage, message_id)
            assert row is not None
            check = await session.get(CheckSession, row.session_id)
            assert check is not None
            _still_true(row, check)
            if row.channel == Channel.PAGE.value:
                return  # the row itself is the page's notice
            notice, link_check = await self._notice(session, row, check)
        composed = compose(notice)
        calendar, method = None, ""
        if row.channel == Channel.EMAIL.value and row.kind in (Kind.INVITATION.value, Kind.CANCEL.value):
            smtp = mail.Smtp.from_settings(self.settings)
            method = "CANCEL" if row.kind == Kind.CANCEL.value else "REQUEST"
            calendar = ics.invitation(
                _event(notice, cancelled=row.kind == Kind.CANCEL.value),
                organizer=smtp.sender,
                attendee=row.address,
                attendee_name=row.name,
                stamp=self.clock.now(),
            )
        await self._deliver(
            row, composed, "" if row.kind == Kind.CANCEL.value else link_check, calendar, method
        )

    async def _notice(
        self, session: AsyncSession, row: OutboxMessage, check: CheckSession
    ) -> tuple[Notice, str]:
        project = await session.get(VoucherProject, check.project_id)
        assert project is not None
        enterprise = await session.get(Enterprise, project.enterprise_id)
        supplier = await session.get(Supplier, project.supplier_id)
        base = base_url(self.settings)
        link, test_link = f"{base}/sessions/{check.id}", f"{base}/sessions/{check.id}/check"
        if row.recipient.startswith("guest:"):
            guest = await session.get(Guest, int(row.recipient.partition(":")[2]))
            if guest is None or (guest.revoked and row.kind != Kind.CANCEL.value):
                raise Obsolete("嘉宾链接已撤销 / the guest's link was withdrawn")
            path = link_for(guest, check, self.secret, self.settings.invitation_grace_hours).href
            link, test_link = f"{base}{path}", f"{base}{path}/check"
        city = BY_CODE.get(check.city_code)
        notice = Notice(
            kind=Kind(row.kind),
            session_id=check.id,
            version=check.booking_version,
            project_code=project.code,
            enterprise=enterprise.name if enterprise else "",
            supplier=supplier.name if supplier else "",
            city=Message(city.name_zh, city.name_en) if city else Message(check.city_code, check.city_code),
            starts_at=check.starts_at,
            ends_at=check.ends_at,
            recipient_name=row.name if row.channel == Channel.EMAIL.value else "",
            link=link,
            test_link=test_link,
        )
        return notice, test_link if row.kind == Kind.CONNECTIVITY.value else link


def _still_true(row: OutboxMessage, check: CheckSession) -> None:
    if row.kind == Kind.CANCEL.value:
        return
    if check.status == SessionStatus.CANCELLED:
        raise Obsolete("会议已取消 / the session was cancelled")
    if row.version != check.booking_version:
        raise Obsolete("会议已改期，将按新时间通知 / the session moved; the new time is notified instead")
    if row.kind == Kind.NO_SHOW.value and check.status in DECIDED:
        raise Obsolete("会议已有结论 / the session was already decided")


def _event(notice: Notice, *, cancelled: bool) -> ics.EventFacts:
    composed = compose(notice)
    return ics.EventFacts(
        session_id=notice.session_id,
        version=notice.version,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        summary=f"远程核查 Remote check {notice.project_code}",
        description=composed.text,
        url=notice.link,
        cancelled=cancelled,
    )
