import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Structure
from catalogue.search import resolve_place
from cpf_portal.forms import CpfForm
from dossiers.forms import AbondementForm


class InterlocuteurSearchForm(CpfForm):
    commune = forms.CharField(
        label="Commune ou code postal",
        help_text="Les structures à moins de 50 km, les plus proches d'abord. Exemple : Metz",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"list": "communes-suggestions", "autocomplete": "off"}),
    )
    departement = forms.CharField(label="Ou un département", help_text="Son numéro. Exemple : 57, 2A, 974", required=False, max_length=3)
    type = forms.ChoiceField(label="Type de structure", required=False, choices=[("", "Toutes les structures"), *Structure.Type.choices])

    place = None

    def clean_commune(self):
        value = self.cleaned_data["commune"].strip()
        if value:
            self.place = resolve_place(value)
            if self.place is None:
                raise ValidationError("Nous ne trouvons pas cette commune : saisissez un nom de commune ou un code postal.", code="unknown")
        return value

    def clean_departement(self):
        value = self.cleaned_data["departement"].strip().upper()
        if value and not re.fullmatch(r"(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])", value):
            raise ValidationError("Saisissez un numéro de département : de 01 à 95, 2A, 2B ou 971 à 976.", code="departement")
        return value


class CofinancingRequestForm(CpfForm):
    """« Demander un financement complémentaire » (the titulaire, on his dossier)."""

    amount = forms.DecimalField(
        label="Montant demandé (€)",
        help_text="Laissez vide pour demander le reste à payer. Exemple : 120,00",
        required=False,
        min_value=Decimal("1"),
        max_value=Decimal("50000"),
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "min_value": "Le montant doit être d'au moins 1 €.",
            "max_decimal_places": "Saisissez un montant avec au plus 2 chiffres après la virgule.",
        },
    )
    message = forms.CharField(
        label="Votre message au conseiller",
        help_text="Votre projet, votre situation : ce qui l'aidera à décider. 1 000 caractères au plus.",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CofinancingGrantForm(AbondementForm):
    """The conseiller grants: the abondement's amount (the dossier's version it was shown at)."""

    def setup_fields(self):
        self.fields["amount"].label = "Montant de l'abondement accordé (€)"
        self.fields["amount"].help_text = "Exemple : 120,00"


class CofinancingRefuseForm(CpfForm):
    reason = forms.CharField(
        label="Motif du refus",
        help_text="Le titulaire lit ce motif sur son dossier.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Indiquez le motif du refus : le titulaire le lira."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Indiquez le motif du refus : le titulaire le lira.", code="required")
        return reason
