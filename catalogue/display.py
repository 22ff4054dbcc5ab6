"""How the catalogue reads a formation as a whole, from its actions and open sessions
(display only). A formation has no price nor duration of its own: each action has its own,
and a page about the formation gives the lowest, « à partir de » when they differ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FromValue:
    value: int
    varies: bool  # the other actions or sessions differ: « à partir de »


def price_from(sessions) -> FromValue | None:
    """The price of a formation's open ``sessions``: the lowest, and whether they differ."""
    prices = {session.price_cents for session in sessions}
    return FromValue(min(prices), len(prices) > 1) if prices else None


def duree_label(lowest: int | None, highest: int | None) -> str:
    """« 30 h » when every action lasts as long, « à partir de 30 h » when they differ."""
    if not lowest:
        return ""
    return f"à partir de {lowest} h" if highest and highest != lowest else f"{lowest} h"
