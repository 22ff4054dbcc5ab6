"""Jours ouvrés: Monday to Friday except French public holidays (the `holidays` package,
metropolitan calendar). A deadline of N jours ouvrés counts from the day after the event
and ends at midnight, Paris time, at the end of the N-th working day."""

from __future__ import annotations

import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.France(years=[year], language="fr"))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
    current = day
    remaining = count
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def subtract_working_days(day: datetime.date, count: int) -> datetime.date:
    current = day
    remaining = count
    while remaining > 0:
        current -= datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after ``start`` up to ``end`` included (0 when end ≤ start)."""
    count, current = 0, start
    while current < end:
        current += datetime.timedelta(days=1)
        count += is_working_day(current)
    return count


def deadline_after(moment: datetime.datetime, working_days: int) -> datetime.datetime:
    """End (midnight, Paris) of the ``working_days``-th working day after ``moment``."""
    local_day = moment.astimezone(PARIS).date()
    last_day = add_working_days(local_day, working_days)
    return datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=PARIS)
