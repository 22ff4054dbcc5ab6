"""A titulaire's request for complementary financing (« Demander un financement
complémentaire ») sent to his interlocuteur, and the conseiller's answer."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Structure
from dossiers.models import Dossier, DossierAbondement
from dossiers.states import Status as DossierStatus

# A request can be made and granted while the dossier waits for its financing: from its sending
# until the titulaire accepts the proposal (an abondement is added then, dossiers.services).
OPEN_DOSSIER_STATES = (DossierStatus.SENT, DossierStatus.PROPOSED)
# The structures that finance trainings (a CEP advises, it does not finance).
FUNDING_STRUCTURES = (Structure.Type.FRANCE_TRAVAIL, Structure.Type.MISSION_LOCALE, Structure.Type.CAP_EMPLOI, Structure.Type.APEC)


class CofinancingRequestQuerySet(models.QuerySet):
    def for_titulaire(self, user):
        return self.filter(dossier__titulaire=user)

    def for_structure(self, structure):
        return self.filter(structure=structure)

    def waiting(self):
        """Pending, on a dossier that may still receive an abondement."""
        return self.filter(status=CofinancingRequest.Status.PENDING, dossier__status__in=OPEN_DOSSIER_STATES)


class CofinancingRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "En attente de réponse"
        GRANTED = "granted", "Accordée"
        REFUSED = "refused", "Refusée"
        CANCELLED = "cancelled", "Annulée"

    public_id = models.UUIDField("identifiant public", default=uuid.uuid4, unique=True, editable=False)
    dossier = models.ForeignKey(Dossier, verbose_name="dossier", on_delete=models.CASCADE, related_name="cofinancing_requests")
    structure = models.ForeignKey(Structure, verbose_name="structure sollicitée", on_delete=models.PROTECT, related_name="cofinancing_requests")
    amount_cents = models.PositiveIntegerField("montant demandé (centimes)", null=True, blank=True)
    message = models.TextField("message du titulaire", blank=True)
    reste_a_payer_cents = models.BigIntegerField("reste à payer à la demande (centimes)")
    status = models.CharField("état", max_length=20, choices=Status, default=Status.PENDING)
    reason = models.TextField("motif du refus", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="répondue par", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)
    abondement = models.OneToOneField(
        DossierAbondement, verbose_name="abondement accordé", null=True, blank=True, on_delete=models.SET_NULL, related_name="cofinancing_request"
    )
    created_at = models.DateTimeField("demandée le", default=timezone.now)

    objects = CofinancingRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande de financement complémentaire"
        verbose_name_plural = "demandes de financement complémentaire"
        constraints = [
            models.UniqueConstraint(fields=["dossier"], condition=Q(status="pending"), name="cofinancing_one_pending_per_dossier"),
            models.CheckConstraint(name="cofinancing_status_valid", condition=Q(status__in=["pending", "granted", "refused", "cancelled"])),
            models.CheckConstraint(name="cofinancing_amount_positive", condition=Q(amount_cents__isnull=True) | Q(amount_cents__gt=0)),
            models.CheckConstraint(name="cofinancing_refusal_has_reason", condition=~Q(status="refused") | ~Q(reason="")),
        ]
        indexes = [models.Index(fields=["structure", "status"], name="cofinancing_structure_status")]

    def __str__(self):
        return f"Demande de financement complémentaire, dossier n° {self.dossier.numero}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def badge(self) -> str:
        return {"pending": "new", "granted": "success", "refused": "error", "cancelled": "info"}[self.status]
