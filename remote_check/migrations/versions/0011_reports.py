"""reports: filed reports to the province (immutable, superseded by a later filing)

Revision ID: 0011_reports
Revises: 0010_sanctions
Create Date: 2026-12-05 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0011_reports"
down_revision: str | None = "0010_sanctions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "filed reports are immutable"


def upgrade() -> None:
    op.create_table(
        "report_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "plan", "results", name="report_kind", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx_size", sa.Integer(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("filed_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_report_filings_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_report_filings_city_code_cities")
        ),
        sa.ForeignKeyConstraint(["filed_by"], ["users.id"], name=op.f("fk_report_filings_filed_by_users")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["report_filings.id"],
            name=op.f("fk_report_filings_supersedes_id_report_filings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_filings")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_report_filings_supersedes_id")),
    )
    with op.batch_alter_table("report_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_filings_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_filings_city_code"), ["city_code"], unique=False)
    # The database itself refuses to change or delete a filing, whoever asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION report_filings_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_filings_immutable BEFORE UPDATE OR DELETE ON report_filings "
            "FOR EACH ROW EXECUTE FUNCTION report_filings_immutable()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER report_filings_no_{verb.lower()} BEFORE {verb} ON report_filings "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER report_filings_immutable ON report_filings")
        op.execute("DROP FUNCTION report_filings_immutable()")
    else:
        op.execute("DROP TRIGGER report_filings_no_update")
        op.execute("DROP TRIGGER report_filings_no_delete")
    with op.batch_alter_table("report_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_filings_city_code"))
        batch_op.drop_index(batch_op.f("ix_report_filings_campaign_id"))
    op.drop_table("report_filings")
