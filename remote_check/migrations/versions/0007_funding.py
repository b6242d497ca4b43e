"""funding: settlement periods with their budget, allocation plans and their lines

Revision ID: 0007_funding
Revises: 0006_availability
Create Date: 2026-12-05 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0007_funding"
down_revision: str | None = "0006_availability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "funded",
    "budget_exhausted",
    "not_qualified",
    "nothing_due",
    "under_recheck",
    "enterprise_barred",
    "supplier_barred",
    "enterprise_cap",
    "supplier_cap",
)


def upgrade() -> None:
    op.create_table(
        "settlement_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("budget", remote_check.database.Money(), nullable=False),
        sa.Column("money_deadline", sa.Date(), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_settlement_periods_city_code_cities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_settlement_periods_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_periods")),
        sa.UniqueConstraint("city_code", "name", name=op.f("uq_settlement_periods_city_code_name")),
    )
    with op.batch_alter_table("settlement_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_periods_city_code"), ["city_code"], unique=False)
    op.create_table(
        "allocation_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "applied",
                name="allocation_plan_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("budget", remote_check.database.Money(), nullable=False),
        sa.Column("funded", remote_check.database.Money(), nullable=False),
        sa.Column("carried_over", remote_check.database.Money(), nullable=False),
        sa.Column("fill_gaps", sa.Boolean(), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("applied_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["settlement_periods.id"],
            name=op.f("fk_allocation_plans_period_id_settlement_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_allocation_plans_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["applied_by"], ["users.id"], name=op.f("fk_allocation_plans_applied_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_plans")),
    )
    with op.batch_alter_table("allocation_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_plans_period_id"), ["period_id"], unique=False)
        batch_op.create_index(
            "uq_allocation_plans_applied_period_id",
            ["period_id"],
            unique=True,
            sqlite_where=sa.text("status = 'applied'"),
            postgresql_where=sa.text("status = 'applied'"),
        )
    op.create_table(
        "allocation_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due", remote_check.database.Money(), nullable=False),
        sa.Column("funded", remote_check.database.Money(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*REASONS, name="allocation_reason", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("carried_in", sa.Boolean(), nullable=False),
        sa.Column("is_key", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["allocation_plans.id"],
            name=op.f("fk_allocation_lines_plan_id_allocation_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["voucher_projects.id"],
            name=op.f("fk_allocation_lines_project_id_voucher_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_lines")),
        sa.UniqueConstraint("plan_id", "project_id", name=op.f("uq_allocation_lines_plan_id_project_id")),
    )
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_lines_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_allocation_lines_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("allocation_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_lines_project_id"))
        batch_op.drop_index(batch_op.f("ix_allocation_lines_plan_id"))
    op.drop_table("allocation_lines")
    with op.batch_alter_table("allocation_plans", schema=None) as batch_op:
        batch_op.drop_index("uq_allocation_plans_applied_period_id")
        batch_op.drop_index(batch_op.f("ix_allocation_plans_period_id"))
    op.drop_table("allocation_plans")
    with op.batch_alter_table("settlement_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_periods_city_code"))
    op.drop_table("settlement_periods")
