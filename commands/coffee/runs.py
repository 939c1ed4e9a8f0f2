"""One pairing run: claim the run (a ``coffee_runs`` row per scheduled time), choose who is due, pair them.

The claim, the choice and the new groups are one transaction: a second claimer (the job and the start hook's
catch-up, or a restart) fails on the unique scheduled time; a crash before the commit leaves no claim, so the
run happens at the next start. Chats and introductions follow after the commit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from commands.coffee.pairing import CoffeeMember, pair_members
from commands.coffee.rules import is_paused, rhythm_due, sits_out
from commands.coffee.status import ParticipantStatus, RunTrigger
from storage.coffee import CoffeeBlock, CoffeeGroup, CoffeeParticipant, CoffeeRun
from storage.models import Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
from .feature import coffee_settings, follow_up_job, log
from .follow_up import follow_up
from .service import eligible_rooms


@dataclass(frozen=True)
class NewGroup:
    id: int
    members: tuple[str, ...]
    language: str
    room_id: str | None = None


@dataclass(frozen=True)
class RunResult:
    run_id: int
    groups: tuple[NewGroup, ...]
    unpaired: int
    late: bool


async def _room_members(app: App) -> set[str]:
    rooms = app.matrix.client.rooms
    return {
        user for room_id in await eligible_rooms(app) if room_id in rooms for user in rooms[room_id].users
    }


async def met_pairs(session: AsyncSession, user_ids: list[str]) -> set[frozenset[str]]:
    """Everyone who met before: in earlier NExT-Kaffee groups and in networking rounds (contact history)."""
    wanted = set(user_ids)
    pairs: set[frozenset[str]] = set()
    for members in (await session.scalars(select(CoffeeGroup.members))).all():
        if wanted.intersection(members):
            pairs.update(frozenset(pair) for pair in itertools.combinations(members, 2))
    try:
        from storage.networking import Meeting
    except ImportError:  # the networking feature is not installed
        return pairs
    rows = await session.execute(
        select(Meeting.user_a, Meeting.user_b).where(
            or_(Meeting.user_a.in_(user_ids), Meeting.user_b.in_(user_ids))
        )
    )
    pairs.update(frozenset((a, b)) for a, b in rows.all())
    return pairs


async def _blocked_pairs(session: AsyncSession, user_ids: list[str]) -> set[frozenset[str]]:
    rows = await session.execute(
        select(CoffeeBlock.user_id, CoffeeBlock.blocked_id).where(CoffeeBlock.user_id.in_(user_ids))
    )
    return {frozenset((a, b)) for a, b in rows.all()}


def _chosen(
    participants: list[CoffeeParticipant],
    in_rooms: set[str],
    scheduled_for: datetime,
    *,
    scheduled: bool,
    app: App,
) -> list[CoffeeParticipant]:
    """Who takes part in this run; marks who sits out under the "paired less often" rule."""
    today = scheduled_for.astimezone(app.settings.bot.tz).date()
    chosen = []
    for row in participants:
        if row.user_id not in in_rooms or is_paused(row.paused, row.paused_until, today):
            continue
        if scheduled and not rhythm_due(row.weeks, row.last_paired_at, scheduled_for):
            continue
        if sits_out(row.misses, row.skipped_last):
            row.skipped_last = True
            continue
        chosen.append(row)
    return chosen


async def start_run(
    app: App,
    scheduled_for: datetime,
    *,
    trigger: RunTrigger,
    late: bool = False,
    started_by: str | None = None,
) -> RunResult | None:
    """Claim and pair the run of ``scheduled_for``; None when it was claimed before (it ran already).

    Scheduled runs pair the members whose rhythm is due; a manual run (``!kaffee jetzt``) pairs everyone
    who takes part and is not paused: it starts a new rhythm."""
    in_rooms = await _room_members(app)
    follow_up_at = datetime.now(UTC) + timedelta(seconds=coffee_settings(app).follow_up_after_seconds)
    try:
        async with app.db.session() as session:
            run = CoffeeRun(scheduled_for=scheduled_for, trigger=trigger, late=late, started_by=started_by)
            session.add(run)
            await session.flush()
            participants = list(
                (
                    await session.scalars(
                        select(CoffeeParticipant)
                        .where(CoffeeParticipant.status == ParticipantStatus.ACTIVE)
                        .order_by(CoffeeParticipant.user_id)
                    )
                ).all()
            )
            chosen = _chosen(
                participants, in_rooms, scheduled_for, scheduled=trigger == RunTrigger.SCHEDULE, app=app
            )
            ids = [row.user_id for row in chosen]
            profiles = {
                m.user_id: m
                for m in (await session.scalars(select(Member).where(Member.user_id.in_(ids)))).all()
            }
            people = [
                CoffeeMember(
                    user_id,
                    profiles[user_id].organisation if user_id in profiles else None,
                    profiles[user_id].level if user_id in profiles else None,
                    frozenset(profiles[user_id].topics or ()) if user_id in profiles else frozenset(),
                )
                for user_id in ids
            ]
            pairing = pair_members(
                people, await met_pairs(session, ids), await _blocked_pairs(session, ids), seed=run.id
            )
            groups = []
            for members in pairing.groups:
                languages = {profiles[u].language if u in profiles else None for u in members}
                language = "en" if languages == {"en"} else "de"
                group = CoffeeGroup(
                    run_id=run.id, members=list(members), language=language, follow_up_at=follow_up_at
                )
                session.add(group)
                groups.append(group)
            placed = {user for members in pairing.groups for user in members}
            for row in chosen:
                if row.user_id in placed:
                    row.last_paired_at, row.skipped_last = scheduled_for, False
            run.groups = len(groups)
            await session.flush()
            result = RunResult(
                run_id=run.id,
                groups=tuple(NewGroup(g.id, tuple(g.members), g.language) for g in groups),
                unpaired=len(pairing.unpaired),
                late=late,
            )
    except IntegrityError:
        log.info("NExT-Kaffee run of %s was claimed before; not running it again", scheduled_for)
        return None
    for new in result.groups:
        app.jobs.at(follow_up_job(new.id), follow_up, follow_up_at, new.id)
    log.info(
        "NExT-Kaffee run %s of %s (%s%s): %s groups, %s unpaired",
        result.run_id,
        scheduled_for,
        trigger,
        ", late" if late else "",
        len(result.groups),
        result.unpaired,
    )
    return result
