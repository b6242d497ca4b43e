"""Every API and page module the app mounts. Add a module here to expose it."""

from __future__ import annotations

from types import ModuleType

from web.api import accounts as accounts_api
from web.api import audit as audit_api
from web.api import availability as availability_api
from web.api import campaigns as campaigns_api
from web.api import checklist as checklist_api
from web.api import funding as funding_api
from web.api import holds as holds_api
from web.api import imports as imports_api
from web.api import marks as marks_api
from web.api import meetings as meetings_api
from web.api import outbox as outbox_api
from web.api import plans as plans_api
from web.api import projects as projects_api
from web.api import replays as replays_api
from web.api import reports as reports_api
from web.api import sanctions as sanctions_api
from web.api import sessions as sessions_api
from web.api import verdicts as verdicts_api
from web.pages import audit as audit_pages
from web.pages import auth as auth_pages
from web.pages import availability as availability_pages
from web.pages import booking as booking_pages
from web.pages import campaigns as campaigns_pages
from web.pages import connectivity as connectivity_pages
from web.pages import funding as funding_pages
from web.pages import imports as imports_pages
from web.pages import meeting_questions as meeting_questions_pages
from web.pages import meetings as meetings_pages
from web.pages import outbox as outbox_pages
from web.pages import plans as plans_pages
from web.pages import projects as projects_pages
from web.pages import replay as replay_pages
from web.pages import reports as reports_pages
from web.pages import results as results_pages
from web.pages import schedules as schedules_pages
from web.pages import sessions as sessions_pages
from web.pages import users as users_pages
from web.pages import verdicts as verdicts_pages
from web.rooms import session_views as room_pages
from web.rooms import views as rooms_views

API_MODULES: tuple[ModuleType, ...] = (
    accounts_api,
    projects_api,
    audit_api,
    campaigns_api,
    checklist_api,
    marks_api,
    imports_api,
    sessions_api,
    holds_api,
    replays_api,
    outbox_api,
    plans_api,
    funding_api,
    availability_api,
    verdicts_api,
    sanctions_api,
    reports_api,
    meetings_api,
)
PAGE_MODULES: tuple[ModuleType, ...] = (
    auth_pages,
    projects_pages,
    audit_pages,
    users_pages,
    campaigns_pages,
    imports_pages,
    rooms_views,
    room_pages,
    booking_pages,
    schedules_pages,
    sessions_pages,
    replay_pages,
    connectivity_pages,
    outbox_pages,
    plans_pages,
    funding_pages,
    availability_pages,
    verdicts_pages,
    results_pages,
    reports_pages,
    meetings_pages,
    meeting_questions_pages,
)
