"""Short answers to a yes/no question, as people type them in a chat: "Ja, gerne!", "nö", "not yet", 👍.

Pure language handling (no Matrix, no database, no feature): features that asked a question read a plain
reply with :func:`classify_answer` and decide themselves what a yes, a no or a "not yet" means.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from bot.framework import fold


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_YET = "not_yet"


# Only the start of a message is read: a long message that merely contains "ja" somewhere is chat, not an
# answer, unless a signal comes early.
WORDS_READ = 10
# A message that is not a reply to the question counts as an answer only when it is this short ("ja",
# "nein danke", "Ja, gerne!"): "Ja, ich wollte nach dem Barcamp fragen" is something else.
SHORT_ANSWER_WORDS = 3

# Phrases by what they mean, spelled after fold() (casefolded, ä → ae …). At each word the longest phrase
# that starts there wins, so "haben wir nicht" is a no although "haben wir" is a yes, and "warum nicht" a yes
# although "nicht" is a no.
_NOT_YET = (
    "noch nicht", "noch nich", "not yet", "nicht yet", "spaeter", "later", "bald", "demnaechst",
    "soon", "⏳", "⌛", "noch keine zeit", "noch kein termin", "steht noch aus", "still to come",
    "noch nicht getroffen", "not met yet", "haven't met yet", "havent met yet", "not yet met",
    "ist geplant", "is planned", "geplant", "planned", "scheduled", "verabredet",
)  # fmt: skip
_NO = (
    "nein", "n", "nee", "ne", "noe", "nö", "no", "nope", "nah", "nicht", "not", "nie", "never", "kein",
    "keine", "lieber nicht", "leider nicht", "eher nicht", "haben wir nicht", "hat nicht geklappt",
    "nicht geklappt", "didn't", "didnt", "did not", "we didn't", "we did not", "no thanks", "no thank you",
    "nein danke", "👎", "❌", "✖", "🙅", "ablehnen", "decline",
)  # fmt: skip
_YES = (
    "ja", "j", "y", "jo", "joa", "jap", "jep", "jup", "japp", "jawohl", "jaja", "ok", "okay", "oki", "okey",
    "klar", "na klar", "gerne", "gern", "sicher", "sicherlich", "natuerlich", "selbstverstaendlich",
    "einverstanden", "passt", "gut", "prima", "super", "auf jeden fall", "unbedingt", "genau", "absolut",
    "haben wir", "hat geklappt", "getroffen", "warum nicht", "kein problem", "yes", "yeah", "yea", "yep",
    "yup", "sure", "of course", "certainly", "absolutely", "definitely", "fine", "why not",
    "no problem", "we did", "did", "met", "we met", "agreed", "👍", "✅", "✔", "👌",
    "ich bin dabei", "i'm in", "im in", "gladly",
)  # fmt: skip
# A hedge before any signal: the answer is not clear enough to act on.
_UNSURE = ("vielleicht", "evtl", "eventuell", "weiss nicht", "weiss noch nicht", "maybe", "perhaps",
           "not sure", "jein", "mal sehen", "i don't know", "dont know", "🤷")  # fmt: skip

_PHRASES: dict[tuple[str, ...], YesNo | None] = {}
for _meaning, _phrases in ((YesNo.YES, _YES), (YesNo.NO, _NO), (YesNo.NOT_YET, _NOT_YET), (None, _UNSURE)):
    for _phrase in _phrases:
        _PHRASES[tuple(fold(_phrase).split())] = _meaning
_LONGEST = max(len(phrase) for phrase in _PHRASES)

# Skin tones and the emoji variation selector do not change what a 👍 means.
_MODIFIERS = re.compile("[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
# Words (with inner apostrophes: "didn't") or single symbols (emoji); punctuation is dropped below.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The message as folded words and emoji, without punctuation: "Ja, gerne!" → ["ja", "gerne"]."""
    cleaned = _MODIFIERS.sub("", unicodedata.normalize("NFC", text))
    tokens = []
    for token in _TOKEN.findall(cleaned):
        if len(token) == 1 and unicodedata.category(token).startswith("P"):
            continue
        tokens.append(fold(token.replace("’", "'")))
    return tokens


def classify_answer(text: str) -> YesNo | None:
    """What a short chat answer to a yes/no question means, or None when it is unclear.

    "Not yet" anywhere in the words read wins ("nein, noch nicht" is a not-yet); otherwise the first yes or
    no phrase decides ("ja klar, warum nicht" is a yes). A hedge ("vielleicht") before that is unclear."""
    words = words_of(text)[:WORDS_READ]
    found: list[YesNo | None] = []
    index = 0
    while index < len(words):
        for length in range(min(_LONGEST, len(words) - index), 0, -1):
            phrase = tuple(words[index : index + length])
            if phrase in _PHRASES:
                found.append(_PHRASES[phrase])
                index += length
                break
        else:
            index += 1
    if YesNo.NOT_YET in found:
        return YesNo.NOT_YET
    return found[0] if found else None


def classify_short_answer(text: str) -> YesNo | None:
    """:func:`classify_answer` for a message that is not a reply: None unless it has at most
    ``SHORT_ANSWER_WORDS`` words."""
    return classify_answer(text) if len(words_of(text)) <= SHORT_ANSWER_WORDS else None
