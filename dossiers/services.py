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
from django.db.models import F
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from catalogue.models import Session
from equipes.permissions import Right, members_with
from financing import payments
from financing import services as ledger
from financing.models import CpfAccount, DatedRule, Payment
from notifications.services import notify_from_template

from . import billing, deadlines, money, workflow
from .models import Dossier, DossierAbondement, DossierEvent, ServiceProof
from .notifications import notify_many, notify_transition
from .states import Actor, ControlState, DossierError, Status, TransitionNotAllowed
from .workflow import TRANSITIONS, Context, delay

SESSION_FIELDS_FOR_DISPLAY = ("formation__organisme", "formation__certification", "session__commune")


def _new_numero() -> str:
    """Ten digits, the first one not zero (« Dossier n° 3859095851 »)."""
    return str(1_000_000_000 + secrets.randbelow(9_000_000_000))


# Requests not yet answered or accepted: what the cap per action counts.
OPEN_REQUESTS = [Status.DRAFT, Status.SENT, Status.PROPOSED]


def dossier_create(*, titulaire, session: Session, now: datetime.datetime | None = None) -> Dossier:
    """« S'inscrire à cette session » → « Continuer »: a dossier « En cours de création ».
    ``now``: the moment of the creation (the dossier's and its first history row's date)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if titulaire.role != Role.TITULAIRE:
        raise DossierError("Seul un titulaire peut s'inscrire à une session.")
    if not titulaire.is_activated:
        raise DossierError("Activez votre compte pour vous inscrire à une session.")
    session = Session.objects.select_related("formation__organisme", "action").get(pk=session.pk)
    if refusal := session.registration_refusal(today):
        raise DossierError(refusal)
    existing = Dossier.objects.open().filter(titulaire=titulaire, session=session).first()
    if existing is not None:
        return existing
    cap = ledger.rule_on(DatedRule.Key.MAX_OPEN_REQUESTS, today)
    if cap and Dossier.objects.filter(titulaire=titulaire, session__action_id=session.action_id, status__in=OPEN_REQUESTS).count() >= cap:
        raise DossierError(
            f"Vous avez déjà {cap} demandes en cours pour cette formation : attendez une réponse ou annulez l'une d'elles avant d'en créer une autre."
        )
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
                    duree_heures=session.action.duree_heures,
                    created_at=now,
                )
                DossierEvent.objects.create(
                    dossier=dossier,
                    transition="create",
                    from_status=Status.DRAFT,
                    to_status=Status.DRAFT,
                    actor=titulaire,
                    actor_role=Actor.TITULAIRE,
                    created_at=now,
                )
                return dossier
        except IntegrityError:
            # A numero already taken (1 in a billion) or a concurrent creation for this session.
            existing = Dossier.objects.open().filter(titulaire=titulaire, session=session).first()
            if existing is not None:
                return existing
    raise DossierError("Le dossier n'a pas pu être créé, réessayez.")


@transaction.atomic
def dossier_save_info(
    *, dossier: Dossier, titulaire, professional: dict, personal: dict, save_to_account: bool, now: datetime.datetime | None = None
) -> Dossier:
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
    dossier.info_validated_at = now or timezone.now()
    dossier.save(update_fields=["titulaire_info", "info_validated_at"])
    return dossier


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
        ctx = Context(dossier=dossier, transition=transition, actor=actor, by=by, payload=dict(payload or {}), now=now or timezone.now())
        workflow.check(ctx, expected_version=expected_version)
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
            notify_transition(dossier, key, audience, event_id=event.pk, now=ctx.now)
    return dossier


def _json(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def dossier_pay_and_accept(
    *,
    dossier: Dossier,
    titulaire,
    card: payments.Card | None,
    idempotency_key: uuid.UUID,
    expected_version: int,
    expected_reste_cents: int,
    now: datetime.datetime | None = None,
) -> Dossier:
    """Accept the organisme's proposal, paying the reste à payer by card first when there is
    one. Before the card is charged, the table says whether « accept » may run now (state,
    actor, version, deadline) and the amount is checked again under lock; if the acceptance
    then fails, the payment is refused back (refunded) and nothing else changes. A crash
    between the two leaves a succeeded payment that ``reconcile_payments`` settles.

    Runs outside the request's transaction: the card is charged between two transactions.
    ``now``: the moment of the acceptance (the demo data walks dossiers through past dates)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Dossier.objects.select_for_update(of=("self",)).select_related("titulaire").get(pk=dossier.pk, titulaire=titulaire)
        ctx = Context(dossier=locked, transition=TRANSITIONS["accept"], actor=Actor.TITULAIRE, by=titulaire, payload={}, now=now)
        workflow.check(ctx, expected_version=expected_version)
        money.refresh_split(locked, today=timezone.localdate(now))
        locked.save(update_fields=money.SPLIT_FIELDS)
        amount = locked.reste_a_payer_cents - locked.avoir_cents  # by card: what the avoirs leave
    if amount != expected_reste_cents:
        raise DossierError("Votre financement a changé (vos droits disponibles ont évolué) : vérifiez le nouveau reste à payer.")
    payment = None
    reference = ledger.dossier_reference(locked.numero)
    orphan = Payment.objects.filter(reference=reference, status=Payment.Status.SUCCEEDED, dossier__isnull=True, user=titulaire).first()
    if amount and orphan is not None and orphan.amount_cents == amount:
        # Already charged for this dossier by a request that died before accepting it: the
        # retry accepts with that payment instead of charging again.
        payment = orphan
    elif amount:
        if card is None:
            raise DossierError("Saisissez votre carte pour régler le reste à payer.")
        payment = payments.payment_pay(
            user=titulaire,
            amount_cents=amount,
            purpose=f"Reste à payer — dossier n° {locked.numero}",
            reference=reference,
            card=card,
            idempotency_key=idempotency_key,
            now=now,
        )
        if payment.status == payment.Status.FAILED:
            raise DossierError(payment.failure_reason or "Paiement refusé.")
        if payment.status != payment.Status.SUCCEEDED:
            raise TransitionNotAllowed("Le paiement est en cours : patientez un instant puis rechargez la page.")
        if Dossier.objects.filter(payment=payment).exists():
            # The same form sent twice: the first request accepted the dossier with it.
            return Dossier.objects.get(payment=payment)
    try:
        return dossier_transition(
            dossier_id=locked.pk,
            name="accept",
            actor=Actor.TITULAIRE,
            by=titulaire,
            payload={"payment": payment},
            expected_version=expected_version,
            now=now,
        )
    except (DossierError, TransitionNotAllowed):
        if payment is not None and not Dossier.objects.filter(payment=payment).exists():
            payments.payment_refund(payment=payment)
        raise


def reconcile_payments(*, older_than_minutes: int = 10, now: datetime.datetime | None = None) -> dict:
    """A card charged but its dossier not accepted (the process died between the two, or
    the acceptance failed after the charge): accept the dossier with that payment while the
    proposal still stands, else refund. Idempotent: a payment linked to a dossier or
    refunded is no longer looked at; a payment younger than ``older_than_minutes`` may
    still be in its request and is left alone."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(minutes=older_than_minutes)
    orphans = Payment.objects.filter(status=Payment.Status.SUCCEEDED, paid_at__lt=limit, dossier__isnull=True, reference__startswith="dossier:")
    result = {"accepted": 0, "refunded": 0}
    for payment in orphans.select_related("user").order_by("paid_at")[:500]:
        numero = payment.reference.removeprefix("dossier:")
        dossier = Dossier.objects.filter(numero=numero, titulaire=payment.user).first()
        try:
            if dossier is None:
                raise TransitionNotAllowed("Ce paiement ne correspond à aucun dossier du titulaire.")
            # The table decides: still a proposal, in time, and this payment pays its reste à payer.
            dossier_transition(dossier_id=dossier.pk, name="accept", actor=Actor.TITULAIRE, by=payment.user, payload={"payment": payment}, now=now)
            result["accepted"] += 1
        except (DossierError, TransitionNotAllowed):
            if not Dossier.objects.filter(payment=payment).exists():
                payments.payment_refund(payment=payment)
                result["refunded"] += 1
    return result


# --- Abondements ------------------------------------------------------------------------------


def _abondement_dossier(dossier: Dossier, expected_version: int | None) -> Dossier:
    """The dossier locked for a change of its abondements; with ``expected_version``, a
    dossier changed since the page was shown is refused (as dossier_transition does)."""
    dossier = Dossier.objects.select_for_update(of=("self",)).get(pk=dossier.pk)
    if expected_version is not None and expected_version != dossier.version:
        raise TransitionNotAllowed("Le dossier a changé entre-temps : vérifiez avant d'agir.")
    return dossier


@transaction.atomic
def abondement_add(
    *,
    dossier: Dossier,
    financeur: str,
    financeur_name: str,
    amount_cents: int,
    by,
    expected_version: int | None = None,
    notify: bool = True,
) -> DossierAbondement:
    """Complementary financing on a dossier not yet accepted; the split is recomputed.
    A conseiller or an operator adds it to a dossier sent or proposed; the titulaire declares
    a co-financing (his employer's, his région's…) on his draft, before sending it. Without
    ``notify``, the caller tells the titulaire itself (the answer to his request)."""
    dossier = _abondement_dossier(dossier, expected_version)
    declared = by is not None and by.pk == dossier.titulaire_id
    if declared and dossier.status != Status.DRAFT:
        raise DossierError("Un cofinancement se déclare avant l'envoi du dossier.")
    if not declared and dossier.status not in (Status.SENT, Status.PROPOSED):
        raise DossierError("Un abondement s'ajoute quand le dossier est envoyé ou proposé par l'organisme, avant son acceptation.")
    if amount_cents <= 0:
        raise DossierError("Le montant doit être positif.")
    abondement = DossierAbondement.objects.create(
        dossier=dossier, financeur=financeur, financeur_name=financeur_name, amount_cents=amount_cents, added_by=by
    )
    if declared:
        return abondement
    money.refresh_split(dossier, today=timezone.localdate())
    dossier.save(update_fields=money.SPLIT_FIELDS)
    if not notify:
        return abondement
    notify_from_template(
        user=dossier.titulaire,
        template="dossiers/notifications/abondement/added",
        context={
            "amount_cents": amount_cents,
            "numero": dossier.numero,
            "financeur": financeur_name or abondement.get_financeur_display(),
            "reste_cents": dossier.reste_a_payer_cents,
            "droits_cents": dossier.droits_cents,
        },
        url=reverse("dossiers:detail", args=[dossier.numero]),
    )
    return abondement


@transaction.atomic
def abondement_withdraw(*, dossier: Dossier, abondement_id: int, by, expected_version: int | None = None) -> None:
    """The titulaire withdraws a co-financing he declared on his draft."""
    dossier = _abondement_dossier(dossier, expected_version)
    if dossier.status != Status.DRAFT:
        raise DossierError("Un cofinancement se retire avant l'envoi du dossier.")
    deleted, _ = DossierAbondement.objects.filter(pk=abondement_id, dossier=dossier, added_by=by).delete()
    if not deleted:
        raise DossierError("Ce cofinancement n'existe plus.")


# --- Control of the service fait (operators) and its proofs (organismes) ---------------------------


@transaction.atomic
def control_open(*, dossier_id: int, by, reason: str = "") -> Dossier:
    """An operator puts a declared service fait « En contrôle »: its automatic validation waits
    for the operator's decision (validate or refuse, both transitions of the table). Logged in
    the dossier's history with its actor; the organisme is asked for its proofs."""
    dossier = Dossier.objects.select_for_update(of=("self",)).select_related("organisme").get(pk=dossier_id)
    if dossier.status != Status.SERVICE_DONE:
        raise TransitionNotAllowed(f"Seul un service fait déclaré se contrôle : le dossier est « {Status(dossier.status).label} ».")
    if dossier.control_state == ControlState.IN_CONTROL:
        return dossier
    dossier.control_state = ControlState.IN_CONTROL
    dossier.save(update_fields=["control_state"])
    reason = reason.strip() or "Contrôle du service fait"
    DossierEvent.objects.create(
        dossier=dossier,
        transition="control_open",
        from_status=dossier.status,
        to_status=dossier.status,
        actor=by,
        actor_role=Actor.OPERATEUR,
        comment=reason,
    )
    for user in members_with(Right.DOSSIERS_VOIR, [dossier.organisme_id]).get(dossier.organisme_id, []):
        notify_from_template(
            user=user,
            template="dossiers/notifications/control/opened",
            context={"numero": dossier.numero, "reason": reason},
            url=reverse("dossiers:organisme-detail", args=[dossier.numero]),
            dedup_key=f"dossier:{dossier.pk}:control_open:{user.pk}",
        )
    return dossier


def proof_add(*, dossier: Dossier, kind: str, upload, content_type: str, by) -> ServiceProof:
    """A proof of the training, stored privately under a random name (the type checked from
    the content by the form)."""
    if dossier.status not in (Status.IN_TRAINING, Status.SERVICE_DONE, Status.DEBITED):
        raise DossierError("Les justificatifs se déposent une fois l'entrée en formation déclarée.")
    proof = ServiceProof(dossier=dossier, kind=kind, content_type=content_type, size=upload.size, original_name=upload.name[:255], uploaded_by=by)
    proof.file.save("justificatif", upload, save=False)
    proof.save()
    return proof


# --- Time ---------------------------------------------------------------------------------------


EXPIRE_SQL = """
WITH due AS (
    -- In the deadline index's order (no sort of all that is due, however many).
    SELECT id, status FROM dossiers_dossier
    WHERE deadline_transition = 'expire' AND deadline_at <= %(now)s
    ORDER BY deadline_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), done AS (
    UPDATE dossiers_dossier AS d
       SET status = 'expired', version = d.version + 1, closed_at = %(now)s, deadline_at = NULL, deadline_transition = ''
      FROM due
     WHERE d.id = due.id AND due.status IN ('sent', 'proposed')
    RETURNING d.id, due.status AS from_status
)
INSERT INTO dossiers_dossierevent (dossier_id, transition, from_status, to_status, actor_id, actor_role, comment, payload, created_at)
SELECT id, 'expire', from_status, 'expired', NULL, 'system', 'Délai de réponse dépassé', '{}'::jsonb, %(now)s FROM done
RETURNING id, dossier_id
"""


# Sent in the transaction of a set-based job (its events are written without post_save), with
# the dossiers it moved: the webhooks' outbox listens.
recorded_in_bulk = Signal()


def expire_overdue(*, now: datetime.datetime | None = None, batch: int = 1000) -> int:
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
                notify_many([(dossier_id, event_id) for event_id, dossier_id in rows], "expire", ("titulaire", "organisme"))
                recorded_in_bulk.send(sender=Dossier, transition="expire", dossier_ids=[dossier_id for _, dossier_id in rows])
        total += len(rows)
        if len(rows) < batch:
            return total


def validate_due_services(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Service fait validated automatically after its delay, set-based: per batch, the due
    dossiers claimed (``SKIP LOCKED``: one a person is acting on waits for the next run),
    their settlements written in one INSERT (``money.settlement``, the same as an operator's
    validation through the table), their state, version and history in two statements,
    their notices in bulk. Run twice: nothing more happens."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Dossier.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(status=Status.SERVICE_DONE, deadline_transition="validate_service", deadline_at__lte=now)
                .exclude(control_state=ControlState.IN_CONTROL)  # waits for the operator's decision
                .order_by("deadline_at", "id")
                .only("id", "numero", "titulaire_id", "locked_cents", "consumed_cents", "abondements_cents", *billing.READS)[:batch]
            )
            if due:
                holders = {d.titulaire_id for d in due if d.locked_cents}
                accounts = dict(CpfAccount.objects.filter(user_id__in=holders).values_list("user_id", "id"))
                ledger.settle_many([money.settlement(d, accounts[d.titulaire_id]) for d in due if d.locked_cents], now=now)
                for dossier in due:  # the balance the organisme may bill, as an operator's validation gives it
                    billing.after_service(dossier)
                Dossier.objects.bulk_update(due, billing.WRITES)
                Dossier.objects.filter(pk__in=[d.pk for d in due]).update(
                    status=Status.DEBITED,
                    version=F("version") + 1,
                    locked_cents=0,
                    debited_at=now,
                    closed_at=now,
                    deadline_at=None,
                    deadline_transition="",
                )
                events = DossierEvent.objects.bulk_create(
                    [
                        DossierEvent(
                            dossier_id=d.pk,
                            transition="validate_service",
                            from_status=Status.SERVICE_DONE,
                            to_status=Status.DEBITED,
                            actor_role=Actor.SYSTEM,
                            created_at=now,
                        )
                        for d in due
                    ]
                )
                notify_many([(event.dossier_id, event.pk) for event in events], "validate_service", ("titulaire",))
                recorded_in_bulk.send(sender=Dossier, transition="validate_service", dossier_ids=[event.dossier_id for event in events])
        total += len(due)
        if len(due) < batch:
            return total


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Reminders, each sent once (dedup keys), selected set-based:
    - the organisme, on the last working day to answer a request;
    - the titulaire, on the last working day to answer a proposal;
    - the titulaire, 7 jours ouvrés before the start (after that, cancelling costs the rights);
    - the organisme, when the entry is not declared 3 jours ouvrés after the start."""
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
