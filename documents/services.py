"""The titulaire's documents: each PDF rendered once from the data it speaks of, stored
privately, found again on the next request (idempotent: one receipt per payment, one
certificate per dossier, database constraints), erased with the account."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from cpf_portal.errors import UserFacingError
from dossiers.models import Dossier
from dossiers.states import ExitReason, Status
from financing import services as ledger
from financing.models import Movement, MovementKind, Payment

from . import pdf
from .models import Document

Kind = Document.Kind
RECEIPT_STATUSES = [Payment.Status.SUCCEEDED, Payment.Status.REFUNDED]


class DocumentError(UserFacingError):
    """The document cannot exist yet (a training not validated, a payment not made)."""


def holder(user) -> list[str]:
    return [user.full_name, f"N° de sécurité sociale : {user.nir_masked}" if user.nir else "", *user.address_lines]


def _store(*, owner, kind: str, as_of: datetime.date, content: bytes, **reference) -> Document:
    """Save the PDF and its row; a concurrent request that stored the same receipt or
    certificate first wins, and its document is returned (this one's file removed)."""
    document = Document(owner=owner, kind=kind, as_of=as_of, **reference)
    document.file.save("document.pdf", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        document.file.delete(save=False)
        return Document.objects.get(kind=kind, **reference)
    return document


# --- Payment receipt ---------------------------------------------------------------------------


def receipt_for(*, payment: Payment) -> Document:
    """The receipt PDF of a card payment (made or refunded), rendered on first use."""
    existing = Document.objects.filter(kind=Kind.RECEIPT, payment=payment).select_related("payment").first()
    if existing is not None:
        return existing
    if payment.status not in RECEIPT_STATUSES or not payment.receipt_number:
        raise DocumentError("Ce paiement n'a pas de reçu.")
    dossier = Dossier.objects.filter(payment=payment).prefetch_related("abondements").first()
    content = pdf.render_receipt(
        receipt_number=payment.receipt_number,
        holder=holder(payment.user),
        paid_at=timezone.localtime(payment.paid_at),
        purpose=payment.purpose,
        card=f"Carte {payment.card_brand} se terminant par {payment.card_last4}".replace("  ", " "),
        status=payment.get_status_display(),
        amount_cents=payment.amount_cents,
        split=receipt_split(dossier) if dossier else [],
        issued=timezone.localdate(),
    )
    return _store(owner=payment.user, kind=Kind.RECEIPT, as_of=timezone.localdate(payment.paid_at), content=content, payment=payment)


def receipt_split(dossier: Dossier) -> list[pdf.Row]:
    """The dossier's financing as the receipt prints it (the split fixed at acceptance)."""
    rows = [pdf.Row(f"Dossier n° {dossier.numero} — prix de la formation", pdf.money(dossier.effective_price_cents))]
    for abondement in dossier.abondements.all():
        name = f" ({abondement.financeur_name})" if abondement.financeur_name else ""
        rows.append(pdf.Row(f"Abondement {abondement.get_financeur_display()}{name}", pdf.money(-abondement.amount_cents)))
    rows.append(pdf.Row("Droits formation", pdf.money(-dossier.droits_cents)))
    rows.append(pdf.Row("Reste à payer", pdf.money(dossier.reste_a_payer_cents), bold=True))
    if dossier.participation_cents and dossier.reste_a_payer_cents:
        rows.append(pdf.Row("dont participation forfaitaire obligatoire", pdf.money(dossier.participation_cents)))
    if dossier.avoir_cents:
        rows.append(pdf.Row("Payé par avoir", pdf.money(-dossier.avoir_cents)))
    return rows


# --- Attestation de droits -----------------------------------------------------------------------


def movement_amount(movement) -> str:
    if movement.kind == MovementKind.BLOCAGE:
        return f"{pdf.money(movement.amount_cents)} bloqués"
    if movement.kind == MovementKind.DEBLOCAGE:
        return f"{pdf.money(abs(movement.amount_cents))} débloqués"
    return ("+ " if movement.amount_cents > 0 else "") + pdf.money(movement.amount_cents)


def rights_attestation_create(*, user, on_date: datetime.date | None = None) -> Document:
    """« Attestation de droits » at the end of ``on_date`` (today by default): the balances
    and every movement up to that day."""
    on_date = on_date or timezone.localdate()
    account = ledger.account_for(user)
    end = timezone.make_aware(datetime.datetime.combine(on_date + datetime.timedelta(days=1), datetime.time.min))
    movements = Movement.objects.filter(account=account, created_at__lt=end)
    totals = movements.balances()
    content = pdf.render_rights(
        holder=holder(user),
        as_of=on_date,
        acquired_cents=totals["acquired"],
        locked_cents=totals["locked"],
        available_cents=totals["available"],
        movements=[(timezone.localdate(m.created_at), m.label, movement_amount(m)) for m in movements.order_by("created_at", "id")],
        issued=timezone.localdate(),
    )
    return _store(owner=user, kind=Kind.RIGHTS, as_of=on_date, content=content)


# --- Certificat de réalisation -------------------------------------------------------------------


def certificate_available(dossier: Dossier) -> bool:
    """Only once the service fait is validated (« Débité ») and something was done."""
    return dossier.status == Status.DEBITED and dossier.completion_rate is not None


def hours_done(dossier: Dossier) -> str:
    """The hours done: the planned hours times the completion rate, « 24,5 h »."""
    hours = Decimal(dossier.effective_duree_heures) * dossier.completion_rate / 100
    return f"{hours.quantize(Decimal('0.1')).normalize():f}".replace(".", ",") + " h"


def certificate_for(*, dossier: Dossier) -> Document:
    """The certificat de réalisation of a dossier whose service fait is validated."""
    existing = Document.objects.filter(kind=Kind.CERTIFICATE, dossier=dossier).select_related("dossier").first()
    if existing is not None:
        return existing
    if not certificate_available(dossier):
        raise DocumentError("Le certificat de réalisation est disponible une fois le service fait validé.")
    organisme = dossier.organisme
    start = dossier.effective_start_date
    end = dossier.exit_date or dossier.effective_end_date
    validated = timezone.localdate(dossier.debited_at) if dossier.debited_at else timezone.localdate()
    content = pdf.render_certificate(
        holder=holder(dossier.titulaire),
        numero=dossier.numero,
        formation=dossier.formation.intitule,
        organisme=[
            part
            for part in (
                organisme.raison_sociale,
                f"SIRET {organisme.siret}",
                f"{organisme.address} {organisme.postal_code} {organisme.city}".strip(),
            )
            if part
        ],
        start=f"{start:%d/%m/%Y}" if start else "Entrée permanente",
        end=f"{end:%d/%m/%Y}" if end else "",
        hours_planned=dossier.effective_duree_heures,
        hours_done=hours_done(dossier),
        completion_rate=dossier.completion_rate,
        exit_reason=ExitReason(dossier.exit_reason).label if dossier.exit_reason else "",
        validated=validated,
        issued=timezone.localdate(),
    )
    return _store(owner=dossier.titulaire, kind=Kind.CERTIFICATE, as_of=validated, content=content, dossier=dossier)


def documents_for_dossiers(dossier_ids: list[int]) -> int:
    """The receipts and certificates these dossiers have and lack, rendered now; returns how
    many documents they hold. Idempotent (one per payment, one per dossier)."""
    count = 0
    for dossier in Dossier.objects.filter(pk__in=dossier_ids).select_related("payment__user", "titulaire", "formation", "organisme"):
        if dossier.payment_id and dossier.payment.status in RECEIPT_STATUSES and dossier.payment.receipt_number:
            receipt_for(payment=dossier.payment)
            count += 1
        if certificate_available(dossier):
            certificate_for(dossier=dossier)
            count += 1
    return count


# --- « Mes données » -------------------------------------------------------------------------------


def documents_export(user) -> list[dict]:
    return [
        {"type": kind, "a_la_date_du": as_of.isoformat(), "cree_le": created.isoformat()}
        for kind, as_of, created in Document.objects.filter(owner=user).order_by("created_at", "id").values_list("kind", "as_of", "created_at")
    ]


def documents_erase(user) -> None:
    """The account's erasure: every PDF (they print the name, the NIR, the address) goes."""
    for document in Document.objects.filter(owner=user):
        document.file.delete(save=False)
    Document.objects.filter(owner=user).delete()
