"""Verwaltungsbingo: a people-bingo networking game played in a chat room."""
