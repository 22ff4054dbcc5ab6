from django.conf import settings
from django.db import models
from django.utils import timezone


class AcrLevel(models.TextChoices):
    """The eIDAS level of the identity FranceConnect vouched for (claim « acr »)."""

    EIDAS1 = "eidas1", "eIDAS faible (FranceConnect)"
    EIDAS2 = "eidas2", "eIDAS substantiel (FranceConnect+)"
    EIDAS3 = "eidas3", "eIDAS élevé (FranceConnect+)"

    @classmethod
    def rank(cls, value: str) -> int:
        """1, 2 or 3; 0 for a value FranceConnect never sends."""
        return {cls.EIDAS1: 1, cls.EIDAS2: 2, cls.EIDAS3: 3}.get(value, 0)


class FranceConnectIdentity(models.Model):
    """A titulaire's account linked to a FranceConnect identity: the account is
    FranceConnect-verified, at the eIDAS level of its last login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="compte", on_delete=models.CASCADE, related_name="franceconnect_identity")
    # FranceConnect's pseudonymous identifier of the person for this site (« sub »).
    sub = models.CharField("identifiant FranceConnect (sub)", max_length=255, unique=True)
    acr = models.CharField("niveau eIDAS", max_length=10, choices=AcrLevel)
    verified_at = models.DateTimeField("identité vérifiée le", default=timezone.now)
    last_login_at = models.DateTimeField("dernière connexion FranceConnect le", default=timezone.now)

    class Meta:
        verbose_name = "identité FranceConnect"
        verbose_name_plural = "identités FranceConnect"
        ordering = ["-last_login_at"]
        constraints = [models.CheckConstraint(condition=models.Q(acr__in=AcrLevel.values), name="franceconnect_identity_acr_valid")]

    def __str__(self):
        return f"{self.user} ({self.get_acr_display()})"
