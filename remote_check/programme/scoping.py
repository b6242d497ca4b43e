"""City-level scoping in SQL: campaigns and draws belong to a city, not to a session.

What follows seats (projects and sessions as an expert sees them, their loaders
``project_in_scope`` and ``session_in_scope``) needs the sessions' panels, so it lives one
layer up, in :mod:`scheduler.access`: the core never imports the scheduler.
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, false
from sqlalchemy.orm import InstrumentedAttribute

from remote_check.accounts.access import Scope, ScopeKind

Ts = TypeVarTuple("Ts")


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
