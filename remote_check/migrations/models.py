"""Every table of the project, imported in one place for Alembic and for tests."""

from recordings.models import ItemMark, RecordingPart, Replay, Still
from remote_check.accounts.models import LoginThrottleRow, Role, User, WebSession
from remote_check.audit.models import AuditEntry, AuditHead
from remote_check.campaigns.models import Campaign, Draw, DrawEntry
from remote_check.checklist.models import ChecklistItem
from remote_check.database import Base
from remote_check.experts.models import Expert
from remote_check.funding.models import AllocationLine, AllocationPlan, SettlementPeriod
from remote_check.outcomes.sanction_models import (
    Bar,
    Cascade,
    Notice,
    Objection,
    ObjectionFile,
    Publication,
    Recheck,
)
from remote_check.outcomes.verdict_models import Opinion, Suggestion, Verdict
from remote_check.programme.models import City, Enterprise, Product, ProductModule, Supplier, VoucherProject
from remote_check.reports.models import Filing
from scheduler.meetings.models import Attendance, Meeting, MeetingSpeaker, Nomination, Question, SignalTest
from scheduler.models import Booking, CheckSession, Guest, Hold, PanelSeat
from scheduler.notify.models import CalendarFeed, OutboxMessage

__all__ = [
    "AllocationLine",
    "AllocationPlan",
    "Attendance",
    "AuditEntry",
    "AuditHead",
    "Bar",
    "Base",
    "Booking",
    "CalendarFeed",
    "Campaign",
    "Cascade",
    "CheckSession",
    "ChecklistItem",
    "City",
    "Draw",
    "DrawEntry",
    "Enterprise",
    "Expert",
    "Filing",
    "Guest",
    "Hold",
    "ItemMark",
    "LoginThrottleRow",
    "Meeting",
    "MeetingSpeaker",
    "Nomination",
    "Notice",
    "Objection",
    "ObjectionFile",
    "Opinion",
    "OutboxMessage",
    "PanelSeat",
    "Product",
    "ProductModule",
    "Publication",
    "Question",
    "Recheck",
    "RecordingPart",
    "Replay",
    "Role",
    "SettlementPeriod",
    "SignalTest",
    "Still",
    "Suggestion",
    "Supplier",
    "User",
    "Verdict",
    "VoucherProject",
    "WebSession",
]
