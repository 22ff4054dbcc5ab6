import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Structure
from catalogue.search import resolve_place
from cpf_portal.forms import CpfForm


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
