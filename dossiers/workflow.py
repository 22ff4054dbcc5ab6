"""The dossier's life: one declared table of states and transitions.

Each transition names its sources, its target, who may fire it, its guard (raises with a
French message) and its effect (database writes only: ledger movements, deadlines,
notification rows; e-mails leave after commit). ``dossiers.services.dossier_transition`` is
the one entry point that runs them, under a row lock, in one transaction, with a history
row. No other code writes ``Dossier.status``.

Labels and delays follow docs/regles.md §6 (EDOF / Wedof states, CGU delays).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from accounts.models import EmploymentStatus, Role
from catalogue.models import Session
from cpf_portal.money import euros
from financing.models import DatedRule
from financing.services import THIRD_PARTY_FINANCEURS, rule_on

from . import billing, deadlines, money
from .states import Actor, ControlState, DossierError, ExitReason, Status, TransitionNotAllowed

if TYPE_CHECKING:
    from .models import Dossier

__all__ = ["TRANSITIONS", "Actor", "DossierError", "ExitReason", "Status", "TransitionNotAllowed", "available_transitions", "check"]


@dataclass
class Context:
    dossier: Dossier
    transition: Transition
    actor: Actor
    by: object  # the User, None for the system
    payload: dict
    now: datetime.datetime = field(default_factory=timezone.now)
    comment: str = ""
    notifications: list = field(default_factory=list)

    @property
    def today(self) -> datetime.date:
        return timezone.localdate(self.now)


@dataclass(frozen=True)
class Transition:
    """``precondition``: may it run now, whatever the input (a deadline); ``guard``: is the
    input acceptable; ``effect``: the database writes."""

    name: str
    sources: frozenset
    target: Status
    actors: frozenset
    label: str
    guard: Callable[[Context], None] | None = None
    effect: Callable[[Context], None] | None = None
    precondition: Callable[[Context], None] | None = None


def delay(name: str) -> int:
    """A delay in jours ouvrés, from settings (defaults of docs/regles.md)."""
    return getattr(settings, name)


# --- Guards ------------------------------------------------------------------------------------


def guard_send(ctx: Context) -> None:
    dossier = ctx.dossier
    if dossier.info_validated_at is None:
        raise DossierError("Validez d'abord vos informations.")
    session = Session.objects.select_related("formation__organisme").get(pk=dossier.session_id)
    if refusal := session.registration_refusal(ctx.today):
        raise DossierError(refusal)
    if refusal := bilan_refusal(dossier, ctx.now):
        raise DossierError(refusal)
    if refusal := permis_refusal(dossier, ctx.today):
        raise DossierError(refusal)
    if not ctx.payload.get("consent"):
        raise DossierError("Cochez la case pour accepter le financement de votre formation.")


# A bilan de compétences is financed when one of its kind was not within the last years.
FINANCED = [Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_DONE, Status.DEBITED, Status.CANCELLED_NOT_REALIZED]


def bilan_refusal(dossier, now: datetime.datetime) -> str:
    """Why the CPF cannot finance this bilan de compétences (« » when it can, or when the
    dossier is not a bilan): too short, or another one financed within the last years."""
    from .models import Dossier

    certification = dossier.formation.certification
    if certification is None or certification.type != "BILAN":
        return ""
    today = timezone.localdate(now)
    hours, minimum = dossier.effective_duree_heures, rule_on(DatedRule.Key.BILAN_MIN_HOURS, today)
    if minimum and hours < minimum:
        return f"Un bilan de compétences financé par le CPF dure au moins {minimum} heures (celui-ci : {hours} h)."
    years = rule_on(DatedRule.Key.BILAN_EVERY_YEARS, today)
    if not years:
        return ""
    every = relativedelta(years=years)
    previous = (
        Dossier.objects.filter(
            titulaire_id=dossier.titulaire_id, formation__certification__type="BILAN", status__in=FINANCED, accepted_at__gt=now - every
        )
        .exclude(pk=dossier.pk)
        .order_by("-accepted_at")
        .first()
    )
    if previous:
        possible = timezone.localdate(previous.accepted_at + every)
        return (
            f"Le CPF finance un bilan de compétences tous les {years} ans : votre bilan du dossier n° {previous.numero} "
            f"a été accepté le {timezone.localdate(previous.accepted_at):%d/%m/%Y}. Un nouveau bilan pourra être financé à partir du {possible:%d/%m/%Y}."
        )
    return ""


def permis_refusal(dossier, today: datetime.date) -> str:
    """Why the CPF cannot finance this permis de conduire (« » when it can, or when the dossier
    is not a permis): a salarié needs a third party's co-financing of at least the amount in
    force; a jobseeker does not."""
    certification = dossier.formation.certification
    if certification is None or certification.type != "PERMIS":
        return ""
    minimum = rule_on(DatedRule.Key.PERMIS_MIN_COFINANCING, today)
    if not minimum or dossier.employment_status == EmploymentStatus.DEMANDEUR_EMPLOI:
        return ""
    cofinanced = sum(a.amount_cents for a in dossier.abondements.all() if a.financeur in THIRD_PARTY_FINANCEURS)
    if cofinanced >= minimum:
        return ""
    declared = f"Cofinancement déclaré à ce jour : {euros(cofinanced)}. " if cofinanced else ""
    return (
        f"Le CPF ne finance un permis de conduire que pour un demandeur d'emploi, ou avec un cofinancement d'au moins "
        f"{euros(minimum)} par un tiers : votre employeur, France Travail, votre région ou un OPCO. {declared}"
        "Déclarez ce cofinancement dans « Un cofinancement pour cette formation ? » pour envoyer votre dossier."
    )


def guard_propose(ctx: Context) -> None:
    start, end = ctx.payload["start_date"], ctx.payload["end_date"]
    earliest = deadlines.add_working_days(ctx.today, delay("DOSSIER_MIN_START_WORKING_DAYS"))
    if start < earliest:
        raise DossierError(
            f"La formation ne peut pas commencer avant le {earliest:%d/%m/%Y} "
            f"({delay('DOSSIER_MIN_START_WORKING_DAYS')} jours ouvrés après votre proposition)."
        )
    if end < start:
        raise DossierError("La date de fin doit suivre la date de début.")
    if ctx.payload["price_cents"] < 0 or ctx.payload["duree_heures"] <= 0:
        raise DossierError("Le prix ne peut pas être négatif et la durée doit être positive.")


def guard_reason(ctx: Context) -> None:
    if not (ctx.payload.get("reason") or "").strip():
        raise DossierError("Indiquez le motif.")


def guard_acknowledge(ctx: Context) -> None:
    if not ctx.dossier.with_prerequisites:
        raise DossierError("Cette formation n'a pas de prérequis : répondez à la demande dans le délai de 2 jours ouvrés.")
    if ctx.dossier.acknowledged_at is not None:
        raise DossierError("Vous avez déjà accusé réception de cette demande.")


def guard_before_deadline(ctx: Context) -> None:
    if ctx.dossier.deadline_at and ctx.now > ctx.dossier.deadline_at:
        raise DossierError("Le délai pour répondre à cette proposition est dépassé.")


def guard_accept(ctx: Context) -> None:
    dossier = ctx.dossier
    payment = ctx.payload.get("payment")
    card = dossier.reste_a_payer_cents - dossier.avoir_cents  # the avoirs pay first
    if card and (payment is None or payment.status != "succeeded" or payment.amount_cents != card):
        raise DossierError("Le reste à payer doit être réglé par carte avant d'accepter.")


def guard_titulaire_cancel(ctx: Context) -> None:
    start = ctx.dossier.effective_start_date
    if start and start <= ctx.today:
        raise DossierError("La formation a commencé : l'annulation n'est plus possible, adressez-vous à l'organisme.")


def guard_started(ctx: Context) -> None:
    start = ctx.dossier.effective_start_date
    if start and ctx.today < start:
        raise DossierError(f"L'absence du titulaire se déclare à partir du premier jour de la session ({start:%d/%m/%Y}).")


def guard_enter(ctx: Context) -> None:
    start = ctx.dossier.effective_start_date
    if start and ctx.today < start:
        raise DossierError(f"L'entrée en formation se déclare à partir du premier jour de la session ({start:%d/%m/%Y}).")


def guard_service_done(ctx: Context) -> None:
    rate, exit_date = ctx.payload["completion_rate"], ctx.payload["exit_date"]
    if not 0 <= rate <= 100:
        raise DossierError("Le taux de réalisation est compris entre 0 et 100 %.")
    if exit_date > ctx.today:
        raise DossierError("La date de sortie ne peut pas être dans le futur.")
    entered = timezone.localdate(ctx.dossier.entered_at) if ctx.dossier.entered_at else None
    if entered and exit_date < entered:
        raise DossierError("La date de sortie ne peut pas précéder l'entrée en formation.")
    end = ctx.dossier.effective_end_date
    if end and exit_date > end:
        raise DossierError(f"La date de sortie ne peut pas dépasser la fin prévue de la session ({end:%d/%m/%Y}).")


def guard_deadline_passed(ctx: Context) -> None:
    if ctx.actor == Actor.SYSTEM and (ctx.dossier.deadline_at is None or ctx.now < ctx.dossier.deadline_at):
        raise TransitionNotAllowed("L'échéance n'est pas atteinte.")
    if ctx.actor == Actor.SYSTEM and ctx.dossier.control_state == ControlState.IN_CONTROL:
        raise TransitionNotAllowed("Le service fait est en contrôle : sa validation attend la décision d'un opérateur.")


# --- Effects -------------------------------------------------------------------------------------


def effect_send(ctx: Context) -> None:
    dossier = ctx.dossier
    money.refresh_split(dossier, today=ctx.today)
    expected = ctx.payload.get("expected_reste_a_payer_cents")
    if expected is not None and expected != dossier.reste_a_payer_cents:
        raise DossierError("Votre financement a changé depuis l'affichage de la page : vérifiez le nouveau reste à payer.")
    dossier.sent_at = ctx.now
    # With prérequis, the first deadline is the acknowledgement's (same 2 jours ouvrés).
    dossier.with_prerequisites = bool(dossier.session.action.prerequis.strip())
    set_deadline(ctx, "DOSSIER_ORGANISME_REPLY_WORKING_DAYS", "expire")
    ctx.notifications += [("organisme", "send"), ("titulaire", "send")]


def effect_acknowledge(ctx: Context) -> None:
    dossier = ctx.dossier
    dossier.acknowledged_at = ctx.now
    dossier.deadline_at = prerequisites_deadline(dossier.sent_at)
    dossier.deadline_transition = "expire"
    ctx.notifications += [("titulaire", "acknowledge")]


def prerequisites_deadline(sent_at: datetime.datetime) -> datetime.datetime:
    """The answer's deadline when the formation has prérequis: the end of the 30th day after
    the sending (calendar days, setting DOSSIER_PREREQUISITES_REPLY_DAYS)."""
    last_day = timezone.localdate(sent_at) + datetime.timedelta(days=settings.DOSSIER_PREREQUISITES_REPLY_DAYS)
    return timezone.make_aware(datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min))


def effect_propose(ctx: Context) -> None:
    dossier, payload = ctx.dossier, ctx.payload
    dossier.proposed_price_cents = payload["price_cents"]
    dossier.proposed_start_date = payload["start_date"]
    dossier.proposed_end_date = payload["end_date"]
    dossier.proposed_duree_heures = payload["duree_heures"]
    dossier.proposed_at = ctx.now
    money.refresh_split(dossier, today=ctx.today)
    set_deadline(ctx, "DOSSIER_TITULAIRE_REPLY_WORKING_DAYS", "expire")
    ctx.notifications += [("titulaire", "propose")]


def effect_refuse(ctx: Context) -> None:
    ctx.dossier.refusal_reason = ctx.payload["reason"].strip()
    ctx.comment = ctx.dossier.refusal_reason
    close(ctx)
    ctx.notifications += [("titulaire", "refuse")]


def effect_cancel_request(ctx: Context) -> None:
    ctx.dossier.cancellation_reason = (ctx.payload.get("reason") or "").strip()
    ctx.comment = ctx.dossier.cancellation_reason
    close(ctx)
    ctx.notifications += [("organisme", "cancel_request")]


def effect_decline(ctx: Context) -> None:
    ctx.dossier.cancellation_reason = (ctx.payload.get("reason") or "").strip()
    close(ctx)
    ctx.notifications += [("organisme", "decline")]


def effect_expire(ctx: Context) -> None:
    close(ctx)
    ctx.notifications += [("titulaire", "expire"), ("organisme", "expire")]


def effect_accept(ctx: Context) -> None:
    dossier = ctx.dossier
    money.hold(dossier, by=ctx.by, now=ctx.now)
    dossier.payment = ctx.payload.get("payment")
    dossier.accepted_at = ctx.now
    dossier.retractation_until = deadlines.deadline_after(ctx.now, delay("DOSSIER_RETRACTATION_WORKING_DAYS"))
    clear_deadline(ctx)
    ctx.notifications += [("organisme", "accept"), ("titulaire", "accept")]


def cancel_is_free(dossier: Dossier, *, now: datetime.datetime, today: datetime.date) -> bool:
    """Would the titulaire's cancellation cost nothing now, force majeure aside? Within the
    rétractation window, or more than 7 jours ouvrés before the start (the confirmation page
    says it before the titulaire confirms)."""
    start = dossier.effective_start_date
    in_retractation = dossier.retractation_until and now <= dossier.retractation_until
    early = start is None or deadlines.working_days_between(today, start) > delay("DOSSIER_LATE_CANCEL_WORKING_DAYS")
    return bool(in_retractation or early)


def effect_titulaire_cancel(ctx: Context) -> None:
    """Free within the rétractation window, more than 7 jours ouvrés before the start, or
    for force majeure; later, the blocked rights are lost (the card money is kept)."""
    dossier = ctx.dossier
    dossier.cancellation_reason = (ctx.payload.get("reason") or "").strip()
    dossier.force_majeure = bool(ctx.payload.get("force_majeure"))
    ctx.comment = dossier.cancellation_reason
    free = cancel_is_free(dossier, now=ctx.now, today=ctx.today) or dossier.force_majeure
    if free:
        money.release(dossier, by=ctx.by, refund=True, now=ctx.now)
    else:
        money.forfeit(dossier, by=ctx.by, now=ctx.now)
        billing.after_late_cancel(dossier)
    ctx.payload["free"] = free
    close(ctx)
    ctx.notifications += [("organisme", "cancel"), ("titulaire", "cancel")]


def effect_no_show(ctx: Context) -> None:
    """The titulaire never came (declared by the organisme): as a late cancellation, the
    rights are lost, the card money becomes an avoir, the organisme bills 5 %."""
    dossier = ctx.dossier
    dossier.cancellation_reason = (ctx.payload.get("reason") or "").strip() or "Absence du titulaire"
    ctx.comment = dossier.cancellation_reason
    money.forfeit(dossier, by=ctx.by, now=ctx.now)
    billing.after_late_cancel(dossier)
    close(ctx)
    ctx.notifications += [("titulaire", "no_show")]


def effect_organisme_cancel(ctx: Context) -> None:
    ctx.dossier.cancellation_reason = ctx.payload["reason"].strip()
    ctx.comment = ctx.dossier.cancellation_reason
    money.release(ctx.dossier, by=ctx.by, refund=True, now=ctx.now)
    close(ctx)
    ctx.notifications += [("titulaire", "cancel_by_organisme")]


def effect_enter(ctx: Context) -> None:
    ctx.dossier.entered_at = ctx.now
    billing.after_entry(ctx.dossier)
    ctx.notifications += [("titulaire", "enter")]


def effect_service_done(ctx: Context) -> None:
    dossier, payload = ctx.dossier, ctx.payload
    dossier.exit_reason = payload["exit_reason"]
    dossier.completion_rate = 100 if payload["exit_reason"] == ExitReason.COMPLETE else payload["completion_rate"]
    dossier.force_majeure = bool(payload.get("force_majeure"))
    dossier.exit_date = payload["exit_date"]
    share = money.consumed_share(dossier.exit_reason, dossier.completion_rate, dossier.force_majeure)
    dossier.consumed_cents = money.cents(dossier.locked_cents * share)
    dossier.service_done_at = ctx.now
    set_deadline(ctx, "DOSSIER_SERVICE_FAIT_VALIDATION_WORKING_DAYS", "validate_service")
    ctx.notifications += [("titulaire", "declare_service_done")]


def effect_validate_service(ctx: Context) -> None:
    dossier = ctx.dossier
    money.settle(dossier, by=ctx.by, now=ctx.now)
    billing.after_service(dossier)
    end_control(dossier)
    dossier.debited_at = ctx.now
    close(ctx)
    ctx.notifications += [("titulaire", "validate_service")]


def effect_refuse_service(ctx: Context) -> None:
    """The control found no training: the titulaire's rights come back and the card money
    is refunded; nothing is billable."""
    dossier = ctx.dossier
    dossier.refusal_reason = ctx.payload["reason"].strip()
    ctx.comment = dossier.refusal_reason
    money.release(dossier, by=ctx.by, refund=True, now=ctx.now)
    dossier.consumed_cents = 0
    end_control(dossier)
    close(ctx)
    ctx.notifications += [("titulaire", "refuse_service"), ("organisme", "refuse_service")]


def end_control(dossier) -> None:
    if dossier.control_state == ControlState.IN_CONTROL:
        dossier.control_state = ControlState.RELEASED


def set_deadline(ctx: Context, setting: str, transition: str) -> None:
    ctx.dossier.deadline_at = deadlines.deadline_after(ctx.now, delay(setting))
    ctx.dossier.deadline_transition = transition


def clear_deadline(ctx: Context) -> None:
    ctx.dossier.deadline_at = None
    ctx.dossier.deadline_transition = ""


def close(ctx: Context) -> None:
    clear_deadline(ctx)
    ctx.dossier.closed_at = ctx.now


# --- The table -----------------------------------------------------------------------------------

S, A = Status, Actor
_TABLE = [
    Transition("send", frozenset({S.DRAFT}), S.SENT, frozenset({A.TITULAIRE}), "Envoyer mon dossier", guard_send, effect_send),
    Transition("delete", frozenset({S.DRAFT}), S.DELETED, frozenset({A.TITULAIRE}), "Supprimer mon dossier"),
    Transition(
        "acknowledge",
        frozenset({S.SENT}),
        S.SENT,
        frozenset({A.ORGANISME}),
        "Accuser réception de la demande",
        guard_acknowledge,
        effect_acknowledge,
        guard_before_deadline,
    ),
    Transition("propose", frozenset({S.SENT}), S.PROPOSED, frozenset({A.ORGANISME}), "Valider", guard_propose, effect_propose),
    Transition("refuse", frozenset({S.SENT}), S.REFUSED_BY_ORGANISME, frozenset({A.ORGANISME}), "Refuser", guard_reason, effect_refuse),
    Transition(
        "cancel_request", frozenset({S.SENT}), S.CANCELLED_BY_TITULAIRE, frozenset({A.TITULAIRE}), "Annuler ma demande", None, effect_cancel_request
    ),
    Transition(
        "accept",
        frozenset({S.PROPOSED}),
        S.ACCEPTED,
        frozenset({A.TITULAIRE}),
        "Accepter la proposition",
        guard_accept,
        effect_accept,
        guard_before_deadline,
    ),
    Transition("decline", frozenset({S.PROPOSED}), S.REFUSED_BY_TITULAIRE, frozenset({A.TITULAIRE}), "Refuser la proposition", None, effect_decline),
    Transition(
        "expire", frozenset({S.SENT, S.PROPOSED}), S.EXPIRED, frozenset({A.SYSTEM}), "Annuler sans suite", guard_deadline_passed, effect_expire
    ),
    Transition(
        "cancel",
        frozenset({S.ACCEPTED}),
        S.CANCELLED_BY_TITULAIRE,
        frozenset({A.TITULAIRE}),
        "Annuler ma formation",
        guard_titulaire_cancel,
        effect_titulaire_cancel,
    ),
    Transition(
        "cancel_by_organisme",
        frozenset({S.ACCEPTED}),
        S.CANCELLED_BY_ORGANISME,
        frozenset({A.ORGANISME}),
        "Annuler la formation",
        guard_reason,
        effect_organisme_cancel,
    ),
    Transition(
        "enter", frozenset({S.ACCEPTED}), S.IN_TRAINING, frozenset({A.ORGANISME}), "Déclarer l'entrée en formation", guard_enter, effect_enter
    ),
    Transition(
        "no_show",
        frozenset({S.ACCEPTED}),
        S.CANCELLED_NOT_REALIZED,
        frozenset({A.ORGANISME}),
        "Déclarer l'absence du titulaire (non réalisé)",
        guard_started,
        effect_no_show,
    ),
    Transition(
        "declare_service_done",
        frozenset({S.IN_TRAINING}),
        S.SERVICE_DONE,
        frozenset({A.ORGANISME}),
        "Déclarer la sortie / service fait",
        guard_service_done,
        effect_service_done,
    ),
    Transition(
        "validate_service",
        frozenset({S.SERVICE_DONE}),
        S.DEBITED,
        frozenset({A.SYSTEM, A.OPERATEUR}),
        "Valider le service fait",
        guard_deadline_passed,
        effect_validate_service,
    ),
    Transition(
        "refuse_service",
        frozenset({S.SERVICE_DONE}),
        S.SERVICE_REFUSED,
        frozenset({A.OPERATEUR}),
        "Refuser le service fait",
        guard_reason,
        effect_refuse_service,
    ),
]
TRANSITIONS: dict[str, Transition] = {transition.name: transition for transition in _TABLE}


def available_transitions(status: str, actor: Actor) -> list[Transition]:
    return [t for t in _TABLE if status in t.sources and actor in t.actors]


def check_actor(dossier: Dossier, actor: Actor, by) -> None:
    """Is ``by`` the titulaire of the dossier, staff of its organisme, an operator?"""
    if actor == Actor.TITULAIRE and (by is None or by.pk != dossier.titulaire_id):
        raise TransitionNotAllowed("Ce dossier n'est pas le vôtre.")
    if actor == Actor.ORGANISME and (by is None or by.role != Role.ORGANISME or by.organisme_id != dossier.organisme_id):
        raise TransitionNotAllowed("Ce dossier n'est pas adressé à votre organisme.")
    if actor == Actor.OPERATEUR and (by is None or not by.is_staff):
        raise TransitionNotAllowed("Action réservée aux opérateurs.")


def check(ctx: Context, *, expected_version: int | None = None) -> None:
    """May ``ctx.transition`` run now on ``ctx.dossier`` (locked by the caller)? Source
    state, actor, version, then the precondition (deadline). The one answer to that
    question: ``dossier_transition`` asks it, and so does the payment step before charging
    a card."""
    transition, dossier = ctx.transition, ctx.dossier
    if dossier.status not in transition.sources:
        raise TransitionNotAllowed(f"Cette action n'est plus possible : le dossier est « {Status(dossier.status).label} ».")
    if ctx.actor not in transition.actors:
        raise TransitionNotAllowed("Cette action ne vous est pas ouverte.")
    check_actor(dossier, ctx.actor, ctx.by)
    if expected_version is not None and expected_version != dossier.version:
        raise TransitionNotAllowed("Le dossier a changé entre-temps : la page a été rechargée, vérifiez avant d'agir.")
    if transition.precondition:
        transition.precondition(ctx)


def mermaid() -> str:
    """The table as a Mermaid state diagram (``manage.py dossier_graph``)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.DRAFT.value}"]
    for transition in _TABLE:
        for source in sorted(transition.sources):
            actors = ", ".join(sorted(actor.value for actor in transition.actors))
            lines.append(f"    {source} --> {transition.target.value}: {transition.name} ({actors})")
    return "\n".join(lines)
