"""Reads of the ratings: per criterion for a formation's page, per formation for the
organisme's space. Never a titulaire's identity."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q

from .models import CRITERIA, CRITERIA_FIELDS, Evaluation, Moderation


def one_decimal(value) -> str:
    """« 4,3 » (half up), « — » for no value."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal('0.1'), ROUND_HALF_UP)}".replace(".", ",")


def _averages() -> dict:
    return {f"avg_{name}": Avg(name) for name in CRITERIA_FIELDS}


def criteria(row: dict) -> list[tuple[str, str, float]]:
    """(label, « 4,3 », value for the bar) per criterion of an aggregate row."""
    return [(label, one_decimal(row[f"avg_{name}"]), float(row[f"avg_{name}"] or 0)) for name, label, _ in CRITERIA]


def formation_criteria(formation) -> list[tuple[str, str, float]]:
    """Per criterion averages of one formation (one query)."""
    return criteria(Evaluation.objects.filter(formation=formation).aggregate(**_averages()))


def published_comments(queryset, limit: int | None = None):
    comments = queryset.published().order_by("-created_at", "-id")
    return comments[:limit] if limit else comments


def organisme_formations(organisme):
    """One row per evaluated formation of the organisme: its numbers and averages."""
    return (
        Evaluation.objects.for_organisme(organisme)
        .values("formation_id", "formation__numero", "formation__intitule", "formation__rating_average")
        .annotate(
            count=Count("id"),
            published=Count("id", filter=Q(moderation=Moderation.PUBLISHED)),
            pending=Count("id", filter=Q(moderation=Moderation.PENDING)),
            **_averages(),
        )
        .order_by("formation__intitule", "formation_id")
    )
