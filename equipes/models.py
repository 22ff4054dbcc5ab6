"""An organisme's team: who belongs to it with which roles (EDOF's roles since May 2025),
the invitations sent by its Responsable des accès and the log of every change."""

import datetime
import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TeamRole(models.TextChoices):
    RESPONSABLE = "responsable", "Responsable des accès"
    GESTIONNAIRE = "gestionnaire", "Gestionnaire"
    CATALOGUE = "catalogue", "Gestionnaire catalogue"
    ADMINISTRATIF = "administratif", "Gestionnaire administratif"
    FINANCIER = "financier", "Gestionnaire financier"
    LECTEUR = "lecteur", "Lecteur"


ROLE_HINTS = {
    TeamRole.RESPONSABLE: "gère l'équipe : invitations, rôles, retraits",
    TeamRole.GESTIONNAIRE: "tout, sauf l'équipe",
    TeamRole.CATALOGUE: "l'offre : formations, sessions, import",
    TeamRole.ADMINISTRATIF: "les dossiers : réponse, entrée, sortie, service fait",
    TeamRole.FINANCIER: "la facturation, les coordonnées bancaires, les règlements",
    TeamRole.LECTEUR: "consulte tout, ne modifie rien",
}


def roles_label(roles) -> str:
    return ", ".join(TeamRole(role).label for role in TeamRole.values if role in roles) or "aucun rôle"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Membership(models.Model):
    """A person in an organisme's team, with one or more roles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name="personne")
    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.CASCADE, related_name="memberships", verbose_name="organisme")
    roles = ArrayField(models.CharField(max_length=20, choices=TeamRole), verbose_name="rôles")
    created_at = models.DateTimeField("membre depuis", auto_now_add=True)

    class Meta:
        verbose_name = "membre d'équipe"
        verbose_name_plural = "membres d'équipe"
        ordering = ["user__last_name", "user__first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisme"], name="equipes_membership_unique"),
            models.CheckConstraint(condition=~Q(roles=[]), name="equipes_membership_has_role"),
        ]
        indexes = [models.Index(fields=["organisme", "user"], name="equipes_membership_organisme")]

    def __str__(self):
        return f"{self.user} — {self.organisme} ({self.roles_label})"

    @property
    def roles_label(self) -> str:
        return roles_label(self.roles)


def invitation_expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=settings.CPF_INVITATION_TTL_DAYS)


class Invitation(models.Model):
    """A single-use, expiring link sent by e-mail: whoever holds it joins the organisme with
    the roles chosen, from the account of that e-mail address only. Only the token's digest
    is stored."""

    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.CASCADE, related_name="invitations", verbose_name="organisme")
    email = models.EmailField("adresse électronique")
    roles = ArrayField(models.CharField(max_length=20, choices=TeamRole), verbose_name="rôles")
    token_digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name="empreinte du lien")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="invité par")
    created_at = models.DateTimeField("envoyée le", auto_now_add=True)
    expires_at = models.DateTimeField("valable jusqu'au", default=invitation_expiry)
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="acceptée par"
    )
    revoked_at = models.DateTimeField("annulée le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisme", "-created_at"], name="equipes_invitation_organisme")]

    def __str__(self):
        return f"{self.email} → {self.organisme}"

    @property
    def roles_label(self) -> str:
        return roles_label(self.roles)

    def is_pending(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class TeamEvent(models.Model):
    """The team's log: who changed what, when. Shown to the team, never edited."""

    class Kind(models.TextChoices):
        INVITED = "invited", "Invitation envoyée"
        INVITATION_REVOKED = "invitation_revoked", "Invitation annulée"
        JOINED = "joined", "Arrivée dans l'équipe"
        ROLES_CHANGED = "roles_changed", "Rôles modifiés"
        REMOVED = "removed", "Accès retiré"
        LEFT = "left", "Départ de l'équipe"
        API_KEY_CREATED = "api_key_created", "Clé d'API créée"
        API_KEY_REVOKED = "api_key_revoked", "Clé d'API révoquée"
        WEBHOOK_ADDED = "webhook_added", "Webhook ajouté"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook désactivé"

    organisme = models.ForeignKey("catalogue.Organisme", on_delete=models.CASCADE, related_name="team_events", verbose_name="organisme")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="par")
    kind = models.CharField("changement", max_length=20, choices=Kind)
    subject = models.CharField("personne concernée", max_length=300)
    detail = models.CharField("détail", max_length=500, blank=True)
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "changement d'équipe"
        verbose_name_plural = "journal des équipes"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisme", "-at"], name="equipes_event_organisme")]

    def __str__(self):
        return f"{self.get_kind_display()} : {self.subject}"
