"""meetings: province meetings, nominations, signal tests, attendance, questions

Revision ID: 0012_meetings
Revises: 0011_reports
Create Date: 2026-12-05 18:22:20.167310
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0012_meetings"
down_revision: str | None = "0011_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "training", "other", name="meeting_kind", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("starts_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("join_deadline", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("test_starts_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("test_ends_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("city_quota", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("city_quota > 0", name=op.f("ck_meetings_meeting_quota")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_meetings_meeting_interval")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_meetings_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "meeting_nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "staff", "expert", name="nominee_role", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("nominated_by", sa.Integer(), nullable=True),
        sa.Column("nominated_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("link_nonce", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_meeting_nominations_city_code_cities")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_nominations_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by"], ["users.id"], name=op.f("fk_meeting_nominations_nominated_by_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_meeting_nominations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_nominations")),
        sa.UniqueConstraint("meeting_id", "user_id", name=op.f("uq_meeting_nominations_meeting_id_user_id")),
    )
    with op.batch_alter_table("meeting_nominations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_nominations_city_code"), ["city_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_nominations_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "meeting_speakers",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_speakers_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_meeting_speakers_user_id_users")),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name=op.f("pk_meeting_speakers")),
    )
    op.create_table(
        "meeting_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["meeting_nominations.id"],
            name=op.f("fk_meeting_attendance_nomination_id_meeting_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendance")),
    )
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_attendance_nomination_id"), ["nomination_id"], unique=False
        )

    op.create_table(
        "meeting_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("answered_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["users.id"], name=op.f("fk_meeting_questions_answered_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_questions_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["meeting_nominations.id"],
            name=op.f("fk_meeting_questions_nomination_id_meeting_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_questions")),
    )
    with op.batch_alter_table("meeting_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_questions_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "meeting_signal_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("camera_ok", sa.Boolean(), nullable=False),
        sa.Column("microphone_ok", sa.Boolean(), nullable=False),
        sa.Column("screen_ok", sa.Boolean(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("bitrate_kbps", sa.Integer(), nullable=False),
        sa.Column("rtt_ms", sa.Integer(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["meeting_nominations.id"],
            name=op.f("fk_meeting_signal_tests_nomination_id_meeting_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_signal_tests")),
    )
    with op.batch_alter_table("meeting_signal_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_signal_tests_nomination_id"), ["nomination_id"], unique=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_outbox_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_kind_meeting_id_recipient_version"),
            ["kind", "meeting_id", "recipient", "version"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_meeting_id_meetings"),
            "meetings",
            ["meeting_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_session_or_meeting"), "(session_id IS NULL) <> (meeting_id IS NULL)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE meeting_id IS NOT NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_session_or_meeting"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_outbox_meeting_id_meetings"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_outbox_kind_meeting_id_recipient_version"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_outbox_meeting_id"))
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("meeting_id")

    with op.batch_alter_table("meeting_signal_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_signal_tests_nomination_id"))

    op.drop_table("meeting_signal_tests")
    with op.batch_alter_table("meeting_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_questions_meeting_id"))

    op.drop_table("meeting_questions")
    with op.batch_alter_table("meeting_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendance_nomination_id"))

    op.drop_table("meeting_attendance")
    op.drop_table("meeting_speakers")
    with op.batch_alter_table("meeting_nominations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_nominations_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_nominations_city_code"))

    op.drop_table("meeting_nominations")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_starts_at"))

    op.drop_table("meetings")
