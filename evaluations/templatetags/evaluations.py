"""The evaluations' parts of other apps' pages, loaded by their templates (``dossiers`` and
``catalogue`` do not import this app): the call to evaluate on a dossier's page and in « Mes
dossiers », the ratings of a formation's page, the link of the Espace organisme."""

from django import template
from django.utils import timezone

from .. import selectors, services
from ..models import Evaluation

register = template.Library()


@register.inclusion_tag("evaluations/_dossier_call.html")
def evaluation_call(dossier):
    """On the dossier's page: « Évaluer ma formation » once it ended, or the evaluation given."""
    ended = services.training_ended(dossier, timezone.localdate())
    evaluation = Evaluation.objects.filter(dossier=dossier).first() if ended else None
    return {"dossier": dossier, "ended": ended, "evaluation": evaluation}


@register.inclusion_tag("evaluations/_awaiting.html")
def evaluations_awaiting(user):
    """In « Mes dossiers »: the finished trainings not evaluated yet (one query)."""
    return {"dossiers": list(services.awaiting(user, timezone.localdate())[:10])}


@register.inclusion_tag("evaluations/_formation.html")
def formation_ratings(formation):
    """On a formation's page: its rating, per criterion, and its published comments."""
    if not formation.rating_count:
        return {"formation": formation, "criteria": [], "comments": []}
    return {
        "formation": formation,
        "criteria": selectors.formation_criteria(formation),
        "comments": list(selectors.published_comments(Evaluation.objects.filter(formation=formation), limit=10)),
    }


@register.inclusion_tag("components/link_tile.html")
def evaluations_tile(organisme):
    """The Espace organisme's tile « Évaluations » (one query)."""
    from django.db.models import Count
    from django.urls import reverse

    count = Evaluation.objects.for_organisme(organisme).aggregate(n=Count("id"))["n"]
    detail = f"{count} évaluation{'s' if count >= 2 else ''} de vos formations" if count else "Aucune évaluation pour l'instant"
    return {"url": reverse("evaluations:organisme"), "title": "Évaluations", "detail": detail, "col": "fr-col-md-3"}
