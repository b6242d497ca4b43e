"""availability: the cities an expert serves, unavailability of experts and enterprises, a city's
closed days and rooms

Revision ID: 0006_availability
Revises: 0005_holds
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0006_availability"
down_revision: str | None = "0005_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rooms", sa.Integer(), server_default="3", nullable=False))
    op.create_table(
        "expert_cities",
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_expert_cities_city_code_cities")
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_expert_cities_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("expert_id", "city_code", name=op.f("pk_expert_cities")),
    )
    op.create_table(
        "city_days_closed",
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_city_days_closed_city_code_cities")
        ),
        sa.PrimaryKeyConstraint("city_code", "day", name=op.f("pk_city_days_closed")),
    )
    op.create_table(
        "unavailability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "expert",
                "enterprise",
                name="unavailable_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unavailability")),
    )
    with op.batch_alter_table("unavailability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unavailability_party_id"), ["party_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unavailability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unavailability_party_id"))
    op.drop_table("unavailability")
    op.drop_table("city_days_closed")
    op.drop_table("expert_cities")
    with op.batch_alter_table("cities", schema=None) as batch_op:
        batch_op.drop_column("rooms")
