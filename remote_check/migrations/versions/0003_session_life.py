"""session life: no-show, the room's early opening, start and end

Revision ID: 0003_session_life
Revises: 0002_login_throttle
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0003_session_life"
down_revision: str | None = "0002_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("booked", "in_progress", "done", "interrupted", "cancelled")
AFTER = (*BEFORE, "no_show")


def _status_check(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("check_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_check_sessions_session_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_check_sessions_session_status"), _status_check(AFTER))
        for column in ("opened_at", "started_at", "ended_at"):
            batch_op.add_column(
                sa.Column(column, remote_check.database.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(sa.Column("ended_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_check_sessions_ended_by_users"), "users", ["ended_by"], ["id"]
        )


def downgrade() -> None:
    op.execute("UPDATE check_sessions SET status = 'cancelled' WHERE status = 'no_show'")
    with op.batch_alter_table("check_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_check_sessions_ended_by_users"), type_="foreignkey")
        for column in ("ended_by", "ended_at", "started_at", "opened_at"):
            batch_op.drop_column(column)
        batch_op.drop_constraint(op.f("ck_check_sessions_session_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_check_sessions_session_status"), _status_check(BEFORE))
