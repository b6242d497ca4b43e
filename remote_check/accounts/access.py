"""Who may do what, and which cities they see: a pure policy, tested as a whole matrix.

Queries apply :func:`project_scope` so that nothing of another city ever leaves the
database; views check :func:`require` before they do anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from remote_check.accounts.models import Role
from remote_check.errors import Forbidden, Message


class Permission(enum.StrEnum):
    PROJECT_READ = "project.read"
    PROJECT_IMPORT = "project.import"
    CAMPAIGN_READ = "campaign.read"
    CAMPAIGN_WRITE = "campaign.write"
    DRAW_WRITE = "draw.write"
    DRAW_EXPORT = "draw.export"
    CHECKLIST_WRITE = "checklist.write"
    SESSION_READ = "session.read"
    SESSION_WRITE = "session.write"
    USER_ADMIN = "user.admin"
    AUDIT_READ = "audit.read"
    EXPERT_READ = "expert.read"
    RECORDING_READ = "recording.read"  # replay the recordings, download the evidence
    PLAN_WRITE = "plan.write"  # propose and apply a plan of the published samples' checks
    FUNDING_READ = "funding.read"  # a city's budgets, allocation plans and the deadline warning
    FUNDING_WRITE = "funding.write"  # open a settlement period, set its budget, compute and apply a plan
    AVAILABILITY_WRITE = "availability.write"  # a city's closed days, rooms, its parties' unavailability
    VERDICT_OPINE = "verdict.opine"  # a panel expert's opinions, the lead's proposal, suggestions
    VERDICT_CONFIRM = "verdict.confirm"  # the city's coordinator confirms or returns the conclusion
    RESULTS_PUBLISH = "results.publish"  # publish a city's results (公布反馈) and decide objections (异议)
    REPORT_READ = "report.read"  # the filed reports to the province (报省汇总备案), downloaded
    REPORT_FILE = "report.file"  # file a city's plan or results to the province
    DASHBOARD_READ = "dashboard.read"  # the province's dashboard (a city's own view for a city)
    MEETING_WRITE = "meeting.write"  # create and edit a province meeting, moderate its Q&A
    MEETING_NOMINATE = "meeting.nominate"  # nominate a city's attendees, see its tests and attendance


P = Permission
_READ = frozenset({P.PROJECT_READ, P.CAMPAIGN_READ, P.SESSION_READ})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PROVINCE_ADMIN: frozenset(Permission),
    Role.CITY_COORDINATOR: _READ
    | {
        P.PROJECT_IMPORT,
        P.CAMPAIGN_WRITE,
        P.DRAW_WRITE,
        P.DRAW_EXPORT,
        P.SESSION_WRITE,
        P.EXPERT_READ,
        P.RECORDING_READ,
        P.PLAN_WRITE,
        P.FUNDING_READ,
        P.FUNDING_WRITE,
        P.AVAILABILITY_WRITE,
        P.VERDICT_CONFIRM,
        P.RESULTS_PUBLISH,
        P.REPORT_READ,
        P.REPORT_FILE,
        P.DASHBOARD_READ,
        P.MEETING_NOMINATE,
    },
    # Campaigns and samples are a city's plans: experts work on projects and sessions; alliance staff
    # help run the cluster projects' campaigns (notice 五(三)): they see those campaigns and their progress.
    Role.EXPERT: (_READ - {P.CAMPAIGN_READ}) | {P.CHECKLIST_WRITE, P.VERDICT_OPINE},
    Role.AUDITOR: _READ
    | {
        P.DRAW_EXPORT,
        P.AUDIT_READ,
        P.EXPERT_READ,
        P.RECORDING_READ,
        P.FUNDING_READ,
        P.REPORT_READ,
        P.DASHBOARD_READ,
    },
    Role.ALLIANCE_STAFF: _READ | {P.SESSION_WRITE, P.EXPERT_READ, P.DASHBOARD_READ},
}

ROLE_LABELS: dict[Role, Message] = {
    Role.PROVINCE_ADMIN: Message("省级管理员", "Province administrator"),
    Role.CITY_COORDINATOR: Message("地市协调员", "City coordinator"),
    Role.EXPERT: Message("专家", "Expert"),
    Role.AUDITOR: Message("审计员", "Auditor"),
    Role.ALLIANCE_STAFF: Message("产业联盟工作人员", "Industrial alliance staff"),
}


class ScopeKind(enum.StrEnum):
    ALL = "all"  # every city
    CITY = "city"  # one city
    CLUSTER = "cluster"  # industrial-cluster projects in every city
    PANEL = "panel"  # projects whose sessions the expert sits on


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    city_code: str | None = None
    expert_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """A signed-in user, as the policy sees them."""

    user_id: int
    role: Role
    city_code: str | None
    display_name: str
    expert_id: int | None = None

    @property
    def ref(self) -> str:
        return f"user:{self.user_id}"


def allowed(principal: Principal, permission: Permission) -> bool:
    return permission in GRANTS[principal.role]


def require(principal: Principal, permission: Permission) -> None:
    if not allowed(principal, permission):
        raise Forbidden(Message("您的角色无权执行此操作", "Your role may not do this"))


def project_scope(principal: Principal) -> Scope:
    """Which voucher projects (and so campaigns, sessions, checklists) ``principal`` sees."""
    role = principal.role
    if role == Role.PROVINCE_ADMIN or (role == Role.AUDITOR and principal.city_code is None):
        return Scope(ScopeKind.ALL)
    if role in (Role.CITY_COORDINATOR, Role.AUDITOR):
        if principal.city_code is None:
            raise Forbidden(Message("账号未指定城市", "This account has no city"))
        return Scope(ScopeKind.CITY, city_code=principal.city_code)
    if role == Role.ALLIANCE_STAFF:
        return Scope(ScopeKind.CLUSTER)
    return Scope(ScopeKind.PANEL, expert_id=principal.expert_id)


def sees_city(principal: Principal, city_code: str) -> bool:
    """Whether city-level things (campaigns, draws, budgets) of ``city_code`` are visible.

    They are a city's own plans: the province (admins, province-wide auditors) sees every city's,
    a coordinator or city auditor their city's. Alliance staff (cluster projects and their
    sessions only) and experts (their panels' projects) see none.
    """
    scope = project_scope(principal)
    if scope.kind == ScopeKind.CITY:
        return scope.city_code == city_code
    return scope.kind == ScopeKind.ALL


def require_city(principal: Principal, city_code: str) -> None:
    if not sees_city(principal, city_code):
        raise Forbidden(Message("无权查看其他城市的数据", "You may not see another city's data"))
