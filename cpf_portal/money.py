"""Euros and cents, in one place. Money is integer cents everywhere (fields end in
``_cents``); a ``Decimal`` of euros exists only between a form and ``to_cents``, and text
only through ``euros``/``amount``. No float on a money path."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"


def to_cents(euros_value: Decimal | int | str) -> int:
    """Euros typed by a person (« 870,5 » parsed to Decimal by the form) → whole cents,
    rounded half up."""
    return int((Decimal(euros_value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_ttc(ttc_cents: int, tva_rate: int) -> tuple[int, int]:
    """(HT, TVA) of a TTC amount at ``tva_rate`` basis points, HT rounded half up to the cent."""
    ht = int((Decimal(ttc_cents) * 10_000 / (10_000 + tva_rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return ht, ttc_cents - ht


def from_cents(cents: int) -> Decimal:
    """Cents → a Decimal of euros with two places (a form's initial value)."""
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def amount(cents: int) -> str:
    """« 1234,56 »: two decimals and a comma, no grouping, no sign of the currency (CSV)."""
    return f"{from_cents(cents)}".replace(".", ",")


def euros(cents) -> str:
    """Integer cents → « 1 234,56 € » (narrow no-break spaces, French style)."""
    if cents is None or cents == "":
        return ""
    value = from_cents(cents)
    sign = "−" if value < 0 else ""
    integer, _, decimals = f"{abs(value):.2f}".partition(".")
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    return sign + NARROW_NBSP.join(groups) + "," + decimals + NBSP + "€"
