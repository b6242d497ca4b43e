"""The life of a check session: which state may follow which, and when its room is open. Pure logic.

    booked ──(room opens: N minutes before the start, or earlier by the host)──> open
    open ──(someone enters the room)──> in progress ──(host ends / last one leaves after the
    scheduled end / coordinator marks it)──> completed
    booked | open | in progress ──(coordinator, after the start)──> no-show
    booked | open ──(coordinator)──> cancelled
    in progress ──(the server died while recording)──> interrupted ──(people rejoin)──> in progress

What is stored (:class:`~scheduler.models.SessionStatus`) and what is derived: "open" is a
function of the clock, the start and the host's early opening (``opened_at``), so it is derived
(:func:`phase`) rather than stored: storing it would need a timer to flip every session at the
right minute, and the stored row could disagree with the clock. "In progress" is a room event (the
first entry into the open room, ``started_at``) and is stored: it must survive a restart, and it
is what makes a session held, no longer movable or cancellable; the rooms themselves live in media
workers and keep no history. Completed, no-show and cancelled are decisions, stored with when and
by whom (``ended_at``, ``ended_by``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

from remote_check.clock import format_local
from remote_check.errors import DomainError, Message
from scheduler.models import SessionStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.BOOKED: frozenset({S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW, S.INTERRUPTED}),
    S.IN_PROGRESS: frozenset({S.DONE, S.NO_SHOW, S.INTERRUPTED}),
    S.INTERRUPTED: frozenset({S.IN_PROGRESS, S.DONE, S.NO_SHOW}),
    S.DONE: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
}

HELD = frozenset({S.IN_PROGRESS, S.INTERRUPTED, S.DONE})
"""Sessions that took place (someone was in their room): they cannot be moved or cancelled."""
OVER = frozenset({S.DONE, S.CANCELLED, S.NO_SHOW})
"""Sessions whose room is closed for good."""


class Phase(enum.StrEnum):
    """Where a session is in its life, as pages show it: the stored status, with "open" derived."""

    BOOKED = "booked"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    INTERRUPTED = "interrupted"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


LABELS: dict[Phase, Message] = {
    Phase.BOOKED: Message("已预订", "Booked"),
    Phase.OPEN: Message("会议室已开放", "Room open"),
    Phase.IN_PROGRESS: Message("进行中", "In progress"),
    Phase.INTERRUPTED: Message("已中断", "Interrupted"),
    Phase.DONE: Message("已完成", "Completed"),
    Phase.NO_SHOW: Message("缺席", "No-show"),
    Phase.CANCELLED: Message("已取消", "Cancelled"),
}


class Timed(Protocol):
    """What the life of a session needs of it (a :class:`~scheduler.models.CheckSession`)."""

    @property
    def status(self) -> S: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def opened_at(self) -> dt.datetime | None: ...


def opens_at(check: Timed, opens_before: dt.timedelta) -> dt.datetime:
    """When the room opens: ``opens_before`` before the start, or when the host opened it."""
    by_clock = check.starts_at - opens_before
    return by_clock if check.opened_at is None else min(by_clock, check.opened_at)


def phase(check: Timed, now: dt.datetime, opens_before: dt.timedelta) -> Phase:
    """The session's phase at ``now``."""
    if check.status == S.BOOKED:
        return Phase.OPEN if now >= opens_at(check, opens_before) else Phase.BOOKED
    return Phase(check.status.value)


def can_move(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def check_move(current: S, target: S) -> None:
    """Raise a 409 unless ``current -> target`` is a step of a session's life."""
    if not can_move(current, target):
        was, to = LABELS[Phase(current.value)], LABELS[Phase(target.value)]
        raise DomainError(
            Message(
                f"核查会议不能从“{was.zh}”变为“{to.zh}”", f"A session cannot go from {was.en} to {to.en}"
            ),
            409,
            "bad_transition",
        )


class RoomClosed(DomainError):
    """The room of a session may not be entered now, with when it opens (or that it is over)."""


@dataclass(frozen=True)
class Window:
    """When a session's room may be entered."""

    opens_before: dt.timedelta

    def check(self, check: Timed, now: dt.datetime) -> None:
        """Raise :class:`RoomClosed` unless ``check``'s room is open at ``now``.

        Cancelled sessions are refused by the callers with their own message (as their links are).
        """
        if check.status in (S.DONE, S.NO_SHOW):
            raise RoomClosed(
                Message(
                    "该核查会议已结束，会议室已关闭。", "This check session is over; its room is closed."
                ),
                410,
                "session_over",
            )
        if check.status != S.BOOKED:
            return
        opening = opens_at(check, self.opens_before)
        if now < opening:
            minutes = int(self.opens_before.total_seconds() // 60)
            when = format_local(opening)
            raise RoomClosed(
                Message(
                    f"会议室尚未开放：将于 {when}（北京时间，会议开始前 {minutes} 分钟）开放，"
                    "主持人可提前开放。",
                    f"The room is not open yet: it opens at {when} China time ({minutes} minutes before "
                    "the session starts); the host can open it earlier.",
                ),
                409,
                "room_not_open",
            )
