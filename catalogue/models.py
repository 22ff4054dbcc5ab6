import uuid

from django.db import models

from accounts import phones

from .validators import validate_nda, validate_siret


class Organisme(models.Model):
    """An organisme de formation: publishes formations, answers dossiers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    raison_sociale = models.CharField("raison sociale", max_length=200)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    nda = models.CharField(
        "numéro de déclaration d'activité", max_length=11, blank=True, validators=[validate_nda]
    )
    address = models.CharField("adresse", max_length=200, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=100, blank=True)
    phone = models.CharField("téléphone de contact", max_length=10, blank=True, validators=[phones.validate_any])
    email = models.EmailField("courriel de contact", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "organisme de formation"
        verbose_name_plural = "organismes de formation"
        ordering = ["raison_sociale"]

    def __str__(self):
        return self.raison_sociale

    @property
    def phone_display(self) -> str:
        return phones.display(self.phone)
