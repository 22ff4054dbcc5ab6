import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cpf_portal.forms import CpfForm

from .models import Event, Scope


class ApiKeyForm(CpfForm):
    name = forms.CharField(label="Nom de la clé", help_text="Par exemple le logiciel qui l'utilise : « CRM », « LMS ».", max_length=100)
    scopes = forms.MultipleChoiceField(
        label="Périmètres",
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un périmètre."},
    )
    expires_on = forms.DateField(
        label="Expire le",
        help_text="Facultatif. Sans date, la clé vaut jusqu'à sa révocation.",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day and day <= timezone.localdate():
            raise ValidationError("La date d'expiration doit être dans le futur.", code="past")
        return day

    def expires_at(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("expires_on")
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max)) if day else None


class WebhookForm(CpfForm):
    url = forms.URLField(
        label="Adresse de réception (URL)",
        help_text="https://… ; http:// seulement vers 127.0.0.1 ou localhost, en développement.",
        max_length=500,
        assume_scheme="https",
    )
    events = forms.MultipleChoiceField(
        label="Événements envoyés",
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un événement."},
    )
