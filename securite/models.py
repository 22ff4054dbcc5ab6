"""Strong factors of a titulaire (passkeys; the TOTP app is django-otp's device) and the
strong confirmations a purchase needs."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Passkey(models.Model):
    """A WebAuthn credential (« clé d'accès ») registered by its owner: only its public key
    is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys", verbose_name="titulaire")
    name = models.CharField("nom", max_length=100)
    credential_id = models.CharField("identifiant (base64url)", max_length=1400, unique=True)
    public_key = models.BinaryField("clé publique (COSE)")
    sign_count = models.PositiveBigIntegerField("compteur de signatures", default=0)
    created_at = models.DateTimeField("enregistrée le", default=timezone.now)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    class Meta:
        verbose_name = "clé d'accès"
        verbose_name_plural = "clés d'accès"
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name


class Method(models.TextChoices):
    PASSKEY = "passkey", "Clé d'accès"
    FRANCECONNECT_PLUS = "franceconnect_plus", "Connexion FranceConnect+ récente"
    TOTP = "totp", "Application d'authentification"
    EMAIL = "email", "Code reçu par courriel"


class StrongConfirmation(models.Model):
    """One strong confirmation of one purpose (« dossier:<numero> »): made with a factor,
    valid for a few minutes, used once. An e-mailed code is a pending row (its HMAC only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strong_confirmations", verbose_name="titulaire")
    purpose = models.CharField("objet", max_length=60)
    method = models.CharField("moyen", max_length=20, choices=Method)
    code_hash = models.CharField(max_length=64, blank=True, verbose_name="empreinte du code")
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="essais")
    created_at = models.DateTimeField("demandée le", default=timezone.now)
    confirmed_at = models.DateTimeField("confirmée le", null=True, blank=True)
    used_at = models.DateTimeField("utilisée le", null=True, blank=True)

    class Meta:
        verbose_name = "confirmation forte"
        verbose_name_plural = "confirmations fortes"
        indexes = [models.Index(fields=["user", "purpose", "-created_at"])]

    def __str__(self):
        return f"{self.get_method_display()} — {self.purpose}"


class AccountFreeze(models.Model):
    """« Ce n'est pas moi »: the titulaire said a purchase was not his. No new purchase until
    an operator lifts it (after the assistance case it opened)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="purchase_freeze", verbose_name="titulaire")
    dossier = models.ForeignKey("dossiers.Dossier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="achat contesté")
    case = models.ForeignKey(
        "accounts.ContactRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="demande d'assistance"
    )
    frozen_at = models.DateTimeField("achats bloqués le", default=timezone.now)
    lifted_at = models.DateTimeField("débloqués le", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="débloqués par"
    )

    class Meta:
        verbose_name = "blocage des achats"
        verbose_name_plural = "blocages des achats"

    def __str__(self):
        return f"Achats de {self.user} bloqués le {timezone.localtime(self.frozen_at):%d/%m/%Y}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class EmailChange(models.Model):
    """An account's e-mail address changed (recorded on save): a purchase soon after waits."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes", verbose_name="utilisateur")
    old_email = models.EmailField("ancienne adresse")
    new_email = models.EmailField("nouvelle adresse")
    changed_at = models.DateTimeField("changée le", default=timezone.now)

    class Meta:
        verbose_name = "changement d'adresse électronique"
        verbose_name_plural = "changements d'adresse électronique"
        indexes = [models.Index(fields=["user", "-changed_at"])]

    def __str__(self):
        return f"{self.old_email} → {self.new_email}"


class FraudAlert(models.Model):
    """A purchase held by an anti-fraud rule, for the operators to look at."""

    class Rule(models.TextChoices):
        NEW_ACCOUNT_BURST = "new_account_burst", "Propositions en rafale à des comptes tout juste créés"
        EMAIL_CHANGED = "email_changed", "Achat peu après un changement d'adresse électronique"
        DAILY_PURCHASES = "daily_purchases", "Trop d'achats dans la journée"

    rule = models.CharField("règle", max_length=30, choices=Rule)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fraud_alerts", verbose_name="titulaire")
    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.CASCADE, related_name="+", verbose_name="dossier")
    detail = models.CharField("constat", max_length=300)
    created_at = models.DateTimeField("levée le", default=timezone.now)
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)

    class Meta:
        verbose_name = "alerte de fraude"
        verbose_name_plural = "alertes de fraude"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["rule", "dossier"], name="securite_fraudalert_once")]

    def __str__(self):
        return f"{self.get_rule_display()} — {self.dossier}"
