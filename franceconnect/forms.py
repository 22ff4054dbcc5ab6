import datetime

from django import forms

from accounts import nir as nir_lib
from cpf_portal.forms import CpfForm


class LinkForm(CpfForm):
    """« Associer mon compte »: the NIR that joins a FranceConnect identity to an account."""

    nir = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="13 caractères + la clé à 2 chiffres. Exemple : 2 95 10 99 126 111 93",
        max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    cgu = forms.BooleanField(
        label="J'ai lu et j'accepte les conditions générales d'utilisation",
        error_messages={"required": "Vous devez accepter les conditions générales d'utilisation pour continuer."},
    )

    def __init__(self, *args, birthdate: datetime.date, **kwargs):
        self.birthdate = birthdate
        super().__init__(*args, **kwargs)

    def clean_nir(self):
        info = nir_lib.validate(self.cleaned_data["nir"])
        nir_lib.check_birth_date(info, self.birthdate)
        return info.nir
