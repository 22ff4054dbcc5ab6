"""A PDF generated for a titulaire, kept privately (``STORAGES["default"]``: the local private
folder or the private bucket) and downloaded through the app by its owner only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def document_path(instance, filename):
    # Never the person's name in the storage: the row's public id under a dated folder.
    return f"documents/{timezone.now():%Y/%m}/{instance.public_id}.pdf"


class DocumentQuerySet(models.QuerySet):
    def for_owner(self, user):
        return self.filter(owner=user)


class Document(models.Model):
    class Kind(models.TextChoices):
        RECEIPT = "recu", "Reçu de paiement"
        RIGHTS = "attestation_droits", "Attestation de droits"
        CERTIFICATE = "certificat", "Certificat de réalisation"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("type", max_length=20, choices=Kind)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents", verbose_name="titulaire")
    file = models.FileField("PDF", upload_to=document_path)
    # The date the document speaks of: the payment's, the attestation's « au … », the validation's.
    as_of = models.DateField("à la date du")
    payment = models.ForeignKey("financing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="paiement")
    dossier = models.ForeignKey("dossiers.Dossier", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="dossier")
    created_at = models.DateTimeField("créé le", default=timezone.now)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "document"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "kind", "-created_at"])]
        constraints = [
            models.CheckConstraint(name="document_kind_known", condition=Q(kind__in=["recu", "attestation_droits", "certificat"])),
            # Each kind points to what it speaks of, and a receipt or certificate exists once.
            models.CheckConstraint(
                name="document_reference",
                condition=Q(kind="recu", payment__isnull=False)
                | Q(kind="certificat", dossier__isnull=False)
                | Q(kind="attestation_droits", payment__isnull=True, dossier__isnull=True),
            ),
            models.UniqueConstraint(fields=["payment"], condition=Q(kind="recu"), name="document_one_receipt_per_payment"),
            models.UniqueConstraint(fields=["dossier"], condition=Q(kind="certificat"), name="document_one_certificate_per_dossier"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.as_of:%d/%m/%Y}"

    @property
    def filename(self) -> str:
        """The French name the browser saves it under."""
        if self.kind == self.Kind.RECEIPT:
            return f"recu-de-paiement-{self.payment.receipt_number}.pdf"
        if self.kind == self.Kind.CERTIFICATE:
            return f"certificat-de-realisation-dossier-{self.dossier.numero}.pdf"
        return f"attestation-de-droits-au-{self.as_of:%d-%m-%Y}.pdf"
