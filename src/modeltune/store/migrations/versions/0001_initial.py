"""Tuning jobs, training jobs and metric values.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Double = sa.Float(precision=53)


def name_column(length: int) -> sa.String:
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "tuning_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", name_column(64), nullable=False, unique=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_reason", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp),
        sa.Column("heartbeat_at", Timestamp),
        sa.Column("controller_pid", sa.Integer),
        sa.Column("controller_host", sa.String(255)),
    )
    op.create_table(
        "training_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "tuning_job_id", sa.Integer, sa.ForeignKey("tuning_jobs.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", name_column(96), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hyperparameters", sa.JSON, nullable=False),
        sa.Column("final_objective", Double),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp),
        sa.Column("ended_at", Timestamp),
        sa.Column("exit_code", sa.Integer),
        sa.Column("status_reason", sa.Text),
        sa.Column("log_path", sa.Text, nullable=False),
        sa.Column("output_dir", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer),
        sa.UniqueConstraint("tuning_job_id", "number"),
    )
    op.create_table(
        "metric_values",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "training_job_id",
            sa.Integer,
            sa.ForeignKey("training_jobs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", Double, nullable=False),
        sa.Column("step", Double, nullable=False),
        sa.Column("timestamp", Timestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("metric_values")
    op.drop_table("training_jobs")
    op.drop_table("tuning_jobs")
