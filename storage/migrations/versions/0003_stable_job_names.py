"""apscheduler_jobs: jobs referenced by stable job names instead of Python paths

Revision ID: 0003_stable_job_names
Revises: 0002_outbox_txn_id
"""

from collections.abc import Sequence

from alembic import op

from storage.job_references import rewrite_job_references

revision: str = "0003_stable_job_names"
down_revision: str | Sequence[str] | None = "0002_outbox_txn_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # With PostgreSQL the job store shares the database. With SQLite it is a sibling file that the scheduler
    # rewrites itself at start (bot/scheduler.py); here the table does not exist and nothing happens.
    rewrite_job_references(op.get_bind())


def downgrade() -> None:
    # The old paths are gone from the code; a downgraded bot re-creates missing jobs from its rows at start.
    pass
