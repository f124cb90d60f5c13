"""Controller leases, re-attachable training jobs, retries, active time and the store's id.

Revision ID: 0002
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Double = sa.Float(precision=53)


def upgrade() -> None:
    with op.batch_alter_table("tuning_jobs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64)))
        batch.add_column(sa.Column("lease_expires_at", Timestamp))
        batch.add_column(sa.Column("run_seconds", Double, nullable=False, server_default="0"))
        batch.add_column(sa.Column("run_started_at", Timestamp))
        batch.add_column(sa.Column("completion_details", sa.JSON))
    with op.batch_alter_table("training_jobs") as batch:
        batch.add_column(sa.Column("host", sa.String(255)))
        batch.add_column(sa.Column("cursor", sa.JSON))
        batch.add_column(sa.Column("stop_reason", sa.Text))
        batch.add_column(sa.Column("stop_status", sa.String(16)))
        batch.add_column(sa.Column("retry_of", sa.Integer))
        batch.add_column(sa.Column("retryable", sa.Boolean, nullable=False, server_default=sa.false()))
    info = op.create_table(
        "store_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(info, [{"key": "store_id", "value": uuid.uuid4().hex[:12]}])


def downgrade() -> None:
    op.drop_table("store_info")
    with op.batch_alter_table("training_jobs") as batch:
        for column in ("retryable", "retry_of", "stop_status", "stop_reason", "cursor", "host"):
            batch.drop_column(column)
    with op.batch_alter_table("tuning_jobs") as batch:
        for column in ("completion_details", "run_started_at", "run_seconds", "lease_expires_at", "lease_owner"):
            batch.drop_column(column)
