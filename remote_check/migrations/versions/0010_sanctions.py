"""sanctions: cascades of violations, the bars register, re-checks, publications, objections and
their files, notices to cities and parties

Revision ID: 0010_sanctions
Revises: 0009_verdicts
Create Date: 2026-12-05 18:00:30.940509
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0010_sanctions"
down_revision: str | None = "0009_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "party_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_notices")),
    )
    with op.batch_alter_table("party_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_notices_city_code"), ["city_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_party_notices_status"), ["status"], unique=False)

    op.create_table(
        "cascades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("violation", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delisted_supplier", sa.Boolean(), nullable=False),
        sa.Column("overturned_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_cascades_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["voucher_projects.id"], name=op.f("fk_cascades_project_id_voucher_projects")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_cascades_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cascades")),
    )
    with op.batch_alter_table("cascades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cascades_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cascades_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cascades_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("published_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("objections_until", sa.Date(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_publications_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["city_code"], ["cities.code"], name=op.f("fk_publications_city_code_cities")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_publications_published_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publications_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_publications_city_code"), ["city_code"], unique=False)

    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column(
            "party_kind",
            sa.Enum(
                "enterprise",
                "supplier",
                name="party_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "upheld",
                "overturned",
                name="objection_decision",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("new_outcome", sa.String(length=24), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["city_code"], ["cities.code"], name=op.f("fk_objections_city_code_cities")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_objections_decided_by_users")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["voucher_projects.id"], name=op.f("fk_objections_project_id_voucher_projects")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["publications.id"], name=op.f("fk_objections_publication_id_publications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
        sa.UniqueConstraint(
            "publication_id",
            "project_id",
            "party_kind",
            name=op.f("uq_objections_publication_id_project_id_party_kind"),
        ),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_city_code"), ["city_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_publication_id"), ["publication_id"], unique=False)

    op.create_table(
        "rechecks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cascade_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=4), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("draw_entry_id", sa.Integer(), nullable=True),
        sa.Column("status_before", sa.String(length=24), nullable=False),
        sa.Column("was_under_recheck", sa.Boolean(), nullable=False),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_rechecks_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["cascade_id"], ["cascades.id"], name=op.f("fk_rechecks_cascade_id_cascades")
        ),
        sa.ForeignKeyConstraint(["city_code"], ["cities.code"], name=op.f("fk_rechecks_city_code_cities")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["voucher_projects.id"], name=op.f("fk_rechecks_project_id_voucher_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rechecks")),
    )
    with op.batch_alter_table("rechecks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rechecks_cascade_id"), ["cascade_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rechecks_city_code"), ["city_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_rechecks_project_id"), ["project_id"], unique=False)

    op.create_table(
        "sanction_bars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "party_kind",
            sa.Enum(
                "enterprise",
                "supplier",
                name="party_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_project_id", sa.Integer(), nullable=False),
        sa.Column("cascade_id", sa.Integer(), nullable=True),
        sa.Column("created_at", remote_check.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", remote_check.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cascade_id"], ["cascades.id"], name=op.f("fk_sanction_bars_cascade_id_cascades")
        ),
        sa.ForeignKeyConstraint(["lifted_by"], ["users.id"], name=op.f("fk_sanction_bars_lifted_by_users")),
        sa.ForeignKeyConstraint(
            ["source_project_id"],
            ["voucher_projects.id"],
            name=op.f("fk_sanction_bars_source_project_id_voucher_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanction_bars")),
    )
    with op.batch_alter_table("sanction_bars", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanction_bars_cascade_id"), ["cascade_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sanction_bars_party_id"), ["party_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sanction_bars_source_project_id"), ["source_project_id"], unique=False
        )

    op.create_table(
        "objection_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"],
            ["objections.id"],
            name=op.f("fk_objection_files_objection_id_objections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_files")),
    )
    with op.batch_alter_table("objection_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_files_objection_id"), ["objection_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("objection_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_files_objection_id"))

    op.drop_table("objection_files")
    with op.batch_alter_table("sanction_bars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanction_bars_source_project_id"))
        batch_op.drop_index(batch_op.f("ix_sanction_bars_party_id"))
        batch_op.drop_index(batch_op.f("ix_sanction_bars_cascade_id"))

    op.drop_table("sanction_bars")
    with op.batch_alter_table("rechecks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rechecks_project_id"))
        batch_op.drop_index(batch_op.f("ix_rechecks_city_code"))
        batch_op.drop_index(batch_op.f("ix_rechecks_cascade_id"))

    op.drop_table("rechecks")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_publication_id"))
        batch_op.drop_index(batch_op.f("ix_objections_project_id"))
        batch_op.drop_index(batch_op.f("ix_objections_city_code"))

    op.drop_table("objections")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publications_city_code"))
        batch_op.drop_index(batch_op.f("ix_publications_campaign_id"))

    op.drop_table("publications")
    with op.batch_alter_table("cascades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cascades_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_cascades_project_id"))
        batch_op.drop_index(batch_op.f("ix_cascades_enterprise_id"))

    op.drop_table("cascades")
    with op.batch_alter_table("party_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_notices_status"))
        batch_op.drop_index(batch_op.f("ix_party_notices_city_code"))

    op.drop_table("party_notices")
