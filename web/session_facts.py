"""What the pages, the API and the rooms' edge say about a session from the app's settings and
clock: the rooms' window, its phase now, and a guest's link as an absolute address."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from remote_check.settings import Settings
from scheduler.guests import Link, link_for
from scheduler.life import Phase, Window, phase
from scheduler.models import CheckSession, Guest
from web.keys import CLOCK, SECRET, SETTINGS


def base_url(request: web.Request, settings: Settings) -> str:
    """Where join links point: ``settings.public_url`` (``RC_PUBLIC_URL``) when set.

    Without it (development) the address is taken from the request, i.e. from its ``Host``
    header, which the client controls: a deployment sets ``public_url`` so that links always
    name the real server.
    """
    return settings.public_url.rstrip("/") or f"{request.scheme}://{request.host}"


def guest_link(request: web.Request, guest: Guest, check: CheckSession) -> Link:
    """The guest's current link, as an absolute address."""
    app = request.app
    link = link_for(guest, check, app[SECRET], app[SETTINGS].invitation_grace_hours)
    return Link(base_url(request, app[SETTINGS]) + link.href, link.expires_at)


def room_window(app: web.Application) -> Window:
    """When sessions' rooms open, from the settings (``room_opens_minutes`` before the start)."""
    return Window(dt.timedelta(minutes=app[SETTINGS].room_opens_minutes))


def phase_now(app: web.Application, check: CheckSession) -> Phase:
    """Where ``check`` is in its life at the app's present time."""
    return phase(check, app[CLOCK].now(), room_window(app).opens_before)
