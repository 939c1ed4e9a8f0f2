"""tests/catalog.py recognises every message of the catalog in what the bot would send."""

from __future__ import annotations

import string

import pytest

from tests.catalog import body, catalog, number_in, says


class Argument:
    """A message argument that formats to awkward text under any format spec (``{day:%d.%m.%Y}``)."""

    def __format__(self, spec: str) -> str:
        return "Ärger & [Sachen] *7*"

    def __getattr__(self, name: str) -> Argument:  # {day.day}
        return self


def test_every_message_is_recognised_with_any_arguments() -> None:
    for language, messages in catalog().messages.items():
        for key, template in messages.items():
            names = {name.split(".")[0] for _, name, _, _ in string.Formatter().parse(template) if name} - {
                "p"
            }
            sent = body(key, language, **dict.fromkeys(names, Argument()))
            assert says(sent, key, language), (language, key, sent)


def test_a_different_message_is_not_taken_for_it() -> None:
    assert not says(body("privacy_forget_done", entries="3 Einträge"), "privacy_forget_no_request")
    assert not says(body("reminders_fire", people="x", text="y"), "reminders_missed")


def test_known_arguments_must_match() -> None:
    sent = body("privacy_forget_done", entries="3 Einträge")
    assert says(sent, "privacy_forget_done", entries="3 Einträge")
    assert not says(sent, "privacy_forget_done", entries="4 Einträge")


def test_a_number_is_read_from_its_place_in_the_message() -> None:
    for language in ("de", "en"):
        created = body("sessions_event_created", language, event_id=17, title="Camp 2027", date=Argument())
        assert number_in(created, "sessions_event_created", "event_id", language, title="Camp 2027") == 17
        waiting = body("sessions_signup_waitlisted", language, title="Nr. 5", session_id=5, position=12)
        assert number_in(waiting, "sessions_signup_waitlisted", "position", language) == 12


def test_no_number_is_read_from_another_message() -> None:
    with pytest.raises(AssertionError):
        number_in(body("reminders_cancelled", id=3), "reminders_created", "id")
