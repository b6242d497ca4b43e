"""login throttle: failed log-ins per address, user name and pair, shared by every process

Revision ID: 0002_login_throttle
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0002_login_throttle"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_allowed_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")
