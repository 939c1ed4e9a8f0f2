"""The ``[whoknows]`` section of the configuration."""

from __future__ import annotations

from pydantic import Field

from bot.config import Section


class WhoKnowsConfig(Section):
    # Searches (!wer-kennt) a member may run per hour.
    searches_per_hour: int = Field(default=5, ge=1)
    # Introductions (!vorstellen) a member may ask for per day.
    introductions_per_day: int = Field(default=3, ge=1)
    # How long the found person has to answer; then the asker gets the neutral note.
    answer_days: int = Field(default=3, ge=1)
    # Overrides answer_days when set (tests and demos: a few seconds).
    answer_seconds: int | None = Field(default=None, ge=1)
    # Within this period a person is asked at most once per asker and topic.
    ask_again_days: int = Field(default=90, ge=1)
    # How many people a search shows at most.
    max_results: int = Field(default=10, ge=1, le=50)
    # How long the numbers of a result list stay valid for !vorstellen.
    list_valid_hours: int = Field(default=24, ge=1)

    @property
    def answer_seconds_effective(self) -> int:
        return self.answer_seconds if self.answer_seconds is not None else self.answer_days * 86400
