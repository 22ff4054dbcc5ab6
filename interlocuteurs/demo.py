"""Demo data of « Demander un financement complémentaire » (`make run`): two demo titulaires
chose the demo conseiller's structure; one request waits for his answer, one was granted."""

from __future__ import annotations

from accounts.models import User
from dossiers.models import Dossier
from dossiers.states import Status

from .models import CofinancingRequest
from .services import cofinancing_grant, cofinancing_request_create

WAITING = "lea.petit@cpf-demo.example"


def load(conseiller: User) -> str:
    """Idempotent: nothing is added once a demo request exists. Returns a one-line report."""
    if CofinancingRequest.objects.filter(structure=conseiller.structure).exists():
        return "déjà présentes"
    demo = Dossier.objects.filter(titulaire__email__endswith="@cpf-demo.example", status=Status.SENT).select_related("titulaire")
    waiting = demo.filter(titulaire__email=WAITING).order_by("pk").first()
    granted = demo.filter(formation__numero__endswith="_ANGLAIS-C1").order_by("pk").first()
    if waiting is None or granted is None:
        return "aucune (dossiers de démonstration absents)"
    for dossier in (waiting, granted):
        User.objects.filter(pk=dossier.titulaire_id).update(interlocuteur=conseiller.structure)
        dossier.titulaire.refresh_from_db()
    cofinancing_request_create(
        dossier=waiting,
        by=waiting.titulaire,
        message="Je suis inscrite à France Travail depuis le mois dernier : pouvez-vous financer ce qui reste à ma charge ?",
    )
    answered = cofinancing_request_create(
        dossier=granted,
        by=granted.titulaire,
        amount_cents=50_000,
        message="Cet anglais avancé est demandé pour le poste de responsable export que je vise.",
    )
    cofinancing_grant(cofinancing=answered, by=conseiller, amount_cents=50_000)
    pending = CofinancingRequest.objects.filter(structure=conseiller.structure).waiting().count()
    return f"{pending} en attente (dossier n° {waiting.numero}), 1 accordée (dossier n° {granted.numero})"
