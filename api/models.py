"""The organismes' open interface: API keys (scoped like the team roles), the record of the
API's writes (with their idempotency keys), webhook endpoints and their deliveries (an outbox
written in the transaction that caused the event)."""

import hashlib
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from equipes.permissions import Right


class Scope(models.TextChoices):
    CATALOGUE = "catalogue", "Catalogue (lire et modifier l'offre)"
    DOSSIERS = "dossiers", "Dossiers (lire et traiter)"
    FACTURATION = "facturation", "Facturation (lire et facturer)"
    LECTURE = "lecture", "Lecture seule (offre, dossiers, facturation)"


# What each scope lets a key do: the same rights as the team roles.
SCOPE_RIGHTS: dict[str, frozenset[Right]] = {
    Scope.CATALOGUE: frozenset({Right.CATALOGUE_VOIR, Right.CATALOGUE_GERER}),
    Scope.DOSSIERS: frozenset({Right.DOSSIERS_VOIR, Right.DOSSIERS_TRAITER}),
    Scope.FACTURATION: frozenset({Right.FACTURATION_VOIR, Right.FACTURATION_GERER}),
    Scope.LECTURE: frozenset({Right.CATALOGUE_VOIR, Right.DOSSIERS_VOIR, Right.FACTURATION_VOIR}),
}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A key of one organisme: ``cpf_<prefix>_<secret>``, shown once; only the prefix (to find
    it) and the SHA-256 of the whole key are stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.CASCADE, related_name="api_keys", verbose_name="organisme")
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("préfixe", max_length=12, unique=True)
    key_digest = models.CharField(max_length=64, editable=False, verbose_name="empreinte de la clé")
    scopes = ArrayField(models.CharField(max_length=15, choices=Scope), verbose_name="périmètres")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="créée par")
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    expires_at = models.DateTimeField("expire le", null=True, blank=True)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    class Meta:
        verbose_name = "clé d'API"
        verbose_name_plural = "clés d'API"
        ordering = ["-created_at"]

    def __str__(self):
        # Also the rate limiter's identity of the key (ninja's AuthRateThrottle).
        return f"apikey:{self.pk}"

    @property
    def rights(self) -> frozenset[Right]:
        return frozenset().union(*(SCOPE_RIGHTS[scope] for scope in self.scopes))

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "révoquée"
        if self.expires_at and self.expires_at <= now:
            return "expirée"
        return "active"

    @property
    def scopes_label(self) -> str:
        return ", ".join(Scope(scope).label.split(" (")[0] for scope in Scope.values if scope in self.scopes)


class ApiWrite(models.Model):
    """Every write made through the API (which key, what, when, the answer), and the answer
    kept for its ``Idempotency-Key``: a retried request gets the same answer, fired once."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="writes", verbose_name="clé d'API")
    idempotency_key = models.CharField(max_length=200, blank=True, verbose_name="clé d'idempotence")
    method = models.CharField(max_length=10, verbose_name="méthode")
    path = models.CharField(max_length=500, verbose_name="chemin")
    request_digest = models.CharField(max_length=64, verbose_name="empreinte de la requête")
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name="code de réponse")
    response_body = models.BinaryField(null=True, verbose_name="corps de la réponse")
    content_type = models.CharField(max_length=100, blank=True, verbose_name="type de contenu")
    created_at = models.DateTimeField(default=timezone.now, verbose_name="reçue le")

    class Meta:
        verbose_name = "écriture par l'API"
        verbose_name_plural = "écritures par l'API"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "idempotency_key"], condition=~Q(idempotency_key=""), name="api_write_idempotency_unique")
        ]

    def __str__(self):
        return f"{self.method} {self.path} → {self.status_code}"


class Event(models.TextChoices):
    DOSSIER_CREATED = "dossier.created", "Dossier créé (demande envoyée)"
    DOSSIER_STATUS = "dossier.status_changed", "Changement d'état d'un dossier"
    DOSSIER_BILLING = "dossier.billing_changed", "Changement d'état de facturation d'un dossier"
    DOSSIER_DOCUMENT = "dossier.document_added", "Document ajouté à un dossier"
    INVOICE_PAID = "invoice.paid", "Facture payée"
    CATALOGUE_CHANGED = "catalogue.changed", "Formation, action ou session modifiée"


class WebhookEndpoint(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="identifiant public")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name="organisme")
    url = models.URLField("adresse (URL)", max_length=500)
    events = ArrayField(models.CharField(max_length=40, choices=Event), verbose_name="événements")
    secret = models.CharField("secret de signature", max_length=64, editable=False)
    active = models.BooleanField("actif", default=True)
    disabled_reason = models.CharField("motif de la désactivation", max_length=300, blank=True)
    # Since when every delivery fails (cleared by a success): a day of it disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name="en échec depuis")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="créé par")
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "point de réception de webhooks"
        verbose_name_plural = "points de réception de webhooks"
        ordering = ["-created_at"]

    def __str__(self):
        return self.url

    @property
    def event_labels(self) -> list[str]:
        return [Event(event).label for event in self.events if event in Event.values]


class Delivery(models.Model):
    """One event for one endpoint (outbox row). Sent by Celery, in order per dossier, with
    exponential backoff for 24 hours, then failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Reçue"
        FAILED = "failed", "Échec"

    event_id = models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="identifiant de l'évènement")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name="point de réception")
    event = models.CharField("événement", max_length=40, choices=Event)
    # Deliveries of one subject (a dossier's numero, an invoice's number…) go in order.
    subject = models.CharField(max_length=100, verbose_name="objet")
    payload = models.JSONField(verbose_name="contenu")
    status = models.CharField("état", max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name="prochain essai le")
    last_status_code = models.PositiveSmallIntegerField("dernier code HTTP", null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField("durée (ms)", null=True, blank=True)
    last_error = models.CharField("dernière erreur", max_length=300, blank=True)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    delivered_at = models.DateTimeField("reçue le", null=True, blank=True)

    class Meta:
        verbose_name = "envoi de webhook"
        verbose_name_plural = "envois de webhooks"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="api_delivery_due"),
            models.Index(fields=["endpoint", "subject", "id"], name="api_delivery_subject"),
        ]

    def __str__(self):
        return f"{self.event} {self.subject} ({self.get_status_display()})"
