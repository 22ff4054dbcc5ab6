"""Dossier writes. ``dossier_transition`` is the single entry point of every state change:
in one transaction it locks the row, checks state, role, version and guard, runs the effect
(ledger movements, deadlines), bumps the version, writes the history row and queues the
notifications. Two concurrent transitions on one dossier are serialised by the row lock:
the second finds the state changed and is refused."""

from __future__ import annotations

import datetime
import secrets
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from catalogue.models import Session
from cpf_portal.templatetags import euros
from financing import payments
from financing import services as money

from . import deadlines
from .models import Dossier, DossierAbondement, DossierEvent
from .notifications import notify_transition
from .workflow import TRANSITIONS, Actor, Context, DossierError, Status, TransitionNotAllowed, delay

SESSION_FIELDS_FOR_DISPLAY = ("formation__organisme", "formation__certification", "session__commune")


def _new_numero() -> str:
    """Ten digits, the first one not zero (« Dossier n° 3859095851 »)."""
    return str(1_000_000_000 + secrets.randbelow(9_000_000_000))


def dossier_create(*, titulaire, session: Session, today: datetime.date | None = None) -> Dossier:
    """« S'inscrire à cette session » → « Continuer »: a dossier « En cours de création »."""
    today = today or timezone.localdate()
    if titulaire.role != Role.TITULAIRE:
        raise DossierError("Seul un titulaire peut s'inscrire à une session.")
    if not titulaire.is_activated:
        raise DossierError("Activez votre compte pour vous inscrire à une session.")
    session = Session.objects.select_related("formation").get(pk=session.pk)
    if not (session.active and session.formation.active) or (session.end_date and session.end_date < today):
        raise DossierError("Cette session n'est plus ouverte aux inscriptions.")
    existing = Dossier.objects.open().filter(titulaire=titulaire, session=session).first()
    if existing is not None:
        return existing
    for _ in range(5):
        try:
            with transaction.atomic():
                dossier = Dossier.objects.create(
                    numero=_new_numero(),
                    titulaire=titulaire,
                    session=session,
                    formation=session.formation,
                    organisme_id=session.formation.organisme_id,
                    price_cents=session.price_cents,
                    start_date=session.start_date,
                    end_date=session.end_date,
                    duree_heures=session.formation.duree_heures,
                )
                DossierEvent.objects.create(
                    dossier=dossier,
                    transition="create",
                    from_status=Status.DRAFT,
                    to_status=Status.DRAFT,
                    actor=titulaire,
                    actor_role=Actor.TITULAIRE,
                )
                return dossier
        except IntegrityError:
            # A numero already taken (1 in a billion) or a concurrent creation for this session.
            existing = Dossier.objects.open().filter(titulaire=titulaire, session=session).first()
            if existing is not None:
                return existing
    raise DossierError("Le dossier n'a pas pu être créé, réessayez.")


def split_for(dossier: Dossier, *, today: datetime.date):
    """« Mon financement » of the dossier now: its price (proposed or catalogue), the
    titulaire's available rights, its abondements, the participation in force."""
    account = money.account_for(dossier.titulaire)
    abondements = dossier.abondements.aggregate(total=Sum("amount_cents"))["total"] or 0
    employer = dossier.abondements.filter(financeur=DossierAbondement.Financeur.EMPLOYEUR).exists()
    return money.compute_split(
        price_cents=dossier.effective_price_cents,
        available_cents=money.balances(account)["available"],
        abondements_cents=abondements,
        on_date=today,
        participation_exempt=money.participation_exempt(dossier.titulaire, employer_abondement=employer),
    )


def refresh_split(dossier: Dossier, *, today: datetime.date):
    split = split_for(dossier, today=today)
    dossier.droits_cents = split.droits_cents
    dossier.abondements_cents = split.abondements_cents
    dossier.participation_cents = split.participation_cents
    dossier.reste_a_payer_cents = split.reste_a_payer_cents
    return split


@transaction.atomic
def dossier_save_info(*, dossier: Dossier, titulaire, professional: dict, personal: dict, save_to_account: bool) -> Dossier:
    """« Mes informations » of the dossier (« Valider »), copied into the account when asked."""
    dossier = Dossier.objects.select_for_update().get(pk=dossier.pk, titulaire=titulaire)
    if dossier.status != Status.DRAFT:
        raise TransitionNotAllowed("Ce dossier est envoyé : ses informations ne se modifient plus.")
    if save_to_account:
        account_services.profile_update(user=titulaire, data={**professional, **personal})
    dossier.titulaire_info = {
        **dict(professional.items()),
        **dict(personal.items()),
        "nir_last_digits": titulaire.nir[-4:] if titulaire.nir else "",
        "birth_date": titulaire.birth_date.isoformat() if titulaire.birth_date else "",
    }
    dossier.info_validated_at = timezone.now()
    dossier.save(update_fields=["titulaire_info", "info_validated_at"])
    return dossier


def _check_actor(dossier: Dossier, actor: Actor, by) -> None:
    if actor == Actor.TITULAIRE and (by is None or by.pk != dossier.titulaire_id):
        raise TransitionNotAllowed("Ce dossier n'est pas le vôtre.")
    if actor == Actor.ORGANISME and (by is None or by.role != Role.ORGANISME or by.organisme_id != dossier.organisme_id):
        raise TransitionNotAllowed("Ce dossier n'est pas adressé à votre organisme.")
    if actor == Actor.OPERATEUR and (by is None or not by.is_staff):
        raise TransitionNotAllowed("Action réservée aux opérateurs.")


def dossier_transition(
    *,
    dossier_id: int,
    name: str,
    actor: Actor,
    by=None,
    payload: dict | None = None,
    expected_version: int | None = None,
    now: datetime.datetime | None = None,
    skip_locked: bool = False,
) -> Dossier:
    """Fire the transition ``name``; raise TransitionNotAllowed or DossierError (then
    nothing is written)."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise TransitionNotAllowed("Action inconnue.")
    with transaction.atomic():
        rows = Dossier.objects.select_for_update(of=("self",), skip_locked=skip_locked).select_related("titulaire")
        dossier = rows.filter(pk=dossier_id).first()
        if dossier is None:
            raise TransitionNotAllowed("Ce dossier est en cours de traitement.")
        if dossier.status not in transition.sources:
            raise TransitionNotAllowed(f"Cette action n'est plus possible : le dossier est « {Status(dossier.status).label} ».")
        if actor not in transition.actors:
            raise TransitionNotAllowed("Cette action ne vous est pas ouverte.")
        _check_actor(dossier, actor, by)
        if expected_version is not None and expected_version != dossier.version:
            raise TransitionNotAllowed("Le dossier a changé entre-temps : la page a été rechargée, vérifiez avant d'agir.")
        ctx = Context(dossier=dossier, transition=transition, actor=actor, by=by, payload=dict(payload or {}), now=now or timezone.now())
        if transition.guard:
            transition.guard(ctx)
        from_status = dossier.status
        if transition.effect:
            transition.effect(ctx)
        dossier.status = transition.target
        dossier.version += 1
        dossier.save()
        event = DossierEvent.objects.create(
            dossier=dossier,
            transition=name,
            from_status=from_status,
            to_status=transition.target,
            actor=by if actor != Actor.SYSTEM else None,
            actor_role=actor,
            comment=ctx.comment,
            payload={key: _json(value) for key, value in ctx.payload.items() if key not in {"payment"}},
            created_at=ctx.now,
        )
        for audience, key in ctx.notifications:
            notify_transition(dossier, key, audience, event_id=event.pk)
    return dossier


def _json(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def dossier_pay_and_accept(
    *, dossier: Dossier, titulaire, card: payments.Card | None, idempotency_key: uuid.UUID, expected_version: int, expected_reste_cents: int
) -> Dossier:
    """Accept the organisme's proposal, paying the reste à payer by card first when there is
    one. The amount is checked again under lock; if the rights are no longer there after
    the payment, the payment is refunded and nothing else changes.

    Runs outside the request's transaction: the card is charged between two transactions."""
    today = timezone.localdate()
    with transaction.atomic():
        locked = Dossier.objects.select_for_update(of=("self",)).select_related("titulaire").get(pk=dossier.pk, titulaire=titulaire)
        if locked.status != Status.PROPOSED:
            raise TransitionNotAllowed(f"Cette action n'est plus possible : le dossier est « {Status(locked.status).label} ».")
        if locked.version != expected_version:
            raise TransitionNotAllowed("Le dossier a changé entre-temps : vérifiez avant d'agir.")
        if locked.deadline_at and timezone.now() > locked.deadline_at:
            raise DossierError("Le délai pour répondre à cette proposition est dépassé.")
        refresh_split(locked, today=today)
        if locked.reste_a_payer_cents != expected_reste_cents:
            locked.save(update_fields=["droits_cents", "abondements_cents", "participation_cents", "reste_a_payer_cents"])
            raise DossierError("Votre financement a changé (vos droits disponibles ont évolué) : vérifiez le nouveau reste à payer.")
        locked.save(update_fields=["droits_cents", "abondements_cents", "participation_cents", "reste_a_payer_cents"])
        amount = locked.reste_a_payer_cents
    payment = None
    if amount:
        if card is None:
            raise DossierError("Saisissez votre carte pour régler le reste à payer.")
        payment = payments.payment_pay(
            user=titulaire,
            amount_cents=amount,
            purpose=f"Reste à payer — dossier n° {locked.numero}",
            reference=f"dossier:{locked.numero}",
            card=card,
            idempotency_key=idempotency_key,
        )
        if payment.status == payment.Status.FAILED:
            raise DossierError(payment.failure_reason or "Paiement refusé.")
        if payment.status != payment.Status.SUCCEEDED:
            raise DossierError("Le paiement est en cours : patientez un instant puis rechargez la page.")
    try:
        return dossier_transition(
            dossier_id=locked.pk, name="accept", actor=Actor.TITULAIRE, by=titulaire, payload={"payment": payment}, expected_version=expected_version
        )
    except (DossierError, TransitionNotAllowed):
        if payment is not None and not Dossier.objects.filter(payment=payment).exists():
            payments.payment_refund(payment=payment)
        raise


# --- Abondements ------------------------------------------------------------------------------


@transaction.atomic
def abondement_add(
    *, dossier: Dossier, financeur: str, financeur_name: str, amount_cents: int, by, expected_version: int | None = None
) -> DossierAbondement:
    """Complementary financing on a dossier not yet accepted; the split is recomputed. With
    ``expected_version``, a dossier changed since the page was shown is refused (checked
    under the row lock, as dossier_transition does)."""
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if expected_version is not None and expected_version != dossier.version:
        raise TransitionNotAllowed("Le dossier a changé entre-temps : vérifiez avant d'agir.")
    if dossier.status not in (Status.SENT, Status.PROPOSED):
        raise DossierError("Un abondement s'ajoute quand le dossier est envoyé ou proposé par l'organisme, avant son acceptation.")
    if amount_cents <= 0:
        raise DossierError("Le montant doit être positif.")
    abondement = DossierAbondement.objects.create(
        dossier=dossier, financeur=financeur, financeur_name=financeur_name, amount_cents=amount_cents, added_by=by
    )
    refresh_split(dossier, today=timezone.localdate())
    dossier.save(update_fields=["droits_cents", "abondements_cents", "participation_cents", "reste_a_payer_cents"])
    from notifications.services import notify

    notify(
        user=dossier.titulaire,
        title=f"Un abondement de {euros(amount_cents)} pour votre dossier n° {dossier.numero}",
        body=f"{financeur_name or abondement.get_financeur_display()} finance une partie de votre formation : votre reste à payer est désormais de {euros(dossier.reste_a_payer_cents)}.",
        url=reverse("dossiers:detail", args=[dossier.numero]),
    )
    return abondement


# --- Time ---------------------------------------------------------------------------------------


EXPIRE_SQL = """
WITH due AS (
    SELECT id, status FROM dossiers_dossier
    WHERE status IN ('sent', 'proposed') AND deadline_transition = 'expire' AND deadline_at <= %(now)s
    ORDER BY deadline_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), done AS (
    UPDATE dossiers_dossier AS d
       SET status = 'expired', version = d.version + 1, closed_at = %(now)s, deadline_at = NULL, deadline_transition = ''
      FROM due
     WHERE d.id = due.id
    RETURNING d.id, due.status AS from_status
)
INSERT INTO dossiers_dossierevent (dossier_id, transition, from_status, to_status, actor_id, actor_role, comment, payload, created_at)
SELECT id, 'expire', from_status, 'expired', NULL, 'system', 'Délai de réponse dépassé', '{}'::jsonb, %(now)s FROM done
RETURNING id, dossier_id
"""


def expire_overdue(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """« Annulé sans suite »: requests the organisme did not answer and proposals the
    titulaire did not accept in time, set-based (one statement per batch: state, version,
    history), then their notifications in bulk. Rows another transaction holds are skipped
    and expired on the next run; a row accepted meanwhile no longer matches."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(EXPIRE_SQL, {"now": now, "batch": batch})
                rows = cursor.fetchall()
            if rows:
                from .notifications import notify_many

                notify_many([(dossier_id, event_id) for event_id, dossier_id in rows], "expire", ("titulaire", "organisme"))
        total += len(rows)
        if len(rows) < batch:
            return total


def validate_due_services(*, now: datetime.datetime | None = None, batch: int = 200) -> int:
    """Service fait validated automatically after its delay (money moves per dossier, each
    in its own transaction; a dossier locked elsewhere is left for the next run)."""
    now = now or timezone.now()
    due = Dossier.objects.filter(status=Status.SERVICE_DONE, deadline_transition="validate_service", deadline_at__lte=now)
    done = 0
    for dossier_id in due.order_by("deadline_at").values_list("id", flat=True)[:batch]:
        try:
            dossier_transition(dossier_id=dossier_id, name="validate_service", actor=Actor.SYSTEM, now=now, skip_locked=True)
        except (TransitionNotAllowed, DossierError):
            continue
        done += 1
    return done


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Reminders, each sent once (dedup keys), selected set-based:
    - the organisme, on the last working day to answer a request;
    - the titulaire, on the last working day to answer a proposal;
    - the titulaire, 7 jours ouvrés before the start (after that, cancelling costs the rights);
    - the organisme, when the entry is not declared 3 jours ouvrés after the start."""
    from .notifications import notify_many

    now = now or timezone.now()
    today = timezone.localdate(now)
    horizon = deadlines.deadline_after(now, 1)
    count = 0
    answer = Dossier.objects.filter(deadline_transition="expire", deadline_at__gt=now, deadline_at__lte=horizon)
    for status, audience, key in ((Status.SENT, "organisme", "remind_organisme"), (Status.PROPOSED, "titulaire", "remind_titulaire")):
        rows = list(answer.filter(status=status).values_list("id", "deadline_at"))
        count += notify_many([(pk, f"{deadline:%Y%m%d}") for pk, deadline in rows], key, (audience,))
    late_cancel_day = deadlines.add_working_days(today, delay("DOSSIER_LATE_CANCEL_WORKING_DAYS"))
    starting = Dossier.objects.filter(status=Status.ACCEPTED, accepted_at__lt=now).filter(
        proposed_start_date__gt=today, proposed_start_date__lte=late_cancel_day
    )
    count += notify_many([(pk, "start") for pk in starting.values_list("id", flat=True)], "remind_late_cancel", ("titulaire",))
    entry_limit = deadlines.subtract_working_days(today, delay("DOSSIER_ENTRY_REMINDER_WORKING_DAYS"))
    not_entered = Dossier.objects.filter(status=Status.ACCEPTED, proposed_start_date__lte=entry_limit)
    count += notify_many([(pk, "entry") for pk in not_entered.values_list("id", flat=True)], "remind_entry", ("organisme",))
    return count
