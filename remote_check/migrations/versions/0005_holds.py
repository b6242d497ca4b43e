"""holds: a coordinator holds a time for 5 minutes; its resources are rows of bookings

Revision ID: 0005_holds
Revises: 0004_outbox
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0005_holds"
down_revision: str | None = "0004_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("panel", sa.JSON(), nullable=False),
        sa.Column("expires_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["city_code"], ["cities.code"], name=op.f("fk_holds_city_code_cities")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["voucher_projects.id"], name=op.f("fk_holds_project_id_voucher_projects")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_holds_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.Integer(), nullable=True))
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_bookings_hold_id"), ["hold_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_bookings_hold_id_holds"), "holds", ["hold_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_check_constraint(
            op.f("ck_bookings_one_owner"), "(session_id IS NULL) <> (hold_id IS NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM bookings WHERE hold_id IS NOT NULL")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_one_owner"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_bookings_hold_id_holds"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_bookings_hold_id"))
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("hold_id")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_user_id"))
        batch_op.drop_index(batch_op.f("ix_holds_project_id"))
        batch_op.drop_index(batch_op.f("ix_holds_expires_at"))
    op.drop_table("holds")
