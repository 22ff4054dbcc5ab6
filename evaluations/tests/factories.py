"""Evaluations given through the real service (the formation's rating stays true)."""

from dossiers.tests import factories as f
from dossiers.workflow import Status
from evaluations import services
from evaluations.models import CRITERIA_FIELDS


def scores(*values) -> dict[str, int]:
    """``scores(5)``: 5 stars everywhere; ``scores(5, 4, 3, 2, 1)``: per criterion."""
    values = values * len(CRITERIA_FIELDS) if len(values) == 1 else values
    return dict(zip(CRITERIA_FIELDS, values, strict=True))


def finished(titulaire, session, organisme_user, status=Status.SERVICE_DONE):
    return f.dossier_in(status, titulaire=titulaire, session=session, organisme_user=organisme_user)


def evaluate(dossier, *stars, comment=""):
    return services.evaluation_create(dossier=dossier, by=dossier.titulaire, scores=scores(*stars), comment=comment, training_confirmed=True)
