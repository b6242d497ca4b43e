"""Connectivity tests ("the day before"): what an invited person's browser measured, stored and audited.

The page asks for camera, microphone and screen-share permission, then sends its camera and
microphone through the server and back (``media.echo``) and measures what comes back. The
verdict is computed here, from the figures, never taken from the browser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, Message
from scheduler.life import OVER
from scheduler.models import CheckSession, ConnectivityCheck, Guest
from scheduler.rules import load_session

MIN_FPS = 20.0
MIN_BITRATE_KBPS = 150
MAX_RTT_MS = 400


@dataclass(frozen=True)
class Measured:
    """What the browser reports: permissions granted and the media round trip's figures."""

    camera_ok: bool
    microphone_ok: bool
    screen_ok: bool
    fps: float
    bitrate_kbps: int
    rtt_ms: int | None
    user_agent: str = ""


def problems(measured: Measured) -> list[Message]:
    """Why a test fails (empty: it passes). Camera, microphone and screen sharing are all needed:
    the enterprise demonstrates by sharing its screen, experts may show documents the same way."""
    found: list[Message] = []
    if not measured.camera_ok:
        found.append(Message("无法使用摄像头", "The camera cannot be used"))
    if not measured.microphone_ok:
        found.append(Message("无法使用麦克风", "The microphone cannot be used"))
    if not measured.screen_ok:
        found.append(Message("无法共享屏幕", "The screen cannot be shared"))
    if measured.fps < MIN_FPS:
        found.append(
            Message(
                f"视频帧率过低（{measured.fps:.1f} 帧/秒，至少 {MIN_FPS:.0f}）",
                f"The frame rate is too low ({measured.fps:.1f} fps, at least {MIN_FPS:.0f})",
            )
        )
    if measured.bitrate_kbps < MIN_BITRATE_KBPS:
        found.append(
            Message(
                f"带宽过低（{measured.bitrate_kbps} kbps，至少 {MIN_BITRATE_KBPS}）",
                f"The bitrate is too low ({measured.bitrate_kbps} kbps, at least {MIN_BITRATE_KBPS})",
            )
        )
    if measured.rtt_ms is not None and measured.rtt_ms > MAX_RTT_MS:
        found.append(
            Message(
                f"网络延迟过高（{measured.rtt_ms} 毫秒，至多 {MAX_RTT_MS}）",
                f"The network delay is too high ({measured.rtt_ms} ms, at most {MAX_RTT_MS})",
            )
        )
    return found


def measured_columns(measured: Measured) -> dict[str, Any]:
    """What a connectivity test stores of a browser's measures, with its verdict (``passed``):
    the columns a check's test and a meeting's signal test share."""
    return {
        "camera_ok": measured.camera_ok,
        "microphone_ok": measured.microphone_ok,
        "screen_ok": measured.screen_ok,
        "fps": round(measured.fps, 1),
        "bitrate_kbps": measured.bitrate_kbps,
        "rtt_ms": measured.rtt_ms,
        "user_agent": measured.user_agent[:300],
        "passed": not problems(measured),
    }


def _row(check: CheckSession, measured: Measured, now: dt.datetime) -> ConnectivityCheck:
    return ConnectivityCheck(session_id=check.id, at=now, **measured_columns(measured))


async def _store(
    session: AsyncSession, row: ConnectivityCheck, actor: Actor, city_code: str, now: dt.datetime
) -> ConnectivityCheck:
    session.add(row)
    await session.flush()
    await record(
        session,
        actor,
        "connectivity.check",
        f"session:{row.session_id}",
        at=now,
        city_code=city_code,
        details={
            "check": row.id,
            "passed": row.passed,
            "camera": row.camera_ok,
            "microphone": row.microphone_ok,
            "screen": row.screen_ok,
            "fps": f"{row.fps:.1f}",
            "bitrate_kbps": row.bitrate_kbps,
            "rtt_ms": row.rtt_ms,
        },
    )
    return row


async def record_guest_check(
    session: AsyncSession, guest: Guest, check: CheckSession, measured: Measured, *, now: dt.datetime
) -> ConnectivityCheck:
    """Store a guest's test; the guest comes from a link the caller has just verified."""
    row = _row(check, measured, now)
    row.guest_id = guest.id
    return await _store(session, row, Actor(f"guest:{guest.id}", check.city_code), check.city_code, now)


async def record_user_check(
    session: AsyncSession, principal: Principal, session_id: int, measured: Measured, *, now: dt.datetime
) -> ConnectivityCheck:
    """Store a signed-in user's test for a session they may see (404 otherwise) that is still to
    take place (409 once it is over: completed, no-show or cancelled)."""
    check, _ = await load_session(session, principal, session_id)
    if check.status in OVER:
        raise Conflict(Message("该核查会议已结束或已取消", "This check session is over or cancelled"))
    row = _row(check, measured, now)
    row.user_id = principal.user_id
    return await _store(session, row, Actor.of(principal), check.city_code, now)


@dataclass(frozen=True)
class Latest:
    """The latest test of each guest and each user of one session."""

    by_guest: dict[int, ConnectivityCheck]
    by_user: dict[int, ConnectivityCheck]


async def latest_checks(session: AsyncSession, session_id: int) -> Latest:
    """The latest test of everyone who tested for ``session_id`` (the caller checked the scope)."""
    rows = (
        await session.scalars(
            select(ConnectivityCheck)
            .where(ConnectivityCheck.session_id == session_id)
            .order_by(ConnectivityCheck.at, ConnectivityCheck.id)
        )
    ).all()
    by_guest = {row.guest_id: row for row in rows if row.guest_id is not None}
    by_user = {row.user_id: row for row in rows if row.user_id is not None}
    return Latest(by_guest, by_user)
