"""Training jobs run by other processes (workers, other machines, ask/tell processes): their owner and
its lease, user attributes, artifact locations; live workers; shipped log text; packed source code.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
LongBinary = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("training_jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), index=True))
        batch.add_column(sa.Column("owner_expires_at", Timestamp))
        batch.add_column(sa.Column("attributes", sa.JSON))
        batch.add_column(sa.Column("artifact_uri", sa.Text))
        batch.create_index("ix_training_jobs_tuning_job_status", ["tuning_job_id", "status"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("slots", sa.Integer, nullable=False),
        sa.Column("tuning_job", sa.String(64)),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("heartbeat_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp),
    )
    op.create_table(
        "log_chunks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "training_job_id",
            sa.Integer,
            sa.ForeignKey("training_jobs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("data", LongText, nullable=False),
    )
    op.create_table(
        "code_packages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "tuning_job_id",
            sa.Integer,
            sa.ForeignKey("tuning_jobs.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", LongBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("code_packages")
    op.drop_table("log_chunks")
    op.drop_table("workers")
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_index("ix_training_jobs_tuning_job_status")
        batch.drop_index("ix_training_jobs_owner")
        for column in ("artifact_uri", "attributes", "owner_expires_at", "owner"):
            batch.drop_column(column)
