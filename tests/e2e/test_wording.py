"""Issue 15 on the real homeserver: commands that no longer look alike, a help overview that fits a phone,
and the configured command prefix in everything the bot writes."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.devserver import Synapse
from tests.catalog import body, markdown, number_in, says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member, module_bot

PHONE_LINES = 20

prefix_bot = module_bot("prefixbot", '\n[bot]\ncommand_prefix = "?"\nmoderators = []\n')


async def room_of(bot: BotProcess, owner: Member, *others: Member) -> str:
    room = await owner.room_with(bot.user_id)
    for member in others:
        await owner.invite(room, member.user_id)
        await member.join(room)
    return room


async def test_the_help_overview_fits_a_phone_and_moderators_see_their_block(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    owner = await member_factory("moderatorin")  # the room's creator: a moderator
    member = await member_factory("mitglied")
    room = await room_of(bot, owner, member)

    overview = await member.command(room, "!hilfe")
    assert says(overview.body, "help_header")
    assert body("help_overview") in overview.body
    assert body("help_overview_moderator") not in overview.body
    assert len(overview.body.splitlines()) <= PHONE_LINES, overview.body

    english = await member.command(room, "!help")
    assert body("help_overview", "en") in english.body

    for_moderators = await owner.command(room, "!hilfe")
    assert body("help_overview_moderator") in for_moderators.body

    topic = await member.command(room, "!hilfe sessions")
    assert "`!anmelden 12`" in topic.body
    assert says(topic.body, "help_topic_footer")

    # The other language's name is the full path, never the bare subcommand.
    stop = await member.command(room, "!hilfe bingo stopp")
    assert "`!bingo stop`" in stop.body
    assert "`!stop`" not in stop.body
    # The example comes before the notation.
    detail = await member.command(room, "!hilfe anmelden")
    example = detail.body.index(markdown("sessions_signup_example"))
    assert example < detail.body.index(markdown("sessions_signup_usage"))


async def test_commands_that_used_to_look_alike(bot: BotProcess, member_factory: MemberFactory) -> None:
    owner = await member_factory("orga")
    member = await member_factory("kollegin")
    room = await room_of(bot, owner, member)

    # A member writing the plural with a text submits news; the plain plural stays the moderators' list.
    submitted = await member.command(room, "!neuigkeiten Unser Bericht zur E-Akte ist online")
    assert says(submitted.body, "digest_news_submitted"), submitted.body
    refused = await member.command(room, "!neuigkeiten")
    assert says(refused.body, "core_permission_moderator")
    listed = await owner.command(room, "!neuigkeiten")
    assert "E-Akte" in listed.body

    # !erinnerung with a time creates a reminder; !erinnerungen löschen cancels it.
    created = await member.command(room, "!erinnerung morgen 9 Uhr Bericht abgeben")
    assert says(created.body, "reminders_created"), created.body
    number = number_in(created.body, "reminders_created", "id")
    mine = await member.command(room, "!meine erinnerungen")
    assert says(mine.body, "reminders_list_item", id=number), mine.body
    cancelled = await member.command(room, f"!erinnerungen löschen {number}")
    assert says(cancelled.body, "reminders_cancelled", id=number), cancelled.body

    # !meine in its natural forms.
    plain = await member.command(room, "!meine")
    natural = await member.command(room, "!meine sessions")
    assert natural.body == plain.body
    unknown = await member.command(room, "!meine socken")
    assert says(unknown.body, "sessions_error_mine", value="socken")

    # !netzwerk is the speed-dating rounds' word now, not the contacts'.
    network = await member.command(room, "!netzwerk mitmachen")
    assert says(network.body, "networking_error_no_block"), network.body
    opened = await owner.command(room, "!netzwerkrunde öffnen")
    assert says(opened.body, "networking_block_opened")
    assert "`!netzwerkrunde mitmachen`" in opened.body
    joined = await member.command(room, "!runde mitmachen")  # the old word still works
    assert says(joined.body, "networking_joined")
    await owner.command(room, "!netzwerkrunde ende")

    # A barcamp's time slot is a "Zeitfenster"; "runde" still works there.
    day = (date.today() + timedelta(days=30)).strftime("%d.%m.%Y")
    event = await owner.command(room, f'!veranstaltung neu "Barcamp" {day}')
    event_no = number_in(event.body, "sessions_event_created", "event_id", title="Barcamp")
    slot = await owner.command(room, f'!veranstaltung zeitfenster {event_no} "Vormittag" 11:15-12:00')
    assert says(slot.body, "sessions_slot_added", number=1), slot.body
    assert "`!session einplanen <Session-Nr.> 1`" in slot.body
    old_word = await owner.command(room, f'!veranstaltung runde {event_no} "Nachmittag" 13:00-14:00')
    assert says(old_word.body, "sessions_slot_added", number=2), old_word.body


async def test_a_configured_prefix_is_the_one_the_bot_writes(
    synapse: Synapse, prefix_bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("fragezeichen")
    room = await member.room_with(prefix_bot.user_id)

    overview = await member.command(room, "?hilfe")
    assert "`?programm`" in overview.body
    assert not re.search(r"`![a-zäöü]", overview.body), overview.body

    refused = await member.command(room, "?erinnere")  # no time, no text: the usage follows
    assert "`?erinnere" in refused.body
    assert not re.search(r"`![a-zäöü]", refused.body), refused.body

    suggestion = await member.command(room, "?hilf")
    assert says(
        suggestion.body, "core_unknown_command_suggestion", command="hilf", suggestion="?hilfe", p="?"
    )

    wrong = await member.command(room, "?anmelden zwölf")  # refused, with the example and the usage
    assert says(wrong.body, "core_arg_not_a_number", value="zwölf")
    assert "`?anmelden 12`" in wrong.body
    assert not re.search(r"`![a-zäöü]", wrong.body), wrong.body
    topic = await member.command(room, "?hilfe neuigkeiten")
    assert "`?neuigkeit " in topic.body
    assert not re.search(r"`![a-zäöü]", topic.body), topic.body
