from django.conf import settings
from django.db import models
from django.utils import timezone


class Email(models.Model):
    """Outbox: every e-mail is a row written in the caller's transaction, sent by a Celery task
    once that transaction has committed (so a rolled-back action never sends anything).
    queued → sending (claimed by one worker) → sent, or back to queued with the error, or
    failed after the last attempt."""

    class Status(models.TextChoices):
        QUEUED = "queued", "En attente d'envoi"
        SENDING = "sending", "En cours d'envoi"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    to = models.EmailField("destinataire")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails", verbose_name="destinataire"
    )
    template = models.CharField("gabarit", max_length=100)
    subject = models.CharField("objet", max_length=255)
    body_text = models.TextField("texte")
    # The real message when it carries a secret (a code, a personal link): subject and body
    # above show it masked, this holds it encrypted until it is sent, then it is emptied.
    sealed = models.TextField(blank=True, default="", db_default="", editable=False, verbose_name="message scellé")
    status = models.CharField("état", max_length=10, choices=Status, default=Status.QUEUED)
    claimed_at = models.DateTimeField("pris en charge le", null=True, blank=True, help_text="Par le processus qui l'envoie.")
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    dedup_key = models.CharField(
        "clé d'unicité",
        max_length=200,
        null=True,
        blank=True,
        help_text="Un même courriel (rappel, notification) n'est envoyé qu'une fois pour une clé donnée.",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now, db_index=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "courriel"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(status="queued"), name="notif_email_queued_idx")]
        # A constraint rather than ``unique=True``: the key is only ever compared whole, so no
        # second (pattern) index to write with each of the deadline jobs' thousands of rows.
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="notif_email_dedup_key")]

    def __str__(self):
        return f"{self.subject} → {self.to}"


class Notification(models.Model):
    """An in-app notification (« Mes notifications »), with its unread state."""

    # No index of its own: (user, -created_at) below serves every lookup by user (and the
    # cascade), and one index fewer is one write fewer per notice the deadline jobs write.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False, verbose_name="destinataire"
    )
    title = models.CharField("titre", max_length=200)
    body = models.TextField("message", blank=True)
    url = models.CharField("lien", max_length=300, blank=True)
    dedup_key = models.CharField("clé d'unicité", max_length=200, null=True, blank=True)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    read_at = models.DateTimeField("lue le", null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notif_unread_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="notif_notification_dedup_key")]  # as Email's

    def __str__(self):
        return self.title
