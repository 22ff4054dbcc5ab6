"""A small server-rendered SVG chart of the available rights over time (no JavaScript, no
CDN). The history table next to it is the accessible equivalent."""

from __future__ import annotations

import datetime

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 32


def balance_chart(points: list[tuple[datetime.datetime, int]]) -> dict | None:
    """points: (date, balance in cents after that movement), oldest first."""
    if not points:
        return None
    dates = [point[0] for point in points]
    values = [point[1] for point in points]
    start, end = dates[0], dates[-1]
    span = max((end - start).total_seconds(), 1.0)
    top_value = max(max(values), 1)
    low_value = min(0, min(values))
    value_span = top_value - low_value or 1

    def x(when):
        return LEFT + (WIDTH - LEFT - RIGHT) * ((when - start).total_seconds() / span if len(points) > 1 else 1)

    def y(value):
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low_value) / value_span)

    # A step line: the balance holds until the next movement.
    coordinates = [(LEFT, y(0))]
    previous = 0
    for when, value in points:
        coordinates.append((x(when), y(previous)))
        coordinates.append((x(when), y(value)))
        previous = value
    coordinates.append((WIDTH - RIGHT, y(previous)))
    ticks = [(y(value), value) for value in sorted({low_value, 0, top_value // 2, top_value})]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "polyline": " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates),
        "ticks": ticks,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": HEIGHT - BOTTOM,
        "start": start,
        "end": end,
        "last": values[-1],
    }
