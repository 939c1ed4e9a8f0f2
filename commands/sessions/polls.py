"""Native Matrix polls (MSC3381) over an event's proposals: building the poll content, reading responses.

Pure: no Matrix, no database. A poll is sent as ``org.matrix.msc3381.poll.start`` (the type Element's clients
show today) whose content carries both the unstable block and the stable ``m.poll`` block of the merged
spec, with a text fallback for clients without polls. Responses come as ``m.poll.response`` (stable:
``m.selections``) or ``org.matrix.msc3381.poll.response`` (unstable: ``answers``); a member's latest response
replaces their earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ANSWERS = 20
POLL_START_TYPE = "org.matrix.msc3381.poll.start"
RESPONSE_TYPES = ("m.poll.response", "org.matrix.msc3381.poll.response")
_UNSTABLE = "org.matrix.msc3381.poll"
_TEXT = "org.matrix.msc1767.text"
MAX_ANSWER_TEXT = 120


def chunks(items: Sequence[T], size: int = MAX_ANSWERS) -> list[list[T]]:
    """``items`` in polls of at most ``size`` answers, as evenly filled as possible (23 → 12 + 11)."""
    if not items:
        return []
    count = -(-len(items) // size)
    base, extra = divmod(len(items), count)
    result: list[list[T]] = []
    start = 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        result.append(list(items[start:end]))
        start = end
    return result


def answer_id(session_id: int) -> str:
    return f"session-{session_id}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ANSWER_TEXT else text[: MAX_ANSWER_TEXT - 1] + "…"


def poll_content(question: str, answers: Sequence[tuple[str, str]], fallback: str) -> dict[str, Any]:
    """The content of a poll start: ``answers`` are (answer id, text); any number of them may be chosen.

    Disclosed: members see the counts while voting, as ``!session <Nr.>`` shows them (never who)."""
    texts = [(answer, _short(text)) for answer, text in answers]
    return {
        f"{_UNSTABLE}.start": {
            "question": {_TEXT: question, "body": question},
            "kind": f"{_UNSTABLE}.disclosed",
            "max_selections": len(texts),
            "answers": [{"id": answer, _TEXT: text} for answer, text in texts],
        },
        _TEXT: fallback,
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": len(texts),
            "question": {"m.text": [{"body": question}]},
            "answers": [{"m.id": answer, "m.text": [{"body": text}]} for answer, text in texts],
        },
        "m.text": [{"body": fallback}],
        "body": fallback,
        "msgtype": "m.text",
    }


def selections(content: dict[str, Any]) -> list[str] | None:
    """The answer ids of a poll response (stable or unstable); None if it is not a poll response.

    An empty list is a valid response: the member took every answer back."""
    stable = content.get("m.selections")
    if isinstance(stable, list):
        return [str(answer) for answer in stable if isinstance(answer, str)]
    for key in ("m.poll.response", f"{_UNSTABLE}.response"):
        block = content.get(key)
        if isinstance(block, dict) and isinstance(block.get("answers"), list):
            return [str(answer) for answer in block["answers"] if isinstance(answer, str)]
    return None
