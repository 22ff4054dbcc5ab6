"""A small server-rendered SVG chart of the available rights over time (no JavaScript, no
CDN), and the same figures as a table (its accessible alternative).

The rule: one point per day that has movements, the balance at the end of that day (two
movements the same day give one point, after both); the line holds that balance until the
next point, up to today."""

from __future__ import annotations

import datetime
from itertools import groupby

from django.utils import timezone

from cpf_portal.money import euros

WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 16, 40
STEPS = [1, 2, 2.5, 5, 10]


def daily_points(running: list[tuple[datetime.datetime, int]]) -> list[tuple[datetime.date, int]]:
    """(day, balance at the end of that day) from (moment, balance after that movement),
    oldest first; days are the local (Europe/Paris) calendar days."""
    return [(day, list(rows)[-1][1]) for day, rows in groupby(running, key=lambda row: timezone.localdate(row[0]))]


def nice_top(value: int) -> int:
    """The smallest round amount (1, 2, 2,5 or 5 × 10ⁿ euros) at or above ``value`` cents, so
    the axis reads « 1 500 € » and not « 1 362,50 € »."""
    if value <= 0:
        return 10_000
    amount = value / 100
    magnitude = 10 ** (len(str(int(amount))) - 1)
    for step in STEPS:
        if step * magnitude >= amount:
            return int(step * magnitude * 100)
    return int(10 * magnitude * 100)


def axis_label(cents: int) -> str:
    """« 1 500 € »: round amounts without their cents, short enough to read at 390 px."""
    return euros(cents).replace(",00", "")


def balance_chart(running: list[tuple[datetime.datetime, int]], today: datetime.date | None = None) -> dict | None:
    """running: (moment, available balance in cents after that movement), oldest first."""
    points = daily_points(running)
    if not points:
        return None
    today = max(today or timezone.localdate(), points[-1][0])
    start = points[0][0]
    span = max((today - start).days, 1)
    values = [value for _, value in points]
    top_value = nice_top(max(values))
    low_value = min(0, min(values))
    if low_value < 0:
        low_value = -nice_top(-low_value)
    value_span = top_value - low_value

    def x(day: datetime.date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * ((day - start).days / span if today > start else 1)

    def y(value: int) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low_value) / value_span)

    # A step line: each day's closing balance holds until the next day with movements.
    coordinates = [(x(start), y(0))]
    previous = 0
    for day, value in points:
        coordinates += [(x(day), y(previous)), (x(day), y(value))]
        previous = value
    coordinates.append((x(today), y(previous)))
    ticks = [(y(value), axis_label(value)) for value in sorted({low_value, 0, top_value // 2, top_value})]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "polyline": " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates),
        "dots": [(round(x(day), 1), round(y(value), 1)) for day, value in points],
        "ticks": ticks,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": HEIGHT - BOTTOM,
        "start": start,
        "end": today,
        "last": values[-1],
        "points": list(reversed(points)),  # the table: newest first
    }
