"""iCalendar for check sessions: the invitation (METHOD:REQUEST, the same UID with a higher
SEQUENCE after each move), the cancellation (METHOD:CANCEL) and an expert's feed. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Remote Check//Guangdong service-voucher checks//ZH"


@dataclass(frozen=True)
class EventFacts:
    """One check session as a calendar shows it."""

    session_id: int
    version: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    description: str
    url: str
    cancelled: bool = False
    uid: str = ""  # another kind of event's own UID (a province meeting); else the session's


def uid(session_id: int) -> str:
    """The event's UID: one per session, whatever its version."""
    return f"check-session-{session_id}@remote-check"


def _event(facts: EventFacts, stamp: dt.datetime, sequence: int) -> Event:
    event = Event()
    event.add("uid", facts.uid or uid(facts.session_id))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", facts.starts_at.astimezone(dt.UTC))
    event.add("dtend", facts.ends_at.astimezone(dt.UTC))
    event.add("summary", facts.summary)
    event.add("description", facts.description)
    if facts.url:
        event.add("url", facts.url)
    event.add("status", "CANCELLED" if facts.cancelled else "CONFIRMED")
    return event


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def invitation(
    facts: EventFacts, *, organizer: str, attendee: str, attendee_name: str, stamp: dt.datetime
) -> bytes:
    """METHOD:REQUEST, or METHOD:CANCEL for a cancelled session (its SEQUENCE one above the last
    request's, so calendars apply it)."""
    method = "CANCEL" if facts.cancelled else "REQUEST"
    calendar = _calendar(method)
    event = _event(facts, stamp, facts.version + (1 if facts.cancelled else 0))
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    person = vCalAddress(f"mailto:{attendee}")
    person.params["cn"] = vText(attendee_name)
    person.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", person)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def feed(events: Iterable[EventFacts], *, name: str, stamp: dt.datetime) -> bytes:
    """A subscription calendar (no METHOD) of ``events``; cancelled ones are kept as cancelled."""
    calendar = _calendar(None)
    calendar.add("x-wr-calname", name)
    for facts in events:
        calendar.add_component(_event(facts, stamp, facts.version + (1 if facts.cancelled else 0)))
    return bytes(calendar.to_ical())
