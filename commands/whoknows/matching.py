"""Who knows about a topic: German-aware matching of a question against members' topics (pure; no Matrix, no
database).

A phrase becomes a tuple of *word keys*: Unicode-normalised, case-folded, split at spaces, hyphens, slashes
and the like, stop words dropped, each word stemmed with the Snowball German stemmer (which also folds
umlauts, ``ae``/``oe``/``ue`` and ``ß``), so "OZG-Leistungen", "ozg leistung" and "OZG‑Leistung" are the
same key. Synonyms (shipped in ``synonyms.toml``, extended by moderators) are groups of such keys.

Strengths, strongest first (one number per topic; a member's strength is their best topic's):

- ``EXACT`` — the same key ("OZG-Leistungen" ↔ "OZG-Leistung").
- ``SYNONYM`` — keys of one synonym group ("OZG" ↔ "Onlinezugangsgesetz", "KI" ↔ "Künstliche Intelligenz").
- ``WORDS`` — every word of the one is among the words of the other, a word may stand for a synonym
  ("OZG" ↔ "OZG-Leistung", "Onlinezugangsgesetz" ↔ "OZG-Leistungen", "KI" ↔ "KI in der Verwaltung").
- ``PART`` — a word is part of a compound of the other (at least 4 letters, at its start or end, or
  5 letters anywhere: "Datenschutz" ↔ "Datenschutzbeauftragte", "Gesetz" ↔ "Onlinezugangsgesetz").
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

Key = tuple[str, ...]

_SEPARATORS = re.compile(r"[^\w]+|_")
# Words that say nothing about a topic (German and English); "e" stays: "E-Akte" and "eAkte" differ otherwise.
_STOP_WORDS_TEXT = (
    "der die das den dem des ein eine einer eines einem einen und oder in im ins am an auf aus bei beim "
    "für fuer fur mit nach von vom zu zum zur über ueber uber unter sowie wie als auch "
    "the a an and or of in on for to with at by from"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split(" "))
MIN_PART = 4  # letters a compound part needs at the start or end of a word
MIN_INNER_PART = 5  # letters it needs inside a word ("zugang" in "onlinezugangsgesetz")


class Strength(enum.IntEnum):
    NONE = 0
    PART = 1
    WORDS = 2
    SYNONYM = 3
    EXACT = 4


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Snowball German stem of one (case-folded) word; cached (the stemmer is pure).

    Umlauts are spelled out first ("ü" → "ue"), so both spellings give the same stem whatever the stemmer
    makes of them ("gemeindeübergreifend" and "gemeindeuebergreifend")."""
    stemmed: str = snowballstemmer.stemmer("german").stemWord(word.translate(_UMLAUTS))
    return stemmed.translate(_UMLAUTS)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def words(phrase: str) -> list[str]:
    """The case-folded words of a phrase, split at everything that is not a letter or digit."""
    text = unicodedata.normalize("NFKC", phrase).casefold()
    return [word for word in _SEPARATORS.split(text) if word]


def key(phrase: str) -> Key:
    """The matching key of a phrase: its stemmed words without stop words (all words if only those)."""
    found = words(phrase)
    meaningful = [word for word in found if word not in STOP_WORDS] or found
    return tuple(stem(word) for word in meaningful)


def joined(value: Key) -> str:
    """The key as one compound: "e akt" → "eakt", so "E-Akte" and "eAkte" meet."""
    return "".join(value)


class Synonyms:
    """Groups of keys that mean the same; built from pairs (shipped and moderators') by union."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._group: dict[str, int] = {}
        self._members: dict[int, set[Key]] = {}
        self._next_group = 1
        for left, right in pairs:
            self.add(left, right)

    def add(self, left: str, right: str) -> None:
        a, b = key(left), key(right)
        if not a or not b:
            return
        ga, gb = self._group.get(joined(a)), self._group.get(joined(b))
        if ga is None and gb is None:
            ga, self._next_group = self._next_group, self._next_group + 1
            self._members[ga] = set()
        target = ga if ga is not None else gb
        assert target is not None
        for other in (ga, gb):
            if other is not None and other != target:
                for member in self._members.pop(other):
                    self._group[joined(member)] = target
                    self._members[target].add(member)
        for member in (a, b):
            self._group[joined(member)] = target
            self._members[target].add(member)

    def of(self, value: Key) -> set[Key]:
        """The other keys of ``value``'s group (empty when it has none)."""
        group = self._group.get(joined(value))
        if group is None:
            return set()
        return {member for member in self._members[group] if joined(member) != joined(value)}

    def same(self, a: Key, b: Key) -> bool:
        group = self._group.get(joined(a))
        return group is not None and group == self._group.get(joined(b))


def _word_forms(word: str, synonyms: Synonyms) -> list[Key]:
    """A word and the keys of its synonyms ("ozg" → ("onlinezugangsgesetz",))."""
    return [(word,), *synonyms.of((word,))]


def _covered(needles: Key, haystack: Key, synonyms: Synonyms) -> bool:
    """Every word of ``needles`` (or one of its synonyms, all of whose words) is among ``haystack``'s words
    or the whole compound of ``haystack``."""
    available = set(haystack) | {joined(haystack)}
    return all(
        any(all(part in available for part in form) or joined(form) in available for form in forms)
        for forms in (_word_forms(word, synonyms) for word in needles)
    )


def _part_of(short: str, long: str) -> bool:
    if short == long or len(short) >= len(long):
        return False
    if len(short) >= MIN_PART and (long.startswith(short) or long.endswith(short)):
        return True
    return len(short) >= MIN_INNER_PART and short in long


def _compound_part(a: Key, b: Key, synonyms: Synonyms) -> bool:
    forms_a = {word for w in a for form in _word_forms(w, synonyms) for word in (*form, joined(form))}
    forms_b = {word for w in b for form in _word_forms(w, synonyms) for word in (*form, joined(form))}
    forms_a.add(joined(a))
    forms_b.add(joined(b))
    return any(_part_of(x, y) or _part_of(y, x) for x in forms_a for y in forms_b)


def strength(query: Key, topic: Key, synonyms: Synonyms) -> Strength:
    """How well one topic matches the question (both given as keys)."""
    if not query or not topic:
        return Strength.NONE
    if query == topic or joined(query) == joined(topic):
        return Strength.EXACT
    if synonyms.same(query, topic):
        return Strength.SYNONYM
    if _covered(query, topic, synonyms) or _covered(topic, query, synonyms):
        return Strength.WORDS
    whole = [query, *synonyms.of(query)]
    if any(_covered(form, topic, synonyms) or _covered(topic, form, synonyms) for form in whole[1:]):
        return Strength.WORDS
    if any(_compound_part(form, topic, synonyms) for form in whole):
        return Strength.PART
    return Strength.NONE


@dataclass(frozen=True)
class Profile:
    """What a findable member shows to the matcher."""

    user_id: str
    organisation: str | None
    topics: Sequence[str]


@dataclass(frozen=True)
class Hit:
    user_id: str
    strength: Strength
    topics: tuple[str, ...]  # the matching topics as the member wrote them, best first
    organisation_matches: bool
    same_organisation: bool


def match(question: str, profile: Profile, synonyms: Synonyms) -> Hit | None:
    """The member's best match for the question (their topics and their organisation), or None."""
    query = key(question)
    scored = [(strength(query, key(topic), synonyms), topic) for topic in profile.topics]
    topics = [(s, topic) for s, topic in scored if s > Strength.NONE]
    topics.sort(key=lambda item: -item[0])
    organisation = (
        strength(query, key(profile.organisation), synonyms) if profile.organisation else Strength.NONE
    )
    best = max([organisation, *(s for s, _ in topics)])
    if best == Strength.NONE:
        return None
    return Hit(
        profile.user_id,
        best,
        tuple(topic for _, topic in topics),
        organisation > Strength.NONE,
        same_organisation=False,
    )


def same_organisation(a: str | None, b: str | None) -> bool:
    return bool(a and b) and joined(key(a or "")) == joined(key(b or ""))


def rank(
    question: str,
    asker_organisation: str | None,
    profiles: Iterable[Profile],
    synonyms: Synonyms,
    *,
    limit: int,
) -> list[Hit]:
    """The matching members, best first: match strength, then another organisation than the asker's, then
    more matching topics; ties in a stable order (user id)."""
    hits: list[Hit] = []
    for profile in profiles:
        hit = match(question, profile, synonyms)
        if hit is not None:
            same = same_organisation(asker_organisation, profile.organisation)
            hits.append(
                Hit(hit.user_id, hit.strength, hit.topics, hit.organisation_matches, same_organisation=same)
            )
    hits.sort(key=lambda h: (-h.strength, h.same_organisation, -len(h.topics), h.user_id))
    return hits[:limit]


def shipped_pairs(data: Mapping[str, object]) -> list[tuple[str, str]]:
    """Synonym pairs from the shipped TOML (``groups = [["OZG", "Onlinezugangsgesetz"], …]``)."""
    pairs: list[tuple[str, str]] = []
    groups = data.get("groups", [])
    if not isinstance(groups, list):
        raise ValueError("synonyms: `groups` must be a list of lists of words")
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(word, str) for word in group):
            raise ValueError(f"synonyms: {group!r} is not a list of words")
        pairs.extend((group[0], other) for other in group[1:])
    return pairs
