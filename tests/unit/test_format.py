"""User text stays inert in formatted bodies and can never mention the room."""

from __future__ import annotations

from bot.format import esc, to_html, to_plain
from bot.sender import message_content, pill


def test_user_html_and_markdown_are_escaped() -> None:
    html = to_html("Titel: " + esc("<img src=x onerror=alert(1)> **fett** [link](javascript:x) `code`"))
    assert "<img" not in html
    assert "&lt;img" in html
    assert "<strong>" not in html
    assert "<a " not in html
    assert "<code>" not in html


def test_room_mention_is_defused_in_text_and_mentions_are_explicit() -> None:
    content = message_content("Hallo " + esc("@room und @ROOM"), mentions=("@anna:example.org",))
    assert "@room" not in content["body"].lower()
    assert content["m.mentions"] == {"user_ids": ["@anna:example.org"]}
    assert message_content("x")["m.mentions"] == {"user_ids": []}


def test_plain_body_reads_naturally() -> None:
    assert to_plain(esc("Open-Source (OSS) 1.5!")) == "Open-Source (OSS) 1.5!"


def test_pill_links_to_user() -> None:
    assert to_html(pill("@anna:example.org", "Anna")) == (
        '<p><a href="https://matrix.to/#/@anna:example.org">Anna</a></p>'
    )


def test_reply_and_thread_relations() -> None:
    reply = message_content("x", reply_to="$e")
    assert reply["m.relates_to"] == {"m.in_reply_to": {"event_id": "$e"}}
    thread = message_content("x", thread_root="$root")
    assert thread["m.relates_to"]["rel_type"] == "m.thread"
    assert thread["m.relates_to"]["event_id"] == "$root"


def test_quoted_user_input_is_shortened_with_an_ellipsis() -> None:
    from bot.format import QUOTE_LIMIT, shorten

    assert shorten("kurz") == "kurz"
    long = "x" * 33_000
    assert len(shorten(long)) == QUOTE_LIMIT
    assert shorten(long).endswith("…")
