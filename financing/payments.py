"""Card payment of the reste à payer, behind a provider interface.

The built-in ``TestCardProvider`` behaves like a payment service's test mode: the number
must pass the Luhn check and the card must not be expired; two test numbers are declined.
Only the last four digits of a card are ever stored.

``payment_pay`` is idempotent: the same idempotency key (one per payment form shown) never
charges twice, and a reference (one per dossier) cannot have two live payments — a unique
constraint in the database backs it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from stdnum import luhn

from cpf_portal.errors import ConflictError, UserFacingError

from .models import Avoir, Payment, Refund


class PaymentRefused(UserFacingError):
    """The card or the payment was refused (400); the message is shown."""


class PaymentConflict(PaymentRefused, ConflictError):
    """This amount is already paid or being paid, from another tab or a retry (409)."""


@dataclass(frozen=True)
class Card:
    number: str
    expiry_month: int
    expiry_year: int  # four digits
    cvc: str
    holder: str = ""

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        if self.number.startswith("4"):
            return "Visa"
        if self.number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(self.number[:4] or 0) <= 2720:
            return "Mastercard"
        if self.number[:2] in {"34", "37"}:
            return "American Express"
        return "CB"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str = ""
    failure_reason: str = ""


def card_problems(card: Card, today: datetime.date) -> dict[str, str]:
    """Field → French message for what is wrong with the card as typed."""
    problems = {}
    if not (card.number.isdigit() and 13 <= len(card.number) <= 19 and luhn.is_valid(card.number)):
        problems["number"] = "Ce numéro de carte n'est pas valide : vérifiez les 16 chiffres."
    if not 1 <= card.expiry_month <= 12:
        problems["expiry"] = "Le mois d'expiration doit être compris entre 01 et 12."
    elif (card.expiry_year, card.expiry_month) < (today.year, today.month):
        problems["expiry"] = "Cette carte est expirée."
    expected = 4 if card.brand == "American Express" else 3
    if not (card.cvc.isdigit() and len(card.cvc) == expected):
        problems["cvc"] = f"Le cryptogramme visuel compte {expected} chiffres (au dos de la carte)."
    return problems


class TestCardProvider:
    """Test mode: 4000 0000 0000 0002 is declined, 4000 0000 0000 9995 lacks funds, any
    other valid card (4242 4242 4242 4242, 5555 5555 5555 4444…) is charged."""

    name = "test"
    DECLINED = {
        "4000000000000002": "Paiement refusé par votre banque.",
        "4000000000009995": "Paiement refusé : provision insuffisante.",
    }

    def charge(self, *, amount_cents: int, card: Card, idempotency_key: uuid.UUID) -> ChargeResult:
        reason = self.DECLINED.get(card.number)
        if reason:
            return ChargeResult(succeeded=False, failure_reason=reason)
        return ChargeResult(succeeded=True, reference=f"test_{idempotency_key.hex[:16]}")


def provider():
    return TestCardProvider()


def payment_pay(
    *, user, amount_cents: int, purpose: str, reference: str, card: Card, idempotency_key: uuid.UUID, now: datetime.datetime | None = None
) -> Payment:
    """Charge the card once. Returns the payment (succeeded or failed); the same key — a
    double click, a retried request — returns the first payment without charging again.
    ``now``: the moment of the purchase (its dates and its receipt's « payé le »)."""
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    problems = card_problems(card, timezone.localdate(now))
    if problems:
        raise PaymentRefused(" ".join(problems.values()))
    gateway = provider()
    try:
        with transaction.atomic():
            if Payment.objects.filter(reference=reference, status=Payment.Status.SUCCEEDED).exists():
                raise PaymentConflict("Ce montant est déjà payé.")
            payment = Payment.objects.create(
                user=user,
                purpose=purpose,
                reference=reference,
                amount_cents=amount_cents,
                idempotency_key=idempotency_key,
                provider=gateway.name,
                card_brand=card.brand,
                card_last4=card.last4,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        # The same key, or another live payment for this reference, won the race.
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        raise PaymentConflict("Un paiement est déjà en cours pour ce dossier.") from None

    # The provider is called outside any database transaction.
    result = gateway.charge(amount_cents=amount_cents, card=card, idempotency_key=idempotency_key)

    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.PENDING:
            return payment
        if result.succeeded:
            payment.status = Payment.Status.SUCCEEDED
            payment.provider_reference = result.reference
            payment.paid_at = now or timezone.now()
            payment.receipt_number = f"REC-{payment.paid_at:%Y}-{payment.pk:07d}"
        else:
            payment.status = Payment.Status.FAILED
            payment.failure_reason = result.failure_reason
        payment.save()
    return payment


@transaction.atomic
def payment_refund(*, payment: Payment) -> Payment:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.SUCCEEDED:
        return payment
    payment.status = Payment.Status.REFUNDED
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refunded_at"])
    return payment


# --- Refunds owed to the titulaire (tracked, due within CPF_REFUND_DAYS calendar days) --------


def refund_request(*, payment: Payment, reason: str, now: datetime.datetime | None = None):
    """Owe ``payment`` back (in the caller's transaction): a ``Refund`` to make within the
    delay, made by ``refunds_process``. Asking twice changes nothing."""
    now = now or timezone.now()
    refund, _ = Refund.objects.get_or_create(
        payment=payment,
        defaults={
            "amount_cents": payment.amount_cents,
            "reason": reason[:200],
            "due_date": timezone.localdate(now) + datetime.timedelta(days=settings.CPF_REFUND_DAYS),
            "created_at": now,
        },
    )
    return refund


def refunds_process(*, now: datetime.datetime | None = None) -> int:
    """Make the refunds owed (periodic job): each one through the card provider, then the
    refund and its payment marked, one transaction each. Returns how many were made."""
    now = now or timezone.now()
    done = 0
    for refund_id in Refund.objects.filter(status=Refund.Status.PENDING).order_by("due_date", "id").values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            refund = (
                Refund.objects.select_for_update(skip_locked=True)
                .select_related("payment")
                .filter(pk=refund_id, status=Refund.Status.PENDING)
                .first()
            )
            if refund is None:
                continue
            payment_refund(payment=refund.payment)
            refund.status, refund.refunded_at = Refund.Status.DONE, now
            refund.save(update_fields=["status", "refunded_at"])
            done += 1
    return done


# --- Avoirs: card money kept as a credit (late cancellation, no-show) -------------------------


def avoir_from_payment(*, payment: Payment, dossier, now: datetime.datetime | None = None):
    """The card money of ``payment`` becomes the titulaire's avoir (once per payment)."""
    avoir, _ = Avoir.objects.get_or_create(
        payment=payment,
        defaults={"user_id": payment.user_id, "dossier": dossier, "amount_cents": payment.amount_cents, "created_at": now or timezone.now()},
    )
    return avoir


def avoirs_available(user) -> int:
    """What is left of the titulaire's avoirs, in cents."""
    return Avoir.objects.filter(user=user).aggregate(left=Sum(F("amount_cents") - F("used_cents")))["left"] or 0


class AvoirChanged(PaymentRefused):
    """The avoirs shown are no longer there (spent by another dossier meanwhile)."""


def avoirs_spend(*, user, amount_cents: int) -> None:
    """Spend ``amount_cents`` of the titulaire's avoirs, oldest first, under row locks (in the
    caller's transaction)."""
    left = amount_cents
    for avoir in Avoir.objects.select_for_update().filter(user=user, used_cents__lt=F("amount_cents")).order_by("created_at", "id"):
        take = min(left, avoir.remaining_cents)
        avoir.used_cents += take
        avoir.save(update_fields=["used_cents"])
        left -= take
        if not left:
            return
    if left:
        raise AvoirChanged("Votre avoir a changé depuis l'affichage de la page : vérifiez le nouveau montant à payer.")


def avoir_give(*, user, dossier, amount_cents: int, now: datetime.datetime | None = None):
    """An avoir the titulaire gets back (a dossier paid with avoirs and cancelled)."""
    return Avoir.objects.create(user=user, dossier=dossier, amount_cents=amount_cents, created_at=now or timezone.now())
