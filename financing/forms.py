import datetime
from decimal import Decimal

import filetype
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cpf_portal.forms import CpfForm

from .models import DIF_MAX_HOURS, DifDeclaration
from .payments import Card, card_problems

MAX_ATTESTATION_BYTES = 5 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_ATTESTATIONS = 3


def sniff_content_type(upload) -> str | None:
    """The file's type from its first bytes, whatever its name says."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind else None


class SniffedFileMixin:
    """A ``file`` field of PDF, JPEG or PNG (the type read from its content, not its name) of
    at most 5 Mo; the form says it in its own words and keeps the type in ``content_type``."""

    too_big_message = "Le fichier dépasse 5 Mo."
    wrong_type_message = "Le fichier doit être un PDF, une image JPEG ou PNG."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_ATTESTATION_BYTES:
            raise ValidationError(self.too_big_message, code="too_big")
        kind = sniff_content_type(upload)
        if kind not in ALLOWED_TYPES:
            raise ValidationError(self.wrong_type_message, code="type")
        self.content_type = kind
        return upload


class DifSituationForm(CpfForm):
    situation = forms.ChoiceField(
        label="Votre situation en 2014",
        choices=DifDeclaration.Situation.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez votre situation."},
    )


class AttestationForm(SniffedFileMixin, CpfForm):
    too_big_message = "Le fichier dépasse 5 Mo : envoyez une version plus légère."
    wrong_type_message = "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, pas son nom)."

    employer = forms.CharField(label="Employeur", max_length=200)
    hours = forms.DecimalField(
        label="Heures DIF indiquées sur l'attestation",
        help_text="De 0 à 120 heures ; une décimale est arrondie à l'heure supérieure.",
        min_value=Decimal("0.01"),
        max_value=Decimal(DIF_MAX_HOURS),
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "data-cpf-dif-hours": ""}),
        error_messages={"min_value": "Le nombre d'heures doit être positif.", "max_value": "Le DIF ne dépasse pas 120 heures."},
    )
    issued_on = forms.DateField(
        label="Date de l'attestation",
        help_text="Format attendu : JJ/MM/AAAA",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "data-cpf-dif-date": ""}, format="%Y-%m-%d"),
    )
    file = forms.FileField(
        label="Attestation (PDF, JPEG ou PNG, 5 Mo maximum)",
        help_text="Bulletin de salaire de décembre 2014 ou janvier 2015, attestation DIF de l'employeur, ou dernier certificat de travail.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise ValidationError("La date de l'attestation ne peut pas être dans le futur.", code="future")
        if issued_on < datetime.date(2004, 1, 1):
            raise ValidationError("Le DIF a existé de 2004 à 2014 : vérifiez la date.", code="too_old")
        return issued_on


class BaseAttestationFormSet(forms.BaseFormSet):
    def __init__(self, *args, situation: str | None = None, **kwargs):
        self.situation = situation
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(form.errors for form in self.forms):
            return
        filled = [form for form in self.forms if form.has_changed()]
        if not filled:
            raise ValidationError("Joignez au moins une attestation.", code="required")
        if self.situation == DifDeclaration.Situation.UN_EMPLOYEUR and len(filled) > 1:
            raise ValidationError("Avec un seul employeur, joignez une seule attestation.", code="one")
        if self.situation in (DifDeclaration.Situation.SUCCESSIFS, DifDeclaration.Situation.SIMULTANES) and len(filled) < 2:
            raise ValidationError("Avec plusieurs employeurs, joignez l'attestation de chacun.", code="several")


AttestationFormSet = forms.formset_factory(
    AttestationForm, formset=BaseAttestationFormSet, extra=MAX_ATTESTATIONS, max_num=MAX_ATTESTATIONS, validate_max=True
)


class CardForm(CpfForm):
    """Card payment of the reste à payer (the number never reaches the database). Each field
    is as wide as what it holds (cpf.css), with the browser's card autofill names."""

    number = forms.CharField(
        label="Numéro de carte",
        help_text="16 chiffres, sans espace ou avec. Test : 4242 4242 4242 4242",
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number", "class": "fr-input cpf-input--card-number"}),
    )
    holder = forms.CharField(
        label="Nom du titulaire de la carte",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name", "class": "fr-input cpf-input--name"}),
    )
    expiry = forms.CharField(
        label="Date d'expiration",
        help_text="Format attendu : MM/AA",
        max_length=7,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-exp", "class": "fr-input cpf-input--expiry"}),
    )
    cvc = forms.CharField(
        label="Cryptogramme visuel",
        help_text="3 chiffres au dos de la carte",
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc", "class": "fr-input cpf-input--cvc"}),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def clean_number(self):
        return "".join(self.cleaned_data["number"].split())

    def clean_expiry(self):
        value = self.cleaned_data["expiry"].replace(" ", "")
        parts = value.split("/")
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise ValidationError("Saisissez la date d'expiration au format MM/AA.", code="format")
        month, year = int(parts[0]), int(parts[1])
        return month, (2000 + year if year < 100 else year)

    def clean(self):
        data = super().clean()
        if {"number", "expiry", "cvc"} <= set(data):
            month, year = data["expiry"]
            card = Card(number=data["number"], expiry_month=month, expiry_year=year, cvc=data["cvc"].strip(), holder=data.get("holder", ""))
            for field, message in card_problems(card, timezone.localdate()).items():
                self.add_error(field, ValidationError(message, code=field))
            self.card = card
        return data
