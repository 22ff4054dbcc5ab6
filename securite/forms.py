from django import forms

from cpf_portal.forms import CpfForm


class PasskeyNameForm(CpfForm):
    name = forms.CharField(
        label="Nom de la clé d'accès",
        help_text="Pour la reconnaître dans la liste. Exemple : Mon téléphone",
        max_length=100,
        required=False,
    )
