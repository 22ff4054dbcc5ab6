"""« Mes données »: everything the portal holds about a titulaire, and the deletion of the
account (personal data erased, amounts kept). Its own app because it spans every app."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ContactRequest, User
from catalogue.models import Favori
from cpf_portal.audit import erase_personal_values, export_entries
from documents.services import documents_erase, documents_export
from dossiers import services as dossier_services
from dossiers.models import Dossier, DossierEvent
from dossiers.states import Actor, DossierError, Status
from evaluations import services as evaluation_services
from evaluations.models import CRITERIA_FIELDS, Evaluation
from financing.models import CpfAccount, DifAttestation, DifDeclaration, Movement, Payment, YearlyDeclaration
from franceconnect.models import FranceConnectIdentity
from interlocuteurs.models import CofinancingRequest
from notifications.models import Email, Notification
from securite.models import EmailChange, FraudAlert, Passkey, StrongConfirmation

PROFILE_FIELDS = [
    "email",
    "nir",
    "first_name",
    "last_name",
    "usage_name",
    "birth_date",
    "apprenticeship_contract",
    "diploma",
    "diploma_year",
    "socio_professional_category",
    "employment_status",
    "phone_mobile",
    "phone_landline",
    "street_number",
    "street_repetition",
    "street_type",
    "street_name",
    "address_complement",
    "locality",
    "postal_code",
    "city",
    "date_joined",
    "activated_at",
    "cgu_accepted_at",
    "last_login",
]
IN_PROGRESS = [Status.SENT, Status.PROPOSED, Status.ACCEPTED, Status.IN_TRAINING, Status.SERVICE_DONE]


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _rows(queryset, fields):
    return [{field: _plain(value) for field, value in zip(fields, row, strict=False)} for row in queryset.values_list(*fields)]


def export_data(user: User) -> dict:
    """Everything held about ``user``, as JSON-ready data (a fixed number of queries)."""
    account = CpfAccount.objects.filter(user=user).first()
    dossiers = Dossier.objects.filter(titulaire=user).exclude(status=Status.DELETED)
    return {
        "exporte_le": timezone.now().isoformat(),
        "profil": {field: _plain(getattr(user, field)) for field in PROFILE_FIELDS},
        "interlocuteur": str(user.interlocuteur) if user.interlocuteur_id else None,
        "droits": {
            "mouvements": _rows(
                Movement.objects.filter(account=account).order_by("created_at", "id"),
                ["created_at", "kind", "label", "amount_cents", "reference", "reason"],
            )
            if account
            else [],
            "declarations_annuelles": _rows(
                YearlyDeclaration.objects.filter(account=account), ["year", "status", "hours_worked", "computed_cents", "credited_cents"]
            )
            if account
            else [],
            "saisies_dif": _rows(
                DifDeclaration.objects.filter(account=account), ["created_at", "situation", "hours", "amount_cents", "status", "rejection_reason"]
            )
            if account
            else [],
            "attestations_dif": _rows(
                DifAttestation.objects.filter(declaration__account=account), ["employer", "hours", "issued_on", "content_type", "size"]
            )
            if account
            else [],
        },
        "dossiers": _rows(
            dossiers,
            [
                "numero",
                "status",
                "formation__intitule",
                "organisme__raison_sociale",
                "price_cents",
                "proposed_price_cents",
                "droits_cents",
                "reste_a_payer_cents",
                "locked_cents",
                "consumed_cents",
                "created_at",
                "sent_at",
                "accepted_at",
                "closed_at",
            ],
        ),
        "historique_des_dossiers": _rows(
            DossierEvent.objects.filter(dossier__in=dossiers).order_by("created_at", "id"),
            ["dossier__numero", "created_at", "transition", "from_status", "to_status", "actor_role", "comment"],
        ),
        "paiements": _rows(
            Payment.objects.filter(user=user), ["created_at", "purpose", "amount_cents", "status", "card_brand", "card_last4", "receipt_number"]
        ),
        "documents": documents_export(user),
        "favoris": _rows(Favori.objects.filter(user=user), ["created_at", "formation__numero", "formation__intitule"]),
        "evaluations": _rows(
            Evaluation.objects.filter(dossier__titulaire=user).order_by("created_at", "id"),
            [
                "created_at",
                "dossier__numero",
                "formation__intitule",
                *CRITERIA_FIELDS,
                "training_confirmed",
                "comment",
                "moderation",
                "refusal_reason",
            ],
        ),
        "notifications": _rows(Notification.objects.filter(user=user), ["created_at", "title", "body", "read_at"]),
        "securite": {
            "cles_d_acces": _rows(Passkey.objects.filter(user=user), ["name", "created_at", "last_used_at"]),
            "changements_d_adresse": _rows(EmailChange.objects.filter(user=user), ["changed_at", "old_email", "new_email"]),
            "confirmations_d_achat": _rows(StrongConfirmation.objects.filter(user=user), ["purpose", "method", "confirmed_at", "used_at"]),
            "alertes": _rows(FraudAlert.objects.filter(user=user), ["created_at", "rule", "dossier__numero", "handled_at"]),
        },
        "demandes_de_financement_complementaire": _rows(
            CofinancingRequest.objects.filter(dossier__in=dossiers).order_by("created_at", "id"),
            [
                "created_at",
                "dossier__numero",
                "structure__name",
                "amount_cents",
                "message",
                "status",
                "reason",
                "answered_at",
                "abondement__amount_cents",
            ],
        ),
        "demandes_d_assistance": _rows(ContactRequest.objects.filter(user=user), ["created_at", "reference", "subject", "message", "dossier_numero"]),
        # The audit trail of their profile and account (NIR masked, password never recorded).
        "journal_des_modifications": export_entries(user, account),
    }


@transaction.atomic
def delete_account(user: User) -> User:
    """Erase the titulaire's personal data. Refused while a dossier is in progress. The
    ledger, the dossiers and the payments stay (amounts, for the accounts), attached to an
    anonymous user; the DIF attestations, favourites, notifications and drafts go."""

    user = User.objects.select_for_update().get(pk=user.pk)
    if Dossier.objects.filter(titulaire=user, status__in=IN_PROGRESS).exists():
        raise DossierError("Un dossier de formation est en cours : vous pourrez supprimer votre compte quand il sera terminé ou annulé.")
    for dossier_id in Dossier.objects.filter(titulaire=user, status=Status.DRAFT).values_list("id", flat=True):
        dossier_services.dossier_transition(dossier_id=dossier_id, name="delete", actor=Actor.TITULAIRE, by=user)
    # Before the commit on purpose (local folder or object store alike): if the store fails, the
    # whole erasure rolls back and can be retried; deleting after the commit could leave files
    # nobody points to any more.
    for attestation in DifAttestation.objects.filter(declaration__account__user=user):
        attestation.file.delete(save=False)
    DifAttestation.objects.filter(declaration__account__user=user).update(file="", original_name="", employer="(effacé)")
    documents_erase(user)  # the PDFs print the name, the NIR and the address
    Favori.objects.filter(user=user).delete()
    evaluation_services.erase_for(user)  # the comments go, the stars stay in the ratings
    Notification.objects.filter(user=user).delete()
    Email.objects.filter(user=user).update(to="effacé@invalid", body_text="(effacé)", user=None)
    Dossier.objects.filter(titulaire=user).update(titulaire_info={})
    # The requests stay with their dossiers (an abondement was given or not); their words go.
    CofinancingRequest.objects.filter(dossier__titulaire=user).exclude(message="").update(message="(effacé)")
    CofinancingRequest.objects.filter(dossier__titulaire=user).exclude(reason="").update(reason="(effacé)")
    ContactRequest.objects.filter(user=user).update(name="(effacé)", email="effacé@invalid", message="(effacé)", user=None)
    anonymous = f"supprime-{uuid.uuid4().hex}@invalid"
    for field in ("nir", "birth_date", "diploma_year"):
        setattr(user, field, None)
    for field in (
        "first_name",
        "last_name",
        "usage_name",
        "diploma",
        "socio_professional_category",
        "employment_status",
        "phone_mobile",
        "phone_landline",
        "street_number",
        "street_repetition",
        "street_type",
        "street_name",
        "address_complement",
        "locality",
        "postal_code",
        "city",
    ):
        setattr(user, field, "")
    user.first_name = "Compte"
    user.last_name = "supprimé"
    user.email = anonymous
    user.interlocuteur = None
    user.is_active = False
    user.anonymized_at = timezone.now()
    user.set_unusable_password()
    user.save()
    # Strong factors, identities and the addresses it had go too (the save above recorded the
    # address change: erased with the others).
    for model in (Passkey, StrongConfirmation, EmailChange, FranceConnectIdentity, TOTPDevice, StaticDevice):
        model.objects.filter(user=user).delete()
    # The audit trail keeps that the profile changed and when, not the erased values.
    erase_personal_values(user, personal_fields=PROFILE_FIELDS)
    return user
