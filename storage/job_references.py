"""Jobs stored by Python path (release 0.1.0) rewritten to the stable job names that replaced them.

Until release 0.1.0 the job store kept ``args = ("commands.reminders:fire_reminder", 42)``: the import path of
the feature function. Since then it keeps the name the feature registered the job under
(``("reminders.fire", 42)``, see ``Feature.job``), so functions can move without breaking stored jobs. This
module rewrites the old references in place. It runs from migration ``0003_stable_job_names`` (PostgreSQL
keeps the job store in the bot's database) and at every start on the job store itself, before the scheduler
reads it (SQLite keeps it in a sibling file that Alembic never sees). It is idempotent: a stable name
is not a key of ``LEGACY_JOB_PATHS``.

The mapping is history: it lists the paths release 0.1.0 wrote and must never change.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

from sqlalchemy import Connection, inspect, text

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
# APScheduler stores every job of the bot as this one dispatcher; its path must never change either.
DISPATCHER = "bot.scheduler:dispatch"

LEGACY_JOB_PATHS: dict[str, str] = {
    "commands.reminders:fire_reminder": "reminders.fire",
    "commands.networking:request_expired": "networking.request_expired",
    "commands.networking:round_warning": "networking.round_warning",
    "commands.networking:round_ended": "networking.round_ended",
    "commands.bingo:expire_claim": "bingo.claim_expired",
    "commands.bingo:end_game": "bingo.game_ended",
    "commands.digest:run_monthly_digest": "digest.monthly",
    "commands.digest:retry_due_digest": "digest.retry",
    "commands.sessions.service:fire_session_reminder": "sessions.reminder",
    "commands.sessions.service:announce_slot": "sessions.round_announcement",
}


def rewritten_state(state: dict[str, Any]) -> dict[str, Any] | None:
    """The job's state with its stable name, or None when there is nothing to rewrite."""
    args = tuple(state.get("args", ()))
    if state.get("func") != DISPATCHER or not args or args[0] not in LEGACY_JOB_PATHS:
        return None
    return {**state, "args": (LEGACY_JOB_PATHS[args[0]], *args[1:])}


def rewrite_job_references(connection: Connection) -> int:
    """Rewrite the legacy references in the job table on ``connection``; returns how many jobs changed.
    The caller commits."""
    if not inspect(connection).has_table(JOB_TABLE):
        return 0
    rows = connection.execute(text(f"SELECT id, job_state FROM {JOB_TABLE}")).all()
    changed = 0
    for job_id, job_state in rows:
        state = rewritten_state(pickle.loads(job_state))
        if state is None:
            continue
        connection.execute(
            text(f"UPDATE {JOB_TABLE} SET job_state = :state WHERE id = :id"),
            {"state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL), "id": job_id},
        )
        changed += 1
    if changed:
        log.info("rewrote %d stored job(s) to stable job names", changed)
    return changed
