"""Turning an access scope into SQL, so that nothing outside it leaves the database."""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, false, select
from sqlalchemy.orm import InstrumentedAttribute

from remote_check.accounts.access import Principal, Scope, ScopeKind, project_scope
from remote_check.programme.models import VoucherProject
from scheduler.models import CheckSession, PanelSeat

Ts = TypeVarTuple("Ts")


def scope_projects(stmt: Select[*Ts], scope: Scope) -> Select[*Ts]:
    """Restrict a statement that selects from ``voucher_projects`` to what ``scope`` may see."""
    if scope.kind == ScopeKind.ALL:
        return stmt
    if scope.kind == ScopeKind.CITY:
        return stmt.where(VoucherProject.city_code == scope.city_code)
    if scope.kind == ScopeKind.CLUSTER:
        return stmt.where(VoucherProject.is_cluster.is_(True))
    if scope.expert_id is None:
        return stmt.where(false())
    on_panel = (
        select(CheckSession.project_id)
        .join(PanelSeat, PanelSeat.session_id == CheckSession.id)
        .where(PanelSeat.expert_id == scope.expert_id)
    )
    return stmt.where(VoucherProject.id.in_(on_panel))


def scoped(stmt: Select[*Ts], principal: Principal) -> Select[*Ts]:
    """``stmt`` (over ``voucher_projects``) restricted to what ``principal`` may see."""
    return scope_projects(stmt, project_scope(principal))


def scope_cities(stmt: Select[*Ts], city_column: InstrumentedAttribute[str], scope: Scope) -> Select[*Ts]:
    """Restrict a statement over city-level things (campaigns, draws) to the cities ``scope`` sees.

    The SQL form of :func:`remote_check.accounts.access.sees_city`: every city for the province,
    one city for a coordinator or city auditor, none for alliance staff and experts.
    """
    if scope.kind == ScopeKind.ALL:
        return stmt
    if scope.kind == ScopeKind.CITY:
        return stmt.where(city_column == scope.city_code)
    return stmt.where(false())
