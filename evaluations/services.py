"""Evaluation writes and the rules on who may evaluate what, when.

A dossier's training may be evaluated by its titulaire, once, when it has ended: the
organisme declared the exit (« Sortie de formation / service fait », then « Débité »), or the
session's last day passed while the dossier is « En formation » (the organisme has not
declared the exit yet; the titulaire knows the training is over). A training refused at the
control (no training found), cancelled or never started is not evaluated.

The formation's rating (``Formation.rating_average`` / ``rating_count``) is recomputed
exactly from its evaluations in the transaction that writes one, under a lock on the
formation row, so two evaluations at once never lose one another; a trigger copies it to the
search index. Moderation only ever touches the comment: the stars count from the start."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Formation
from cpf_portal.errors import ConflictError, UserFacingError
from dossiers.models import Dossier
from dossiers.states import Status
from notifications.models import Notification
from notifications.services import email_queue, notify_from_template

from .models import CRITERIA_FIELDS, Evaluation, Moderation

EXITED = (Status.SERVICE_DONE, Status.DEBITED)
ASK_TEMPLATE = "evaluations/emails/ask"
# The in-app notice: its own words, without the address (the notice is the link).
ASK_NOTICE_TEMPLATE = "evaluations/notifications/ask"
COMMENT_MAX_LENGTH = 2000


class EvaluationError(UserFacingError):
    """The evaluation is refused (not ended, not confirmed…): the message is shown (400)."""


class AlreadyEvaluated(ConflictError):
    """A second evaluation of the same dossier (409)."""

    def __init__(self):
        super().__init__("Vous avez déjà évalué cette formation : une formation s'évalue une seule fois par dossier.")


def training_ended(dossier: Dossier, today: datetime.date) -> bool:
    """Has the dossier's training ended (for its titulaire to evaluate it)?"""
    if dossier.status in EXITED:
        return True
    end = dossier.effective_end_date
    return dossier.status == Status.IN_TRAINING and end is not None and end < today


def not_ended_reason(dossier: Dossier) -> str:
    if dossier.status == Status.IN_TRAINING:
        end = dossier.effective_end_date
        when = f" le {end:%d/%m/%Y}" if end else ""
        return f"Vous pourrez évaluer cette formation une fois terminée : sa dernière journée est prévue{when}."
    if dossier.status in (Status.DRAFT, Status.SENT, Status.PROPOSED, Status.ACCEPTED):
        return "Vous pourrez évaluer cette formation une fois terminée."
    return "Seule une formation suivie s'évalue : ce dossier ne permet pas d'évaluation."


def awaiting(titulaire, today: datetime.date):
    """The titulaire's dossiers whose training ended and is not evaluated yet (« Mes dossiers »)."""
    end = Q(proposed_end_date__lt=today) | Q(proposed_end_date__isnull=True, end_date__lt=today)
    return (
        Dossier.objects.for_titulaire(titulaire)
        .filter(Q(status__in=EXITED) | (Q(status=Status.IN_TRAINING) & end))
        .filter(evaluation__isnull=True)
        .select_related("formation")
        .order_by("-created_at", "-id")
    )


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / (len(CRITERIA_FIELDS) * count)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def formation_rating_refresh(formation_id: int) -> Formation:
    """The formation's rating, recomputed from its evaluations (caller holds the formation's lock)."""
    stars = sum((F(name) for name in CRITERIA_FIELDS[1:]), F(CRITERIA_FIELDS[0]))
    found = Evaluation.objects.filter(formation_id=formation_id).aggregate(count=Count("id"), total=Sum(stars))
    count, total = found["count"], found["total"] or 0
    Formation.objects.filter(pk=formation_id).update(rating_average=_average(total, count), rating_count=count)
    return Formation.objects.get(pk=formation_id)


def evaluation_create(
    *, dossier: Dossier, by, scores: dict[str, int], comment: str = "", training_confirmed: bool, now: datetime.datetime | None = None
) -> Evaluation:
    """The titulaire's evaluation of his dossier's training; the formation's rating follows."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
        if by is None or by.pk != dossier.titulaire_id:
            raise EvaluationError("Seul le titulaire du dossier peut évaluer cette formation.")
        if Evaluation.objects.filter(dossier=dossier).exists():
            raise AlreadyEvaluated()
        if not training_ended(dossier, timezone.localdate(now)):
            raise EvaluationError(not_ended_reason(dossier))
        if not training_confirmed:
            raise EvaluationError("Confirmez que vous avez suivi cette formation pour l'évaluer.")
        if set(scores) != set(CRITERIA_FIELDS) or any(scores[name] not in range(1, 6) for name in CRITERIA_FIELDS):
            raise EvaluationError("Donnez de 1 à 5 étoiles à chacun des critères.")
        if len(comment) > COMMENT_MAX_LENGTH:
            raise EvaluationError(f"Votre commentaire dépasse {COMMENT_MAX_LENGTH} caractères.")
        # The formation's lock orders the evaluations of one formation: each recomputation
        # sees the ones committed before it.
        Formation.objects.select_for_update().filter(pk=dossier.formation_id).values_list("pk").get()
        evaluation = Evaluation(
            dossier=dossier,
            formation_id=dossier.formation_id,
            organisme_id=dossier.organisme_id,
            training_confirmed=True,
            comment=comment,
            moderation=Moderation.PENDING if comment else Moderation.NONE,
            created_at=now,
            **{name: scores[name] for name in CRITERIA_FIELDS},
        )
        evaluation.full_clean(exclude=["dossier", "formation", "organisme"])
        try:
            with transaction.atomic():
                evaluation.save()
        except IntegrityError:  # the same form sent twice at once: the one-to-one decided
            raise AlreadyEvaluated() from None
        formation_rating_refresh(dossier.formation_id)
    return evaluation


@transaction.atomic
def evaluation_moderate(*, evaluation_id: int, by, publish: bool, reason: str = "", now: datetime.datetime | None = None) -> Evaluation:
    """An operator publishes or refuses (with a reason) an evaluation's comment; the stars
    are not touched."""
    if by is None or not by.is_staff:
        raise EvaluationError("La modération est réservée aux opérateurs.")
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation_id)
    if evaluation.moderation == Moderation.NONE:
        raise EvaluationError("Cette évaluation n'a pas de commentaire à modérer.")
    reason = (reason or "").strip()
    if not publish and not reason:
        raise EvaluationError("Indiquez le motif du refus.")
    evaluation.moderation = Moderation.PUBLISHED if publish else Moderation.REFUSED
    evaluation.refusal_reason = "" if publish else reason
    evaluation.moderated_by = by
    evaluation.moderated_at = now or timezone.now()
    evaluation.save(update_fields=["moderation", "refusal_reason", "moderated_by", "moderated_at"])
    return evaluation


def erase_for(user) -> int:
    """« Mes données »: the titulaire's comments go; the stars stay in the formations'
    ratings, tied to the dossier whose titulaire is anonymised."""
    return (
        Evaluation.objects.filter(dossier__titulaire=user)
        .exclude(moderation=Moderation.NONE)
        .update(comment="", moderation=Moderation.NONE, refusal_reason="", moderated_by=None, moderated_at=None)
    )


# --- Asking the titulaire ------------------------------------------------------------------------


def _ask_key(dossier_id: int) -> str:
    return f"evaluation:ask:{dossier_id}"


def evaluation_ask(dossier: Dossier, *, now: datetime.datetime | None = None) -> bool:
    """Ask the titulaire to evaluate his training (« Mes notifications » and an e-mail), once
    per dossier whatever calls this; inside the caller's transaction. True when asked now.
    ``now``: the moment the training was known to be over (the notice's date)."""
    url = reverse("evaluations:evaluate", args=[dossier.numero])
    context = {"numero": dossier.numero, "intitule": dossier.formation.intitule, "organisme": dossier.organisme.raison_sociale, "url": url}
    notice = notify_from_template(
        user=dossier.titulaire, template=ASK_NOTICE_TEMPLATE, context=context, url=url, dedup_key=_ask_key(dossier.pk), now=now
    )
    if notice is None:
        return False
    if dossier.titulaire.email:
        email_queue(
            to=dossier.titulaire.email, user=dossier.titulaire, template=ASK_TEMPLATE, context=context, dedup_key=f"{_ask_key(dossier.pk)}:email"
        )
    return True


def ask_ended_trainings(*, today: datetime.date | None = None, batch: int = 500) -> int:
    """The sessions whose last day passed while the dossier is « En formation » (the
    organisme has not declared the exit yet): their titulaires are asked, once each. The exit
    declaration asks at once (``signals``)."""
    today = today or timezone.localdate()
    asked = Notification.objects.filter(dedup_key=Concat(Value("evaluation:ask:"), Cast(OuterRef("pk"), output_field=CharField())))
    due = (
        Dossier.objects.filter(status=Status.IN_TRAINING)
        .filter(Q(proposed_end_date__lt=today) | Q(proposed_end_date__isnull=True, end_date__lt=today))
        .filter(evaluation__isnull=True)
        .exclude(Exists(asked))
        .select_related("titulaire", "formation", "organisme")
        .order_by("id")
    )
    count = 0
    with transaction.atomic():
        for dossier in due[:batch]:
            count += evaluation_ask(dossier)
    return count
